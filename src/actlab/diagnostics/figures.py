"""From the monitor's tensors to numbers and pictures: batched conversion, quantiles, histograms (range,
bins, shares), and the figures (histogram heat maps over training, saturated / dead fractions, gradient flow).

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no display, no global state);
matplotlib is imported only when a figure is drawn.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import torch
from torch import Tensor

if TYPE_CHECKING:
    from matplotlib.figure import Figure

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


class Histogram(NamedTuple):
    """Pre-activation histograms of one layer over the recorded steps.

    `fractions[i, k]`: share of step `steps[i]`'s inputs in bin k. Bin 0 is (−∞, edges[0]), bins 1 to
    B are [edges[k−1], edges[k]), bin B + 1 is [edges[B], ∞); the edges are fixed at the first record.
    """

    edges: np.ndarray
    steps: np.ndarray
    fractions: np.ndarray


def histogram_edges(active_range: tuple[float, float], q01: float, q99: float, bins: int) -> np.ndarray:
    """The B + 1 inner edges: the activation's active range (|f'| ≥ 10 % of max|f'|), an infinite end
    replaced by the first record's 1 % / 99 % quantile, then widened by half its width on each side."""
    lo, hi = active_range
    lo, hi = (lo if math.isfinite(lo) else q01), (hi if math.isfinite(hi) else q99)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = -1.0, 1.0
    if hi - lo < 1e-6:
        lo, hi = lo - 0.5, hi + 0.5
    w = hi - lo
    return np.linspace(lo - w / 2, hi + w / 2, bins + 1)


def to_numpy(tensors: list[Tensor]) -> list[np.ndarray]:
    """Many tensors as flat numpy arrays of their own dtypes (float16 and bfloat16 as float32): on the CPU
    without a copy, elsewhere in one transfer per device and dtype."""
    out: list[np.ndarray] = [np.empty(0)] * len(tensors)
    groups: dict[tuple[torch.device, torch.dtype], list[int]] = {}
    for i, t in enumerate(tensors):
        groups.setdefault((t.device, t.dtype), []).append(i)
    for (device, dtype), idx in groups.items():
        flat = [tensors[i].reshape(-1) for i in idx]
        if device.type != "cpu":
            flat = list(torch.cat(flat).cpu().split([t.numel() for t in flat]))
        for i, t in zip(idx, flat):
            out[i] = (t.float() if dtype in (torch.float16, torch.bfloat16) else t).numpy()
    return out


def scalars(tensors: list[Tensor]) -> np.ndarray:
    """Many 0-d tensors as one float64 array: one stack and one transfer per device (dtypes promoted)."""
    devices = {t.device for t in tensors}
    if len(devices) == 1:
        return to_numpy([torch.stack(tensors)])[0].astype(np.float64)
    out = np.empty(len(tensors))
    for device in devices:
        idx = [i for i, t in enumerate(tensors) if t.device == device]
        out[idx] = to_numpy([torch.stack([tensors[i] for i in idx])])[0]
    return out


def quantiles(rows: np.ndarray) -> np.ndarray:
    """QUANTILES of each row of `rows` sorted along axis 1 (r × n -> r × 7), with torch.quantile's (and
    numpy's) linear interpolation; a row holding nan (sorted last) gives nan."""
    n = rows.shape[1]
    pos = np.asarray(QUANTILES) * (n - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    with np.errstate(invalid="ignore"):  # −inf and inf as neighbours interpolate to nan, as in numpy
        q = rows[:, lo] + (pos - lo) * (rows[:, hi] - rows[:, lo])
    q[np.isnan(rows[:, -1])] = np.nan
    return q


def shares(rows: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Share of each row's values per bin, rows sorted along axis 1 (r × n with r × (B + 1) edges ->
    r × (B + 2)): below edges[0], the B inner bins [edges[k−1], edges[k]), at or above edges[B]; nan in none."""
    below = np.stack([np.searchsorted(row, e) for row, e in zip(rows, edges)])  # how many < each edge
    numbers = (~np.isnan(rows)).sum(axis=1, keepdims=True)
    counts = np.diff(below, axis=1, prepend=0, append=numbers)
    return counts / rows.shape[1]


Series = Callable[[str], Mapping[str, tuple[list[int], list[float]]]]
"""metric -> {layer: (steps, values)}"""

FLOOR = 1e-4
"""Shares below this are drawn as empty in the heat maps (log colour scale)."""


def write_figures(directory: Path, histograms: Mapping[str, Any], series: Series) -> list[Path]:
    """histograms.png, saturation.png and gradients.png in `directory` (created if needed); their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / "histograms.png", directory / "saturation.png", directory / "gradients.png"]
    _save(_heat_maps(histograms), paths[0])
    _save(_curves(series, [("saturated_fraction", "saturated fraction of inputs", "share"),
                           ("dead_fraction", "dead fraction of units", "share")]), paths[1])
    _save(_curves(series, [("grad_norm", "‖∂L/∂a‖ per activation layer", "log"),
                           ("param_grad_norm", "‖∂L/∂w‖ per parameter", "log"),
                           ("update_ratio", "‖Δw‖ / ‖w‖ per parameter", "log")]), paths[2])
    return paths


def _save(fig: Figure, path: Path) -> None:
    fig.savefig(path, dpi=110)


def _heat_maps(histograms: Mapping[str, Any]) -> Figure:
    """One panel per layer: x = recorded step, y = pre-activation bin, colour = share of inputs (log scale).

    The outer bins (everything below / above the fixed range) are drawn one bin wide at the edges,
    marked by dashed lines."""
    n = len(histograms)
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    from matplotlib.colors import LogNorm
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.6 * cols, 3.4 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, (name, h) in zip(axes, histograms.items()):
        edges, steps, frac = h.edges, h.steps, h.fractions
        w = edges[1] - edges[0]
        y = np.concatenate([[edges[0] - w], edges, [edges[-1] + w]])
        x = _step_edges(steps)
        data = np.ma.masked_less(frac.T, FLOOR)
        mesh = ax.pcolormesh(x, y, data, norm=LogNorm(vmin=FLOOR, vmax=1.0), cmap="viridis", shading="flat")
        for e in (edges[0], edges[-1]):
            ax.axhline(e, color="white", lw=0.8, ls="--")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("step")
        ax.set_ylabel("pre-activation")
        fig.colorbar(mesh, ax=ax, label="share of inputs")
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig


def _step_edges(steps: np.ndarray) -> np.ndarray:
    """Cell edges around each recorded step (one step wide when only one was recorded)."""
    s = steps.astype(float)
    if len(s) == 1:
        return np.array([s[0] - 0.5, s[0] + 0.5])
    mid = (s[1:] + s[:-1]) / 2
    return np.concatenate([[s[0] - (mid[0] - s[0])], mid, [s[-1] + (s[-1] - mid[-1])]])


def _curves(series: Series, panels: list[tuple[str, str, str]]) -> Figure:
    """One panel per metric, one line per layer (or parameter); scale "share" (0 to 1) or "log"."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.2 * len(panels), 3.6), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (metric, title, scale) in zip(axes, panels):
        lines = series(metric)
        positive = False
        for name, (steps, values) in lines.items():
            v = np.asarray(values, dtype=float)
            if scale == "log":
                v = np.where(v > 0, v, np.nan)  # a zero norm has no place on a log axis
                positive = positive or bool(np.isfinite(v).any())
            ax.plot(steps, v, lw=1.4, label=name)
        if scale == "share":
            ax.set_ylim(-0.03, 1.03)
        elif positive:
            ax.set_yscale("log")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step")
        ax.grid(alpha=0.25)
        if lines:
            ax.legend(fontsize=7, ncol=1 + len(lines) // 8)
        else:
            ax.text(0.5, 0.5, "nothing recorded", ha="center", va="center", transform=ax.transAxes)
    return fig
