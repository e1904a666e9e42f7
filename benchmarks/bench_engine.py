"""The engine against the naive way on the 1-1-1 single-sample Adam study.

Naive: one nn.Module (Linear(1,1) → act → Linear(1,1) → act) and one torch.optim.Adam per trial, a
Python loop over trials and steps. Engine: every trial in one (T, 4) tensor program
(`actlab.engine.run_gradient`). Same task, same steps, same optimizer; prints trials/s of both
and the ratio (goal: ≥ 1000× on a 2-core CPU; 20 000 trials × 1000 steps well under a minute).

    python benchmarks/bench_engine.py [--trials 20000] [--naive-trials 20] [--steps 1000] [--activation tanh]
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

import actlab
from actlab.engine import run_gradient


def naive(act_spec: str, trials: int, steps: int, x: float, y: float, lr: float) -> float:
    """Seconds for `trials` trials trained one at a time the usual way."""
    start = time.perf_counter()
    for seed in range(trials):
        torch.manual_seed(seed)
        net = nn.Sequential(nn.Linear(1, 1), actlab.create(act_spec), nn.Linear(1, 1), actlab.create(act_spec))
        opt = torch.optim.Adam(net.parameters(), lr=lr)
        inp, target = torch.tensor([[x]]), torch.tensor([[y]])
        for _ in range(steps):
            opt.zero_grad()
            loss = (net(inp) - target).square().sum()
            loss.backward()
            opt.step()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=20000)
    ap.add_argument("--naive-trials", type=int, default=20)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--activation", default="tanh")
    args = ap.parse_args()
    x, y, lr = 0.5, 0.3, 0.01
    act = actlab.create(args.activation).requires_grad_(False)
    t_naive = naive(args.activation, args.naive_trials, args.steps, x, y, lr)
    out = run_gradient(act, act, x, y, optimizer="adam", lr=lr, steps=args.steps, seeds=range(args.trials))
    naive_rate, engine_rate = args.naive_trials / t_naive, args.trials / out.seconds
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; 1-1-1 {args.activation}, Adam, "
          f"{args.steps} steps per trial")
    print(f"naive : {args.naive_trials:6d} trials in {t_naive:7.2f} s = {naive_rate:10.1f} trials/s")
    print(f"engine: {args.trials:6d} trials in {out.seconds:7.2f} s = {engine_rate:10.1f} trials/s")
    print(f"ratio : {engine_rate / naive_rate:.0f}x  (success rate {float((out.best_loss < 1e-6).float().mean()):.3f})")


if __name__ == "__main__":
    main()
