"""The report's single-sample section, as data: the answer (a two-way split of the success-rate table),
the success heatmap, evaluations to target, median loss curves, the effect of the weight box and every
cell with its spread over seeds. It reads the study's results object only."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from actlab.report.figures import colours, finish_grid, plt, png
from actlab.report.kit import Cell as TableCell
from actlab.report.kit import Details, Figure, Paragraph, Section, Table
from actlab.report.names import displays, legend
from actlab.studies.single_sample.claims import variance_split
from actlab.studies.single_sample.results import CURVE_TRIALS, Cell, Results
from actlab.studies.single_sample.study import QUESTION

TITLE = "Single sample: does the activation or the optimizer decide convergence?"
BOX_WORDS = ("Weight box: the hidden unit's working interval is its analyser-measured active range (|f′| ≥ 10 % of "
             "its maximum, cut to [−5, 5]); w1, b1 are boxed so that w1·x + b1 stays in it, and w2, b2 the same way "
             "for the output unit given the hidden outputs. `clip` clamps a weight to the box, `reflect` mirrors it "
             "back inside (repeatedly), `none` leaves it free.")


def section(r: Results | None) -> Section | None:
    if r is None:
        return None
    base = r.base
    acts, opts, m = r.grid(base)
    names = displays(c.activation for c in r.cells)
    col = colours(opts)
    heat = Figure(heatmap([names[a] for a in acts], opts, m, base),
                  f"Success rate per activation and optimizer at the chosen learning rate (bounds {base})")
    blocks: list[Any] = [Paragraph(ran(r, names)), Paragraph(
        "The study fits one sample: there is no validation split, and training success (squared error under the "
        f"threshold) is its objective. Selection: {r.rule.text()}."), Paragraph(BOX_WORDS)]
    if len(r.setups) > 1:
        blocks.append(Paragraph(f"The store holds {len(r.setups)} setups; the figures and the claims read the main "
                                f"one ({setup_words(r.setups[0][0])}, {r.setups[0][1]:,} trials); the table of "
                                "every cell lists them all."))
    blocks += [heat, optimizer_table(r),
               Figure(evaluations(r, opts, base, col), "Forward evaluations to reach the target (trials that reached "
                      "it, at the chosen learning rate, all activations)"),
               Figure(curves(r, acts, opts, base, col, names), "Median loss over seeds and targets (the first "
                      f"{CURVE_TRIALS} trials of a cell at most) against forward evaluations, chosen learning rate per "
                      f"cell (bounds {base})")]
    if len(r.modes) > 1:
        blocks.append(Figure(bounds_effect(r, opts), "Effect of the weight box: mean success rate over activations"))
    blocks.append(Details("Every cell, with the spread over seeds", [cell_table(r, names)]))
    if legend(names):
        blocks.append(Paragraph(f"Names: {legend(names)}."))
    return Section(TITLE, blocks, QUESTION, answer(acts, opts, m, base, names), heat)


def ran(r: Results, names: dict[str, str]) -> str:
    acts = list(dict.fromkeys(names[c.activation] for c in r.cells))
    opts = list(dict.fromkeys(c.label for c in r.cells))
    shown = ", ".join(acts[:8]) + (f" and {len(acts) - 8} more" if len(acts) > 8 else "")
    return (f"{r.trials:,} trials: {len(acts)} activations ({shown}); {len(opts)} optimizers "
            f"({', '.join(opts)}); {r.seeds} seeds; bound modes {', '.join(r.modes)}; every learning rate ran.")


def setup_words(setup: dict[str, Any]) -> str:
    return f"{setup['steps']} steps, input {setup['input']:g}, success below {setup['success_threshold']:g}"


def answer(acts: list[str], opts: list[str], m: np.ndarray, base: str, names: dict[str, str]) -> list[str]:
    """One or two sentences by rule: the two-way split of the success-rate table (complete rows) names the
    axis with the larger share; then the optimizers (or activations) with the highest and lowest mean rate."""
    keep = [i for i in range(len(acts)) if not np.isnan(m[i]).any()]
    full = m[keep]
    out = []
    if len(keep) < 2 or len(opts) < 2:
        out.append(f"With {len(keep)} complete activation row(s) and {len(opts)} optimizer(s) the table cannot be "
                   "split between activation and optimizer.")
    else:
        f_act, f_opt = variance_split(full)
        if f_act == f_opt == 0:
            out.append(f"Every cell reaches the target equally often ({full[0, 0]:.0%}, bounds {base}): neither the "
                       "activation nor the optimizer decides here.")
        else:
            lead = "the optimizer" if f_opt > f_act else "the activation"
            out.append(f"Of the variation in success rate across {len(keep)}×{len(opts)} cells (bounds {base}), "
                       f"{f_opt:.0%} comes from the optimizer and {f_act:.0%} from the activation: {lead} "
                       "decides more.")
    if len(opts) > 1:
        by = np.nanmean(m, axis=0)
        hi, lo = int(np.nanargmax(by)), int(np.nanargmin(by))
        out.append(f"Averaged over activations, {opts[hi]} reaches the target most often ({by[hi]:.0%}) and "
                   f"{opts[lo]} least ({by[lo]:.0%}).")
    elif len(acts) > 1:
        by = np.nanmean(m, axis=1)
        hi, lo = int(np.nanargmax(by)), int(np.nanargmin(by))
        out.append(f"With {opts[0]}, {names[acts[hi]]} is the easiest activation ({by[hi]:.0%}) and "
                   f"{names[acts[lo]]} the hardest ({by[lo]:.0%}).")
    return out


def _evals(r: Results, opt: str, bounds: str) -> list[int]:
    return [e for c in r.main if c.label == opt and c.bounds == bounds for e in c.best.evals]


def _iqr(v: list[int]) -> str:
    if not v:
        return "—"
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    return f"{med:,.0f} ({q1:,.0f}–{q3:,.0f})"


def optimizer_table(r: Results) -> Table:
    """Per optimizer and bound mode: the mean success rate over activations and the evaluations to target."""
    rows = []
    for mode in r.modes:
        acts, opts, m = r.grid(mode)
        for j, o in enumerate(opts):
            rows.append([o, mode, f"{np.nanmean(m[:, j]):.0%}", _iqr(_evals(r, o, mode))])
    return Table(["optimizer", "bounds", "mean success over activations", "median evaluations to target (IQR)"],
                 rows, "Per optimizer, at each cell's chosen learning rate")


def cell_table(r: Results, names: dict[str, str]) -> Table:
    many = len(r.setups) > 1
    other_out = any(c.output != c.activation for c in r.cells)
    columns = ["activation", *(["output"] if other_out else []), "optimizer", "bounds", *(["setup"] if many else []),
               "chosen lr", "success", "median evaluations (IQR)", "other lr: success"]
    rows: list[list[str | TableCell]] = []
    for c in r.cells:
        b = c.best
        others = ", ".join(f"{x.lr:g}: {x.success:.0%}" for x in c.by_lr if x is not b and x.lr is not None)
        rows.append([TableCell(names[c.activation], title=c.activation),
                     *([TableCell(names.get(c.output, c.output), title=c.output)] if other_out else []),
                     c.label, c.bounds, *([setup_words(c.setup)] if many else []),
                     "" if b.lr is None else f"{b.lr:g}", f"{b.success:.0%} of {b.n}", _iqr(b.evals), others])
    return Table(columns, rows, "Every cell: the chosen learning rate, its success rate over seeds and targets, and "
                                "the success rate of every other learning rate")


def heatmap(acts: list[str], opts: list[str], m: np.ndarray, base: str) -> str:
    fig, ax = plt.subplots(figsize=(1.1 * len(opts) + 2.5, 0.32 * len(acts) + 1.6))
    im = ax.imshow(m, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(opts)), opts, rotation=30, ha="right")
    ax.set_yticks(range(len(acts)), acts)
    for (i, j), v in np.ndenumerate(m):
        if not math.isnan(v):
            ax.text(j, i, f"{v:.0%}", ha="center", va="center", fontsize=8, color="white" if v < 0.6 else "black")
    ax.set_xlabel("optimizer")
    ax.set_ylabel("activation (hidden and output)")
    ax.set_title(f"Success rate at the chosen learning rate (bounds {base})")
    fig.colorbar(im, ax=ax, label="fraction of trials reaching the target")
    return png(fig)


def evaluations(r: Results, opts: list[str], base: str, col: dict) -> str:
    data = [_evals(r, o, base) for o in opts]
    fig, ax = plt.subplots(figsize=(max(5.0, 1.1 * len(opts) + 2), 3.6))
    keep = [i for i, d in enumerate(data) if d]
    if keep:
        parts = ax.violinplot([np.log10(data[i]) for i in keep], positions=keep, showmedians=True)
        bodies: Any = parts["bodies"]
        for body, i in zip(bodies, keep):
            body.set_facecolor(col[opts[i]])
    ax.set_xticks(range(len(opts)), opts, rotation=30, ha="right")
    ax.set_ylabel("log10 evaluations to target")
    ax.set_title("Forward evaluations to reach the target")
    return png(fig)


def curves(r: Results, acts: list[str], opts: list[str], base: str, col: dict, names: dict[str, str]) -> str:
    n = len(acts)
    ncol = min(6, n)
    nrow = math.ceil(n / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(2.6 * ncol, 2.2 * nrow + 0.6), squeeze=False, sharey=True)
    index: dict[tuple[str, str], Cell] = {(c.activation, c.label): c for c in r.main if c.bounds == base}
    for k, a in enumerate(acts):
        ax = axes[k // ncol][k % ncol]
        for o in opts:
            c = index.get((a, o))
            if c is None or not c.curve[0]:
                continue
            steps, med = np.array(c.curve[0]), np.array(c.curve[1])
            ax.plot((steps + 1) * c.evaluations_per_step, np.maximum(med, 1e-16), color=col[o], label=o, lw=1.4)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(names[a], fontsize=9)
        if k % ncol == 0:
            ax.set_ylabel("median loss")
        if k // ncol == nrow - 1:
            ax.set_xlabel("evaluations")
    return finish_grid(fig, axes, n, legend_columns=min(len(opts), 7))


def bounds_effect(r: Results, opts: list[str]) -> str:
    modes = r.modes
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 * len(opts) + 2), 3.4))
    width = 0.8 / len(modes)
    for j, mode in enumerate(modes):
        vals = [np.mean([c.best.success for c in r.main if c.label == o and c.bounds == mode] or [np.nan])
                for o in opts]
        ax.bar(np.arange(len(opts)) + j * width, vals, width, label=f"bounds {mode}")
    ax.set_xticks(np.arange(len(opts)) + width * (len(modes) - 1) / 2, opts, rotation=30, ha="right")
    ax.set_ylabel("success rate (mean over activations)")
    ax.set_ylim(0, 1)
    ax.legend()
    ax.set_title("Effect of the weight box on each optimizer")
    return png(fig)
