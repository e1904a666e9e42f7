"""The slope study: fit y = a·x on [-1, 1] with ŷ = w₂·f(w₁·x) by plain gradient descent, one trial per
activation f and seed. Config, plan, one batch as one tensor program, and its cost."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

import actlab
from actlab.results.store import TrialRecord
from actlab.studies.config import require, seed_list, values
from actlab.studies.plan import Batch, Trial
from actlab.studies.protocol import Cost

NAME = "slope"


@dataclass
class SlopeConfig:
    activations: list[str] = field(default_factory=lambda: ["tanh", "relu", "identity"])
    seeds: int | list[int] = 10
    slope: float = 2.0
    steps: int = 200
    lr: float | list[float] = field(default_factory=lambda: [0.03, 0.3])
    """Every value runs; the report shows each activation at its best (selection.py)."""
    points: int = 64
    target: float = 1e-4
    """A trial succeeds once its mean squared error is below this."""

    def __post_init__(self) -> None:
        self.seed_list = seed_list(self.seeds)
        self.lr_list = values("lr", self.lr)
        require([(self.steps >= 1, "steps", "an integer ≥ 1"), (self.points >= 2, "points", "an integer ≥ 2"),
                 (self.target > 0, "target", "a number > 0")], self)
        self.activations = [actlab.create(a).spec for a in self.activations]  # an unknown name is an error


def plan(cfg: SlopeConfig) -> list[Batch]:
    """One batch per activation and learning rate, one trial per seed."""
    keys = {"study": NAME, "slope": cfg.slope, "steps": cfg.steps, "points": cfg.points, "target": cfg.target}
    return [Batch(NAME, [Trial({**keys, "activation": a, "lr": lr, "seed": s}, task=f"y={cfg.slope:g}x")
                         for s in cfg.seed_list]) for a in cfg.activations for lr in cfg.lr_list]


def run_batch(batch: Batch, device: str = "cpu") -> list[TrialRecord]:
    """Every trial of the batch at once: weights (trials, 2), each row from its own seed."""
    c = batch.trials[0].config
    f = actlab.create(c["activation"]).requires_grad_(False).to(device)
    x = torch.linspace(-1, 1, c["points"], dtype=torch.float64, device=device)
    seeded = [torch.Generator().manual_seed(t.config["seed"]) for t in batch.trials]
    w = torch.stack([torch.rand(2, generator=g, dtype=torch.float64) * 2 - 1 for g in seeded])  # w₁, w₂ ~ U(-1, 1)
    w = w.to(device).requires_grad_()
    curve, hit = [], torch.full((len(batch),), -1)
    for step in range(c["steps"] + 1):
        loss = (w[:, 1:] * f(w[:, :1] * x) - c["slope"] * x).square().mean(1)  # one loss per trial
        hit = torch.where((hit < 0) & (loss.detach().cpu() < c["target"]), step, hit)
        curve.append(loss.detach().cpu())
        if step < c["steps"]:
            (grad,) = torch.autograd.grad(loss.sum(), w)  # rows are independent: a trial's gradient is its own
            w = (w - c["lr"] * grad).detach().requires_grad_()
    losses = torch.stack(curve, 1)
    return [TrialRecord(NAME, t.task, c["activation"], "gd", t.config["seed"], t.config,
                        {"final_loss": float(losses[i, -1]), "success": bool(hit[i] >= 0),
                         "steps_to_target": int(hit[i]) if hit[i] >= 0 else None},
                        [(s, float(losses[i, s])) for s in range(0, c["steps"] + 1, max(1, c["steps"] // 50))])
            for i, t in enumerate(batch.trials)]


def cost(batch: Batch) -> Cost:
    """About 0.25 ms per step and batch, 1 ns per element-step; a few float64 tensors of (trials, points)."""
    c = batch.trials[0].config
    elements = len(batch) * c["points"]
    return Cost(c["steps"] * (2.5e-4 + 1e-9 * elements), elements, 16 * 8 * elements + (1 << 20))
