"""Non-elementwise activations over one dimension: softmax, log_softmax, softmin, glu.

Their backward passes are closed-form vector-Jacobian products (g is the incoming gradient,
s = softmax(x) along `dim`): softmax: s·(g − Σ g·s); log_softmax: g − s·Σ g;
softmin (= softmax(−x)): −s'·(g − Σ g·s') with s' = softmax(−x);
glu (a, b halves of x): (g·σ(b), g·a·σ(b)(1 − σ(b))).
`derivative(x)` is ∂(Σ f)/∂x: zero for softmax and softmin, whose outputs sum to 1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from actlab.core import validate
from actlab.core.activation import AbstractActivation
from actlab.core.properties import INF, Properties
from actlab.core.registry import create, register


class _AlongDim(AbstractActivation):
    """Base for the activations that act along one dimension `dim` (default −1)."""

    has_vjp = True

    def __init__(self, dim: int = -1) -> None:
        super().__init__(dim=dim)
        self.dim = validate.integer(type(self).__name__.lower(), "dim", dim, low=-(2**31))

    def jvp(self, x: Tensor, t: Tensor) -> Tensor:
        """Softmax's and softmin's Jacobians are symmetric: J·t = Jᵀ·t, the vjp with g = t."""
        return self.vjp(x, t)


def _softmax_vjp(s: Tensor, g: Tensor, dim: int) -> Tensor:
    return s * (g - (g * s).sum(dim, keepdim=True))


def _props(formula: str, dformula: str, rng: tuple[float, float], monotonic: bool, reference: str) -> Properties:
    return Properties(formula=formula, derivative_formula=dformula, range=rng, monotonic=monotonic,
                      zero_centered=False, elementwise=False, reference=reference)


@register("softmax", torch_class=nn.Softmax)
class Softmax(_AlongDim):
    """f(x)_i = e^(x_i)/Σ_j e^(x_j) along `dim`. Bridle 1990."""

    def f(self, x: Tensor) -> Tensor:
        return torch.softmax(x, self.dim)

    def builtin(self, x: Tensor) -> Tensor:
        return self.f(x)

    def vjp(self, x: Tensor, g: Tensor) -> Tensor:
        return _softmax_vjp(torch.softmax(x, self.dim), g, self.dim)

    @property
    def properties(self) -> Properties:
        return _props("e^(x_i)/Σ e^(x_j)", "s·(g − Σ g·s)", (0.0, 1.0), True, "Bridle 1990")


@register("log_softmax", aliases=("logsoftmax",), torch_class=nn.LogSoftmax)
class LogSoftmax(_AlongDim):
    """f(x)_i = x_i − log Σ_j e^(x_j) along `dim`."""

    def f(self, x: Tensor) -> Tensor:
        return torch.log_softmax(x, self.dim)

    def builtin(self, x: Tensor) -> Tensor:
        return self.f(x)

    def vjp(self, x: Tensor, g: Tensor) -> Tensor:
        return g - torch.softmax(x, self.dim) * g.sum(self.dim, keepdim=True)

    def jvp(self, x: Tensor, t: Tensor) -> Tensor:
        return t - (torch.softmax(x, self.dim) * t).sum(self.dim, keepdim=True)

    @property
    def properties(self) -> Properties:
        return _props("x_i − log Σ e^(x_j)", "g − s·Σ g", (-INF, 0.0), True, "torch.nn.LogSoftmax")


@register("softmin", torch_class=nn.Softmin)
class Softmin(_AlongDim):
    """f(x) = softmax(−x) along `dim`."""

    def f(self, x: Tensor) -> Tensor:
        return torch.softmax(-x, self.dim)

    def builtin(self, x: Tensor) -> Tensor:
        return self.f(x)

    def vjp(self, x: Tensor, g: Tensor) -> Tensor:
        return -_softmax_vjp(torch.softmax(-x, self.dim), g, self.dim)

    @property
    def properties(self) -> Properties:
        return _props("e^(−x_i)/Σ e^(−x_j)", "−s·(g − Σ g·s), s = softmin(x)", (0.0, 1.0), False, "torch.nn.Softmin")


@register("reglu", gate="relu")
@register("swiglu", gate="silu")
@register("geglu", gate="gelu")
@register("glu", torch_class=nn.GLU, gate="sigmoid")
@register("gated_unit")
class GLU(AbstractActivation):
    """Gated linear unit: split x in halves (a, b) along `dim`; f = a·gate(b) (half the size).

    vjp: (g·gate(b), g·a·gate'(b)), with gate' the gate's closed-form derivative.
    glu is gate = sigmoid (Dauphin et al. 2017, "Language modeling with gated convolutional
    networks"); geglu, swiglu and reglu use gelu, silu and relu (Shazeer 2020, "GLU variants
    improve transformer"). torch's convention: the first half is the value, the second the gate.
    """

    has_vjp = True

    def __init__(self, dim: int = -1, gate: str = "sigmoid") -> None:
        super().__init__(dim=dim, gate=gate)
        self.dim = validate.integer("glu", "dim", dim, low=-(2**31))
        self.gate = create(validate.choice("glu", "gate", gate, ("sigmoid", "gelu", "gelu_tanh", "silu", "relu")))

    def builtin(self, x: Tensor) -> Tensor | None:
        return F.glu(x, self.dim) if self.get_params()["gate"] == "sigmoid" else None

    def f(self, x: Tensor) -> Tensor:
        if self.get_params()["gate"] == "sigmoid":
            return F.glu(x, self.dim)
        a, b = x.chunk(2, self.dim)
        return a * self.gate.f(b, *self.gate.param_views(b))

    def vjp(self, x: Tensor, g: Tensor) -> Tensor:
        a, b = x.chunk(2, self.dim)
        p = self.gate.param_views(b)
        return torch.cat((g * self.gate.f(b, *p), g * a * self.gate.df(b, *p)), self.dim)

    def jvp(self, x: Tensor, t: Tensor) -> Tensor:
        a, b = x.chunk(2, self.dim)
        ta, tb = t.chunk(2, self.dim)
        p = self.gate.param_views(b)
        return ta * self.gate.f(b, *p) + a * self.gate.df(b, *p) * tb

    @property
    def properties(self) -> Properties:
        name = self.get_params()["gate"]
        return _props(f"a·{name}(b), (a, b) = halves of x", f"(g·{name}(b), g·a·{name}'(b))", (-INF, INF), False,
                      "Dauphin et al. 2017; Shazeer 2020")
