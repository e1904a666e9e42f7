"""The activation layers of any nn.Module, and what the monitor needs to know about each.

An activation layer is
- an actlab activation whose f' is elementwise (`AbstractActivation`: every elementwise catalog
  entry, `expr:` formulas, and `mixed(...)`, whose f' is each group's own f'), or
- a leaf module of `torch.nn.modules.activation` (nn.ReLU, nn.Tanh, nn.LeakyReLU(0.2), ...) of
  exactly a class that a catalog entry declares as its `torch_class`. Its actlab equivalent is
  built from the module's own attributes (nn.LeakyReLU(negative_slope=0.2) ->
  `leaky_relu(negative_slope=0.2)`), checked to compute the same function, and kept in step
  with the module's parameters (nn.PReLU's weight).

Anything else that looks like an activation (softmax, nn.GLU, a subclass of nn.ReLU, nn.Softmax2d)
is reported as skipped with the reason. Functional calls (F.relu inside a forward) are invisible
to module hooks and are not found.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor, nn

from actlab.analysis.measure import slope_profile
from actlab.catalog.mixed import Mixed
from actlab.core.activation import AbstractActivation
from actlab.core.convert import as_activation
from actlab.core.errors import ActlabInputError, ParameterError

TORCH_ACTIVATIONS = "torch.nn.modules.activation"
"""torch.nn's own activation classes are defined in this module."""


class Skipped(NamedTuple):
    """A module that looks like an activation but is not monitored, and why."""

    name: str
    reason: str


@dataclass(frozen=True)
class Profile:
    """What the analyser measured about one elementwise activation.

    `slope` is max|f'| (the analyser's `lipschitz`), the reference for saturation; nan when f'
    is unbounded (square, x·|x|), where "small relative to its maximum" has no meaning.
    `active_range` is where |f'| ≥ 10 % of max|f'|, the base of the histogram range.
    """

    slope: float
    active_range: tuple[float, float]


_PROFILES: dict[tuple, Profile] = {}
"""Profiles by spec and parameter values: the same maths gives the same answer."""


def profile(act: AbstractActivation) -> Profile:
    """The activation's Profile, measured as `actlab.analyze` measures it (`slope_profile`: its lipschitz and
    active_range alone, ~10 ms; cached by spec and parameter values).

    Activations with learnable parameters are measured as they are now (channel 0 when per channel).
    For `mixed`, `slope` is not used (see `Layer.threshold`) and `active_range` spans every group's.
    """
    if isinstance(act, Mixed):
        subs = [profile(a) for a in act.acts if isinstance(a, AbstractActivation)]
        lo, hi = min(p.active_range[0] for p in subs), max(p.active_range[1] for p in subs)
        return Profile(math.nan, (lo, hi))
    key = _cache_key(act)
    if key is not None and key in _PROFILES:
        return _PROFILES[key]
    report = slope_profile(act)
    # None where the analyser cannot say (f' not finite somewhere on the real line: exp(-|x - cosh(x)|)): nan,
    # as for `mixed`, and the threshold falls back to its slope-free rule
    slope = math.nan if report["lipschitz"] is None else float(report["lipschitz"])
    lo, hi = (math.nan, math.nan) if report["active_range"] is None else (float(v) for v in report["active_range"])
    result = Profile(slope if math.isfinite(slope) else math.nan, (lo, hi))
    if key is not None:
        _PROFILES[key] = result
    return result


def _cache_key(act: AbstractActivation) -> tuple | None:
    """The spec and the current parameter values: equal keys, equal maths."""
    try:
        spec = act.spec
    except ActlabInputError:  # an unregistered subclass has no spec
        return None
    return spec, tuple(tuple(p.detach().cpu().flatten().tolist()) for p in act.parameters())


def label(act: AbstractActivation) -> str:
    """The activation's spec string, or its class name when it has none."""
    try:
        return act.spec
    except ActlabInputError:
        return type(act).__name__


def elementwise(act: AbstractActivation) -> bool:
    """f' is a per-element derivative of the same shape as the input (mixed: each group's own f')."""
    return isinstance(act, Mixed) or act.properties.elementwise


class Layer:
    """One activation module of a model and the actlab activation whose f' judges its inputs.

    `act` is the module itself for actlab activations, or the catalog equivalent of a torch.nn one.
    """

    def __init__(self, name: str, module: nn.Module, act: AbstractActivation) -> None:
        self.name, self.module, self.act = name, module, act
        self.spec = label(act)
        self.profile = profile(act)
        self._stochastic = act.properties.stochastic
        self._rising = act.properties.declared and act.properties.monotonic
        # a torch.nn module's parameters (nn.PReLU's weight) feed the equivalent's, by position
        self._mirrors = [] if act is module else list(zip(_param_tensors(act), module.parameters()))
        self._device: torch.device | None = None
        self._thresholds: dict[tuple, Tensor] = {}

    def derivative(self, z: Tensor) -> Tensor:
        """f'(z) from the activation's own closed form (autograd for formulas), under no_grad.

        Stochastic activations (rrelu, the noisy units) give the f' of their eval() expectation,
        so that measuring never draws from the user's random stream.
        """
        if self.act is not self.module:
            self._follow(z.device)
        if not self._stochastic:
            return self.act.derivative(z)
        with _eval_mode(self.act):
            return self.act.derivative(z)

    def _follow(self, device: torch.device) -> None:
        if device != self._device:
            self.act.to(device)
            self._device = device
        if self._mirrors:
            with torch.no_grad():
                for mine, theirs in self._mirrors:
                    mine.copy_(theirs.detach().reshape(mine.shape))

    def threshold(self, z: Tensor, eps: float) -> float | Tensor:
        """eps·max|f'|, a number, or for `mixed` one value per channel group shaped to broadcast against z."""
        if not isinstance(self.act, Mixed):
            return eps * self.profile.slope
        dim = 1 if z.dim() >= 2 else 0
        key = (z.shape[dim], z.dim(), z.device, z.dtype, eps)
        if key not in self._thresholds:
            slopes = _group_slopes(self.act, z.shape[dim]).to(z.device, z.dtype)
            shape = [1] * z.dim()
            shape[dim] = -1
            self._thresholds[key] = (eps * slopes).reshape(shape)
        return self._thresholds[key]

    def measure(self, z: Tensor, eps: float, unit_dim: int) -> Measured:
        """Per-unit reductions of one batch of pre-activations z (unit = dim `unit_dim`): a few passes, no
        Python loop over units, results left on z's device (no synchronisation)."""
        z = z.detach()
        z = z.float() if z.dtype in (torch.float16, torch.bfloat16) else z
        d, thr = self.derivative(z), self.threshold(z, eps)
        if d._base is not None or d.data_ptr() == z.data_ptr():  # f' is written into below, never z's memory
            d = d.clone()
        if z.dim() < 2:  # one sample: every element is its own unit
            z, d, ud = z.reshape(1, -1), d.reshape(1, -1), 1
        elif -z.dim() <= unit_dim < z.dim():
            ud = unit_dim % z.dim()
        else:
            raise ParameterError(f"unit_dim={unit_dim} is out of range for the input of {self.name} "
                                 f"of shape {tuple(z.shape)}; allowed: -{z.dim()} to {z.dim() - 1}")
        dims = [i for i in range(z.dim()) if i != ud]
        inputs = z.numel() // z.shape[ud]
        a = d if self._rising else d.abs_()  # a declared monotone (non-decreasing) activation has f' ≥ 0: |f'| is f'
        peak = a.amax(dims)
        # a < thr as 0 / 1 in a's own dtype (a bool result is ~3× slower on CPU), summed in a dtype that counts
        # exactly (float32 up to 2**24)
        saturated = a.lt_(thr).sum(dims, dtype=torch.float64 if inputs >= 2**24 else None)
        # mean and squared deviations by two passes; z − mean is written into f''s buffer, no longer needed
        # (torch.var_mean and a norm over dims are ~10× slower on CPU)
        mean = z.mean(dims, keepdim=True)
        squares = torch.sub(z, mean, out=a).square_().sum(dims)
        if isinstance(thr, Tensor):  # mixed: a group with unbounded f' has no saturation
            undefined: Tensor | bool = torch.isnan(thr).expand_as(z).sum(dims) > 0
        else:
            undefined = math.isnan(thr)
        return Measured(inputs, mean, squares, saturated, peak, undefined)


class Measured(NamedTuple):
    """`Layer.measure`'s tensors: inputs per unit, and per unit the mean of z (shaped like z, 1 on the other
    dims), the sum of (z − mean)², how many z had |f'(z)| < eps·max|f'|, the largest |f'(z)| (the unit is
    alive where it is > 0), whether saturation is undefined. Everything that needs no pass over z is left
    to `numpy`."""

    inputs: int
    mean: Tensor
    squares: Tensor
    saturated: Tensor
    peak: Tensor
    undefined: Tensor | bool

    def tensors(self) -> list[Tensor]:
        """The tensors `numpy` needs, for a caller that converts many at once."""
        return [self.mean, self.squares, self.saturated, self.peak] + (
            [self.undefined] if isinstance(self.undefined, Tensor) else [])

    def numpy(self, arrays: list[np.ndarray] | None = None) -> UnitStats:
        """As numpy (float64, counts, booleans); `arrays`: `tensors()` already converted, in that order."""
        mean, squares, sat, peak, *flags = arrays if arrays is not None else [t.cpu().numpy() for t in self.tensors()]
        return UnitStats.of(self.inputs, mean, squares, sat, peak, flags[0] if flags else bool(self.undefined))


@dataclass(frozen=True)
class UnitStats:
    """Per-unit statistics of the pre-activations one layer saw (one batch, or pooled over many), float64."""

    count: int
    mean: np.ndarray
    var: np.ndarray
    saturated: np.ndarray
    alive: np.ndarray
    undefined: np.ndarray

    @classmethod
    def of(cls, count: int, mean: np.ndarray, squares: np.ndarray, saturated: np.ndarray, peak: np.ndarray,
           undefined: np.ndarray | bool) -> UnitStats:
        """From `Measured`'s values as numpy arrays of any dtype (`undefined`: per unit, or one flag); the
        variance is squares / count in the dtype of squares, as the tensors would give it."""
        mean = mean.astype(np.float64).reshape(-1)
        var = (squares / squares.dtype.type(count)).astype(np.float64).reshape(-1)
        return cls(count, mean, var, saturated.astype(np.float64).reshape(-1), peak.reshape(-1) > 0,
                   np.broadcast_to(np.asarray(undefined).astype(bool), mean.shape))

    def merge(self, other: UnitStats) -> UnitStats:
        """Pool two batches (Chan et al.'s parallel mean and variance)."""
        n, m = self.count + other.count, other.count
        delta = other.mean - self.mean
        var = (self.var * self.count + other.var * m + delta**2 * self.count * m / n) / n
        return UnitStats(n, self.mean + delta * m / n, var, self.saturated + other.saturated,
                         self.alive | other.alive, self.undefined | other.undefined)

    def table(self) -> dict[str, np.ndarray]:
        """Per unit: saturated_fraction (nan where undefined), dead, pre_mean, pre_std."""
        sat = np.where(self.undefined, np.nan, self.saturated / self.count)
        return {"saturated_fraction": sat, "dead": ~self.alive, "pre_mean": self.mean, "pre_std": np.sqrt(self.var)}

    def pooled(self) -> dict[str, float]:
        """The layer as a whole: mean and std of all its z, saturated fraction (over units where it is
        defined; nan if none), dead fraction of units."""
        grand = float(self.mean.mean())
        sat = self.saturated / self.count
        defined = ~self.undefined
        return {"pre_mean": grand, "pre_std": math.sqrt(float(self.var.mean() + ((self.mean - grand) ** 2).mean())),
                "saturated_fraction": float(sat[defined].mean()) if defined.any() else math.nan,
                "dead_fraction": float((~self.alive).mean())}


def _group_slopes(act: AbstractActivation, channels: int) -> Tensor:
    """max|f'| for each channel of a (possibly nested) mixed activation."""
    if not isinstance(act, Mixed):
        return torch.full((channels,), profile(act).slope, dtype=torch.float64)
    sizes = act._groups(torch.empty(1, channels))  # mixed's own grouping rule, not a copy of it
    return torch.cat([_group_slopes(a, n) for a, n in zip(act.acts, sizes) if isinstance(a, AbstractActivation)])


def _param_tensors(act: AbstractActivation) -> list[Tensor]:
    return [getattr(act, n) for n in act.param_names]


@contextmanager
def _eval_mode(module: nn.Module) -> Iterator[None]:
    modes = [(m, m.training) for m in module.modules()]
    try:
        module.train(False)
        yield
    finally:
        for m, mode in modes:
            m.training = mode


def find_layers(model: nn.Module) -> tuple[list[Layer], list[Skipped]]:
    """Every activation layer of `model` in module order, and the activation-like modules skipped.

    An activation is not searched further (mixed's sub-activations are part of it); a module
    reachable under two names is taken once, under the first.
    """
    layers: list[Layer] = []
    skipped: list[Skipped] = []
    seen: set[int] = set()

    def visit(name: str, module: nn.Module) -> None:
        if id(module) in seen:
            return
        seen.add(id(module))
        found = classify(name or "(model)", module)
        if isinstance(found, Layer):
            layers.append(found)
        elif isinstance(found, Skipped):
            skipped.append(found)
        if found is None:
            for child_name, child in module.named_children():
                visit(f"{name}.{child_name}" if name else child_name, child)

    visit("", model)
    return layers, skipped


def classify(name: str, module: nn.Module) -> Layer | Skipped | None:
    """A Layer, a Skipped activation-like module, or None for a module that is not an activation."""
    if isinstance(module, AbstractActivation):
        if not elementwise(module):
            return Skipped(name, f"{label(module)} is not elementwise: f' per input is undefined")
        return _layer_or_skip(name, module, module)
    torch_bases = [c for c in type(module).__mro__ if c.__module__ == TORCH_ACTIVATIONS]
    if not torch_bases or any(True for _ in module.children()):  # nn.MultiheadAttention is no activation
        return None
    if type(module) is not torch_bases[0]:
        return Skipped(name, f"{type(module).__name__} subclasses torch.nn.{torch_bases[0].__name__}; "
                             f"its forward may differ")
    try:
        act = torch_equivalent(module)
    except ActlabInputError as e:
        return Skipped(name, str(e))
    return _layer_or_skip(name, module, act)


def _layer_or_skip(name: str, module: nn.Module, act: AbstractActivation) -> Layer | Skipped:
    try:
        return Layer(name, module, act)
    except (ActlabInputError, NotImplementedError) as e:  # the analyser cannot measure it
        return Skipped(name, f"{label(act)} cannot be analysed: {e}")


def torch_equivalent(module: nn.Module) -> AbstractActivation:
    """The catalog activation computing what a torch.nn activation module computes (`core.convert`);
    ParameterError when there is none or it is not elementwise."""
    cls_name = f"torch.nn.{type(module).__name__}"
    act = as_activation(module)
    if act is None:
        raise ParameterError(f"{cls_name} has no catalog entry computing the same function")
    if not elementwise(act):
        raise ParameterError(f"{cls_name} is not elementwise: f' per input is undefined")
    return act
