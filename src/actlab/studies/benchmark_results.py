"""The benchmark's stored trials arranged for its statistics: each cell's learning rate chosen on
validation, the paired comparisons with the baseline, and the blocks of the rank tests. Read by the
report's real-data section and by the claims ledger.

Selection never reads the test split: the learning rate of a cell is the one with the highest mean
validation accuracy over its seeds (each trial's epoch was already chosen on validation by the trainer);
the test accuracies of those trials are what the tests and ranks compare.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from actlab.analysis import stats

STUDY = "benchmark"
ALPHA = 0.05
"""Family-wise error rate of the paired tests (Holm) and the level of the Friedman / Nemenyi tests."""

Setting = tuple[int, int, str, str]
"""(depth, width, init, optimizer): everything of a cell but the dataset and the activation."""


@dataclass
class Comparison:
    """One activation against the baseline on one dataset and setting, paired by seed."""

    dataset: str
    setting: Setting
    activation: str
    mean: float
    median: float
    ci: tuple[float, float]
    diff: float
    p: float
    p_holm: float
    effect: float
    n: int


@dataclass
class Frame:
    """The benchmark's trials arranged for the statistics."""

    trials: list[dict[str, Any]]
    baseline: str
    activations: list[str]
    datasets: list[str]
    settings: list[Setting]
    chosen: dict[tuple[str, str, Setting], float]
    """(dataset, activation, setting) → the learning rate chosen on validation."""
    selected: dict[tuple[str, str, Setting], dict[int, dict[str, Any]]]
    """(dataset, activation, setting) → seed → the trial at the chosen learning rate."""


def setting_of(t: dict[str, Any]) -> Setting:
    c = t["config"]
    return (c["depth"], c["width"], c["init"], c["optimizer"])


def frame(trials: list[dict[str, Any]]) -> Frame:
    by_cell: dict[tuple[str, str, Setting], dict[float, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for t in trials:
        by_cell[(t["config"]["dataset"], t["activation"], setting_of(t))][t["config"]["lr"]].append(t)
    chosen, selected = {}, {}
    for key, by_lr in by_cell.items():
        lr = max(sorted(by_lr), key=lambda v: np.mean([t["metrics"]["val_accuracy"] for t in by_lr[v]]))
        chosen[key] = lr
        selected[key] = {t["seed"]: t for t in by_lr[lr]}
    counts: dict[str, int] = defaultdict(int)
    for t in trials:
        counts[t["config"]["baseline"]] += 1
    baseline = max(counts, key=counts.__getitem__)
    acts = list(dict.fromkeys(t["activation"] for t in trials))
    acts = [baseline] + [a for a in acts if a != baseline] if baseline in acts else acts
    settings = sorted({setting_of(t) for t in trials})
    return Frame(trials, baseline, acts, list(dict.fromkeys(t["config"]["dataset"] for t in trials)), settings,
                 chosen, selected)


def test_acc(f: Frame, dataset: str, act: str, setting: Setting) -> dict[int, float]:
    """Seed → test accuracy at the cell's chosen learning rate."""
    return {s: t["metrics"]["test_accuracy"] for s, t in f.selected.get((dataset, act, setting), {}).items()}


def comparisons(f: Frame) -> list[Comparison]:
    """Every activation against the baseline per dataset and setting (Wilcoxon signed-rank over the shared
    seeds, Holm-adjusted within each dataset × setting)."""
    out = []
    for d in f.datasets:
        for s in f.settings:
            base = test_acc(f, d, f.baseline, s)
            group = []
            for a in f.activations:
                acc = test_acc(f, d, a, s)
                if not acc:
                    continue
                values = np.array(list(acc.values()))
                lo, hi = stats.bootstrap_ci(values, n_resamples=2000) if len(values) > 1 else (values[0], values[0])
                seeds = sorted(set(acc) & set(base))
                if a == f.baseline or len(seeds) < 2:
                    group.append(Comparison(d, s, a, values.mean(), float(np.median(values)), (lo, hi), 0.0,
                                            float("nan"), float("nan"), 0.0, len(seeds)))
                    continue
                test = stats.paired_test([acc[k] for k in seeds], [base[k] for k in seeds])
                group.append(Comparison(d, s, a, values.mean(), float(np.median(values)), (lo, hi), test.mean_diff,
                                        test.p_value, float("nan"), test.effect_size, test.n))
            tested = [c for c in group if not np.isnan(c.p)]
            for c, p in zip(tested, stats.holm([c.p for c in tested]) if tested else []):
                c.p_holm = float(p)
            out += group
    return out


def blocks(f: Frame) -> tuple[list[str], np.ndarray, list[tuple[str, Setting, int]]]:
    """Scores (blocks × activations) for the rank tests: a block is one dataset × setting × seed that every
    activation completed."""
    rows, keys = [], []
    for d in f.datasets:
        for s in f.settings:
            accs = [test_acc(f, d, a, s) for a in f.activations]
            for seed in sorted(set.intersection(*(set(a) for a in accs))):
                rows.append([a[seed] for a in accs])
                keys.append((d, s, seed))
    return f.activations, np.array(rows, dtype=float).reshape(len(rows), len(f.activations)), keys
