"""Successive halving (Jamieson & Talwalkar 2016; the rungs of Hyperband, Li et al. 2018) over activation
candidates: every candidate trains for rung 0's budget, the best `keep` fraction by validation score is promoted
to the next rung's longer budget and more seeds, and so on. Decisions read validation scores only; the test split
is not touched here (the search's final test reads it once, for the winners).

`train_candidates` scores candidates on a real-data task: each candidate's seeds train as one vmapped ensemble
(`engine.ensemble`), an MLP with the candidate in every hidden layer, and its score is the mean over seeds of
the best validation accuracy within the rung's epochs. A candidate that fails (an activation that breaks the
model, a loss that turns non-finite from the start) scores nan and is never promoted; it costs at most its budget.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from actlab.core.registry import create
from actlab.data import realdata
from actlab.engine import ensemble


@dataclass(frozen=True)
class Rung:
    epochs: int
    seeds: int
    keep: float
    """Share of this rung's candidates promoted to the next (the last rung's is ignored)."""


@dataclass
class RungResult:
    rung: Rung
    scores: dict[str, float]
    promoted: list[str] = field(default_factory=list)


def promote(scores: dict[str, float], keep: float) -> list[str]:
    """The best ⌈keep·n⌉ candidates by score (at least one; ties: the order given; nan never)."""
    ranked = sorted((s, i, c) for i, (c, s) in enumerate(scores.items()) if not math.isnan(s))
    ranked.sort(key=lambda t: (-t[0], t[1]))
    n = max(1, math.ceil(keep * len(scores)))
    return [c for _, _, c in ranked[:n]]


def successive_halving(candidates: Sequence[str], rungs: Sequence[Rung],
                       score: Callable[[list[str], Rung], dict[str, float]]) -> list[RungResult]:
    """Run the rungs: `score(candidates, rung)` gives each candidate's validation score at that rung's budget."""
    out, alive = [], list(candidates)
    for i, rung in enumerate(rungs):
        scores = score(alive, rung)
        result = RungResult(rung, scores)
        if i < len(rungs) - 1:
            result.promoted = promote(scores, rung.keep)
            alive = result.promoted
        out.append(result)
        if not alive:
            break
    return out


def train_candidates(specs: list[str], rung: Rung, *, dataset: str = "digits", width: int = 32, depth: int = 2,
                     lr: float = 0.003, batch_size: int = 64) -> dict[str, float]:
    """Each spec's mean over `rung.seeds` seeds of its best validation accuracy within `rung.epochs` epochs."""
    seeds = list(range(rung.seeds))
    parts = {s: realdata.split(dataset, s) for s in seeds}
    splits = {s: ensemble.Splits(*((torch.as_tensor(getattr(p, f"X_{k}")), torch.as_tensor(getattr(p, f"y_{k}")))
                                   for k in ("train", "val", "test"))) for s, p in parts.items()}
    first = parts[seeds[0]]
    scores = {}
    for spec in specs:
        def build(seed: int, spec: str = spec) -> nn.Module:
            act = create(spec)
            torch.manual_seed(seed)
            layers: list[nn.Module] = []
            for i in range(depth):
                layers += [nn.Linear(first.n_features if i == 0 else width, width), copy.deepcopy(act)]
            return nn.Sequential(*layers, nn.Linear(width, first.n_classes))

        try:
            run = ensemble.train(build, splits, ensemble.classification(), seeds, [lr], epochs=rung.epochs,
                                 batch_size=batch_size)
            vals = [max((v for v in m.val_curve if math.isfinite(v)), default=math.nan) for m in run.members]
            scores[spec] = float(sum(vals) / len(vals))
        except Exception:  # the candidate breaks the model: it scores nothing and is never promoted
            scores[spec] = math.nan
    return scores
