"""The real-data benchmark: which activation, on real data, with statistics that say how sure.

MLPs (features → width × depth → classes) are trained with minibatch SGD / Adam on MNIST-1D and
scikit-learn's digits, breast_cancer and wine. Axes: the activation is under study; depth, width,
initialisation and optimizer are settings reported separately; the learning rate is tuned away on
the validation split (and reported as best and as the average over its grid, after Eger et al.
2018); seeds are the replicates. A seed fixes the data split, the standardisation, the initial
weights' random draws and the minibatch order, shared by every activation and learning rate
(paired design). Model selection (epoch, learning rate) reads the validation split only; the test
split is evaluated once per trial, on the selected weights. One batch is one cell (dataset,
activation, depth, width, init, optimizer) with all its seeds × learning rates as one tensor program.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

import actlab
from actlab.results.store import TrialRecord
from actlab.studies.config import ConfigError, require, seed_list, values
from actlab.studies.plan import Batch, Trial
from actlab.studies.protocol import Cost

NAME = "benchmark"
QUESTION = "Which activation should an MLP on real data use, and how sure is the answer?"
DATASETS = ("mnist1d", "digits", "breast_cancer", "wine")
OPTIMIZERS = ("adam", "sgd", "momentum")
INITS = ("torch", "he", "lecun", "edge")
MODELS = ("mlp", "cnn", "gru")
PAPER_SIZES = {"cnn": (3, 25), "gru": (1, 6)}
"""(depth, width) recorded for the paper's models: the CNN's 3 convolutions of 25 channels, the GRU's one
bidirectional layer of 6 units per direction."""
ACTIVATIONS = ["relu", "leaky_relu", "elu", "selu", "gelu", "silu", "mish", "tanh", "sigmoid", "softplus",
               "snake", "acon_c", "leaky_relu6"]
TARGETS = {"mnist1d": 0.6, "digits": 0.95, "breast_cancer": 0.95, "wine": 0.95}
"""Validation accuracy a trial must reach for `epochs_to_target` (each dataset its own: MNIST-1D's MLPs
top out near 0.7)."""
SIZES = {"mnist1d": (40, 10, 3200, 800), "digits": (64, 10, 1077, 270), "breast_cancer": (30, 2, 340, 86),
         "wine": (13, 3, 106, 27)}
"""(features, classes, training rows, validation rows) at the default fractions: what the cost estimate reads
(tested against `realdata.split`)."""
SECONDS_PER_MAC = 1.2e-10
"""Seconds per multiply-accumulate of a training row's forward pass, backward included (×3), on the reference
2-core CPU. Calibrated with the diagnosis and batch costs below: the quick preset is estimated at 35 s (it took
36 s alone on two threads before; 77 s next to four other jobs), the full one at 707 s (it took 522 s on one
thread while another job ran)."""
DIAGNOSIS_SECONDS = 0.002
"""The monitor's end-of-training diagnosis, per trial and hidden layer (profiled: 1–2 ms per layer at the quick
and tiny presets' sizes)."""
BATCH_SECONDS = 0.05
"""A batch's fixed cost beyond its arithmetic: its splits, its models, the runner and the store write. The tiny
preset (two batches of six trials) is estimated at 0.15 s; measured next to other jobs: 0.13–0.22 s warm (the
conformance suite's second run), 0.5–0.9 s in a fresh process, whose first batch also imports scikit-learn and
loads the data (a cost per run, which a batch's estimate cannot hold)."""


@dataclass
class BenchmarkConfig:
    datasets: list[str] = field(default_factory=lambda: list(DATASETS))
    activations: list[str] = field(default_factory=lambda: list(ACTIVATIONS))
    baseline: str = "relu"
    """The activation every other one is compared with (paired tests); must be in `activations`."""
    depths: list[int] = field(default_factory=lambda: [2, 6])
    """Hidden layers."""
    widths: list[int] = field(default_factory=lambda: [64])
    inits: list[str] = field(default_factory=lambda: ["torch"])
    optimizers: list[str] = field(default_factory=lambda: ["adam"])
    lr: float | list[float] = field(default_factory=lambda: [0.001, 0.003, 0.01])
    seeds: int | list[int] = 10
    epochs: int = 30
    minibatch: int = 128
    val_fraction: float = 0.2
    """Share of the training part held out for model selection."""
    test_fraction: float = 0.25
    """Share of a scikit-learn dataset held out as the test set (MNIST-1D has its own 1000)."""
    models: list[str] = field(default_factory=lambda: ["mlp"])
    """mlp (the depths × widths grid, on every dataset) and the MNIST-1D paper's cnn and gru (`actlab.nn.mnist1d`:
    the activation replaces the CNN's ReLUs, and the GRU's candidate tanh, its gates staying sigmoid), planned
    on MNIST-1D only (other datasets get none), at torch's default initialisation; trained by the generic
    ensemble trainer."""

    def __post_init__(self) -> None:
        self.seed_list = seed_list(self.seeds)
        self.lr_list = values("lr", self.lr)
        checks = [
            (self.datasets and all(d in DATASETS for d in self.datasets), "datasets",
             f"a non-empty list of {', '.join(DATASETS)}"),
            (self.activations and len(set(self.activations)) == len(self.activations), "activations",
             "a non-empty list of distinct specs"),
            (self.depths and all(d >= 1 for d in self.depths), "depths", "a non-empty list of integers ≥ 1"),
            (self.widths and all(w >= 1 for w in self.widths), "widths", "a non-empty list of integers ≥ 1"),
            (self.inits and all(i in INITS for i in self.inits), "inits", f"a non-empty list of {', '.join(INITS)}"),
            (self.optimizers and all(o in OPTIMIZERS for o in self.optimizers), "optimizers",
             f"a non-empty list of {', '.join(OPTIMIZERS)}"),
            (self.lr_list and all(v > 0 for v in self.lr_list), "lr", "positive values"),
            (self.epochs >= 1, "epochs", "an integer ≥ 1"),
            (self.minibatch >= 1, "minibatch", "an integer ≥ 1"),
            (0 < self.val_fraction < 1, "val_fraction", "a number in (0, 1)"),
            (0 < self.test_fraction < 1, "test_fraction", "a number in (0, 1)"),
            (self.models and all(m in MODELS for m in self.models) and len(set(self.models)) == len(self.models),
             "models", f"a non-empty list of distinct {', '.join(MODELS)}"),
            ("mlp" in self.models or "mnist1d" in self.datasets, "models",
             "mlp, or the dataset mnist1d for cnn and gru (their input is MNIST-1D's 40-long signal; on other "
             "datasets they plan nothing)"),
        ]
        require(checks, self)
        specs = [actlab.create(s).spec for s in self.activations]  # unknown names, bad arguments, formulas
        for s, spec in zip(self.activations, specs):
            if not actlab.create(spec).properties.elementwise:
                raise ConfigError(f"activations: {s!r} is not elementwise; the benchmark's MLPs need one value "
                                  "per unit (allowed: any elementwise name, spec or formula)")
        if actlab.create(self.baseline).spec not in specs:
            raise ConfigError(f"baseline: expected one of the activations ({', '.join(self.activations)}), "
                              f"got {self.baseline!r}")



def plan(cfg: BenchmarkConfig) -> list[Batch]:
    """One batch per cell; its trials are the cell's seeds × learning rates."""
    batches = []
    baseline = actlab.create(cfg.baseline).spec
    for dataset in cfg.datasets:
        for spec in cfg.activations:
            act = actlab.create(spec).spec
            for model in cfg.models:
                if model != "mlp" and dataset != "mnist1d":
                    continue
                grid = [(d, w, i) for d in cfg.depths for w in cfg.widths for i in cfg.inits] if model == "mlp" \
                    else [(*PAPER_SIZES[model], "torch")]
                for depth, width, init in grid:
                    for opt in cfg.optimizers:
                        trials = [Trial(_config(cfg, dataset, act, depth, width, init, opt, lr, seed, baseline, model),
                                        task=dataset)
                                  for seed in cfg.seed_list for lr in cfg.lr_list]
                        batches.append(Batch(NAME, trials))
    return batches


def _config(cfg: BenchmarkConfig, dataset: str, act: str, depth: int, width: int, init: str, opt: str,
            lr: float, seed: int, baseline: str, model: str = "mlp") -> dict[str, Any]:
    """A trial's config. `model` is recorded only for the paper's cnn and gru, so an MLP trial keeps the id it
    had before the key existed (stores stay valid)."""
    c = {"study": NAME, "dataset": dataset, "activation": act, "depth": depth, "width": width, "init": init,
         "optimizer": opt, "lr": lr, "epochs": cfg.epochs, "minibatch": cfg.minibatch,
         "val_fraction": cfg.val_fraction, "test_fraction": cfg.test_fraction, "seed": int(seed),
         "target": TARGETS[dataset], "baseline": baseline, "dtype": "float32"}
    return c if model == "mlp" else {**c, "model": model}


def mlp_macs(inputs: int, width: int, depth: int, outputs: int) -> int:
    """Multiply-accumulates of one row through inputs → width (× depth) → outputs, in closed form (an absurd
    depth must cost nothing to price)."""
    return inputs * width + (depth - 1) * width * width + width * outputs


def seconds(batch: Batch) -> float:
    """The batch's estimated run time (±50 %): its trials × epochs × rows × the MLP's multiply-accumulates, and
    a fixed cost per batch."""
    c = batch.trials[0].config
    if c.get("model", "mlp") != "mlp":
        steps = c["epochs"] * math.ceil(SIZES["mnist1d"][2] * (1 - c["val_fraction"]) / 0.8 / c["minibatch"])
        fixed, per_member = PAPER_STEP_SECONDS[c["model"]]
        return steps * (fixed + per_member * len(batch)) + BATCH_SECONDS
    d, k, n_train, n_val = SIZES[c["dataset"]]
    scale = (1 - c["val_fraction"]) / 0.8 if c["dataset"] == "mnist1d" else 1.0
    macs = mlp_macs(d, c["width"], c["depth"], k)
    per_trial = c["epochs"] * (3 * n_train * scale + n_val) * macs * SECONDS_PER_MAC + DIAGNOSIS_SECONDS * c["depth"]
    return len(batch) * per_trial + BATCH_SECONDS


def rows_of(n_train: int, n_val: int) -> int:
    return n_train + 2 * n_val


def run_batch(batch: Batch, device: str = "cpu") -> list[TrialRecord]:
    from actlab.data.realdata import split
    from actlab.engine.classifier import train_classifiers

    c0 = batch.trials[0].config
    if c0.get("model", "mlp") != "mlp":
        from actlab.studies.benchmark.paper_models import run_paper_batch

        return run_paper_batch(batch, device)
    splits = {s: split(c0["dataset"], s, val_fraction=c0["val_fraction"], test_fraction=c0["test_fraction"])
              for s in dict.fromkeys(t.config["seed"] for t in batch.trials)}
    parts = [splits[t.config["seed"]] for t in batch.trials]

    def stack(name: str) -> torch.Tensor:
        arr = np.stack([getattr(p, name) for p in parts])
        return torch.as_tensor(arr, device=device)

    first = parts[0]
    sizes = [first.n_features, *[c0["width"]] * c0["depth"], first.n_classes]
    out = train_classifiers(c0["activation"], sizes, stack("X_train"), stack("y_train"), stack("X_val"),
                            stack("y_val"), stack("X_test"), stack("y_test"),
                            seeds=[t.config["seed"] for t in batch.trials], lrs=[t.config["lr"] for t in batch.trials],
                            optimizer=c0["optimizer"], init=c0["init"], epochs=c0["epochs"],
                            batch_size=c0["minibatch"], target=c0["target"])
    per_trial = out.seconds / len(batch.trials)
    records = []
    for i, t in enumerate(batch.trials):
        c = t.config
        val = [float(v) for v in np.asarray(out.val_accuracy[i])]
        hit = -1 if out.epochs_to_target is None else int(out.epochs_to_target[i])
        layers = out.diagnosis[i] if out.diagnosis is not None else []
        metrics = {"test_accuracy": float(out.test_accuracy[i]), "test_loss": float(out.test_loss[i]),
                   "best_epoch": int(out.best_epoch[i]), "val_accuracy": float(out.best_val_accuracy[i]),
                   "epochs_to_target": hit if hit >= 0 else None, "time": per_trial,
                   "train_loss": [float(v) for v in np.asarray(out.train_loss[i])],
                   "dead": [_finite(layer["dead"]) for layer in layers],
                   "saturated": [_finite(layer["saturated"]) for layer in layers]}
        records.append(TrialRecord(NAME, t.task, c["activation"], c["optimizer"], c["seed"], c, metrics,
                                   curve=list(enumerate(val))))
    return records


def _finite(v: Any) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)


PAPER_STEP_SECONDS = {"cnn": (0.0037, 0.0038), "gru": (0.023, 0.0105)}
"""(fixed, per member) seconds per training step of a vmapped ensemble of MNIST-1D CNNs or GRUs (minibatch 128),
one thread of the reference CPU, the epoch's evaluation and the end's monitor included. Measured on one epoch
(25 steps) next to other jobs: CNN 15.2 ms a step with 3 members, 118.7 ms with 30; GRU 54.7 and 338 ms."""


def cost(batch: Batch) -> Cost:
    """Seconds (`seconds`), per-step elements (trials × minibatch × width) and peak memory: each trial's copy
    of its split, every layer's (T, minibatch, width) tensors (about 8 per layer alive in a step) and the
    evaluation of the whole validation or test set at once, and the parameters with Adam's state, float32."""
    c = batch.trials[0].config
    d, k, n_train, n_val = SIZES[c["dataset"]]
    T = len(batch)
    if c.get("model", "mlp") != "mlp":  # 5 210 / 5 134 parameters; a step's activations: minibatch × 40 × 50 floats
        return Cost(seconds(batch), T * c["minibatch"] * 40, 4 * T * (rows_of(n_train, n_val) * (d + 1) + 6 * 5210
                                                                      + c["minibatch"] * 40 * 50 * 8))
    macs = mlp_macs(d, c["width"], c["depth"], k)
    rows = n_train + 2 * n_val
    elements = T * c["minibatch"] * c["width"]
    memory = 4 * (T * rows * (d + 1) + 8 * elements * c["depth"] + 2 * T * n_val * c["width"] * c["depth"]
                  + 4 * T * macs)
    return Cost(seconds(batch), elements, memory)
