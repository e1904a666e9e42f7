"""What an activation costs as people use it: the whole catalog, forward + backward, and a training step.

Part 1, every elementwise entry on one float32 tensor of 2**22 elements (requires_grad, learnable
parameters too), median of --repeat forward + backward after warm-up, every figure a ratio to
F.gelu's forward + backward measured in the same run:
  path      what `act(x)` runs by default: torch (torch's own kernels), fused (compiled by the automatic
            rule) or eager (the exact path's closed forms);
  /torch    `act(x)` over the torch.nn module that computes the same function (target ≤ 1.1);
  default   `act(x)` / gelu (targets: custom entries ≤ 1.5 where they compile);
  eager     `act(x)` with automatic fusion off / gelu (target ≤ 4);
  compile   seconds of the first large call of a fresh activation (compilation), and of a second
            fresh activation of the same spec (the kernels are cached per activation object);
  saved     bytes kept for backward / input bytes.
Stochastic units are timed in train() (noise drawn, regenerated in backward) and eval().

Part 2, a training step: an MLP 64-256-256-256-10 on scikit-learn's digits (standardised),
minibatches of 256, Adam; median step time over rounds that alternate the models, so background
load falls on all alike. Ratios: an actlab model over the same model with the torch.nn module
(target ≤ 1.2), and every custom entry over the gelu model (target ≤ 1.5).

    python benchmarks/bench_activations.py [--size-log2 22] [--repeat 9] [--threads N] [--device cuda]
                                           [--only snake,silu] [--no-compile] [--no-step] [--step-only]
"""

from __future__ import annotations

import argparse
import copy
import inspect
import math
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn

import actlab
from actlab.core.activation import Fusion, fusing
from actlab.core.registry import entry_of


def sync(x: torch.Tensor) -> None:
    if x.device.type == "cuda":
        torch.cuda.synchronize()


def fwd_bwd(fns: list[Callable[[torch.Tensor], torch.Tensor]], x: torch.Tensor, repeat: int) -> list[float]:
    """Median seconds of forward + backward of each fn, the fns taking turns (so drifting background
    load falls on all alike)."""
    g = torch.ones_like(x)
    for fn in fns:
        for _ in range(3):
            fn(x).backward(g)
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, ts in zip(fns, times):
            x.grad = None
            sync(x)
            t = time.perf_counter()
            fn(x).backward(g)
            sync(x)
            ts.append(time.perf_counter() - t)
    return [statistics.median(ts) for ts in times]


def first_call(act: nn.Module, x: torch.Tensor) -> float:
    sync(x)
    t = time.perf_counter()
    act(x).backward(torch.ones_like(x))
    sync(x)
    return time.perf_counter() - t


def saved_ratio(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> float:
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        seen[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn(x)
    return sum(seen.values()) / (x.numel() * x.element_size())


def torch_module(act: actlab.AbstractActivation) -> nn.Module | None:
    """The torch.nn module computing the same function, where the registry names one."""
    e = entry_of(act)
    if e.torch_class is None:
        return None
    allowed = inspect.signature(e.torch_class.__init__).parameters
    kwargs = {k: v for k, v in act.get_params().items() if k not in e.fixed and k in allowed}
    return e.torch_class(**kwargs)


def path_of(act: actlab.AbstractActivation, x: torch.Tensor) -> str:
    if act.builtin(x) is not None:
        return "torch"
    return "fused" if fusing(act, x) else "eager"


def catalog_table(args: argparse.Namespace) -> None:
    torch.manual_seed(0)
    x = (torch.randn(2**args.size_log2, device=args.device) * 3).requires_grad_(True)
    (base,) = fwd_bwd([F.gelu], x, args.repeat)
    every = [n for n in actlab.names() if actlab.create(n).properties.elementwise]
    specs = args.only.split(",") if args.only else every
    where = torch.cuda.get_device_name() if x.device.type == "cuda" else f"{torch.get_num_threads()} threads"
    print(f"torch {torch.__version__}, {where}, n = 2^{args.size_log2}; "
          f"F.gelu forward+backward = {base * 1e3:.2f} ms; automatic fusion from {Fusion.min_numel} elements")
    print(f"{'activation':32s} {'path':>5s} {'/torch':>6s} {'default':>7s} {'eager':>6s} "
          f"{'compile s':>10s} {'saved':>5s}")
    for spec in specs:
        for mode in ("train", "eval") if actlab.create(spec).properties.stochastic else ("train",):
            act = actlab.create(spec).to(args.device).train(mode == "train")
            path = path_of(act, x)
            compile_s = "-"
            if path == "fused":
                if args.no_compile:
                    act.fuse(False)
                    path = "eager"
                else:
                    first = first_call(act, x)
                    second = first_call(actlab.create(spec).to(args.device).train(mode == "train"), x)
                    compile_s = f"{first:.1f}/{second:.1f}"
            eager = copy.deepcopy(act).fuse(False)
            ref = torch_module(act)
            if ref is not None:
                ref.to(args.device).train(mode == "train")
            t_gelu, t_default, t_eager, *t_ref = fwd_bwd([F.gelu, act, eager, *([ref] if ref else [])], x,
                                                         args.repeat)
            vs_torch = t_default / t_ref[0] if t_ref else math.nan
            label = f"{spec} [{mode}]" if act.properties.stochastic else spec
            print(f"{label:32s} {path:>5s} {vs_torch:6.2f} {t_default / t_gelu:7.2f} {t_eager / t_gelu:6.2f} "
                  f"{compile_s:>10s} {saved_ratio(act, x):5.2f}", flush=True)


# --- part 2: a training step -----------------------------------------------------------------------


def digits() -> tuple[torch.Tensor, torch.Tensor]:
    x, y = load_digits(return_X_y=True)
    x = torch.tensor(x, dtype=torch.float32)
    return (x - x.mean(0)) / x.std(0).clamp_min(1e-6), torch.tensor(y)


def mlp(make: Callable[[], nn.Module]) -> nn.Sequential:
    return nn.Sequential(nn.Linear(64, 256), make(), nn.Linear(256, 256), make(), nn.Linear(256, 256), make(),
                         nn.Linear(256, 10))


class Trainer:
    def __init__(self, make: Callable[[], nn.Module], data: tuple[torch.Tensor, torch.Tensor]) -> None:
        torch.manual_seed(0)
        self.model, (self.x, self.y) = mlp(make), data
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3)

    def steps(self, n: int) -> float:
        """Mean seconds per step over n steps."""
        batches = [torch.randint(len(self.x), (256,)) for _ in range(n)]
        start = time.perf_counter()
        for idx in batches:
            loss = F.cross_entropy(self.model(self.x[idx]), self.y[idx])
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
        return (time.perf_counter() - start) / n


def step_table(args: argparse.Namespace) -> None:
    data = digits()
    builtin = ["relu", "leaky_relu", "elu", "selu", "gelu", "silu", "tanh", "sigmoid", "softplus", "hard_swish",
               "mish", "log_sigmoid", "softsign"]
    custom = ["snake", "acon_c", "swish(learnable=True)", "leaky_relu6", "star_relu", "square", "sin",
              "noisy_hard_tanh", "noisy_hard_sigmoid"]
    trainers: dict[str, Trainer] = {"torch gelu": Trainer(nn.GELU, data)}
    for spec in builtin:
        ref = torch_module(actlab.create(spec))
        assert ref is not None, spec
        trainers[f"torch {spec}"] = Trainer(lambda r=ref: copy.deepcopy(r), data)
        trainers[spec] = Trainer(lambda s=spec: actlab.create(s), data)
    for spec in custom:
        trainers[spec] = Trainer(lambda s=spec: actlab.create(s), data)
    for t in trainers.values():
        t.steps(5)  # warm-up
    times: dict[str, list[float]] = {k: [] for k in trainers}
    for _ in range(args.rounds):
        for name, t in trainers.items():
            times[name].append(t.steps(args.steps))
    med = {k: statistics.median(v) for k, v in times.items()}
    gelu = med["torch gelu"]
    print(f"\ntraining step, MLP 64-256-256-256-10, digits, batch 256, Adam, {torch.get_num_threads()} threads; "
          f"torch gelu model {gelu * 1e3:.2f} ms/step (median of {args.rounds} rounds of {args.steps} steps)")
    print(f"{'activation':26s} {'ms/step':>8s} {'/torch.nn':>9s} {'/gelu':>6s}")
    for spec in builtin:
        print(f"{spec:26s} {med[spec] * 1e3:8.2f} {med[spec] / med[f'torch {spec}']:9.2f} {med[spec] / gelu:6.2f}")
    for spec in custom:
        print(f"{spec:26s} {med[spec] * 1e3:8.2f} {'':>9s} {med[spec] / gelu:6.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-log2", type=int, default=22)
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's own choice)")
    ap.add_argument("--device", default="cpu", help="the catalog table's device (the training step runs on the CPU)")
    ap.add_argument("--only", default="", help="comma-separated specs (default: every elementwise entry)")
    ap.add_argument("--no-compile", action="store_true", help="never compile (the fused column is skipped)")
    ap.add_argument("--no-step", action="store_true", help="skip the training-step table")
    ap.add_argument("--step-only", action="store_true", help="only the training-step table")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if not args.step_only:
        catalog_table(args)
    if not args.no_step:
        step_table(args)


if __name__ == "__main__":
    main()
