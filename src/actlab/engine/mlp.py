"""Many small MLPs (2 → width → … → 1) trained at once for the planar study.

Every trial has its own weights and its own data: weights are (T, out, in) tensors, the inputs
(T, 2, N), and hidden activations (T, width, N) — the channel dimension is 1, so per-channel and
per-neuron activations (`mixed`) see one channel per hidden neuron. The loss is the sum over
trials of each trial's mean binary cross-entropy (sigmoid output), so each trial gets exactly its
own gradient; torch.optim's Adam and SGD are elementwise, so trials stay independent (tested).

Two initialisations: "torch" (nn.Linear's default, W and b ~ U(±1/√fan_in)) and "glorot" (Keras's
Dense default: W ~ U(±√(6/(fan_in + fan_out))), b = 0). `hidden_bias=False` is Keras's
`use_bias=False` on the hidden layers: their biases stay zero and are not trained (the output unit
keeps its bias). "rmsprop-keras" is Keras's RMSprop default (ρ = 0.9, ε = 1e-7), what
`model.compile(loss=...)` uses when no optimizer is named.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from actlab.engine.gradient import make_optimizer

INITS = ("torch", "glorot")
CURVE_POINTS = 50
"""Training-loss points stored per trial (evenly spaced steps, the last one included)."""


def uniform_layer(g: torch.Generator, fan_in: int, fan_out: int, bound: float) -> tuple[Tensor, Tensor]:
    """One layer's (W (fan_out, fan_in), b (fan_out,)) from U(±bound), float64, drawn from `g` in nn.Linear's
    order (W, then b): the draw every MLP trainer of the engine starts from."""
    W = (torch.rand(fan_out, fan_in, generator=g, dtype=torch.float64) * 2 - 1) * bound
    b = (torch.rand(fan_out, generator=g, dtype=torch.float64) * 2 - 1) * bound
    return W, b


def init_mlp(seeds: Sequence[int], sizes: Sequence[int], dtype: torch.dtype = torch.float32, *,
             init: str = "torch", hidden_bias: bool = True) -> list[Tensor]:
    """[W1, b1, W2, b2, …] for layer sizes (2, h1, …, 1), per seed: `init` "torch" draws W and b from
    U(±1/√fan_in) (nn.Linear), "glorot" W from U(±√(6/(fan_in + fan_out))) with b = 0 (Keras Dense);
    without `hidden_bias` every hidden layer's b is 0."""
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; allowed: {', '.join(INITS)}")
    params: list[list[Tensor]] = [[] for _ in range(2 * (len(sizes) - 1))]
    last = len(sizes) - 2
    for s in seeds:
        g = torch.Generator().manual_seed(int(s))
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            bound = 1 / math.sqrt(fan_in) if init == "torch" else math.sqrt(6 / (fan_in + fan_out))
            W, b = uniform_layer(g, fan_in, fan_out, bound)
            b = b[:, None]
            params[2 * i].append(W)
            params[2 * i + 1].append(b if init == "torch" and (hidden_bias or i == last) else torch.zeros_like(b))
    return [torch.stack(p).to(dtype) for p in params]


def trainable(params: Sequence[Tensor], hidden_bias: bool) -> list[Tensor]:
    """The tensors the optimizer updates: all, or all but the hidden layers' biases."""
    return [p for i, p in enumerate(params) if hidden_bias or i % 2 == 0 or i == len(params) - 1]


def make_mlp_optimizer(name: str, params: list[Tensor], lr: float) -> torch.optim.Optimizer:
    """`make_optimizer`'s torch.optim optimizers, plus "rmsprop-keras": RMSprop with ρ = 0.9, ε = 1e-7."""
    if name == "rmsprop-keras":
        return torch.optim.RMSprop(params, lr=lr, alpha=0.9, eps=1e-7)
    return make_optimizer(name, params, lr)


def forward(params: Sequence[Tensor], X: Tensor, act: nn.Module) -> tuple[Tensor, list[Tensor]]:
    """Logits (T, N) and the hidden layers' outputs [(T, width, N), …] for inputs X (T, 2, N)."""
    h, hidden = X, []
    for i in range(0, len(params) - 2, 2):
        h = act(torch.baddbmm(params[i + 1], params[i], h))
        hidden.append(h)
    logits = torch.baddbmm(params[-1], params[-2], h)[:, 0]
    return logits, hidden


@dataclass
class MLPOutcome:
    train_accuracy: Tensor
    test_accuracy: Tensor
    final_loss: Tensor
    test_loss: Tensor
    steps_to_95: Tensor
    """First step at which the train accuracy reached 95 %; −1 if it never did."""
    params: list[Tensor]
    seconds: float
    curve_steps: list[int]
    curve: Tensor
    """Training loss (T, len(curve_steps)) at `curve_steps`."""


def train_mlp(act: nn.Module, sizes: Sequence[int], X: Tensor, y: Tensor, X_test: Tensor, y_test: Tensor, *,
              seeds: Sequence[int], optimizer: str, lr: float, steps: int, init: str = "torch",
              hidden_bias: bool = True) -> MLPOutcome:
    """Full-batch training of one MLP per trial on its own data (X (T, 2, N), y (T, N) in {0, 1})."""
    start = time.perf_counter()
    params = [p.to(X.device) for p in init_mlp(seeds, sizes, X.dtype, init=init, hidden_bias=hidden_bias)]
    learned = [p.requires_grad_(True) for p in trainable(params, hidden_bias)]
    opt = make_mlp_optimizer(optimizer, learned, lr)
    hit = torch.full((len(seeds),), -1, dtype=torch.long, device=X.device)
    every = max(1, steps // CURVE_POINTS)
    curve_steps, curve = [], []
    for step in range(steps + 1):
        logits, _ = forward(params, X, act)
        with torch.no_grad():
            acc = ((logits > 0) == (y > 0.5)).to(X.dtype).mean(1)
            hit = torch.where((hit < 0) & (acc >= 0.95), torch.full_like(hit, step), hit)
        per_trial = F.binary_cross_entropy_with_logits(logits, y, reduction="none").mean(1)
        if step % every == 0 or step == steps:
            curve_steps.append(step)
            curve.append(per_trial.detach())
        if step == steps:
            break
        opt.zero_grad(set_to_none=True)
        per_trial.sum().backward()  # the sum: each trial receives its own mean-loss gradient
        opt.step()
    with torch.no_grad():
        t_logits, _ = forward(params, X_test, act)
        test_acc = ((t_logits > 0) == (y_test > 0.5)).to(X.dtype).mean(1)
        test_loss = F.binary_cross_entropy_with_logits(t_logits, y_test, reduction="none").mean(1)
    return MLPOutcome(acc, test_acc, per_trial.detach(), test_loss, hit, [p.detach() for p in params],
                      time.perf_counter() - start, curve_steps, torch.stack(curve, 1))
