"""Many MLP classifiers (features → hidden … → classes) trained at once, one tensor program for all.

Batching. Trial t has its own seed, learning rate and data; its parameters are row t of one flat
(T, P) tensor `theta`: each layer's weight (out·in values, row-major) and bias, then the learnable
parameters of the hidden activations. The network reads (T, out, in) weights and (T, out) biases
that are views of that row (leaves aliasing it); their gradients are gathered into one (T, P) buffer
in the same layout, so an optimizer step is a few elementwise ops on (T, P) with a learning rate per
row, however deep the net (Adam: torch's fused kernel). Signals run as columns, (T, units, B) —
units on dim 1, as in one network's (B, units) — and the logits are (T, classes, B); the output
layer has no activation.

Loss. L = Σ_t mean_b CE(logits[t, b], y[t, b]) — the sum over trials of each trial's mean softmax
cross-entropy on its minibatch — so each trial receives exactly the gradient of its own loss; the
optimizers (torch.optim's SGD, SGD with momentum 0.9 and Adam at their defaults) are elementwise,
so trials stay independent: the tests check each trial against nn.Sequential + torch.optim alone.

Learnable activation parameters (snake's a, acon_c's p1, p2, β, ...) get one copy per trial: the
activation is built with num_parameters = T (T·width when the spec asks for one per unit) and sees
its input as (1, T, width·B) (or (1, T·width, B)), channels on dim 1. Each hidden layer has its own.

Model selection reads the validation split only: after every epoch (and at initialisation) each
trial's validation accuracy; the parameters at the best one (ties: the earlier epoch) are kept, and
the test split is evaluated once, on them.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from actlab.analysis.maps import maps_of
from actlab.analysis.propagation import edge_curve, recommend
from actlab.core.errors import ActlabInputError
from actlab.core.registry import create
from actlab.diagnostics.monitor import diagnose as monitor_diagnose
from actlab.engine.mlp import uniform_layer

OPTIMIZERS = ("sgd", "momentum", "adam")
INITS = ("torch", "he", "lecun", "edge")
BETA1, BETA2, EPS = 0.9, 0.999, 1e-8  # torch.optim.Adam's defaults


@dataclass
class ClassifierOutcome:
    """Per-trial results of `train_classifiers`, CPU tensors (T trials; epochs counted from 0 = initialisation)."""

    test_accuracy: Tensor
    test_loss: Tensor
    best_epoch: Tensor
    """The epoch whose parameters were selected (best validation accuracy; ties: the earlier)."""
    best_val_accuracy: Tensor
    val_accuracy: Tensor
    """(T, epochs + 1): validation accuracy at initialisation and after every epoch."""
    val_loss: Tensor
    train_loss: Tensor
    """(T, epochs): the mean of the epoch's minibatch losses."""
    epochs_to_target: Tensor | None
    """First epoch whose validation accuracy is ≥ target, −1 if none; None without a target."""
    seconds: float
    diagnosis: list[list[dict[str, Any]]] | None
    """Per trial, per hidden layer {'layer' (1, 2, …), 'dead', 'saturated'}: the fractions of dead units and of
    saturated inputs that `actlab.diagnose` measures on the selected weights over the validation inputs."""
    params: list[Tensor]
    """The selected parameters: [W1 (T, out, in), b1 (T, out), …, then each hidden layer's activation
    parameters (T, k) in the activation's `param_names` order]."""


class Update:
    """torch.optim's update rules at their defaults, in place on theta (T, P), with a learning rate per row (T, 1)."""

    def __init__(self, name: str, theta: Tensor, lr: Tensor) -> None:
        self.name, self.lr, self.t = name, lr, 0
        self.m = torch.zeros_like(theta) if name != "sgd" else None
        self.v = torch.zeros_like(theta) if name == "adam" else None
        self.delta = torch.zeros_like(theta) if name == "adam" else None
        self.steps = torch.zeros((), dtype=torch.float32, device=theta.device)
        self.fused: bool | None = None  # Adam: torch's fused kernel where it runs (decided at the first step)

    @torch.no_grad()
    def step(self, theta: Tensor, g: Tensor) -> None:
        self.t += 1
        if self.name == "sgd":  # θ ← θ − lr·g
            theta.addcmul_(g, self.lr, value=-1)
            return
        assert self.m is not None
        if self.name == "momentum":  # buf ← g at the first step, then 0.9·buf + g;  θ ← θ − lr·buf
            self.m.copy_(g) if self.t == 1 else self.m.mul_(0.9).add_(g)
            theta.addcmul_(self.m, self.lr, value=-1)
            return
        assert self.v is not None and self.delta is not None
        # adam: m ← lerp(m, g, 1 − β1), v ← β2·v + (1 − β2)·g², θ ← θ − lr/(1 − β1ᵗ)·m/(√(v/(1 − β2ᵗ)) + ε)
        if self.fused is not False:
            try:  # torch's own fused Adam kernel (one pass) at lr = 1 on a zero tensor gives −m̂/(√v̂ + ε) ...
                self.delta.zero_()
                self.steps.fill_(self.t)
                torch._fused_adam_([self.delta], [g], [self.m], [self.v], [], [self.steps], amsgrad=False, lr=1.0,
                                   beta1=BETA1, beta2=BETA2, weight_decay=0.0, eps=EPS, maximize=False)
                theta.addcmul_(self.delta, self.lr)  # ... which each row then takes at its own learning rate
                self.fused = True
                return
            except (AttributeError, RuntimeError, NotImplementedError):
                if self.fused:
                    raise
                self.fused = False  # no fused kernel for this device or dtype: the same rule, op by op
        self.m.lerp_(g, 1 - BETA1)
        self.v.mul_(BETA2).addcmul_(g, g, value=1 - BETA2)
        denom = (self.v.sqrt() / (1 - BETA2**self.t) ** 0.5).add_(EPS)
        theta.addcdiv_(self.m * (self.lr / (1 - BETA1**self.t)), denom, value=-1)


def train_classifiers(act: str, sizes: Sequence[int], X_train: Tensor, y_train: Tensor, X_val: Tensor, y_val: Tensor,
                      X_test: Tensor, y_test: Tensor, *, seeds: Sequence[int], lrs: Sequence[float], optimizer: str,
                      init: str, epochs: int, batch_size: int, target: float | None = None,
                      diagnose: bool = True) -> ClassifierOutcome:
    """Train one MLP of layer sizes `sizes` = (d, h, …, n_classes) per trial, all trials as one tensor program.

    X_* are (T, N, d) float (each trial its own split), y_* (T, N) int64 labels; trial t starts from
    `init` drawn from seeds[t], sees its training rows in an order drawn from (seeds[t], epoch) and
    learns at lrs[t]. Everything runs on X_train's device and dtype. See the module docstring."""
    start = time.perf_counter()
    T = _check(sizes, X_train, y_train, X_val, y_val, X_test, y_test, seeds, lrs, optimizer, init, epochs, batch_size)
    net = Network(act, sizes, seeds, init, X_train.dtype, X_train.device)
    update = Update(optimizer, net.theta, torch.tensor(list(lrs), dtype=X_train.dtype, device=X_train.device)[:, None])
    val_acc = X_train.new_zeros(T, epochs + 1)
    val_loss = X_train.new_zeros(T, epochs + 1)
    train_loss = X_train.new_zeros(T, epochs)
    best = net.theta.detach().clone()
    best_epoch = torch.zeros(T, dtype=torch.long, device=X_train.device)
    for epoch in range(epochs + 1):
        if epoch > 0:
            train_loss[:, epoch - 1] = _epoch(net, update, X_train, y_train, _orders(seeds, epoch, y_train), batch_size)
        val_acc[:, epoch], val_loss[:, epoch] = _evaluate(net, X_val, y_val)
        improved = val_acc[:, epoch] > val_acc[:, :epoch].max(1).values if epoch else None
        if improved is not None and bool(improved.any()):  # copy only the rows that improved
            best[improved] = net.theta.detach()[improved]
            best_epoch[improved] = epoch
    with torch.no_grad():
        net.theta.copy_(best)
    test_acc, test_loss = _evaluate(net, X_test, y_test)  # the one and only look at the test split
    hit = None
    if target is not None:
        reached = val_acc >= target
        hit = torch.where(reached.any(1), reached.to(torch.uint8).argmax(1), -1)
    found = [[{"layer": i + 1, "dead": row["dead_fraction"], "saturated": row["saturated_fraction"]}
              for i, row in enumerate(monitor_diagnose(net.alone(t, "cpu"), X_val[t].cpu()).layers)]
             for t in range(T)] if diagnose else None
    return ClassifierOutcome(test_acc.cpu(), test_loss.cpu(), best_epoch.cpu(),
                             val_acc.gather(1, best_epoch[:, None])[:, 0].cpu(), val_acc.cpu(), val_loss.cpu(),
                             train_loss.cpu(), None if hit is None else hit.cpu(), time.perf_counter() - start, found,
                             [p.detach().cpu().clone() for p in net.params()])


def _epoch(net: Network, update: Update, X: Tensor, y: Tensor, order: Tensor, batch_size: int) -> Tensor:
    """One pass over the training rows in `order` (T, N); the trials' mean minibatch losses (T,)."""
    T, N = y.shape
    rows = torch.arange(T, device=y.device)[:, None]
    Xs = X[rows, order].transpose(1, 2).contiguous()  # (T, d, N): every trial's rows in its own order, as columns
    ys = y[rows, order]
    total = X.new_zeros(T)
    for s in range(0, N, batch_size):  # the last, partial batch is kept
        xb, yb = Xs[:, :, s:s + batch_size], ys[:, s:s + batch_size]
        per_trial = F.cross_entropy(net(xb), yb, reduction="none").mean(1)  # classes on dim 1
        grads = torch.autograd.grad(per_trial.sum(), net.leaves)  # the sum: each trial gets its own mean loss's
        torch._foreach_copy_(net.grad_views, grads)  # gradient, gathered in theta's layout
        update.step(net.theta, net.grad)
        total += per_trial.detach()
    return total / math.ceil(N / batch_size)


@torch.no_grad()
def _evaluate(net: Network, X: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """Each trial's accuracy and mean cross-entropy (T,) on (X (T, N, d), y (T, N))."""
    logits = net(X.transpose(1, 2))
    loss = F.cross_entropy(logits, y, reduction="none").mean(1)
    predicted = logits.max(1).indices  # the argmax (first of ties); Tensor.argmax is slower on dim 1 here
    return (predicted == y).to(X.dtype).mean(1), loss


def minibatch_order(seed: int, epoch: int, n: int) -> Tensor:
    """The order of n training rows in `epoch` (1, 2, …) for `seed`: a permutation drawn from a torch.Generator
    seeded by seed·2³² + epoch — the same for every activation and learning rate of that seed."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(int(seed) * 2**32 + int(epoch)))


def _orders(seeds: Sequence[int], epoch: int, y: Tensor) -> Tensor:
    n = y.shape[1]
    drawn = {s: minibatch_order(s, epoch, n) for s in dict.fromkeys(int(s) for s in seeds)}
    return torch.stack([drawn[int(s)] for s in seeds]).to(y.device)


def _check(sizes: Sequence[int], X_train: Tensor, y_train: Tensor, X_val: Tensor, y_val: Tensor, X_test: Tensor,
           y_test: Tensor, seeds: Sequence[int], lrs: Sequence[float], optimizer: str, init: str, epochs: int,
           batch_size: int) -> int:
    """The number of trials T, after checking every argument."""
    if optimizer not in OPTIMIZERS:
        raise ActlabInputError(f"unknown optimizer {optimizer!r}; allowed: {', '.join(OPTIMIZERS)}")
    if init not in INITS:
        raise ActlabInputError(f"unknown init {init!r}; allowed: {', '.join(INITS)}")
    T = len(seeds)
    if T == 0 or len(lrs) != T:
        raise ActlabInputError(f"seeds and lrs: expected one learning rate per seed (at least one), "
                               f"got {T} seeds and {len(lrs)} learning rates")
    if any(not 0 <= int(s) < 2**31 for s in seeds) or any(not (v > 0 and math.isfinite(v)) for v in lrs):
        raise ActlabInputError("seeds must be integers in [0, 2**31) and learning rates finite and positive")
    if epochs < 1 or batch_size < 1 or len(sizes) < 2 or min(sizes) < 1:
        raise ActlabInputError(f"epochs and batch_size must be ≥ 1 and sizes at least (inputs, classes), all ≥ 1; "
                               f"got epochs={epochs}, batch_size={batch_size}, sizes={list(sizes)}")
    for name, X, y in (("train", X_train, y_train), ("val", X_val, y_val), ("test", X_test, y_test)):
        if X.dim() != 3 or X.shape[0] != T or X.shape[2] != sizes[0] or tuple(y.shape) != tuple(X.shape[:2]):
            raise ActlabInputError(f"X_{name} must be (T={T}, N, d={sizes[0]}) and y_{name} (T, N); got "
                                   f"{tuple(X.shape)} and {tuple(y.shape)}")
    return T


class _Hidden:
    """One hidden layer's activation for all T trials at once (the input is (T, width, B)).

    Without learnable parameters the module sees (T, width, B), units on dim 1 as in one network.
    With them it is rebuilt with num_parameters = T·k (k = 1 shared, k = width per unit) and sees
    (1, T, width·B) or (1, T·width, B), so that the channel dim 1 holds one copy of k values per trial."""

    def __init__(self, spec: str, T: int, width: int, device: torch.device) -> None:
        base = create(spec)
        learnable = list(base.named_parameters())
        self.names = [n for n, _ in learnable]
        self.k = 1
        self.start: list[Tensor] = [p.detach().double().reshape(-1) for _, p in learnable]
        if learnable:
            ks = {p.numel() for _, p in learnable}
            if "num_parameters" not in base.get_params() or len(ks) != 1 or not ks <= {1, width}:
                raise ActlabInputError(f"activation {spec!r}: its learnable parameters cannot be given one copy per "
                                       "trial (allowed: activations without learnable parameters, or with a "
                                       "num_parameters argument, shared or one per unit)")
            self.k = ks.pop()
            base = type(base)(**{**base.get_params(), "num_parameters": T * self.k})
        # eval(): stochastic activations give their expectation. Eager: compiling the closed forms
        # (the automatic fusion of big inputs) would cost seconds per batch, more than it saves here.
        self.module = base.eval().fuse(False).to(device)

    def __call__(self, z: Tensor) -> Tensor:
        if not self.names:
            return self.module(z)
        T, W, B = z.shape
        return self.module(z.reshape(1, T * self.k, -1)).view(T, W, B)


class Network:
    """T MLPs whose parameters are the rows of one flat (T, P) tensor `theta` (gradients gathered in `grad`)."""

    def __init__(self, act: str, sizes: Sequence[int], seeds: Sequence[int], init: str, dtype: torch.dtype,
                 device: torch.device) -> None:
        T, self.spec, self.sizes = len(seeds), act, list(sizes)
        self.hidden = [_Hidden(act, T, width, device) for width in sizes[1:-1]]
        shapes = [s for fan_in, fan_out in zip(sizes[:-1], sizes[1:]) for s in ((fan_out, fan_in), (fan_out,))]
        shapes += [(h.k,) for h in self.hidden for _ in h.names]
        self.theta = torch.empty(T, sum(math.prod(s) for s in shapes), dtype=dtype, device=device)
        self.grad = torch.zeros_like(self.theta)
        self.leaves: list[nn.Parameter] = []
        self.grad_views: list[Tensor] = []
        offset = 0
        for shape, value in zip(shapes, _initial(act, sizes, seeds, init, self.hidden)):
            n = math.prod(shape)
            leaf = nn.Parameter(self.theta[:, offset:offset + n].view(T, *shape))  # aliases theta's columns
            self.grad_views.append(self.grad[:, offset:offset + n].view(T, *shape))
            with torch.no_grad():
                leaf.copy_(value)
            self.leaves.append(leaf)
            offset += n
        acts = iter(self.leaves[2 * (len(sizes) - 1):])
        for h in self.hidden:  # each hidden layer's activation reads its parameters from theta too
            for name in h.names:
                setattr(h.module, name, next(acts))

    def __call__(self, x: Tensor) -> Tensor:
        """Logits (T, classes, B) for inputs (T, d, B): h ← act(W·h + b) per hidden layer, no activation at the end."""
        h = x
        for i in range(len(self.sizes) - 1):
            W, b = self.leaves[2 * i], self.leaves[2 * i + 1]
            h = torch.baddbmm(b.unsqueeze(2), W, h)
            if i < len(self.hidden):
                h = self.hidden[i](h)
        return h

    def params(self) -> list[Tensor]:
        return list(self.leaves)

    def alone(self, t: int, device: str | torch.device | None = None) -> nn.Sequential:
        """Trial t's network as nn.Sequential(nn.Linear, activation, …, nn.Linear) with its current parameters,
        on `device` (theta's by default). The diagnosis runs it on the CPU: small, and the analyser that judges
        a learnable activation's saturation probes it on the CPU."""
        device = self.theta.device if device is None else device
        modules: list[nn.Module] = []
        acts = iter(self.leaves[2 * (len(self.sizes) - 1):])
        for i, (fan_in, fan_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            linear = nn.Linear(fan_in, fan_out, dtype=self.theta.dtype, device=device)
            with torch.no_grad():
                linear.weight.copy_(self.leaves[2 * i][t])
                linear.bias.copy_(self.leaves[2 * i + 1][t])
            modules.append(linear)
            if i < len(self.hidden):
                act = create(self.spec).to(device=device, dtype=self.theta.dtype)
                with torch.no_grad():
                    for name in self.hidden[i].names:
                        getattr(act, name).copy_(next(acts)[t])
                modules.append(act)
        return nn.Sequential(*modules)


def _initial(act: str, sizes: Sequence[int], seeds: Sequence[int], init: str, hidden: list[_Hidden]) -> list[Tensor]:
    """Initial values, (T, …) float64 per parameter: per layer W and b drawn from the trial's seed, then the
    activations' own initial values. 'torch': U(±1/√fan_in) for W and b (nn.Linear's default); 'he',
    'lecun', 'edge': W = σw·z/√fan_in, b = σb·z' with standard-normal z, z' (the same draws for all three) and
    (σw, σb) = (√2, 0), (1, 0), or the activation's edge of chaos on hidden layers and (1, 0) on the output."""
    edge = _edge(act) if init == "edge" else (1.0, 0.0)
    gains = {"he": (math.sqrt(2), 0.0), "lecun": (1.0, 0.0), "edge": edge}
    per_seed = []
    for s in seeds:
        g = torch.Generator().manual_seed(int(s))
        drawn: list[torch.Tensor] = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            if init == "torch":
                drawn += uniform_layer(g, fan_in, fan_out, 1 / math.sqrt(fan_in))
                continue
            sigma_w, sigma_b = gains[init] if i < len(sizes) - 2 else (1.0, 0.0)
            drawn.append(torch.randn(fan_out, fan_in, generator=g, dtype=torch.float64) * (sigma_w / math.sqrt(fan_in)))
            z = torch.randn(fan_out, generator=g, dtype=torch.float64)
            drawn.append(z * sigma_b if sigma_b else torch.zeros_like(z))
        per_seed.append(drawn)
    T = len(seeds)
    return [torch.stack(p) for p in zip(*per_seed)] + [v.expand(T, h.k) for h in hidden for v in h.start]


@functools.lru_cache(maxsize=64)
def _edge(spec: str) -> tuple[float, float]:
    """(σw, σb) on the edge of chaos of `spec` at σb = 0, or at the nearest σb that has one (analysis.propagation)."""
    maps = maps_of(create(spec).spec)
    point = recommend(maps, 0.0, []) or recommend(maps, 0.0, edge_curve(maps))
    if point is None:
        raise ActlabInputError(f"init 'edge': activation {spec!r} has no edge of chaos at any σb; "
                               f"allowed inits for it: {', '.join(i for i in INITS if i != 'edge')}")
    return float(point["sigma_w"]), float(point["sigma_b"])
