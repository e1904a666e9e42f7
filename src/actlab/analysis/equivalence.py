"""Which activations are the same function: a numeric signature (values and derivatives on a fixed grid, in
float64, learnable parameters at their initial values) and the catalog entry a formula equals.

`x*sigmoid(x)` is the catalog's silu, `log(1 + exp(x))` its softplus: `match` finds the entry whose signature
is closest and says how close (the largest difference on the grid, relative to 1 + |value|); within `TOL` the
two are taken for one function. The grid avoids the round numbers where kinks sit (their one-sided derivatives
differ between equal functions written differently).
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass

import numpy as np
import torch

from actlab.core.activation import AbstractActivation
from actlab.core.registry import create, entry, names

GRID = np.concatenate([np.linspace(-6.0, 6.0, 241) + 0.0123, [-40.3, -15.7, 15.7, 40.3]])
"""Where signatures are taken: [−6, 6] every 0.05 (shifted off the round numbers), and four far points."""
TOL = 1e-6
"""Largest difference (relative to 1 + |value|) at which two signatures are one function."""


@dataclass(frozen=True)
class Signature:
    values: np.ndarray
    derivatives: np.ndarray

    def difference(self, other: Signature) -> float:
        """max over the grid of |Δf| / (1 + |f|) and |Δf'| / (1 + |f'|); inf where one is finite and the other not."""
        out = 0.0
        for a, b in ((self.values, other.values), (self.derivatives, other.derivatives)):
            both = np.isfinite(a) & np.isfinite(b)
            if (np.isfinite(a) != np.isfinite(b)).any() or (np.isnan(a) != np.isnan(b)).any():
                return float("inf")
            if both.any():
                out = max(out, float(np.max(np.abs(a[both] - b[both]) / (1 + np.abs(b[both])))))
        return out


@dataclass(frozen=True)
class Match:
    name: str
    difference: float

    def words(self) -> str:
        return f"equals the catalog's {self.name} (largest difference {self.difference:.1g} on the grid)"


def signature(act: AbstractActivation | str) -> Signature | None:
    """Values and f' on GRID in float64 (eval mode: a stochastic unit's expectation); None where the activation
    is not elementwise or cannot take a 1-D input (per-channel parameters)."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        a = copy.deepcopy(create(act)).double().eval()
        if not a.properties.elementwise:
            return None
        x = torch.tensor(GRID, dtype=torch.float64)
        with torch.no_grad():
            y = torch.broadcast_to(a(x), x.shape)  # a constant formula ('b1 + b2') gives one value
        d = torch.broadcast_to(a.derivative(x), x.shape)
        return Signature(y.numpy().copy(), d.numpy().copy())
    except Exception:  # per-channel parameters, a formula that does not broadcast: no signature
        return None
    finally:
        torch.set_default_dtype(old)


@functools.cache
def catalog_signatures() -> dict[str, Signature]:
    """Every deterministic elementwise catalog entry at its defaults (computed once per process)."""
    out = {}
    for name in names():
        act = create(name)
        if act.properties.stochastic:
            continue
        s = signature(act)
        if s is not None:
            out[name] = s
    return out


def match(act: AbstractActivation | str, tol: float = TOL, exclude: str = "") -> Match | None:
    """The catalog entry `act` equals within `tol`, or None. Where several do (x·σ(x) is silu, swish at β = 1 and
    acon_a), the one torch.nn also has comes first (silu), then the closest, then the first name."""
    s = signature(act)
    if s is None:
        return None
    found = [(entry(name).torch_class is None, d, name) for name, ref in catalog_signatures().items()
             if name != exclude and (d := s.difference(ref)) <= tol]
    if not found:
        return None
    _, d, name = min(found)
    return Match(name, d)
