"""Exponential linear units: elu, selu (a scaled elu), celu.

At the kink x = 0 the derivative of the negative piece is returned (torch.nn's convention):
elu'(0) = scale·alpha, celu'(0) = 1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from actlab.core import validate
from actlab.core.activation import AbstractActivation
from actlab.core.properties import INF, Kink, Properties
from actlab.core.registry import register

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


@register("selu", torch_class=nn.SELU, alpha=SELU_ALPHA, scale=SELU_SCALE)
@register("elu", torch_class=nn.ELU)
class ELU(AbstractActivation):
    """Exponential linear unit: f(x) = λ·x (x > 0), λ·α·(eˣ − 1) (x ≤ 0); λ = `scale` (1 for elu).

    f'(x) = λ (x > 0), λ·α·eˣ (x ≤ 0); f'(0) = λ·α.
    Clevert et al. 2016 (ELU); selu is α = 1.6732632…, λ = 1.0507009… (Klambauer et al. 2017).
    """

    def __init__(self, alpha: float = 1.0, scale: float = 1.0) -> None:
        super().__init__(alpha=alpha, scale=scale)
        self.alpha = validate.positive("elu", "alpha", alpha)
        self.scale = validate.positive("elu", "scale", scale)

    def f(self, x: Tensor) -> Tensor:
        if self.alpha == SELU_ALPHA and self.scale == SELU_SCALE:
            return F.selu(x)
        return torch.ops.aten.elu(x, self.alpha, self.scale, 1.0)

    def builtin(self, x: Tensor) -> Tensor:
        return self.f(x)

    def df(self, x: Tensor) -> Tensor:
        neg = self.scale * self.alpha * torch.exp(x.clamp(max=0))
        return torch.where(x > 0, self.scale, neg).to(x.dtype)

    @property
    def properties(self) -> Properties:
        a, s = self.alpha, self.scale
        smooth = a == 1
        return Properties(
            formula=f"{s:g}·x if x > 0 else {s * a:g}·(eˣ − 1)",
            derivative_formula=f"{s:g} if x > 0 else {s * a:g}·eˣ",
            range=(-a * s, INF), monotonic=True, zero_centered=True, saturation_left="soft",
            kinks=() if smooth else (Kink(0.0, s * a),), smoothness=1 if smooth else 0,
            reference="Clevert et al. 2016; Klambauer et al. 2017 (SELU)",
        )


@register("celu", torch_class=nn.CELU)
class CELU(AbstractActivation):
    """Continuously differentiable ELU: f(x) = max(0, x) + min(0, α·(e^(x/α) − 1)).

    f'(x) = 1 (x > 0), e^(x/α) (x ≤ 0): continuous, f'(0) = 1. Barron 2017.
    """

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__(alpha=alpha)
        self.alpha = validate.positive("celu", "alpha", alpha)

    def f(self, x: Tensor) -> Tensor:
        return F.celu(x, self.alpha)

    def builtin(self, x: Tensor) -> Tensor:
        return self.f(x)

    def df(self, x: Tensor) -> Tensor:
        return torch.where(x > 0, 1.0, torch.exp(x.clamp(max=0) / self.alpha)).to(x.dtype)

    @property
    def properties(self) -> Properties:
        a = self.alpha
        return Properties(
            formula=f"max(0, x) + min(0, {a:g}·(e^(x/{a:g}) − 1))", derivative_formula=f"1 if x > 0 else e^(x/{a:g})",
            range=(-a, INF), monotonic=True, zero_centered=True, saturation_left="soft", smoothness=1,
            reference="Barron 2017",
        )
