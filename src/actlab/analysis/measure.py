"""`analyze`: measured properties of one elementwise activation (the keys of `Report.to_dict()`).

A measurement that does not exist for the function at hand (f or f' is nan where it is taken, as
for log(x) or 0/0, or it is ∞ − ∞) is None, and `undefined` maps its key to the reason: a report
never holds nan. Infinities are kept as floats (`math.inf`); JSON output writes them as strings
(`actlab.cli.jsonout`).
"""

from __future__ import annotations

import copy
import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from actlab.analysis.probe import (
    FAR,
    INNER,
    Probe,
    bisect,
    central_grid,
    golden,
    nice,
    probe,
    scalar,
    tail,
)
from actlab.core.activation import auto_fuse
from actlab.core.errors import ParameterError

INF = math.inf


@dataclass
class Report:
    """Measured properties.

    `to_dict()` is plain Python: numbers are floats, infinities are `math.inf` / `-math.inf`,
    and nan never appears: a measurement that does not exist is None and `undefined` (always
    present, `{}` when everything was measured) maps its key to the reason. `actlab analyze
    --json` prints this dict, with ±inf written as the strings 'inf' / '-inf'
    (`actlab.cli.jsonout.dumps`, the one JSON boundary)."""

    spec: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy({"spec": self.spec, **self.data})

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


class _Undefined(Exception):
    """Raised by a measurement that does not exist for this function; the message says why."""


def analyze(target: object, *, active_fraction: float = 0.1, cost: bool = True) -> Report:
    """Measure what an activation is: range, extrema, monotonicity, kinks, smoothness, saturation,
    fixed points, output moments under N(0, 1), gain, dead fraction, active range, cost.

    `target`: a name or spec ('gelu', 'snake(a=0.5)', 'expr:x*sigmoid(x)'), an nn.Module or a
    callable on tensors. Stochastic activations are measured in eval() (their expectation).
    """
    if not 0 < active_fraction < 1:
        raise ParameterError(f"active_fraction must be in (0, 1), got {active_fraction}")
    p = probe(target)
    s = _Samples(p)
    data: dict[str, Any] = {}
    undefined: dict[str, str] = {}

    def take(needs: tuple[str | None, ...], fn: Callable[[], dict[str, Any]], *keys: str) -> None:
        """Run one measurement unless the samples it needs hold nan; record why a key is undefined."""
        reason = next((r for r in needs if r), None)
        if reason is None:
            try:
                out = fn()
            except _Undefined as e:
                reason = str(e)
        if reason is not None:
            out = dict.fromkeys(keys)
            undefined.update(dict.fromkeys(keys, reason))
        for key, value in out.items():
            if _has_nan(value):  # an unforeseen ∞ − ∞ or 0·∞: undefined, never a nan in the report
                out[key] = None
                undefined[key] = "not a number in float64: f or f' overflows where this is measured"
        data.update(out)

    take((s.f_nan,), lambda: _range(s), "minimum", "maximum", "range")
    take((s.f_nan, s.d_grid_nan), lambda: {"monotonic": _monotonic(s)}, "monotonic")
    take((s.f_nan,), lambda: {"zero_centered": _zero_centered(s, data["range"])}, "zero_centered")
    take((s.f_grid_nan, s.d_grid_nan), lambda: _smoothness(s), "kinks", "smoothness")
    take((s.d_nan,), lambda: _derivative_range(s), "derivative_range", "lipschitz")
    take((s.d_nan,), lambda: {"saturation": {"left": _saturation(s, -1), "right": _saturation(s, 1)}},
         "saturation")
    take((s.f_nan,), lambda: {"fixed_points": _fixed_points(s)}, "fixed_points")
    take((s.f_grid_nan,), lambda: _moments(s), "output_moments", "gain")
    take((s.d_grid_nan,), lambda: {"dead_fraction": _dead_fraction(s)}, "dead_fraction")
    data["active_fraction"] = active_fraction
    take((s.d_nan,), lambda: {"active_range": _active_range(s, active_fraction)}, "active_range")
    data["cost"] = _cost(p) if cost else None
    data["undefined"] = undefined
    return Report(p.name, data)


@functools.lru_cache(maxsize=256)
def analyze_spec(spec: str) -> Report:
    """`analyze(spec, cost=False)` measured once per process (the analyser is deterministic): the report's
    sections and the claims ledger read the same activations many times. Treat the report as read-only."""
    return analyze(spec, cost=False)


def slope_profile(target: object, *, active_fraction: float = 0.1) -> dict[str, Any]:
    """`analyze`'s "lipschitz" and "active_range" alone, measured the same way (None where undefined), at a
    tenth of its cost: what the monitor needs for every trained value of a learnable activation, and what a
    study checks a config's activations with. "nan": where f or f′ is nan on the sampled points (None: nowhere)."""
    s = _Samples(probe(target))
    out: dict[str, Any] = {"lipschitz": None, "active_range": None, "nan": s.f_nan or s.d_nan}
    if s.d_nan:
        return out
    for fn in (lambda: {"lipschitz": _derivative_range(s)["lipschitz"]},
               lambda: {"active_range": _active_range(s, active_fraction)}):
        try:
            out.update({k: None if _has_nan(v) else v for k, v in fn().items()})
        except _Undefined:
            pass
    return out


def _has_nan(v: Any) -> bool:
    if isinstance(v, float):
        return math.isnan(v)
    if isinstance(v, dict):
        return any(_has_nan(u) for u in v.values())
    if isinstance(v, (list, tuple)):
        return any(_has_nan(u) for u in v)
    return False


def _nan_reason(name: str, x: Tensor, y: Tensor) -> str | None:
    """None if y holds no nan, else where: 'f is nan at x = -0.001 (and 25,000 other sampled points)'."""
    bad = torch.isnan(y)
    n = int(bad.sum())
    if n == 0:
        return None
    at = x[bad][torch.argmin(x[bad].abs())].item()
    others = f" (and {n - 1:,} other sampled point{'s' if n > 2 else ''})" if n > 1 else ""
    return f"{name} is nan at x = {at:.6g}{others}"


class _Samples:
    """f and f' on the central grid, both tails and the far probes."""

    def __init__(self, p: Probe) -> None:
        self.p = p
        self.x = central_grid()
        self.y, self.d = p.f(self.x), p.df(self.x)
        self.xl, self.xr = tail(-1), tail(1)
        self.yl, self.yr = p.f(self.xl), p.f(self.xr)
        self.dl, self.dr = p.df(self.xl), p.df(self.xr)
        far = torch.tensor([-FAR[1], -FAR[0], FAR[0], FAR[1]], dtype=torch.float64)
        self.far = p.f(far).tolist()
        limits = torch.tensor([-FAR[2], FAR[2]], dtype=torch.float64)
        self.limits = [v for v in p.f(limits).tolist() if math.isfinite(v)]
        self.limit_d = [v for v in p.df(limits).tolist() if math.isfinite(v)]
        self.f0 = scalar(p.f)(0.0)
        far_x = torch.tensor([-FAR[1], -1e6, 1e6, FAR[1]], dtype=torch.float64)
        self.far_d = p.df(far_x).tolist()
        fd = [abs(v) for v in self.far_d]
        # f' grows without bound (x², x·|x|): compare it at 1e12 with 1e6
        self.unbounded_slope = (fd[0] > 1e3 * max(fd[1], 1e-300) and fd[0] > 1e3) or (
            fd[3] > 1e3 * max(fd[2], 1e-300) and fd[3] > 1e3)
        self.fs, self.ds = scalar(p.f), scalar(p.df)
        # everything, in increasing x
        self.all_x = torch.cat([self.xl.flip(0), self.x, self.xr])
        self.all_y = torch.cat([self.yl.flip(0), self.y, self.yr])
        self.all_d = torch.cat([self.dl.flip(0), self.d, self.dr])
        # nan where a measurement looks (the ±1e300 limit probes are optional and filtered instead)
        self.f_nan = _nan_reason("f", torch.cat([self.all_x, far]),
                                 torch.cat([self.all_y, torch.tensor(self.far, dtype=torch.float64)]))
        self.f_grid_nan = _nan_reason("f", self.x, self.y)
        # f' means nothing where f is nan (autograd still gives log(x)' = 1/x at x < 0)
        self.d_nan = _nan_reason("f", self.all_x, self.all_y) or _nan_reason("f'", self.all_x, self.all_d)
        self.d_grid_nan = self.f_grid_nan or _nan_reason("f'", self.x, self.d)
        finite = self.y[torch.isfinite(self.y)]
        # the size of f for inputs of order 1 (the central grid), for relative tolerances
        self.scale = max(1.0, finite.abs().max().item() if finite.numel() else 1.0)


def _diverges(s: _Samples, side: int) -> int:
    """+1 if f → +inf on that side, −1 if f → −inf, 0 if bounded (judged by the far probes)."""
    mid, far = (s.far[1], s.far[0]) if side < 0 else (s.far[2], s.far[3])
    for sign in (1, -1):
        if sign * far > 1e6 and (sign * far > sign * mid or sign * far == INF):
            return sign
    return 0


def _range(s: _Samples) -> dict[str, Any]:
    out: dict[str, Any] = {}
    ends = [_diverges(s, -1), _diverges(s, 1)]
    inner = s.y[s.x.abs() <= INNER]
    central_min, central_max = inner.min().item(), inner.max().item()
    overall_min, overall_max = s.all_y.min().item(), s.all_y.max().item()
    bounded = [v for v in s.far if math.isfinite(v)] + s.limits
    lo = -INF if -1 in ends else min([overall_min, *bounded])
    hi = INF if 1 in ends else max([overall_max, *bounded])
    out["minimum"] = _extremum(s, 1) if math.isfinite(lo) and central_min <= lo + 1e-13 * s.scale else None
    out["maximum"] = _extremum(s, -1) if math.isfinite(hi) and central_max >= hi - 1e-13 * s.scale else None
    if out["minimum"]:
        lo = min(lo, out["minimum"]["value"])
    if out["maximum"]:
        hi = max(hi, out["maximum"]["value"])
    out["range"] = [lo + 0.0, hi + 0.0]  # + 0.0: no -0.0 (0·x)
    return out


def _extremum(s: _Samples, sign: int) -> dict[str, float]:
    """The attained min (sign=1) or max (sign=−1): of equal optima the one nearest 0, refined
    (bisection on f' for smooth ones, golden section otherwise), or a plateau's inner edge."""
    v = sign * s.y
    best = v.min().item()
    tol = 1e-13 * s.scale
    inner = torch.cat([v[:1] + 1, v[:-1]]), torch.cat([v[1:], v[-1:] + 1])
    local = (v <= inner[0]) & (v <= inner[1]) & (v <= best + 1e-6 * s.scale)
    idx = local.nonzero().flatten()
    candidates = idx[torch.argsort(s.x[idx].abs(), stable=True)][:20].tolist()  # nearest 0 first
    refined = [(_refine(s, sign, i, best, tol), i) for i in candidates]
    top = min(r[0][1] for r in refined)
    for (at, value), _ in refined:
        if value <= top + tol:
            return {"value": sign * value, "at": nice(at)}
    raise AssertionError("unreachable: the best candidate matches itself")


def _refine(s: _Samples, sign: int, i: int, best: float, tol: float) -> tuple[float, float]:
    """(location, signed value) of the optimum around grid point i."""
    v_i = sign * s.y[i].item()
    neighbours = [k for k in (i - 1, i + 1) if 0 <= k < len(s.x)]
    if v_i <= best + tol and any(sign * s.y[k].item() <= best + tol for k in neighbours):
        # a plateau (hard_tanh's max): its edge nearest 0
        x0 = s.x[i].item()
        step = s.x[1].item() - s.x[0].item()
        toward = x0 - step if x0 > 0 else x0 + step
        if abs(toward) < abs(x0) and sign * s.fs(toward) > best + tol:
            x0 = bisect(lambda t: sign * s.fs(t) <= best + tol, x0, toward)
        return x0, v_i
    a, b = s.x[max(i - 1, 0)].item(), s.x[min(i + 1, len(s.x) - 1)].item()
    if sign * s.ds(a) < 0 < sign * s.ds(b):  # smooth optimum: f' changes sign
        at = bisect(lambda t: sign * s.ds(t) < 0, a, b)
    else:
        at = golden(lambda t: sign * s.fs(t), a, b)
    value = sign * s.fs(at)
    return (at, value) if value <= v_i else (s.x[i].item(), v_i)


def _nearer(s: _Samples, da: float, db: float) -> Callable[[float], bool]:
    return lambda t: abs(s.ds(t) - da) < abs(s.ds(t) - db)


def _nearer_value(s: _Samples, ya: float, yb: float) -> Callable[[float], bool]:
    return lambda t: abs(s.fs(t) - ya) < abs(s.fs(t) - yb)


def _signed(fn: Callable[[float], float], sign: int) -> Callable[[float], float]:
    return lambda t: sign * fn(t)


def _same_side(s: _Samples, ga: float) -> Callable[[float], bool]:
    return lambda t: (s.fs(t) - t) * ga > 0


def _monotonic(s: _Samples) -> bool:
    tol = 1e-12 * s.scale  # compared, not subtracted: an overflowing tail (exp: inf, inf) is not a fall
    return bool((s.all_y[1:] >= s.all_y[:-1] - tol).all()) and bool((s.d >= -1e-12).all())


def _zero_centered(s: _Samples, rng: list[float] | None) -> bool:
    if rng is None:
        raise _Undefined("the range is undefined")
    return abs(s.f0) <= 1e-12 and rng[0] < 0 < rng[1]


def _smoothness(s: _Samples) -> dict[str, Any]:
    """Kinks, and C^k: −1 if f jumps, 0 at a kink, 1 if f'' jumps, inf otherwise."""
    kinks, discontinuous = _kinks(s)
    smooth = -1 if discontinuous else 0 if kinks else 1 if _second_derivative_jumps(s) else INF
    return {"kinks": kinks, "smoothness": smooth}


def _jumps(values: Tensor, xs: Tensor, tol: float, reach: int = 1) -> list[int]:
    """Indices i where values jumps between xs[i] and xs[i+1] (much more than it changes `reach` steps
    away; reach 2 also finds a jump through one odd value, as sign(x) jumps −1 → 0 → 1)."""
    dv = values.diff().abs()
    pad = dv[:reach] * 0
    left = torch.cat([pad, dv[:-reach]])
    right = torch.cat([dv[reach:], pad])
    mask = (dv > tol) & (dv > 10 * torch.maximum(left, right))
    return mask.nonzero().flatten().tolist()


def _kinks(s: _Samples) -> tuple[list[float], bool]:
    """Points where f' jumps, and steps where f jumps though f' does not (sign(x)), each located by
    bisection; and whether f itself jumps at one of them."""
    found: list[float] = []
    step = s.x[1].item() - s.x[0].item()
    # reach 2: f' may jump through one middle value where a grid point lands on the kink (autograd gives
    # max(x, 0) the slope ½ and abs(x) the slope 0 there), two half jumps that reach 1 would not see
    for i in _jumps(s.d, s.x, 1e-10, reach=2):
        a, b = s.x[i].item(), s.x[i + 1].item()
        k = bisect(_nearer(s, s.ds(a), s.ds(b)), a, b)
        if not any(abs(k - f) <= 2 * step for f in found):
            found.append(k)
    for i in _jumps(s.y, s.x, 1e-10 * s.scale, reach=2):
        a, b = s.x[i].item(), s.x[i + 1].item()
        if any(a - 2 * step <= k <= b + 2 * step for k in found):
            continue
        k = bisect(_nearer_value(s, s.fs(a), s.fs(b)), a, b)
        if _jumps_at(s, k):  # not just steep (tanh(1e4·x) is continuous)
            found.append(k)
    found.sort()
    return [nice(k) for k in found], any(_jumps_at(s, k) for k in found)


def _jumps_at(s: _Samples, k: float) -> bool:
    """f jumps at k: it moves across k by more than its slopes and rounding explain."""
    eps = 1e-12 * max(1.0, abs(k))
    left, right = s.fs(k - eps), s.fs(k + eps)
    slope = max(abs(s.ds(k - eps)), abs(s.ds(k + eps)))
    return abs(right - left) > 4 * eps * slope + 1e-13 * max(1.0, abs(left), abs(right))


def _second_derivative_jumps(s: _Samples) -> bool:
    step = s.x[1].item() - s.x[0].item()
    dd = s.d.diff() / step
    return bool(_jumps(dd, s.x[:-1], 1e-3))


def _derivative_range(s: _Samples) -> dict[str, Any]:
    lo, hi = min([s.all_d.min().item(), *s.limit_d]), max([s.all_d.max().item(), *s.limit_d])
    if s.unbounded_slope:
        signs = {math.copysign(1, v) for v in s.far_d if abs(v) > 1e3}
        lo, hi = (-INF if -1 in signs else lo), (INF if 1 in signs else hi)
    for sign in (1, -1):  # refine interior extrema of f' on the central grid
        i = int(torch.argmin(sign * s.d))
        if 0 < i < len(s.x) - 1:
            a, b = s.x[i - 1].item(), s.x[i + 1].item()
            v = s.ds(golden(_signed(s.ds, sign), a, b))
            lo, hi = (min(lo, v), hi) if sign > 0 else (lo, max(hi, v))
    return {"derivative_range": [lo, hi], "lipschitz": max(abs(lo), abs(hi))}


def _saturation(s: _Samples, side: int) -> dict[str, Any]:
    """Gulcehre et al. 2016: hard if f' = 0 exactly beyond a threshold, soft if f' → 0 only in the limit."""
    d_tail = s.dl if side < 0 else s.dr
    grid = s.x if side > 0 else s.x.flip(0)  # ordered toward the side
    dgrid = s.d if side > 0 else s.d.flip(0)
    if bool((d_tail == 0).all()) and dgrid[-1].item() == 0:
        nonzero = (dgrid != 0).nonzero().flatten()
        if nonzero.numel() == 0:
            return {"kind": "hard", "threshold": -INF * side}
        j = int(nonzero[-1])
        a, b = grid[j + 1].item(), grid[j].item()  # a: zero, b: non-zero
        t = bisect(lambda v: s.ds(v) == 0, a, b)
        # f' = 0 from rounding alone (gelu_tanh below −7.2, where tanh rounds to −1) is not hard
        # saturation: at a true threshold f' leaves 0 by a visible amount within 1e-3
        peak = max(1.0, s.d.abs().max().item())
        if abs(s.ds(t - side * 1e-3)) >= 1e-8 * peak:
            return {"kind": "hard", "threshold": nice(t)}
    far = d_tail[-100:]  # |x| from about 2.6e4 to 1e6
    peak = max(1.0, s.d.abs().max().item())
    if far.abs().max().item() < 1e-6 * peak:
        return {"kind": "soft", "threshold": None}
    return {"kind": "none", "threshold": None}


def _fixed_points(s: _Samples) -> list[dict[str, Any]]:
    """Solutions of f(x) = x: isolated points (sign changes of f(x) − x, refined by bisection) and
    continua where f(x) = x exactly. A run of exact equality that f only approaches (gelu beyond
    x ≈ 8.3, where Φ(x) rounds to 1) is not a continuum: just outside a true one, f(x) − x is not tiny."""
    x, g = s.all_x, s.all_y - s.all_x
    # f(x) = x up to rounding (x·6/6 in hard_swish, α·x + (1 − α)·x in the noisy units)
    zero = torch.isfinite(g) & (g.abs() <= 1e-15 * (s.all_x.abs() + s.all_y.abs()))  # not a pole: inf ≤ inf
    n = len(x)
    found: list[tuple[float, float]] = []
    for i, j in _runs(zero):
        if j == i:
            found.append((x[i].item(), x[i].item()))
            continue
        lo = -INF if i == 0 else _edge(s, x[i - 1].item(), x[i].item())
        hi = INF if j == n - 1 else _edge(s, x[j + 1].item(), x[j].item())
        if _real_continuum(s, lo, hi):
            found.append((lo, hi))
    crossings = ((g[:-1] * g[1:] < 0) & ~zero[:-1] & ~zero[1:]).nonzero().flatten().tolist()
    for i in crossings:
        a, b, ga = x[i].item(), x[i + 1].item(), g[i].item()
        r = bisect(_same_side(s, ga), a, b, iters=200)
        if abs(s.fs(r) - r) <= 1e-6 * max(1.0, abs(r)):  # not where f − x jumps across 0 (a step, a pole)
            found.append((r, r))
    found.sort()
    attracting = _attracting(s, found)
    return [{"lo": nice(lo), "hi": nice(hi), "attracting": att} for (lo, hi), att in zip(found, attracting)]


def _runs(mask: Tensor) -> list[tuple[int, int]]:
    """(first, last) index of each run of True in a 1-D mask."""
    m = np.concatenate([[0], mask.numpy().astype(np.int8), [0]])
    d = np.diff(m)
    return list(zip(np.flatnonzero(d == 1).tolist(), (np.flatnonzero(d == -1) - 1).tolist()))


def _edge(s: _Samples, outside: float, inside: float) -> float:
    """The end of a continuum of fixed points: on it f' = 1, so bisect on that (exact at kinks)."""
    return bisect(lambda t: abs(s.ds(t) - 1) < 1e-12 and abs(s.fs(t) - t) <= 1e-12 * (1 + abs(t)), inside, outside)


def _real_continuum(s: _Samples, lo: float, hi: float) -> bool:
    for edge, side in ((lo, -1), (hi, 1)):
        if math.isfinite(edge):
            t = edge + side * 0.01 * max(1.0, abs(edge))
            if abs(s.fs(t) - t) > 1e-12 * (1 + abs(t)):
                return True
    return not (math.isfinite(lo) or math.isfinite(hi))  # the whole line (identity)


def _attracting(s: _Samples, sets: list[tuple[float, float]], steps: int = 1000) -> list[bool]:
    """For each fixed set: do iterates x ← f(x) started 10% outside it (both sides) approach it?

    Decided by the dynamics, not by |f'| < 1 alone (tanh's 0 attracts though f'(0) = 1).
    All starts iterate together in one tensor."""
    starts, owner, delta = [], [], []
    for k, (lo, hi) in enumerate(sets):
        for edge, side in ((lo, -1), (hi, 1)):
            if math.isfinite(edge):
                d = 0.1 * max(1.0, abs(edge))
                starts.append(edge + side * d)
                owner.append(k)
                delta.append(d)
    if not starts:
        return [True] * len(sets)  # f(x) = x everywhere
    x = torch.tensor(starts, dtype=torch.float64)
    for _ in range(steps):
        x = s.p.f(x)
    lo_t = torch.tensor([sets[k][0] for k in owner], dtype=torch.float64)
    hi_t = torch.tensor([sets[k][1] for k in owner], dtype=torch.float64)
    dist = torch.clamp(torch.maximum(lo_t - x, x - hi_t), min=0).nan_to_num(INF)
    ok = (dist < 0.5 * torch.tensor(delta, dtype=torch.float64)).tolist()
    return [all(o for o, w in zip(ok, owner) if w == k) for k in range(len(sets))]


def _moments(s: _Samples) -> dict[str, Any]:
    """E[f], Var[f] and the gain 1/√E[f²] for x ~ N(0, 1), by Simpson's rule on [−25, 25]."""
    w = torch.exp(-0.5 * s.x * s.x) / math.sqrt(2 * math.pi)
    h = s.x[1].item() - s.x[0].item()
    simpson = torch.ones_like(s.x)
    simpson[1:-1:2], simpson[2:-1:2] = 4, 2
    weights = w * simpson * h / 3
    mean = (weights * s.y).sum().item()
    second = (weights * s.y * s.y).sum().item()
    if math.isnan(mean):
        raise _Undefined("f reaches both +inf and -inf on [-25, 25]: E[f] is ∞ − ∞")
    return {
        "output_moments": {"mean": mean, "var": INF if second == INF else second - mean * mean},
        "gain": 1 / math.sqrt(second) if second > 0 else INF,
    }


def _dead_fraction(s: _Samples) -> float:
    """P(f'(x) = 0) for x ~ N(0, 1): Φ summed over the runs where f' is exactly 0, their ends refined."""
    zero = s.d == 0
    total, n = 0.0, len(s.x)
    phi = lambda t: 0.5 * math.erfc(-t / math.sqrt(2))  # noqa: E731
    for i, j in _runs(zero):
        a = -INF if i == 0 else bisect(lambda t: s.ds(t) == 0, s.x[i].item(), s.x[i - 1].item())
        b = INF if j == n - 1 else bisect(lambda t: s.ds(t) == 0, s.x[j].item(), s.x[j + 1].item())
        total += phi(b) - phi(a)
    return total


def _active_range(s: _Samples, fraction: float) -> list[float]:
    """[lo, hi]: the smallest interval holding every x with |f'(x)| ≥ fraction·max|f'|.

    When f' is unbounded (x²), max|f'| is taken on the central grid [−25, 25] instead."""
    d = s.all_d.abs()
    ref = s.d.abs() if s.unbounded_slope else d
    ref = ref[torch.isfinite(ref)]
    if ref.numel() == 0:
        raise _Undefined("f' is infinite at every sampled point")
    level = fraction * ref.max().item()
    on = (d >= level).nonzero().flatten()
    if on.numel() == 0:
        return [0.0, 0.0]
    i, j = int(on[0]), int(on[-1])
    n = len(s.all_x)
    lo = -INF if i == 0 else bisect(lambda t: abs(s.ds(t)) >= level, s.all_x[i].item(), s.all_x[i - 1].item())
    hi = INF if j == n - 1 else bisect(lambda t: abs(s.ds(t)) >= level, s.all_x[j].item(), s.all_x[j + 1].item())
    return [nice(lo), nice(hi)]


def _cost(p: Probe, n: int = 2**18, repeat: int = 5) -> float | None:
    """Forward + backward time per element relative to F.gelu, float32, best of `repeat`; eager (no
    automatic compilation: `actlab analyze` must not stall for seconds compiling)."""
    with auto_fuse(False):
        return _eager_cost(p, n, repeat)


def _eager_cost(p: Probe, n: int, repeat: int) -> float | None:
    x = torch.randn(n).requires_grad_(True)
    g = torch.ones_like(x)

    def best(fn: Any) -> float:
        times = []
        for _ in range(repeat + 1):
            t = time.perf_counter()
            y = fn(x)
            if y.requires_grad:
                y.backward(g)
            times.append(time.perf_counter() - t)
        return min(times[1:])

    return best(p.timed) / best(F.gelu)
