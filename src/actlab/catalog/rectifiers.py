"""Rectifiers: piecewise-linear units (relu, leaky_relu, relu6, leaky_relu6, prelu, rrelu, threshold).

Kink convention (torch.nn's): at a kink the derivative of the *outer* piece is returned,
e.g. relu'(0) = 0, leaky_relu'(0) = negative_slope, relu6'(6) = 0.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from actlab.catalog._common import pick, scratch, step
from actlab.core import noise, validate
from actlab.core.activation import AbstractActivation
from actlab.core.properties import INF, Kink, Properties
from actlab.core.registry import register


def _leaky_properties(slope: float, formula: str, reference: str, learnable: tuple[str, ...] = (),
                      stochastic: bool = False) -> Properties:
    return Properties(
        formula=formula,
        derivative_formula="1 if x > 0 else a",
        range=(-INF if slope > 0 else 0.0, INF),
        monotonic=slope >= 0,
        zero_centered=slope > 0,
        saturation_left="hard" if slope == 0 else "none",
        threshold_left=0.0 if slope == 0 else None,
        kinks=(Kink(0.0, slope),) if slope != 1 else (),
        smoothness=0 if slope != 1 else INF,
        learnable=learnable,
        stochastic=stochastic,
        reference=reference,
    )


@register("leaky_relu", aliases=("lrelu",), torch_class=nn.LeakyReLU)
@register("relu", torch_class=nn.ReLU, negative_slope=0.0)
class LeakyReLU(AbstractActivation):
    """Leaky ReLU: f(x) = x if x > 0 else a·x, with a = `negative_slope` (relu: a = 0).

    f'(x) = 1 if x > 0 else a; f'(0) = a.
    Maas et al. 2013, "Rectifier nonlinearities improve neural network acoustic models"
    (relu: Nair & Hinton 2010).
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__(negative_slope=negative_slope)
        self.negative_slope = validate.real("leaky_relu", "negative_slope", negative_slope)

    def f(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, self.negative_slope) if self.negative_slope else torch.relu(x)

    def builtin(self, x: Tensor) -> Tensor:
        return self.f(x)

    def df(self, x: Tensor) -> Tensor:
        return pick(x > 0, 1.0, self.negative_slope, x)

    @property
    def properties(self) -> Properties:
        a = self.negative_slope
        return _leaky_properties(a, "max(0, x)" if a == 0 else f"x if x > 0 else {a:g}·x",
                                 "Nair & Hinton 2010; Maas et al. 2013")


@register("leaky_relu6", aliases=("lrelu6",))
@register("relu6", torch_class=nn.ReLU6, negative_slope=0.0, cap=6.0, cap_slope=0.0)
class LeakyReLU6(AbstractActivation):
    """Leaky ReLU6: slope a below 0, identity on [0, cap], slope b above cap.

    f(x) = a·x (x < 0), x (0 ≤ x ≤ cap), cap + b·(x − cap) (x > cap);
    f'(x) = a (x ≤ 0), 1 (0 < x < cap), b (x ≥ cap).
    Defaults a = 0.01, cap = 6, b = 0 (the ReLU6 + leaky combination of the source article);
    relu6 is a = b = 0 (Krizhevsky 2010, "Convolutional deep belief networks on CIFAR-10").
    """

    def __init__(self, negative_slope: float = 0.01, cap: float = 6.0, cap_slope: float = 0.0) -> None:
        super().__init__(negative_slope=negative_slope, cap=cap, cap_slope=cap_slope)
        self.negative_slope = validate.real("leaky_relu6", "negative_slope", negative_slope, low=0.0)
        self.cap = validate.positive("leaky_relu6", "cap", cap)
        self.cap_slope = validate.real("leaky_relu6", "cap_slope", cap_slope, low=0.0)

    def builtin(self, x: Tensor) -> Tensor | None:
        return F.hardtanh(x, 0.0, self.cap) if self.negative_slope == 0 and self.cap_slope == 0 else None

    def f(self, x: Tensor) -> Tensor:
        a, c, b = self.negative_slope, self.cap, self.cap_slope
        y = (F.leaky_relu(x, a) if a else x.clamp(min=0.0)).clamp_(max=c)  # leaky_relu(−inf, 0) would be −inf·0
        return y.add_((x - c).clamp_(min=0.0), alpha=b) if b else y

    def df(self, x: Tensor) -> Tensor:
        # torch's leaky_relu_backward kernel: a for x ≤ 0, else the incoming factor: 1 below the cap,
        # b from it on (a comparison written straight into a float tensor: `.to` of a bool is slower)
        a, c, b = self.negative_slope, self.cap, self.cap_slope
        below = torch.lt(x, c, out=torch.empty_like(x))
        if b:
            below = below.mul_(1 - b).add_(b)
        return torch.ops.aten.leaky_relu_backward(below, x, a, False)

    @property
    def properties(self) -> Properties:
        a, c, b = self.negative_slope, self.cap, self.cap_slope
        return Properties(
            formula=_piecewise(a, c, b),
            derivative_formula=f"{a:g} if x ≤ 0; 1 if 0 < x < {c:g}; {b:g} if x ≥ {c:g}",
            range=(-INF if a > 0 else 0.0, INF if b > 0 else c),
            monotonic=True,
            zero_centered=a > 0,
            saturation_left="hard" if a == 0 else "none",
            threshold_left=0.0 if a == 0 else None,
            saturation_right="hard" if b == 0 else "none",
            threshold_right=c if b == 0 else None,
            kinks=tuple(k for k, s in ((Kink(0.0, a), a), (Kink(c, b), b)) if s != 1),
            smoothness=0,
            reference="Krizhevsky 2010 (ReLU6); leaky variant from the source articles",
        )


def _piecewise(a: float, c: float, b: float) -> str:
    if a == 0 and b == 0:
        return f"min(max(0, x), {c:g})"
    below = f"{a:g}·x if x < 0; " if a else "0 if x < 0; "
    above = f"{c:g} + {b:g}·(x − {c:g})" if b else f"{c:g}"
    return f"{below}x if 0 ≤ x ≤ {c:g}; {above} if x > {c:g}"


@register("prelu", torch_class=nn.PReLU)
class PReLU(AbstractActivation):
    """Parametric ReLU: f(x) = x if x > 0 else a·x with learnable a (init 0.25).

    f'(x) = 1 if x > 0 else a; ∂f/∂a = min(0, x); f'(0) = a.
    One shared a, or one per channel (dim 1) with `num_parameters=C`.
    He et al. 2015, "Delving deep into rectifiers".
    """

    param_names = ("a",)

    def __init__(self, init: float = 0.25, num_parameters: int = 1) -> None:
        super().__init__(init=init, num_parameters=num_parameters)
        self.init = validate.real("prelu", "init", init)
        n = validate.integer("prelu", "num_parameters", num_parameters)
        self._make_param("a", self.init, n, learnable=True)

    def f(self, x: Tensor, a: Tensor) -> Tensor:
        return torch.where(x > 0, x, a * x)

    def builtin(self, x: Tensor) -> Tensor:
        (a,) = self.param_views(x)  # the channel check, with actlab's message
        return F.prelu(x, a.reshape(-1))

    def df(self, x: Tensor, a: Tensor) -> Tensor:
        return torch.where(x > 0, torch.ones_like(a), a).to(x.dtype)

    def dparams(self, x: Tensor, a: Tensor) -> tuple[Tensor]:
        return (torch.clamp(x, max=0),)

    @property
    def properties(self) -> Properties:
        return _leaky_properties(self.init, "x if x > 0 else a·x", "He et al. 2015",
                                 learnable=self._learnable())


@register("rrelu", torch_class=nn.RReLU)
class RReLU(AbstractActivation):
    """Randomized leaky ReLU: f(x) = x if x ≥ 0 else a·x.

    In train(), a ~ U(lower, upper) drawn per element; in eval(), a = (lower + upper)/2,
    the expectation. f'(x) = 1 if x > 0 else a; f'(0) = a.
    Xu et al. 2015, "Empirical evaluation of rectified activations in convolutional network".
    """

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3) -> None:
        super().__init__(lower=lower, upper=upper)
        self.lower = validate.real("rrelu", "lower", lower, low=0.0)
        self.upper = validate.real("rrelu", "upper", upper, low=self.lower)

    def _extra(self, x: Tensor) -> dict:
        return {"seed": noise.new_seed(x.device)} if self.training else {}

    def expand(self, x: Tensor, extra: dict) -> dict:
        """Per-element slopes from the forward pass's seed (train), or their mean (eval)."""
        if "seed" in extra:
            return {"slope": noise.draw(extra["seed"], x, "uniform", self.lower, self.upper)}
        return {"slope": (self.lower + self.upper) / 2}

    def f(self, x: Tensor, slope: Tensor | float = 0.0) -> Tensor:
        return torch.where(x >= 0, x, slope * x)

    def builtin(self, x: Tensor) -> Tensor | None:
        """eval(): leaky_relu with the mean slope; train() draws actlab's own noise (exact path)."""
        return None if self.training else F.leaky_relu(x, (self.lower + self.upper) / 2)

    def df(self, x: Tensor, slope: Tensor | float = 0.0) -> Tensor:
        if isinstance(slope, float):
            return pick(x > 0, 1.0, slope, x)
        return torch.where(x > 0, 1.0, slope).to(x.dtype)

    @property
    def properties(self) -> Properties:
        return _leaky_properties((self.lower + self.upper) / 2, "x if x ≥ 0 else a·x, a ~ U(lower, upper)",
                                 "Xu et al. 2015", stochastic=True)


@register("threshold", torch_class=nn.Threshold)
class Threshold(AbstractActivation):
    """Threshold: f(x) = x if x > threshold else value.

    f'(x) = 1 if x > threshold else 0; f'(threshold) = 0. Discontinuous unless value == threshold.
    Defaults threshold = 1, value = 0 (torch.nn.Threshold has no defaults). torch.nn.Threshold.
    """

    def __init__(self, threshold: float = 1.0, value: float = 0.0) -> None:
        super().__init__(threshold=threshold, value=value)
        self.threshold = validate.real("threshold", "threshold", threshold)
        self.value = validate.real("threshold", "value", value)

    def f(self, x: Tensor) -> Tensor:
        return F.threshold(x, self.threshold, self.value)

    def builtin(self, x: Tensor) -> Tensor:
        return self.f(x)

    def df(self, x: Tensor) -> Tensor:
        return step(x, self.threshold)

    @property
    def properties(self) -> Properties:
        t, v = self.threshold, self.value
        f0 = 0.0 if 0 > t else v
        return Properties(
            formula=f"x if x > {t:g} else {v:g}",
            derivative_formula=f"1 if x > {t:g} else 0",
            range=(min(t, v), INF),
            monotonic=v <= t,
            zero_centered=f0 == 0 and min(t, v) < 0,
            saturation_left="hard",
            threshold_left=t,
            kinks=(Kink(t, 0.0),),
            smoothness=0 if v == t else -1,
            reference="torch.nn.Threshold",
        )


@register("squared_relu", aliases=("relu2", "relu_squared"))
class SquaredReLU(AbstractActivation):
    """Squared ReLU: f(x) = max(0, x)²; f'(x) = 2·max(0, x) (continuous, no kink).

    So et al. 2021, "Primer: searching for efficient transformers for language modeling".
    """

    def f(self, x: Tensor) -> Tensor:
        return x.clamp(min=0.0).square_()

    def df(self, x: Tensor) -> Tensor:
        return x.clamp(min=0.0).mul_(2)

    @property
    def properties(self) -> Properties:
        return Properties(
            formula="max(0, x)²", derivative_formula="2·max(0, x)", range=(0.0, INF), monotonic=True,
            zero_centered=False, saturation_left="hard", threshold_left=0.0, smoothness=1,
            reference="So et al. 2021 (Primer)",
        )


@register("star_relu")
class StarReLU(AbstractActivation):
    """StarReLU: f(x) = s·max(0, x)² + b, scale s and bias b learnable (init 0.8944, −0.4472).

    f'(x) = 2s·max(0, x); ∂f/∂s = max(0, x)²; ∂f/∂b = 1. The init makes f's output mean 0 and
    variance 1 for x ~ N(0, 1). Yu et al. 2022, "MetaFormer baselines for vision".
    """

    param_names = ("scale", "bias")

    def __init__(self, scale: float = 0.8944, bias: float = -0.4472, num_parameters: int = 1) -> None:
        super().__init__(scale=scale, bias=bias, num_parameters=num_parameters)
        self.scale0 = validate.real("star_relu", "scale", scale, low=0.0)
        self.bias0 = validate.real("star_relu", "bias", bias)
        n = validate.integer("star_relu", "num_parameters", num_parameters)
        self._make_param("scale", self.scale0, n, learnable=True)
        self._make_param("bias", self.bias0, n, learnable=True)

    def f(self, x: Tensor, scale: Tensor, bias: Tensor) -> Tensor:
        return x.clamp(min=0.0).square_().mul_(scale).add_(bias)

    def df(self, x: Tensor, scale: Tensor, bias: Tensor) -> Tensor:
        return x.clamp(min=0.0).mul_(2 * scale)

    def dparams(self, x: Tensor, scale: Tensor, bias: Tensor) -> tuple[Tensor, Tensor]:
        return x.clamp(min=0.0).square_(), torch.ones_like(bias)  # ∂f/∂b = 1 broadcasts: no tensor of x's size

    def grads(self, x: Tensor, scale: Tensor, bias: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        r = x.clamp(min=0.0)
        return r * (2 * scale), scratch(r).square_(), torch.ones_like(bias)

    @property
    def properties(self) -> Properties:
        s, b = self.scale0, self.bias0
        return Properties(
            formula=f"{s:g}·max(0, x)² + {b:g}", derivative_formula=f"{2 * s:g}·max(0, x)",
            range=(b, INF if s > 0 else b), monotonic=True, zero_centered=False,
            saturation_left="hard", threshold_left=0.0, smoothness=1, learnable=self._learnable(),
            reference="Yu et al. 2022 (MetaFormer baselines)",
        )
