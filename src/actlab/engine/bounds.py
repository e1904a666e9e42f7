"""Keeping parameters in a box: 'clip' clamps, 'reflect' mirrors a value that leaves the box back
inside — repeatedly, as a light ray between two mirrors, so an overshoot of many box widths still
lands inside. Which box a study uses (from the activation's `active_range`) is the study's rule."""

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
