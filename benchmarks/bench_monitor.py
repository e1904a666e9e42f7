"""Overhead of `actlab.monitor` on an ordinary training loop: step time with and without it.

    python benchmarks/bench_monitor.py [--rounds 30] [--steps 40]

An MLP 64 -> 256 -> 256 -> 256 -> 10 (relu and tanh variants) on scikit-learn's digits
(standardised), minibatches of 256, Adam. Each round times `--steps` steps without the monitor,
with every=1 and with every=10, in turn (A/B/C), so that background load falls on all three alike;
the figure printed is the median over rounds of the mean step time, and its ratio to the time
without. One thread.
Targets: ≤ 1.5× at every=1, ≤ 1.1× at every=10.

The quantiles, histograms and table are computed when the results are read, not in the training
loop; `read` is that cost, per recorded step: the median time of `rows()` after a round at every=1.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn

from actlab.diagnostics import monitor


def data() -> tuple[torch.Tensor, torch.Tensor]:
    x, y = load_digits(return_X_y=True)
    x = torch.tensor(x, dtype=torch.float32)
    x = (x - x.mean(0)) / x.std(0).clamp_min(1e-6)
    return x, torch.tensor(y)


def mlp(act: Callable[[], nn.Module]) -> nn.Sequential:
    return nn.Sequential(nn.Linear(64, 256), act(), nn.Linear(256, 256), act(), nn.Linear(256, 256), act(),
                         nn.Linear(256, 10))


def timed_steps(model: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, steps: int,
                ctx: AbstractContextManager) -> float:
    """Mean seconds per step of an ordinary loop (random minibatches of 256) under `ctx`.

    A whole round is timed, the monitor's entry and exit included, so that at every=10 the recorded steps,
    the update ratio computed at the step after each, and moving the records to the host all count in (a
    median over single steps would hide them); what is left to the first read is timed by `read_time`."""
    batches = [torch.randint(len(x), (256,)) for _ in range(steps)]
    start = time.perf_counter()
    with ctx:  # entering and leaving count: leaving moves the last records to the host
        for idx in batches:
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return (time.perf_counter() - start) / steps


def read_time(model: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, steps: int) -> float:
    """Seconds per recorded step that `rows()` takes after `steps` steps at every=1."""
    with monitor(model, every=1) as mon:
        timed_steps(model, opt, x, y, steps, nullcontext())
    start = time.perf_counter()
    mon.rows()
    return (time.perf_counter() - start) / steps


def run(name: str, act: Callable[[], nn.Module], rounds: int, steps: int) -> None:
    torch.manual_seed(0)
    x, y = data()
    model = mlp(act)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    monitor(model)  # warm-up: the analyser's profile of each activation is measured once per process
    kinds: dict[str, Callable[[], AbstractContextManager]] = {
        "without": nullcontext,
        "every=1": lambda: monitor(model, every=1),
        "every=10": lambda: monitor(model, every=10),
    }
    times: dict[str, list[float]] = {k: [] for k in kinds}
    for make in kinds.values():  # one untimed round each (first calls, allocator)
        timed_steps(model, opt, x, y, 10, make())
    for _ in range(rounds):
        for k, make in kinds.items():
            times[k].append(timed_steps(model, opt, x, y, steps, make()))
    base = statistics.median(times["without"])
    cells = "  ".join(f"{k} {statistics.median(v) * 1e3:6.2f} ms ({statistics.median(v) / base:4.2f}×)"
                      for k, v in times.items())
    read = statistics.median(read_time(model, opt, x, y, steps) for _ in range(5))
    print(f"{name:5s} {cells}  read {read * 1e3:4.2f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--steps", type=int, default=40, help="steps per round and kind (a multiple of 10)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"step time (median over {args.rounds} rounds of {args.steps} steps each) (targets: every=1 ≤ 1.5×, "
          f"every=10 ≤ 1.1×)")
    run("relu", nn.ReLU, args.rounds, args.steps)
    run("tanh", nn.Tanh, args.rounds, args.steps)


if __name__ == "__main__":
    main()
