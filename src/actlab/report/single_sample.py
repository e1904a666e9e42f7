"""The report's single-sample section: success heatmap, evaluations to target, median loss curves,
the effect of the weight box, and the article's question answered from the numbers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from actlab.report.aggregate import Cell, cells, load, matrix
from actlab.report.figures import colours, finish_grid, plt, png
from actlab.results.store import Store

STUDY = "single-sample"


@dataclass
class Section:
    title: str
    findings: list[str]
    html: str


def section(store: str | Path) -> Section | None:
    trials = load(store, STUDY)
    if not trials:
        return None
    cs = cells(trials)
    modes = list(dict.fromkeys(c.bounds for c in cs))
    base = "none" if "none" in modes else modes[0]
    acts, opts, m = matrix(cs, base)
    col = colours(opts)
    findings = answer(acts, opts, m, cs, base) + bounds_words(cs, modes)
    parts = [f"<p>{len(trials):,} trials: {len(acts)} activations × {len(opts)} optimizers, "
             f"{len({t['seed'] for t in trials})} seeds, bound modes {', '.join(modes)}. Every learning rate ran; "
             "each cell shows the best one (highest success rate, then fewest evaluations).</p>",
             "<p>Weight box: the hidden unit's working interval is its analyser-measured active range "
             "(|f′| ≥ 10 % of max, cut to [−5, 5]); w1, b1 are boxed so w1·x + b1 stays in it, and w2, b2 the same "
             "way for the output unit given the hidden outputs. 'clip' clamps a weight to the box, 'reflect' mirrors "
             "it back inside (repeatedly), 'none' leaves it free.</p>",
             _img(heatmap(acts, opts, m, base), "Success rate per activation and optimizer"),
             _img(evaluations(cs, opts, base, col), "Evaluations to target"),
             _img(curves(store, cs, acts, opts, base, col), "Median loss over seeds against forward evaluations, "
                                                                  "best learning rate per cell")]
    if len(modes) > 1:
        parts.append(_img(bounds_effect(cs, opts, modes), "Effect of the weight box"))
    parts.append(lr_table(cs, base))
    return Section("Single sample: does the activation or the optimizer decide convergence?", findings,
                   "\n".join(parts))


def _img(uri: str, alt: str) -> str:
    return f'<figure><img src="{uri}" alt="{alt}"><figcaption>{alt}</figcaption></figure>'


def answer(acts: list[str], opts: list[str], m: np.ndarray, cs: list[Cell], base: str) -> list[str]:
    """Plain words from a two-way split of the success-rate table's variance."""
    out: list[str] = []
    if m.size == 0 or np.isnan(m).all():
        return out
    grand = np.nanmean(m)
    by_opt, by_act = np.nanmean(m, axis=0), np.nanmean(m, axis=1)
    total = np.nansum((m - grand) ** 2)
    if len(acts) > 1 and len(opts) > 1 and total > 0:
        ss_opt = len(acts) * np.sum((by_opt - grand) ** 2)
        ss_act = len(opts) * np.sum((by_act - grand) ** 2)
        ss_int = max(total - ss_opt - ss_act, 0.0)
        f_opt, f_act, f_int = ss_opt / total, ss_act / total, ss_int / total
        lead = "the optimizer" if f_opt > f_act else "the activation"
        out.append(f"Of the variation in success rate across the {len(acts)}×{len(opts)} cells (bounds '{base}'), "
                   f"{f_opt:.0%} comes from the optimizer, {f_act:.0%} from the activation and {f_int:.0%} from "
                   f"their combination: here {lead} decides more.")
    best_o, worst_o = opts[int(np.nanargmax(by_opt))], opts[int(np.nanargmin(by_opt))]
    out.append(f"Averaged over activations, {best_o} reaches the target in {np.nanmax(by_opt):.0%} of trials and "
               f"{worst_o} in {np.nanmin(by_opt):.0%}.")
    if len(acts) > 1:
        best_a, worst_a = acts[int(np.nanargmax(by_act))], acts[int(np.nanargmin(by_act))]
        out.append(f"Averaged over optimizers, {best_a} is the easiest activation ({np.nanmax(by_act):.0%}) and "
                   f"{worst_a} the hardest ({np.nanmin(by_act):.0%}).")
    ev = {o: [e for c in cs if c.optimizer == o and c.bounds == base for e in c.best.evals] for o in opts}
    med = {o: float(np.median(v)) for o, v in ev.items() if v}
    if len(med) > 1:
        fast = min(med, key=lambda k: med[k])
        out.append("Median forward evaluations to reach the target (seeds that reached it): " +
                   ", ".join(f"{o} {med[o]:,.0f}" for o in sorted(med, key=lambda k: med[k])) +
                   f" — {fast} needs the fewest.")
    return out


def bounds_words(cs: list[Cell], modes: list[str]) -> list[str]:
    if len(modes) < 2:
        return []
    mean = {m: float(np.mean([c.best.success for c in cs if c.bounds == m])) for m in modes}
    return ["Mean success rate by weight-box mode: " + ", ".join(f"{m} {mean[m]:.0%}" for m in modes) + "."]


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
    ax.set_title(f"Success rate at the best learning rate (bounds '{base}')")
    fig.colorbar(im, ax=ax, label="fraction of seeds reaching the target")
    return png(fig)


def evaluations(cs: list[Cell], opts: list[str], base: str, col: dict) -> str:
    data = [[e for c in cs if c.optimizer == o and c.bounds == base for e in c.best.evals] for o in opts]
    fig, ax = plt.subplots(figsize=(max(5.0, 1.1 * len(opts) + 2), 3.6))
    keep = [i for i, d in enumerate(data) if d]
    if keep:
        parts = ax.violinplot([np.log10(data[i]) for i in keep], positions=keep, showmedians=True)
        bodies: Any = parts["bodies"]
        for body, i in zip(bodies, keep):
            body.set_facecolor(col[opts[i]])
    ax.set_xticks(range(len(opts)), opts, rotation=30, ha="right")
    ax.set_ylabel("log10 evaluations to target")
    ax.set_title("Forward evaluations to reach the target (successful seeds, all activations)")
    return png(fig)


def curves(store: str | Path, cs: list[Cell], acts: list[str], opts: list[str], base: str, col: dict) -> str:
    n = len(acts)
    ncol = min(6, n)
    nrow = math.ceil(n / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(2.6 * ncol, 2.2 * nrow + 0.6), squeeze=False, sharey=True)
    index = {(c.activation, c.optimizer): c for c in cs if c.bounds == base}
    with Store(store, create=False) as s:
        for k, a in enumerate(acts):
            ax = axes[k // ncol][k % ncol]
            for o in opts:
                c = index.get((a, o))
                if c is None:
                    continue
                steps, med = _median_curve(s, c)
                if len(steps):
                    ax.plot((steps + 1) * c.evaluations_per_step, np.maximum(med, 1e-16), color=col[o], label=o, lw=1.4)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(a, fontsize=9)
            if k % ncol == 0:
                ax.set_ylabel("median loss")
            if k // ncol == nrow - 1:
                ax.set_xlabel("evaluations")
    return finish_grid(fig, axes, n, legend_columns=min(len(opts), 7))


def _median_curve(s: Store, c: Cell) -> tuple[np.ndarray, np.ndarray]:
    rows: dict[int, list[float]] = {}
    for curve in s.curves(c.best.trial_ids).values():
        for step, v in curve:
            rows.setdefault(step, []).append(v)
    steps = np.array(sorted(rows))
    return steps, np.array([np.median(rows[k]) for k in steps])


def bounds_effect(cs: list[Cell], opts: list[str], modes: list[str]) -> str:
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 * len(opts) + 2), 3.4))
    width = 0.8 / len(modes)
    for j, mode in enumerate(modes):
        vals = [np.mean([c.best.success for c in cs if c.optimizer == o and c.bounds == mode] or [np.nan])
                for o in opts]
        ax.bar(np.arange(len(opts)) + j * width, vals, width, label=f"bounds {mode}")
    ax.set_xticks(np.arange(len(opts)) + width * (len(modes) - 1) / 2, opts, rotation=30, ha="right")
    ax.set_ylabel("success rate (mean over activations)")
    ax.set_ylim(0, 1)
    ax.legend()
    ax.set_title("Effect of the weight box on each optimizer")
    return png(fig)


def lr_table(cs: list[Cell], base: str) -> str:
    rows = ["<table><thead><tr><th>activation</th><th>optimizer</th><th>best lr</th><th>success</th>"
            "<th>median evals (IQR)</th><th>other lr: success</th></tr></thead><tbody>"]
    for c in sorted((c for c in cs if c.bounds == base), key=lambda c: (c.activation, c.optimizer)):
        b = c.best
        iqr = (f"{np.median(b.evals):,.0f} ({np.percentile(b.evals, 25):,.0f}–{np.percentile(b.evals, 75):,.0f})"
               if b.evals else "—")
        others = ", ".join(f"{r.lr:g}: {r.success:.0%}" for r in c.by_lr if r is not b and r.lr is not None)
        rows.append(f"<tr><td>{c.activation}</td><td>{c.optimizer}</td><td>{'' if b.lr is None else f'{b.lr:g}'}</td>"
                    f"<td>{b.success:.0%} of {b.n}</td><td>{iqr}</td><td>{others}</td></tr>")
    rows.append("</tbody></table>")
    return "<details><summary>Every cell, with the spread over seeds</summary>" + "".join(rows) + "</details>"
