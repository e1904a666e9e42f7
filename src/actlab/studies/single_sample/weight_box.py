"""The weight box of the single-sample study, derived from the analyser's `active_range`.

The rule (the article's "weights bounded by the activation's working range"), for the 1-1-1
network out = g(w2·f(w1·x + b1) + b2) with input x:

1. The hidden unit's working interval is f's active range — where |f'| ≥ 10 % of its maximum —
   cut to [−CAP, CAP] (CAP = 5) when it is unbounded: [a, b], centre c, half-width r.
2. Box w1 ∈ [−r', r'] and b1 ∈ [c − r', c + r'] with r' = r / (|x| + 1): then every pre-activation
   w1·x + b1 the box allows lies in [a, b], and every point of [a, b] is reachable.
3. The hidden output h then lies in f([a, b]); with H = max |h| there, the output unit's box is
   built the same way from g's active range with |x| replaced by H.

The default targets are the values g takes a quarter and three quarters of the way up its range
over its (capped) working interval, so every target is reachable inside the box.

An activation the analyser cannot measure everywhere (log(x)), or with no finite value on its
working interval (1e999), cannot be boxed or targeted and is refused with a ConfigError.
"""

from __future__ import annotations

import functools
import math

import torch

import actlab
from actlab.studies.config import ConfigError, measured

CAP = 5.0


@functools.lru_cache(maxsize=256)
def working_interval(spec: str) -> tuple[float, float]:
    """The activation's active range, cut to [−CAP, CAP]."""
    lo, hi = measured(spec)["active_range"]
    lo, hi = max(lo, -CAP), min(hi, CAP)
    if not hi > lo:  # no working interval (a constant): fall back to the whole capped line
        lo, hi = -CAP, CAP
    return lo, hi


def _values(spec: str, lo: float, hi: float) -> torch.Tensor:
    """The finite values of `spec` on [lo, hi] (2001 points); a ConfigError if there are none."""
    act = actlab.create(spec).eval()
    with torch.no_grad():
        v = act(torch.linspace(lo, hi, 2001, dtype=torch.float64))
    v = v[torch.isfinite(v)]
    if v.numel() == 0:
        raise ConfigError(f"activation {spec!r} has no finite value on its working interval [{lo:g}, {hi:g}]; "
                          "a study needs one that does")
    return v


def layer_box(spec: str, input_size: float) -> tuple[list[float], list[float]]:
    """([w_lo, b_lo], [w_hi, b_hi]) keeping w·u + b inside `spec`'s working interval for |u| ≤ input_size."""
    a, b = working_interval(spec)
    c, r = (a + b) / 2, (b - a) / 2
    rw = r / (abs(input_size) + 1)
    return [-rw, c - rw], [rw, c + rw]


def weight_box(hidden: str, output: str, x: float) -> tuple[list[float], list[float]]:
    """(lo, hi) for (w1, b1, w2, b2) by the rule above."""
    lo1, hi1 = layer_box(hidden, x)
    a, b = working_interval(hidden)
    H = float(_values(hidden, a, b).abs().max())
    lo2, hi2 = layer_box(output, H)
    return lo1 + lo2, hi1 + hi2


def default_targets(output: str) -> list[float]:
    """g's values a quarter and three quarters of the way up its range over the working interval."""
    a, b = working_interval(output)
    v = _values(output, a, b)
    lo, hi = float(v.min()), float(v.max())
    out = []
    for q in (0.25, 0.75):
        t = lo + q * (hi - lo)
        out.append(float(f"{t:.4g}") if t != 0 and math.isfinite(t) else t)
    return sorted(set(out))
