"""What `compare`'s ensembles buy: 20 trials (10 seeds × 2 learning rates) of one activation trained as one
vmapped ensemble against the same trials one after another with torch.optim (the reference loop), and the
whole `actlab.compare` against the ensemble trainer alone (the hand-written torch.func loop under it).

Models: an MLP 40-100-100-10 on MNIST-1D-sized data (4 000 × 40) and a small CNN (two 3×3 convolutions, 8
channels, BatchNorm) on 1 000 images 1×16×16. Adam, batch 64, 2 epochs, one torch thread by default.
Every figure is a ratio measured in the same run (target: vmap ≥ 3× sequential; compare ≤ 1.2× the trainer).

    python benchmarks/bench_compare.py [--threads 1] [--epochs 2] [--device cpu]
"""

from __future__ import annotations

import argparse
import copy
import time

import torch
from torch import nn

import actlab
from actlab.engine import ensemble
from actlab.studies.compare import data as data_mod


def mlp(act: nn.Module) -> nn.Module:
    return nn.Sequential(nn.Linear(40, 100), act, nn.Linear(100, 100), copy.deepcopy(act), nn.Linear(100, 10))


def cnn(act: nn.Module) -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), act, nn.MaxPool2d(2),
                         nn.Conv2d(8, 8, 3, padding=1), copy.deepcopy(act), nn.Flatten(), nn.Linear(8 * 8 * 8, 10))


def data(shape: tuple[int, ...], n: int, device: str) -> ensemble.Splits:
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, *shape, generator=g).to(device)
    y = torch.randint(0, 10, (n,), generator=g).to(device)
    a, b = int(0.6 * n), int(0.8 * n)
    return ensemble.Splits((X[:a], y[:a]), (X[a:b], y[a:b]), (X[b:], y[b:]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    seeds, lrs = list(range(10)), [1e-3, 3e-3]
    print(f"20 trials (10 seeds × 2 lr), Adam, batch 64, {args.epochs} epochs, {args.threads} thread(s), "
          f"{args.device}")
    for name, model, shape, n in (("MLP", mlp, (40,), 4000), ("CNN", cnn, (1, 16, 16), 1000)):
        splits = data(shape, n, args.device)
        for spec in ("relu", "snake"):
            def build(seed: int, spec: str = spec, model=model) -> nn.Module:
                torch.manual_seed(seed)
                return model(actlab.create(spec)).to(args.device)

            times = {}
            for vectorize in (True, False):
                start = time.perf_counter()
                run = ensemble.train(build, splits, ensemble.classification(), seeds, lrs, optimizer="adam",
                                     epochs=args.epochs, batch_size=64, vectorize=vectorize)
                times[run.mode] = time.perf_counter() - start
            print(f"{name:4} {spec:6} vmap {times['vmap']:7.2f} s   sequential {times['sequential']:7.2f} s   "
                  f"speed-up {times['sequential'] / times['vmap']:5.2f}×")
        full = (torch.cat([splits.train[0], splits.val[0], splits.test[0]]),
                torch.cat([splits.train[1], splits.val[1], splits.test[1]]))
        # the same trials as compare's: its per-seed stratified splits, made here before the clock starts
        d = data_mod.read(full)
        per_seed = {s: data_mod.splits(d, s, 0.2, 0.2, args.device) for s in seeds}
        start = time.perf_counter()
        ensemble.train(lambda s: (torch.manual_seed(s), model(actlab.create("relu")))[1], per_seed,
                       ensemble.classification(), seeds, lrs, optimizer="adam", epochs=args.epochs, batch_size=64)
        trainer = time.perf_counter() - start
        start = time.perf_counter()
        actlab.compare(model, full, ["relu"], seeds=seeds, lr=lrs, epochs=args.epochs, batch_size=64)
        whole = time.perf_counter() - start
        print(f"{name:4} relu   whole compare {whole:7.2f} s   its trainer on the same splits {trainer:7.2f} s   "
              f"ratio {whole / trainer:5.2f}×")


if __name__ == "__main__":
    main()
