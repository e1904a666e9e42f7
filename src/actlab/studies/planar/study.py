"""The planar study: what can each activation learn? Decision boundaries on 2-D datasets.

A 2 → width (→ width …) → 1 MLP with a sigmoid output is trained with binary cross-entropy on
a planar dataset (circle, xor, gauss, spiral, periodic, square, moons), for several widths,
activations, optimizers and seeds. Axes: activation and width are under study; the optimizer and
the learning rate are tuned away (best per cell by validation accuracy: `results.RULE`); the dataset
is the task. Each trial has a training, a validation and a test set (`data`, `validation`); the
test set is read once, on the final weights. Trials of one width, depth, activation, optimizer and
learning rate — every dataset and seed — are one batch.

The planar article's own setup (seed 004: Keras Dense layers, Glorot-uniform weights, zero biases,
`use_bias=False` where its code says so, RMSprop at Keras's defaults, data in its own units) is the
preset `planar-article.toml`: `init = "glorot"`, `bias_free` naming the activations whose hidden
layer has no bias, `optimizers = ["rmsprop-keras"]`, datasets `disc` and `cos_wave`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

import actlab
from actlab.core.errors import ActlabInputError
from actlab.data.planar import ARTICLE_DATASETS, DATASETS, make
from actlab.engine.mlp import forward, train_mlp
from actlab.engine.outcome import curve_lists
from actlab.results.store import TrialRecord
from actlab.studies.config import ConfigError, measured, require, seed_list, values
from actlab.studies.plan import Batch, Trial
from actlab.studies.protocol import Cost

NAME = "planar"
QUESTION = "What can each activation learn on planar data, and how wide must the network be?"
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
        self.lr_list = values("lr", self.lr)
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
        require(checks, self)
        for spec in self.bias_free:  # an unknown name or bad argument is an error even where it does not run
            try:
                actlab.create(spec)
            except ActlabInputError as e:
                raise ConfigError(f"bias_free: {e}") from None
        for spec in self.activations:
            act = actlab.create(spec)  # unknown names and bad arguments raise ActlabInputError
            if act.properties.elementwise:
                measured(act.spec)  # defined on the whole line (not log(x)): the report measures it



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
    """(X_train, y_train, X_test, y_test) of one trial, regenerated from its config: `n` points of the
    dataset drawn from the trial's seed, split by a permutation drawn from seed + 7919.

    The validation set (`validation(config)`) has no config key, so that adding it changed no stored
    trial: it is an independent draw of the same generator, as many points as the test part, seeded
    by `stream_seed(seed, VALIDATION_STREAM)`: the 128-bit state of numpy's child stream
    `SeedSequence(seed, spawn_key=(VALIDATION_STREAM,))`, an integer no other draw of the study uses
    (the data are drawn from `seed`, the split from `seed + 7919`: both small integers)."""
    X, y = make(config["dataset"], config["n"], config["noise"], config["seed"])
    n_test = int(round(config["n"] * config["test_fraction"]))
    order = np.random.default_rng(config["seed"] + 7919).permutation(len(X))
    test, train = order[:n_test], order[n_test:]
    return X[train], y[train], X[test], y[test]


VALIDATION_STREAM = 1
"""The spawn key of the validation draw's stream (see `data`); `EXTRAPOLATION_STREAM` is the claims'."""
EXTRAPOLATION_STREAM = 2


def stream_seed(seed: int, key: int) -> int:
    """An integer seed for `make` whose stream is `SeedSequence(seed, spawn_key=(key,))`'s: its 128-bit
    state as one integer (`default_rng` of it is independent of `default_rng(seed)` and of any small seed)."""
    words = np.random.SeedSequence(int(seed), spawn_key=(key,)).generate_state(4, np.uint32)
    return sum(int(w) << (32 * i) for i, w in enumerate(words))


def validation(config: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(X_val, y_val) of one trial: see `data`."""
    n_val = int(round(config["n"] * config["test_fraction"]))
    return make(config["dataset"], n_val, config["noise"], stream_seed(config["seed"], VALIDATION_STREAM))


def params_of(config: dict[str, Any], weights: list[list[float]],
              dtype: torch.dtype = torch.float32) -> list[torch.Tensor]:
    """A trial's stored weights (`metrics["weights"]`, flattened) as the engine's [W1, b1, …] with a trial axis of 1."""
    s = sizes(config)
    shapes = [shape for a, b in zip(s[:-1], s[1:]) for shape in ((b, a), (b, 1))]
    return [torch.tensor(w, dtype=dtype).reshape(1, *shape) for w, shape in zip(weights, shapes)]


def evaluator(spec: str, dtype: torch.dtype = torch.float32) -> torch.nn.Module:
    """An activation for evaluating stored weights: eval mode, no gradients, eager (a one-off pass on a
    grid: compiling it would cost seconds and save milliseconds)."""
    return actlab.create(spec).eval().requires_grad_(False).fuse(False).to(dtype)


def validate(configs: list[dict[str, Any]], weights: list[list[list[float]]]) -> list[dict[str, float]]:
    """{"val_accuracy", "val_loss"} of each trial's trained weights on its validation set, in float32 as
    the trials trained: one batched forward pass per activation and shape (the same function for new
    trials in `run_batch` and old stored ones in `results`)."""
    groups: dict[tuple, list[int]] = {}
    for i, c in enumerate(configs):
        groups.setdefault((c["activation"], tuple(sizes(c)), int(round(c["n"] * c["test_fraction"]))), []).append(i)
    out: list[dict[str, float]] = [{} for _ in configs]
    for (spec, _, _), idx in groups.items():
        parts = [validation(configs[i]) for i in idx]
        X = torch.tensor(np.stack([p[0].T for p in parts]), dtype=torch.float32)
        y = torch.tensor(np.stack([p[1] for p in parts]), dtype=torch.float32)
        per_trial = [params_of(configs[i], weights[i]) for i in idx]
        params = [torch.cat(ps) for ps in zip(*per_trial)]
        with torch.no_grad():
            logits, _ = forward(params, X, evaluator(spec))
            acc = ((logits > 0) == (y > 0.5)).float().mean(1)
            loss = F.binary_cross_entropy_with_logits(logits, y, reduction="none").mean(1)
        for k, i in enumerate(idx):
            out[i] = {"val_accuracy": float(acc[k]), "val_loss": float(loss[k])}
    return out


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
    per_param = [p.detach().to("cpu", torch.float64).flatten(1).tolist() for p in out.params]  # one copy per tensor
    weights = [list(w) for w in zip(*per_param)]
    curves = curve_lists(out.curve_steps, out.curve)
    val = validate([t.config for t in batch.trials], weights)
    records = []
    for i, t in enumerate(batch.trials):
        c = t.config
        hit = int(out.steps_to_95[i])
        metrics = {"test_accuracy": float(out.test_accuracy[i]), "train_accuracy": float(out.train_accuracy[i]),
                   "final_loss": float(out.final_loss[i]), "test_loss": float(out.test_loss[i]), **val[i],
                   "steps_to_95": hit if hit >= 0 else None, "time": per_trial, "weights": weights[i]}
        records.append(TrialRecord(NAME, t.task, c["activation"], c["optimizer"], c["seed"], c, metrics, curves[i]))
    return records


def init_name(config: dict[str, Any]) -> str:
    """The `init` option ("torch" / "glorot") a trial's config describes."""
    return next(k for k, v in INITS.items() if v == config["init"])


STEP_SECONDS = 0.52e-3
"""Seconds of a full-batch training step's fixed work (a dozen small kernels, autograd and the optimizer's
update) on one thread of the reference 2-core CPU, otherwise idle (the quick preset: 3.5 s measured)."""
SECONDS_PER_MAC = 0.34e-9
"""Seconds per multiply-accumulate of a step (forward, backward and update; ×3 counted), idle machine."""
BATCH_SECONDS = 0.06
"""A batch's fixed work: its data, the validation pass, the records and the store's write."""


def cost(batch: Batch) -> Cost:
    """Seconds (±50 %), per-step elements (trials × width × training points) and peak memory: every layer's
    (T, width, points) pre-activations, activations and gradients in float32 (about 8 tensors of that size
    per layer alive in a step), the parameters with their optimizer state, and the data."""
    c = batch.trials[0].config
    n_train = c["n"] - round(c["n"] * c["test_fraction"])
    w, layers = c["width"], c["layers"]
    macs = 2 * w + (layers - 1) * w * w + w  # 2 → w (× layers) → 1, in closed form: an absurd depth prices fast
    units = w * layers + 1
    T = len(batch)
    elements = T * c["width"] * n_train
    seconds = BATCH_SECONDS + c["steps"] * (STEP_SECONDS + SECONDS_PER_MAC * 3 * T * macs * c["n"])
    memory = 4 * (8 * elements * layers + 4 * T * (macs + units) + 4 * T * c["n"])
    return Cost(seconds, elements, memory)
