"""Rectifiers without an exponential: squareplus (algebraic) and sparse_plus (piecewise quadratic).

Both are softplus look-alikes: 0 on the left, x on the right, convex and smooth (sparse_plus: C¹)
in between. softplus itself lives with the sigmoids; sparse_plus' derivative, sparse_sigmoid, is a
hard_sigmoid variant (`sigmoids.py`).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from actlab.catalog._common import step
from actlab.core import validate
from actlab.core.activation import AbstractActivation
from actlab.core.properties import INF, Kink, Properties
from actlab.core.registry import register

_SQUAREPLUS = "Barron 2021, 'Squareplus: a softplus-like algebraic rectifier'; keras.activations.squareplus"


@register("squareplus")
class Squareplus(AbstractActivation):
    """Squareplus: f(x) = (x + √(x² + b))/2, b ≥ 0 (default 4).

    f'(x) = (1 + x/√(x² + b))/2; limits f(−∞) = 0, f'(−∞) = 0, f'(+∞) = 1.
    Written without overflow or cancellation: r = hypot(x, √b) never forms x² (which overflows float32
    beyond |x| ≈ 1.8e19), and since (r + x)(r − x) = b, f = r/2 + x/2 for x ≥ 0 and (b/4)/(r/2 − x/2)
    for x < 0 (a sum of positives on both sides); f' = 1 − q for x ≥ 0 and q for x < 0, with
    q = (b/4)/(r·(r/2 + |x|/2)) = f'(−|x|).
    b = 0 is relu, max(0, x), with relu's kink at 0 and f'(0) = 0 (torch.nn.ReLU's value); so is a b
    below 4× the smallest normal number of the computing format (4.7e-38 in float32, which float16
    and bfloat16 compute in), where √b would round to 0.
    Barron 2021, "Squareplus: a softplus-like algebraic rectifier"; keras.activations.squareplus.
    """

    def __init__(self, b: float = 4.0) -> None:
        super().__init__(b=b)
        self.b = validate.real("squareplus", "b", b, low=0.0)

    def _is_relu(self, x: Tensor) -> bool:
        return self.b < 4 * torch.finfo(x.dtype).tiny

    def _halves(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """r/2, (r + max(x, 0))/2 and (r − min(x, 0))/2: positive and finite wherever x is (r ≥ √b > 0),
        so neither branch of a `where` is inf or nan, under autograd either."""
        r = torch.hypot(x, x.new_tensor(math.sqrt(self.b)))
        h = 0.5 * r
        return r, h + 0.5 * x.clamp(min=0.0), h - 0.5 * x.clamp(max=0.0)

    def f(self, x: Tensor) -> Tensor:
        if self._is_relu(x):
            return torch.relu(x)
        _, right, left = self._halves(x)
        return torch.where(x >= 0, right, (0.25 * self.b) / left)

    def df(self, x: Tensor) -> Tensor:
        if self._is_relu(x):
            return step(x)
        r, right, left = self._halves(x)
        quarter = (0.25 * self.b) / r
        return torch.where(x >= 0, 1 - quarter / right, quarter / left)

    @property
    def properties(self) -> Properties:
        b = self.b
        if b == 0:
            return Properties(
                formula="(x + √(x²))/2 = max(0, x)", derivative_formula="1 if x > 0 else 0", range=(0.0, INF),
                monotonic=True, zero_centered=False, saturation_left="hard", threshold_left=0.0,
                kinks=(Kink(0.0, 0.0),), smoothness=0, reference=_SQUAREPLUS,
            )
        return Properties(
            formula=f"(x + √(x² + {b:g}))/2", derivative_formula=f"(1 + x/√(x² + {b:g}))/2", range=(0.0, INF),
            monotonic=True, zero_centered=False, saturation_left="soft", reference=_SQUAREPLUS,
        )



@register("sparse_plus", aliases=("sparseplus",))
class SparsePlus(AbstractActivation):
    """Sparse plus: f(x) = 0 (x ≤ −1), (x + 1)²/4 (−1 < x < 1), x (x ≥ 1).

    f'(x) = (clip(x, −1, 1) + 1)/2, which is sparse_sigmoid(x): continuous, so f is C¹ without a kink
    (f'(−1) = 0 and f'(1) = 1 from both sides); f'' jumps at ±1 (0 → 1/2 → 0), as squared_relu's does at 0.
    Blondel, Martins & Niculae 2020, "Learning with Fenchel-Young losses" (§6.2);
    keras.activations.sparse_plus.
    """

    def f(self, x: Tensor) -> Tensor:
        quadratic = (x.clamp(-1.0, 1.0) + 1).square() * 0.25  # clamped: finite at ±inf, 0 below −1, 1 above 1
        return torch.where(x >= 1, x, quadratic)

    def df(self, x: Tensor) -> Tensor:
        return (x.clamp(-1.0, 1.0) + 1) * 0.5

    @property
    def properties(self) -> Properties:
        return Properties(
            formula="0 if x ≤ −1; (x + 1)²/4 if −1 < x < 1; x if x ≥ 1", derivative_formula="(clip(x, −1, 1) + 1)/2",
            range=(0.0, INF), monotonic=True, zero_centered=False, saturation_left="hard", threshold_left=-1.0,
            smoothness=1, reference="Blondel et al. 2020 (Fenchel-Young losses); keras.activations.sparse_plus",
        )
