"""The benchmark study's batched trainer against the naive way, on cells like its quick preset's.

Naive: one nn.Sequential(nn.Linear, activation, …, nn.Linear) and one torch.optim optimizer per
trial, trained one trial after another in a Python loop, with the same minibatch order, the same
validation after every epoch (keeping a copy of the best weights) and one test evaluation.
Batched: `actlab.engine.classifier.train_classifiers`, every trial of the cell in one tensor
program. Same data (one split per seed), epochs, batch size and optimizer. Prints trials/s of both
and their ratio per cell (goal: ≥ 10× on a CPU), also with the dead / saturated diagnosis included.

A cell: dataset × depth × activation, width 64 (`--width`), 10 seeds × 2 learning rates (20 trials), Adam,
one thread. `--naive-trials` trains only the first few trials the naive way (a rate is a rate). Both
ways are warmed up untimed first; the batched time is the better of two runs.

    python benchmarks/bench_benchmark.py [--epochs 2] [--batch-size 128] [--naive-trials 20]
                                         [--datasets mnist1d digits] [--depths 2 6] [--activations relu tanh snake]
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import actlab
from actlab.engine.classifier import minibatch_order, train_classifiers
from actlab.data.realdata import split

LRS = (1e-3, 1e-2)


def cell_data(dataset: str, seeds: list[int], device: str) -> dict[str, torch.Tensor]:
    splits = {s: split(dataset, s) for s in set(seeds)}
    out = {}
    for key in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
        arr = np.stack([getattr(splits[s], key) for s in seeds])
        out[key] = torch.tensor(arr, device=device)
    return out


def naive(act: str, sizes: list[int], data: dict[str, torch.Tensor], seeds: list[int], lrs: list[float],
          epochs: int, batch_size: int) -> float:
    """Seconds to train the trials one at a time the usual way."""
    start = time.perf_counter()
    for t, (seed, lr) in enumerate(zip(seeds, lrs)):
        torch.manual_seed(seed)
        layers: list[nn.Module] = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers += [nn.Linear(fan_in, fan_out)] + ([actlab.create(act)] if i < len(sizes) - 2 else [])
        model = nn.Sequential(*layers).to(data["X_train"].device)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        X, y, Xv, yv = data["X_train"][t], data["y_train"][t], data["X_val"][t], data["y_val"][t]
        best, best_state = -1.0, model.state_dict()
        for epoch in range(epochs + 1):
            if epoch:
                for idx in minibatch_order(seed, epoch, len(y)).split(batch_size):
                    loss = F.cross_entropy(model(X[idx]), y[idx])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
            with torch.no_grad():
                acc = float((model(Xv).argmax(1) == yv).float().mean())
            if acc > best:
                best, best_state = acc, copy.deepcopy(model.state_dict())
        model.load_state_dict(best_state)
        with torch.no_grad():
            F.cross_entropy(model(data["X_test"][t]), data["y_test"][t])
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--naive-trials", type=int, default=20)
    ap.add_argument("--datasets", nargs="+", default=["mnist1d", "digits"])
    ap.add_argument("--depths", nargs="+", type=int, default=[2, 6])
    ap.add_argument("--activations", nargs="+", default=["relu", "tanh", "snake"])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    seeds = [s for s in range(10) for _ in LRS]
    lrs = [lr for _ in range(10) for lr in LRS]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {args.device}; width {args.width}, Adam, "
          f"{len(seeds)} trials per cell (10 seeds x {len(LRS)} lrs), {args.epochs} epochs, batch {args.batch_size}")
    print(f"{'cell':28s} {'naive trials/s':>14s} {'batched trials/s':>16s} {'ratio':>7s} {'w/ diagnose':>10s}")
    ratios = []
    for dataset in args.datasets:
        data = cell_data(dataset, seeds, args.device)
        d, classes = data["X_train"].shape[2], int(data["y_train"].max()) + 1
        for depth in args.depths:
            sizes = [d, *[args.width] * depth, classes]
            for act in args.activations:
                k = args.naive_trials
                few = {key: v[:k] for key, v in data.items()}
                naive(act, sizes, few, seeds[:1], lrs[:1], 1, args.batch_size)  # warm-up, untimed
                t_naive = naive(act, sizes, few, seeds[:k], lrs[:k], args.epochs, args.batch_size)
                kw = dict(seeds=seeds, lrs=lrs, optimizer="adam", init="torch", epochs=args.epochs,
                          batch_size=args.batch_size)
                train_classifiers(act, sizes, *data.values(), **{**kw, "epochs": 1}, diagnose=False)  # warm-up
                t_batched = min(train_classifiers(act, sizes, *data.values(), **kw, diagnose=False).seconds
                                for _ in range(2))
                diag = train_classifiers(act, sizes, *data.values(), **kw, diagnose=True)
                naive_rate, batched_rate = k / t_naive, len(seeds) / t_batched
                ratios.append(batched_rate / naive_rate)
                print(f"{dataset + ' depth ' + str(depth) + ' ' + act:28s} {naive_rate:14.2f} {batched_rate:16.2f} "
                      f"{ratios[-1]:6.1f}x {len(seeds) / diag.seconds / naive_rate:9.1f}x")
    print(f"ratio: geometric mean {float(np.exp(np.mean(np.log(ratios)))):.1f}x, min {min(ratios):.1f}x, "
          f"max {max(ratios):.1f}x")


if __name__ == "__main__":
    main()
