"""Self-gated units f(x) = x·gate(x): gelu, gelu_tanh, swish/silu/quick_gelu, mish, hard_swish, hard_mish."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from actlab.catalog._common import finite_, finite_below, scratch, sigmoid_slope_, silu_slope
from actlab.core import validate
from actlab.core.activation import AbstractActivation
from actlab.core.properties import INF, SWISH_MIN, Kink, Properties
from actlab.core.registry import register

GELU_MIN = -0.16997120747990366169
"""min of x·Φ(x), at x = −0.75179152469356445746 (mpmath)."""
GELU_TANH_MIN = -0.17004075057125405084
"""min of the tanh approximation, at x = −0.75246142207101626049 (mpmath)."""
MISH_MIN = -0.30884341301725040663
"""min of x·tanh(softplus(x)), at x = −1.1924312145154952121 (mpmath)."""

_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_INV_SQRT_2 = 1 / math.sqrt(2)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


def _gated(formula: str, derivative: str, low: float, reference: str, learnable: tuple[str, ...] = ()) -> Properties:
    return Properties(
        formula=formula, derivative_formula=derivative, range=(low, INF), monotonic=False, zero_centered=True,
        saturation_left="soft", learnable=learnable, reference=reference,
    )


@register("gelu_tanh", aliases=("gelu_approx",), approximate="tanh")
@register("gelu", torch_class=nn.GELU)
class GELU(AbstractActivation):
    """Gaussian error linear unit: f(x) = x·Φ(x), Φ the standard normal CDF.

    f'(x) = Φ(x) + x·φ(x). With approximate='tanh' (gelu_tanh):
    f(x) = x/2·(1 + tanh(k(x + 0.044715x³))), k = √(2/π),
    f'(x) = (1 + t)/2 + x/2·(1 − t²)·k(1 + 3·0.044715x²).
    Hendrycks & Gimpel 2016, "Gaussian error linear units (GELUs)".
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__(approximate=approximate)
        self.approximate = validate.choice("gelu", "approximate", approximate, ("none", "tanh"))

    def f(self, x: Tensor) -> Tensor:
        # Below x = −40 both forms are −0 in every float format, so clamping there is exact and
        # avoids −inf·0 = nan; torch's erf-form kernel also returns nan at +inf (limit +inf).
        y = F.gelu(x.clamp(min=-40.0), approximate=self.approximate)
        return torch.where(x == math.inf, x, y) if self.approximate == "none" else y

    def builtin(self, x: Tensor) -> Tensor | None:
        return F.gelu(x, approximate=self.approximate)

    def df(self, x: Tensor) -> Tensor:
        x = x.clamp(-40.0, 40.0)  # f' is exactly 0 / 1 beyond in every float format
        if self.approximate == "tanh":
            t = torch.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
        return 0.5 * torch.erfc(-x * _INV_SQRT_2) + x * torch.exp(-0.5 * x * x) * _INV_SQRT_2PI

    @property
    def properties(self) -> Properties:
        if self.approximate == "tanh":
            return _gated("x/2·(1 + tanh(√(2/π)(x + 0.044715x³)))", "(1 + t)/2 + x/2·(1 − t²)·√(2/π)(1 + 0.134145x²)",
                          GELU_TANH_MIN, "Hendrycks & Gimpel 2016")
        return _gated("x·Φ(x)", "Φ(x) + x·φ(x)", GELU_MIN, "Hendrycks & Gimpel 2016")


@register("quick_gelu", beta=1.702, learnable=False)
@register("silu", torch_class=nn.SiLU, beta=1.0, learnable=False)
@register("swish")
class Swish(AbstractActivation):
    """Swish: f(x) = x·σ(βx); silu is β = 1, quick_gelu is β = 1.702.

    f'(x) = σ(βx)·(1 + βx·(1 − σ(βx))); ∂f/∂β = x²·σ(βx)·(1 − σ(βx)).
    β is learnable with `learnable=True` (shared, or per channel with `num_parameters=C`).
    Ramachandran et al. 2017, "Searching for activation functions"; Elfwing et al. 2018 (SiLU).
    """

    param_names = ("beta",)
    builtin_reads_params = False  # F.silu for a fixed β = 1: an ensemble's stacked β buffers keep it

    def __init__(self, beta: float = 1.0, learnable: bool = False, num_parameters: int = 1) -> None:
        super().__init__(beta=beta, learnable=learnable, num_parameters=num_parameters)
        self.beta0 = validate.positive("swish", "beta", beta)
        n = validate.integer("swish", "num_parameters", num_parameters)
        self._make_param("beta", self.beta0, n, learnable=validate.boolean("swish", "learnable", learnable))

    def builtin(self, x: Tensor) -> Tensor | None:
        return F.silu(x) if self.beta0 == 1.0 and not self._learnable() else None

    def f(self, x: Tensor, beta: Tensor) -> Tensor:
        if self.beta0 == 1.0 and not self._learnable():
            return F.silu(finite_below(x))
        x = finite_below(x)
        return scratch((x * beta).sigmoid_()).mul_(x)

    def df(self, x: Tensor, beta: Tensor) -> Tensor:
        return silu_slope(finite_(x * beta))  # σ(z)(1 + z(1 − σ(z))), z = βx

    def dparams(self, x: Tensor, beta: Tensor) -> tuple[Tensor]:
        return self.grads(x, beta)[1:]

    def grads(self, x: Tensor, beta: Tensor) -> tuple[Tensor, Tensor]:
        z = finite_(x * beta)
        d = silu_slope(z)
        return d, sigmoid_slope_(scratch(z)).mul_(x).mul_(x)

    @property
    def properties(self) -> Properties:
        b = self.beta0
        return _gated(f"x·σ({b:g}x)", f"σ({b:g}x)·(1 + {b:g}x·(1 − σ({b:g}x)))", SWISH_MIN / b,
                      "Ramachandran et al. 2017; Elfwing et al. 2018", self._learnable())


def _tanh_softplus(n: Tensor) -> Tensor:
    """tanh(softplus(x)) from n = 2σ(x), in n's storage: m/(2 − m) with m = n − n²/4 = σ(2 − σ).
    Bounded, exact in both limits, and without cancellation as x → −∞, where it is ≈ σ(x)."""
    m = scratch(n).addcmul_(n, n, value=-0.25)
    return scratch(m).div_(2 - m)


@register("mish", torch_class=nn.Mish)
class Mish(AbstractActivation):
    """Mish: f(x) = x·tanh(softplus(x)).

    f'(x) = tanh(sp) + x·σ(x)·(1 − tanh²(sp)), sp = softplus(x). tanh(sp) is computed from σ(x)
    (see `_tanh_softplus`): a sigmoid is several times cheaper than torch's tanh and log1p on CPU.
    Misra 2019, "Mish: a self regularized non-monotonic activation function".
    """

    def f(self, x: Tensor) -> Tensor:
        return _tanh_softplus(scratch(torch.sigmoid(x)).mul_(2)).mul_(finite_below(x))

    def df(self, x: Tensor) -> Tensor:
        s = torch.sigmoid(x)
        t = _tanh_softplus(s * 2)
        # x·σ(x) is −inf·0 = nan at x = −inf and +inf at x = +inf: as 0 and the largest float, their
        # product with 1 − t² = 0 is the limit 0 (a nan input stays nan through t)
        xs = scratch(s).mul_(x).nan_to_num_(0.0)
        return torch.ops.aten.tanh_backward(xs, t).add_(t)  # t + x·σ(x)·(1 − t²)

    @property
    def properties(self) -> Properties:
        return _gated("x·tanh(log(1 + eˣ))", "tanh(sp) + x·σ(x)·sech²(sp)", MISH_MIN, "Misra 2019")


@register("hard_swish", aliases=("hardswish",), torch_class=nn.Hardswish)
class HardSwish(AbstractActivation):
    """Hard swish: f(x) = x·relu6(x + 3)/6.

    f'(x) = 0 (x ≤ −3), x/3 + 1/2 (−3 < x < 3), 1 (x ≥ 3); f'(−3) = 0, f'(3) = 1 (torch's).
    Howard et al. 2019, "Searching for MobileNetV3".
    """

    def f(self, x: Tensor) -> Tensor:
        return F.hardswish(x.clamp(min=-4.0))  # f = 0 for x ≤ −3: exact, and no −inf·0

    def builtin(self, x: Tensor) -> Tensor | None:
        return F.hardswish(x)

    def df(self, x: Tensor) -> Tensor:
        x = x.clamp(-4.0, 4.0)
        mid = ((x > -3) & (x < 3)).to(x.dtype)
        return mid * (x / 3 + 0.5) + (x >= 3).to(x.dtype)

    @property
    def properties(self) -> Properties:
        return Properties(
            formula="x·relu6(x + 3)/6", derivative_formula="0 if x ≤ −3; x/3 + 1/2 if −3 < x < 3; 1 if x ≥ 3",
            range=(-0.375, INF), monotonic=False, zero_centered=True, saturation_left="hard", threshold_left=-3.0,
            kinks=(Kink(-3.0, 0.0), Kink(3.0, 1.0)), smoothness=0, reference="Howard et al. 2019",
        )


@register("hard_mish", aliases=("hardmish",))
class HardMish(AbstractActivation):
    """Hard mish: f(x) = x·clip(x + 2, 0, 2)/2: 0 (x ≤ −2), x(x + 2)/2 (−2 < x < 0), x (x ≥ 0).

    f'(x) = 0 (x ≤ −2), x + 1 (−2 < x < 0), 1 (x ≥ 0); minimum −1/2 at x = −1.
    One kink, at −2, where f' jumps from 0 (left) to −1 (right): f'(−2) = 0, the saturated side's value,
    as hard_swish's f'(−3) (timm's hard_mish_bwd, and autograd of its clamp, give −1 there). At 0, f' is 1
    from both sides (f'' jumps from 1 to 0): no kink.
    timm.layers.activations.hard_mish (after Misra's H-Mish notes).
    """

    def f(self, x: Tensor) -> Tensor:
        x = x.clamp(min=-3.0)  # f = 0 for x ≤ −2: exact, and no −inf·0
        return 0.5 * x * (x + 2).clamp(0.0, 2.0)

    def df(self, x: Tensor) -> Tensor:
        return (x.clamp(-2.0, 0.0) + 1) * (x > -2).to(x.dtype)

    @property
    def properties(self) -> Properties:
        return Properties(
            formula="x·clip(x + 2, 0, 2)/2", derivative_formula="0 if x ≤ −2; x + 1 if −2 < x < 0; 1 if x ≥ 0",
            range=(-0.5, INF), monotonic=False, zero_centered=True, saturation_left="hard", threshold_left=-2.0,
            kinks=(Kink(-2.0, 0.0),), smoothness=0, reference="timm.layers.activations.hard_mish (Misra, H-Mish)",
        )
