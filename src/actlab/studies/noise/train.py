"""The noise study's training loops: one nn.Module per trial, trained under `actlab.monitor`.

Trials of a batch run one after the other on one thread (each trial its own module, so the monitor
sees one trial's units; the recurrent models loop over time steps in Python anyway). A trial's
result depends only on its config: the data and the minibatch order come from numpy generators
seeded by the trial's seed, the weights from torch's generator seeded by it before any activation
is built (so every arm of a seed starts from the same weights), and the noise from torch's global
generator reseeded with seed + 1 just before training.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

import actlab
from actlab.data import tasks
from actlab.nn import GRU, LSTM, anneal
from actlab.nn.anneal import Schedule

Draw = Callable[[int], tuple[Tensor, Tensor]]
LossFn = Callable[[Tensor, Tensor], Tensor]


@dataclass
class Fit:
    curve: list[tuple[int, float]]
    """(step, mean training loss over the steps since the previous point): what the optimizer saw."""
    saturated: dict[str, list[list[float]]]
    """Activation layer → [[step, saturated fraction], …] (the monitor's, sites of one module averaged)."""
    seconds: float


def digest(*arrays: Any) -> str:
    """A short hash of arrays' bytes: equal data or weights give equal digests (pairing checks)."""
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a.detach().cpu().numpy() if isinstance(a, Tensor) else a).tobytes())
    return h.hexdigest()[:16]


def optimizer(name: str, params: Any, lr: float) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=lr) if name == "adam" else torch.optim.SGD(params, lr=lr)


def fit(model: nn.Module, loss_of: LossFn, draw: Draw, c: dict[str, Any],
        schedule: Callable[[int], float] | None = None) -> Fit:
    """Train `model` for c["steps"] steps: forward, loss, backward, (clip), optimizer step, bookkeeping."""
    steps, every = c["steps"], c["monitor_every"]
    opt = optimizer(c["optimizer"], model.parameters(), c["lr"])
    clip = c.get("clip")
    curve: list[tuple[int, float]] = []
    window: list[Tensor] = []
    start = time.perf_counter()
    model.train()
    with actlab.monitor(model, every=every, eps=c["saturation_eps"]) as mon:
        for step in range(steps):
            if schedule is not None:
                schedule(step)  # the noise scale c of every noisy unit for this step
            x, y = draw(step)
            loss = loss_of(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if clip:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            window.append(loss.detach())
            if (step + 1) % every == 0 or step + 1 == steps:  # one curve point per monitor record
                curve.append((step + 1, float(torch.stack(window).mean())))
                window.clear()
        saturated = saturation(mon)
    return Fit(curve, saturated, time.perf_counter() - start)


def saturation(mon: Any) -> dict[str, list[list[float]]]:
    """The monitor's saturated fraction per activation module: the sites `name`, `name#1`, … of a module
    called at every time step are averaged per recorded step."""
    pooled: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for site, (steps, values) in mon.series("saturated_fraction").items():
        for s, v in zip(steps, values):
            if v is not None and np.isfinite(v):
                pooled[site.split("#")[0]][int(s)].append(float(v))
    return {name: [[s, float(np.mean(vs))] for s, vs in sorted(by.items())] for name, by in pooled.items()}


def losses(f: Fit, target: float) -> dict[str, Any]:
    """final / best / mean training loss (curve points) and the first step whose point is ≤ target (None: never)."""
    values = [v for _, v in f.curve]
    hit = next((s for s, v in f.curve if v <= target), None)
    return {"final_loss": values[-1], "best_loss": float(np.nanmin(values)) if values else None,
            "mean_loss": float(np.mean(values)),  # area under the training curve per step: lower = learnt sooner
            "steps_to_target": hit, "evaluations_to_target": hit, "success": hit is not None,
            "saturated": f.saturated, "time": f.seconds}


# --- experiments 1 and 2: a deep MLP on digits ----------------------------------------------------
def mlp(spec: str, sizes: list[int], seed: int, scale: float = 1.0, shift: float = 0.0) -> nn.Sequential:
    """Linear → act → … → Linear; the Linear layers are drawn (nn.Linear's default) from `seed` before
    any activation exists, then weights × scale and biases + shift (hidden layers only)."""
    torch.manual_seed(seed)
    linears = [nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]
    with torch.no_grad():
        for lin in linears[:-1]:
            lin.weight.mul_(scale)
            lin.bias.add_(shift)
    layers: list[nn.Module] = []
    for lin in linears[:-1]:
        layers += [lin, actlab.create(spec)]
    return nn.Sequential(*layers, linears[-1])


def mlp_trial(c: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[int, float]]]:
    seed = c["seed"]
    xtr, ytr, xte, yte = (torch.tensor(a, dtype=torch.float32 if a.dtype.kind == "f" else torch.int64)
                          for a in tasks.digits(seed, c["test_fraction"]))
    model = mlp(c["activation"], [64, *[c["width"]] * c["layers"], 10], seed,
                c["weight_scale"], c["bias_shift"])
    init = digest(*[p for n, p in model.named_parameters() if "weight" in n or "bias" in n])
    rng = np.random.default_rng(seed + 1)
    need = c["steps"] * c["batch"]
    order = np.concatenate([rng.permutation(len(xtr)) for _ in range(need // len(xtr) + 1)])
    batch = c["batch"]

    def draw(step: int) -> tuple[Tensor, Tensor]:
        idx = torch.from_numpy(order[step * batch:(step + 1) * batch])
        return xtr[idx], ytr[idx]

    torch.manual_seed(seed + 1)
    f = fit(model, F.cross_entropy, draw, c)
    model.eval()  # noisy units return their expectation
    with torch.no_grad():
        logits, train_logits = model(xte), model(xtr)
    acc = float((logits.argmax(1) == yte).float().mean())
    metrics = {**losses(f, c["target"]), "test_accuracy": acc, "test_error": 1 - acc,
               "test_loss": float(F.cross_entropy(logits, yte)), "train_loss_eval": float(F.cross_entropy(
                   train_logits, ytr)), "pairing": {"data": digest(xtr, ytr), "init": init}}
    return metrics, f.curve


# --- experiments 3 and 4: recurrent nets ------------------------------------------------------
class Readout(nn.Module):
    """A recurrent layer (batch_first) whose last hidden state feeds a linear readout."""

    def __init__(self, rnn: nn.Module, head: nn.Linear) -> None:
        super().__init__()
        self.rnn, self.head = rnn, head

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


def recurrent(kind: str, c: dict[str, Any], inputs: int, outputs: int) -> Readout:
    """GRU or LSTM + readout from the trial's seed: the readout and then the recurrent weights are drawn
    before any activation (actlab.nn draws its weights first), so every arm of a seed starts from the
    same weights; the noisy units' p come last from the same stream."""
    torch.manual_seed(c["seed"])
    head = nn.Linear(c["hidden"], outputs)
    roles = {"gate": c["gate"], "candidate": c["candidate"]}
    if kind == "lstm":
        roles["cell"] = c["cell"]
    return Readout((GRU if kind == "gru" else LSTM)(inputs, c["hidden"], batch_first=True, **roles), head)


def _rnn_weights(model: nn.Module) -> list[Tensor]:
    return [p for n, p in model.named_parameters() if "activations" not in n]


def adding_trial(c: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[int, float]]]:
    seed, length = c["seed"], c["adding_length"]
    model = recurrent("gru", c, 2, 1)
    init = digest(*_rnn_weights(model))
    train_rng = np.random.default_rng(seed + 1)
    xte, yte = (torch.from_numpy(a) for a in tasks.adding(np.random.default_rng(seed + 2), c["test_size"], length))

    def draw(step: int) -> tuple[Tensor, Tensor]:
        x, y = tasks.adding(train_rng, c["batch"], length)
        return torch.from_numpy(x), torch.from_numpy(y)

    torch.manual_seed(seed + 1)
    f = fit(model, lambda out, y: F.mse_loss(out.squeeze(1), y), draw, c)
    model.eval()
    with torch.no_grad():
        pred = model(xte).squeeze(1)
    mse = float(F.mse_loss(pred, yte))
    solved = float(((pred - yte).abs() < 0.04).float().mean())  # Hochreiter & Schmidhuber's criterion
    metrics = {**losses(f, c["target"]), "test_mse": mse, "test_error": mse, "test_accuracy": solved,
               "baseline_mse": tasks.ADDING_BASELINE, "pairing": {"data": digest(xte, yte), "init": init}}
    return metrics, f.curve


def distinct_trial(c: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[int, float]]]:
    seed, length, values = c["seed"], c["unique_length"], c["unique_values"]
    classes = tasks.distinct_classes(length, values)
    model = recurrent("lstm", c, values, classes)
    init = digest(*_rnn_weights(model))
    train_rng = np.random.default_rng(seed + 1)
    xte, yte = (torch.from_numpy(a) for a in tasks.distinct(np.random.default_rng(seed + 2), c["test_size"],
                                                              length, values))

    def draw(step: int) -> tuple[Tensor, Tensor]:
        x, y = tasks.distinct(train_rng, c["batch"], length, values)
        return torch.from_numpy(x), torch.from_numpy(y)

    schedule = None
    if c["arm"] == "annealed":
        schedule = anneal(model, "c", start=c["anneal_start"], end=c["anneal_end"],
                          steps=max(1, round(c["anneal_fraction"] * c["steps"])), kind=c["anneal_kind"])
    torch.manual_seed(seed + 1)
    f = fit(model, F.cross_entropy, draw, c, schedule)
    model.eval()
    with torch.no_grad():
        logits = model(xte)
    acc = float((logits.argmax(1) == yte).float().mean())
    majority = float(np.bincount(yte.numpy(), minlength=classes).max() / len(yte))
    metrics = {**losses(f, c["target"]), "test_accuracy": acc, "test_error": 1 - acc,
               "test_loss": float(F.cross_entropy(logits, yte)), "majority_accuracy": majority,
               "pairing": {"data": digest(xte, yte), "init": init}}
    return metrics, f.curve


# --- experiment 5: gradient descent on a 1-D objective -------------------------------------------
def one_d_trial(c: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[int, float]]]:
    """Gradient descent from c["starts"] points drawn uniformly on [−span, span] (one tensor), with noise of
    scale s_t: on the gradient, x ← x − lr·(f'(x) + s_t·ε), or on the parameter, x ← x − lr·f'(x + s_t·ε).
    s_t = 0 (arm none), c (constant), or annealed from c to anneal_end over anneal_fraction of the steps.
    Every arm of a seed draws the same starts and the same ε."""
    seed, steps, every = c["seed"], c["steps"], c["monitor_every"]
    x = np.random.default_rng(seed).uniform(-c["span"], c["span"], c["starts"])
    eps_rng = np.random.default_rng(seed + 1)
    annealed = c["arm"] == "annealed"
    sched = Schedule([], "c", c["noise_c"], c["anneal_end"] if annealed else c["noise_c"],
                     max(1, round(c.get("anneal_fraction", 1.0) * steps)), c["anneal_kind"] if annealed else "constant")
    start, curve, share = time.perf_counter(), [], []
    for step in range(steps):
        e = eps_rng.standard_normal(x.shape)
        s = 0.0 if c["arm"] == "none" else sched.value(step)
        g = tasks.gradient(x + s * e) if c["noise_on"] == "parameter" else tasks.gradient(x) + s * e
        x = x - c["lr"] * g
        if (step + 1) % every == 0 or step + 1 == steps:
            curve.append((step + 1, float(tasks.objective(x).mean())))
            share.append((step + 1, float(np.mean(np.abs(x - tasks.GLOBAL_MIN) < tasks.BASIN))))
    final = share[-1][1]
    hit = next((s for s, v in share if v >= c["target"]), None)
    values = [v for _, v in curve]
    metrics = {"final_loss": values[-1], "best_loss": min(values), "share_global": final,
               "test_accuracy": final, "test_error": 1 - final, "steps_to_target": hit,
               "evaluations_to_target": hit, "success": final >= c["target"], "share_curve": share,
               "time": time.perf_counter() - start}
    return metrics, curve
