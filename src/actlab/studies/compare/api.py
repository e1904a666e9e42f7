"""`actlab.compare`: which activation for this model and these data, with the benchmark's statistics.

Each activation's trials (seeds × learning rates) train as one vmapped ensemble (`engine.ensemble`) where the
model allows it, else one after another with torch.optim; the run says which, per activation, and why. A
seed fixes the split, the initial weights (the same draws for every activation where shapes allow: the
activation is built before the seed is set) and the minibatch order, so activations are paired by seed.
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

import actlab.catalog  # noqa: F401  (registers the catalog; the root package imports this module lazily)
from actlab.core.activation import AbstractActivation
from actlab.core.errors import ActlabInputError
from actlab.core.registry import create
from actlab.core.swap import swap
from actlab.engine import ensemble
from actlab.engine.optim import CLASSES, NAMES
from actlab.studies.compare import data as data_mod
from actlab.studies.compare.data import CompareInputError
from actlab.studies.compare.results import CompareResult, Trial

TORCH_ACTIVATIONS = tuple(getattr(nn.modules.activation, n) for n in nn.modules.activation.__all__
                          if n not in ("MultiheadAttention",))
"""Every torch.nn activation class: what `replace=None` swaps in a given model."""
LIMITS = {"seeds": 1000, "lrs": 50, "epochs": 100_000, "activations": 200}


def compare(model: Any, data: Any, activations: Sequence[str], *, baseline: str | None = None,
            seeds: int | Sequence[int] = 5, lr: float | Sequence[float] = (1e-3, 3e-3),
            optimizer: str | type = "adam", epochs: int = 20,
            batch_size: int = 64, val_fraction: float = 0.2, test_fraction: float = 0.2, target: str | None = None,
            replace: Any = None, loss: Callable | None = None, metric: Callable | None = None, device: str = "cpu",
            vectorize: bool = True, progress: Callable[[str], None] | None = None,
            plan_only: bool = False) -> CompareResult:
    """Train `model` with each activation and compare them on `data` (see docs/compare.md).

    model: a factory `make(activation) -> nn.Module` (it receives a fresh activation module per trial; a
    factory that uses it in several places should copy it, `copy.deepcopy(activation)`, if it has learnable
    parameters), or an `nn.Module` / zero-argument factory whose activation modules are swapped (`replace`:
    a name, class or predicate as in `actlab.swap`; default every torch.nn and actlab activation).
    """
    specs = _specs(activations)
    base_spec = create(baseline).spec if baseline else specs[0]
    if base_spec not in specs:
        raise CompareInputError(f"baseline: {baseline!r} must be one of the activations ({', '.join(specs)})")
    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    lrs = [float(lr)] if isinstance(lr, (int, float)) else [float(v) for v in lr]
    _check(seed_list, lrs, epochs, batch_size, val_fraction, test_fraction, optimizer, specs)
    d = data_mod.read(data, target)
    task = data_mod.task_of(d, loss, metric)
    splits = {s: data_mod.splits(d, s, val_fraction, test_fraction, device) for s in seed_list}
    make = _factory(model, replace)
    settings = {"seeds": seed_list, "lr": lrs, "optimizer": _opt_name(optimizer), "epochs": epochs,
                "batch_size": batch_size, "val_fraction": val_fraction, "test_fraction": test_fraction,
                "activations": specs}
    if plan_only:  # the model builds and takes the data: nothing trains
        _fits(_builder(make, base_spec, device), splits[seed_list[0]], task, strict=True)
        return CompareResult([], task.kind, task.metric_name, base_spec, {}, d.source, settings)
    trials, runs = [], {}
    for spec in specs:
        build = _builder(make, spec, device)
        reason = _fits(build, splits[seed_list[0]], task)
        start = time.perf_counter()
        if reason:
            run = None
        else:
            run = ensemble.train(build, splits, task, seed_list, lrs, optimizer=optimizer, epochs=epochs,
                                 batch_size=batch_size, vectorize=vectorize)
        runs[spec] = (run.mode, run.reason) if run else ("failed", reason)
        members = run.members if run else [ensemble.Member(s, v, failed=reason) for s in seed_list for v in lrs]
        per_epoch = (time.perf_counter() - start) / max(1, len(members) * epochs)
        for m in members:
            trials.append(Trial(spec, m.seed, m.lr, m.val_metric, m.test_metric, m.best_epoch, m.failed,
                                runs[spec][0], per_epoch, m.val_curve, m.train_loss))
        if progress:
            progress(f"{spec}: {runs[spec][0]}{' (' + runs[spec][1] + ')' if runs[spec][1] else ''}")
    if all(mode == "failed" for mode, _ in runs.values()):
        raise CompareInputError(f"model: it fails with every activation; with {specs[0]}: {runs[specs[0]][1]}")
    return CompareResult(trials, task.kind, task.metric_name, base_spec, runs, d.source, settings)


def _specs(activations: Sequence[str]) -> list[str]:
    if isinstance(activations, str):
        activations = [a for a in activations.split(",") if a.strip()]
    if not activations:
        raise CompareInputError("activations: give at least one name, spec or formula (e.g. relu,gelu,silu)")
    try:
        specs = [create(a.strip()).spec for a in activations]
    except ActlabInputError as e:
        raise CompareInputError(f"activations: {e}") from None
    if len(set(specs)) != len(specs):
        raise CompareInputError(f"activations: each must be distinct, got {', '.join(specs)}")
    return specs


def _check(seeds: list[int], lrs: list[float], epochs: int, batch_size: int, val: float, test: float,
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


def _opt_name(optimizer: Any) -> str:
    return optimizer if isinstance(optimizer, str) else CLASSES.get(optimizer, optimizer.__name__)


def _factory(model: Any, replace: Any) -> Callable[[str], nn.Module]:
    """spec → a fresh model with that activation (its weights drawn after the caller seeds torch)."""
    if isinstance(model, nn.Module):
        import copy

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


def _builder(make: Callable[[str], nn.Module], spec: str, device: str) -> Callable[[int], nn.Module]:
    """seed → the trial's model: the same weight draws for every activation (the seed is set just before)."""
    def build(seed: int) -> nn.Module:
        torch.manual_seed(seed)
        return make(spec).to(device)

    return build


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
