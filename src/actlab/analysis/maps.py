"""The mean-field maps of one activation: the Gaussian expectations that signal propagation needs.

For a wide fully connected layer with W ~ N(0, σw²/n) and b ~ N(0, σb²), a pre-activation of
variance q is Gaussian, and everything about the next layer is an expectation over z ~ N(0, 1):

    V(q) = E[φ(√q·z)²]      the length map is q ← σw²·V(q) + σb²
    W(q) = E[φ′(√q·z)²]     χ(q) = σw²·W(q) scales squared gradient norms per layer
    D(q) = E[φ·φ′·z]/√q     = dV/dq, the slope of the length map (no φ″ needed: no Dirac terms at kinks)
    M(q) = E[φ(√q·z)]

and, for two inputs of correlation c, E[φ(u₁)φ(u₂)] and E[φ′(u₁)φ′(u₂)]. A `mixed` layer (a
different activation per group of units) is, in the wide limit, the average over its groups.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass

import numpy as np
import torch
from scipy.interpolate import CubicSpline
from torch import Tensor

from actlab.analysis.gauss import expect, expect_pair
from actlab.analysis.probe import Probe, probe
from actlab.catalog.mixed import Mixed
from actlab.core.activation import AbstractActivation
from actlab.core.registry import create

Q_MIN, Q_MAX = 1e-8, 1e8
"""The q range of the table: below Q_MIN the length has collapsed, above Q_MAX it has diverged."""
TABLE_POINTS = 641  # 40 per decade: the cubic spline in log q is accurate to ~1e-7 (roots are then solved exactly)


@dataclass(frozen=True)
class Part:
    """One activation of a layer, the share of units it covers, and its kinks (x where f' jumps)."""

    weight: float
    probe: Probe
    kinks: tuple[float, ...]


class Maps:
    """V, W, D, M and the paired expectations of an activation (or of a mixed layer's groups)."""

    def __init__(self, target: object) -> None:
        self.parts = _parts(target)
        self.name = self.parts[0].probe.name if len(self.parts) == 1 else _mixed_name(target)

    def moments(self, q: Tensor | float) -> dict[str, Tensor]:
        """V, W, D, M at each q (float64 tensor of any length)."""
        q = torch.as_tensor(q, dtype=torch.float64).reshape(-1)
        out = {k: torch.zeros_like(q) for k in "VWDM"}
        for p in self.parts:
            v, w, d, m = expect([p.probe.f, p.probe.df], q, p.kinks, _MOMENTS)
            root = q.clamp_min(1e-300).sqrt()
            for key, val in zip("VWDM", (v, w, d / root, m)):
                out[key] += p.weight * val
        return out

    def pair(self, q: float, c: float) -> tuple[float, float]:
        """(E[φ(u₁)φ(u₂)], E[φ′(u₁)φ′(u₂)]) for two inputs of variance q and correlation c."""
        ff = sum(p.weight * expect_pair(p.probe.f, p.probe.f, q, q, c, p.kinks) for p in self.parts)
        dd = sum(p.weight * expect_pair(p.probe.df, p.probe.df, q, q, c, p.kinks) for p in self.parts)
        return float(ff), float(dd)

    @functools.cached_property
    def table(self) -> Table:
        return Table(self)


def maps_of(target: object) -> Maps:
    """The Maps of a target; spec strings are built once per process (the table costs ~0.5 s)."""
    if isinstance(target, Maps):
        return target
    return _cached(target) if isinstance(target, str) else Maps(target)


@functools.lru_cache(maxsize=128)
def _cached(spec: str) -> Maps:
    return Maps(spec)


class Table:
    """V, W, D on a log grid of q from Q_MIN to Q_MAX, as cubic splines in log q (fast lookups
    for phase diagrams and for bracketing fixed points, which are then refined exactly)."""

    def __init__(self, maps: Maps) -> None:
        self.q = np.logspace(np.log10(Q_MIN), np.log10(Q_MAX), TABLE_POINTS)
        m = maps.moments(torch.from_numpy(self.q))
        self.values = {k: v.numpy() for k, v in m.items()}
        self.limit = {k: float(v) for k, v in maps.moments(1e-200).items()}
        """V, W, D, M as q → 0 (the kinks fall outside the grid: one-sided slopes are used exactly)."""
        s = np.log(self.q)
        self._splines = {k: CubicSpline(s, v) for k, v in self.values.items() if k != "M"}

    def __call__(self, key: str, q: np.ndarray) -> np.ndarray:
        """key ∈ V, W, D at q (clipped to the table; below Q_MIN linear towards the q → 0 limit)."""
        q = np.asarray(q, dtype=np.float64)
        inside = self._splines[key](np.log(np.clip(q, Q_MIN, Q_MAX)))
        if key != "V":
            return np.where(q < Q_MIN, self.limit[key], inside)
        low = self.limit["V"] + (self.values["V"][0] - self.limit["V"]) * np.clip(q, 0, Q_MIN) / Q_MIN
        return np.where(q < Q_MIN, low, inside)


_MOMENTS = (
    lambda z, f, d: f * f,
    lambda z, f, d: d * d,
    lambda z, f, d: f * d * z,
    lambda z, f, d: f,
)


def _parts(target: object) -> list[Part]:
    act = create(target) if isinstance(target, str) else target
    if isinstance(act, Mixed):
        subs = list(act.acts)  # elementwise by construction; equal groups in the wide limit
        return [Part(1 / len(subs), probe(s), tuple(_kinks(s))) for s in subs]
    return [Part(1.0, probe(act), tuple(_kinks(act)))]


def _kinks(target: object) -> list[float]:
    """Declared kinks for catalog entries; measured by the analyser for formulas, modules and callables."""
    if isinstance(target, AbstractActivation) and target.properties.declared:
        return sorted({k.at for k in target.properties.kinks})
    from actlab.analysis.measure import analyze

    return sorted(set(analyze(copy.deepcopy(target), cost=False)["kinks"] or []))  # None: undefined (f is nan)


def _mixed_name(target: object) -> str:
    return target if isinstance(target, str) else getattr(target, "spec", type(target).__name__)
