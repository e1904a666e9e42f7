"""ACON ("activate or not", Ma et al., CVPR 2021): a smooth maximum of two linear pieces.

ACON-C: f(x) = (p1 − p2)·x·σ(β(p1 − p2)x) + p2·x, with p1, p2, β learnable.
With d = p1 − p2, z = β·d·x and G = σ(z)·(1 + z·(1 − σ(z))):
  f'(x) = p2 + d·G,   ∂f/∂p1 = x·G,   ∂f/∂p2 = x·(1 − G),   ∂f/∂β = (d·x)²·σ(z)(1 − σ(z)).
ACON-A (p1 = 1, p2 = 0: swish with learnable β) and ACON-B (p1 = 1, learnable p2 = p) are
its constrained forms. meta_acon computes β per sample and channel from the input.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from actlab.catalog._common import finite, finite_, scratch, sigmoid_slope_, silu_slope
from actlab.core import validate
from actlab.core.activation import AbstractActivation, _Exact
from actlab.core.errors import ParameterError
from actlab.core.properties import INF, SWISH_MIN, SWISH_SLOPE_MAX, SWISH_SLOPE_MIN, Properties
from actlab.core.registry import register

_REFERENCE = "Ma et al. 2021, 'Activate or not: learning customized activation' (CVPR)"


def _sigmoid(u: float) -> float:
    return 1 / (1 + math.exp(-u)) if u >= 0 else math.exp(u) / (1 + math.exp(u))


def _h_min(k: float) -> float:
    """min over u of u·σ(u) + k·u for −1 < k < 0: solve G(u) = −k by bisection on [−2.4, 2.4]."""
    lo, hi = -2.3993572805154677, 2.3993572805154677
    for _ in range(200):
        mid = (lo + hi) / 2
        s = _sigmoid(mid)
        lo, hi = (mid, hi) if s * (1 + mid * (1 - s)) + k < 0 else (lo, mid)
    u = (lo + hi) / 2
    return u * _sigmoid(u) + k * u


def acon_properties(p1: float, p2: float, beta: float, learnable: tuple[str, ...], formula: str) -> Properties:
    """Declared properties of ACON-C at fixed (p1, p2, β), derived from h(u) = u·σ(u) + k·u, k = p2/d."""
    d = p1 - p2
    dfm = "p2 + d·σ(z)(1 + z(1 − σ(z))), d = p1 − p2, z = β·d·x"
    if d == 0 or beta == 0:  # f is linear with slope m
        m = p2 if d == 0 else (p1 + p2) / 2
        rng = (-INF, INF) if m != 0 else (0.0, 0.0)
        return Properties(formula=formula, derivative_formula=dfm, range=rng, monotonic=m >= 0,
                          zero_centered=m != 0, learnable=learnable, reference=_REFERENCE)
    k = p2 / d
    if k == 0:
        h_lo, h_hi = SWISH_MIN, INF
    elif k == -1:
        h_lo, h_hi = -INF, -SWISH_MIN
    elif -1 < k < 0:
        h_lo, h_hi = _h_min(k), INF
    else:
        h_lo, h_hi = -INF, INF
    lo, hi = (h_lo / beta, h_hi / beta) if beta > 0 else (h_hi / beta, h_lo / beta)
    min_slope = p2 + d * (SWISH_SLOPE_MIN if d > 0 else SWISH_SLOPE_MAX)
    right, left = (p1, p2) if beta * d > 0 else (p2, p1)  # limits of f' at ±inf
    return Properties(
        formula=formula, derivative_formula=dfm, range=(lo, hi), monotonic=min_slope >= 0,
        zero_centered=lo < 0 < hi, saturation_left="soft" if left == 0 else "none",
        saturation_right="soft" if right == 0 else "none", learnable=learnable, reference=_REFERENCE,
    )


def acon_f(x: Tensor, p1: Tensor, p2: Tensor, beta: Tensor) -> Tensor:
    """ACON-C as x·(p2 + d·σ(β·d·x)); ±inf inputs are taken as ±(largest float), so the output there is never nan."""
    d = p1 - p2
    x = finite(x)
    return scratch((x * (beta * d)).sigmoid_()).mul_(d).add_(p2).mul_(x)


def acon_grads(x: Tensor, p1: Tensor, p2: Tensor, beta: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(f', ∂f/∂p1, ∂f/∂p2, ∂f/∂β) of ACON-C; G = σ(z)(1 + z(1 − σ(z))) is torch's silu_backward kernel."""
    d = p1 - p2
    z = finite_(x * (beta * d))
    gate = silu_slope(z)
    dp1 = x * gate
    dp2 = torch.sub(x, dp1)
    dbeta = sigmoid_slope_(scratch(z)).mul_(x).mul_(x).mul_(d * d)  # (dx)²·σ(z)(1 − σ(z))
    return scratch(gate).mul_(d).add_(p2), dp1, dp2, dbeta


@register("acon_a", learn_p1=False, learn_p2=False, p1=1.0, p2=0.0)
@register("acon_b", learn_p1=False, p1=1.0)
@register("acon_c", aliases=("acon",))
class ACON(AbstractActivation):
    """ACON-C: f(x) = (p1 − p2)·x·σ(β(p1 − p2)x) + p2·x (see the module docstring for f' and ∂f/∂p).

    Defaults p1 = 1, p2 = 0, β = 1 start at swish; the authors' code draws p1, p2 from N(0, 1).
    `learn_p1` / `learn_p2` = False freeze p1 / p2 (acon_a freezes both, acon_b freezes p1 = 1);
    β is always learnable. Shared, or per channel (dim 1) with `num_parameters=C`.
    """

    param_names = ("p1", "p2", "beta")

    def __init__(self, p1: float = 1.0, p2: float = 0.0, beta: float = 1.0, learn_p1: bool = True,
                 learn_p2: bool = True, num_parameters: int = 1) -> None:
        super().__init__(p1=p1, p2=p2, beta=beta, learn_p1=learn_p1, learn_p2=learn_p2,
                         num_parameters=num_parameters)
        self.p10, self.p20 = validate.real("acon", "p1", p1), validate.real("acon", "p2", p2)
        self.beta0 = validate.real("acon", "beta", beta)
        n = validate.integer("acon", "num_parameters", num_parameters)
        self._make_param("p1", self.p10, n, validate.boolean("acon", "learn_p1", learn_p1))
        self._make_param("p2", self.p20, n, validate.boolean("acon", "learn_p2", learn_p2))
        self._make_param("beta", self.beta0, n, learnable=True)

    def f(self, x: Tensor, p1: Tensor, p2: Tensor, beta: Tensor) -> Tensor:
        return acon_f(x, p1, p2, beta)

    def df(self, x: Tensor, p1: Tensor, p2: Tensor, beta: Tensor) -> Tensor:
        return acon_grads(x, p1, p2, beta)[0]

    def dparams(self, x: Tensor, p1: Tensor, p2: Tensor, beta: Tensor) -> tuple[Tensor, ...]:
        return acon_grads(x, p1, p2, beta)[1:]

    def grads(self, x: Tensor, p1: Tensor, p2: Tensor, beta: Tensor) -> tuple[Tensor, ...]:
        return acon_grads(x, p1, p2, beta)

    @property
    def properties(self) -> Properties:
        return acon_properties(self.p10, self.p20, self.beta0, self._learnable(),
                               "(p1 − p2)·x·σ(β(p1 − p2)x) + p2·x")


class _AconMaths:
    """ACON-C's maths with β as an input tensor, for the exact path inside meta_acon."""

    has_vjp = False
    f = staticmethod(acon_f)
    grads = staticmethod(acon_grads)

    @staticmethod
    def expand(x: Tensor, extra: dict) -> dict:
        return extra

    @staticmethod
    def df(x: Tensor, p1: Tensor, p2: Tensor, beta: Tensor) -> Tensor:
        return acon_grads(x, p1, p2, beta)[0]

    @staticmethod
    def dparams(x: Tensor, p1: Tensor, p2: Tensor, beta: Tensor) -> tuple[Tensor, ...]:
        return acon_grads(x, p1, p2, beta)[1:]


@register("meta_acon", aliases=("meta_acon_c",))
class MetaACON(AbstractActivation):
    """Meta-ACON: ACON-C whose β = σ(fc2(fc1(mean of x over dims ≥ 2))), per sample and channel.

    fc1: C → max(r, C // r), fc2: back to C (1×1 convolutions in the authors' code, without the
    batch norms they later removed). Input (N, C, ...) with C = `channels`; p1, p2 per channel.
    The ACON part runs on the exact path with β as an input, so ∂f/∂β = (d·x)²σ(z)(1 − σ(z))
    flows into β's network (ordinary autograd). Not elementwise: β depends on the whole sample.
    """

    elementwise_maths = False  # β is computed from the whole sample

    param_names = ("p1", "p2")

    def __init__(self, channels: int = 1, r: int = 16, p1: float = 1.0, p2: float = 0.0) -> None:
        super().__init__(channels=channels, r=r, p1=p1, p2=p2)
        c = validate.integer("meta_acon", "channels", channels)
        hidden = max(validate.integer("meta_acon", "r", r), c // r)
        self.p10, self.p20 = validate.real("meta_acon", "p1", p1), validate.real("meta_acon", "p2", p2)
        self.fc1, self.fc2 = nn.Linear(c, hidden), nn.Linear(hidden, c)
        self._make_param("p1", self.p10, c, learnable=True)
        self._make_param("p2", self.p20, c, learnable=True)

    def beta(self, x: Tensor) -> Tensor:
        """β of shape (N, C, 1, ...), computed from x."""
        c = self.fc1.in_features
        if x.dim() < 2 or x.shape[1] != c:
            raise ParameterError(f"meta_acon(channels={c}) expects input (N, {c}, ...), got {tuple(x.shape)}")
        pooled = x.mean(dim=tuple(range(2, x.dim()))) if x.dim() > 2 else x
        hidden = F.linear(pooled, self.fc1.weight.to(x.dtype), self.fc1.bias.to(x.dtype))
        b = torch.sigmoid(F.linear(hidden, self.fc2.weight.to(x.dtype), self.fc2.bias.to(x.dtype)))
        return b.reshape(b.shape + (1,) * (x.dim() - 2))

    def param_views(self, x: Tensor) -> tuple[Tensor, ...]:
        shape = (1, -1) + (1,) * (x.dim() - 2)
        return tuple(getattr(self, n).to(x.dtype).reshape(shape) for n in ("p1", "p2"))

    def f(self, x: Tensor, p1: Tensor, p2: Tensor) -> Tensor:
        return acon_f(x, p1, p2, self.beta(x))

    def exact(self, x: Tensor) -> Tensor:
        beta = self.beta(x)
        return _Exact.apply(_AconMaths, {}, False, x, *self.param_views(x), beta)

    @torch.no_grad()
    def derivative(self, x: Tensor) -> Tensor:
        """∂(Σ f(x))/∂x, including the path through β (by autograd over the exact path)."""
        with torch.enable_grad():
            xg = x.detach().requires_grad_(True)
            (g,) = torch.autograd.grad(self.forward(xg).sum(), xg)
        return g

    @property
    def properties(self) -> Properties:
        return Properties(
            formula="(p1 − p2)·x·σ(β(x)(p1 − p2)x) + p2·x, β(x) = σ(fc2(fc1(mean x)))",
            derivative_formula="vector-Jacobian product through β(x); elementwise part as acon_c",
            range=(-INF, INF), monotonic=False, zero_centered=True, saturation_left="soft",
            elementwise=False, learnable=("p1", "p2", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"),
            reference=_REFERENCE,
        )
