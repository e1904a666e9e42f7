"""Demšar's critical-difference diagram: average ranks on one axis, bars over the methods that are
not significantly different (Demšar 2006, JMLR 7, Fig. 1).

Layout: the rank axis runs 1..k from left to right, so the best method (rank 1) is on the LEFT; the
axis is labelled "average rank". Each method hangs from its average rank by an elbow line to its
name and rank: the better half on the left edge, the rest on the right. The CD interval is drawn
above the axis from rank 1, labelled "CD = x.xx". Each clique (`actlab.analysis.stats.cliques`) is a
thick black bar just under the axis, spanning its members' ranks; the bars carry gid "clique".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from actlab.analysis.stats import StatsInputError, cliques
from actlab.report.figures import plt

_ROW = 0.3  # vertical step between two method labels, in axis units (the axis sits at y = 0)
_BAR = 0.1  # vertical step between two clique bars


def cd_diagram(names: Sequence[str], average_ranks: Sequence[float] | np.ndarray, cd: float, *,
               title: str | None = None) -> Figure:
    """The CD diagram of methods `names` with these average ranks (1 = best) and critical difference."""
    ranks = np.asarray(average_ranks, dtype=float)
    k = ranks.size
    if len(names) != k or k < 2:
        raise StatsInputError(f"cd_diagram needs at least 2 names with one average rank each, "
                              f"got {len(names)} names and {k} ranks.")
    if not np.all(np.isfinite(ranks)) or ranks.min() < 1 - 1e-9 or ranks.max() > k + 1e-9 or not cd > 0:
        raise StatsInputError(f"average ranks must lie in [1, {k}] and cd must be positive.")
    groups = cliques(names, ranks, cd)
    order = list(np.argsort(ranks, kind="stable"))
    left, right = order[: (k + 1) // 2], order[(k + 1) // 2:][::-1]
    depth = max(len(left), len(right))
    bars_bottom = _BAR * (len(groups) + 1)
    fig = plt.figure(figsize=(7.0, 1.4 + 0.3 * depth + 0.1 * len(groups)))
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(1 - 0.45 * k, k + 0.45 * k)
    ax.set_ylim(bars_bottom + _ROW * (depth + 0.5), -0.75)  # y grows downwards
    ax.axis("off")
    _axis(ax, k, cd)
    for side, members in (("left", left), ("right", right)):
        for row, i in enumerate(members):
            _label(ax, names[i], float(ranks[i]), bars_bottom + _ROW * (row + 1), side, k)
    for level, group in enumerate(groups):
        members = [float(ranks[list(names).index(n)]) for n in group]
        ax.plot([min(members) - 0.03, max(members) + 0.03], [_BAR * (level + 1)] * 2, color="black",
                linewidth=3.5, solid_capstyle="round", gid="clique")
    if title:
        ax.set_title(title, y=0.98)
    return fig


def _axis(ax: Axes, k: int, cd: float) -> None:
    """The rank axis 1..k with its ticks and label, and the CD interval above it."""
    ax.plot([1, k], [0, 0], color="black", linewidth=1.0)
    for tick in range(1, k + 1):
        ax.plot([tick, tick], [0, -0.08], color="black", linewidth=1.0)
        ax.text(tick, -0.12, str(tick), ha="center", va="bottom", fontsize=9)
    ax.text((1 + k) / 2, -0.32, "average rank", ha="center", va="bottom", fontsize=9)
    y = -0.55
    ax.plot([1, 1 + cd], [y, y], color="black", linewidth=1.2, gid="cd")
    for end in (1, 1 + cd):
        ax.plot([end, end], [y - 0.05, y + 0.05], color="black", linewidth=1.2)
    ax.text(1 + cd / 2, y - 0.06, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=9)


def _label(ax: Axes, name: str, rank: float, y: float, side: str, k: int) -> None:
    """An elbow from the method's rank on the axis down to y, then out to the edge with its name."""
    edge = 1 - 0.1 * k if side == "left" else k + 0.1 * k
    ax.plot([rank, rank, edge], [0, y, y], color="0.35", linewidth=0.9)
    text = f"{name} ({rank:.2f})"
    ha = "right" if side == "left" else "left"
    pad = -0.05 if side == "left" else 0.05
    ax.text(edge + pad, y, text, ha=ha, va="center", fontsize=9)
