"""The planar study: what can each activation learn? Decision boundaries on 2-D datasets.

A 2 → width (→ width …) → 1 MLP with a sigmoid output is trained with binary cross-entropy on
a planar dataset (circle, xor, gauss, spiral, periodic, square, moons), for several widths,
activations, optimizers and seeds. Axes: activation and width are under study; the learning
rate is tuned away (best per cell by test accuracy); the dataset is the task. Trials of one
width, depth, activation, optimizer and learning rate — every dataset and seed — are one batch.

The planar article's own setup (seed 004: Keras Dense layers, Glorot-uniform weights, zero biases,
`use_bias=False` where its code says so, RMSprop at Keras's defaults, data in its own units) is the
preset `planar-article.toml`: `init = "glorot"`, `bias_free` naming the activations whose hidden
layer has no bias, `optimizers = ["rmsprop-keras"]`, datasets `disc` and `cos_wave`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

import actlab
from actlab.core.errors import ActlabInputError
from actlab.engine.mlp import train_mlp
from actlab.results.store import TrialRecord
from actlab.studies.config import ConfigError, measured, seed_list
from actlab.studies.datasets import ARTICLE_DATASETS, DATASETS, make
from actlab.studies.plan import Batch, Trial

NAME = "planar"
OPTIMIZERS = ("adam", "sgd", "momentum", "rmsprop", "rmsprop-keras")
INITS = {"torch": "nn.Linear default from the seed",
         "glorot": "Keras glorot_uniform weights, zero biases, from the seed"}


@dataclass
class PlanarConfig:
    datasets: list[str] = field(default_factory=lambda: list(DATASETS))
    activations: list[str] = field(default_factory=lambda: ["relu", "tanh", "sigmoid", "square", "cos",
                                                            "mixed(acts=['cos', 'identity'])"])
    widths: list[int] = field(default_factory=lambda: [2, 3, 4, 10, 100])
    layers: int = 1
    """Hidden layers, each of the same width."""
    optimizers: list[str] = field(default_factory=lambda: ["adam", "sgd"])
    lr: float | list[float] = field(default_factory=lambda: [0.01, 0.1])
    seeds: int | list[int] = 10
    steps: int = 1000
    """Full-batch optimizer steps."""
    n: int = 400
    """Points per dataset (train and test together)."""
    test_fraction: float = 0.5
    noise: float = 0.1
    init: str = "torch"
    """"torch" (nn.Linear's U(±1/√fan_in) for weights and biases) or "glorot" (Keras: Glorot-uniform, zero biases)."""
    bias_free: list[str] = field(default_factory=list)
    """Activations whose hidden layers have no bias (Keras use_bias=False) when they are among `activations`
    (an entry not among them is ignored: `--set activations=...` on the default run keeps the article's list)."""

    def __post_init__(self) -> None:
        self.seed_list = seed_list(self.seeds)
        self.lr_list = [self.lr] if isinstance(self.lr, float) else list(self.lr)
        checks = [
            (all(d in DATASETS + ARTICLE_DATASETS for d in self.datasets) and self.datasets, "datasets",
             f"a non-empty list of {', '.join(DATASETS + ARTICLE_DATASETS)}"),
            (all(w >= 1 for w in self.widths) and self.widths, "widths", "a non-empty list of integers ≥ 1"),
            (self.layers >= 1, "layers", "an integer ≥ 1"),
            (all(o in OPTIMIZERS for o in self.optimizers) and self.optimizers, "optimizers",
             f"a non-empty list of {', '.join(OPTIMIZERS)}"),
            (all(v > 0 for v in self.lr_list) and self.lr_list, "lr", "positive values"),
            (self.steps >= 1, "steps", "an integer ≥ 1"),
            (self.n >= 10, "n", "an integer ≥ 10"),
            (0 < self.test_fraction < 1, "test_fraction", "a number in (0, 1)"),
            (0 <= self.noise <= 1, "noise", "a number in [0, 1]"),
            (self.init in INITS, "init", f"one of {', '.join(INITS)}"),
        ]
        for ok, key, allowed in checks:
            if not ok:
                raise ConfigError(f"{key}: expected {allowed}, got {getattr(self, key)!r}")
        for spec in self.bias_free:  # an unknown name or bad argument is an error even where it does not run
            try:
                actlab.create(spec)
            except ActlabInputError as e:
                raise ConfigError(f"bias_free: {e}") from None
        for spec in self.activations:
            act = actlab.create(spec)  # unknown names and bad arguments raise ActlabInputError
            if act.properties.elementwise:
                measured(act.spec)  # defined on the whole line (not log(x)): the report measures it

    def resolved(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["seeds"], d["lr"] = self.seed_list, self.lr_list
        return d


def plan(cfg: PlanarConfig) -> list[Batch]:
    batches = []
    for spec in cfg.activations:
        act = actlab.create(spec).spec  # formulas too
        extra: dict[str, Any] = {"hidden_bias": False} if spec in cfg.bias_free else {}
        for width in cfg.widths:
            for opt in cfg.optimizers:
                for lr in cfg.lr_list:
                    trials = []
                    for dataset in cfg.datasets:
                        for seed in cfg.seed_list:
                            config = {"study": NAME, "dataset": dataset, "activation": act, "width": width,
                                      "layers": cfg.layers, "optimizer": opt, "lr": lr, "steps": cfg.steps,
                                      "n": cfg.n, "test_fraction": cfg.test_fraction, "noise": cfg.noise,
                                      "seed": int(seed), "init": INITS[cfg.init], "dtype": "float32", **extra}
                            trials.append(Trial(config, task=dataset))
                    batches.append(Batch(NAME, trials))
    return batches


def data(config: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, y_train, X_test, y_test) of one trial, regenerated from its config."""
    X, y = make(config["dataset"], config["n"], config["noise"], config["seed"])
    n_test = int(round(config["n"] * config["test_fraction"]))
    order = np.random.default_rng(config["seed"] + 7919).permutation(len(X))
    test, train = order[:n_test], order[n_test:]
    return X[train], y[train], X[test], y[test]


def sizes(config: dict[str, Any]) -> list[int]:
    return [2, *[config["width"]] * config["layers"], 1]


def run_batch(batch: Batch, device: str = "cpu") -> list[TrialRecord]:
    c0 = batch.trials[0].config
    act = actlab.create(c0["activation"]).eval().requires_grad_(False).to(device)
    parts = [data(t.config) for t in batch.trials]

    def stack(i: int, transpose: bool) -> torch.Tensor:
        arr = np.stack([p[i].T if transpose else p[i] for p in parts])
        return torch.tensor(arr, dtype=torch.float32, device=device)

    out = train_mlp(act, sizes(c0), stack(0, True), stack(1, False), stack(2, True), stack(3, False),
                    seeds=[t.config["seed"] for t in batch.trials], optimizer=c0["optimizer"], lr=c0["lr"],
                    steps=c0["steps"], init=init_name(c0), hidden_bias=c0.get("hidden_bias", True))
    per_trial = out.seconds / len(batch.trials)
    records = []
    for i, t in enumerate(batch.trials):
        c = t.config
        hit = int(out.steps_to_95[i])
        metrics = {"test_accuracy": float(out.test_accuracy[i]), "train_accuracy": float(out.train_accuracy[i]),
                   "final_loss": float(out.final_loss[i]), "test_loss": float(out.test_loss[i]),
                   "steps_to_95": hit if hit >= 0 else None, "time": per_trial,
                   "weights": [p[i].double().cpu().flatten().tolist() for p in out.params]}
        curve = [(s, float(v)) for s, v in zip(out.curve_steps, out.curve[i].double().cpu()) if v.isfinite()]
        records.append(TrialRecord(NAME, t.task, c["activation"], c["optimizer"], c["seed"], c, metrics, curve))
    return records


def init_name(config: dict[str, Any]) -> str:
    """The `init` option ("torch" / "glorot") a trial's config describes."""
    return next(k for k, v in INITS.items() if v == config["init"])
