"""The pieces of successive halving (Jamieson & Talwalkar 2016; the rungs of Hyperband, Li et al. 2018) that the
search's `study.pipeline` runs stage by stage from the store: promotion by validation score, and a candidate's
score on a real-data task. Decisions read validation scores only; the test split is not touched here (the
search's final test reads it once, for the winners).

`score` trains one candidate on one task: its seeds as one vmapped ensemble (`engine.ensemble`), an MLP with the
candidate in every hidden layer; the score is the mean over seeds of the best validation accuracy within the
epochs. A candidate that fails (an activation that breaks the model, a loss that turns non-finite from the start)
scores nan and is never promoted; it costs at most its budget.
"""

from __future__ import annotations

import copy
import functools
import math

import torch
from torch import nn

from actlab.core.registry import create
from actlab.data import realdata
from actlab.engine import ensemble


def best(scores: dict[str, float], n: int) -> list[str]:
    """The `n` best candidates by score (ties: the order given; nan never)."""
    ranked = sorted(((s, i, c) for i, (c, s) in enumerate(scores.items()) if not math.isnan(s)),
                    key=lambda t: (-t[0], t[1]))
    return [c for _, _, c in ranked[:n]]


def promote(scores: dict[str, float], keep: float) -> list[str]:
    """The best ⌈keep·n⌉ candidates by score (at least one; ties: the order given; nan never)."""
    return best(scores, max(1, math.ceil(keep * len(scores))))


@functools.lru_cache(maxsize=64)
def splits(dataset: str, seed: int, device: str = "cpu", holdout: int = 0) -> ensemble.Splits:
    """`dataset`'s split for `seed` as tensors, its test cut by `holdout` (the search's `study.HOLDOUT`: one test set
    for every seed), cached per process: a rung trains many candidates on the same."""
    p = realdata.split(dataset, seed, test_seed=holdout)
    return ensemble.Splits(*((torch.as_tensor(getattr(p, f"X_{k}"), device=device),
                              torch.as_tensor(getattr(p, f"y_{k}"), device=device)) for k in ("train", "val", "test")))


def unseen(s: ensemble.Splits) -> ensemble.Splits:
    """`s` with its test part left out (no rows): a rung decides on validation and never reads the test split."""
    return ensemble.Splits(s.train, s.val, (s.val[0][:0], s.val[1][:0]))


def mlp(spec: str, inputs: int, classes: int, width: int, depth: int, seed: int) -> nn.Module:
    """inputs → (width, the candidate) × depth → classes; the candidate built before the seed is set, so every
    candidate draws the same weights for a seed."""
    act = create(spec)
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Linear(inputs if i == 0 else width, width), copy.deepcopy(act)]
    return nn.Sequential(*layers, nn.Linear(width, classes))


def score(spec: str, dataset: str, epochs: int, seeds: int, *, width: int = 32, depth: int = 2, lr: float = 0.003,
          batch_size: int = 64, device: str = "cpu", holdout: int = 0) -> tuple[float, list[float], str]:
    """One candidate on one task: (the mean over seeds 0..seeds−1 of the best validation accuracy within `epochs`,
    each seed's, why it failed ('' if it did not)). A failure scores nan."""
    parts = {s: unseen(splits(dataset, s, device, holdout)) for s in range(seeds)}
    first = parts[0]
    inputs, classes = first.train[0].shape[1], int(torch.cat([first.train[1], first.val[1]]).max()) + 1
    try:
        run = ensemble.train(lambda seed: mlp(spec, inputs, classes, width, depth, seed).to(device), parts,
                             ensemble.classification(), list(range(seeds)), [lr], epochs=epochs, batch_size=batch_size,
                             diagnose=False)
    except Exception as e:  # the candidate breaks the model: it scores nothing and is never promoted
        return math.nan, [math.nan] * seeds, f"{type(e).__name__}: {' '.join(str(e).split())[:200]}"
    vals = [max((v for v in m.val_curve if math.isfinite(v)), default=math.nan) for m in run.members]
    failed = next((m.failed for m in run.members if m.failed), "")
    return float(sum(vals) / len(vals)), vals, failed
