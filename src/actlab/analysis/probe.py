"""Turning anything callable into a float64 function and its derivative, and the sample points.

The analyser looks at f on three sets of points: a dense central grid on [−25, 25]
(step 1e-3: kinks, extrema, quadrature), log-spaced tails out to ±1e6 (saturation, limits),
and far probes at ±1e9 and ±1e12 (divergence). Points are refined by bisection where a
property changes between neighbours, so kinks and thresholds come out to ~1e-12.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from actlab.core.activation import AbstractActivation
from actlab.core.errors import ParameterError, ParameterTypeError
from actlab.core.registry import create

Fn = Callable[[Tensor], Tensor]
CENTRAL = 25.0
"""The dense grid [−25, 25] holds every kink of the catalog (softplus switches to x at 20)."""
INNER = 12.0
"""An extreme counts as attained only if it is reached on [−12, 12], where float64 still tells
tanh(x) and sigmoid(x) from their limits (tanh(20) rounds to 1)."""
STEP = 1e-3


@dataclass
class Probe:
    """f and f' as float64 → float64 functions, with a printable name."""

    name: str
    f: Fn
    df: Fn
    timed: Fn
    """The activation as given (float32, with autograd), for the cost measurement."""


def probe(target: object) -> Probe:
    """A Probe for a spec string, an activation, any nn.Module or a callable on tensors."""
    if isinstance(target, str):
        target = create(target)
    if isinstance(target, AbstractActivation):
        if not target.properties.elementwise:
            raise ParameterError(f"{target.spec} is not elementwise: the analyser measures elementwise activations")
        # stochastic units: their eval() expectation; the exact path's values, limits at ±inf included
        act = copy.deepcopy(target).double().eval()
        channels = max([getattr(act, n).numel() for n in act.param_names] + [1])
        if channels > 1:  # per-channel parameters: measure channel 0
            return Probe(act.spec, _no_grad(_channel0(act.exact, channels)), _channel0(act.derivative, channels),
                         _channel0(copy.deepcopy(target).eval(), channels))
        return Probe(act.spec, _no_grad(act.exact), act.derivative, copy.deepcopy(target).eval())
    if isinstance(target, nn.Module):
        mod = copy.deepcopy(target).double().eval()
        return Probe(type(target).__name__, _no_grad(mod), _autograd(mod), copy.deepcopy(target).eval())
    if callable(target):
        return Probe(getattr(target, "__name__", "callable"), _no_grad(target), _autograd(target), target)
    raise ParameterTypeError(f"cannot analyse {type(target).__name__}: give a spec string, an nn.Module or a callable")


def _channel0(fn: Callable[[Tensor], Tensor], channels: int) -> Fn:
    return lambda x: fn(x.reshape(-1, 1).expand(-1, channels))[:, 0].reshape(x.shape)


def _no_grad(fn: Callable[[Tensor], Tensor]) -> Fn:
    def f(x: Tensor) -> Tensor:
        with torch.no_grad():
            return fn(x).to(torch.float64)

    return f


def _autograd(fn: Callable[[Tensor], Tensor]) -> Fn:
    def df(x: Tensor) -> Tensor:
        with torch.enable_grad():
            xg = x.detach().requires_grad_(True)
            y = fn(xg)
            if not y.requires_grad:  # f does not depend on x (a constant)
                return torch.zeros_like(x)
            (d,) = torch.autograd.grad(y.sum(), xg, allow_unused=True)
        return torch.zeros_like(x) if d is None else d.detach()

    return df


def central_grid() -> Tensor:
    """[−12, 12] in steps of 1e-3, with 0 and the integers exactly on the grid."""
    n = int(round(CENTRAL / STEP))
    return torch.arange(-n, n + 1, dtype=torch.float64) / n * CENTRAL


def tail(side: int) -> Tensor:
    """Log-spaced points from just beyond the central grid out to 1e6, ordered away from 0."""
    return side * torch.logspace(math.log10(CENTRAL + STEP), 6, 300, dtype=torch.float64)


FAR = (1e9, 1e12, 1e300)
"""Far probes: divergence is judged from 1e9 → 1e12; limits (sigmoid's 1, softsign's 1) use 1e300 too."""


def bisect(pred: Callable[[float], bool], a: float, b: float, iters: int = 80) -> float:
    """The boundary between a (pred true) and b (pred false)."""
    for _ in range(iters):
        m = (a + b) / 2
        if m in (a, b):
            break
        a, b = (m, b) if pred(m) else (a, m)
    return (a + b) / 2


def golden(fn: Callable[[float], float], a: float, b: float, iters: int = 100) -> float:
    """argmin of a unimodal fn on [a, b]."""
    r = (math.sqrt(5) - 1) / 2
    c, d = b - r * (b - a), a + r * (b - a)
    fc, fd = fn(c), fn(d)
    for _ in range(iters):
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - r * (b - a)
            fc = fn(c)
        else:
            a, c, fc = c, d, fd
            d = a + r * (b - a)
            fd = fn(d)
    return (a + b) / 2


def scalar(fn: Fn) -> Callable[[float], float]:
    return lambda v: fn(torch.tensor([v], dtype=torch.float64)).item()


def nice(v: float) -> float:
    """Round a refined location to 12 significant digits (bisection lands within ~1e-15)."""
    if not math.isfinite(v):
        return v
    if abs(v) < 1e-11:
        return 0.0
    return float(f"{v:.12g}")
