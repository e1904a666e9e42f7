"""Saturating squashers: sigmoid, tanh, log_sigmoid, softsign, softplus, hard_sigmoid, hard_tanh.

Hard functions return f' = 0 exactly at their saturation thresholds (torch.nn's convention).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from actlab.catalog._common import finite, scratch
from actlab.core import validate
from actlab.core.activation import AbstractActivation, _Exact
from actlab.core.properties import INF, Kink, Properties
from actlab.core.registry import register


@register("sigmoid", aliases=("logistic",), torch_class=nn.Sigmoid)
class Sigmoid(AbstractActivation):
    """Logistic sigmoid: f(x) = 1/(1 + e^(−x)); f'(x) = f(x)·(1 − f(x)). Verhulst 1838; Rumelhart et al. 1986."""

    def f(self, x: Tensor) -> Tensor:
        return torch.sigmoid(x)

    def builtin(self, x: Tensor) -> Tensor:
        return self.f(x)

    def df(self, x: Tensor) -> Tensor:
        s = torch.sigmoid(x)
        return s * (1 - s)

    @property
    def properties(self) -> Properties:
        return Properties(
            formula="1/(1 + e^(−x))", derivative_formula="σ(x)·(1 − σ(x))", range=(0.0, 1.0), monotonic=True,
            zero_centered=False, saturation_left="soft", saturation_right="soft", reference="Rumelhart et al. 1986",
        )


@register("tanh", torch_class=nn.Tanh)
class Tanh(AbstractActivation):
    """Hyperbolic tangent: f(x) = tanh(x); f'(x) = 1 − tanh²(x). LeCun et al. 1998, "Efficient BackProp"."""

    def f(self, x: Tensor) -> Tensor:
        return torch.tanh(x)

    def builtin(self, x: Tensor) -> Tensor:
        return self.f(x)

    def df(self, x: Tensor) -> Tensor:
        return 1 - torch.tanh(x).square()

    @property
    def properties(self) -> Properties:
        return Properties(
            formula="tanh(x)", derivative_formula="1 − tanh²(x)", range=(-1.0, 1.0), monotonic=True,
            zero_centered=True, saturation_left="soft", saturation_right="soft", reference="LeCun et al. 1998",
        )


@register("log_sigmoid", aliases=("logsigmoid",), torch_class=nn.LogSigmoid)
class LogSigmoid(AbstractActivation):
    """f(x) = log σ(x) = −softplus(−x); f'(x) = σ(−x) = 1 − σ(x). torch.nn.LogSigmoid.

    Computed as torch's softplus with β = −1, (1/β)·log(1 + e^(βx)), whose threshold (βx > 40: f = x,
    exact in every float format) keeps e^(−x) finite: one kernel and one output tensor (torch's
    log_sigmoid also writes a buffer for its backward); f' is that softplus's backward kernel, σ(βx).
    """

    def f(self, x: Tensor) -> Tensor:
        return F.softplus(x, -1.0, 40.0)

    def df(self, x: Tensor) -> Tensor:
        return torch.ops.aten.softplus_backward(x.new_ones(()), x, -1.0, 40.0)

    def builtin(self, x: Tensor) -> Tensor:
        """The exact path on torch's softplus kernels (f and `builtin_backward`), never compiled: as
        fast as torch.nn.LogSigmoid, which saves a second tensor besides x."""
        return _Exact.apply(self, {}, False, x)

    def builtin_backward(self, g: Tensor, x: Tensor) -> Tensor:
        return torch.ops.aten.softplus_backward(g, x, -1.0, 40.0)

    @property
    def properties(self) -> Properties:
        return Properties(
            formula="log(1/(1 + e^(−x)))", derivative_formula="σ(−x)", range=(-INF, 0.0), monotonic=True,
            zero_centered=False, saturation_right="soft", reference="torch.nn.LogSigmoid",
        )


@register("softsign", torch_class=nn.Softsign)
class Softsign(AbstractActivation):
    """f(x) = x/(1 + |x|); f'(x) = 1/(1 + |x|)². Turian et al. 2009; Glorot & Bengio 2010."""

    def f(self, x: Tensor) -> Tensor:
        x = finite(x)  # ±inf/(1 + inf) would be nan; the limits are ±1
        return scratch(x).div_(x.abs().add_(1))

    def df(self, x: Tensor) -> Tensor:
        return x.abs().add_(1).pow_(-2)

    @property
    def properties(self) -> Properties:
        return Properties(
            formula="x/(1 + |x|)", derivative_formula="1/(1 + |x|)²", range=(-1.0, 1.0), monotonic=True,
            zero_centered=True, saturation_left="soft", saturation_right="soft", smoothness=1,  # f'' jumps at 0
            reference="Turian et al. 2009",
        )


@register("softplus", torch_class=nn.Softplus)
class Softplus(AbstractActivation):
    """f(x) = log(1 + e^(βx))/β, and x where βx > threshold (torch's switch to the identity).

    f'(x) = σ(βx) (1 where βx > threshold). Dugas et al. 2001.
    As implemented (here and in torch.nn.Softplus) f jumps by log(1 + e^(−threshold))/β ≈ 2e-9
    and f' by 1 − σ(threshold) at x = threshold/β: declared as a kink, f' = σ(threshold) there.
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__(beta=beta, threshold=threshold)
        self.beta = validate.positive("softplus", "beta", beta)
        self.threshold = validate.positive("softplus", "threshold", threshold)

    def f(self, x: Tensor) -> Tensor:
        return F.softplus(x, self.beta, self.threshold)

    def builtin(self, x: Tensor) -> Tensor:
        return self.f(x)

    def df(self, x: Tensor) -> Tensor:
        bx = self.beta * x
        return torch.where(bx > self.threshold, 1.0, torch.sigmoid(bx)).to(x.dtype)

    @property
    def properties(self) -> Properties:
        return Properties(
            formula=f"log(1 + e^({self.beta:g}x))/{self.beta:g}", derivative_formula=f"σ({self.beta:g}x)",
            range=(0.0, INF), monotonic=True, zero_centered=False, saturation_left="soft",
            kinks=(Kink(self.threshold / self.beta, 1 / (1 + math.exp(-self.threshold))),), smoothness=-1,
            reference="Dugas et al. 2001",
        )


@register("sparse_sigmoid", aliases=("sparsesigmoid",), slope=0.5)
@register("hard_sigmoid_gulcehre", slope=0.25)
@register("hard_sigmoid_keras", slope=0.2)
@register("hard_sigmoid", aliases=("hardsigmoid",), torch_class=nn.Hardsigmoid)
class HardSigmoid(AbstractActivation):
    """Hard sigmoid: f(x) = clip(s·x + 0.5, 0, 1), saturating at |x| = 0.5/s.

    f'(x) = s for |x| < 0.5/s, else 0 (0 exactly at ±0.5/s).
    Variants: hard_sigmoid (torch: s = 1/6, relu6(x + 3)/6), hard_sigmoid_gulcehre (s = 0.25,
    Gulcehre et al. 2016, saturating at |x| = 2), hard_sigmoid_keras (s = 0.2, legacy Keras),
    sparse_sigmoid (s = 1/2: 0 for x ≤ −1, (x + 1)/2 between, 1 for x ≥ 1; sparse_plus' derivative;
    keras.activations.sparse_sigmoid, Blondel et al. 2020, whose `where` form also gives f'(±1) = 0).
    """

    def __init__(self, slope: float = 1.0 / 6) -> None:
        super().__init__(slope=slope)
        self.slope = validate.positive("hard_sigmoid", "slope", slope)

    def builtin(self, x: Tensor) -> Tensor | None:
        """The exact path on torch's hardsigmoid kernels (f and `builtin_backward`), never compiled."""
        return _Exact.apply(self, {}, False, x) if self.slope == 1.0 / 6 else None

    def builtin_backward(self, g: Tensor, x: Tensor) -> Tensor | None:
        """torch's hardsigmoid_backward (f' = 0 at ±3, as documented); torch has no double backward for it."""
        return torch.ops.aten.hardsigmoid_backward(g, x) if self.slope == 1.0 / 6 else None

    def f(self, x: Tensor) -> Tensor:
        if self.slope == 1.0 / 6:
            return F.hardsigmoid(x)
        return (x * self.slope).add_(0.5).clamp_(0.0, 1.0)

    def df(self, x: Tensor) -> Tensor:
        t = 0.5 / self.slope  # torch's hardtanh_backward kernel: the factor strictly inside (−t, t), else 0
        return torch.ops.aten.hardtanh_backward(x.new_full((), self.slope), x, -t, t)

    @property
    def properties(self) -> Properties:
        t = 0.5 / self.slope
        return Properties(
            formula=f"clip({self.slope:g}·x + 0.5, 0, 1)", derivative_formula=f"{self.slope:g} if |x| < {t:g} else 0",
            range=(0.0, 1.0), monotonic=True, zero_centered=False, saturation_left="hard", threshold_left=-t,
            saturation_right="hard", threshold_right=t, kinks=(Kink(-t, 0.0), Kink(t, 0.0)), smoothness=0,
            reference="Gulcehre et al. 2016 (Noisy activation functions); torch.nn.Hardsigmoid; "
                      "keras.activations.sparse_sigmoid (s = 1/2)",
        )


@register("hard_tanh", aliases=("hardtanh",), torch_class=nn.Hardtanh)
class HardTanh(AbstractActivation):
    """Hard tanh: f(x) = clip(s·x, min_val, max_val) (s = `slope`, default 1).

    f'(x) = s strictly between the thresholds min_val/s and max_val/s, else 0 (0 at them).
    Collobert 2004; Gulcehre et al. 2016.
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, slope: float = 1.0) -> None:
        super().__init__(min_val=min_val, max_val=max_val, slope=slope)
        self.min_val = validate.real("hard_tanh", "min_val", min_val)
        self.max_val = validate.real("hard_tanh", "max_val", max_val, low=self.min_val, strict=True)
        self.slope = validate.positive("hard_tanh", "slope", slope)

    def f(self, x: Tensor) -> Tensor:
        return F.hardtanh(x if self.slope == 1 else self.slope * x, self.min_val, self.max_val)

    def builtin(self, x: Tensor) -> Tensor | None:
        return F.hardtanh(x, self.min_val, self.max_val) if self.slope == 1 else None

    def df(self, x: Tensor) -> Tensor:
        lo, hi = self.min_val / self.slope, self.max_val / self.slope
        return self.slope * ((x > lo) & (x < hi)).to(x.dtype)

    @property
    def properties(self) -> Properties:
        lo, hi, s = self.min_val, self.max_val, self.slope
        return Properties(
            formula=f"clip({s:g}·x, {lo:g}, {hi:g})", derivative_formula=f"{s:g} if {lo / s:g} < x < {hi / s:g} else 0",
            range=(lo, hi), monotonic=True, zero_centered=lo < 0 < hi, saturation_left="hard",
            threshold_left=lo / s, saturation_right="hard", threshold_right=hi / s,
            kinks=(Kink(lo / s, 0.0), Kink(hi / s, 0.0)), smoothness=0,
            reference="Collobert 2004; Gulcehre et al. 2016",
        )
