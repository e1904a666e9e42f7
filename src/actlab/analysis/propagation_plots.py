"""Figures of signal propagation: the (σb, σw) phase diagram of χ₁ with the edge of chaos, and q, c
and gradient norms per layer (theory, and measured networks when given)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from actlab.analysis.propagation import Propagation, phase_diagram  # noqa: E402

SIGMA_W = np.linspace(0.05, 4.0, 80)
SIGMA_B = np.linspace(0.0, 1.0, 41)


def draw_phase(ax: Axes, target: object, result: Propagation | None = None) -> None:
    """χ₁ over (σb, σw), log colour scale centred on 1; the edge of chaos; diverging lengths hatched."""
    data = phase_diagram(target, SIGMA_W, SIGMA_B)
    chi = np.clip(np.nan_to_num(data["chi1"], nan=1.0, posinf=1e3), 1e-3, 1e3)
    mesh = ax.pcolormesh(SIGMA_B, SIGMA_W, chi.T, norm=LogNorm(0.1, 10), cmap="RdBu_r", shading="auto")
    ax.figure.colorbar(mesh, ax=ax, label="χ₁ (<1 ordered, >1 chaotic)")
    diverges = (data["outcome"] == "diverges").T.astype(float)
    if diverges.any():
        ax.contourf(SIGMA_B, SIGMA_W, diverges, levels=[0.5, 1.5], hatches=["//"], colors="none")
    if result is not None:
        pts = [(c["sigma_b"], c["sigma_w"]) for c in result.edge_of_chaos if c["sigma_w"] is not None]
        if pts:
            ax.plot(*zip(*pts), "k-o", ms=2.5, label="edge of chaos (χ₁ = 1)")
        ax.plot([result.sigma_b], [result.sigma_w], "*", color="gold", mec="k", ms=12, label="this (σb, σw)")
        ax.legend(loc="upper left", fontsize=8)
    ax.set(xlabel="σb", ylabel="σw", title="phase diagram (hatched: length diverges)", ylim=(SIGMA_W[0], SIGMA_W[-1]))


def draw_layers(axes: list[Axes], result: Propagation, measured: dict[str, Any] | None = None) -> None:
    """q, c and log10 squared gradient norm per layer: the maps, and the mean ± std of measured networks."""
    depth = np.arange(1, len(result.layers["q"]) + 1)
    labels = {"q": "length q", "c": "correlation c", "log10_grad": "log10 ‖∂L/∂h‖² (top layer = 0)"}
    for ax, key in zip(axes, ("q", "c", "log10_grad")):
        ax.plot(depth, result.layers[key], "k-", label="mean-field theory")
        if measured is not None:
            runs = np.asarray(measured[key])
            mean, std = runs.mean(0), runs.std(0)
            ax.plot(depth, mean, "C1.", ms=3, label=f"measured ({runs.shape[0]} networks)")
            ax.fill_between(depth, mean - std, mean + std, color="C1", alpha=0.25, lw=0)
        ax.set(xlabel="layer", title=labels[key])
        qs = result.layers["q"]
        if key == "q" and min(qs) > 0 and max(qs) > 10 * min(qs):
            ax.set_yscale("log")
    axes[0].legend(fontsize=8)


def figure(result: Propagation, target: object, measured: dict[str, Any] | None = None) -> Figure:
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5))
    draw_phase(axes[0][0], target, result)
    draw_layers([axes[0][1], axes[1][0], axes[1][1]], result, measured)
    fig.suptitle(f"{result.spec}: σw = {result.sigma_w:g}, σb = {result.sigma_b:g} — {result.phase}")
    fig.tight_layout()
    return fig


def save(result: Propagation, target: object, path: str | Path, measured: dict[str, Any] | None = None) -> Path:
    out = Path(path)
    fig = figure(result, target, measured)
    fig.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return out
