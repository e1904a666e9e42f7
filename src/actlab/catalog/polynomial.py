"""Polynomial activations of the decision-boundary article: identity, square, signed_square."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from actlab.core.activation import AbstractActivation
from actlab.core.properties import INF, Properties
from actlab.core.registry import register


@register("identity", aliases=("linear", "none"), torch_class=nn.Identity)
class Identity(AbstractActivation):
    """f(x) = x; f'(x) = 1. The linear unit (no activation)."""

    def f(self, x: Tensor) -> Tensor:
        return x.clone()

    def builtin(self, x: Tensor) -> Tensor:
        """A view of x, as cheap as torch.nn.Identity (which returns x itself)."""
        return x.view_as(x)

    def df(self, x: Tensor) -> Tensor:
        return torch.ones_like(x)

    @property
    def properties(self) -> Properties:
        return Properties(formula="x", derivative_formula="1", range=(-INF, INF), monotonic=True,
                          zero_centered=True, reference="—")


@register("square", aliases=("x2",))
class Square(AbstractActivation):
    """f(x) = x²; f'(x) = 2x. A quadratic unit: two of them separate a circle from its outside."""

    def f(self, x: Tensor) -> Tensor:
        return x.square()

    def df(self, x: Tensor) -> Tensor:
        return 2 * x

    @property
    def properties(self) -> Properties:
        return Properties(formula="x²", derivative_formula="2x", range=(0.0, INF), monotonic=False,
                          zero_centered=False, reference="quadratic units; the decision-boundary article")


@register("signed_square")
class SignedSquare(AbstractActivation):
    """f(x) = sign(x)·x² = x·|x|; f'(x) = 2|x| (C¹: f'' jumps at 0, f' does not)."""

    def f(self, x: Tensor) -> Tensor:
        return x.abs().mul_(x)

    def df(self, x: Tensor) -> Tensor:
        return x.abs().mul_(2)

    @property
    def properties(self) -> Properties:
        return Properties(formula="sign(x)·x²", derivative_formula="2|x|", range=(-INF, INF), monotonic=True,
                          zero_centered=True, smoothness=1, reference="the decision-boundary article")
