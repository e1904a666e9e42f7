"""torch.optim's SGD, SGD with momentum, Adam, AdamW and RMSprop for an ensemble: every tensor carries its
members on dim 0, and each member has its own learning rate.

The update rules are torch.optim's (torch 2.x, default arguments, `foreach=False` semantics), written once on
stacked tensors so that M trials take one step together; a learning rate is a (M,) tensor broadcast over each
parameter's trailing dimensions. Training one member alone with the torch.optim class gives the same numbers
to float rounding (tests/test_compare.py checks it per optimizer).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

NAMES = ("sgd", "momentum", "adam", "adamw", "rmsprop")
CLASSES = {torch.optim.SGD: "sgd", torch.optim.Adam: "adam", torch.optim.AdamW: "adamw", torch.optim.RMSprop: "rmsprop"}
DEFAULTS: dict[str, dict[str, Any]] = {"sgd": {"weight_decay": 0.0}, "momentum": {"momentum": 0.9, "weight_decay": 0.0},
            "adam": {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0},
            "adamw": {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.01},
            "rmsprop": {"alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0}}
"""torch.optim's defaults; `momentum` is SGD with momentum 0.9."""


def torch_class(name: str) -> tuple[type[torch.optim.Optimizer], dict]:
    """The torch.optim class and keyword arguments that train one member the same way (the reference)."""
    kw = dict(DEFAULTS[name])
    cls = {"sgd": torch.optim.SGD, "momentum": torch.optim.SGD, "adam": torch.optim.Adam,
           "adamw": torch.optim.AdamW, "rmsprop": torch.optim.RMSprop}[name]
    return cls, kw


@dataclass
class EnsembleOptimizer:
    """One optimizer state for M members: `step(params, grads)` updates the stacked tensors in place."""

    name: str
    lr: Tensor
    """(M,) learning rates."""
    hyper: dict = field(default_factory=dict)
    t: int = 0
    state: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.hyper = {**DEFAULTS[self.name], **self.hyper}

    def _lr(self, p: Tensor) -> Tensor:
        return self.lr.to(p.dtype).reshape((-1,) + (1,) * (p.dim() - 1))

    @torch.no_grad()
    def step(self, params: list[Tensor], grads: list[Tensor]) -> None:
        self.t += 1
        if self.name in ("adam", "adamw"):
            self._adam_all(params, grads, decoupled=self.name == "adamw")
            return
        for i, (p, g) in enumerate(zip(params, grads)):
            getattr(self, "_" + ("sgd" if self.name == "momentum" else self.name))(i, p, g, self._lr(p))

    def _adam_all(self, params: list[Tensor], grads: list[Tensor], decoupled: bool) -> None:
        """Adam / AdamW over every parameter with torch's _foreach ops (one call per operation, as torch.optim's
        foreach implementation): the same arithmetic as `_adam`, written for the list."""
        h = self.hyper
        (b1, b2), eps, wd = h["betas"], h["eps"], h["weight_decay"]
        lrs = [self._lr(p) for p in params]
        if wd and decoupled:
            torch._foreach_mul_(params, [1 - lr * wd for lr in lrs])
        elif wd:
            grads = list(torch._foreach_add(grads, params, alpha=wd))
        if "m" not in self.state:
            self.state["m"] = [torch.zeros_like(p) for p in params]
            self.state["v"] = [torch.zeros_like(p) for p in params]
        m, v = self.state["m"], self.state["v"]
        torch._foreach_lerp_(m, grads, 1 - b1)
        torch._foreach_mul_(v, b2)
        torch._foreach_addcmul_(v, grads, grads, value=1 - b2)
        bias1, bias2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        denom = torch._foreach_sqrt(v)
        torch._foreach_div_(denom, math.sqrt(bias2))
        torch._foreach_add_(denom, eps)
        steps = torch._foreach_div(m, denom)
        torch._foreach_mul_(steps, [lr / bias1 for lr in lrs])
        torch._foreach_sub_(params, steps)

    def _sgd(self, i: int, p: Tensor, g: Tensor, lr: Tensor) -> None:
        h = self.hyper
        if h["weight_decay"]:
            g = g.add(p, alpha=h["weight_decay"])
        if h.get("momentum"):
            buf = self.state.get(i)
            buf = g.clone() if buf is None else buf.mul_(h["momentum"]).add_(g)  # dampening 0
            self.state[i] = buf
            g = buf
        p.sub_(lr * g)

    def _adam(self, i: int, p: Tensor, g: Tensor, lr: Tensor, decoupled: bool = False) -> None:
        h = self.hyper
        (b1, b2), eps, wd = h["betas"], h["eps"], h["weight_decay"]
        if wd and decoupled:
            p.mul_(1 - lr * wd)
        elif wd:
            g = g.add(p, alpha=wd)
        if i not in self.state:
            self.state[i] = (torch.zeros_like(p), torch.zeros_like(p))
        m, v = self.state[i]
        m.lerp_(g, 1 - b1)
        v.mul_(b2).addcmul_(g, g, value=1 - b2)
        bias1, bias2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        denom = (v.sqrt() / math.sqrt(bias2)).add_(eps)
        p.sub_((lr / bias1) * (m / denom))

    def _adamw(self, i: int, p: Tensor, g: Tensor, lr: Tensor) -> None:
        self._adam(i, p, g, lr, decoupled=True)

    def _rmsprop(self, i: int, p: Tensor, g: Tensor, lr: Tensor) -> None:
        h = self.hyper
        if h["weight_decay"]:
            g = g.add(p, alpha=h["weight_decay"])
        if i not in self.state:
            self.state[i] = torch.zeros_like(p)
        v = self.state[i]
        v.mul_(h["alpha"]).addcmul_(g, g, value=1 - h["alpha"])
        p.sub_(lr * (g / v.sqrt().add_(h["eps"])))
