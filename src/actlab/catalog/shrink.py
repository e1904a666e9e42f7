"""Shrinkage functions: soft_shrink, hard_shrink, tanh_shrink (f' = 0 exactly at ±λ)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from actlab.catalog._common import scratch
from actlab.core import validate
from actlab.core.activation import AbstractActivation
from actlab.core.properties import INF, Kink, Properties
from actlab.core.registry import register


def _outside(x: Tensor, lambd: float) -> Tensor:
    return (x.abs() > lambd).to(x.dtype)


@register("soft_shrink", aliases=("softshrink",), torch_class=nn.Softshrink)
class SoftShrink(AbstractActivation):
    """f(x) = x − λ (x > λ), x + λ (x < −λ), 0 otherwise; f'(x) = 1 if |x| > λ else 0. Donoho 1995."""

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__(lambd=lambd)
        self.lambd = validate.real("soft_shrink", "lambd", lambd, low=0.0)

    def f(self, x: Tensor) -> Tensor:
        return F.softshrink(x, self.lambd)

    def builtin(self, x: Tensor) -> Tensor:
        return self.f(x)

    def df(self, x: Tensor) -> Tensor:
        return _outside(x, self.lambd)

    @property
    def properties(self) -> Properties:
        lam = self.lambd
        return Properties(
            formula=f"sign(x)·max(0, |x| − {lam:g})", derivative_formula=f"1 if |x| > {lam:g} else 0",
            range=(-INF, INF), monotonic=True, zero_centered=True,
            kinks=(Kink(-lam, 0.0), Kink(lam, 0.0)) if lam > 0 else (), smoothness=0 if lam > 0 else INF,
            reference="Donoho 1995",
        )


@register("hard_shrink", aliases=("hardshrink",), torch_class=nn.Hardshrink)
class HardShrink(AbstractActivation):
    """f(x) = x if |x| > λ else 0 (jumps at ±λ); f'(x) = 1 if |x| > λ else 0. torch.nn.Hardshrink."""

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__(lambd=lambd)
        self.lambd = validate.real("hard_shrink", "lambd", lambd, low=0.0)

    def f(self, x: Tensor) -> Tensor:
        return F.hardshrink(x, self.lambd)

    def builtin(self, x: Tensor) -> Tensor:
        return self.f(x)

    def df(self, x: Tensor) -> Tensor:
        return _outside(x, self.lambd)

    @property
    def properties(self) -> Properties:
        lam = self.lambd
        return Properties(
            formula=f"x if |x| > {lam:g} else 0", derivative_formula=f"1 if |x| > {lam:g} else 0",
            range=(-INF, INF), monotonic=True, zero_centered=True,
            kinks=(Kink(-lam, 0.0), Kink(lam, 0.0)) if lam > 0 else (), smoothness=-1 if lam > 0 else INF,
            reference="torch.nn.Hardshrink",
        )


@register("tanh_shrink", aliases=("tanhshrink",), torch_class=nn.Tanhshrink)
class TanhShrink(AbstractActivation):
    """f(x) = x − tanh(x); f'(x) = tanh²(x). torch.nn.Tanhshrink.

    tanh is torch's own (2σ(2x) − 1 would be cheaper on CPU, but its error of one ulp of 1 ruins f
    ≈ x³/3 near 0: 28 % at x = 0.01 in float32)."""

    def f(self, x: Tensor) -> Tensor:
        return F.tanhshrink(x)

    def df(self, x: Tensor) -> Tensor:
        return scratch(torch.tanh(x)).square_()

    @property
    def properties(self) -> Properties:
        return Properties(
            formula="x − tanh(x)", derivative_formula="tanh²(x)", range=(-INF, INF), monotonic=True,
            zero_centered=True, reference="torch.nn.Tanhshrink",
        )
