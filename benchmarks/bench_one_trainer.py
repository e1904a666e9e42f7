"""One trainer or two? The benchmark's hand-batched MLP trainer (`engine.classifier`) against the generic vmapped
ensemble trainer (`engine.ensemble`, what `compare` uses) on the benchmark's own cells, in one run.

A cell: MNIST-1D (3 200 training rows of 40 features, the benchmark's split per seed), an MLP 40-64-64-10 (the
benchmark's depth 2, width 64), Adam, minibatch 128, 10 seeds × 3 learning rates = 30 trials, --epochs epochs.
Both trainers get the same per-seed splits; the classifier's end-of-run diagnosis is off (the ensemble has none).
Printed: seconds of each and their ratio, per activation (torch-kernel relu, custom snake).

    python benchmarks/bench_one_trainer.py [--epochs 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np
import torch
from torch import nn

import actlab
from actlab.data.realdata import split
from actlab.engine import ensemble
from actlab.engine.classifier import train_classifiers


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    seeds, lrs = list(range(10)), [1e-3, 3e-3, 1e-2]
    parts = {s: split("mnist1d", s) for s in seeds}
    trials = [(s, lr) for s in seeds for lr in lrs]

    def stack(name: str) -> torch.Tensor:
        return torch.as_tensor(np.stack([getattr(parts[s], name) for s, _ in trials]))

    splits = {s: ensemble.Splits(*((torch.as_tensor(getattr(p, f"X_{k}")), torch.as_tensor(getattr(p, f"y_{k}")))
                                   for k in ("train", "val", "test"))) for s, p in parts.items()}
    print(f"MNIST-1D, MLP 40-64-64-10, Adam, batch 128, {len(trials)} trials, {args.epochs} epochs, "
          f"{args.threads} thread(s)")
    for spec in ("relu", "snake"):
        start = time.perf_counter()
        out = train_classifiers(spec, [40, 64, 64, 10], stack("X_train"), stack("y_train"), stack("X_val"),
                                stack("y_val"), stack("X_test"), stack("y_test"), seeds=[s for s, _ in trials],
                                lrs=[lr for _, lr in trials], optimizer="adam", init="torch", epochs=args.epochs,
                                batch_size=128, diagnose=False)
        hand = time.perf_counter() - start

        def build(seed: int, spec: str = spec) -> nn.Module:
            torch.manual_seed(seed)
            act = actlab.create(spec)
            return nn.Sequential(nn.Linear(40, 64), act, nn.Linear(64, 64), copy.deepcopy(act), nn.Linear(64, 10))

        start = time.perf_counter()
        run = ensemble.train(build, splits, ensemble.classification(), seeds, lrs, optimizer="adam",
                             epochs=args.epochs, batch_size=128)
        generic = time.perf_counter() - start
        acc_hand = float(out.test_accuracy.mean())
        acc_generic = float(np.mean([m.test_metric for m in run.members]))
        print(f"{spec:6} classifier {hand:6.2f} s   ensemble ({run.mode}) {generic:6.2f} s   "
              f"ensemble / classifier {generic / hand:5.2f}×   mean test accuracy {acc_hand:.3f} vs {acc_generic:.3f}")


if __name__ == "__main__":
    main()
