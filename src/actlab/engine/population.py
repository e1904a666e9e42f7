"""Population optimizers on many trials at once: the driver loop they share.

A strategy proposes a population for every trial, (T, P, D); the objective scores all T·P
members in one call, (T, P); the strategy updates each trial's state from that trial's scores
only, with random numbers from that trial's own stream (`TrialStreams`). So no Python loop runs
over trials or members, and a trial's result does not depend on its batch (tested).

Budget and bookkeeping are in generations ("steps"): generation 0 scores the initial
population, each later one scores one new population, so a run of `steps` generations costs
(steps + 1) × P evaluations. The loss of a trial at a generation is the best it has found so far.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import torch
from torch import Tensor

from actlab.engine.adamm import ADAMm
from actlab.engine.bounds import Box
from actlab.engine.es import CMAES, SNES
from actlab.engine.outcome import Outcome, Tracker
from actlab.engine.streams import TrialStreams

Objective = Callable[[Tensor], Tensor]
"""(T, P, D) candidates → (T, P) losses."""


class Strategy(Protocol):
    popsize: int

    def ask(self) -> Tensor: ...

    def tell(self, candidates: Tensor, losses: Tensor) -> None: ...


def run_population(objective: Objective, strategy: Strategy, *, steps: int, threshold: float = 1e-6) -> Outcome:
    """Run `strategy` for `steps` generations after the initial one; returns per-trial outcomes."""
    start = time.perf_counter()
    track: Tracker | None = None
    best_x: Tensor | None = None
    for gen in range(steps + 1):
        cand = strategy.ask()
        with torch.no_grad():
            losses = objective(cand)
        losses = torch.nan_to_num(losses, nan=float("inf"))
        gen_best, idx = losses.min(dim=1)
        if track is None:
            track = Tracker(cand.shape[0], steps, threshold, cand.device, cand.dtype)
            best_x = cand[:, 0].clone()
        assert best_x is not None
        improved = gen_best < track.best
        best_x = torch.where(improved[:, None], cand[torch.arange(cand.shape[0]), idx], best_x)
        track.update(gen, torch.minimum(track.best, gen_best))
        if gen < steps:
            strategy.tell(cand, losses)
    assert track is not None and best_x is not None
    return Outcome(track.best, track.best, track.hit, strategy.popsize, track.marks, track.curve, best_x,
                   time.perf_counter() - start)


def make_strategy(name: str, seeds: Sequence[int], box: Box, x0: Tensor, **options: Any) -> Strategy:
    """A population optimizer by name: 'adamm', 'cmaes' or 'snes'."""
    classes: dict[str, Any] = {"adamm": ADAMm, "cmaes": CMAES, "snes": SNES}
    if name not in classes:
        raise ValueError(f"unknown population optimizer {name!r}; allowed: {', '.join(POPULATION_OPTIMIZERS)}")
    streams = TrialStreams(seeds, name, device=x0.device, dtype=x0.dtype)
    return classes[name](streams, box, x0, **options)  # type: ignore[no-any-return]


POPULATION_OPTIMIZERS = ("adamm", "cmaes", "snes")
