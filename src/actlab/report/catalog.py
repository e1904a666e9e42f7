"""The report's catalog section: every activation the store's studies used, with declared and
measured properties side by side, and a gallery of f and f′ (colours as in the other figures)."""

from __future__ import annotations

import math

import numpy as np
import torch

import actlab
from actlab.analysis.measure import analyze_spec
from actlab.analysis.probe import probe
from actlab.core.describe import fmt_range
from actlab.core.errors import ActlabInputError
from actlab.report.figures import colours, finish_grid, plt
from actlab.report.kit import Cell, Details, Figure, Paragraph, Section, Table
from actlab.report.names import display


def _shown(name: str) -> bool:
    """An activation the catalog table can show: a spec actlab builds (the noise study's 1-D experiment stores a
    label), elementwise or mixed, and measurable on a 1-D grid (not per-channel with several channels)."""
    try:
        act = actlab.create(name)
        if name.startswith("mixed"):
            return True
        return act.properties.elementwise and analyze_spec(name) is not None
    except ActlabInputError:
        return False


TITLE = "The activations: what each one is"


def section(activations: list[str]) -> Section | None:
    """Every activation of `activations` (the store's) the analyser can measure: declared and measured
    properties side by side, and the gallery of f and f′."""
    acts = [a for a in dict.fromkeys(activations) if _shown(a)]
    if not acts:
        return None
    plain = [a for a in acts if actlab.create(a).properties.elementwise]
    rows: list[list[str | Cell]] = []
    differ: list[str] = []
    for a in plain:
        p = actlab.create(a).properties
        m = analyze_spec(a).data
        sat = m["saturation"]
        rows.append([Cell(display(a), title=a), f"{fmt_range(p.range)} / {fmt_range(tuple(m['range']))}",
                     _pair(p.monotonic, m["monotonic"]), _pair(p.zero_centered, m["zero_centered"]),
                     f"{sat['left']['kind']} / {sat['right']['kind']}", str(m["smoothness"]), f"{m['gain']:.4g}",
                     f"{m['dead_fraction']:.3g}", fmt_range(tuple(m["active_range"]))])
        if p.declared and (p.monotonic != m["monotonic"] or p.zero_centered != m["zero_centered"]):
            differ.append(display(a))
    answer = [f"{len(plain)} activations ran in this store's studies; the analyser's measurements agree with "
              f"the declared properties for {len(plain) - len(differ)} of them"
              + (f" (they differ for {', '.join(differ)})." if differ else ".")]
    table = Table(["activation", "range declared / measured", "monotonic", "zero-centred", "saturation L / R",
                   "smoothness C^k", "gain 1/√E[f²]", "dead fraction", "active range"], rows)
    return Section(TITLE, question="What is each activation the studies used?", answer=answer, blocks=[
        Paragraph("Declared properties come from the catalog; measured ones from the analyser (grid on [−25, 25], "
                  "tails to ±10⁶; gain and dead fraction under x ~ N(0, 1)). One value where both agree."),
        table,
        Details("f (solid) and f′ (dashed) of every activation in the studies",
                [Figure(gallery(plain), "f (solid) and f′ (dashed) of every activation in the studies")])])


def _pair(declared: object, measured: object) -> str:
    return str(declared) if declared == measured else f"declared {declared}, measured {measured}"


def gallery(acts: list[str]) -> str:
    col = colours(acts)
    n = len(acts)
    ncol = min(n, 4)
    nrow = math.ceil(n / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.0 * ncol, 2.4 * nrow), squeeze=False)
    x = torch.linspace(-4, 4, 801, dtype=torch.float64)
    for k, a in enumerate(acts):
        ax = axes[k // ncol][k % ncol]
        act = actlab.create(a).eval()
        with torch.no_grad():
            if act.properties.elementwise:  # the analyser's view: eval, float64, per-channel: the first channel
                f, d = probe(act).f(x).numpy(), probe(act).df(x).numpy()
            else:
                f, d = act(x).numpy(), act.derivative(x).numpy()
        ax.plot(x, f, color=col[a], lw=1.6, label="f")
        ax.plot(x, d, color=col[a], lw=1.2, ls="--", label="f′")
        ax.axhline(0, color="0.7", lw=0.6)
        ax.axvline(0, color="0.7", lw=0.6)
        lo, hi = np.nanmin(np.r_[f, d]), np.nanmax(np.r_[f, d])
        ax.set_ylim(max(lo, -4) - 0.2, min(hi, 4) + 0.2)
        ax.set_title(display(a), fontsize=9)
        ax.set_xlabel("x", fontsize=8)
        ax.tick_params(labelsize=7)
        if k == 0:
            ax.legend(fontsize=7, loc="upper left")
    return finish_grid(fig, axes, n)
