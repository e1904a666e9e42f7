"""ADAMm: A. Dik's population ADAM, a gradient-free optimizer (the single-sample article's reference).

Each agent is an Adam optimizer that never sees a derivative: it estimates its gradient per
coordinate from its own last move, g_j = Δf / Δx_j, the change of its loss over the change of
that coordinate, with |Δx_j| floored at ε. After every step the worse half of the population is
replaced by hybrids: each coordinate of a hybrid is copied from a donor picked with a bias
towards good losses and moved near it by the power distribution (most draws land close to the
donor, a few far towards the box's walls).

Where the published description leaves a choice open, this implementation decides:
- ε (default 0.1) is the floor on |Δx_j| (sign kept; Δx_j = 0 counts as +ε); Adam's own
  denominator constant stays 1e-8.
- The initial population has no previous positions: instead of an Adam step, every agent first
  moves by lr in a random direction per coordinate (Adam's first step is ±lr too), which gives
  each one a secant to learn from.
- Donors: every coordinate picks its own donor from the whole population ranked by loss, with
  linear rank weights (the best P times as likely as the worst).
- Power distribution (power 10): with u, r ~ U(0, 1), the coordinate becomes
  donor + (hi − donor)·r^power or donor − (donor − lo)·r^power, each side with probability ½;
  the distance to a wall is floored at 1 % of the box width so a donor on a wall still spreads.
- A hybrid keeps the replaced agent's last position and loss as its "previous" one, so its first
  gradient estimate is the secant from that agent to itself; its Adam moments and step count
  restart at zero.
- Every generation evaluates P new positions (the moved better half and the hybrids), so a run
  of s generations costs (s + 1)·P evaluations. Positions are put back into the box after every
  move when the box is enforced ('clip' or 'reflect').
"""

from __future__ import annotations

import torch
from torch import Tensor

from actlab.engine.bounds import Box
from actlab.engine.streams import TrialStreams


class ADAMm:
    def __init__(self, streams: TrialStreams, box: Box, x0: Tensor, *, popsize: int = 100, lr: float = 1e-3,
                 beta1: float = 0.9, beta2: float = 0.999, eps: float = 0.1, power: float = 10.0) -> None:
        if popsize < 2:
            raise ValueError(f"adamm needs popsize ≥ 2, got {popsize}")
        self.rng, self.box, self.popsize = streams, box, popsize
        self.lr, self.b1, self.b2, self.eps, self.power = lr, beta1, beta2, eps, power
        T, D = x0.shape
        # the initial population: uniform in the box
        self.pending = box.lo[:, None] + streams.uniform(popsize, D) * box.width[:, None]
        self.started = False
        self.x = self.xp = self.m = self.v = self.pending
        self.f = self.fp = self.t = torch.zeros(self.pending.shape[:2], dtype=x0.dtype, device=x0.device)

    def ask(self) -> Tensor:
        return self.pending

    def tell(self, candidates: Tensor, losses: Tensor) -> None:
        if not self.started:  # first generation: no previous position yet
            self.started = True
            self.x, self.f = candidates, losses
            self.xp, self.fp = candidates, losses
            self.m = torch.zeros_like(candidates)
            self.v = torch.zeros_like(candidates)
            self.t = torch.zeros_like(losses)
            signs = torch.where(self.rng.uniform(*candidates.shape[1:]) < 0.5, -1.0, 1.0)
            moved = candidates + self.lr * signs
        else:
            self.xp, self.fp, self.x, self.f = self.x, self.f, candidates, losses
            moved = self._adam_step()
        self.pending = self.box.repair(self._replace_worse_half(moved))

    def _adam_step(self) -> Tensor:
        """Each agent's Adam step on its secant gradient estimate."""
        dx = self.x - self.xp
        floor = torch.where(dx < 0, -self.eps, self.eps)
        dx = torch.where(dx.abs() < self.eps, floor, dx)
        df = self.f - self.fp
        g = torch.where(torch.isfinite(df), df, torch.zeros_like(df))[..., None] / dx
        self.t = self.t + 1
        self.m = self.b1 * self.m + (1 - self.b1) * g
        self.v = self.b2 * self.v + (1 - self.b2) * g * g
        m_hat = self.m / (1 - self.b1 ** self.t[..., None])
        v_hat = self.v / (1 - self.b2 ** self.t[..., None])
        return self.x - self.lr * m_hat / (v_hat.sqrt() + 1e-8)

    def _replace_worse_half(self, moved: Tensor) -> Tensor:
        T, P, D = moved.shape
        H = P // 2
        order = torch.argsort(self.f, dim=1, stable=True)  # best first
        worse = order[:, P - H:]  # (T, H) slots to replace
        # donors: rank k with probability ∝ (P − k), by inverting the CDF 1 − (1 − k/P)²
        u = self.rng.uniform(H, D)
        rank = torch.clamp((P * (1 - torch.sqrt(1 - u))).long(), max=P - 1)
        donor_slot = torch.gather(order[:, :, None].expand(T, P, D), 1, rank)
        donor = torch.gather(self.x, 1, donor_slot)
        # the power distribution around the donor, towards one wall or the other
        r = self.rng.uniform(H, D) ** self.power
        up = self.rng.uniform(H, D) < 0.5
        lo, hi, width = self.box.lo[:, None], self.box.hi[:, None], self.box.width[:, None]
        reach = torch.where(up, hi - donor, donor - lo).clamp_min(0.01 * width)
        hybrid = donor + torch.where(up, 1.0, -1.0) * reach * r
        idx = worse[:, :, None].expand(T, H, D)
        new = moved.scatter(1, idx, hybrid)
        # hybrids start their own Adam: zero moments, step count 0
        self.m = self.m.scatter(1, idx, torch.zeros_like(hybrid))
        self.v = self.v.scatter(1, idx, torch.zeros_like(hybrid))
        self.t = self.t.scatter(1, worse, torch.zeros_like(worse, dtype=self.t.dtype))
        return new
