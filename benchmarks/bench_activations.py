"""Forward+backward cost and saved-for-backward memory of every elementwise activation.

For each activation, on one float32 tensor of 2**22 elements (requires_grad, learnable
parameters too): the median time of forward + backward relative to
torch.nn.functional.gelu measured in the same run, and the bytes saved for backward
relative to the input's bytes (counted with torch.autograd.graph.saved_tensors_hooks,
each storage once), for the exact path eager (`act(x)`), the exact path fused (`act.fuse()`,
torch.compile'd kernels; compilation happens in the warm-up and is not timed) and the
composite path (`act.composite(x)`, plain autograd). Stochastic units are timed in train()
(noise drawn, and regenerated in backward) and in eval().

    python benchmarks/bench_activations.py [--size-log2 22] [--repeat 15] [--only snake,acon_c] [--no-fused]
"""

from __future__ import annotations

import argparse
import copy
import math
import statistics
import time

import torch
import torch.nn.functional as F

import actlab

TARGETS = ["snake", "acon_c", "swish(learnable=True)", "noisy_hard_tanh", "noisy_hard_sigmoid"]


def fwd_bwd_time(fn, x: torch.Tensor, repeat: int) -> float:
    g = torch.ones_like(x)
    for _ in range(3):
        fn(x).backward(g)
    times = []
    for _ in range(repeat):
        x.grad = None
        if x.device.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        fn(x).backward(g)
        if x.device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def saved_ratio(fn, x: torch.Tensor) -> float:
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        seen[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        y = fn(x)
    del y
    return sum(seen.values()) / (x.numel() * x.element_size())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-log2", type=int, default=22)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--only", default="", help="comma-separated specs (default: every elementwise entry)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--no-fused", action="store_true", help="skip the fused column (no compilation)")
    args = ap.parse_args()
    torch.manual_seed(0)
    x = (torch.randn(2**args.size_log2, device=args.device) * 3).requires_grad_(True)
    base = fwd_bwd_time(F.gelu, x, args.repeat)
    every = [n for n in actlab.names() if actlab.create(n).properties.elementwise]
    specs = args.only.split(",") if args.only else every
    print(f"torch {torch.__version__}, {args.device}, {torch.get_num_threads()} threads, n = 2^{args.size_log2}; "
          f"F.gelu forward+backward = {base * 1e3:.2f} ms")
    print(f"{'activation':34s} {'eager/gelu':>10s} {'fused/gelu':>10s} {'composite/gelu':>14s} "
          f"{'saved exact':>11s} {'saved comp.':>11s}")
    for spec in specs:
        for mode in ("train", "eval") if actlab.create(spec).properties.stochastic else ("train",):
            act = actlab.create(spec).to(args.device).train(mode == "train")
            t_exact = fwd_bwd_time(act, x, args.repeat)
            t_fused = math.nan if args.no_fused else fwd_bwd_time(copy.deepcopy(act).fuse(), x, args.repeat)
            t_comp = fwd_bwd_time(act.composite, x, args.repeat)
            s_exact, s_comp = saved_ratio(act, x), saved_ratio(act.composite, x)
            mark = "  <- target 1.5x" if spec in TARGETS else ""
            label = f"{spec} [{mode}]" if act.properties.stochastic else spec
            print(f"{label:34s} {t_exact / base:10.2f} {t_fused / base:10.2f} {t_comp / base:14.2f} "
                  f"{s_exact:11.2f} {s_comp:11.2f}{mark}", flush=True)


if __name__ == "__main__":
    main()
