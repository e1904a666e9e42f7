"""Keeping parameters in a box: 'clip' clamps, 'reflect' mirrors a value that leaves the box back
inside — repeatedly, as a light ray between two mirrors, so an overshoot of many box widths still
lands inside. `Box` is the per-trial search box the population optimizers share. Which box a study
uses (from the activation's `active_range`) is the study's rule."""

from __future__ import annotations

import torch
from torch import Tensor

BOUND_MODES = ("none", "clip", "reflect")


def reflect(x: Tensor, lo: Tensor | float, hi: Tensor | float) -> Tensor:
    """Fold x into [lo, hi] by mirroring at both walls (period 2·(hi − lo)); inside values are unchanged."""
    lo_t = torch.as_tensor(lo, dtype=x.dtype, device=x.device)
    hi_t = torch.as_tensor(hi, dtype=x.dtype, device=x.device)
    width = hi_t - lo_t
    y = torch.remainder(x - lo_t, 2 * width)
    y = torch.where(y > width, 2 * width - y, y)
    inside = (x >= lo_t) & (x <= hi_t)
    return torch.where(inside, x, lo_t + y)


def apply_bounds(x: Tensor, lo: Tensor | float, hi: Tensor | float, mode: str) -> Tensor:
    """x kept in [lo, hi] by `mode` ('none', 'clip' or 'reflect')."""
    if mode == "none":
        return x
    if mode == "clip":
        return torch.clamp(x, torch.as_tensor(lo, dtype=x.dtype), torch.as_tensor(hi, dtype=x.dtype))
    if mode == "reflect":
        return reflect(x, lo, hi)
    raise ValueError(f"unknown bounds mode {mode!r}; allowed: {', '.join(BOUND_MODES)}")


class Box:
    """The search box per trial (lo, hi: (T, D)) and how it is enforced ('none', 'clip', 'reflect').

    Strategies always use the box for their scale (initial spread, sampling widths); with mode
    'none' candidates may leave it."""

    def __init__(self, lo: Tensor, hi: Tensor, mode: str = "none") -> None:
        if (hi <= lo).any():
            raise ValueError("every box needs lo < hi")
        self.lo, self.hi, self.mode = lo, hi, mode

    @property
    def width(self) -> Tensor:
        return self.hi - self.lo

    def repair(self, x: Tensor) -> Tensor:
        """x (T, P, D) put back into the box by the mode (unchanged for 'none')."""
        return apply_bounds(x, self.lo[:, None], self.hi[:, None], self.mode)

    def place(self, mean: Tensor, scale: Tensor, steps: Tensor) -> tuple[Tensor, Tensor]:
        """Candidates mean + scale·steps (mean (T, D), steps (T, P, D)) repaired into the box, and the steps
        that lead to the repaired points (the originals where nothing moved)."""
        raw = mean[:, None] + scale * steps
        x = self.repair(raw)
        return x, torch.where(x == raw, steps, (x - mean[:, None]) / scale)
