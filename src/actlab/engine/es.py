"""Evolution strategies batched over trials: CMA-ES (as pycma runs it) and SNES.

CMA-ES follows Hansen's tutorial (arXiv:1604.00772, 2016/2023), the algorithm pycma implements
by default: weighted recombination with negative ("active") weights, cumulative step-size
adaptation, rank-one and rank-μ covariance updates, h_σ stall. State per trial: mean m (T, D),
step size σ (T,), covariance C (T, D, D) with its eigendecomposition every generation (one
batched `eigh`). Tests compare it with pycma on standard functions.

SNES (Schaul, Glasmachers & Schmidhuber 2011) adapts a mean and one step size per coordinate
from rank-based utilities: the separable natural evolution strategy, a common ES baseline.

Both start at the trial's x0 with a per-coordinate spread of `sigma0` × the box width (default
0.25). When the box is enforced, a sample outside it is repaired (clip or reflect) and the
repaired point is what is scored and what the update learns from; the mean is kept inside too.
Step sizes are capped at 10 box widths (an optimum outside an enforced box otherwise makes
them grow without end). A CMA-ES trial stops, as pycma's does, when C's condition number passes
1e14 or its steps fall below 1e-11 — the 1-1-1 loss has a whole manifold of minima, and without
this C degenerates; a stopped trial keeps its best member and its state (no restarts).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from actlab.engine.bounds import Box
from actlab.engine.streams import TrialStreams


def default_popsize(dim: int) -> int:
    return 4 + int(3 * math.log(dim))


class CMAES:
    def __init__(self, streams: TrialStreams, box: Box, x0: Tensor, *, popsize: int | None = None,
                 sigma0: float = 0.25) -> None:
        T, n = x0.shape
        self.rng, self.box, self.n = streams, box, n
        lam = self.popsize = popsize or default_popsize(n)
        mu = self.mu = lam // 2
        w = math.log((lam + 1) / 2) - torch.log(torch.arange(1, lam + 1, dtype=torch.float64))
        pos, neg = w[:mu], w[mu:]
        self.mueff = float(pos.sum() ** 2 / (pos**2).sum())
        mueff_neg = float(neg.sum() ** 2 / (neg**2).sum()) if len(neg) else 0.0
        self.cs = (self.mueff + 2) / (n + self.mueff + 5)
        self.ds = 1 + 2 * max(0.0, math.sqrt((self.mueff - 1) / (n + 1)) - 1) + self.cs
        self.cc = (4 + self.mueff / n) / (n + 4 + 2 * self.mueff / n)
        self.c1 = 2 / ((n + 1.3) ** 2 + self.mueff)
        self.cmu = min(1 - self.c1, 2 * (0.25 + self.mueff + 1 / self.mueff - 2) / ((n + 2) ** 2 + self.mueff))
        alpha_neg = min(1 + self.c1 / self.cmu, 1 + 2 * mueff_neg / (self.mueff + 2),
                        (1 - self.c1 - self.cmu) / (n * self.cmu))
        self.weights = torch.cat([pos / pos.sum(), alpha_neg * neg / neg.abs().sum()]).to(x0)
        self.chi_n = math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n))
        scale = box.width.mean(dim=1)  # (T,)
        self.mean, self.sigma = x0.clone(), sigma0 * scale
        d0 = box.width / scale[:, None]  # initial per-coordinate std ∝ box width
        self.C = torch.diag_embed(d0**2)
        self.B, self.D = torch.diag_embed(torch.ones_like(x0)), d0.clone()
        self.pc, self.ps = torch.zeros_like(x0), torch.zeros_like(x0)
        self.gen = 0
        self.stopped = torch.zeros(T, dtype=torch.bool, device=x0.device)

    def ask(self) -> Tensor:
        z = self.rng.normal(self.popsize, self.n)
        y = torch.einsum("tij,tlj->tli", self.B * self.D[:, None, :], z)
        x, self.y = self.box.place(self.mean, self.sigma[:, None, None], y)
        return x

    def tell(self, candidates: Tensor, losses: Tensor) -> None:
        n, w, mu = self.n, self.weights, self.mu
        order = torch.argsort(losses, dim=1, stable=True)
        ys = torch.gather(self.y, 1, order[:, :, None].expand_as(self.y))  # best first
        yw = torch.einsum("l,tli->ti", w[:mu], ys[:, :mu])
        mean = self.box.repair((self.mean + self.sigma[:, None] * yw)[:, None])[:, 0]
        inv_sqrt = self.B @ torch.diag_embed(1 / self.D) @ self.B.transpose(1, 2)  # C^(−1/2)
        ps = (1 - self.cs) * self.ps + math.sqrt(self.cs * (2 - self.cs) * self.mueff) * torch.einsum(
            "tij,tj->ti", inv_sqrt, yw)
        self.gen += 1
        ps_norm = ps.norm(dim=1)
        hs = (ps_norm / math.sqrt(1 - (1 - self.cs) ** (2 * self.gen)) < (1.4 + 2 / (n + 1)) * self.chi_n).to(yw)
        pc = (1 - self.cc) * self.pc + hs[:, None] * math.sqrt(self.cc * (2 - self.cc) * self.mueff) * yw
        # negative weights are rescaled by n / ‖C^(−1/2) y‖² so that C stays positive definite
        wo = w.expand(losses.shape).clone()
        whitened = torch.einsum("tij,tlj->tli", inv_sqrt, ys[:, mu:]).square().sum(-1)
        wo[:, mu:] = wo[:, mu:] * n / whitened.clamp_min(1e-300)
        rank_mu = torch.einsum("tl,tli,tlj->tij", wo, ys, ys)
        delta = (1 - hs) * self.cc * (2 - self.cc)
        decay = 1 + self.c1 * delta - self.c1 - self.cmu * float(w.sum())
        C = (decay[:, None, None] * self.C + self.c1 * torch.einsum("ti,tj->tij", pc, pc) + self.cmu * rank_mu)
        sigma = torch.minimum(self.sigma * torch.exp((self.cs / self.ds) * (ps_norm / self.chi_n - 1)),
                              10 * self.box.width.max(dim=1).values).clamp_min(1e-150)
        C = (C + C.transpose(1, 2)) / 2
        # a stopped trial keeps its state (pycma would stop it); a non-finite update stops it too
        keep = self.stopped | ~torch.isfinite(C).all(-1).all(-1) | ~torch.isfinite(sigma)
        k1, k2, k3 = keep[:, None], keep[:, None, None], keep
        self.mean, self.ps, self.pc = (torch.where(k1, old, new) for old, new in
                                       ((self.mean, mean), (self.ps, ps), (self.pc, pc)))
        self.C, self.sigma = torch.where(k2, self.C, C), torch.where(k3, self.sigma, sigma)
        evals, B = torch.linalg.eigh(torch.where(k2, torch.eye(self.n, dtype=C.dtype, device=C.device), self.C))
        D = evals.clamp_min(1e-300).sqrt()
        self.B, self.D = torch.where(k2, self.B, B), torch.where(k1, self.D, D)
        # pycma's stopping rules: condition of C above 1e14 (tolconditioncov), steps below 1e-11 (tolx)
        self.stopped = keep | (self.D.max(1).values / self.D.min(1).values > 1e7) | (
            self.sigma * self.D.max(1).values < 1e-11)


class SNES:
    def __init__(self, streams: TrialStreams, box: Box, x0: Tensor, *, popsize: int | None = None,
                 sigma0: float = 0.25) -> None:
        T, n = x0.shape
        self.rng, self.box, self.n = streams, box, n
        lam = self.popsize = popsize or default_popsize(n)
        u = (math.log(lam / 2 + 1) - torch.log(torch.arange(1, lam + 1, dtype=torch.float64))).clamp_min(0)
        self.utility = (u / u.sum() - 1 / lam).to(x0)
        self.eta_sigma = (3 + math.log(n)) / (5 * math.sqrt(n))
        self.mean, self.sigma = x0.clone(), sigma0 * box.width

    def ask(self) -> Tensor:
        s = self.rng.normal(self.popsize, self.n)
        x, self.s = self.box.place(self.mean, self.sigma[:, None], s)
        return x

    def tell(self, candidates: Tensor, losses: Tensor) -> None:
        order = torch.argsort(losses, dim=1, stable=True)
        s = torch.gather(self.s, 1, order[:, :, None].expand_as(self.s))  # best first
        grad_mu = torch.einsum("l,tli->ti", self.utility, s)
        grad_sigma = torch.einsum("l,tli->ti", self.utility, s * s - 1)
        self.mean = self.box.repair((self.mean + self.sigma * grad_mu)[:, None])[:, 0]
        sigma = self.sigma * torch.exp(self.eta_sigma / 2 * grad_sigma)
        self.sigma = torch.minimum(sigma, 10 * self.box.width).clamp_min(1e-150)
