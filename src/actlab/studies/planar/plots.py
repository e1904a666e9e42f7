"""The planar section's figures, drawn from the results' chosen cells: test accuracy against width (the
answer), and per setup the decision boundaries, the seed-averaged probability maps, the learned
feature space and what each hidden neuron computes. Every panel shows a cell's chosen setting."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from matplotlib.ticker import NullLocator

from actlab.data.planar import extent
from actlab.engine.mlp import forward
from actlab.report.figures import colours, finish_grid, plt, png
from actlab.report.names import displays
from actlab.studies.planar.results import PlanarResults, Row, Setup, accuracies
from actlab.studies.planar.study import data, evaluator, params_of
from actlab.studies.selection import Choice

GRID = 91


def row_name(row: Row, names: dict[str, str]) -> str:
    return names.get(row[0], row[0]) + ("" if row[1] else " (no hidden bias)")


def accuracy_vs_width(r: PlanarResults) -> str:
    """One panel per setup: each activation's median test accuracy (IQR band) against width."""
    n = len(r.setups)
    ncol = min(n, 3)
    fig, axes = plt.subplots(math.ceil(n / ncol), ncol, figsize=(4.2 * ncol, 3.2 * math.ceil(n / ncol)),
                             squeeze=False, sharey=True)
    names = displays(r.activations)
    col = colours(r.activations)
    for k, s in enumerate(r.setups):
        ax = axes[k // ncol][k % ncol]
        for row in s.rows:
            ws = [w for w in s.widths if (row, w) in s.cells]
            q = np.array([np.percentile(accuracies(s.cells[(row, w)].trials), [25, 50, 75]) for w in ws])
            ax.plot(ws, q[:, 1], "o-" if row[1] else "s--", color=col[row[0]], label=row_name(row, names), lw=1.5,
                    ms=3)
            ax.fill_between(ws, q[:, 0], q[:, 2], color=col[row[0]], alpha=0.15)
        ax.axhline(0.95, color="grey", lw=0.8, ls=":")
        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticks(s.widths, [str(w) for w in s.widths])
        ax.set_title(s.label, fontsize=9)
        ax.set_xlabel("hidden width")
        ax.set_ylabel("test accuracy")
        ax.set_ylim(0.4, 1.01)
    labels = {lab for row in axes for ax in row for lab in ax.get_legend_handles_labels()[1]}
    return finish_grid(fig, axes, n, legend_columns=min(len(labels), 4))


def _predict(t: dict[str, Any], pts: torch.Tensor) -> tuple[np.ndarray, list[torch.Tensor]]:
    with torch.no_grad():
        logits, hidden = forward(params_of(t["config"], t["metrics"]["weights"], torch.float64), pts,
                                 evaluator(t["activation"], torch.float64))
    return torch.sigmoid(logits[0]).numpy(), hidden


def _grid(dataset: str) -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
    """The plot's x1 and x2 axes (all of the dataset with a margin: `extent`) and its points."""
    h1, h2 = extent(dataset)
    lin1, lin2 = np.linspace(-h1, h1, GRID), np.linspace(-h2, h2, GRID)
    xx, yy = np.meshgrid(lin1, lin2)
    return lin1, lin2, torch.tensor(np.stack([xx.ravel(), yy.ravel()]), dtype=torch.float64)[None]


def representative(c: Choice) -> dict[str, Any]:
    """The chosen setting's trial with the lowest seed."""
    return min(c.trials, key=lambda t: t["config"]["seed"])


def _label(ax: Any, text: str) -> None:
    """A row's name, one line per part ("square", "(no hidden bias)"), each cut to 18 characters."""
    lines = text.replace(" (no hidden", "\n(no hidden").split("\n")
    ax.set_ylabel("\n".join(x if len(x) < 18 else x[:16] + "…" for x in lines), fontsize=9)


def boundaries(s: Setup, names: dict[str, str], average: bool) -> str:
    """Activation × width panels: the representative seed's P(class 1), boundary and training data, or the
    probability averaged over the chosen setting's seeds."""
    lin1, lin2, pts = _grid(s.dataset)
    rows, widths = s.rows, s.widths
    fig, axes = plt.subplots(len(rows), len(widths), figsize=(1.9 * len(widths) + 1, 1.9 * len(rows) + 0.4),
                             squeeze=False)
    for i, row in enumerate(rows):
        for j, w in enumerate(widths):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(f"width {w}", fontsize=9)
            if j == 0:
                _label(ax, row_name(row, names))
            c = s.cells.get((row, w))
            if c is None:
                continue
            rep = representative(c)
            probs = np.mean([_predict(t, pts)[0] for t in c.trials], 0) if average else _predict(rep, pts)[0]
            p = probs.reshape(GRID, GRID)
            ax.contourf(lin1, lin2, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", vmin=0, vmax=1)
            if not average:
                ax.contour(lin1, lin2, p, levels=[0.5], colors="white", linewidths=1.2)
                X, y, _, _ = data(rep["config"])
                ax.scatter(X[:, 0], X[:, 1], c=np.where(y > 0.5, "#ff7f0e", "#17becf"), s=5, edgecolors="k",
                           linewidths=0.25)
            acc = rep["metrics"]["test_accuracy"] if not average else float(np.median(accuracies(c.trials)))
            ax.text(0.03, 0.03, f"{acc:.0%}", transform=ax.transAxes, fontsize=8, color="black",
                    bbox={"facecolor": "white", "alpha": 0.7, "pad": 1, "lw": 0})
    what = "seed-averaged P(class 1)" if average else "representative seed: P(class 1), boundary and data"
    fig.suptitle(f"{s.label}: {what} (corner: {'median' if average else 'its'} test accuracy)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return png(fig)


def _plane(ax: Any, h: np.ndarray, wout: np.ndarray, bout: float, colors: np.ndarray) -> None:
    """Hidden outputs of width 2 (a scatter and the output's line) or 3 (3-D, and its plane)."""
    if len(h) == 2:
        ax.scatter(h[0], h[1], c=colors, s=5)
        xs = np.linspace(h[0].min(), h[0].max(), 50)
        if abs(wout[1]) > 1e-12:
            ys = -(wout[0] * xs + bout) / wout[1]
            keep = (ys > h[1].min() - 0.5 * np.ptp(h[1])) & (ys < h[1].max() + 0.5 * np.ptp(h[1]))
            ax.plot(xs[keep], ys[keep], "k-", lw=1)
        ax.set_xlabel("neuron 1", fontsize=8)
        ax.set_ylabel("neuron 2", fontsize=8)
        return
    ax.scatter(h[0], h[1], h[2], c=colors, s=4)
    if abs(wout[2]) > 1e-12:
        g0, g1 = np.meshgrid(np.linspace(h[0].min(), h[0].max(), 10), np.linspace(h[1].min(), h[1].max(), 10))
        g2 = -(wout[0] * g0 + wout[1] * g1 + bout) / wout[2]
        g2 = np.where((g2 > h[2].min() - np.ptp(h[2])) & (g2 < h[2].max() + np.ptp(h[2])), g2, np.nan)
        ax.plot_surface(g0, g1, g2, alpha=0.3, color="gray")
    ax.tick_params(labelsize=6)


def feature_space(s: Setup, names: dict[str, str]) -> str:
    """Widths 2 and 3: the representative seed's hidden outputs of its training points, with the output
    unit's separating line / plane."""
    ws = [w for w in (2, 3) if w in s.widths]
    rows = s.rows
    fig = plt.figure(figsize=(3.4 * len(ws) + 0.5, 3.0 * len(rows)))
    for i, row in enumerate(rows):
        for j, w in enumerate(ws):
            c = s.cells.get((row, w))
            ax: Any = fig.add_subplot(len(rows), len(ws), i * len(ws) + j + 1, projection="3d" if w == 3 else None)
            if c is None or c.cell["layers"] != 1:
                ax.set_axis_off()
                continue
            rep = representative(c)
            X, y, _, _ = data(rep["config"])
            _, hidden = _predict(rep, torch.tensor(X.T)[None])
            weights = rep["metrics"]["weights"]
            _plane(ax, hidden[0][0].numpy(), np.array(weights[-2]), float(weights[-1][0]),
                   np.where(y > 0.5, "tab:red", "tab:blue"))
            ax.set_title(f"{row_name(row, names)}, width {w}", fontsize=9)
    fig.suptitle(f"{s.label}: hidden-layer outputs of the representative seed (red: class 1)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return png(fig)


def neurons(s: Setup, names: dict[str, str]) -> str:
    """One width (the first from 3 to 8, else the smallest): each first-layer neuron's output over the plane."""
    w = next((w for w in s.widths if 3 <= w <= 8), s.widths[0])
    _, _, pts = _grid(s.dataset)
    h1, h2 = extent(s.dataset)
    rows = s.rows
    fig, axes = plt.subplots(len(rows), w, figsize=(1.6 * w + 0.8, 1.7 * len(rows) + 0.4), squeeze=False)
    for i, row in enumerate(rows):
        c = s.cells.get((row, w))
        hidden = _predict(representative(c), pts)[1][0][0].numpy() if c is not None else None
        for k in range(w):
            ax = axes[i][k]
            ax.set_xticks([])
            ax.set_yticks([])
            if k == 0:
                _label(ax, row_name(row, names))
            if i == 0:
                ax.set_title(f"neuron {k + 1}", fontsize=9)
            if hidden is not None:
                ax.imshow(hidden[k].reshape(GRID, GRID), origin="lower", extent=(-h1, h1, -h2, h2), cmap="viridis",
                          aspect="equal" if h1 == h2 else "auto")
    fig.suptitle(f"{s.label}, width {w}: each first-layer neuron's output over the plane (representative seed)",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return png(fig)
