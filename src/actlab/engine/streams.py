"""Per-trial random streams for population optimizers.

A trial's random numbers must depend on its own seed only — never on which other trials share
its batch — and one torch.Generator call per trial per generation would dominate the run time.
So each trial owns a generator (seeded from its seed and the optimizer's name) and the numbers
are drawn in fixed chunks of CHUNK per trial, buffered as one (T, L) tensor that every request
consumes from the front. All trials consume in lockstep, so a request is one slice of the
buffer; a refill is T generator calls every few generations, not every generation. Normals come
from the uniforms by Box–Muller, so the same numbers arrive on every device.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

import torch
from torch import Tensor

CHUNK = 4096


def stream_seed(seed: int, stream: str) -> int:
    """A 63-bit generator seed from a trial seed and a stream name (stable across runs and platforms)."""
    digest = hashlib.sha256(f"{int(seed)}/{stream}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


class TrialStreams:
    """Uniform and normal numbers shaped (T, *shape), row t drawn from trial t's own stream."""

    def __init__(self, seeds: Sequence[int], stream: str, *, device: str | torch.device = "cpu",
                 dtype: torch.dtype = torch.float64) -> None:
        self.gens = [torch.Generator().manual_seed(stream_seed(s, stream)) for s in seeds]
        self.device, self.dtype = torch.device(device), dtype
        self.buf = torch.empty(len(self.gens), 0)

    def _take(self, n: int) -> Tensor:
        while self.buf.shape[1] < n:
            # float32 draws (24 random bits) cost half of float64 ones and are plenty for sampling
            fresh = torch.stack([torch.rand(CHUNK, generator=g) for g in self.gens])
            self.buf = torch.cat([self.buf, fresh], dim=1)
        out, self.buf = self.buf[:, :n], self.buf[:, n:]
        return out.to(device=self.device, dtype=torch.float64)

    def uniform(self, *shape: int) -> Tensor:
        """U(0, 1) numbers (24-bit resolution; an exact 0 becomes 2⁻²⁵)."""
        n = math.prod(shape)
        u = self._take(n).clamp_min(2.0**-25)
        return u.reshape(len(self.gens), *shape).to(self.dtype)

    def normal(self, *shape: int) -> Tensor:
        """N(0, 1) numbers by Box–Muller (two uniforms each)."""
        n = math.prod(shape)
        u = self._take(2 * n).clamp_min(2.0**-25)
        z = torch.sqrt(-2 * torch.log(u[:, :n])) * torch.cos(2 * math.pi * u[:, n:])
        return z.reshape(len(self.gens), *shape).to(self.dtype)
