"""What a batched run returns, for gradient and population optimizers alike."""

from __future__ import annotations

from dataclasses import dataclass

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
