"""Periodic activations: sin, cos, and the snake family (x plus a periodic term)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from actlab.catalog._common import finite, scratch
from actlab.core import validate
from actlab.core.activation import AbstractActivation
from actlab.core.properties import INF, Properties
from actlab.core.registry import register


@register("sin", aliases=("sine",))
class Sin(AbstractActivation):
    """f(x) = sin(x); f'(x) = cos(x). Sitzmann et al. 2020 (SIREN) use it with a scaled input."""

    def f(self, x: Tensor) -> Tensor:
        return torch.sin(x)

    def df(self, x: Tensor) -> Tensor:
        return torch.cos(x)

    @property
    def properties(self) -> Properties:
        return Properties(formula="sin(x)", derivative_formula="cos(x)", range=(-1.0, 1.0), monotonic=False,
                          zero_centered=True, periodic=2 * math.pi, reference="Sitzmann et al. 2020")


@register("cos", aliases=("cosine",))
class Cos(AbstractActivation):
    """f(x) = cos(x); f'(x) = −sin(x). The periodic unit of the decision-boundary article."""

    def f(self, x: Tensor) -> Tensor:
        return torch.cos(x)

    def df(self, x: Tensor) -> Tensor:
        return torch.sin(x).neg_()

    @property
    def properties(self) -> Properties:
        return Properties(formula="cos(x)", derivative_formula="−sin(x)", range=(-1.0, 1.0), monotonic=False,
                          zero_centered=False, periodic=2 * math.pi, reference="the decision-boundary article")


def _nonzero(a: Tensor) -> Tensor:
    """a, with |a| below the smallest normal float taken as that float: sin(ax)/a and its derivatives
    then have their a → 0 limits (x, x²) instead of 0/0, and 1/a stays finite."""
    tiny = torch.finfo(a.dtype).tiny
    return torch.where(a.abs() < tiny, tiny, a)


@register("snake")
class Snake(AbstractActivation):
    """Snake: f(x) = x + sin²(a·x)/a, a > 0 learnable (init `a`, shared or per channel).

    f'(x) = 1 + sin(2a·x) ∈ [0, 2] (so snake is monotonic); ∂f/∂a = v·(2x·cos(ax) − v) with
    v = sin(ax)/a. Exact at a = 0 (f = x: the sin² term is dropped there) and accurate for tiny a
    (|a| below the smallest normal float counts as that float, so v → x and ∂f/∂a → x²).
    One sin in forward, a sin and a cos in backward.
    Ziyin et al. 2020, "Neural networks fail to learn periodic functions and how to fix it".
    """

    param_names = ("a",)

    def __init__(self, a: float = 1.0, num_parameters: int = 1) -> None:
        super().__init__(a=a, num_parameters=num_parameters)
        self.a0 = validate.positive("snake", "a", a)
        self._make_param("a", self.a0, validate.integer("snake", "num_parameters", num_parameters), learnable=True)

    def f(self, x: Tensor, a: Tensor) -> Tensor:
        an = _nonzero(a)
        inv = torch.where(an == a, 1 / an, 0.0)  # 1/a, and 0 for a = 0 (or below the smallest normal): f = x
        # ±inf inputs are taken as ±(largest float): the sin² term stays bounded and f = ±inf
        return finite(x).mul_(an).sin_().square_().mul_(inv).add_(x)

    def df(self, x: Tensor, a: Tensor) -> Tensor:
        return torch.sin(x * (2 * a)).add_(1)

    def dparams(self, x: Tensor, a: Tensor) -> tuple[Tensor]:
        return self.grads(x, a)[1:]

    def grads(self, x: Tensor, a: Tensor) -> tuple[Tensor, Tensor]:
        an = _nonzero(a)
        u = x * an
        sin = torch.sin(u)
        cos = scratch(u).cos_()
        d = torch.addcmul(x.new_ones(()), sin, cos, value=2.0)  # 1 + sin(2ax)
        v2 = scratch(sin).mul_(2 / an)  # 2v
        return d, scratch(cos).mul_(x).sub_(v2, alpha=0.25).mul_(v2)  # (x·cos − v/2)·2v = v(2x·cos − v)

    @property
    def properties(self) -> Properties:
        a = self.a0
        return Properties(formula=f"x + sin²({a:g}x)/{a:g}", derivative_formula=f"1 + sin({2 * a:g}x)",
                          range=(-INF, INF), monotonic=True, zero_centered=True, learnable=self._learnable(),
                          reference="Ziyin et al. 2020")


@register("snake_beta")
class SnakeBeta(AbstractActivation):
    """Snake-beta: f(x) = x + sin²(α·x)/β, α and β learnable (BigVGAN's SnakeBeta, linear scale).

    f'(x) = 1 + (α/β)·sin(2αx); ∂f/∂α = x·sin(2αx)/β; ∂f/∂β = −sin²(αx)/β² (one sin and
    cos of αx for all three). β = 0 is a pole. Lee et al. 2023, "BigVGAN: a universal neural vocoder".
    """

    param_names = ("alpha", "beta")

    def __init__(self, alpha: float = 1.0, beta: float = 1.0, num_parameters: int = 1) -> None:
        super().__init__(alpha=alpha, beta=beta, num_parameters=num_parameters)
        self.alpha0 = validate.positive("snake_beta", "alpha", alpha)
        self.beta0 = validate.positive("snake_beta", "beta", beta)
        n = validate.integer("snake_beta", "num_parameters", num_parameters)
        self._make_param("alpha", self.alpha0, n, learnable=True)
        self._make_param("beta", self.beta0, n, learnable=True)

    def f(self, x: Tensor, alpha: Tensor, beta: Tensor) -> Tensor:
        return finite(x).mul_(alpha).sin_().square_().div_(beta).add_(x)

    def df(self, x: Tensor, alpha: Tensor, beta: Tensor) -> Tensor:
        return torch.sin(x * (2 * alpha)).mul_(alpha / beta).add_(1)

    def dparams(self, x: Tensor, alpha: Tensor, beta: Tensor) -> tuple[Tensor, Tensor]:
        return self.grads(x, alpha, beta)[1:]

    def grads(self, x: Tensor, alpha: Tensor, beta: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        u = x * alpha
        sin = torch.sin(u)
        sin2 = scratch(u).cos_().mul_(sin).mul_(2 / beta)  # sin(2αx)/β
        d = torch.addcmul(x.new_ones(()), sin2, alpha)
        return d, scratch(sin2).mul_(x), scratch(sin).square_().mul_(-1 / (beta * beta))

    @property
    def properties(self) -> Properties:
        a, b = self.alpha0, self.beta0
        return Properties(formula=f"x + sin²({a:g}x)/{b:g}", derivative_formula=f"1 + {a / b:g}·sin({2 * a:g}x)",
                          range=(-INF, INF), monotonic=a <= b, zero_centered=True, learnable=self._learnable(),
                          reference="Lee et al. 2023 (BigVGAN)")
