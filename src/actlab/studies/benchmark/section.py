"""The report's real-data section, as data, from the study's results (`actlab.studies.benchmark.results`):
the answer (which activation ranks best, which differ from the baseline) over the critical-difference
diagram, then each activation's ranks and verdicts, the accuracy per seed, the learning rate chosen per
cell, and folded: the paired tests per cell, best vs grid average, depth, the monitor, the variance split.
Every sentence is computed from the results; names are display names (full specs on hover and in the legend).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from rich.table import Table as RichTable

from actlab.analysis import stats
from actlab.report import names
from actlab.report.cd_diagram import cd_diagram
from actlab.report.figures import colours, plt, png
from actlab.report.kit import Block, Bullets, Cell, Details, Figure, Paragraph, Section, Table
from actlab.studies.benchmark.results import (
    ALPHA,
    Comparison,
    Frame,
    Results,
    Setting,
    accuracies,
    setting_words,
    verdicts,
)
from actlab.studies.benchmark.study import QUESTION

TITLE = "Real data: which activation, and how sure?"


def section(r: Results | None) -> Section | None:
    if r is None:
        return None
    f = r.frame
    show = names.displays(f.activations)
    fig = cd_figure(r, show)
    spread = Figure(distributions(f, show), "Test accuracy per seed at each cell's chosen learning rate (dots: "
                                            "seeds; bar: median), per dataset and setting")
    blocks: list[Block] = [Paragraph(intro(f)), Paragraph(f"Selection: {r.rule.text()}."), Paragraph(methods(r)),
              activation_table(r, show)]
    if fig is not None:
        blocks.append(fig)
    blocks += [spread, lr_table(f, show)]
    legend = names.legend(f.activations)
    if legend:
        blocks.append(Paragraph(f"Names: {legend}."))
    blocks += [Details(f"Against {show[f.baseline]}, per dataset and setting ({len(r.comparisons)} rows)",
                       [comparison_table(f, r.comparisons, show)]),
               Details("Best learning rate vs the average over the grid", [grid_table(f, show)]),
               depth_table(f, show), monitor_table(f, show), *variance(f)]
    return Section(TITLE, blocks, QUESTION, answer(r, show), fig if fig is not None else spread)


def answer(r: Results, show: dict[str, str]) -> list[str]:
    """One sentence from the ranks, one from the paired tests against the baseline."""
    f, out = r.frame, []
    if r.ranks is not None:
        rk, n = r.ranks, r.ranks.friedman.n_blocks
        avg = rk.friedman.average_ranks
        if rk.friedman.p_value >= ALPHA:
            out.append(f"Over {n} dataset × setting × seed blocks the Friedman test detects no difference between "
                       f"the {len(rk.names)} activations (p = {rk.friedman.p_value:.2g}).")
        else:
            top = rk.order[0]
            near = [show[rk.names[i]] for i in rk.order[1:] if avg[i] - avg[top] < rk.cd]
            out.append(f"{show[rk.names[top]]} has the best average rank ({avg[top]:.1f}) over {n} dataset × "
                       f"setting × seed blocks; not separable from it by Nemenyi's test: "
                       f"{names.counted(near, len(rk.names) - 1, 'others')}.")
    v = verdicts(r)
    if not v:
        out.append(f"Nothing was compared with the baseline {show[f.baseline]} (one activation, or under two "
                   "shared seeds).")
        return out
    better = [show[a] for a, (up, _, _) in v.items() if up]
    worse = [show[a] for a, (_, down, _) in v.items() if down]
    same = [show[a] for a, (up, down, _) in v.items() if not up and not down]
    cells = max(n for _, _, n in v.values())
    what = "activation" if len(v) == 1 else "activations"
    parts = [f"better in some cell: {names.counted(better, len(v), what)}" if better else "",
             f"worse in some cell: {names.counted(worse, len(v), what)}" if worse else "",
             f"never distinguishable: {names.counted(same, len(v), what)}" if same else ""]
    out.append(f"Against {show[f.baseline]} (paired over seeds, Holm-adjusted p < {ALPHA:g}, in {cells} dataset × "
               f"setting cell{'s' if cells != 1 else ''}): " + "; ".join(p for p in parts if p) + ".")
    return out


def intro(f: Frame) -> str:
    seeds = len({t["seed"] for t in f.trials})
    lrs = sorted({t["config"]["lr"] for t in f.trials})
    return (f"{len(f.trials):,} trials: {len(f.datasets)} dataset{'s' if len(f.datasets) != 1 else ''} "
            f"({', '.join(f.datasets)}); {len(f.activations)} activations; "
            f"{len(f.settings)} setting{'s' if len(f.settings) != 1 else ''} "
            f"({'; '.join(setting_words(s) for s in f.settings)}); learning rates {', '.join(f'{v:g}' for v in lrs)}; "
            f"{seeds} seeds. A seed fixes the data split, the standardisation, the initial weights' random draws "
            f"and the minibatch order for every activation (paired). Baseline: {names.display(f.baseline)}.")


def methods(r: Results) -> str:
    words = (f"Paired tests: Wilcoxon signed-rank over seeds, Holm-adjusted over the activations of a dataset and "
             f"setting, α = {ALPHA:g}; effect size: matched-pairs rank-biserial r (+1: better than the baseline on "
             "every seed).")
    if r.ranks is None:
        return words
    fr = r.ranks.friedman
    return (words + f" Ranks: blocks are every dataset × setting × seed that every activation completed "
            f"({fr.n_blocks}); Friedman χ² = {fr.statistic:.2f}, p = {fr.p_value:.3g}; Iman–Davenport "
            f"F = {fr.iman_davenport_f:.2f}, p = {fr.iman_davenport_p:.3g}; Nemenyi critical difference at "
            f"α = {ALPHA:g}: {r.ranks.cd:.2f} ranks (bars join activations closer than that). Seeds of one dataset "
            "are not independent data sets, so the CD reads as 'over these seeds and datasets', not as Demšar's "
            "'over data sets'.")


def _name(spec: str, show: dict[str, str]) -> Cell:
    return Cell(show[spec], title=spec if show[spec] != spec else "")


def cd_figure(r: Results, show: dict[str, str]) -> Figure | None:
    if r.ranks is None:
        return None
    rk = r.ranks
    fig = cd_diagram([show[n] for n in rk.names], rk.friedman.average_ranks, rk.cd,
                     title=f"Average rank over {rk.friedman.n_blocks} blocks (1 = best)")
    return Figure(png(fig), f"Critical-difference diagram: average rank of test accuracy over every dataset × "
                            f"setting × seed; bars join activations Nemenyi's test cannot separate "
                            f"(CD = {rk.cd:.2f})")


def activation_table(r: Results, show: dict[str, str]) -> Table:
    """Per activation: average rank with its bootstrap CI, and in how many cells it beats / loses to the baseline."""
    f, v = r.frame, verdicts(r)
    order = r.ranks.order if r.ranks is not None else list(range(len(f.activations)))
    acts = r.ranks.names if r.ranks is not None else f.activations
    rows: list[list[str | Cell]] = []
    for i in order:
        a = acts[i]
        rank = ["", ""] if r.ranks is None else [f"{r.ranks.friedman.average_ranks[i]:.2f}",
                                                 f"[{r.ranks.low[i]:.2f}, {r.ranks.high[i]:.2f}]"]
        diffs = [c.diff for c in r.comparisons if c.activation == a and not np.isnan(c.p_holm)]
        up, down, n = v.get(a, (0, 0, 0))
        rows.append([_name(a, show), *rank, f"{up} of {n}" if n else "—", f"{down} of {n}" if n else "—",
                     f"{np.mean(diffs):+.4f}" if diffs else "—"])
    b = show[f.baseline]
    return Table(["activation", "average rank", "95 % CI (bootstrap over blocks)", f"better than {b}",
                  f"worse than {b}", f"mean Δ vs {b}"], rows,
                 f"Each activation: average rank (1 = best) and the dataset × setting cells where it differs from "
                 f"{b} (Holm-adjusted p < {ALPHA:g}); Δ: test accuracy minus {b}'s, mean over cells.")


def distributions(f: Frame, show: dict[str, str]) -> str:
    col = colours(f.activations)
    rows, cols = len(f.datasets), len(f.settings)
    fig, axes = plt.subplots(rows, cols, figsize=(max(6.0, 0.45 * len(f.activations) * cols), 2.6 * rows),
                             squeeze=False)
    rng = np.random.default_rng(0)
    for i, d in enumerate(f.datasets):
        for j, s in enumerate(f.settings):
            ax = axes[i][j]
            for k, a in enumerate(f.activations):
                v = np.array(list(accuracies(f, d, a, s).values()))
                if len(v):
                    ax.scatter(k + rng.uniform(-0.15, 0.15, len(v)), v, s=9, color=col[a], alpha=0.8)
                    ax.hlines(np.median(v), k - 0.3, k + 0.3, color="black", lw=1.5)
            ax.set_xticks(range(len(f.activations)), [show[a] for a in f.activations], rotation=60, ha="right",
                          fontsize=7)
            ax.set_title(_cell_label(f, d, s), fontsize=8)
            ax.set_ylabel("test accuracy")
    fig.tight_layout()
    return png(fig)


def _cells(f: Frame) -> list[tuple[str, Setting]]:
    return [(d, s) for d in f.datasets for s in f.settings]


def _varying(f: Frame, s: Setting) -> str:
    """The words of the setting's values that differ between the store's settings ('' for one setting)."""
    words = setting_words(s).split(", ")
    keep = [i for i in range(len(s)) if len({x[i] if i < len(x) else None for x in f.settings}) > 1]
    return ", ".join(words[i] for i in keep if i < len(words))


def _cell_label(f: Frame, d: str, s: Setting) -> str:
    return ", ".join(x for x in (d, _varying(f, s)) if x)


def lr_table(f: Frame, show: dict[str, str]) -> Table:
    """The learning rate each cell chose on validation (hover: every learning rate's mean validation accuracy)."""
    rows = []
    for a in f.activations:
        row: list[str | Cell] = [_name(a, show)]
        for d, s in _cells(f):
            ch = f.choices.get((d, a, s))
            if ch is None:
                row.append("")
                continue
            hover = "; ".join(f"lr {st['lr']:g}: {score:.4f} ({n} seeds)" for st, score, n in ch.scores)
            row.append(Cell(f"{ch.setting['lr']:g}", title=f"mean validation accuracy: {hover}"))
        rows.append(row)
    return Table(["activation", *[_cell_label(f, d, s) for d, s in _cells(f)]], rows,
                 "The learning rate chosen on validation per cell (hover: each learning rate's mean validation "
                 "accuracy over seeds).")


def comparison_table(f: Frame, comps: list[Comparison], show: dict[str, str]) -> Table:
    several = len(f.settings) > 1
    rows: list[list[str | Cell]] = []
    for c in comps:
        p = "" if np.isnan(c.p_holm) else f"{c.p_holm:.3g}" + (" ✱" if c.p_holm < ALPHA else "")
        rows.append([c.dataset, *([_varying(f, c.setting)] if several else []), _name(c.activation, show),
                     f"{c.lr:g}", f"{c.mean:.4f}", f"{c.median:.4f}", f"[{c.ci[0]:.4f}, {c.ci[1]:.4f}]",
                     f"{c.diff:+.4f}", p, "" if c.activation == f.baseline else f"{c.effect:+.2f}"])
    return Table(["dataset", *(["setting"] if several else []), "activation", "lr", "mean", "median",
                  "95 % CI (bootstrap)", "Δ vs baseline", "p (Holm)", "r"], rows,
                 "Test accuracy over seeds at the chosen learning rate; ✱: different from the baseline after Holm's "
                 "correction.")


def grid_table(f: Frame, show: dict[str, str]) -> Table:
    """Best (chosen on validation) vs the average over the learning-rate grid, after Eger et al. 2018."""
    grid: dict[tuple[str, str], list[float]] = defaultdict(list)
    for t in f.trials:
        grid[(t["config"]["dataset"], t["activation"])].append(t["metrics"]["test_accuracy"])
    rows: list[list[str | Cell]] = []
    for d in f.datasets:
        for a in f.activations:
            best = [v for s in f.settings for v in accuracies(f, d, a, s).values()]
            if best:
                avg = float(np.mean(grid[(d, a)]))
                rows.append([d, _name(a, show), f"{np.mean(best):.4f}", f"{avg:.4f}", f"{np.mean(best) - avg:+.4f}"])
    return Table(["dataset", "activation", "best", "grid average", "gap"], rows,
                 "Best: the learning rate chosen on validation; average: every learning rate of the grid (how much "
                 "an activation depends on tuning). Mean test accuracy over seeds and settings.")


def depth_table(f: Frame, show: dict[str, str]) -> Table:
    depths = sorted({s[0] for s in f.settings})
    cols = [(d, depth) for d in f.datasets for depth in depths]
    rows = []
    for a in f.activations:
        row: list[str | Cell] = [_name(a, show)]
        for d, depth in cols:
            v = [x for s in f.settings if s[0] == depth for x in accuracies(f, d, a, s).values()]
            row.append(f"{np.mean(v):.4f}" if v else "")
        rows.append(row)
    return Table(["activation", *[f"{d}, depth {depth}" for d, depth in cols]], rows,
                 "Depth: mean test accuracy over seeds (and the other settings) per number of hidden layers.")


def monitor_table(f: Frame, show: dict[str, str]) -> Table:
    """Dead and saturated fractions at the end of training (the monitor's, on validation inputs), at the
    deepest setting, mean over layers, seeds and datasets."""
    deepest = max(s[0] for s in f.settings)
    rows: list[list[str | Cell]] = []
    for a in f.activations:
        dead: list[float] = []
        sat: list[float] = []
        for (_, act, s), by_seed in f.selected.items():
            if act == a and s[0] == deepest:
                for t in by_seed.values():
                    dead += [v for v in t["metrics"].get("dead", []) if v is not None]
                    sat += [v for v in t["metrics"].get("saturated", []) if v is not None]
        rows.append([_name(a, show), f"{np.mean(dead):.1%}" if dead else "—", f"{np.mean(sat):.1%}" if sat else "—"])
    return Table(["activation", "dead", "saturated"], rows,
                 f"Dead and saturated units at depth {deepest}, measured by actlab's monitor on the validation inputs "
                 "with each trial's selected weights; mean over hidden layers, seeds and datasets. —: the activation "
                 "has no flat region the monitor can measure.")


FACTORS = ("activation", "seed", "lr", "depth", "width", "init", "optimizer")


def variance(f: Frame) -> list[Table | Bullets]:
    """The share of the variance in test accuracy (every trial, every learning rate) that each axis explains,
    per dataset: a table and one computed sentence per dataset."""
    found: list[tuple[str, list[str], dict[str, float]]] = []
    words = []
    for d in f.datasets:
        ts = [t for t in f.trials if t["config"]["dataset"] == d]
        table = [{"activation": t["activation"], "seed": t["seed"], **{k: t["config"][k] for k in FACTORS[2:]},
                  "acc": t["metrics"]["test_accuracy"]} for t in ts]
        used = [k for k in FACTORS if len({r[k] for r in table}) > 1]
        if not used or len(table) < 3 or len({r["acc"] for r in table}) < 2:
            if table:
                words.append(f"{d}: every trial has the same test accuracy ({table[0]['acc']:.4f}): there is no "
                             "variance to split.")
            continue
        share = stats.variance_split(table, used, "acc")
        found.append((d, used, share))
        ranked = sorted(used, key=lambda k: -share[k])
        words.append(f"{d}: of the variance in test accuracy the {ranked[0]} explains {share[ranked[0]]:.0%}"
                     + "".join(f", the {k} {share[k]:.0%}" for k in ranked[1:])
                     + f"; interactions and the rest {share['residual']:.0%}.")
    out: list[Table | Bullets] = []
    if found:
        cols = [k for k in FACTORS if any(k in used for _, used, _ in found)]
        rows: list[list[str | Cell]] = [[d, *[f"{share[k]:.0%}" if k in used else "" for k in cols],
                                         f"{share['residual']:.0%}"] for d, used, share in found]
        out.append(Table(["dataset", *cols, "residual"], rows,
                         "What the variance in test accuracy comes from: main-effect sums of squares over every trial "
                         "(all learning rates) of a dataset, as shares of the total; the rest is interactions and "
                         "noise."))
    if words:
        out.append(Bullets(words))
    return out


def summary(r: Results | None) -> list[RichTable]:
    """The run's summary: per dataset and setting, each activation's mean test accuracy with its bootstrap CI
    and the Holm-adjusted p against the baseline."""
    if r is None:
        return []
    out = []
    grouped: dict[tuple[str, Setting], list[Comparison]] = defaultdict(list)
    for c in r.comparisons:
        grouped[(c.dataset, c.setting)].append(c)
    for (d, s), cs in grouped.items():
        t = RichTable(title=f"benchmark, {d}, {setting_words(s)}: test accuracy at the learning rate chosen on "
                            "validation")
        for name in ("activation", "mean", "95 % CI", f"Δ vs {r.frame.baseline}", "p (Holm)"):
            t.add_column(name, justify="left" if name == "activation" else "right")
        for c in cs:
            p = "" if np.isnan(c.p_holm) else f"{c.p_holm:.3g}" + (" *" if c.p_holm < ALPHA else "")
            t.add_row(c.activation, f"{c.mean:.4f}", f"[{c.ci[0]:.3f}, {c.ci[1]:.3f}]", f"{c.diff:+.4f}", p)
        out.append(t)
    return out
