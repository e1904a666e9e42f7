"""Noisy activations (Gulcehre et al., ICML 2016): hard functions that noise lets escape saturation.

With h the hard function and u its unclipped linearisation (tanh: h = clip(x, −1, 1), u = x;
sigmoid: h = clip(x/4 + 1/2, 0, 1), u = x/4 + 1/2), δ = h − u and ε ~ N(0, 1) or |N(0, 1)|:

  mode='output' (NAN, NAH):  φ = α·h + (1 − α)·u + d·σ·ε,  d = −sgn(x)·sgn(1 − α),
                              σ = c·(sigmoid(p·δ) − 1/2)²
  mode='input' (NANI):        φ = h(x + s·σ·ε)
  mode='input_learned' (NANIL): φ = h(x + s·σ_L·ε), σ_L = c·softplus(p·|δ|) (learned noise level)
  with s = 1 for normal noise and s = sgn(δ) for half-normal noise (it points from the saturated
  part toward the linear one). NANIL with half-normal noise jumps at the thresholds, since
  σ_L(δ = 0) = c·log 2 > 0.

mode='output' clips by default (clip=True): φ = clamp(α·h + (1 − α)·u + d·σ·ε, lo, hi), with [lo, hi]
h's range ([−1, 1] for tanh, [0, 1] for sigmoid). With α > 1 the unclipped form runs away linearly
beyond the thresholds (tanh in eval(): −0.35 at x = 10, −1.85 at x = 20); the authors' code clipped
it to h's range until commit db7feb1 (July 2016) made the clip optional and off by default, a known
defect of that test-time variant which actlab does not copy. The clip bounds φ but does not make it
monotone (tanh: clamp(1.15 − 0.15·x) falls from 1 at x = 1 to −1 at x = 14.33). Its derivative is
1 strictly inside (lo, hi) and 0 outside and exactly at lo or hi (torch's hardtanh_backward): so
f'(±t) = 0 where the unclipped output is exactly h(±t). clip=False gives the paper's literal formula.
The input modes apply h to a noisy input, so they are bounded already: `clip` changes nothing there.

p is learnable per unit (init uniform on [−1, 1] or the given `p`). In train() ε is drawn once
per forward from a seed taken from torch's global generator, and the backward pass regenerates
it from that seed, so only the input and p are saved. In eval() ε is replaced by its mean
(0 for 'normal', √(2/π) for 'half_normal'): φ at the mean noise, as in the authors' code; for
mode='output' with clip=False this is exactly E[φ] (with the clip it is the clipped unit at the
mean noise, not E[φ]). `c` is a plain attribute that a schedule may anneal (c → 0 recovers the
deterministic function). h' = 0 exactly at the thresholds.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from actlab.catalog._common import finite, finite_, scratch
from actlab.core import noise, validate
from actlab.core.activation import AbstractActivation
from actlab.core.properties import INF, Kink, Properties, Saturation
from actlab.core.registry import register

_HALF_NORMAL_MEAN = math.sqrt(2 / math.pi)
_DEFAULTS = {"tanh": (1.15, 0.5, "normal"), "sigmoid": (1.1, 0.15, "half_normal")}
_SHAPE = {"tanh": (1.0, 0.0, -1.0, 1.0), "sigmoid": (0.25, 0.5, 0.0, 1.0)}  # slope, offset, lo, hi


@register("noisy_hard_sigmoid", aliases=("nah_sigmoid",), kind="sigmoid")
@register("noisy_hard_tanh", aliases=("nan_tanh",), kind="tanh")
class NoisyHard(AbstractActivation):
    """Noisy hard tanh / hard sigmoid; formulas and modes in the module docstring.

    Defaults from the authors' code: tanh α = 1.15, c = 0.5, normal noise; sigmoid α = 1.1,
    c = 0.15, half-normal noise. `num_parameters=C` gives one p per channel (dim 1). `clip`
    (mode='output' only; default True): clamp φ to h's range, False for the paper's literal formula.
    """

    param_names = ("p",)

    def __init__(self, kind: str = "tanh", alpha: float | None = None, c: float | None = None,
                 p: float | None = None, noise: str | None = None, mode: str = "output",
                 num_parameters: int = 1, clip: bool = True) -> None:
        kind = validate.choice("noisy_hard", "kind", kind, tuple(_DEFAULTS))
        da, dc, dn = _DEFAULTS[kind]
        alpha, c, noise_kind = da if alpha is None else alpha, dc if c is None else c, dn if noise is None else noise
        super().__init__(kind=kind, alpha=alpha, c=c, p=p, noise=noise_kind, mode=mode, num_parameters=num_parameters,
                         clip=clip)
        owner = f"noisy_hard_{kind}"
        self.kind = kind
        self.alpha = validate.real(owner, "alpha", alpha)
        self.c = validate.real(owner, "c", c, low=0.0)
        self.noise = validate.choice(owner, "noise", noise_kind, ("normal", "half_normal"))
        self.mode = validate.choice(owner, "mode", mode, ("output", "input", "input_learned"))
        n = validate.integer(owner, "num_parameters", num_parameters)
        self.clip = validate.boolean(owner, "clip", clip)
        self._make_param("p", 0.0, n, learnable=True)
        p_param = self.get_parameter("p")
        with torch.no_grad():
            if p is None:
                p_param.uniform_(-1.0, 1.0)
            else:
                p_param.fill_(validate.real(owner, "p", p))
        self.slope, self.offset, self.lo, self.hi = _SHAPE[kind]

    # --- pieces ----------------------------------------------------------------
    def _h(self, z: Tensor) -> Tensor:
        return torch.clamp(self.slope * z + self.offset, self.lo, self.hi)

    def _dh(self, z: Tensor, scale: float = 1.0) -> Tensor:
        """scale·h'(z): scale·slope strictly between the thresholds, else 0 (torch's hardtanh_backward kernel)."""
        t0, t1 = (self.lo - self.offset) / self.slope, (self.hi - self.offset) / self.slope
        return torch.ops.aten.hardtanh_backward(z.new_full((), scale * self.slope), z, t0, t1)

    def _sigma(self, x: Tensor, p: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """(σ, ∂σ/∂x, ∂σ/∂p) of the input modes."""
        delta = self._h(x) - (self.slope * x + self.offset)
        ddelta = self._dh(x) - self.slope
        if self.mode == "input_learned":
            a = delta.abs()
            sg = torch.sigmoid(p * a)
            return self.c * F.softplus(p * a), self.c * sg * p * torch.sign(delta) * ddelta, self.c * sg * a
        s = torch.sigmoid(p * delta)
        k = 2 * self.c * (s - 0.5) * s * (1 - s)
        return self.c * (s - 0.5).square(), k * p * ddelta, k * delta

    def _direction(self, x: Tensor) -> Tensor | float:
        """Input modes: 1 for normal noise; for half-normal noise sgn(δ), which points from the
        saturated part toward the linear one and is 0 where the unit does not saturate."""
        if self.noise == "normal":
            return 1.0
        return torch.sign(self._h(x) - (self.slope * x + self.offset))

    # --- output mode -----------------------------------------------------------------
    # Both shapes are symmetric (t0 = −t, t1 = t), so h = slope·clip(x, −t, t) + offset and
    # δ = h − u = −slope·softshrink(x, t): one torch kernel each. d(x)·σ = k·sgn(x)·r², with
    # r = σ(p·δ) − 1/2 and k = −sgn(1 − α)·c.
    def _threshold(self) -> float:
        """t: h saturates for |x| ≥ t."""
        return (self.hi - self.offset) / self.slope

    def _k(self) -> float:
        """k = −sgn(1 − α)·c, so that d(x)·σ = k·sgn(x)·r²."""
        return float((1 - self.alpha < 0) - (1 - self.alpha > 0)) * self.c

    def _output(self, x: Tensor, p: Tensor, eps: Tensor | float) -> Tensor:
        """α·h + (1 − α)·u + k·sgn(x)·r²·ε; α·h + (1 − α)·u = slope·(α·clip(x) + (1 − α)·x) + offset is
        ±inf at x = ±inf (the noise term stays bounded) and has no 0·inf when α = 1."""
        t, a, k = self._threshold(), self.alpha, self._k()
        y = x.clamp(-t, t).mul_(a * self.slope)
        if a != 1:
            y = y.add_(x, alpha=(1 - a) * self.slope)
        if self.offset:
            y = y.add_(self.offset)
        if _quiet(eps) or k == 0:
            return y
        ss = finite_(F.softshrink(x, t))  # −δ/slope, finite so that p = 0 gives δ·p = 0 at x = ±inf
        r = scratch(ss.mul_(-self.slope * p).sigmoid_()).sub_(0.5)
        noisy = r.square_().copysign_(x)  # sgn(x)·r²
        return y.addcmul_(noisy, eps, value=k) if isinstance(eps, Tensor) else y.add_(noisy, alpha=k * eps)

    def _output_grads(self, x: Tensor, p: Tensor, eps: Tensor | float) -> tuple[Tensor, Tensor]:
        """∂f/∂x = (1 − α)·slope + α·h' + κ·ε·p·Q, ∂f/∂p = κ·ε·Q·softshrink(x, t), κ = −2k·slope.

        Q = sgn(x)·r·σ'(p·δ) = ψ(−slope·p·|softshrink(x, t)|) with ψ(w) = (σ(w) − 1/2)·σ'(w) odd; δ' = −slope
        wherever r ≠ 0 (the unit saturates there, h' = 0)."""
        t, k = self._threshold(), self._k()
        dx = self._dh(x, self.alpha).add_((1 - self.alpha) * self.slope)
        if _quiet(eps) or k == 0:
            return dx, 0 * p  # ∂f/∂p = 0, kept on p so double backward sees it
        ss = finite_(F.softshrink(x, t))
        s = ss.abs().mul_(-self.slope * p).sigmoid_()
        q = torch.ops.aten.sigmoid_backward(eps if isinstance(eps, Tensor) else x.new_full((), eps), s)
        q = q.mul_(scratch(s).sub_(0.5))  # ε·Q
        kappa = -2 * k * self.slope
        return dx.addcmul_(q, kappa * p), scratch(ss).mul_(q).mul_(kappa)

    def _clipped_grads(self, x: Tensor, p: Tensor, eps: Tensor | float) -> tuple[Tensor, Tensor]:
        """The output mode's gradients times the clip's derivative: 1 where lo < y < hi for the unclipped
        y, else 0 (0 exactly at lo and hi: torch's hardtanh_backward kernel, differentiable in its grad)."""
        dx, dp = self._output_grads(x, p, eps)
        y = self._output(x.detach(), p.detach(), eps)
        dx = torch.ops.aten.hardtanh_backward(dx, y, self.lo, self.hi)
        if dp.shape != y.shape:  # 0·p where nothing of σ survives (eval with normal noise)
            return dx, dp
        return dx, torch.ops.aten.hardtanh_backward(dp, y, self.lo, self.hi)

    # --- maths -------------------------------------------------------------------
    def _extra(self, x: Tensor) -> dict:
        return {"seed": noise.new_seed(x.device)} if self.training and self.c != 0 else {}

    def expand(self, x: Tensor, extra: dict) -> dict:
        """ε from the forward pass's seed (train), or its mean (eval)."""
        if "seed" in extra:
            return {"eps": noise.draw(extra["seed"], x, self.noise)}
        return {"eps": _HALF_NORMAL_MEAN if self.noise == "half_normal" else 0.0}

    def f(self, x: Tensor, p: Tensor, eps: Tensor | float = 0.0) -> Tensor:
        if self.mode == "output":
            y = self._output(x, p, eps)
            return torch.clamp(y, self.lo, self.hi) if self.clip else y
        xf = finite(x)  # the noise terms are bounded: ±inf inputs only enter through h
        if _quiet(eps):  # eval() with normal noise: E[ε] = 0, nothing of σ survives
            return self._h(xf)
        sigma = self._sigma(xf, p)[0]
        return self._h(xf + self._direction(xf) * sigma * eps)

    def df(self, x: Tensor, p: Tensor, eps: Tensor | float = 0.0) -> Tensor:
        return self.grads(x, p, eps)[0]

    def dparams(self, x: Tensor, p: Tensor, eps: Tensor | float = 0.0) -> tuple[Tensor]:
        return self.grads(x, p, eps)[1:]

    def grads(self, x: Tensor, p: Tensor, eps: Tensor | float = 0.0) -> tuple[Tensor, Tensor]:
        if self.mode == "output":
            return self._clipped_grads(x, p, eps) if self.clip else self._output_grads(x, p, eps)
        x = finite(x)
        if _quiet(eps):
            return self._dh(x), 0 * p  # ∂f/∂p = 0, kept on p so double backward sees it
        d = self._direction(x)
        sigma, dsx, dsp = self._sigma(x, p)
        dh = self._dh(x + d * sigma * eps)
        return dh * (1 + d * dsx * eps), dh * d * dsp * eps

    def _clip_at(self, side: int) -> float:
        """Where eval()'s clipped output turns constant on that side (±1). α ≤ 1: ±t, the unclipped
        output leaves [lo, hi] there at once (for half-normal noise while its term, at most |k|·√(2/π)/4,
        stays below the linear part's (1 − α)·slope·|x − t|, as for the defaults). α > 1: the first float
        beyond t at which it has crossed the far bound, bisected in float64 on the unit itself, so that
        derivative() gives 0 at the declared kink; per channel, the outermost of the channels' points."""
        t = self._threshold()
        if self.alpha <= 1:
            return side * t
        p = self.get_parameter("p").detach().double().flatten()
        m = _HALF_NORMAL_MEAN if self.noise == "half_normal" else 0.0
        # beyond this the linear part alone is past the far bound by more than the noise term's |k|·m/4
        far = t + ((self.hi - self.lo) + abs(self._k()) * m / 4) / ((self.alpha - 1) * self.slope) + 1

        def inside(v: float) -> bool:
            y = self._output(torch.full((1, p.numel()), side * v, dtype=torch.float64), p, m)
            return bool(((y > self.lo) & (y < self.hi)).any())

        a, b = t, far
        while (mid := (a + b) / 2) not in (a, b):
            a, b = (mid, b) if inside(mid) else (a, mid)
        return side * b

    @property
    def properties(self) -> Properties:
        t0, t1 = (self.lo - self.offset) / self.slope, (self.hi - self.offset) / self.slope
        out = self.mode == "output"
        linear = out and self.alpha != 1 and not self.clip
        kink_slope = (1 - self.alpha) * self.slope if out and not self.clip else 0.0
        kinks: tuple[Kink, ...] = (Kink(t0, kink_slope), Kink(t1, kink_slope))
        hard: Saturation = "none" if linear or (self.noise == "half_normal" and not (out and self.clip)) else "hard"
        left, right = (self._clip_at(-1), self._clip_at(1)) if out and self.clip else (t0, t1)
        if (left, right) != (t0, t1):  # the clip's own kinks, derivative 0 there (see _clip_at)
            kinks = (Kink(left, 0.0), *kinks, Kink(right, 0.0))
        name = "tanh" if self.kind == "tanh" else "sigmoid"
        core = "α·h(x) + (1 − α)·u(x) + d(x)·σ(x)·ε"
        dcore = "α·h'(x) + (1 − α)·u'(x) + d(x)·σ'(x)·ε"
        return Properties(
            formula=((f"clip({core}, {self.lo:g}, {self.hi:g})" if self.clip else core) + f", h = hard {name}"
                     if out else f"h(x + s(x)·σ(x)·ε), h = hard {name}"),
            derivative_formula=(("1[lo < φ < hi]·" if self.clip else "") + f"({dcore})"
                                if out else "h'(x + sσε)·(1 + s·σ'(x)·ε)"),
            range=(-INF, INF) if linear else (self.lo, self.hi),
            monotonic=self.mode == "input" or (self.noise == "normal" and (not out or self.alpha <= 1)),
            zero_centered=self.kind == "tanh",
            saturation_left=hard, threshold_left=left if hard == "hard" else None,
            saturation_right=hard, threshold_right=right if hard == "hard" else None,
            kinks=kinks,
            smoothness=-1 if self.mode == "input_learned" and self.noise == "half_normal" else 0,
            stochastic=not (out and self.alpha == 1), learnable=("p",),
            reference="Gulcehre et al. 2016, 'Noisy activation functions' (ICML)",
        )


def _quiet(eps: Tensor | float) -> bool:
    """ε is the constant 0 (eval() with normal noise)."""
    return isinstance(eps, float) and eps == 0.0
