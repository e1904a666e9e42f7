"""What a batched run returns, for gradient and population optimizers alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor


@dataclass
class Outcome:
    """Per-trial results of one batched run (tensors with the trial as leading dimension).

    For a population optimizer a "step" is a generation and the loss is the best one found so
    far (the member it would return); for a gradient optimizer it is the network's current loss."""

    final_loss: Tensor
    best_loss: Tensor
    steps_to_target: Tensor
    """Steps taken before the loss first fell below the threshold; −1 if it never did."""
    evaluations_per_step: int
    """Forward evaluations of one network per step (1 for gradient optimizers, the population size
    otherwise); the evaluations to reach the target are (steps_to_target + 1) × this."""
    curve_steps: list[int]
    curve: Tensor
    """(T, len(curve_steps)) loss at log-spaced steps."""
    params: Tensor
    """(T, D) final parameters (the best member for population optimizers)."""
    seconds: float

    @property
    def evaluations_to_target(self) -> Tensor:
        hit = self.steps_to_target
        return torch.where(hit >= 0, (hit + 1) * self.evaluations_per_step, torch.full_like(hit, -1))

    def lists(self) -> dict[str, list[Any]]:
        """Every per-trial result as a Python list, each tensor converted once (`finite_lists`): the losses and
        parameters with non-finite values None, the steps and evaluations to target with −1 made None, the
        curves as (step, loss) pairs of their finite points. What a study builds its trial records from."""
        hit = self.steps_to_target.cpu().tolist()
        evals = self.evaluations_to_target.cpu().tolist()
        return {"final_loss": finite_lists(self.final_loss), "best_loss": finite_lists(self.best_loss),
                "steps_to_target": [h if h >= 0 else None for h in hit],
                "evaluations_to_target": [e if e >= 0 else None for e in evals],
                "params": finite_lists(self.params), "curve": curve_lists(self.curve_steps, self.curve)}


def finite_lists(t: Tensor) -> list[Any]:
    """`t` as (nested) Python lists of float64 values with every non-finite value None: one `.tolist()` and
    one vectorised finite check for the whole tensor, then only the non-finite places are visited."""
    t = t.detach().to("cpu", torch.float64)
    values: list[Any] = t.tolist()
    for index in (~torch.isfinite(t)).nonzero().tolist():
        inner = values
        for i in index[:-1]:
            inner = inner[i]
        inner[index[-1]] = None
    return values


def curve_lists(steps: Sequence[int], curve: Tensor) -> list[list[tuple[int, float]]]:
    """Per trial, the (step, loss) pairs of a (T, len(steps)) curve tensor, its non-finite points left out."""
    rows = finite_lists(curve)
    bad = set((~torch.isfinite(curve.detach())).any(1).nonzero().flatten().tolist())
    steps = list(steps)
    return [[(s, v) for s, v in zip(steps, row) if v is not None] if i in bad else list(zip(steps, row))
            for i, row in enumerate(rows)]


def curve_steps(steps: int, points: int = 50) -> list[int]:
    """About `points` log-spaced step indices in [0, steps], always including 0 and `steps`."""
    return sorted({0, steps, *np.unique(np.geomspace(1, max(steps, 1), points).astype(int)).tolist()})


class Tracker:
    """Best loss, first step under the threshold and the log-spaced curve, updated once per step."""

    def __init__(self, trials: int, steps: int, threshold: float, device: torch.device, dtype: torch.dtype) -> None:
        self.marks, self.threshold, self.col = curve_steps(steps), threshold, 0
        self.curve = torch.empty(trials, len(self.marks), device=device, dtype=dtype)
        self.best = torch.full((trials,), float("inf"), device=device, dtype=dtype)
        self.hit = torch.full((trials,), -1, device=device, dtype=torch.long)

    @torch.no_grad()
    def update(self, step: int, loss: Tensor) -> None:
        self.best = torch.minimum(self.best, loss)
        newly = (self.hit < 0) & (loss < self.threshold)
        self.hit = torch.where(newly, torch.full_like(self.hit, step), self.hit)
        if self.col < len(self.marks) and self.marks[self.col] == step:
            self.curve[:, self.col] = loss
            self.col += 1
