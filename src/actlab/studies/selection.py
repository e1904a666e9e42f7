"""One selection rule for every "best per cell" choice of every study.

A *cell* is keyed by every config value that is neither tuned (e.g. the learning rate, the optimizer)
nor pooled (the replicates: the seed, and the single-sample study's two targets); so two runs with
different step budgets, datasets or widths never share a cell, and the studied axis (the activation)
is part of the key: every activation gets its own tuned setting. Within a cell, each *setting* (one
value of every tuned key) is scored by the mean of the rule's objective over its trials (a boolean
counts as 0 / 1: a success rate); the highest score wins, ties go to the lower median of the
tie-break metric, then to the first setting in sorted order. The objective must be a validation (or,
for a study that only fits its training data, a training) metric: a rule that names a test metric is
refused, so no selection can read the test split.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SEED_KEYS = ("seed",)


@dataclass(frozen=True)
class Rule:
    objective: str
    """Metric read from each trial's metrics (higher is better): a validation or training metric."""
    tuned: Sequence[str]
    """Config keys chosen per cell."""
    pooled: Sequence[str] = SEED_KEYS
    """Config keys whose values are replicates of one setting (the seed, ...)."""
    tie: str | None = None
    """Metric whose median breaks ties (lower is better; a missing value counts as +inf)."""
    ignore: Sequence[str] = ()
    """Config keys that are neither tuned nor pooled but must not split cells (bookkeeping only)."""
    words: str = ""
    """The rule in one sentence, as each section prints it."""

    def __post_init__(self) -> None:
        for name in (self.objective, self.tie or ""):
            if "test" in name:
                raise ValueError(f"selection rule reads {name!r}: selection may read validation or training "
                                 "metrics only, never the test split")

    def text(self) -> str:
        tie = f"; ties: lower median {self.tie}" if self.tie else ""
        return self.words or (f"best {', '.join(self.tuned)} per cell by mean {self.objective} over "
                              f"{', '.join(self.pooled)}{tie}; a cell is every other config value")


@dataclass
class Choice:
    """One cell's selection: the chosen setting, its trials (every replicate), and every setting's score."""

    cell: dict[str, Any]
    setting: dict[str, Any]
    trials: list[dict[str, Any]]
    score: float
    scores: list[tuple[dict[str, Any], float, int]] = field(default_factory=list)
    """(setting, score, trials) for every setting of the cell, in sorted order."""

    def get(self, key: str, default: Any = None) -> Any:
        return self.cell.get(key, self.setting.get(key, default))


def _freeze(v: Any) -> str:
    return json.dumps(v, sort_keys=True, default=str)


def cell_of(config: dict[str, Any], rule: Rule) -> dict[str, Any]:
    drop = {*rule.tuned, *rule.pooled, *rule.ignore}
    return {k: v for k, v in config.items() if k not in drop}


def _value(trial: dict[str, Any], key: str) -> float:
    v = trial["metrics"].get(key)
    if v is None:
        return math.nan
    return float(v)


def _sort_key(setting: dict[str, Any]) -> tuple:
    return tuple((v is None, v if isinstance(v, (int, float)) else str(v)) for v in setting.values())


def select(trials: Iterable[dict[str, Any]], rule: Rule) -> list[Choice]:
    """Every cell's chosen setting, by `rule` (trials: the store's rows, with 'config' and 'metrics')."""
    cells: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    keys: dict[str, dict[str, Any]] = {}
    settings: dict[str, dict[str, Any]] = {}
    for t in trials:
        c = t["config"]
        cell = cell_of(c, rule)
        setting = {k: c.get(k) for k in rule.tuned}
        ck, sk = _freeze(cell), _freeze(setting)
        keys[ck], settings[sk] = cell, setting
        cells[ck][sk].append(t)
    out = []
    for ck, by_setting in cells.items():
        scored = []
        for sk in sorted(by_setting, key=lambda s: _sort_key(settings[s])):
            ts = by_setting[sk]
            vals = np.array([_value(t, rule.objective) for t in ts])
            score = float(np.nanmean(vals)) if np.isfinite(vals).any() else -math.inf
            tie = math.inf
            if rule.tie:
                tv = np.array([_value(t, rule.tie) for t in ts])
                tv[~np.isfinite(tv)] = math.inf
                tie = float(np.median(tv))
            scored.append((sk, score, tie))
        best = min(scored, key=lambda s: (-s[1], s[2]))  # min keeps the first of equals: sorted order
        out.append(Choice(keys[ck], settings[best[0]], by_setting[best[0]], best[1],
                          [(settings[sk], score, len(by_setting[sk])) for sk, score, _ in scored]))
    return out


def lookup(choices: Iterable[Choice], **cell: Any) -> list[Choice]:
    """The choices whose cell has these values."""
    return [c for c in choices if all(c.cell.get(k) == v for k, v in cell.items())]
