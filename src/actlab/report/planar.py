"""The report's planar section: decision boundaries, seed-averaged probability maps, the learned
feature space, what each hidden neuron computes, and test accuracy against width."""

from __future__ import annotations

import html
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.ticker import NullLocator

import actlab
from actlab.engine.mlp import forward
from actlab.report.aggregate import load
from actlab.report.figures import colours, finish_grid, plt, png
from actlab.report.single_sample import Section, _img
from actlab.studies.datasets import extent
from actlab.studies.planar import data, sizes

STUDY = "planar"
GRID = 91


def section(store: str | Path) -> Section | None:
    trials = load(store, STUDY)
    if not trials:
        return None
    best = best_settings(trials)
    datasets = list(dict.fromkeys(t["config"]["dataset"] for t in trials))
    acts = list(dict.fromkeys(t["activation"] for t in trials))
    widths = sorted({t["config"]["width"] for t in trials})
    col = colours(acts)
    parts = [f"<p>{len(trials):,} trials: datasets {', '.join(datasets)}; activations {', '.join(acts)}; widths "
             f"{', '.join(map(str, widths))}; {len({t['seed'] for t in trials})} seeds. Each cell uses its best "
             "optimizer and learning rate (highest median test accuracy). Points: the training data of the "
             "representative seed (the first; orange: class 1, cyan: class 0); white line: its decision boundary "
             "(p = 0.5); background: the predicted probability of class 1 (red high, blue low).</p>",
             _img(accuracy_vs_width(trials, best, datasets, acts, widths, col), "Test accuracy against width")]
    for d in datasets:
        here = [t for t in trials if t["config"]["dataset"] == d]  # each dataset's figures: only what ran on it
        d_acts = [a for a in acts if any(t["activation"] == a for t in here)]
        d_widths = sorted({t["config"]["width"] for t in here})
        parts.append(f"<h3>{html.escape(d)}</h3>")
        parts.append(_img(boundaries(trials, best, d, d_acts, d_widths, average=False),
                          f"{d}: decision boundary of the representative seed, per activation × width"))
        parts.append(_img(boundaries(trials, best, d, d_acts, d_widths, average=True),
                          f"{d}: probability of class 1 averaged over seeds"))
        if {2, 3} & set(d_widths):
            parts.append(_img(feature_space(trials, best, d, d_acts, d_widths),
                              f"{d}: the hidden layer's outputs (width 2 and 3) with the output unit's separating "
                              "line / plane"))
        parts.append(_img(neurons(trials, best, d, d_acts, d_widths), f"{d}: what each hidden neuron computes"))
    return Section("Planar: what can each activation learn?", findings(trials, best, datasets, acts, widths),
                   "\n".join(parts))


Key = tuple[str, str, int]


def best_settings(trials: list[dict[str, Any]]) -> dict[Key, list[dict[str, Any]]]:
    """Per (dataset, activation, width): the trials of the optimizer and lr with the best median test accuracy."""
    groups: dict[Key, dict[tuple[str, float], list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for t in trials:
        c = t["config"]
        groups[(c["dataset"], t["activation"], c["width"])][(t["optimizer"], c["lr"])].append(t)
    return {k: max(v.values(), key=lambda ts: float(np.median([t["metrics"]["test_accuracy"] for t in ts])))
            for k, v in groups.items()}


def _acc(ts: list[dict[str, Any]]) -> np.ndarray:
    return np.array([t["metrics"]["test_accuracy"] for t in ts])


def findings(trials: list[dict[str, Any]], best: dict[Key, list[dict[str, Any]]], datasets: list[str],
             acts: list[str], widths: list[int]) -> list[str]:
    out = []
    for d in datasets:
        w0 = widths[0]
        med = {a: float(np.median(_acc(best[(d, a, w0)]))) for a in acts if (d, a, w0) in best}
        if not med:
            continue
        order = sorted(med, key=lambda a: -med[a])
        line = (f"{d}, {w0} hidden neuron{'s' if w0 > 1 else ''}: " +
                ", ".join(f"{a} {med[a]:.0%}" for a in order) + " median test accuracy.")
        need = []
        for a in acts:
            ok = [w for w in widths if (d, a, w) in best and np.median(_acc(best[(d, a, w)])) >= 0.95]
            need.append(f"{a} {ok[0]}" if ok else f"{a} never (up to {widths[-1]})")
        out.append(line + " Smallest width reaching 95 %: " + ", ".join(need) + ".")
    return out


def accuracy_vs_width(trials: list[dict[str, Any]], best: dict[Key, list[dict[str, Any]]], datasets: list[str],
                      acts: list[str], widths: list[int], col: dict) -> str:
    n = len(datasets)
    ncol = min(n, 3)
    nrow = math.ceil(n / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.2 * nrow), squeeze=False, sharey=True)
    for k, d in enumerate(datasets):
        ax = axes[k // ncol][k % ncol]
        for a in acts:
            ws = [w for w in widths if (d, a, w) in best]
            q = np.array([np.percentile(_acc(best[(d, a, w)]), [25, 50, 75]) for w in ws])
            if len(ws):
                ax.plot(ws, q[:, 1], "o-", color=col[a], label=a, lw=1.5, ms=3)
                ax.fill_between(ws, q[:, 0], q[:, 2], color=col[a], alpha=0.15)
        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticks(widths, [str(w) for w in widths])
        ax.set_title(d)
        ax.set_xlabel("hidden width")
        ax.set_ylabel("test accuracy (median, IQR over seeds)")
        ax.set_ylim(0.4, 1.01)
    return finish_grid(fig, axes, n, legend_columns=min(len(acts), 4))


def _model(t: dict[str, Any]) -> list[torch.Tensor]:
    s = sizes(t["config"])
    shapes = [shape for a, b in zip(s[:-1], s[1:]) for shape in ((b, a), (b, 1))]
    return [torch.tensor(w, dtype=torch.float64).reshape(shape)[None] for w, shape in zip(t["metrics"]["weights"],
                                                                                          shapes)]


def _grid(dataset: str) -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
    """The plot's x1 and x2 axes (all of the dataset with a margin: `datasets.extent`) and its points."""
    h1, h2 = extent(dataset)
    lin1, lin2 = np.linspace(-h1, h1, GRID), np.linspace(-h2, h2, GRID)
    xx, yy = np.meshgrid(lin1, lin2)
    pts = torch.tensor(np.stack([xx.ravel(), yy.ravel()]), dtype=torch.float64)[None]  # (1, 2, G²)
    return lin1, lin2, pts


def _predict(t: dict[str, Any], pts: torch.Tensor) -> tuple[np.ndarray, list[torch.Tensor]]:
    act = actlab.create(t["activation"]).eval()
    with torch.no_grad():
        logits, hidden = forward(_model(t), pts, act.double())
    return torch.sigmoid(logits[0]).numpy(), hidden


def boundaries(trials: list[dict[str, Any]], best: dict[Key, list[dict[str, Any]]], d: str, acts: list[str],
               widths: list[int], average: bool) -> str:
    lin1, lin2, pts = _grid(d)
    fig, axes = plt.subplots(len(acts), len(widths), figsize=(1.9 * len(widths) + 1, 1.9 * len(acts) + 0.4),
                             squeeze=False)
    for i, a in enumerate(acts):
        for j, w in enumerate(widths):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(f"width {w}", fontsize=9)
            if j == 0:
                ax.set_ylabel(a if len(a) < 18 else a[:16] + "…", fontsize=9)
            ts = best.get((d, a, w))
            if not ts:
                continue
            rep = min(ts, key=lambda t: t["seed"])
            probs = np.mean([_predict(t, pts)[0] for t in ts], 0) if average else _predict(rep, pts)[0]
            p = probs.reshape(GRID, GRID)
            ax.contourf(lin1, lin2, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", vmin=0, vmax=1)
            if not average:
                ax.contour(lin1, lin2, p, levels=[0.5], colors="white", linewidths=1.2)
                X, y, _, _ = data(rep["config"])
                ax.scatter(X[:, 0], X[:, 1], c=np.where(y > 0.5, "#ff7f0e", "#17becf"), s=5, edgecolors="k",
                           linewidths=0.25)
            acc = _acc(ts)
            ax.text(0.03, 0.03, f"{rep['metrics']['test_accuracy'] if not average else np.median(acc):.0%}",
                    transform=ax.transAxes, fontsize=8, color="black",
                    bbox={"facecolor": "white", "alpha": 0.7, "pad": 1, "lw": 0})
    what = "seed-averaged P(class 1)" if average else "representative seed: P(class 1), boundary and data"
    fig.suptitle(f"{d}: {what} (corner: {'median' if average else 'its'} test accuracy)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return png(fig)


def feature_space(trials: list[dict[str, Any]], best: dict[Key, list[dict[str, Any]]], d: str, acts: list[str],
                  widths: list[int]) -> str:
    ws = [w for w in (2, 3) if w in widths]
    fig = plt.figure(figsize=(3.4 * len(ws) + 0.5, 3.0 * len(acts)))
    for i, a in enumerate(acts):
        for j, w in enumerate(ws):
            ts = best.get((d, a, w))
            ax: Any = fig.add_subplot(len(acts), len(ws), i * len(ws) + j + 1, projection="3d" if w == 3 else None)
            if not ts or ts[0]["config"]["layers"] != 1:
                ax.set_axis_off()
                continue
            rep = min(ts, key=lambda t: t["seed"])
            X, y, _, _ = data(rep["config"])
            act = actlab.create(a).eval().double()
            params = _model(rep)
            with torch.no_grad():
                _, hidden = forward(params, torch.tensor(X.T)[None], act)
            h = hidden[0][0].numpy()  # (w, N)
            wout, bout = params[-2][0, 0].numpy(), float(params[-1][0, 0, 0])
            colors = np.where(y > 0.5, "tab:red", "tab:blue")
            if w == 2:
                ax.scatter(h[0], h[1], c=colors, s=5)
                xs = np.linspace(h[0].min(), h[0].max(), 50)
                if abs(wout[1]) > 1e-12:
                    ys = -(wout[0] * xs + bout) / wout[1]
                    keep = (ys > h[1].min() - 0.5 * np.ptp(h[1])) & (ys < h[1].max() + 0.5 * np.ptp(h[1]))
                    ax.plot(xs[keep], ys[keep], "k-", lw=1)
                ax.set_xlabel("neuron 1", fontsize=8)
                ax.set_ylabel("neuron 2", fontsize=8)
            else:
                ax.scatter(h[0], h[1], h[2], c=colors, s=4)
                if abs(wout[2]) > 1e-12:
                    g0, g1 = np.meshgrid(np.linspace(h[0].min(), h[0].max(), 10),
                                         np.linspace(h[1].min(), h[1].max(), 10))
                    g2 = -(wout[0] * g0 + wout[1] * g1 + bout) / wout[2]
                    g2 = np.where((g2 > h[2].min() - np.ptp(h[2])) & (g2 < h[2].max() + np.ptp(h[2])), g2, np.nan)
                    ax.plot_surface(g0, g1, g2, alpha=0.3, color="gray")
                ax.tick_params(labelsize=6)
            ax.set_title(f"{a}, width {w}", fontsize=9)
    fig.suptitle(f"{d}: hidden-layer outputs of the representative seed (red: class 1)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return png(fig)


def neurons(trials: list[dict[str, Any]], best: dict[Key, list[dict[str, Any]]], d: str, acts: list[str],
            widths: list[int]) -> str:
    w = next((w for w in widths if 3 <= w <= 8), widths[0])
    _, _, pts = _grid(d)
    h1, h2 = extent(d)
    fig, axes = plt.subplots(len(acts), w, figsize=(1.6 * w + 0.8, 1.7 * len(acts) + 0.4), squeeze=False)
    for i, a in enumerate(acts):
        ts = best.get((d, a, w))
        hidden = _predict(min(ts, key=lambda t: t["seed"]), pts)[1][0][0].numpy() if ts else None
        for k in range(w):
            ax = axes[i][k]
            ax.set_xticks([])
            ax.set_yticks([])
            if k == 0:
                ax.set_ylabel(a if len(a) < 18 else a[:16] + "…", fontsize=9)
            if i == 0:
                ax.set_title(f"neuron {k + 1}", fontsize=9)
            if hidden is not None:
                ax.imshow(hidden[k].reshape(GRID, GRID), origin="lower", extent=(-h1, h1, -h2, h2), cmap="viridis",
                          aspect="equal" if h1 == h2 else "auto")
    fig.suptitle(f"{d}, width {w}: each first-layer neuron's output over the plane (representative seed)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return png(fig)


def tables(store: str | Path) -> list[Any]:
    """The run's summary: median test accuracy per activation × width, one table per dataset."""
    from rich.table import Table

    trials = load(store, STUDY)
    best = best_settings(trials)
    acts = list(dict.fromkeys(t["activation"] for t in trials))
    widths = sorted({t["config"]["width"] for t in trials})
    out = []
    for d in dict.fromkeys(t["config"]["dataset"] for t in trials):
        table = Table(title=f"planar, {d}: median test accuracy (best optimizer and lr per cell)")
        table.add_column("activation")
        for w in widths:
            table.add_column(f"width {w}", justify="right")
        for a in acts:
            table.add_row(a, *[f"{np.median(_acc(best[(d, a, w)])):.0%}" if (d, a, w) in best else "" for w in widths])
        out.append(table)
    return out
