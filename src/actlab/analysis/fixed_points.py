"""Fixed points of the mean-field maps: q* of the length map, c* of the correlation map, and the
edge of chaos (the σw where χ₁ = 1 for a given σb).

The length map q ← F(q) = σw²·V(q) + σb² is iterated from the input's q₀ on the spline table
(vectorised over whole (σw, σb) grids), the root of F(q) − q nearest to where the iteration went
is bracketed on the table and then solved exactly (brentq on the quadrature). Outcomes, said
plainly: a fixed point; `collapses` (q → 0, only when σb = 0); `diverges` (q grows past 1e8);
`marginal` (F(q) = q for every q, relu at σw = √2, σb = 0: the length is kept whatever it is).

Edge of chaos at a given σb: χ₁ = σw²·W(q*) = 1 and q* = σw²·V(q*) + σb² together give
σw² = 1/W(q*) and g(q*) = V(q*)/W(q*) + σb² − q* = 0, one equation in q. Its roots (each one
checked to be an attracting fixed point, |F′(q*)| ≤ 1) give the curve; relu-like units, for
which g = σb² whatever q is, have one only at σb = 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.optimize import brentq

from actlab.analysis.maps import Q_MAX, Q_MIN, Maps, Table

ITERATIONS = 300
MARGINAL = 1e-9
"""|F(q) − q| ≤ MARGINAL·q on the whole table: every q is a fixed point."""


def length_fixed_point(maps: Maps, sigma_w: float, sigma_b: float, q0: float = 1.0) -> tuple[float, str]:
    """(q*, outcome) for one (σw, σb), solved exactly: outcome is 'fixed point', 'marginal',
    'collapses' (q* = 0) or 'diverges' (q* = inf)."""
    table = maps.table
    sw2, sb2 = sigma_w**2, sigma_b**2
    (estimate,), (outcome,), (bracket,) = table_fixed_points(table, np.array([sw2]), np.array([sb2]), q0)
    if outcome != "fixed point":
        return float(estimate), str(outcome)
    lo, hi = table.q[bracket], table.q[bracket + 1]
    exact = lambda q: sw2 * float(maps.moments(q)["V"][0]) + sb2 - q  # noqa: E731
    return _solve(exact, lo, hi, float(estimate)), "fixed point"


def table_fixed_points(table: Table, sw2: np.ndarray, sb2: np.ndarray, q0: float = 1.0
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised over arrays of σw², σb²: (q* estimate, outcome, index of the table bracket)."""
    q = np.full(np.broadcast(sw2, sb2).shape, float(q0))
    for _ in range(ITERATIONS):
        new = sw2 * table("V", q) + sb2
        q = np.where(np.isinf(q) | (new > Q_MAX), np.inf, new)
    grid = table.q
    h = sw2[..., None] * table.values["V"] + sb2[..., None] - grid
    marginal = (np.abs(h) <= MARGINAL * grid).all(-1)
    change = np.sign(h[..., :-1]) != np.sign(h[..., 1:])
    mid = np.log(np.sqrt(grid[:-1] * grid[1:]))
    where = np.log(np.clip(np.nan_to_num(q, posinf=Q_MAX), Q_MIN, Q_MAX))[..., None]
    dist = np.where(change, np.abs(mid - where), np.inf)
    idx = dist.argmin(-1)
    has_root = np.isfinite(np.take_along_axis(dist, idx[..., None], -1)[..., 0])
    h0, h1 = np.take_along_axis(h, idx[..., None], -1)[..., 0], np.take_along_axis(h, idx[..., None] + 1, -1)[..., 0]
    root = grid[idx] - h0 * (grid[idx + 1] - grid[idx]) / np.where(h1 == h0, 1.0, h1 - h0)
    grows = h[..., h.shape[-1] // 2] > 0  # without a root h has one sign: q grows or shrinks for ever
    diverged, collapsed = np.isinf(q) | (~has_root & grows), (q < Q_MIN) | (~has_root & ~grows)
    outcome = np.select([marginal, diverged, collapsed], ["marginal", "diverges", "collapses"], "fixed point")
    estimate = np.select([marginal, diverged, collapsed], [np.full_like(q, q0), np.inf, 0.0], root)
    return estimate, outcome, idx


def edge_of_chaos(maps: Maps, sigma_b: float, q0: float = 1.0, exact: bool = False) -> dict[str, float] | None:
    """The point of the edge of chaos at this σb: {'sigma_w', 'q_star'}, or None where χ₁ = 1 has no
    attracting solution. `exact` solves on the quadrature; otherwise on the spline table (~1e-9)."""
    table = maps.table
    grid, v, w = table.q, table.values["V"], table.values["W"]
    sb2 = sigma_b**2
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        g = v / w + sb2 - grid
    sign = np.where(np.abs(g) <= MARGINAL * (grid + sb2), 0.0, np.sign(g))  # rounding is no crossing
    if np.all(np.abs(g) <= MARGINAL * grid):  # relu-like at σb = 0: χ₁ = 1 for every q at one σw
        return {"sigma_w": 1 / math.sqrt(float(table("W", np.array(q0)))), "q_star": q0}
    fn = _exact_g(maps, sb2) if exact else (lambda q: float(table("V", q) / table("W", q)) + sb2 - q)
    for i in np.flatnonzero(sign[:-1] * sign[1:] < 0):
        q = _solve(fn, grid[i], grid[i + 1], grid[i])
        sw2 = 1 / _lookup(maps, "W", q, exact)
        if abs(sw2 * _lookup(maps, "D", q, exact)) <= 1 + 1e-6:  # an attracting (or marginal) length
            return {"sigma_w": math.sqrt(sw2), "q_star": q}
    if sb2 == 0 and _attracting_zero(table):  # φ(0) = 0: χ₁ → σw²·φ′(0)² as q → 0
        return {"sigma_w": 1 / math.sqrt(table.limit["W"]), "q_star": 0.0}
    return None


def _attracting_zero(table: Table) -> bool:
    """At σb = 0 and σw² = 1/φ′(0)²: is q = 0 a fixed point that attracts from above (F(q) < q near 0,
    as for tanh), rather than one the length runs away from (gelu: F(q) = q + 6q²/π + ...)?"""
    lim = table.limit
    if lim["W"] <= 0 or lim["V"] > 1e-150:
        return False
    h = table.values["V"] / lim["W"] - table.q
    visible = np.flatnonzero(np.abs(h) > MARGINAL * table.q)
    return visible.size > 0 and h[visible[0]] < 0


def correlation_fixed_point(maps: Maps, sigma_w: float, sigma_b: float, q_star: float, chi1: float
                            ) -> tuple[float, float]:
    """(c*, χ_c): the attracting fixed point of c ← (σw²·E[φ(u₁)φ(u₂)] + σb²)/q* and the map's slope
    there, σw²·E[φ′(u₁)φ′(u₂)]. c = 1 always maps to itself, with slope χ₁: it attracts when χ₁ ≤ 1."""
    if chi1 <= 1 + 1e-9:
        return 1.0, chi1
    sw2, sb2 = sigma_w**2, sigma_b**2
    step = lambda c: (sw2 * maps.pair(q_star, c)[0] + sb2) / q_star - c  # noqa: E731
    hi = next((1 - d for d in (1e-3, 1e-5, 1e-7, 1e-9) if step(1 - d) < 0), None)
    if hi is None or step(-1.0) < 0:
        return 1.0, chi1
    c = _solve(step, -1.0, hi, 0.0)
    return c, sw2 * maps.pair(q_star, c)[1]


def _exact_g(maps: Maps, sb2: float) -> Callable[[float], float]:
    def g(q: float) -> float:
        m = maps.moments(q)
        return float(m["V"][0] / m["W"][0]) + sb2 - q

    return g


def _lookup(maps: Maps, key: str, q: float, exact: bool) -> float:
    return float(maps.moments(q)[key][0]) if exact else float(maps.table(key, np.array(q)))


def _solve(fn: Callable[[float], float], lo: float, hi: float, fallback: float) -> float:
    """The root of fn in [lo, hi] to ~1e-15 relative; `fallback` if the bracket has no sign change."""
    flo, fhi = fn(lo), fn(hi)
    if flo == 0:
        return lo
    if fhi == 0:
        return hi
    if np.sign(flo) == np.sign(fhi):
        return fallback
    return float(brentq(fn, lo, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=200))
