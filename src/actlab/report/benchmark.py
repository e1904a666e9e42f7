"""The report's real-data section: accuracy distributions, paired tests against the baseline, ranks with a
critical-difference diagram, best vs average over learning rates, depth, the monitor, the variance split,
and which activations are distinguishable from the baseline — every sentence computed from the store.

The statistics' arrangement of the trials (the learning rate chosen on validation, paired comparisons,
rank blocks) is `actlab.studies.benchmark_results`, shared with the claims ledger.
"""

from __future__ import annotations

import html
from collections import defaultdict
from pathlib import Path

import numpy as np
from rich.table import Table

from actlab.analysis import stats
from actlab.report.aggregate import load
from actlab.report.cd_diagram import cd_diagram
from actlab.report.figures import colours, plt, png
from actlab.report.single_sample import Section, _img
from actlab.studies.benchmark_results import (
    ALPHA,
    STUDY,
    Comparison,
    Frame,
    Setting,
    blocks,
    comparisons,
    frame,
    test_acc,
)


def section(store: str | Path) -> Section | None:
    trials = load(store, STUDY)
    if not trials:
        return None
    f = frame(trials)
    comps = comparisons(f)
    names, scores, _ = blocks(f)
    parts = [intro(f), _img(distributions(f), "Test accuracy per seed at each cell's chosen learning rate "
                                              "(dots: seeds; bar: median)"),
             comparison_table(f, comps)]
    findings = verdict_words(f, comps)
    if len(names) >= 2 and len(scores) >= 2:
        rank_html, rank_words = ranks(names, scores)
        parts.append(rank_html)
        findings += rank_words
    parts.append(lr_table(f))
    parts.append(depth_table(f))
    parts.append(monitor_table(f))
    split_html, split_words = variance(f)
    parts.append(split_html)
    findings += split_words
    return Section("Real data: which activation, and how sure?", findings, "\n".join(parts))


def intro(f: Frame) -> str:
    seeds = len({t["seed"] for t in f.trials})
    lrs = sorted({t["config"]["lr"] for t in f.trials})
    settings = "; ".join(_setting(s) for s in f.settings)
    return (f"<p>{len(f.trials):,} trials: datasets {', '.join(f.datasets)}; {len(f.activations)} activations; "
            f"settings {html.escape(settings)}; learning rates {', '.join(f'{v:g}' for v in lrs)}; {seeds} seeds. "
            "A seed fixes the data split, the standardisation, the initial weights' random draws and the "
            "minibatch order for every activation (paired). Each trial keeps the epoch of its best validation "
            "accuracy; each cell keeps the learning rate of its best mean validation accuracy; the test split is "
            f"read once per trial. Baseline: {html.escape(f.baseline)}. Paired tests: Wilcoxon signed-rank over "
            f"seeds, Holm-adjusted over the activations of a dataset and setting, α = {ALPHA:g}; effect size: "
            "matched-pairs rank-biserial r (+1: better than the baseline on every seed).</p>")


def _setting(s: Setting) -> str:
    return f"depth {s[0]}, width {s[1]}, init {s[2]}, {s[3]}"


def distributions(f: Frame) -> str:
    col = colours(f.activations)
    rows, cols = len(f.datasets), len(f.settings)
    fig, axes = plt.subplots(rows, cols, figsize=(max(6.0, 0.45 * len(f.activations) * cols), 2.6 * rows),
                             squeeze=False)
    rng = np.random.default_rng(0)
    for i, d in enumerate(f.datasets):
        for j, s in enumerate(f.settings):
            ax = axes[i][j]
            for k, a in enumerate(f.activations):
                v = np.array(list(test_acc(f, d, a, s).values()))
                if len(v):
                    ax.scatter(k + rng.uniform(-0.15, 0.15, len(v)), v, s=9, color=col[a], alpha=0.8)
                    ax.hlines(np.median(v), k - 0.3, k + 0.3, color="black", lw=1.5)
            ax.set_xticks(range(len(f.activations)), f.activations, rotation=60, ha="right", fontsize=7)
            ax.set_title(f"{d} — {_setting(s)}", fontsize=8)
            ax.set_ylabel("test accuracy")
    fig.tight_layout()
    return png(fig)


def comparison_table(f: Frame, comps: list[Comparison]) -> str:
    head = ("<table><tr><th>dataset</th><th>setting</th><th>activation</th><th>mean</th><th>median</th>"
            "<th>95 % CI (bootstrap)</th><th>Δ vs baseline</th><th>p (Holm)</th><th>r</th></tr>")
    rows = []
    for c in comps:
        p = "" if np.isnan(c.p_holm) else f"{c.p_holm:.3g}"
        mark = " ✱" if not np.isnan(c.p_holm) and c.p_holm < ALPHA else ""
        rows.append(f"<tr><td>{c.dataset}</td><td>{html.escape(_setting(c.setting))}</td>"
                    f"<td>{html.escape(c.activation)}</td><td>{c.mean:.4f}</td><td>{c.median:.4f}</td>"
                    f"<td>[{c.ci[0]:.4f}, {c.ci[1]:.4f}]</td><td>{c.diff:+.4f}</td><td>{p}{mark}</td>"
                    f"<td>{'' if c.activation == f.baseline else f'{c.effect:+.2f}'}</td></tr>")
    return ("<h3>Against the baseline, per dataset</h3><p>✱: different from the baseline after Holm's correction.</p>"
            + head + "".join(rows) + "</table>")


def verdict_words(f: Frame, comps: list[Comparison]) -> list[str]:
    """Which activations are distinguishable from the baseline, and in which direction, on how many of the
    dataset × setting cells they were tested in."""
    by_act: dict[str, list[Comparison]] = defaultdict(list)
    for c in comps:
        if c.activation != f.baseline and not np.isnan(c.p_holm):
            by_act[c.activation].append(c)
    better: list[str] = []
    worse: list[str] = []
    mixed: list[str] = []
    same: list[str] = []
    for a, cs in by_act.items():
        up = [c for c in cs if c.p_holm < ALPHA and c.diff > 0]
        down = [c for c in cs if c.p_holm < ALPHA and c.diff < 0]
        label = f"{a} ({len(up) + len(down)} of {len(cs)})"
        (mixed if up and down else better if up else worse if down else same).append(label)
    n_cells = len(f.datasets) * len(f.settings)
    words = []
    if better:
        words.append(f"Real data: better than {f.baseline} (Holm-adjusted p < {ALPHA:g}; in how many of the "
                     f"{n_cells} dataset × setting cells): {', '.join(better)}.")
    if worse:
        words.append(f"Real data: worse than {f.baseline} (Holm-adjusted p < {ALPHA:g}; in how many of the "
                     f"{n_cells} cells): {', '.join(worse)}.")
    if mixed:
        words.append(f"Real data: better than {f.baseline} in some cells and worse in others: {', '.join(mixed)}.")
    if same:
        words.append(f"Real data: not distinguishable from {f.baseline} in any cell at these seeds: "
                     f"{', '.join(a.split(' (')[0] for a in same)}.")
    return words


def ranks(names: list[str], scores: np.ndarray) -> tuple[str, list[str]]:
    """Friedman over all complete blocks, average ranks with bootstrap CIs, Nemenyi's CD and its diagram."""
    fr = stats.friedman(scores)
    lo, hi = stats.rank_ci(scores)
    cd = stats.nemenyi_cd(len(names), len(scores), ALPHA)
    order = np.argsort(fr.average_ranks)
    rows = "".join(f"<tr><td>{html.escape(names[i])}</td><td>{fr.average_ranks[i]:.2f}</td>"
                   f"<td>[{lo[i]:.2f}, {hi[i]:.2f}]</td></tr>" for i in order)
    fig = cd_diagram(names, fr.average_ranks, cd, title=f"Average rank over {len(scores)} blocks (1 = best)")
    groups = [g for g in stats.cliques(names, fr.average_ranks, cd) if len(g) > 1]
    top = names[order[0]]
    differ = "the activations differ" if fr.p_value < ALPHA else "no difference detected"
    words = [f"Real data: over {len(scores)} blocks (dataset × setting × seed) the Friedman test gives "
             f"χ² = {fr.statistic:.1f}, p = {fr.p_value:.2g} ({differ}); "
             f"best average rank: {top} ({fr.average_ranks[order[0]]:.2f}); Nemenyi CD = {cd:.2f}."]
    if groups:
        words.append("Real data: groups not distinguishable by Nemenyi's test: "
                     + "; ".join("{" + ", ".join(g) + "}" for g in groups) + ".")
    body = (f"<h3>Ranks over all datasets</h3><p>Blocks: every dataset × setting × seed that every activation "
            f"completed ({len(scores)}). Friedman χ² = {fr.statistic:.2f}, p = {fr.p_value:.3g}; Iman–Davenport "
            f"F = {fr.iman_davenport_f:.2f}, p = {fr.iman_davenport_p:.3g}. Nemenyi critical difference at "
            f"α = {ALPHA:g}: {cd:.2f} ranks (bars join activations closer than that). Seeds of one dataset are "
            "not independent data sets, so the CD reads as 'over these seeds and datasets', not as Demšar's "
            "'over data sets'.</p>" + _img(png(fig), "Critical-difference diagram")
            + "<table><tr><th>activation</th><th>average rank</th><th>95 % CI (bootstrap over blocks)</th></tr>"
            + rows + "</table>")
    return body, words


def lr_table(f: Frame) -> str:
    """Best (chosen on validation) vs the average over the learning-rate grid, after Eger et al. 2018."""
    grid: dict[tuple[str, str], list[float]] = defaultdict(list)
    for t in f.trials:
        grid[(t["config"]["dataset"], t["activation"])].append(t["metrics"]["test_accuracy"])
    rows = []
    for d in f.datasets:
        for a in f.activations:
            best = [v for s in f.settings for v in test_acc(f, d, a, s).values()]
            if best:
                rows.append(f"<tr><td>{d}</td><td>{html.escape(a)}</td><td>{np.mean(best):.4f}</td>"
                            f"<td>{np.mean(grid[(d, a)]):.4f}</td><td>{np.mean(best) - np.mean(grid[(d, a)]):+.4f}"
                            "</td></tr>")
    return ("<h3>Best learning rate vs the average over the grid</h3><p>Best: the learning rate chosen on "
            "validation; average: every learning rate of the grid (how much an activation depends on tuning).</p>"
            "<table><tr><th>dataset</th><th>activation</th><th>best</th><th>grid average</th><th>gap</th></tr>"
            + "".join(rows) + "</table>")


def depth_table(f: Frame) -> str:
    depths = sorted({s[0] for s in f.settings})
    head = "".join(f"<th>depth {d}</th>" for d in depths)
    rows = []
    for d in f.datasets:
        for a in f.activations:
            cells = []
            for depth in depths:
                v = [x for s in f.settings if s[0] == depth for x in test_acc(f, d, a, s).values()]
                cells.append(f"<td>{np.mean(v):.4f}</td>" if v else "<td></td>")
            rows.append(f"<tr><td>{d}</td><td>{html.escape(a)}</td>{''.join(cells)}</tr>")
    return ("<h3>Depth</h3><p>Mean test accuracy over seeds (and the other settings) per number of hidden "
            f"layers.</p><table><tr><th>dataset</th><th>activation</th>{head}</tr>" + "".join(rows) + "</table>")


def monitor_table(f: Frame) -> str:
    """Dead and saturated fractions at the end of training (the monitor's, on validation inputs), at the
    deepest setting, mean over layers, seeds and datasets."""
    deepest = max(s[0] for s in f.settings)
    rows = []
    for a in f.activations:
        dead, sat = [], []
        for (_, act, s), by_seed in f.selected.items():
            if act == a and s[0] == deepest:
                for t in by_seed.values():
                    dead += [v for v in t["metrics"].get("dead", []) if v is not None]
                    sat += [v for v in t["metrics"].get("saturated", []) if v is not None]
        fmt = lambda v: f"{np.mean(v):.1%}" if v else "—"  # noqa: E731
        rows.append(f"<tr><td>{html.escape(a)}</td><td>{fmt(dead)}</td><td>{fmt(sat)}</td></tr>")
    return (f"<h3>Dead and saturated units (depth {deepest})</h3><p>Measured by actlab's monitor on the validation "
            "inputs with each trial's selected weights; mean over hidden layers, seeds and datasets. — : the "
            "activation has no flat region the monitor can measure.</p><table><tr><th>activation</th><th>dead"
            "</th><th>saturated</th></tr>" + "".join(rows) + "</table>")


def variance(f: Frame) -> tuple[str, list[str]]:
    """The share of the variance in test accuracy (every trial, every learning rate) that each axis explains,
    per dataset."""
    factors = ["activation", "seed", "lr", "depth", "width", "init", "optimizer"]
    rows, words = [], []
    for d in f.datasets:
        ts = [t for t in f.trials if t["config"]["dataset"] == d]
        table = [{"activation": t["activation"], "seed": t["seed"], **{k: t["config"][k] for k in factors[2:]},
                  "acc": t["metrics"]["test_accuracy"]} for t in ts]
        used = [k for k in factors if len({r[k] for r in table}) > 1]
        if not used or len(table) < 3 or len({r["acc"] for r in table}) < 2:
            if table:
                words.append(f"Real data, {d}: every trial has the same test accuracy "
                             f"({table[0]['acc']:.4f}): there is no variance to split.")
            continue
        share = stats.variance_split(table, used, "acc")
        rows.append(f"<tr><td>{d}</td>" + "".join(f"<td>{share.get(k, 0.0):.0%}</td>" if k in used else "<td></td>"
                                                  for k in factors) + f"<td>{share['residual']:.0%}</td></tr>")
        ranked = sorted(used, key=lambda k: -share[k])
        words.append(f"Real data, {d}: of the variance in test accuracy the {ranked[0]} explains "
                     f"{share[ranked[0]]:.0%}" + "".join(f", the {k} {share[k]:.0%}" for k in ranked[1:])
                     + f"; interactions and the rest {share['residual']:.0%}.")
    head = "".join(f"<th>{k}</th>" for k in factors)
    body = ("<h3>What the variance in test accuracy comes from</h3><p>Main-effect sums of squares over every "
            "trial (all learning rates) of a dataset, as shares of the total; the rest is interactions and noise."
            f"</p><table><tr><th>dataset</th>{head}<th>residual</th></tr>" + "".join(rows) + "</table>")
    return body, words


def tables(store: str | Path) -> list[Table]:
    """The run's summary: per dataset and setting, each activation's mean test accuracy with its bootstrap CI
    and the Holm-adjusted p against the baseline."""
    f = frame(load(store, STUDY))
    out = []
    for (d, s), cs in _grouped(comparisons(f)).items():
        t = Table(title=f"benchmark, {d}, {_setting(s)}: test accuracy at the learning rate chosen on validation")
        for name in ("activation", "mean", "95 % CI", f"Δ vs {f.baseline}", "p (Holm)"):
            t.add_column(name, justify="left" if name == "activation" else "right")
        for c in cs:
            p = "" if np.isnan(c.p_holm) else f"{c.p_holm:.3g}" + (" *" if c.p_holm < ALPHA else "")
            t.add_row(c.activation, f"{c.mean:.4f}", f"[{c.ci[0]:.3f}, {c.ci[1]:.3f}]", f"{c.diff:+.4f}", p)
        out.append(t)
    return out


def _grouped(comps: list[Comparison]) -> dict[tuple[str, Setting], list[Comparison]]:
    out: dict[tuple[str, Setting], list[Comparison]] = defaultdict(list)
    for c in comps:
        out[(c.dataset, c.setting)].append(c)
    return out
