"""`compare` as a study: `actlab run compare --set model=... --set data=...` and `actlab compare` plan it, store it
(resumable), spread it over the process or Ray backends, and report it like the other studies.

One batch is one activation: its seeds × learning rates, trained as one vmapped ensemble (`engine.ensemble`).
The model and the data are references (`module:function`, `path/to/file.py:function`, a file, a dataset name),
so that any worker can load them; a trial's config holds a fingerprint of the data's values, so a changed file
gives new trials instead of mixing with the old ones.
"""

from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from actlab.results.store import TrialRecord
from actlab.studies.config import ConfigError, require, seed_list, values
from actlab.studies.plan import Batch, Trial
from actlab.studies.protocol import Cost

NAME = "compare"
QUESTION = "Which activation should this model use on these data?"
MAX_SEEDS = 1000
SECONDS_PER_FLOP = 4e-11
"""Seconds per floating-point operation of training (a row's forward and backward matrix products and
convolutions, counted by torch's FlopCounterMode: `train.work`) in a vmapped ensemble on the reference 2-core CPU,
one thread. Fitted with TRIAL_STEP_SECONDS and STEP_SECONDS by least squares on six batch shapes × relu / tanh,
1 and 2 threads (10-50 trials of 64-64-64-10 on digits, 3-30 of 40-100-100-10 on MNIST-1D, 2-30 of 64-512-512-10
on digits; 0.3-7.9 s each): every one-thread batch within 0.88-1.09× of the fit; on 2 threads the flop and
per-trial terms ran 1.7× and 1.5× faster, the per-step term not at all."""
TRIAL_STEP_SECONDS = 9e-5
"""Per optimizer step and trial of an ensemble: the update and the small ops that grow with it."""
STEP_SECONDS = 1e-3
"""Per optimizer step of an ensemble: the Python-level work of vmap, autograd and the update (serial: more
threads do not shorten it)."""
SEQUENTIAL_SECONDS_PER_FLOP = 1.6e-11
"""The same for a model trained one trial after another (convolutions on the CPU), one thread. Fitted with
SEQUENTIAL_STEP_SECONDS on five shapes × relu / tanh, 1 and 2 threads (2-10 trials of the MNIST-1D paper's CNN,
minibatches of 32 and 100; 2-6 of a two-convolution 2-D CNN on digits; 0.26-2.4 s each): within 0.82-1.23×;
2 threads ran the flops 2.1× faster, the steps not at all."""
SEQUENTIAL_STEP_SECONDS = 1.85e-3
"""Per optimizer step and trial trained one after another: the Python-level work of a step (serial)."""
BATCH_SECONDS = 0.02
"""A batch's fixed cost: its models, vmap's first trace, the evaluations and the store write (serial)."""


@dataclass
class CompareConfig:
    model: str = "actlab.studies.compare.examples:digits_mlp"
    """module:function or path/to/file.py:function: make(activation) -> nn.Module, or a zero-argument factory
    whose activation modules are swapped."""
    data: str = "digits"
    """A dataset name (mnist1d, digits, breast_cancer, wine), a .csv / .parquet / .npz file, or module:function."""
    target: str = ""
    """The label column of a table."""
    activations: list[str] = field(default_factory=lambda: ["relu", "gelu", "silu", "tanh"])
    baseline: str = ""
    """Compared with every other activation (default: the first)."""
    seeds: int | list[int] = 5
    lr: float | list[float] = field(default_factory=lambda: [0.001, 0.003])
    optimizer: str = "adam"
    epochs: int = 20
    batch_size: int = 64
    val_fraction: float = 0.2
    test_fraction: float = 0.2

    def __post_init__(self) -> None:
        from actlab.engine.optim import NAMES
        from actlab.studies.compare.train import specs_of

        if isinstance(self.seeds, int) and not 1 <= self.seeds <= MAX_SEEDS:
            raise ConfigError(f"seeds: expected a count from 1 to {MAX_SEEDS} or a list of seeds, got {self.seeds}")
        self.seed_list = seed_list(self.seeds)
        self.lr_list = values("lr", self.lr)
        require([
            (len(self.seed_list) <= MAX_SEEDS, "seeds", f"at most {MAX_SEEDS} seeds"),
            (self.optimizer in NAMES, "optimizer", f"one of {', '.join(NAMES)}"),
            (isinstance(self.epochs, int) and 1 <= self.epochs <= 100_000, "epochs", "an integer from 1 to 100000"),
            (isinstance(self.batch_size, int) and self.batch_size >= 1, "batch_size", "an integer ≥ 1"),
            (0 < self.val_fraction < 1 and 0 < self.test_fraction < 1 and self.val_fraction + self.test_fraction < 1,
             "val_fraction", "fractions in (0, 1) whose sum with test_fraction is below 1"),
            (":" in self.model, "model", "module:function or path/to/file.py:function"),
        ], self)
        try:
            self.specs = specs_of(self.activations)
        except Exception as e:
            raise ConfigError(str(e)) from None
        from actlab.core.registry import create

        self.baseline_spec = create(self.baseline).spec if self.baseline else self.specs[0]
        if self.baseline_spec not in self.specs:
            raise ConfigError(f"baseline: expected one of the activations ({', '.join(self.specs)}), "
                              f"got {self.baseline!r}")


def plan(cfg: CompareConfig) -> list[Batch]:
    """One batch per activation; its trials are the seeds × learning rates."""
    fingerprint = data_fingerprint(cfg.data, cfg.target)
    _buildable(cfg.model, cfg.baseline_spec)
    batches = []
    for spec in cfg.specs:
        trials = [Trial(_config(cfg, spec, seed, lr, fingerprint), task=cfg.data)
                  for seed in cfg.seed_list for lr in cfg.lr_list]
        batches.append(Batch(NAME, trials))
    return batches


def _config(cfg: CompareConfig, spec: str, seed: int, lr: float, fingerprint: str) -> dict[str, Any]:
    return {"study": NAME, "model": cfg.model, "data": cfg.data, "target": cfg.target, "data_id": fingerprint,
            "activation": spec, "baseline": cfg.baseline_spec, "optimizer": cfg.optimizer, "lr": lr,
            "epochs": cfg.epochs, "batch_size": cfg.batch_size, "val_fraction": cfg.val_fraction,
            "test_fraction": cfg.test_fraction, "seed": int(seed)}


@functools.lru_cache(maxsize=8)
def loaded(data: str, target: str) -> Any:
    """The data of a reference, read once per process (CompareInputError → ConfigError: exit 2)."""
    from actlab.studies.compare.data import CompareInputError, read

    try:
        return read(data, target or None)
    except CompareInputError as e:
        raise ConfigError(str(e)) from None


def data_fingerprint(data: str, target: str) -> str:
    """16 hex digits of the data's values (a dataset name stands for itself: its generator is fixed)."""
    d = loaded(data, target)
    if d.builtin:
        return d.builtin
    h = hashlib.sha1()
    arrays = [d.X, d.y] if d.given is None else [a for k in ("train", "val", "test") for a in d.given[k]]
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


@functools.lru_cache(maxsize=8)
def _factory(model: str) -> Any:
    from actlab.studies.compare import train as api
    from actlab.studies.compare.data import CompareInputError, load_object

    try:
        return api.factory(load_object(model, "model"), None)
    except CompareInputError as e:
        raise ConfigError(str(e)) from None


@functools.lru_cache(maxsize=8)
def _buildable(model: str, spec: str) -> None:
    """The factory builds a model with the baseline (a factory that raises is the user's error: exit 2)."""
    from actlab.studies.compare import train
    from actlab.studies.compare.data import CompareInputError

    try:
        train.check_build(_factory(model), spec)
    except CompareInputError as e:
        raise ConfigError(str(e)) from None


def run_batch(batch: Batch, device: str = "cpu") -> list[TrialRecord]:
    """The batch's trials (one activation) as one ensemble; a failure is recorded per trial."""
    from actlab.studies.compare import train as api

    c = batch.trials[0].config
    data = loaded(c["data"], c["target"])
    pairs = [(t.config["seed"], t.config["lr"]) for t in batch.trials]
    members, task, mode, reason = api.train_activation(
        _factory(c["model"]), data, c["activation"], pairs, optimizer=c["optimizer"], epochs=c["epochs"],
        batch_size=c["batch_size"], val_fraction=c["val_fraction"], test_fraction=c["test_fraction"], device=device)
    records = []
    for t, m in zip(batch.trials, members):
        metrics = {"val": m.val_metric, "test": m.test_metric, "best_epoch": m.best_epoch, "failed": m.failed,
                   "mode": mode, "reason": reason, "metric": task.metric_name, "task_kind": task.kind,
                   "seconds_per_epoch": m.seconds_per_epoch, "layers": m.layers, "peak_memory": m.peak_memory}
        # peak_memory: this trial's share of its ensemble's peak, the same in a batch of any size
        curve = [(i + 1, v) for i, v in enumerate(m.val_curve) if math.isfinite(v)]
        records.append(TrialRecord(NAME, c["data"], c["activation"], c["optimizer"], t.config["seed"], t.config,
                                   metrics, curve))
    return records


def cost(batch: Batch) -> Cost:
    """seconds ≈ trials × epochs × training rows × a row's training flops × SECONDS_PER_FLOP, plus a
    per-step-and-trial, a per-step and a per-batch cost (the last two serial: Python-level work that threads do not
    share); a model trained one trial after another (convolutions on the CPU) has its own constants, every step
    serial. memory ≈ trials × (5 copies of the parameters (weights, gradients, two Adam moments, the best epoch's)
    + a minibatch's activations, bounded by a minibatch × parameters) × 4 bytes."""
    c = batch.trials[0].config
    w = _work(c["model"], c["data"], c["target"], c["activation"], c["val_fraction"], c["test_fraction"],
              c["batch_size"])
    params = w.parameters
    n, batch_rows = len(batch), min(c["batch_size"], w.rows)
    steps = c["epochs"] * math.ceil(w.rows / max(1, c["batch_size"]))
    flops = n * c["epochs"] * w.rows * w.flops_per_row
    if w.sequential:
        serial = n * steps * SEQUENTIAL_STEP_SECONDS + BATCH_SECONDS
        seconds = flops * SEQUENTIAL_SECONDS_PER_FLOP + serial
    else:
        serial = steps * STEP_SECONDS + BATCH_SECONDS
        seconds = flops * SECONDS_PER_FLOP + n * steps * TRIAL_STEP_SECONDS + serial
    memory = n * (5 * params + batch_rows * min(params, 65_536)) * 4
    return Cost(seconds, n * batch_rows * max(1, int(math.sqrt(params))), memory, serial)


@functools.lru_cache(maxsize=64)
def _work(model: str, data: str, target: str, spec: str, val_fraction: float, test_fraction: float,
          batch_size: int) -> Any:
    from actlab.studies.compare import train as api

    return api.work(_factory(model), spec, loaded(data, target), val_fraction, test_fraction, batch_size)
