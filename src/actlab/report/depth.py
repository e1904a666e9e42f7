"""The report's depth section: for the activations the store's studies used, mean-field theory at
initialisation — the edge-of-chaos curves, χ₁ under PyTorch's default, LeCun, He and the
edge-of-chaos initialisation, what that does to gradients over depth — and, for a few of them,
the theory against real random deep networks. Every sentence is computed from these numbers."""

from __future__ import annotations

import math
from typing import Any

import actlab
from actlab.analysis.deepnet import simulate
from actlab.analysis.maps import maps_of
from actlab.analysis.propagation import INITS, edge_curve, fixed_point, propagation, recommend
from actlab.analysis.propagation_plots import draw_layers
from actlab.core.errors import ActlabInputError
from actlab.report.figures import colours, finish_grid, plt
from actlab.report.kit import Block, Cell, Details, Figure, Paragraph, Section, Table
from actlab.report.names import counted, display

DEPTH = 50
"""The depth the words are about."""
FACTOR = 3.0
"""log10 of the change in squared gradient norm called vanishing / exploding (×1000)."""
MEASURED = 2
"""How many activations are also measured in random networks (width 1000, depth 50, 2 networks each)."""


TITLE = "Depth: signal propagation at initialisation"
INIT_NAMES = ("pytorch", "lecun", "he", "edge of chaos")


def section(activations: list[str]) -> Section | None:
    """Mean-field theory at initialisation for every analysable activation of `activations` (the store's)."""
    acts = [a for a in dict.fromkeys(activations) if _analysable(a)]
    if not acts:
        return None
    curves = {a: edge_curve(maps_of(a)) for a in acts}
    recs = {a: recommend(maps_of(a), 0.0, curves[a]) for a in acts}
    rows = {a: _row(a, recs[a]) for a in acts}
    fates = _fates(rows)
    kept = fates["pytorch"]["kept"]
    kept_words = counted([display(a) for a in kept], len(acts), "activations")
    answer = [f"Under PyTorch's default initialisation, {kept_words} keep their gradients' size over {DEPTH} "
              "layers; at the edge of chaos "
              f"{len(fates['edge of chaos']['kept'])} of {len(acts)} do."]
    figure = Figure(_curve_figure(curves), "Edge of chaos: the σw where χ₁ = 1 for each σb (missing: none there)")
    blocks: list[Block] = [Paragraph("Mean-field theory of a wide fully connected network at initialisation "
                        "(Poole et al. 2016, "
                        "Schoenholz et al. 2017): W ~ N(0, σw²/fan_in), b ~ N(0, σb²). χ₁ multiplies squared "
                        f"gradient norms at every layer; below, the number of layers after which they have changed "
                        f"by 10^{FACTOR:g} (kept: they keep their size). PyTorch's default nn.Linear draws "
                        "U(±1/√fan_in): σw = 1/√3, σb → 0 at width."),
              _fate_table(fates, len(acts)), figure,
              Details("Per activation and initialisation: σw, σb, χ₁, phase", [_table(rows)]),
              *_measured(recs)]
    return Section(TITLE, blocks, question=f"Which activations keep gradients alive over {DEPTH} layers at "
                   "initialisation?", answer=answer, figure=figure)


def _analysable(spec: str) -> bool:
    try:
        maps_of(spec)
    except ActlabInputError:
        return False
    return True


def _row(spec: str, rec: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Per initialisation: σw, σb, χ₁, phase and layers to a 10^FACTOR change of squared gradient norms."""
    maps = maps_of(spec)
    points = dict(INITS)
    if rec is not None:
        points["edge of chaos"] = (rec["sigma_w"], rec["sigma_b"])
    out = {}
    for name, (sw, sb) in points.items():
        _, length, chi1, phase, _ = fixed_point(maps, sw, sb)
        layers = math.inf if abs(math.log10(chi1)) < 1e-12 else FACTOR / abs(math.log10(chi1)) if chi1 > 0 else 1.0
        out[name] = {"sigma_w": sw, "sigma_b": sb, "chi1": chi1, "phase": phase, "layers": layers, "length": length}
    return out


def _table(rows: dict[str, dict[str, dict[str, Any]]]) -> Table:
    out = []
    for a, row in rows.items():
        cells: list[str | Cell] = [Cell(display(a), title=a)]
        for i in INIT_NAMES:
            r = row.get(i)
            if r is None:
                cells.append("—")
            elif r["length"] == "diverges":
                cells.append(f"σw={r['sigma_w']:.3g}, σb={r['sigma_b']:.3g}: the length diverges")
            else:
                cells.append(f"σw={r['sigma_w']:.3g}, σb={r['sigma_b']:.3g}: χ₁={r['chi1']:.3g} "
                             f"({r['phase']}; {_layers(r['layers'])})")
        out.append(cells)
    return Table(["activation", *INIT_NAMES], out)


def _layers(n: float) -> str:
    return "kept" if math.isinf(n) else f"×10^{FACTOR:g} in {n:.3g} layers"


def _fates(rows: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, list[str]]]:
    """Per initialisation: which activations' gradients vanish or explode within DEPTH layers, keep their size,
    or whose signal length diverges (absent: no edge of chaos on σb ∈ [0, 1])."""
    out = {}
    for init in INIT_NAMES:
        rs = {a: row[init] for a, row in rows.items() if init in row}
        diverge = sorted(a for a, r in rs.items() if r["length"] == "diverges")
        rs = {a: r for a, r in rs.items() if a not in diverge}
        vanish = sorted(a for a, r in rs.items() if r["chi1"] < 1 and r["layers"] <= DEPTH)
        explode = sorted(a for a, r in rs.items() if r["chi1"] > 1 and r["layers"] <= DEPTH)
        kept = sorted(set(rs) - set(vanish) - set(explode))
        absent = sorted(set(rows) - set(rs) - set(diverge))
        out[init] = {"kept": kept, "vanish": vanish, "explode": explode, "diverge": diverge, "absent": absent}
    return out


def _fate_table(fates: dict[str, dict[str, list[str]]], total: int) -> Table:
    """The depth findings as a table: per initialisation, the activations in each fate, counted."""
    heads = {"kept": f"keep their size over {DEPTH} layers", "vanish": f"vanish (×10^-{FACTOR:g})",
             "explode": f"explode (×10^{FACTOR:g})", "diverge": "signal length diverges",
             "absent": "no edge of chaos on σb ∈ [0, 1]"}
    rows: list[list[str | Cell]] = []
    for init, f in fates.items():
        rows.append([init, *[Cell(_names(f[k]), title=", ".join(f[k])) for k in heads]])
    return Table(["initialisation", *heads.values()], rows,
                 caption=f"Gradients over {DEPTH} layers at initialisation, of {total} activations (hover: full specs)")


def _names(specs: list[str], most: int = 6) -> str:
    """'3: relu, tanh, gelu' (up to `most` display names, then 'and N more'); '—' for none."""
    if not specs:
        return "—"
    more = f" and {len(specs) - most} more" if len(specs) > most else ""
    return f"{len(specs)}: {', '.join(display(a) for a in specs[:most])}{more}"


def _curve_figure(curves: dict[str, list[dict[str, Any]]]) -> str:
    col = colours(list(curves))
    fig, axes = plt.subplots(1, 1, figsize=(6.5, 4.2), squeeze=False)
    ax = axes[0][0]
    for a, curve in curves.items():
        pts = [(c["sigma_b"], c["sigma_w"]) for c in curve if c["sigma_w"] is not None]
        if pts:
            ax.plot(*zip(*pts), "-o", ms=2.5, color=col[a], label=display(a))
    ax.set(xlabel="σb", ylabel="σw on the edge of chaos", yscale="log")
    ax.legend(fontsize=7, ncol=2)
    return finish_grid(fig, axes, 1)


def _measured(recs: dict[str, dict[str, Any] | None]) -> list[Details]:
    """Theory against random networks (width 1000, depth 50) at each chosen activation's edge of chaos."""
    chosen = [a for a in recs if actlab.create(a).properties.elementwise][:MEASURED]
    blocks = []
    for a in chosen:
        rec = recs[a]
        if rec is None:
            continue
        sw, sb = rec["sigma_w"], rec["sigma_b"]
        theory = propagation(a, sw, sb, depth=DEPTH)
        measured = simulate(a, sw, sb, width=1000, depth=DEPTH, seeds=2)
        fig, axes = plt.subplots(1, 3, figsize=(11, 3.2), squeeze=False)
        draw_layers(list(axes[0]), theory, measured)
        fig.suptitle(f"{display(a)} at σw = {sw:.4g}, σb = {sb:g}: theory vs 2 random networks of width 1000")
        caption = f"{display(a)}: q, c and gradient norms per layer, theory vs measured"
        blocks.append(Details(caption, [Figure(finish_grid(fig, axes, 3), caption)]))
    return blocks
