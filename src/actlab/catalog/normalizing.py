"""Non-elementwise activations over one dimension: softmax, log_softmax, softmin, sparsemax, glu.

Their backward passes are closed-form vector-Jacobian products (g is the incoming gradient,
s = softmax(x) along `dim`): softmax: s·(g − Σ g·s); log_softmax: g − s·Σ g;
softmin (= softmax(−x)): −s'·(g − Σ g·s') with s' = softmax(−x);
sparsemax (S = its support, where f > 0): on S, g − mean over S of g; 0 off S;
glu (a, b halves of x): (g·σ(b), g·a·σ(b)(1 − σ(b))).
`derivative(x)` is ∂(Σ f)/∂x: zero for softmax, softmin and sparsemax, whose outputs sum to 1.
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
        """Softmax's, softmin's and sparsemax's Jacobians are symmetric: J·t = Jᵀ·t, the vjp with g = t."""
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


def _sparsemax_threshold(x: Tensor, dim: int) -> tuple[Tensor, Tensor]:
    """(z, τ): z = x − max(x) and the threshold τ with Σ max(z − τ, 0) = 1, along dim.

    Sorted descending, z₍₁₎ ≥ z₍₂₎ ≥ ..., the support holds the k largest, k the largest index with
    1 + k·z₍ₖ₎ > Σ_{j≤k} z₍ⱼ₎, and τ = (Σ_{j≤k} z₍ⱼ₎ − 1)/k. Sparsemax ignores a shift of x; without
    subtracting the max, τ of x = [1e30, 0, 0] rounds to 1e30 and every output to 0. No Python branch
    on values and no in-place write: vmap and forward-mode AD go through sort, cumsum and gather."""
    z = x - x.amax(dim, keepdim=True)
    zs = z.sort(dim, descending=True).values
    shape = [1] * z.dim()
    shape[dim] = z.shape[dim]
    k = torch.arange(1, z.shape[dim] + 1, dtype=z.dtype, device=z.device).reshape(shape)
    cs = zs.cumsum(dim)
    size = torch.where(1 + k * zs > cs, k, 0).amax(dim, keepdim=True)  # ≥ 1: k = 1 always qualifies
    return z, (cs.gather(dim, size.long() - 1) - 1) / size


@register("sparsemax")
class Sparsemax(_AlongDim):
    """f(x) = max(x − τ, 0) along `dim`, τ such that Σ f = 1: the Euclidean projection of x onto the
    probability simplex, exactly 0 below the threshold. Martins & Astudillo 2016, "From softmax to
    sparsemax"; keras.activations.sparsemax.

    vjp: on the support S = {i: f_i > 0}, g_i − (1/|S|)·Σ_{j∈S} g_j; 0 off S. The Jacobian
    diag(S) − S·Sᵀ/|S| is symmetric, so the forward-mode product J·t is the same formula with t.
    Where an x_i equals τ exactly (ties at the support's edge) f is not differentiable; that i is left out
    of S there.
    """

    def f(self, x: Tensor) -> Tensor:
        z, tau = _sparsemax_threshold(x, self.dim)
        return (z - tau).clamp(min=0.0)

    def vjp(self, x: Tensor, g: Tensor) -> Tensor:
        z, tau = _sparsemax_threshold(x, self.dim)
        s = (z > tau).to(g.dtype)
        return s * (g - (g * s).sum(self.dim, keepdim=True) / s.sum(self.dim, keepdim=True))

    @property
    def properties(self) -> Properties:
        return _props("max(x_i − τ, 0), τ such that Σ max(x_j − τ, 0) = 1",
                      "S·(g − Σ g·S/|S|), S = [f > 0]", (0.0, 1.0), True,
                      "Martins & Astudillo 2016; keras.activations.sparsemax")


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
