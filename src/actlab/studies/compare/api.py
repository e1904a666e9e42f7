"""`actlab.compare`: which activation for this model and these data, with the benchmark's statistics.

Each activation's trials (seeds × learning rates) train as one vmapped ensemble (`engine.ensemble`) where the
model allows it, else one after another with torch.optim; the run says which, per activation, and why. A
seed fixes the split, the initial weights (the same draws for every activation where shapes allow: the
activation is built before the seed is set) and the minibatch order, so activations are paired by seed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from actlab.core.registry import create
from actlab.studies.compare import data as data_mod
from actlab.studies.compare.data import CompareInputError, load_object
from actlab.studies.compare.results import CompareResult, Trial
from actlab.studies.compare.train import check, factory, opt_name, specs_of, split_specs, train_activation


def compare(model: Any, data: Any, activations: Sequence[str], *, baseline: str | None = None,
            seeds: int | Sequence[int] = 5, lr: float | Sequence[float] = (1e-3, 3e-3),
            optimizer: str | type = "adam", epochs: int = 20,
            batch_size: int = 64, val_fraction: float = 0.2, test_fraction: float = 0.2, target: str | None = None,
            replace: Any = None, loss: Callable | None = None, metric: Callable | None = None, device: str = "cpu",
            vectorize: bool | str = "auto", progress: Callable[[str], None] | None = None,
            store: str | Path | None = None, backend: str = "local", workers: int | str = 1,
            on_batch: Callable[[int], None] | None = None, command: str = "") -> CompareResult:
    """Train `model` with each activation and compare them on `data` (see docs/compare.md).

    model: a factory `make(activation) -> nn.Module` (it receives a fresh activation module per trial; a
    factory that uses it in several places should copy it, `copy.deepcopy(activation)`, if it has learnable
    parameters), or an `nn.Module` / zero-argument factory whose activation modules are swapped (`replace`:
    a name, class or predicate as in `actlab.swap`; default every torch.nn and actlab activation).
    With `store=` (a results store: resumable, `backend` 'local', 'process' or 'ray'), model and data must be
    references that any worker can load: 'module:function' or 'file.py:function', a file or a dataset name.
    """
    if store is not None:
        return _stored(model, data, activations, baseline=baseline, seeds=seeds, lr=lr, optimizer=optimizer,
                       epochs=epochs, batch_size=batch_size, val_fraction=val_fraction, test_fraction=test_fraction,
                       target=target, device=device, store=store, backend=backend, workers=workers,
                       progress=progress, on_batch=on_batch, command=command)
    specs = specs_of(activations)
    base_spec = create(baseline).spec if baseline else specs[0]
    if base_spec not in specs:
        raise CompareInputError(f"baseline: {baseline!r} must be one of the activations ({', '.join(specs)})")
    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    lrs = [float(lr)] if isinstance(lr, (int, float)) else [float(v) for v in lr]
    check(seed_list, lrs, epochs, batch_size, val_fraction, test_fraction, optimizer, specs)
    if isinstance(model, str):
        model = load_object(model, "model")
    d = data_mod.read(data, target)
    task = data_mod.task_of(d, loss, metric)
    make = factory(model, replace)
    settings = {"seeds": seed_list, "lr": lrs, "optimizer": opt_name(optimizer), "epochs": epochs,
                "batch_size": batch_size, "val_fraction": val_fraction, "test_fraction": test_fraction,
                "activations": specs}
    trials, runs = [], {}
    for spec in specs:
        members, _, mode, reason = train_activation(
            make, d, spec, [(s, v) for s in seed_list for v in lrs], optimizer=optimizer, epochs=epochs,
            batch_size=batch_size, val_fraction=val_fraction, test_fraction=test_fraction, device=device,
            task=task, vectorize=vectorize)
        runs[spec] = (mode, reason)
        trials += [Trial(spec, m.seed, m.lr, m.val_metric, m.test_metric, m.best_epoch, m.failed, mode,
                         m.seconds_per_epoch, m.val_curve, m.train_loss, m.layers, m.peak_memory) for m in members]
        if progress:
            progress(f"{spec}: {mode}{' (' + reason + ')' if reason else ''}")
    if all(mode == "failed" for mode, _ in runs.values()):
        raise CompareInputError(f"model: it fails with every activation; with {specs[0]}: {runs[specs[0]][1]}")
    return CompareResult(trials, task.kind, task.metric_name, base_spec, runs, d.source, settings)


def _stored(model: Any, data: Any, activations: Any, *, store: str | Path, backend: str, workers: int | str,
            progress: Callable[[str], None] | None, device: str, target: str | None,
            on_batch: Callable[[int], None] | None = None, command: str = "", **kw: Any) -> CompareResult:
    """The comparison through the study: planned, run into the store (what it holds already is kept), read back."""
    from actlab.studies.compare.results import from_stored
    from actlab.studies.compare.study import CompareConfig, plan
    from actlab.studies.config import ConfigError
    from actlab.studies.estimate import admit
    from actlab.studies.protocol import Stored
    from actlab.studies.runner import execute

    if not (isinstance(model, str) and isinstance(data, (str, Path))):
        raise CompareInputError("store: needs model and data as references any worker can load ('module:function' "
                                "or 'file.py:function'; a file, a dataset name or 'module:function'), got objects")
    seeds, lr = kw.pop("seeds"), kw.pop("lr")
    try:
        cfg = CompareConfig(model=model, data=str(data), target=target or "", baseline=kw.pop("baseline") or "",
                            activations=split_specs(activations) if isinstance(activations, str) else list(activations),
                            seeds=seeds if isinstance(seeds, int) else list(seeds),
                            lr=lr if isinstance(lr, (int, float)) else list(lr),
                            optimizer=kw.pop("optimizer"), **kw)
        batches = plan(cfg)
        admit("compare", cfg, batches)
    except ConfigError as e:
        raise CompareInputError(str(e)) from None
    if on_batch is None and progress is not None:
        on_batch = lambda n: progress(f"{n} trials stored")  # noqa: E731
    execute(batches, store, backend=backend, workers=workers, device=device, on_batch=on_batch,
            command=command or "(library call: actlab.compare)")
    ids = {t.id for b in batches for t in b.trials}
    stored = Stored.load(store, "compare")
    mine = [t for t in stored.trials if t["trial_id"] in ids]
    (result,) = from_stored(mine, stored.curves([t["trial_id"] for t in mine]))
    return result
