"""Gradient optimizers on many 1-1-1 networks at once.

All trials' parameters form one (T, 4) tensor. Backpropagation through the 1-1-1 network is
written out (the chain rule on four weights, with each activation's closed-form derivative), and
the optimizers are the elementwise update rules of torch.optim's SGD, SGD with momentum 0.9, Adam
and RMSprop at their defaults, with a learning rate per row. Each row is updated from its own
gradient and state only, so one step of T trials is one tensor program, and a trial's result does
not depend on which other trials share its batch (tested, as is equality with training each
network alone as an nn.Module with torch.optim).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import torch
from torch import Tensor

from actlab.core.activation import AbstractActivation
from actlab.engine.bounds import apply_bounds
from actlab.engine.network import PARAMS
from actlab.engine.outcome import Outcome, Tracker

GRADIENT_OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop")


def make_optimizer(name: str, params: list[Tensor], lr: float) -> torch.optim.Optimizer:
    """The torch.optim optimizer that `name` stands for (what the engine's update rules reproduce)."""
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    raise ValueError(f"unknown gradient optimizer {name!r}; allowed: {', '.join(GRADIENT_OPTIMIZERS)}")


class Update:
    """torch.optim's update rules at their defaults, elementwise, with a learning rate per row (T, 1)."""

    def __init__(self, name: str, theta: Tensor, lr: Tensor) -> None:
        if name not in GRADIENT_OPTIMIZERS:
            raise ValueError(f"unknown gradient optimizer {name!r}; allowed: {', '.join(GRADIENT_OPTIMIZERS)}")
        self.name, self.lr, self.t = name, lr, 0
        self.m = torch.zeros_like(theta)
        self.v = torch.zeros_like(theta)

    def step(self, theta: Tensor, g: Tensor) -> Tensor:
        self.t += 1
        if self.name == "sgd":
            return theta - self.lr * g
        if self.name == "momentum":  # buf = g at the first step, then 0.9·buf + g
            self.m = g.clone() if self.t == 1 else 0.9 * self.m + g
            return theta - self.lr * self.m
        if self.name == "adam":  # β = (0.9, 0.999), ε = 1e-8, bias-corrected as torch.optim.Adam does
            self.m = torch.lerp(self.m, g, 0.1)
            self.v = 0.999 * self.v + 0.001 * g * g
            denom = self.v.sqrt() / (1 - 0.999**self.t) ** 0.5 + 1e-8
            return theta - (self.lr / (1 - 0.9**self.t)) * self.m / denom
        # rmsprop: α = 0.99, ε = 1e-8
        self.v = 0.99 * self.v + 0.01 * g * g
        return theta - self.lr * g / (self.v.sqrt() + 1e-8)


def initial_params(seeds: Sequence[int], scale: float = 1.0) -> Tensor:
    """(T, 4) initial weights, U(−scale, scale), each row drawn from its own seed's generator."""
    rows = []
    for s in seeds:
        g = torch.Generator().manual_seed(int(s))
        rows.append((torch.rand(len(PARAMS), generator=g, dtype=torch.float64) * 2 - 1) * scale)
    return torch.stack(rows)


def run_gradient(hidden: AbstractActivation, output: AbstractActivation, x: float, target: float | Tensor, *,
                 optimizer: str, lr: float | Sequence[float], steps: int, seeds: Sequence[int], threshold: float = 1e-6,
                 init_scale: float = 1.0, bounds: tuple[Tensor, Tensor] | None = None, bound_mode: str = "none",
                 device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32) -> Outcome:
    """Train one 1-1-1 network per seed on the single sample (x, target), all in one batch.

    `target` and `lr` may be one value or one per trial. With `bounds` = (lo, hi) (each
    broadcastable to (T, 4)) and `bound_mode` 'clip' or 'reflect', the initial parameters and those
    after every optimizer step are put back into the box (the optimizer's moments are left as they
    are). `hidden` and `output` need `derivative` (every actlab activation has it)."""
    start = time.perf_counter()
    T = len(seeds)
    lrs = [float(lr)] * T if isinstance(lr, (int, float)) else [float(v) for v in lr]
    if len(lrs) != T:
        raise ValueError(f"lr: expected one value or {T} (one per trial), got {len(lrs)}")
    box = None if bounds is None or bound_mode == "none" else tuple(b.to(device, dtype) for b in bounds)
    theta = initial_params(seeds, init_scale).to(device=device, dtype=dtype)
    if box is not None:  # start inside the box, too
        theta = apply_bounds(theta, box[0], box[1], bound_mode)
    update = Update(optimizer, theta, torch.tensor(lrs, device=device, dtype=dtype)[:, None])
    y = torch.as_tensor(target, device=device, dtype=dtype).expand(T)
    d_hidden, d_output = hidden.derivative, output.derivative
    track = Tracker(T, steps, threshold, theta.device, dtype)
    with torch.no_grad():
        for step in range(steps + 1):
            # forward: every trial's loss at its current parameters (the loss "after `step` steps")
            w1, b1, w2, b2 = theta.unbind(-1)
            z1 = w1 * x + b1
            h = hidden(z1)
            z2 = w2 * h + b2
            err = output(z2) - y
            loss = err.square()
            track.update(step, loss)
            if step == steps:
                break
            # backward: the chain rule through out = g(w2·f(w1·x + b1) + b2), loss = (out − y)²
            dz2 = 2 * err * d_output(z2)
            dz1 = dz2 * w2 * d_hidden(z1)
            grad = torch.stack([dz1 * x, dz1, dz2 * h, dz2], dim=-1)
            theta = update.step(theta, grad)
            if box is not None:
                theta = apply_bounds(theta, box[0], box[1], bound_mode)
    return Outcome(loss, track.best, track.hit, 1, track.marks, track.curve, theta,
                   time.perf_counter() - start)
