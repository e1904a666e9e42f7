"""The single-sample study: does the activation or the optimizer decide how fast a network converges?

A 1-1-1 network (activation on both neurons) is fitted to one sample (input, target) by gradient
optimizers through backpropagation and by population optimizers that never see a derivative.
Axes: activation and optimizer are under study; the learning rate is tuned away (every value
runs, the report shows the best per cell and keeps the rest); targets, bounds and the input are
fixed per cell. Trials of one activation pair, optimizer and bound mode run as one batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

import actlab
from actlab.core.errors import ActlabInputError
from actlab.engine import (
    GRADIENT_OPTIMIZERS,
    OPTIMIZERS,
    POPULATION_OPTIMIZERS,
    Box,
    Outcome,
    make_strategy,
    run_gradient,
    run_population,
)
from actlab.engine.bounds import BOUND_MODES
from actlab.engine.gradient import initial_params
from actlab.engine.network import one_one_one
from actlab.results.store import TrialRecord
from actlab.studies.config import ConfigError, measured, seed_list, values
from actlab.studies.plan import Batch, Trial
from actlab.studies.protocol import Cost
from actlab.studies.single_sample.weight_box import default_targets, weight_box

NAME = "single-sample"
QUESTION = "Does the activation or the optimizer decide how fast a 1-1-1 network fits one sample?"


BATCH_ELEMENTS = 100_000
"""Network evaluations per step of a default batch: about 130 MB (see `cost`), a few seconds to a minute of work."""


def default_activations() -> list[str]:
    """Every deterministic elementwise entry of the catalog (stochastic ones may be named: they run in eval())."""
    out = []
    for name in actlab.names():
        p = actlab.create(name).properties
        if p.elementwise and not p.stochastic:
            out.append(name)
    return out


@dataclass
class SingleSampleConfig:
    activations: list[str] | None = None
    """Spec strings; None: every deterministic elementwise activation of the catalog."""
    optimizers: list[str] = field(default_factory=lambda: list(OPTIMIZERS))
    seeds: int | list[int] = 100
    """A count N (seeds 0..N−1) or a list of seeds."""
    steps: int = 1000
    """Iteration budget: optimizer steps, or generations for population optimizers."""
    targets: list[float] | None = None
    """None: per output activation, its values ¼ and ¾ of the way up its working range."""
    input: float = 0.5
    lr: float | list[float] = field(default_factory=lambda: [1e-3, 1e-2, 1e-1])
    """For the gradient optimizers and adamm; a list runs every value (best per cell reported)."""
    bounds: str | list[str] = "none"
    """'none', 'clip' or 'reflect' (or a list of them): the weight box from the activations' working ranges."""
    success_threshold: float = 1e-6
    output_activation: str | None = None
    """None: the hidden activation; any spec ('identity' for a linear output)."""
    popsize: int | None = None
    """Population size for adamm/cmaes/snes; None: each one's default (100 / 8 / 8)."""
    batch_size: int | None = None
    """Most trials in one tensor program; None: as many as make BATCH_ELEMENTS network evaluations per step
    (trials × population: 1000 trials of ADAMm, 100 000 of Adam)."""

    def __post_init__(self) -> None:
        self.seed_list = seed_list(self.seeds)
        if self.steps < 1:
            raise ConfigError(f"steps: expected ≥ 1, got {self.steps}")
        self.lr_list = values("lr", self.lr)
        if not self.lr_list or any(not v > 0 for v in self.lr_list):
            raise ConfigError(f"lr: expected positive values, got {self.lr}")
        self.bound_list = [self.bounds] if isinstance(self.bounds, str) else list(self.bounds)
        for b in self.bound_list:
            if b not in BOUND_MODES:
                raise ConfigError(f"bounds: must be one of {', '.join(map(repr, BOUND_MODES))}; got {b!r}")
        for o in self.optimizers:
            if o not in OPTIMIZERS:
                raise ConfigError(f"optimizers: unknown optimizer {o!r} (allowed: {', '.join(OPTIMIZERS)})")
        if self.activations is None:
            self.activations = default_activations()
        for spec in [*self.activations, *([self.output_activation] if self.output_activation else [])]:
            self._check_activation(spec)
        if (self.batch_size is not None and self.batch_size < 1) or (self.popsize is not None and self.popsize < 2):
            raise ConfigError("batch_size must be ≥ 1 and popsize ≥ 2")

    @staticmethod
    def _check_activation(spec: str) -> None:
        act = actlab.create(spec)  # unknown names and bad arguments raise ActlabInputError
        if not act.properties.elementwise:
            raise ConfigError(f"activations: {spec!r} is not elementwise; a 1-1-1 network needs an elementwise one")
        measured(act.spec)  # defined on the whole line (not log(x))



def plan(cfg: SingleSampleConfig) -> list[Batch]:
    """Every trial of the study, grouped into batches (nothing runs)."""
    batches = []
    assert cfg.activations is not None
    for hidden in cfg.activations:
        output = cfg.output_activation or hidden
        h_spec, o_spec = actlab.create(hidden).spec, actlab.create(output).spec  # formulas too
        lo, hi = weight_box(h_spec, o_spec, cfg.input)
        targets = cfg.targets if cfg.targets is not None else default_targets(o_spec)
        for opt in cfg.optimizers:
            lrs: list[float | None] = [None] if opt in ("cmaes", "snes") else list(cfg.lr_list)
            for mode in cfg.bound_list:
                trials = []
                for lr in lrs:
                    for target in targets:
                        for seed in cfg.seed_list:
                            config = {
                                "study": NAME, "activation": h_spec, "output_activation": o_spec, "optimizer": opt,
                                "lr": lr, "target": float(target), "input": cfg.input, "steps": cfg.steps,
                                "bounds": mode, "box": [lo, hi], "success_threshold": cfg.success_threshold,
                                "popsize": _popsize(opt, cfg.popsize), "seed": int(seed),
                                "init": "uniform(-1, 1) per weight from the seed",
                                "dtype": "float32" if opt in GRADIENT_OPTIMIZERS else "float64",
                            }
                            trials.append(Trial(config, task=f"x={cfg.input:g} y={float(target):g}"))
                size = cfg.batch_size or max(1, BATCH_ELEMENTS // (_popsize(opt, cfg.popsize) or 1))
                for i in range(0, len(trials), size):
                    batches.append(Batch(NAME, trials[i:i + size]))
    return batches


def _popsize(opt: str, popsize: int | None) -> int | None:
    if opt in GRADIENT_OPTIMIZERS:
        return None
    return popsize or {"adamm": 100, "cmaes": 8, "snes": 8}[opt]


def run_batch(batch: Batch, device: str = "cpu") -> list[TrialRecord]:
    """Run one batch (one activation pair, optimizer and bound mode) and return its records."""
    c0 = batch.trials[0].config
    hidden = actlab.create(c0["activation"]).eval().requires_grad_(False).to(device)
    output = actlab.create(c0["output_activation"]).eval().requires_grad_(False).to(device)
    seeds = [t.config["seed"] for t in batch.trials]
    targets = torch.tensor([t.config["target"] for t in batch.trials], dtype=torch.float64)
    lo, hi = (torch.tensor(v, dtype=torch.float64) for v in c0["box"])
    x, mode, opt, steps = c0["input"], c0["bounds"], c0["optimizer"], c0["steps"]
    threshold = c0["success_threshold"]
    if opt in GRADIENT_OPTIMIZERS:
        lrs = [t.config["lr"] for t in batch.trials]
        out = run_gradient(hidden, output, x, targets, optimizer=opt, lr=lrs, steps=steps, seeds=seeds,
                           threshold=threshold, bounds=(lo, hi), bound_mode=mode, device=device)
    elif opt in POPULATION_OPTIMIZERS:
        T = len(seeds)
        dt = torch.float64
        box = Box(lo.expand(T, 4).to(device, dt), hi.expand(T, 4).to(device, dt), mode)
        x0 = box.repair(initial_params(seeds).to(device, dt)[:, None])[:, 0]  # unchanged for mode 'none'
        y = targets.to(device, dt)[:, None]
        options: dict[str, Any] = {"popsize": c0["popsize"]}
        if opt == "adamm":
            options["lr"] = torch.tensor([t.config["lr"] for t in batch.trials], dtype=dt, device=device)[:, None, None]
        strategy = make_strategy(opt, seeds, box, x0, **options)
        out = run_population(lambda th: (one_one_one(th, x, hidden, output) - y).square(), strategy, steps=steps,
                             threshold=threshold)
    else:  # pragma: no cover - the config rejects it first
        raise ActlabInputError(f"unknown optimizer {opt!r}")
    return _records(batch, out)


def _records(batch: Batch, out: Outcome) -> list[TrialRecord]:
    """The batch's trial records, built in one pass from the outcome's tensors converted once (`Outcome.lists`)."""
    per_trial = out.seconds / len(batch.trials)
    v = out.lists()
    records = []
    for i, t in enumerate(batch.trials):
        c = t.config
        best = v["best_loss"][i]
        metrics = {
            "final_loss": v["final_loss"][i], "best_loss": best,
            "success": best is not None and best < c["success_threshold"],
            "steps_to_target": v["steps_to_target"][i], "evaluations_to_target": v["evaluations_to_target"][i],
            "evaluations": (c["steps"] + 1) * out.evaluations_per_step, "time": per_trial, "params": v["params"][i],
        }
        records.append(TrialRecord(NAME, t.task, c["activation"], c["optimizer"], c["seed"], c, metrics, v["curve"][i]))
    return records


STEP_SECONDS = {"sgd": 1.1e-4, "momentum": 1.1e-4, "adam": 1.4e-4, "rmsprop": 1.2e-4, "adamm": 1.1e-3,
                "cmaes": 8.0e-4, "snes": 3.0e-4}
"""Fixed seconds of one step (one generation) of a batch, whatever its size: the optimizer's tensor calls on
one thread of the reference 2-core CPU (measured with 4 to 100 000 elements, 200 steps, tanh)."""
EVALUATION_SECONDS = {"sgd": 1.7e-7, "momentum": 1.7e-7, "adam": 1.7e-7, "rmsprop": 1.7e-7, "adamm": 2.9e-7,
                      "cmaes": 5.9e-7, "snes": 2.4e-7}
"""Seconds per network evaluation and update (trial × population member × step) on top of that."""
BATCH_SECONDS = 0.05
"""Fixed cost of a batch: building the activations and the optimizer."""
TRIAL_SECONDS = 1.5e-4
"""Per trial: its record (metrics, 40-odd curve points) and its rows in the store."""


def cost(batch: Batch) -> Cost:
    """Seconds (±50 %: per step a fixed cost plus a cost per evaluation, measured per optimizer), per-step
    elements (trials × population) and peak memory: the (T, P, 4) parameters and their optimizer state in
    float64, about 40 tensors of that size alive in a step, and the (T, 51) loss curve."""
    c = batch.trials[0].config
    pop = c.get("popsize") or 1
    elements = len(batch) * pop
    opt = c["optimizer"]
    step = STEP_SECONDS.get(opt, 1e-3) + EVALUATION_SECONDS.get(opt, 6e-7) * elements
    seconds = BATCH_SECONDS + TRIAL_SECONDS * len(batch) + step * (c["steps"] + 1)
    return Cost(seconds, elements, elements * 4 * 8 * 40 + len(batch) * 51 * 8 * 4)
