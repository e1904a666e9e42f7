"""Figures of activations: f, f' (and f'') for one or many, kinks and saturation thresholds marked.

matplotlib with the Agg backend: no display needed. Colours follow one fixed cycle in the
order the activations are given, so a figure and its legend always agree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from actlab.analysis.measure import Report, analyze  # noqa: E402
from actlab.analysis.probe import probe  # noqa: E402

COLOURS = [plt.get_cmap("tab10")(i) for i in range(10)]
PLOTTABLE = 1e150
"""Values larger in magnitude (and ±inf, nan) are left out of a curve."""


def plot(targets: Sequence[object], path: str | Path, *, derivatives: bool = False, second: bool = False,
         xlim: tuple[float, float] = (-5.0, 5.0), size: tuple[float, float] | None = None, title: str | None = None,
         dpi: int = 120) -> Path:
    """Plot f (and f', f'') of each target into `path` (.png, .svg or .pdf); return the path."""
    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg", ".pdf"):
        from actlab.core.errors import ParameterError

        raise ParameterError(f"plot file must end in .png, .svg or .pdf, got {path.name!r}")
    panels = 1 + bool(derivatives or second) + bool(second)
    fig, axes = plt.subplots(1, panels, figsize=size or (4.2 * panels + 0.6, 3.6), squeeze=False)
    x = torch.linspace(xlim[0], xlim[1], 2001, dtype=torch.float64)
    names = []
    for k, target in enumerate(targets):
        p = probe(target)
        names.append(p.name)
        rep = analyze(target, cost=False)
        colour = COLOURS[k % len(COLOURS)]
        y, d = p.f(x), p.df(x)
        curves = [y, d, _second(p, x)][:panels]
        for ax, c in zip(axes[0], curves):
            shown = torch.where(c.abs() <= PLOTTABLE, c, math.nan)  # beyond: a gap (matplotlib's limits overflow)
            ax.plot(x.numpy(), shown.numpy(), color=colour, lw=1.8, label=p.name)
        _mark(axes[0], rep, colour, xlim)
    for ax, label in zip(axes[0], ("f(x)", "f'(x)", "f''(x)")):
        ax.set_xlabel("x", fontsize=11)
        ax.set_ylabel(label, fontsize=11)
        ax.set_title(label, fontsize=12)
        ax.axhline(0, color="0.75", lw=0.8, zorder=0)
        ax.axvline(0, color="0.75", lw=0.8, zorder=0)
        ax.grid(alpha=0.25)
        ax.tick_params(labelsize=9)
    if len(names) > 1:
        axes[0][0].legend(fontsize=8, loc="best")
    if title or len(names) == 1:
        fig.suptitle(title or names[0], fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def _second(p, x: torch.Tensor) -> torch.Tensor:
    """f'' by central differences of the closed-form f' (kinks show as spikes, clipped)."""
    h = 1e-4
    dd = (p.df(x + h) - p.df(x - h)) / (2 * h)
    return dd.clamp(-50, 50)


def _mark(axes, rep: Report, colour, xlim: tuple[float, float]) -> None:
    """Kinks as dotted lines; hard-saturation thresholds as dashed ones (none where undefined)."""
    for k in rep["kinks"] or []:
        if xlim[0] <= k <= xlim[1]:
            for ax in axes:
                ax.axvline(k, color=colour, ls=":", lw=1.0, alpha=0.8)
    for side in ("left", "right") if rep["saturation"] is not None else ():
        t = rep["saturation"][side]["threshold"]
        if t is not None and math.isfinite(t) and xlim[0] <= t <= xlim[1]:
            for ax in axes:
                ax.axvline(t, color=colour, ls="--", lw=1.0, alpha=0.6)
