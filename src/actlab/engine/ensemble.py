"""Any model, trained as an ensemble: M trials (seeds × learning rates) of one activation as one vmapped program.

The models are built one per trial (`build(seed)` seeds its initial weights), stacked with
`torch.func.stack_module_state`, and run through `functional_call` under `vmap`: one forward, one backward and
one optimizer step (`engine.optim`, torch.optim's rules with a learning rate per member) for all of them.
Buffers are stacked too, so BatchNorm keeps running statistics per trial; dropout draws per trial
(`randomness="different"`). A model that vmap cannot take trains one trial after another with torch.optim
itself, and the run says why (`Run.mode`, `Run.reason`).

The paired design: a trial's seed fixes its initial weights (through `build`) and its minibatch order (a
generator seeded by it), the same for every activation and learning rate. Each epoch ends with the
validation metric; a trial keeps the weights of its best epoch (ties: the earliest) and the test split is
evaluated once, on those weights, at the end.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from torch.func import functional_call, stack_module_state, vmap

from actlab.core.activation import auto_fuse
from actlab.engine.optim import CLASSES, NAMES, EnsembleOptimizer, torch_class

EVAL_ROWS = 4096
"""Rows per evaluation chunk (bounds the memory of evaluating M models on a large split)."""


@dataclass(frozen=True)
class Task:
    """What is learned: `loss(out, y)` (a mean over the batch) and `metric(out, y)` (higher is better)."""

    kind: str
    metric_name: str
    loss: Callable[[Tensor, Tensor], Tensor]
    metric: Callable[[Tensor, Tensor], Tensor]
    members_loss: Callable[[Tensor, Tensor], Tensor] | None = None
    """(M, B, ...) outputs and (M, B) targets → the M members' losses at once, where the loss has such a form
    (the built-in ones: one kernel instead of vmap's decomposition of cross-entropy)."""


def classification() -> Task:
    def members(out: Tensor, y: Tensor) -> Tensor:
        losses = nn.functional.cross_entropy(out.flatten(0, 1), y.flatten(), reduction="none")
        return losses.view(y.shape[0], -1).mean(1)

    return Task("classification", "accuracy", nn.functional.cross_entropy,
                lambda out, y: (out.argmax(-1) == y).to(out.dtype).mean(), members)


def regression() -> Task:
    def r2(out: Tensor, y: Tensor) -> Tensor:
        out = out.reshape(y.shape)
        return 1 - (out - y).square().sum() / (y - y.mean()).square().sum().clamp_min(1e-300)

    def members(out: Tensor, y: Tensor) -> Tensor:
        return (out.reshape(y.shape) - y).square().flatten(1).mean(1)

    return Task("regression", "r2", lambda out, y: nn.functional.mse_loss(out.reshape(y.shape), y), r2, members)


@dataclass
class Splits:
    """Tensors on the training device: train, validation and test (X, y)."""

    train: tuple[Tensor, Tensor]
    val: tuple[Tensor, Tensor]
    test: tuple[Tensor, Tensor]


@dataclass
class Member:
    """One trial's outcome."""

    seed: int
    lr: float
    val_curve: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    best_epoch: int = 0
    val_metric: float = float("nan")
    test_metric: float = float("nan")
    failed: str = ""
    seconds_per_epoch: float = float("nan")
    """The run's wall time per trial and epoch (an ensemble shares its time among its members)."""
    peak_memory: int = 0
    """Bytes this trial adds to its ensemble's peak (`peak_memory` with one member; set by the caller)."""
    layers: list[dict] = field(default_factory=list)
    """The monitor at the selected epoch, per activation layer: dead and saturated fractions of its units on the
    validation split (`actlab.diagnose`), and the RMS of the loss gradient at its input (`grad_rms`)."""


@dataclass
class Run:
    members: list[Member]
    mode: str
    """'vmap' (one ensemble) or 'sequential' (torch.optim, one trial after another)."""
    reason: str
    seconds: float
    epochs: int


def train(build: Callable[[int], nn.Module], splits: Splits | dict[int, Splits], task: Task, seeds: list[int],
          lrs: list[float], *, optimizer: str | type = "adam", epochs: int = 10, batch_size: int = 64,
          hyper: dict | None = None, vectorize: bool | str = True,
          pairs: list[tuple[int, float]] | None = None, diagnose: bool = True) -> Run:
    """Train every (seed, lr) trial; members are ordered seed-major. `splits`: one split for every seed, or
    each seed's own (equal sizes). `optimizer`: a name in `engine.optim.NAMES` or a torch.optim class (SGD,
    Adam, AdamW, RMSprop run vectorized, any other one trial at a time). `pairs`: the (seed, lr) trials to run,
    where they are not the whole grid (a resumed run's rest). `vectorize`: True (one vmapped ensemble where vmap
    takes the model), False (one trial after another), or "auto": whichever a timed step says is faster here.
    `diagnose`: the monitor at the selected epoch (`Member.layers`; False: none, as a search's screening rungs)."""
    if isinstance(splits, Splits):
        splits = dict.fromkeys([*seeds, *(s for s, _ in pairs or ())], splits)
    with auto_fuse(False):  # every trial builds fresh activation objects: compiling each one's kernels costs seconds
        return _train(build, splits, task, seeds, lrs, optimizer, epochs, batch_size, hyper, vectorize, pairs,
                      diagnose)


def _train(build: Callable[[int], nn.Module], splits: dict[int, Splits], task: Task, seeds: list[int],
           lrs: list[float], optimizer: str | type, epochs: int, batch_size: int, hyper: dict | None,
           vectorize: bool | str, pairs: list[tuple[int, float]] | None, diagnose: bool = True) -> Run:
    name = optimizer if isinstance(optimizer, str) else CLASSES.get(optimizer)
    pairs = pairs if pairs is not None else [(s, lr) for s in seeds for lr in lrs]
    members = [Member(s, lr) for s, lr in pairs]
    start = time.perf_counter()
    reason = ""
    if name is None:
        label = getattr(optimizer, "__name__", optimizer)
        reason = f"{label} is trained with torch.optim itself (vectorized: {', '.join(NAMES)})"
    elif not vectorize:
        reason = "vectorize=False"
    elif vectorize == "auto" and len(members) > 1 and (slower := _vmap_slower(build, splits, task, members, name,
                                                                               batch_size, hyper or {})):
        reason = slower
    else:
        try:
            _vmapped(build, splits, task, members, name, epochs, batch_size, hyper or {}, diagnose)
            return _timed(Run(members, "vmap", "", time.perf_counter() - start, epochs))
        except Exception as e:  # vmap cannot take this model: train the trials one after another
            reason = f"vmap could not train this model ({type(e).__name__}: {' '.join(str(e).split())[:200]})"
            members = [Member(s, lr) for s, lr in pairs]
    for m in members:
        _alone(build, splits, task, m, optimizer if name is None else name, epochs, batch_size, hyper or {}, diagnose)
    return _timed(Run(members, "sequential", reason, time.perf_counter() - start, epochs))


CONVOLUTIONS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)


def _vmap_slower(build: Callable[[int], nn.Module], splits: dict[int, Splits], task: Task, members: list[Member],
                 name: str, batch_size: int, hyper: dict) -> str:
    """Why one trial after another is the faster way here ('' if the ensemble is): on the CPU, a model with
    convolutions (vmap turns M models' convolutions into one grouped convolution, which oneDNN runs slower than
    M separate ones: 1.75x for M = 20, forward and backward, in benchmarks/bench_compare.py's setting). A fixed
    rule, not a timing, so that a run's mode and its numbers are reproducible."""
    X = splits[members[0].seed].train[0]
    if X.device.type != "cpu":
        return ""
    model = build(members[0].seed)
    convs = sorted({type(m).__name__ for m in model.modules() if isinstance(m, CONVOLUTIONS)})
    if not convs:
        return ""
    return (f"one trial after another: on the CPU a vmapped {', '.join(convs)} is one grouped convolution, "
            "slower than separate ones (vectorize=True forces the ensemble)")


def _timed(run: Run) -> Run:
    for m in run.members:
        m.seconds_per_epoch = run.seconds / (len(run.members) * run.epochs)
    return run


def orders(seed: int, n: int, epochs: int, device: torch.device) -> list[Tensor]:
    """The trial's minibatch order per epoch: permutations from a generator seeded by the seed alone."""
    g = torch.Generator().manual_seed(int(seed))
    return [torch.randperm(n, generator=g).to(device) for _ in range(epochs)]


def _stacked(members: list[Member], splits: dict[int, Splits], part: str) -> tuple[Tensor, Tensor, int | None]:
    """(X, y, in_dim): the split shared by every member (in_dim None), or each member's own, stacked on dim 0."""
    first = getattr(splits[members[0].seed], part)
    if all(getattr(splits[m.seed], part) is first for m in members):
        return first[0], first[1], None
    pairs = [getattr(splits[m.seed], part) for m in members]
    return torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs]), 0


def _vmapped(build: Callable[[int], nn.Module], splits: dict[int, Splits], task: Task, members: list[Member],
             name: str, epochs: int, batch_size: int, hyper: dict, diagnose: bool = True) -> None:
    X, y, per_member = _stacked(members, splits, "train")
    n = X.shape[1] if per_member is not None else len(X)
    rows = torch.arange(len(members), device=X.device)[:, None]
    models = [build(m.seed) for m in members]
    params, buffers = stack_module_state(models)
    base = copy.deepcopy(models[0]).to("meta")
    del models
    keys = list(params)
    lr = torch.tensor([m.lr for m in members], dtype=torch.float64, device=X.device)
    opt = EnsembleOptimizer(name, lr, hyper)
    by_seed = {s: orders(s, n, epochs, X.device) for s in dict.fromkeys(m.seed for m in members)}
    best = {k: v.detach().clone() for k, v in params.items()}
    best_buffers = {k: v.clone() for k, v in buffers.items()}
    best_val = torch.full((len(members),), -math.inf, dtype=torch.float64)

    def loss_of(p: dict, b: dict, xb: Tensor, yb: Tensor) -> Tensor:
        return task.loss(functional_call(base, (p, b), (xb,)), yb)

    forward = vmap(lambda p, b, xb: functional_call(base, (p, b), (xb,)), randomness="different")
    vmapped_loss = vmap(loss_of, randomness="different")

    def step(p: dict, b: dict, xb: Tensor, yb: Tensor) -> Tensor:
        if task.members_loss is not None:
            return task.members_loss(forward(p, b, xb), yb)
        return vmapped_loss(p, b, xb, yb)

    for epoch in range(epochs):
        # forward, loss per member, backward of their sum (each member's gradient is its own loss's), one step
        base.train()
        losses = torch.zeros(len(members), dtype=torch.float64)
        n_batches = math.ceil(n / batch_size)
        for i in range(n_batches):
            idx = torch.stack([by_seed[m.seed][epoch][i * batch_size:(i + 1) * batch_size] for m in members])
            xb, yb = (X[idx], y[idx]) if per_member is None else (X[rows, idx], y[rows, idx])
            loss = step(params, buffers, xb, yb)
            grads = torch.autograd.grad(loss.sum(), [params[k] for k in keys])
            opt.step([params[k] for k in keys], list(grads))
            losses += loss.detach().double()
        val = _evaluate(base, params, buffers, _stacked(members, splits, "val"), task)
        # a trial keeps the weights of its best validation epoch (ties: the earliest)
        better = val > best_val
        best_val = torch.where(better, val, best_val)
        for src, dst in ((params, best), (buffers, best_buffers)):
            for k in dst:
                mask = better.to(dst[k].device).reshape((-1,) + (1,) * (dst[k].dim() - 1))
                dst[k] = torch.where(mask, src[k].detach(), dst[k])
        for j, m in enumerate(members):
            m.val_curve.append(float(val[j]))
            m.train_loss.append(float(losses[j] / n_batches))
            if better[j]:
                m.best_epoch = epoch + 1
            if not m.failed and not math.isfinite(m.train_loss[-1]):
                m.failed = f"diverged: non-finite training loss in epoch {epoch + 1}"
    test = _evaluate(base, best, best_buffers, _stacked(members, splits, "test"), task)
    for j, m in enumerate(members):
        m.val_metric, m.test_metric = float(best_val[j]), float(test[j])
        model = build(m.seed)
        model.load_state_dict({**{k: v[j] for k, v in best.items()}, **{k: v[j] for k, v in best_buffers.items()}})
        m.layers = monitor(model, splits[m.seed].val, task) if diagnose else []


@torch.no_grad()
def _evaluate(base: nn.Module, params: dict, buffers: dict, split: tuple[Tensor, Tensor, int | None],
              task: Task) -> Tensor:
    """Each member's metric on the whole split (eval mode: BatchNorm's running statistics, no dropout)."""
    X, y, per_member = split
    rows = X.shape[1] if per_member is not None else len(X)
    if rows == 0:  # a split left out (a search's rungs hold no test rows): no metric, nothing to evaluate
        return torch.full((next(iter(params.values())).shape[0],), math.nan, dtype=torch.float64)
    base.eval()
    run = vmap(lambda p, b, x: functional_call(base, (p, b), (x,)), in_dims=(0, 0, per_member))
    chunk = (lambda a, i: a[i:i + EVAL_ROWS]) if per_member is None else (lambda a, i: a[:, i:i + EVAL_ROWS])
    out = torch.cat([run(params, buffers, chunk(X, i)) for i in range(0, rows, EVAL_ROWS)], dim=1)
    metric = vmap(task.metric, in_dims=(0, per_member))(out, y).double()
    return torch.nan_to_num(metric, nan=-math.inf)


def _alone(build: Callable[[int], nn.Module], splits: dict[int, Splits], task: Task, m: Member,
           optimizer: str | type, epochs: int, batch_size: int, hyper: dict, diagnose: bool = True) -> None:
    """One trial with torch.optim itself: the same seeds, order and selection as the ensemble."""
    split = splits[m.seed]
    X, y = split.train
    model = build(m.seed)
    if isinstance(optimizer, str):
        cls, kw = torch_class(optimizer)
        kw.update(hyper)
    else:
        cls, kw = optimizer, dict(hyper)
    opt = cls(model.parameters(), lr=m.lr, **kw)  # type: ignore[call-arg]
    best_val, best_state = -math.inf, copy.deepcopy(model.state_dict())
    for epoch, order in enumerate(orders(m.seed, len(X), epochs, X.device)):
        model.train()
        total, n_batches = 0.0, 0
        for i in range(0, len(X), batch_size):
            idx = order[i:i + batch_size]
            loss = task.loss(model(X[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total, n_batches = total + loss.item(), n_batches + 1
        model.eval()
        with torch.no_grad():
            val = float(task.metric(model(split.val[0]), split.val[1]))
        val = -math.inf if math.isnan(val) else val
        m.val_curve.append(val)
        m.train_loss.append(total / n_batches)
        if not m.failed and not math.isfinite(m.train_loss[-1]):
            m.failed = f"diverged: non-finite training loss in epoch {epoch + 1}"
        if val > best_val:
            best_val, m.best_epoch, best_state = val, epoch + 1, copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    model.eval()
    with torch.no_grad():
        m.val_metric, m.test_metric = best_val, float(task.metric(model(split.test[0]), split.test[1]))
    m.layers = monitor(model, split.val, task) if diagnose else []


def peak_memory(build: Callable[[int], nn.Module], split: Splits, task: Task, members: int, batch_size: int,
                optimizer_states: int = 2) -> int:
    """Bytes an ensemble of `members` holds at its peak, from one member's training step measured: the
    intermediate tensors autograd saves for backward (`saved_tensors_hooks`; each tensor once, the parameters
    and the data left out: they are counted as such) plus the parameters, their gradients, the optimizer's states
    and the best epoch's copy, and the member's split; times the members."""
    with auto_fuse(False):
        model = build(0)
    X, y = split.train[0][:batch_size], split.train[1][:batch_size]
    own = {p.untyped_storage().data_ptr() for p in model.parameters()}
    own |= {t.untyped_storage().data_ptr() for part in (split.train, split.val, split.test) for t in part}
    seen: dict[tuple, int] = {}

    def pack(t: Tensor) -> Tensor:
        ptr = t.untyped_storage().data_ptr()
        if ptr not in own:
            seen[(ptr, t.storage_offset(), tuple(t.shape))] = t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), auto_fuse(False):
        task.loss(model(X), y).backward()
    params = sum(p.numel() * p.element_size() for p in model.parameters())
    data = sum(t.numel() * t.element_size() for part in (split.train, split.val, split.test) for t in part)
    return members * (sum(seen.values()) + (3 + optimizer_states) * params + data)


MONITOR_ROWS = 2048
"""Validation rows the end-of-training monitor reads (enough for fractions; bounded for large splits)."""


def monitor(model: nn.Module, split: tuple[Tensor, Tensor], task: Task) -> list[dict]:
    """Each activation layer of `model` (eval mode) on the first MONITOR_ROWS validation rows: `actlab.diagnose`'s
    dead and saturated fractions, and the RMS of ∂loss/∂(its input), from one backward pass."""
    from actlab.diagnostics import diagnose, find_layers

    X, y = split[0][:MONITOR_ROWS], split[1][:MONITOR_ROWS]
    if not len(X):
        return []
    found = diagnose(model, X).layers
    layers, _ = find_layers(model)
    inputs: dict[str, list[Tensor]] = {}

    def keep(name: str, module: nn.Module, args: tuple) -> None:
        if args and isinstance(args[0], Tensor) and args[0].requires_grad:
            args[0].retain_grad()
            inputs.setdefault(name, []).append(args[0])

    handles = [layer.module.register_forward_pre_hook(lambda mod, a, n=layer.name: keep(n, mod, a))
               for layer in layers]
    model.eval()
    try:
        with torch.enable_grad():
            task.loss(model(X), y).backward()
    finally:
        for h in handles:
            h.remove()
        model.zero_grad(set_to_none=True)
    rms = {n: float(torch.cat([t.grad.flatten() for t in ts if t.grad is not None]).square().mean().sqrt())
           for n, ts in inputs.items() if any(t.grad is not None for t in ts)}
    return [{"layer": d["layer"], "activation": d["activation"], "dead": d["dead_fraction"],
             "saturated": d["saturated_fraction"], "grad_rms": rms.get(d["layer"].split("#")[0], float("nan"))}
            for d in found]
