"""The report's depth section: for the activations the store's studies used, mean-field theory at
initialisation — the edge-of-chaos curves, χ₁ under PyTorch's default, LeCun, He and the
edge-of-chaos initialisation, what that does to gradients over depth — and, for a few of them,
the theory against real random deep networks. Every sentence is computed from these numbers."""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import actlab
from actlab.analysis.deepnet import simulate
from actlab.analysis.maps import maps_of
from actlab.analysis.propagation import INITS, edge_curve, fixed_point, propagation, recommend
from actlab.analysis.propagation_plots import draw_layers
from actlab.core.errors import ActlabInputError
from actlab.report.figures import colours, finish_grid, plt
from actlab.report.single_sample import Section, _img
from actlab.results.store import Store

DEPTH = 50
"""The depth the words are about."""
FACTOR = 3.0
"""log10 of the change in squared gradient norm called vanishing / exploding (×1000)."""
MEASURED = 2
"""How many activations are also measured in random networks (width 1000, depth 50, 2 networks each)."""


def section(store: str | Path) -> Section | None:
    with Store(store, create=False) as s:
        acts = [a for a in s.distinct("activation") if _analysable(a)]
    if not acts:
        return None
    curves = {a: edge_curve(maps_of(a)) for a in acts}
    recs = {a: recommend(maps_of(a), 0.0, curves[a]) for a in acts}
    rows = {a: _row(a, recs[a]) for a in acts}
    findings = _findings(rows)
    body = ("<p>Mean-field theory of a wide fully connected network at initialisation (Poole et al. 2016, "
            "Schoenholz et al. 2017): W ~ N(0, σw²/fan_in), b ~ N(0, σb²). χ₁ multiplies squared gradient norms "
            f"at every layer; below, the number of layers after which they have changed by 10^{FACTOR:g} "
            "(kept: they keep their size). PyTorch's default nn.Linear draws U(±1/√fan_in): σw = 1/√3, σb → 0 at "
            "width.</p>" + _table(rows) + "<ul>" + "".join(f"<li>{html.escape(f)}</li>" for f in findings) + "</ul>"
            + _img(_curve_figure(curves), "Edge of chaos: the σw where χ₁ = 1 for each σb (missing: none there)")
            + _measured(recs))
    return Section("Depth: signal propagation at initialisation", findings, body)


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


def _table(rows: dict[str, dict[str, dict[str, Any]]]) -> str:
    inits = ["pytorch", "lecun", "he", "edge of chaos"]
    head = "".join(f"<th>{html.escape(i)}</th>" for i in inits)
    body = []
    for a, row in rows.items():
        cells = []
        for i in inits:
            r = row.get(i)
            if r is None:
                cells.append("—")
            elif r["length"] == "diverges":
                cells.append(f"σw={r['sigma_w']:.3g}, σb={r['sigma_b']:.3g}: the length diverges")
            else:
                cells.append(f"σw={r['sigma_w']:.3g}, σb={r['sigma_b']:.3g}: χ₁={r['chi1']:.3g} "
                             f"({r['phase']}; {_layers(r['layers'])})")
        body.append(f"<tr><td>{html.escape(a)}</td>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    return f"<table><thead><tr><th>activation</th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _layers(n: float) -> str:
    return "kept" if math.isinf(n) else f"×10^{FACTOR:g} in {n:.3g} layers"


def _findings(rows: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    """One sentence per initialisation: which activations vanish or explode within DEPTH layers."""
    out = []
    for init in ("pytorch", "lecun", "he", "edge of chaos"):
        rs = {a: row[init] for a, row in rows.items() if init in row}
        diverge = sorted(a for a, r in rs.items() if r["length"] == "diverges")
        rs = {a: r for a, r in rs.items() if a not in diverge}
        vanish = sorted(a for a, r in rs.items() if r["chi1"] < 1 and r["layers"] <= DEPTH)
        explode = sorted(a for a, r in rs.items() if r["chi1"] > 1 and r["layers"] <= DEPTH)
        kept = sorted(set(rs) - set(vanish) - set(explode))
        parts = [f"gradients vanish (×10^-{FACTOR:g} within {DEPTH} layers) for {', '.join(vanish)}" if vanish else "",
                 f"explode (×10^{FACTOR:g}) for {', '.join(explode)}" if explode else "",
                 f"keep their size over {DEPTH} layers for {', '.join(kept)}" if kept else "",
                 f"the signal's length grows without bound for {', '.join(diverge)}" if diverge else ""]
        out.append(f"Under the {init} initialisation " + "; ".join(p for p in parts if p) + ".")
    missing = sorted(a for a, row in rows.items() if "edge of chaos" not in row)
    if missing:
        out.append(f"No edge of chaos on σb ∈ [0, 1] for: {', '.join(missing)}.")
    return out


def _curve_figure(curves: dict[str, list[dict[str, Any]]]) -> str:
    col = colours(list(curves))
    fig, axes = plt.subplots(1, 1, figsize=(6.5, 4.2), squeeze=False)
    ax = axes[0][0]
    for a, curve in curves.items():
        pts = [(c["sigma_b"], c["sigma_w"]) for c in curve if c["sigma_w"] is not None]
        if pts:
            ax.plot(*zip(*pts), "-o", ms=2.5, color=col[a], label=a)
    ax.set(xlabel="σb", ylabel="σw on the edge of chaos", yscale="log")
    ax.legend(fontsize=7, ncol=2)
    return finish_grid(fig, axes, 1)


def _measured(recs: dict[str, dict[str, Any] | None]) -> str:
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
        fig.suptitle(f"{a} at σw = {sw:.4g}, σb = {sb:g}: theory vs 2 random networks of width 1000")
        blocks.append(_img(finish_grid(fig, axes, 3), f"{a}: q, c and gradient norms per layer, theory vs measured"))
    return "".join(blocks)
