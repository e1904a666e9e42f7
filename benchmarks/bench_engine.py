"""The engine against the naive way on the 1-1-1 single-sample Adam study.

Naive: one nn.Module (Linear(1,1) → act → Linear(1,1) → act) and one torch.optim.Adam per trial, a
Python loop over trials and steps. Engine: every trial in one (T, 4) tensor program
(`actlab.engine.run_gradient`). Same task, same steps, same optimizer; prints trials/s of both
and the ratio (goal: ≥ 1000× on a 2-core CPU; 20 000 trials × 1000 steps well under a minute).

Whole command: `actlab run single-sample` on the same trials (one activation, Adam, one learning rate, one
target, `--trials` seeds), timed as a subprocess from start to exit — Python's start, imports, the plan, the
engine, building the records, writing the store (a temporary one) and the summary — against the same naive
rate, as a ratio (goal: ≥ 1000×).

Population optimizers (adamm, cmaes, snes): network evaluations/s of the batched engine, and for
CMA-ES the same trials run the usual way with pycma (one CMAEvolutionStrategy per trial, ask/tell
in a Python loop, the population scored by one numpy call per generation) for a ratio.

    python benchmarks/bench_engine.py [--trials 20000] [--naive-trials 20] [--steps 1000] [--activation tanh]
                                      [--pop-trials 500] [--pop-steps 300]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def whole_command(act_spec: str, trials: int, steps: int, x: float, y: float, lr: float) -> float:
    """Seconds of `actlab run single-sample` on `trials` seeds of one task, as a subprocess, store in a temp dir."""
    with tempfile.TemporaryDirectory() as tmp:
        sets = {"activations": f'["{act_spec}"]', "optimizers": '["adam"]', "seeds": str(trials), "steps": str(steps),
                "lr": str(lr), "targets": f"[{y}]", "input": str(x)}
        cmd = [sys.executable, "-m", "actlab", "run", "single-sample", "--store", str(Path(tmp) / "s.db"), "-q"]
        for k, v in sets.items():
            cmd += ["--set", f"{k}={v}"]
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=20000)
    ap.add_argument("--naive-trials", type=int, default=20)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--activation", default="tanh")
    ap.add_argument("--pop-trials", type=int, default=500)
    ap.add_argument("--pop-steps", type=int, default=300)
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
    t_cmd = whole_command(args.activation, args.trials, args.steps, x, y, lr)
    command_rate = args.trials / t_cmd
    print(f"actlab run single-sample: {args.trials:6d} trials in {t_cmd:7.2f} s = {command_rate:10.1f} trials/s; "
          f"ratio to naive {command_rate / naive_rate:.0f}x (whole command, store included)")
    population(act, args.pop_trials, args.pop_steps, x, y)


def population(act: torch.nn.Module, trials: int, steps: int, x: float, y: float) -> None:
    """Evaluations/s of the population optimizers, batched; CMA-ES against pycma trial by trial."""
    import numpy as np

    from actlab.engine import Box, make_strategy, run_population
    from actlab.engine.network import one_one_one

    dt = torch.float64
    lo = torch.full((trials, 4), -2.0, dtype=dt)
    x0 = torch.zeros(trials, 4, dtype=dt)
    objective = lambda th: (one_one_one(th, x, act, act) - y).square()  # noqa: E731
    print(f"population optimizers: {trials} trials x {steps} generations, float64")
    for name in ("adamm", "cmaes", "snes"):
        out = run_population(objective, make_strategy(name, range(trials), Box(lo, -lo), x0), steps=steps)
        evals = trials * (steps + 1) * out.evaluations_per_step
        print(f"  {name:6s}: {evals / out.seconds / 1e6:8.2f} M evaluations/s ({out.seconds:.2f} s, "
              f"success {float((out.best_loss < 1e-6).double().mean()):.3f})")
        if name == "cmaes":
            engine_seconds = out.seconds
    import cma

    def np_objective(xs: np.ndarray) -> np.ndarray:
        w1, b1, w2, b2 = xs.T
        return (np.tanh(w2 * np.tanh(w1 * x + b1) + b2) - y) ** 2

    few = max(1, trials // 50)
    start = time.perf_counter()
    for seed in range(few):
        es = cma.CMAEvolutionStrategy(np.zeros(4), 1.0, {"seed": seed + 1, "verbose": -9, "popsize": 8})
        for _ in range(steps + 1):
            xs = es.ask()
            es.tell(xs, np_objective(np.asarray(xs)).tolist())
    naive = (time.perf_counter() - start) / few
    print(f"  cmaes, pycma one trial at a time: {1 / naive:8.1f} trials/s; batched engine: "
          f"{trials / engine_seconds:8.1f} trials/s; ratio {naive * trials / engine_seconds:.0f}x")


if __name__ == "__main__":
    main()
