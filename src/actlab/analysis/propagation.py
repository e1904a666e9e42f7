"""`propagation`: signal propagation at initialisation (mean-field theory) for any elementwise activation.

Poole et al. 2016 ("Exponential expressivity in deep neural networks through transient chaos"),
Schoenholz et al. 2017 ("Deep information propagation"), Hayou et al. 2019 ("On the impact of the
activation function on deep neural networks training"): a wide fully connected network with
W ~ N(0, σw²/n), b ~ N(0, σb²) carries, layer after layer,
- the length q of a pre-activation: q ← σw²·E[φ(√q·z)²] + σb², to q* (or to 0, or to infinity);
- the correlation c of two inputs: c ← (σw²·E[φ(u₁)φ(u₂)] + σb²)/q*, to c*;
- squared gradient norms, multiplied per layer by χ₁ = σw²·E[φ′(√q*·z)²]: χ₁ < 1 is the ordered
  phase (gradients vanish, all inputs end up alike), χ₁ > 1 the chaotic one (gradients explode,
  nearby inputs decorrelate), χ₁ = 1 the edge of chaos.
Depth scales: ξ_q = −1/ln F′(q*) layers for the length to settle, ξ_c = −1/ln χ_c for correlation
information to fade (χ_c the correlation map's slope at c*; infinite on the edge of chaos).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from actlab.analysis.fixed_points import correlation_fixed_point, edge_of_chaos, length_fixed_point, table_fixed_points
from actlab.analysis.maps import Q_MAX, Maps, maps_of
from actlab.core.errors import ParameterError
from actlab.core.threads import on_one_thread

EDGE_TOLERANCE = 1e-6
"""|χ₁ − 1| below this is the edge of chaos."""
SIGMA_B_GRID = tuple(float(v) for v in np.round(np.linspace(0.0, 1.0, 21), 10))
INITS = {"pytorch": (1 / math.sqrt(3), 0.0), "lecun": (1.0, 0.0), "he": (math.sqrt(2), 0.0)}
"""Named initialisations as (σw, σb) in the wide limit. PyTorch's nn.Linear default draws
U(±1/√fan_in) for weights and biases: variance 1/(3·fan_in), so σw = 1/√3 and σb² = 1/(3·fan_in) → 0."""


@dataclass
class Propagation:
    """What mean-field theory says about one activation at one (σw, σb); `to_dict()` is the JSON."""

    spec: str
    sigma_w: float
    sigma_b: float
    q_star: float
    length: str
    """'fixed point', 'marginal' (every q is kept), 'collapses' (q* = 0) or 'diverges' (q* = inf)."""
    length_slope: float
    chi1: float
    phase: str
    c_star: float | None
    chi_c: float | None
    xi_q: float
    xi_c: float | None
    edge_of_chaos: list[dict[str, Any]] = field(default_factory=list)
    recommended: dict[str, Any] | None = None
    layers: dict[str, list[float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def sentence(self) -> str:
        """The verdict in words, from the numbers."""
        if self.length in ("diverges", "collapses"):
            where = "grows without bound" if self.length == "diverges" else "shrinks to 0"
            return f"{self.spec} at σw={self.sigma_w:g}, σb={self.sigma_b:g}: the signal's length {where}."
        grad = "vanish" if self.chi1 < 1 else "explode"
        fade = self.xi_c is not None and math.isfinite(self.xi_c)
        scale = f"; correlations fade over ξ_c = {self.xi_c:.3g} layers" if fade else ""
        if self.phase == "edge of chaos":
            return f"{self.spec} at σw={self.sigma_w:g}, σb={self.sigma_b:g} is on the edge of chaos (χ₁ = 1)."
        return (f"{self.spec} at σw={self.sigma_w:g}, σb={self.sigma_b:g} is {self.phase}: χ₁ = {self.chi1:.4g}, "
                f"gradients {grad} by ×{self.chi1 ** 50:.3g} in squared norm over 50 layers{scale}.")


@on_one_thread
def propagation(target: object, sigma_w: float = 1.0, sigma_b: float = 0.0, *, q0: float = 1.0, c0: float = 0.5,
                depth: int = 50, sigma_b_grid: tuple[float, ...] = SIGMA_B_GRID) -> Propagation:
    """Mean-field signal propagation through a deep fully connected network of `target`.

    `target`: a name or spec ('tanh', 'expr:x*sigmoid(x)'), an elementwise activation module, a
    callable on tensors, or `mixed(...)` (its groups averaged). `q0`, `c0`: the first layer's
    pre-activation length and the two inputs' correlation, for the per-layer curves over `depth`
    layers. The edge of chaos is given for each σb of `sigma_b_grid`; the recommended
    initialisation is its point at `sigma_b` (or the nearest σb that has one)."""
    _check(sigma_w, sigma_b, q0, c0, depth)
    maps = maps_of(target)
    q_star, length, chi1, phase, slope = fixed_point(maps, sigma_w, sigma_b, q0)
    c_star = chi_c = xi_c = None
    if length in ("fixed point", "marginal") and q_star > 0:
        c_star, chi_c = correlation_fixed_point(maps, sigma_w, sigma_b, q_star, chi1)
        xi_c = _depth_scale(chi_c)
    curve = edge_curve(maps, q0, sigma_b_grid)
    return Propagation(maps.name, sigma_w, sigma_b, q_star, length, slope, chi1, phase, c_star, chi_c,
                       _depth_scale(abs(slope)) if length == "fixed point" else math.inf, xi_c, curve,
                       recommend(maps, sigma_b, curve, q0), layers(maps, sigma_w, sigma_b, q0, c0, depth))


def fixed_point(maps: Maps, sigma_w: float, sigma_b: float, q0: float = 1.0) -> tuple[float, str, float, str, float]:
    """(q*, length outcome, χ₁, phase, F′(q*)) at one (σw, σb); χ₁ at q → 0 or at q = 1e8 where the length
    collapses or diverges (the slope gradients are multiplied by, deep in the network)."""
    q_star, length = length_fixed_point(maps, sigma_w, sigma_b, q0)
    m = maps.moments(min(q_star, Q_MAX) if length != "collapses" else 1e-200)
    chi1 = sigma_w**2 * float(m["W"][0])
    slope = sigma_w**2 * float(m["D"][0]) if length == "fixed point" else float("nan")
    phase = "edge of chaos" if abs(chi1 - 1) <= EDGE_TOLERANCE else "ordered" if chi1 < 1 else "chaotic"
    return q_star, length, chi1, phase, slope


def edge_curve(maps: Maps, q0: float = 1.0, sigma_b_grid: tuple[float, ...] = SIGMA_B_GRID) -> list[dict[str, Any]]:
    """The edge of chaos at each σb of the grid: {'sigma_b', 'sigma_w', 'q_star'}, None where there is none."""
    return [{"sigma_b": b, **(edge_of_chaos(maps, b, q0) or {"sigma_w": None, "q_star": None})} for b in sigma_b_grid]


def recommend(maps: Maps, sigma_b: float, curve: list[dict[str, Any]], q0: float = 1.0) -> dict[str, Any] | None:
    """The edge-of-chaos point at σb (solved exactly), else at the nearest σb of the curve that has one."""
    point = edge_of_chaos(maps, sigma_b, q0, exact=True)
    if point is not None:
        return {"sigma_w": point["sigma_w"], "sigma_b": sigma_b, "q_star": point["q_star"], "note": "edge of chaos"}
    found = [c for c in curve if c["sigma_w"] is not None]
    if not found:
        return None
    near = min(found, key=lambda c: abs(c["sigma_b"] - sigma_b))
    point = edge_of_chaos(maps, near["sigma_b"], q0, exact=True) or near
    return {"sigma_w": point["sigma_w"], "sigma_b": near["sigma_b"], "q_star": point["q_star"],
            "note": f"no edge of chaos at σb = {sigma_b:g}; nearest σb with one"}


def layers(maps: Maps, sigma_w: float, sigma_b: float, q0: float, c0: float, depth: int) -> dict[str, list[float]]:
    """Per layer l = 1..depth: q, c, χ(q) and log10 of ‖∂L/∂h^l‖² / ‖∂L/∂h^depth‖² (the backward pass
    multiplies squared gradient norms by χ(q^l) = σw²·E[φ′(√q^l·z)²] at each layer it crosses)."""
    sw2, sb2 = sigma_w**2, sigma_b**2
    qs, cs, chis = [q0], [c0], []
    for _ in range(depth):
        q, c = qs[-1], cs[-1]
        m = maps.moments(q)
        chis.append(sw2 * float(m["W"][0]))
        if len(qs) == depth:
            break
        q_next = sw2 * float(m["V"][0]) + sb2
        finite = math.isfinite(q_next) and q > 0 and q_next > 0
        cs.append((sw2 * maps.pair(q, c)[0] + sb2) / q_next if finite else math.nan)
        qs.append(q_next)
    logs = np.log10(np.maximum(chis, 1e-300))
    grad = [float(logs[i:-1].sum()) for i in range(depth)]
    return {"q": qs, "c": cs, "chi": chis, "log10_grad": grad}


@on_one_thread
def phase_diagram(target: object, sigma_w: np.ndarray, sigma_b: np.ndarray, q0: float = 1.0) -> dict[str, np.ndarray]:
    """χ₁ and the length outcome on the grid sigma_b × sigma_w (arrays of shape (len(σb), len(σw)))."""
    maps = maps_of(target)
    sw2, sb2 = np.meshgrid(np.asarray(sigma_w) ** 2, np.asarray(sigma_b) ** 2)
    q, outcome, _ = table_fixed_points(maps.table, sw2, sb2, q0)
    chi1 = sw2 * maps.table("W", np.where(outcome == "collapses", 0.0, np.nan_to_num(q, posinf=Q_MAX)))
    return {"chi1": chi1, "outcome": outcome, "q_star": q}


def _depth_scale(slope: float) -> float:
    """−1/ln(slope): the layers over which a deviation shrinks by e; infinite at slope ≥ 1."""
    if not 0 < slope < 1:
        return math.inf if slope >= 1 or slope != slope else 0.0
    return -1 / math.log(slope)


def _check(sigma_w: float, sigma_b: float, q0: float, c0: float, depth: int) -> None:
    for name, v in (("sigma_w", sigma_w), ("sigma_b", sigma_b), ("q0", q0)):
        if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0 or (name != "sigma_b" and v == 0):
            raise ParameterError(f"{name} must be a finite number > 0 (sigma_b ≥ 0), got {v!r}")
    if not isinstance(c0, (int, float)) or not -1 <= c0 <= 1:
        raise ParameterError(f"c0 must be a correlation in [-1, 1], got {c0!r}")
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
        raise ParameterError(f"depth must be an integer ≥ 1, got {depth!r}")
