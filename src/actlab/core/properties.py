"""Declared properties of an activation: a frozen dataclass that every surface reads.

The conformance suite, the analyser, the CLI tables and the docs all read these fields;
nothing in actlab branches on a class name instead.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

Saturation = Literal["none", "soft", "hard"]

INF = math.inf


@dataclass(frozen=True)
class Kink:
    """A point where f' jumps (or f itself, for discontinuous functions).

    `derivative` is the value `derivative(x)` returns exactly at `at` (the library's
    documented convention, which matches torch.nn wherever torch has the function).
    """

    at: float
    derivative: float


@dataclass(frozen=True)
class Properties:
    """What the catalog declares about one activation, for its constructor's arguments.

    Learnable parameters are declared at their initial values; training may move them.
    """

    formula: str
    """f(x) in plain text (Unicode maths)."""
    derivative_formula: str
    """f'(x) in plain text; for non-elementwise activations, the vector-Jacobian product."""
    range: tuple[float, float]
    """(infimum, supremum) of f over the reals; ±inf allowed. True extremes, not asymptotes of a plot."""
    monotonic: bool
    """f is non-decreasing on the whole real line."""
    zero_centered: bool
    """f(0) = 0 and f takes both signs (so relu is not zero-centred, tanh is)."""
    saturation_left: Saturation = "none"
    """Gulcehre et al. 2016: 'hard' if f'(x) = 0 for all x below a threshold, 'soft' if f'(x) → 0 only as x → −∞."""
    saturation_right: Saturation = "none"
    """As `saturation_left`, for x → +∞."""
    threshold_left: float | None = None
    """For hard left saturation, the largest c with f'(x) = 0 for all x < c."""
    threshold_right: float | None = None
    """For hard right saturation, the smallest c with f'(x) = 0 for all x > c."""
    kinks: tuple[Kink, ...] = ()
    """Points where f' (or f) jumps, with the derivative value returned there."""
    smoothness: float = INF
    """Largest k with f ∈ Cᵏ on the reals: inf if smooth, 0 if continuous with kinks, -1 if discontinuous."""
    periodic: float | None = None
    """The period if f is periodic, else None."""
    elementwise: bool = True
    """y_i depends on x_i only (softmax, glu, meta_acon and mixed are not)."""
    stochastic: bool = False
    """The output is random in train(); eval() returns the documented expectation."""
    learnable: tuple[str, ...] = ()
    """Names of the learnable parameters (nn.Parameter attributes)."""
    reference: str = ""
    """Where the function comes from (paper or library)."""
    declared: bool = True
    """False for formulas typed by a user: nothing is declared, the analyser measures instead."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: infinities as the strings 'inf' / '-inf'."""
        d = asdict(self)
        d["range"] = [_json_float(v) for v in self.range]
        d["kinks"] = [{"at": _json_float(k.at), "derivative": k.derivative} for k in self.kinks]
        d["smoothness"] = _json_float(self.smoothness)
        d["learnable"] = list(self.learnable)
        return d


def _json_float(v: float) -> float | str:
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def combine(parts: list[Properties], formula: str, derivative_formula: str, reference: str) -> Properties:
    """Properties of a layer that applies each of `parts` to its own group of units."""
    los, his = zip(*(p.range for p in parts))
    sat = {"none": 0, "soft": 1, "hard": 2}
    worst_left = min((p.saturation_left for p in parts), key=sat.__getitem__)
    worst_right = min((p.saturation_right for p in parts), key=sat.__getitem__)
    return Properties(
        formula=formula,
        derivative_formula=derivative_formula,
        range=(min(los), max(his)),
        monotonic=all(p.monotonic for p in parts),
        zero_centered=all(p.zero_centered for p in parts),
        saturation_left=worst_left,
        saturation_right=worst_right,
        kinks=tuple(sorted({k for p in parts for k in p.kinks}, key=lambda k: k.at)),
        smoothness=min(p.smoothness for p in parts),
        periodic=None,
        elementwise=False,
        stochastic=any(p.stochastic for p in parts),
        learnable=tuple(n for p in parts for n in p.learnable),
        reference=reference,
    )


# Shared constants of the x·σ(x) family (computed independently in tests with mpmath).
SWISH_MIN = -0.27846454276107380
"""min over x of x·sigmoid(x), attained at x = −1.2784645427610738."""
SWISH_ARGMIN = -1.2784645427610738
SWISH_SLOPE_MIN = -0.099839320128866916958
"""min over x of d/dx[x·sigmoid(x)], at x = −2.3993572805154677."""
SWISH_SLOPE_MAX = 1.099839320128866917
"""max over x of d/dx[x·sigmoid(x)], at x = +2.3993572805154677."""
