"""Reproducible noise that the backward pass can regenerate instead of saving.

A stochastic activation draws one seed from torch's global generator per forward call
(so `torch.manual_seed` makes training reproducible) and regenerates the same noise in
backward from that seed: the saved tensors stay the input and the parameters only.

Inside a torch.func transform there is no seed (`new_seed` gives None): the noise is drawn once from
torch's generator, so that vmap's `randomness=` ('error', 'same', 'different') governs it, and the
activation runs through autograd (`AbstractActivation.exact`).
"""

from __future__ import annotations

import torch
from torch import Tensor


def new_seed(device: torch.device) -> int | None:
    """One seed from torch's global CPU generator (so `torch.manual_seed` governs it on every device);
    `draw` then makes the noise on `device` itself from that seed. None inside a torch.func transform."""
    if not torch.compiler.is_compiling() and torch._C._functorch.maybe_current_level() is not None:
        return None
    return int(torch.randint(0, 2**62, (1,)).item())


def draw(seed: int | None, like: Tensor, kind: str, low: float = 0.0, high: float = 1.0) -> Tensor:
    """Noise shaped like `like`: 'normal', 'half_normal' (|N(0,1)|) or 'uniform' on [low, high);
    from torch's generator where seed is None (inside a torch.func transform)."""
    if seed is None:
        if kind == "uniform":
            return torch.rand_like(like) * (high - low) + low
        out = torch.randn_like(like)
        return out.abs() if kind == "half_normal" else out
    g = torch.Generator(device=like.device)
    g.manual_seed(seed)
    if kind == "uniform":
        out = torch.empty(like.shape, device=like.device, dtype=like.dtype)
        return out.uniform_(low, high, generator=g)
    out = torch.randn(like.shape, generator=g, device=like.device, dtype=like.dtype)
    return out.abs_() if kind == "half_normal" else out
