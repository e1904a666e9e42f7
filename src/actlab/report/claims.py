"""The report's claims section and docs/claims.md: one row per checkable claim of the five source
articles, with what actlab measured and the verdict its rule computes (actlab.studies.claims).

The noisy-activation article's training claims come from the noise study's own rows
(`actlab.report.noise.verdicts(store)`) when that module exists and the store holds noise trials.
Rows link to the report section with the figure by the slug of its title (`slug`).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path
from typing import Any

from actlab._version import __version__
from actlab.report.single_sample import Section
from actlab.results.store import Store
from actlab.studies.claims import ARTICLES, NOT_RUN, VERDICTS, Row, ledger

TITLE = "Claims: what the source articles say, and what actlab measures"
SECTIONS = {"catalog": "The activations: what each one is",
            "single-sample": "Single sample: does the activation or the optimizer decide convergence?",
            "planar": "Planar: what can each activation learn?",
            "benchmark": "Real data: which activation, and how sure?",
            "noise": "Noise and saturation",
            "depth": "Depth: signal propagation at initialisation"}
"""Section key → the title of the report section it links to."""
COLOURS = {"reproduced": "#2e7d32", "not reproduced": "#c62828", "inconclusive": "#8d6e00",
           "the article is wrong": "#6a1b9a", NOT_RUN: "#666"}
NOISE_SENTENCE = "The training claims of the noisy-activation article (noisy hard sigmoid / tanh train better)."


def slug(title: str) -> str:
    """The anchor id of a section: lower case, every run of characters other than a–z and 0–9 made one
    '-', no '-' at either end ("Planar: what can each activation learn?" → "planar-what-can-each-activation-learn")."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def noise_rows(store: str | Path) -> list[Row]:
    """The noise study's verdict rows (`actlab.report.noise.verdicts`), or one row saying they are not run
    in this store."""
    try:
        from actlab.report import noise
        found: list[dict[str, Any]] = list(noise.verdicts(store))
    except (ImportError, AttributeError):
        found = []
    rows = [Row(str(d.get("id", f"003-noise-{i}")), ARTICLES["003"], str(d.get("claim") or d.get("sentence", "")),
                f"noise study, experiment {d.get('experiment', '?')}: {d.get('arm', '?')} vs {d.get('reference', '?')} "
                f"on {d.get('metric', '?')}", str(d.get("rule", "")), "noise", _noise_numbers(d),
                d["verdict"] if d.get("verdict") in VERDICTS else "inconclusive")
            for i, d in enumerate(found)]
    return rows or [Row("003-training", ARTICLES["003"], NOISE_SENTENCE, "the noise study (actlab run noise)",
                        "the noise study's own rules (actlab.report.noise_claims)", "noise", "not run in this store",
                        NOT_RUN)]


def _noise_numbers(d: dict[str, Any]) -> str:
    n = d.get("numbers")
    if not isinstance(n, dict):
        return str(n or "")
    if not n.get("n"):
        return "no seed ran both arms"
    try:
        return (f"{d.get('arm')} {n['mean_arm']:.4g} vs {d.get('reference')} {n['mean_reference']:.4g} (mean over "
                f"{n['n']} paired seeds); advantage {n['mean_diff']:+.3g}, 95 % CI [{n['ci_low']:+.3g}, "
                f"{n['ci_high']:+.3g}], Wilcoxon p = {n['p_value']:.3g}")
    except (KeyError, TypeError, ValueError):
        return ", ".join(f"{k} {v}" for k, v in n.items())


def rows(store: str | Path) -> list[Row]:
    """The whole ledger: the studies' claims, then the noise study's, in article order."""
    out = [*ledger(store), *noise_rows(store)]
    return sorted(out, key=lambda r: r.article)


def counts(rs: list[Row]) -> str:
    return ", ".join(f"{sum(r.verdict == v for r in rs)} {v}" for v in VERDICTS if any(r.verdict == v for r in rs))


def section(store: str | Path) -> Section | None:
    rs = rows(store)
    if not rs:
        return None
    body = [f"<div id='claims'><p>{len(rs)} checkable claims of the five source articles ({counts(rs)}). Each "
            "verdict is computed from the numbers by the rule written in its row; the article's own setup is used "
            "where it states it, otherwise the choice made is stated. “not run in this store”: the trials it needs "
            "are not in this store (see the preset named in the setup).</p>",
            "<table><tr><th>claim</th><th>article</th><th>setup</th><th>measured</th><th>verdict</th>"
            "<th>rule</th></tr>"]
    for r in rs:
        where = SECTIONS.get(r.section, "")
        link = f" <a href='#{slug(where)}'>figure</a>" if where else ""
        study = f"<br><em>{html.escape(r.study_setup)}</em>" if r.study_setup else ""
        body.append(f"<tr id='claim-{slug(r.id)}'><td>{html.escape(r.sentence)}{link}</td><td>{html.escape(r.article)}"
                    f"</td><td>{html.escape(r.setup)}</td><td>{html.escape(r.numbers)}{study}</td>"
                    f"<td style='color:{COLOURS.get(r.verdict, '#000')};font-weight:600'>{html.escape(r.verdict)}</td>"
                    f"<td>{html.escape(r.rule)}</td></tr>")
    body.append("</table></div>")
    findings = [f"Claims ledger: {counts(rs)}."] + [f"Claim {r.id} ({r.article}): {r.verdict} — {r.numbers}"
                                                      for r in rs if r.verdict == "the article is wrong"]
    return Section(TITLE, findings, "\n".join(body))


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def markdown(store: str | Path, command: str = "") -> str:
    """docs/claims.md: the ledger as Markdown tables, one per article, stamped with how it was made."""
    rs = rows(store)
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    out = ["# Claims ledger: what the source articles say, and what actlab measures", "",
           f"Generated by actlab {__version__} with `{command or '(library call)'}` on {now} from the store "
           f"`{store}`. Do not edit: every verdict is computed by the rule in its row (src/actlab/studies/claims*.py).",
           "", "The store's runs:", "",
           *[f"- `{r['command']}` (actlab {r['actlab']}, {r['date']})" for r in runs(store)],
           "", f"{len(rs)} claims: {counts(rs)}.", "",
           "Links name the report section with the figure; its anchor is the slug of its title "
           "(lower case, runs of other characters than a–z, 0–9 made one `-`).", ""]
    for art, name in ARTICLES.items():
        mine = [r for r in rs if r.article == name]
        if not mine:
            continue
        out += [f"## {art}: `{name}`", "", "| claim | setup | measured | verdict | rule | report |",
                "|---|---|---|---|---|---|"]
        for r in mine:
            measured = r.numbers + (f" — *{r.study_setup}*" if r.study_setup else "")
            where = SECTIONS.get(r.section, "")
            out.append(f"| **{r.id}** {_cell(r.sentence)} | {_cell(r.setup)} | {_cell(measured)} | **{r.verdict}** | "
                       f"{_cell(r.rule)} | {f'`#{slug(where)}`' if where else ''} |")
        out.append("")
    return "\n".join(out)


def runs(store: str | Path) -> list[dict[str, Any]]:
    """The runs recorded in the store (none if there is no store)."""
    if not Path(store).exists():
        return []
    with Store(store, create=False) as s:
        return s.runs()


def write_claims_page(store: str | Path, output: str | Path, command: str = "") -> Path:
    """Write `markdown(store)` to output/claims.md (whole, or not at all)."""
    out = Path(output) / "claims.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(markdown(store, command), encoding="utf-8")
    tmp.replace(out)
    return out
