"""Periodic activations: sin, cos, and the snake family (x plus a periodic term)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from actlab.catalog._common import finite
from actlab.core import validate
from actlab.core.activation import AbstractActivation
from actlab.core.properties import INF, Properties
from actlab.core.registry import register

_INV_PI = 1 / math.pi


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
        return -torch.sin(x)

    @property
    def properties(self) -> Properties:
        return Properties(formula="cos(x)", derivative_formula="−sin(x)", range=(-1.0, 1.0), monotonic=False,
                          zero_centered=False, periodic=2 * math.pi, reference="the decision-boundary article")


@register("snake")
class Snake(AbstractActivation):
    """Snake: f(x) = x + sin²(a·x)/a, a > 0 learnable (init `a`, shared or per channel).

    f'(x) = 1 + sin(2a·x) ∈ [0, 2] (so snake is monotonic); ∂f/∂a = x²·S·(2cos(ax) − S)
    with S = sin(ax)/(ax). Written as f(x) = x + a·(x·S)², which is exact at a = 0 (f = x)
    and accurate for tiny a, where sin²(ax)/a would lose every digit.
    Ziyin et al. 2020, "Neural networks fail to learn periodic functions and how to fix it".
    """

    param_names = ("a",)

    def __init__(self, a: float = 1.0, num_parameters: int = 1) -> None:
        super().__init__(a=a, num_parameters=num_parameters)
        self.a0 = validate.positive("snake", "a", a)
        self._make_param("a", self.a0, validate.integer("snake", "num_parameters", num_parameters), learnable=True)

    def f(self, x: Tensor, a: Tensor) -> Tensor:
        xf = finite(x)
        xs = xf * torch.sinc(a * xf * _INV_PI)  # sin(ax)/a
        return x + a * xs * xs

    def df(self, x: Tensor, a: Tensor) -> Tensor:
        return 1 + torch.sin(2 * a * x)

    def dparams(self, x: Tensor, a: Tensor) -> tuple[Tensor]:
        return self.grads(x, a)[1:]

    def grads(self, x: Tensor, a: Tensor) -> tuple[Tensor, Tensor]:
        u = a * x
        sin, cos = torch.sin(u), torch.cos(u)
        s = torch.sinc(u * _INV_PI)
        return 1 + 2 * sin * cos, x * x * s * (2 * cos - s)

    @property
    def properties(self) -> Properties:
        a = self.a0
        return Properties(formula=f"x + sin²({a:g}x)/{a:g}", derivative_formula=f"1 + sin({2 * a:g}x)",
                          range=(-INF, INF), monotonic=True, zero_centered=True, learnable=self._learnable(),
                          reference="Ziyin et al. 2020")


@register("snake_beta")
class SnakeBeta(AbstractActivation):
    """Snake-beta: f(x) = x + sin²(α·x)/β, α and β learnable (BigVGAN's SnakeBeta, linear scale).

    f'(x) = 1 + (α/β)·sin(2αx); ∂f/∂α = x·sin(2αx)/β; ∂f/∂β = −sin²(αx)/β².
    β = 0 is a pole. Lee et al. 2023, "BigVGAN: a universal neural vocoder".
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
        return x + torch.sin(alpha * finite(x)).square() / beta

    def df(self, x: Tensor, alpha: Tensor, beta: Tensor) -> Tensor:
        return 1 + alpha / beta * torch.sin(2 * alpha * x)

    def dparams(self, x: Tensor, alpha: Tensor, beta: Tensor) -> tuple[Tensor, Tensor]:
        return x * torch.sin(2 * alpha * x) / beta, -torch.sin(alpha * x).square() / (beta * beta)

    @property
    def properties(self) -> Properties:
        a, b = self.alpha0, self.beta0
        return Properties(formula=f"x + sin²({a:g}x)/{b:g}", derivative_formula=f"1 + {a / b:g}·sin({2 * a:g}x)",
                          range=(-INF, INF), monotonic=a <= b, zero_centered=True, learnable=self._learnable(),
                          reference="Lee et al. 2023 (BigVGAN)")
