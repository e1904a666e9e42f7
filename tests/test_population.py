"""Population optimizers: per-trial random streams, batch independence, reproducibility, ADAMm's
mechanics as described, and CMA-ES against pycma (the reference users trust)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from actlab.engine.adamm import ADAMm
from actlab.engine.population import POPULATION_OPTIMIZERS, Box, make_strategy, run_population
from actlab.engine.streams import TrialStreams


def sphere(x: torch.Tensor) -> torch.Tensor:
    return x.square().sum(-1)


def rosenbrock(x: torch.Tensor) -> torch.Tensor:
    return (100 * (x[..., 1:] - x[..., :-1] ** 2) ** 2 + (1 - x[..., :-1]) ** 2).sum(-1)


def box(trials: int, dim: int, half: float = 5.0, mode: str = "none") -> Box:
    lo = torch.full((trials, dim), -half, dtype=torch.float64)
    return Box(lo, -lo, mode)


def run(name: str, seeds: list[int], f=sphere, steps: int = 60, mode: str = "none", **opt: object):
    x0 = torch.full((len(seeds), 4), 2.0, dtype=torch.float64)
    return run_population(f, make_strategy(name, seeds, box(len(seeds), 4, mode=mode), x0, **opt), steps=steps,
                          threshold=1e-8)


# --- random streams -------------------------------------------------------------------
def test_a_trial_stream_depends_on_its_seed_only() -> None:
    a = TrialStreams([7, 3, 9], "adamm")
    b = TrialStreams([3], "adamm")
    for _ in range(3):  # across refills too
        ua, ub = a.uniform(1500), b.uniform(1500)
        assert torch.equal(ua[1], ub[0])
    assert not torch.equal(TrialStreams([3], "cmaes").uniform(10), TrialStreams([3], "adamm").uniform(10))


def test_stream_distributions() -> None:
    u = TrialStreams([1], "s").uniform(20000)[0].sort().values.numpy()
    ks = np.max(np.abs(u - (np.arange(1, len(u) + 1) - 0.5) / len(u)))
    assert ks < 1.63 / math.sqrt(len(u))  # Kolmogorov–Smirnov at α = 0.01
    z = TrialStreams([2], "s").normal(40000)[0]
    assert abs(z.mean().item()) < 4 / math.sqrt(40000) and abs(z.var().item() - 1) < 0.03
    rows = TrialStreams(range(50), "s").uniform(400)
    corr = torch.corrcoef(rows)  # neighbouring seeds give unrelated streams
    assert corr.fill_diagonal_(0).abs().max() < 0.25


# --- every population optimizer ---------------------------------------------------------
@pytest.mark.parametrize("name", POPULATION_OPTIMIZERS)
def test_a_trial_does_not_depend_on_its_batch(name: str) -> None:
    big = run(name, list(range(23)))
    alone = run(name, [11])
    assert torch.allclose(alone.curve[0], big.curve[11], rtol=1e-12, atol=0)
    assert alone.steps_to_target[0] == big.steps_to_target[11]
    again = run(name, list(range(23)))
    assert torch.equal(again.curve, big.curve)


@pytest.mark.parametrize("name", POPULATION_OPTIMIZERS)
@pytest.mark.parametrize("mode", ["clip", "reflect"])
def test_candidates_stay_in_an_enforced_box(name: str, mode: str) -> None:
    seen = []

    def shifted(x: torch.Tensor) -> torch.Tensor:  # optimum far outside the box pulls candidates out
        seen.append(x)
        return (x - 40).square().sum(-1)

    x0 = torch.zeros(5, 4, dtype=torch.float64)
    run_population(shifted, make_strategy(name, list(range(5)), box(5, 4, 1.0, mode), x0), steps=40)
    allx = torch.cat([s.flatten() for s in seen])
    assert allx.min() >= -1 and allx.max() <= 1 and allx.max() > 0.99


@pytest.mark.parametrize("name", POPULATION_OPTIMIZERS)
def test_optimizers_make_progress_and_count_evaluations(name: str) -> None:
    o = run(name, list(range(8)), steps=200, lr=0.05) if name == "adamm" else run(name, list(range(8)), steps=200)
    assert (o.best_loss < 1e-2).all()  # from loss 16
    assert torch.all(o.curve[:, 1:] <= o.curve[:, :-1])  # best so far never rises
    pop = {"adamm": 100, "cmaes": 8, "snes": 8}[name]
    assert o.evaluations_per_step == pop
    hit = o.steps_to_target >= 0
    assert torch.equal(o.evaluations_to_target[hit], (o.steps_to_target[hit] + 1) * pop)
    assert torch.allclose(sphere(o.params), o.best_loss)  # the returned member has the returned loss


# --- ADAMm's mechanics ---------------------------------------------------------------------
def test_adamm_replaces_the_worse_half_by_hybrids_near_donors() -> None:
    P, D = 100, 3
    b = box(1, D)
    opt = ADAMm(TrialStreams([0], "adamm"), b, torch.zeros(1, D, dtype=torch.float64), popsize=P, lr=0.001)
    x = opt.ask()
    f = sphere(x)
    opt.tell(x, f)
    new = opt.ask()[0]
    order = torch.argsort(f[0])
    better, worse = order[:P // 2], order[P // 2:]
    # the better half moved by Adam's first-step size, ±lr in every coordinate
    assert torch.allclose((new[better] - x[0, better]).abs(), torch.full((P // 2, D), 0.001, dtype=torch.float64))
    # every hybrid coordinate lies near some population member's coordinate: power 10 puts half of
    # the draws within 0.5^10 of the distance to the wall
    gap = (new[worse][:, :, None] - x[0].T[None]).abs().min(dim=2).values  # (H, D)
    assert (gap < 10 * 0.5**10).float().mean() > 0.5
    assert (gap > 0.1).any()  # and some land far away


def test_adamm_gradient_estimate_is_the_secant() -> None:
    """On f(x) = 3·x₀ − 2·x₁ each agent's Δf/Δx_j points the right way: after the first random move
    every surviving agent steps by −lr·sign(g) with g = Δf / Δx_j."""
    P, D = 10, 2
    f = lambda x: 3 * x[..., 0] - 2 * x[..., 1]
    opt = ADAMm(TrialStreams([1], "adamm"), box(1, D), torch.zeros(1, D, dtype=torch.float64), popsize=P,
                lr=0.01, eps=1e-9)
    x0 = opt.ask()
    opt.tell(x0, f(x0))
    x1 = opt.ask()
    opt.tell(x1, f(x1))
    x2 = opt.ask()[0]
    movers = torch.argsort(f(x1)[0])[:P // 2]
    g = (f(x1) - f(x0))[0, movers][:, None] / (x1[0, movers] - x0[0, movers])
    want = x1[0, movers] - 0.01 * torch.sign(g)
    assert torch.allclose(x2[movers], want, atol=1e-9)


# --- CMA-ES against pycma ------------------------------------------------------------------
def pycma_evaluations(f, dim: int, x0: float, sigma0: float, seeds: int, budget: int) -> np.ndarray:
    cma = pytest.importorskip("cma")
    out = []
    for seed in range(1, seeds + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            es = cma.CMAEvolutionStrategy([x0] * dim, sigma0, {"seed": seed, "verbose": -9, "ftarget": 1e-8,
                                                               "maxfevals": budget})
            while not es.stop():
                xs = es.ask()
                es.tell(xs, [float(f(torch.tensor(np.asarray(x)))) for x in xs])
        out.append(es.result.evaluations if es.result.fbest < 1e-8 else np.nan)
    return np.array(out, dtype=float)


def ours(f, dim: int, x0: float, sigma0: float, seeds: int, budget: int) -> np.ndarray:
    # a huge box that is not enforced: sigma0 is relative to its width (200)
    b = box(seeds, dim, 100.0)
    s = make_strategy("cmaes", list(range(seeds)), b, torch.full((seeds, dim), x0, dtype=torch.float64),
                      sigma0=sigma0 / 200)
    o = run_population(f, s, steps=budget // s.popsize, threshold=1e-8)
    e = o.evaluations_to_target.double().numpy()
    return np.where(e > 0, e, np.nan)


@pytest.mark.parametrize(("f", "dim", "x0", "sigma0"), [(sphere, 4, 3.0, 2.5), (rosenbrock, 4, 0.0, 0.5)],
                         ids=["sphere-4", "rosenbrock-4"])
def test_cmaes_matches_pycma(f, dim: int, x0: float, sigma0: float) -> None:
    ref, mine = (g(f, dim, x0, sigma0, 30, 8000) for g in (pycma_evaluations, ours))
    assert np.isnan(ref).sum() <= 2 and np.isnan(mine).sum() <= 2
    assert abs(np.nanmedian(mine) / np.nanmedian(ref) - 1) < 0.12


@pytest.mark.slow
def test_cmaes_matches_pycma_on_harder_functions() -> None:
    n = 8
    cond = torch.tensor([1e6 ** (i / (n - 1)) for i in range(n)], dtype=torch.float64)
    ellipsoid = lambda x: (cond * x**2).sum(-1)
    for f, x0, s0 in [(ellipsoid, 1.0, 1.0), (rosenbrock, 0.0, 0.5)]:
        ref, mine = (g(f, n, x0, s0, 40, 30000) for g in (pycma_evaluations, ours))
        assert abs(np.mean(np.isnan(mine)) - np.mean(np.isnan(ref))) < 0.15
        assert abs(np.nanmedian(mine) / np.nanmedian(ref) - 1) < 0.12
