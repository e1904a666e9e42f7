"""Training one activation's trials for `compare`: the model factory, the paired builds, the check that a model
takes an activation, and the ensemble run (shared by `actlab.compare` and the study's batches)."""

from __future__ import annotations

import copy
import inspect
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

import actlab.catalog  # noqa: F401  (registers the catalog; the root package imports this package lazily)
from actlab.core.activation import AbstractActivation, auto_fuse
from actlab.core.errors import ActlabInputError
from actlab.core.registry import create
from actlab.core.swap import swap
from actlab.data import realdata
from actlab.engine import ensemble
from actlab.engine.optim import CLASSES, NAMES
from actlab.studies.compare import data as data_mod
from actlab.studies.compare.data import CompareInputError

TORCH_ACTIVATIONS = tuple(getattr(nn.modules.activation, n) for n in nn.modules.activation.__all__
                          if n not in ("MultiheadAttention",))
"""Every torch.nn activation class: what `replace=None` swaps in a given model."""
LIMITS = {"seeds": 1000, "lrs": 50, "epochs": 100_000, "activations": 200}


def train_activation(make: Callable[[str], nn.Module], d: data_mod.Data, spec: str, pairs: list[tuple[int, float]],
                     *, optimizer: str | type, epochs: int, batch_size: int, val_fraction: float,
                     test_fraction: float, device: str = "cpu", task: ensemble.Task | None = None,
                     vectorize: bool | str = "auto") -> tuple[list[ensemble.Member], ensemble.Task, str, str]:
    """One activation's trials (seed, lr): (members, task, mode, why), failures recorded per trial."""
    task = task or data_mod.task_of(d, None, None)
    seeds = list(dict.fromkeys(s for s, _ in pairs))
    splits = {s: data_mod.splits(d, s, val_fraction, test_fraction, device) for s in seeds}
    build = builder(make, spec, device)
    reason = _fits(build, splits[seeds[0]], task)
    if reason:
        return [ensemble.Member(s, v, failed=reason) for s, v in pairs], task, "failed", reason
    run = ensemble.train(build, splits, task, seeds, [], optimizer=optimizer, epochs=epochs, batch_size=batch_size,
                         vectorize=vectorize, pairs=pairs)
    states = {"sgd": 0, "momentum": 1, "rmsprop": 1}.get(opt_name(optimizer), 2)
    memory = ensemble.peak_memory(build, splits[seeds[0]], task, 1, batch_size, states)  # per trial
    for m in run.members:
        m.peak_memory = memory
    return run.members, task, run.mode, run.reason


def training_rows(d: data_mod.Data, val_fraction: float, test_fraction: float) -> int:
    """Rows of a seed's training split (what an epoch reads)."""
    if d.given is not None:
        return len(d.given["train"][1])
    if d.builtin:
        return len(realdata.split(d.builtin, 0, val_fraction=val_fraction, test_fraction=test_fraction).y_train)
    assert d.y is not None
    return int(round(len(d.y) * (1 - test_fraction) * (1 - val_fraction / (1 - test_fraction))))


@dataclass
class Work:
    """What one trial's training step costs: its training rows per epoch, the floating-point operations of a row's
    forward and backward pass, whether the ensemble trains it one trial after another on the CPU, and the model's
    parameters."""

    rows: int
    flops_per_row: float
    sequential: bool
    parameters: int


def work(make: Callable[[str], nn.Module], spec: str, d: data_mod.Data, val_fraction: float, test_fraction: float,
         batch_size: int) -> Work:
    """Counted on one minibatch of seed 0's training rows by torch's FlopCounterMode (matrix products and
    convolutions, forward and backward: what grows with the model; elementwise work is in the fitted constants).
    A model that cannot be built or run counts 6 per parameter (one where it cannot be built: the run will say why
    it failed)."""
    from torch.utils.flop_counter import FlopCounterMode

    rows = training_rows(d, val_fraction, test_fraction)
    try:
        with torch.random.fork_rng():  # the build seeds torch's generator: the caller's draws stay as they were
            model = builder(make, spec, "cpu")(0)
    except Exception:
        return Work(rows, 6.0, False, 1)
    sequential = any(isinstance(m, ensemble.CONVOLUTIONS) for m in model.modules())
    parameters = max(1, sum(p.numel() for p in model.parameters()))
    try:
        X = data_mod.splits(d, 0, val_fraction, test_fraction, "cpu").train[0][: max(1, min(batch_size, rows))]
        with auto_fuse(False), FlopCounterMode(display=False) as counter:  # as the ensemble trains: nothing compiled
            out = model(X.float())
            out = out if isinstance(out, torch.Tensor) else out[0]
            out.float().square().mean().backward()
        return Work(rows, counter.get_total_flops() / len(X), sequential, parameters)
    except Exception:
        return Work(rows, 6.0 * parameters, sequential, parameters)


def split_specs(text: str) -> list[str]:
    """'relu,leaky_relu(negative_slope=0.2),expr:where(x > 0, x, a*x); a=0.1, num_parameters=4' → the three specs:
    commas inside brackets belong to their spec, and so do `name=value` pieces after a formula's ';'."""
    pieces, depth, start = [], 0, 0
    for i, ch in enumerate(text + ","):
        depth += (ch in "([{") - (ch in ")]}")
        if ch == "," and depth <= 0:
            pieces.append(text[start:i].strip())
            start = i + 1
    out: list[str] = []
    for p in filter(None, pieces):
        if out and ";" in out[-1] and re.match(r"[A-Za-z_]\w*\s*=", p):
            out[-1] += ", " + p
        else:
            out.append(p)
    return out


def specs_of(activations: Sequence[str]) -> list[str]:
    if isinstance(activations, str):
        activations = split_specs(activations)
    if not activations:
        raise CompareInputError("activations: give at least one name, spec or formula (e.g. relu,gelu,silu)")
    try:
        specs = [create(a.strip()).spec for a in activations]
    except ActlabInputError as e:
        raise CompareInputError(f"activations: {e}") from None
    if len(set(specs)) != len(specs):
        raise CompareInputError(f"activations: each must be distinct, got {', '.join(specs)}")
    return specs


def check(seeds: list[int], lrs: list[float], epochs: int, batch_size: int, val: float, test: float,
           optimizer: Any, specs: list[str]) -> None:
    problems = [
        (0 < len(seeds) <= LIMITS["seeds"] and len(set(seeds)) == len(seeds), "seeds",
         f"a count or distinct integers, at most {LIMITS['seeds']}"),
        (0 < len(lrs) <= LIMITS["lrs"] and all(math.isfinite(v) and v > 0 for v in lrs), "lr",
         f"1 to {LIMITS['lrs']} positive numbers"),
        (isinstance(epochs, int) and 1 <= epochs <= LIMITS["epochs"], "epochs", f"an integer in 1..{LIMITS['epochs']}"),
        (isinstance(batch_size, int) and batch_size >= 1, "batch_size", "an integer ≥ 1"),
        (0 < val < 1 and 0 < test < 1 and val + test < 1, "val_fraction / test_fraction",
         "numbers in (0, 1) whose sum is below 1"),
        (len(specs) <= LIMITS["activations"], "activations", f"at most {LIMITS['activations']}"),
        (optimizer in NAMES or (isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer)),
         "optimizer", f"one of {', '.join(NAMES)} or a torch.optim.Optimizer class"),
    ]
    for ok, key, allowed in problems:
        if not ok:
            raise CompareInputError(f"{key}: expected {allowed}")


def opt_name(optimizer: Any) -> str:
    return optimizer if isinstance(optimizer, str) else CLASSES.get(optimizer, optimizer.__name__)


def factory(model: Any, replace: Any) -> Callable[[str], nn.Module]:
    """spec → a fresh model with that activation (its weights drawn after the caller seeds torch)."""
    if isinstance(model, nn.Module):
        template = model
        return lambda spec: _swapped(copy.deepcopy(template), spec, replace)
    if not callable(model):
        raise CompareInputError(f"model: expected an nn.Module or a factory, got {type(model).__name__}")
    takes_activation = bool(inspect.signature(model).parameters)
    if takes_activation:
        return lambda spec: _module(model(create(spec)))
    return lambda spec: _swapped(_module(model()), spec, replace)


def _module(m: Any) -> nn.Module:
    if not isinstance(m, nn.Module):
        raise CompareInputError(f"model: the factory returned {type(m).__name__}, not an nn.Module")
    return m


def _swapped(m: nn.Module, spec: str, replace: Any) -> nn.Module:
    old = replace if replace is not None else (lambda mod: isinstance(mod, TORCH_ACTIVATIONS + (AbstractActivation,)))
    if swap(m, old, lambda: create(spec)) == 0:
        raise CompareInputError("model: no activation module to replace (replace= names which; the default is "
                                "every torch.nn and actlab activation)")
    return m


def builder(make: Callable[[str], nn.Module], spec: str, device: str) -> Callable[[int], nn.Module]:
    """seed → the trial's model: the same weight draws for every activation (the seed is set just before)."""
    def build(seed: int) -> nn.Module:
        torch.manual_seed(seed)
        return make(spec).to(device)

    return build


def check_build(make: Callable[[str], nn.Module], spec: str) -> None:
    """Build the model once with this activation: a factory that raises is a CompareInputError."""
    try:
        builder(make, spec, "cpu")(0)
    except CompareInputError:
        raise
    except Exception as e:
        raise CompareInputError(f"model: the factory raised {_line(e)}") from None


def _fits(build: Callable[[int], nn.Module], split: ensemble.Splits, task: ensemble.Task, strict: bool = False) -> str:
    """'' if the model takes this activation (a forward and a loss on two rows), else why not. A factory that
    raises is the user's error (CompareInputError); so is any failure where `strict`."""
    try:
        m = build(0)
    except CompareInputError:
        raise
    except Exception as e:
        raise CompareInputError(f"model: the factory raised {_line(e)}") from None
    try:
        X, y = split.train
        out = m(X[:2])
        task.loss(out, y[:2])
    except CompareInputError:
        raise
    except Exception as e:
        if strict:
            raise CompareInputError(f"model: it fails on the data ({_line(e)})") from None
        return f"the model fails with this activation ({_line(e)})"
    return ""


def _line(e: Exception) -> str:
    return f"{type(e).__name__}: {' '.join(str(e).split())[:200]}"
