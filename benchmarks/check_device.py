"""Every registered activation on another device (cuda) against the CPU float64 reference.

For each entry: forward, backward (input and parameters) and derivative() on DEVICE in
float32, float16 and bfloat16 are compared with float64 on the CPU, and the fused path
(`act.fuse()`) with the eager one. Prints one line per entry and a summary; exit status 1 on
any mismatch.

    python benchmarks/check_device.py --device cuda [--no-fused]
"""

from __future__ import annotations

import argparse
import copy
import sys

import torch

import actlab

TOL = {torch.float32: 1e-4, torch.float16: 2e-2, torch.bfloat16: 8e-2}


def example(act: actlab.AbstractActivation) -> torch.Tensor:
    if hasattr(act, "fc1"):
        c = act.fc1.in_features
    else:
        c = max([getattr(act, n).numel() for n in act.param_names] + [2])
    g = torch.Generator().manual_seed(0)
    return torch.randn(8, c, 16, generator=g, dtype=torch.float64) * 3


def run(act: actlab.AbstractActivation, x: torch.Tensor) -> list[torch.Tensor]:
    x = x.clone().requires_grad_(True)
    torch.manual_seed(1)
    y = act(x)
    w = torch.linspace(-1, 1, y.numel(), dtype=y.dtype, device=y.device).reshape(y.shape)
    grads = torch.autograd.grad((y * w).sum(), [x, *act.parameters()])
    return [y.detach(), *grads, act.derivative(x.detach())]


def close(a: list[torch.Tensor], b: list[torch.Tensor], tol: float) -> float:
    worst = 0.0
    for u, v in zip(a, b):
        u, v = u.double().cpu(), v.double().cpu()
        # relative to the tensor's scale: parameter gradients are sums over many elements
        err = ((u - v).abs().max() / (v.abs().max() + 1)).item() if u.numel() else 0.0
        worst = max(worst, err)
    return worst if worst <= tol else -worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--no-fused", action="store_true")
    args = ap.parse_args()
    failures = 0
    for spec in actlab.names():
        torch.manual_seed(0)
        act = actlab.create(spec).eval()
        x = example(act)
        cells = []
        for dtype, tol in TOL.items():
            xd = x.to(dtype)  # the reference sees the same rounded inputs (kinks stay on the same side)
            ref = run(copy.deepcopy(act).double(), xd.double())
            dev = copy.deepcopy(act).to(args.device)
            err = close(run(dev, xd.to(args.device)), ref, tol)
            cells.append(f"{str(dtype)[6:]} {abs(err):.1e}{'' if err >= 0 else ' FAIL'}")
            failures += err < 0
        if not args.no_fused and act.properties.elementwise:
            dev = copy.deepcopy(act).to(args.device).train()
            eager = run(dev, x.to(args.device, torch.float32))
            fused = run(copy.deepcopy(dev).fuse(), x.to(args.device, torch.float32))
            err = close(fused, eager, 1e-5)
            cells.append(f"fused {abs(err):.1e}{'' if err >= 0 else ' FAIL'}")
            failures += err < 0
        print(f"{spec:24s} " + " | ".join(cells), flush=True)
    print(f"{failures} mismatches on {args.device} ({torch.cuda.get_device_name() if args.device == 'cuda' else ''})")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
