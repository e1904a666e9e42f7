"""Gradient optimizers on many 1-1-1 networks at once.

All trials' parameters form one (T, 4) leaf tensor; the loss summed over trials gives each trial
exactly its own gradient, and the optimizers (torch.optim, elementwise) update each row from its
own gradient and state only. So one step of T trials is one tensor program, and a trial's result
does not depend on which other trials share its batch (tested).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import torch
from torch import Tensor

from actlab.engine.bounds import apply_bounds
from actlab.engine.network import PARAMS, Act, one_one_one
from actlab.engine.outcome import Outcome, Tracker

GRADIENT_OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop")


def make_optimizer(name: str, params: list[Tensor], lr: float) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    raise ValueError(f"unknown gradient optimizer {name!r}; allowed: {', '.join(GRADIENT_OPTIMIZERS)}")


def initial_params(seeds: Sequence[int], scale: float = 1.0) -> Tensor:
    """(T, 4) initial weights, U(−scale, scale), each row drawn from its own seed's generator."""
    rows = []
    for s in seeds:
        g = torch.Generator().manual_seed(int(s))
        rows.append((torch.rand(len(PARAMS), generator=g, dtype=torch.float64) * 2 - 1) * scale)
    return torch.stack(rows)


def run_gradient(hidden: Act, output: Act, x: float, target: float | Tensor, *, optimizer: str,
                 lr: float | Sequence[float], steps: int, seeds: Sequence[int], threshold: float = 1e-6,
                 init_scale: float = 1.0, bounds: tuple[Tensor, Tensor] | None = None, bound_mode: str = "none",
                 device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32) -> Outcome:
    """Train one 1-1-1 network per seed on the single sample (x, target), all in one batch.

    `target` and `lr` may be one value or one per trial: trials with the same learning rate share
    one parameter group (one leaf tensor) of the optimizer. With `bounds` = (lo, hi) (each
    broadcastable to (T, 4)) and `bound_mode` 'clip' or 'reflect', the initial parameters and those
    after every optimizer step are put back into the box (the optimizer's moments are left as they
    are)."""
    start = time.perf_counter()
    T = len(seeds)
    lrs = [float(lr)] * T if isinstance(lr, (int, float)) else [float(v) for v in lr]
    if len(lrs) != T:
        raise ValueError(f"lr: expected one value or {T} (one per trial), got {len(lrs)}")
    box = None if bounds is None or bound_mode == "none" else tuple(b.to(device, dtype) for b in bounds)
    theta0 = initial_params(seeds, init_scale).to(device=device, dtype=dtype)
    if box is not None:  # start inside the box, too
        theta0 = apply_bounds(theta0, box[0], box[1], bound_mode)
    # one leaf per learning rate; `order` puts the rows back in trial order
    groups = sorted(set(lrs))
    rows = [[i for i in range(T) if lrs[i] == g] for g in groups]
    order = torch.argsort(torch.tensor([i for r in rows for i in r]), stable=True).to(device)
    leaves = [theta0[r].clone().requires_grad_(True) for r in rows]
    opt = make_optimizer(optimizer, leaves[0:1], groups[0])
    for g, leaf in zip(groups[1:], leaves[1:]):
        opt.add_param_group({"params": [leaf], "lr": g})
    y = torch.as_tensor(target, device=device, dtype=dtype).expand(T)
    track = Tracker(T, steps, threshold, theta0.device, dtype)
    for step in range(steps + 1):
        # forward: every trial's loss at its current parameters (the loss "after `step` steps")
        theta = leaves[0] if len(leaves) == 1 else torch.cat(leaves)[order]
        loss = (one_one_one(theta, x, hidden, output) - y).square()
        track.update(step, loss.detach())
        if step == steps:
            break
        # backward on the summed loss: each trial receives exactly its own gradient
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
        if box is not None:
            with torch.no_grad():
                for leaf in leaves:
                    leaf.copy_(apply_bounds(leaf, box[0], box[1], bound_mode))
    return Outcome(loss.detach(), track.best, track.hit, 1, track.marks, track.curve, theta.detach(),
                   time.perf_counter() - start)
