"""The report page: the store is read once, each study's trials grouped once into its results object,
and the page assembled from the sections the studies return as data.

Order: the answers (per section its question, one or two computed sentences and the one figure that
shows it), the claims ledger as a compact table, then the sections: the catalog, depth, and each
registered study in the registry's order. `actlab.report.render` writes the HTML and escapes every
string. `docs/claims.md` comes from the same ledger rows (`claims_markdown`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actlab._version import __version__
from actlab.report.kit import Section
from actlab.results.store import Store
from actlab.studies.claims import Evidence, Row
from actlab.studies.protocol import Stored


@dataclass
class Contents:
    """What one read of a store gives the report: its runs, the activations its trials used, and each
    study's results object (studies without trials are absent)."""

    store: Path
    runs: list[dict[str, Any]]
    activations: list[str]
    results: dict[str, Any] = field(default_factory=dict)

    def evidence(self) -> Evidence:
        return Evidence(self.results)


def read(store: str | Path) -> Contents:
    """Open the store once: runs, activations, and every registered study's `results(stored)`."""
    from actlab.studies.registry import studies

    with Store(store, create=False) as s:
        registered = studies()
        apart = {a for n, st in registered.items() if not st.in_catalog for a in s.distinct("activation", n)}
        apart -= {a for n, st in registered.items() if st.in_catalog for a in s.distinct("activation", n)}
        out = Contents(Path(store), s.runs(), [a for a in s.distinct("activation") if a not in apart])
        for name, study in registered.items():
            trials = list(s.trials(name))
            if trials:
                out.results[name] = study.results(Stored(name, trials, s))
    return out


def sections(contents: Contents) -> tuple[list[Row], list[Section]]:
    """The ledger rows and every section, in page order (ledger, catalog, depth, the studies)."""
    from actlab.report import catalog, depth
    from actlab.studies import ledger
    from actlab.studies.registry import studies

    analysed = [catalog.section(contents.activations), depth.section(contents.activations)]
    found: dict[str, Section] = {k: s for k, s in zip(("catalog", "depth"), analysed) if s is not None}
    for name, study in studies().items():
        if name in contents.results:
            sec = study.section(contents.results[name])
            if sec is not None:
                found[name] = sec
    rows = ledger.ledger(contents.evidence())
    anchors = {k: s.anchor for k, s in found.items()}
    ledger_section = ledger.section(rows, anchors)
    return rows, ([ledger_section] if ledger_section else []) + list(found.values())


def render(store: str | Path, command: str) -> str:
    """The report's HTML. Activations run eager here: the report calls each one a few times on large
    grids, where compiling (automatic fusion) costs seconds per entry and saves milliseconds."""
    from actlab.core.activation import auto_fuse

    with auto_fuse(False):
        return _render(store, command)


def _render(store: str | Path, command: str) -> str:
    from actlab.report import catalog, depth
    from actlab.report import render as html
    from actlab.report.figures import assign
    from actlab.studies import ledger

    contents = read(store)
    assign(contents.activations + [o for r in contents.results.values() for o in getattr(r, "optimizers", [])])
    _, secs = sections(contents)
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    made = f"Made by actlab {__version__} with {command} on {now} from the store {store}."
    runs = [f"{r['command']} — actlab {r['actlab']}, {r['date']}" for r in contents.runs]
    # the answers: each study's first, then the catalog's and depth's; the ledger follows them as its own table
    analysed = [s for s in secs if s.title in (catalog.TITLE, depth.TITLE)]
    opening = [s for s in secs if s.title != ledger.TITLE and s not in analysed] + analysed
    return html.page(html.Page("actlab report", made, runs, opening, secs))


def write_report(store: str | Path, output: str | Path, *, command: str = "") -> Path:
    """Render the report of `store` into `output` (written whole, or not at all)."""
    out = Path(output)
    text = render(store, command or "(library call)")
    tmp = out.with_name(out.name + ".tmp")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return out


def claims_markdown(store: str | Path, command: str = "") -> str:
    """docs/claims.md from the store: the ledger rows of one read, as Markdown."""
    from actlab.studies import ledger

    contents = read(store)
    return ledger.markdown(ledger.ledger(contents.evidence()), contents.runs, store, command)


def write_claims_page(store: str | Path, folder: str | Path, command: str = "") -> Path:
    """Write `claims_markdown(store)` to folder/claims.md (whole, or not at all)."""
    out = Path(folder) / "claims.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(claims_markdown(store, command), encoding="utf-8")
    tmp.replace(out)
    return out


def summary_tables(store: str | Path, study_name: str) -> list[Any]:
    """Rich tables summing up one study's trials in the store (what `actlab run` prints after it), from the
    study's own results."""
    from actlab.studies.registry import study

    st = study(study_name)
    with Store(store, create=False) as s:
        trials = list(s.trials(study_name))
        if not trials:
            return []
        results = st.results(Stored(study_name, trials, s))
    return list(st.summary(results))
