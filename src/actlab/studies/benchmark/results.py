"""The benchmark's stored trials arranged once for everything that reads them (the section, the terminal
summary, the claims): each cell's learning rate chosen on validation (`RULE`, through
`actlab.studies.selection`), the paired comparisons with the baseline, and the rank tests' blocks.

Selection never reads the test split: each trial's epoch was already chosen on validation by the trainer
(`best_epoch`, `val_accuracy`); a cell's learning rate is the one with the highest mean validation accuracy
over its seeds; the test accuracies of those trials are what the tests and ranks compare.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from actlab.analysis import stats
from actlab.studies.protocol import Stored
from actlab.studies.selection import Choice, Rule, select

STUDY = "benchmark"
ALPHA = 0.05
"""Family-wise error rate of the paired tests (Holm) and the level of the Friedman / Nemenyi tests."""

RULE = Rule("val_accuracy", tuned=("lr",), pooled=("seed",), ignore=("baseline", "target"),
            words="each cell (every config value but the learning rate and the seed: dataset, activation, depth, "
                  "width, init, optimizer, epochs, ...) keeps the learning rate with the highest mean validation "
                  "accuracy over its seeds, each trial at the epoch of its best validation accuracy; ties go to "
                  "the smaller learning rate; the test split is read once per trial and never in a choice")
"""The learning-rate choice (the baseline and the target are bookkeeping: they do not split cells)."""

NAMED = ("dataset", "activation", "depth", "width", "init", "optimizer")
"""Cell keys named in every setting; any other cell key that varies in a store joins the setting as 'key=value'."""

Setting = tuple[Any, ...]
"""(depth, width, init, optimizer, *'key=value' of the other cell values that vary in the store): everything of a
cell but the dataset and the activation."""
Key = tuple[str, str, Setting]
"""(dataset, activation, setting): one selection cell."""


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
    lr: float = float("nan")
    """The learning rate chosen on validation for this activation's cell."""
    baseline_lr: float = float("nan")
    """The learning rate chosen for the baseline's cell."""


@dataclass
class Frame:
    """The benchmark's trials arranged for the statistics."""

    trials: list[dict[str, Any]]
    baseline: str
    activations: list[str]
    datasets: list[str]
    settings: list[Setting]
    chosen: dict[Key, float]
    """(dataset, activation, setting) → the learning rate chosen on validation."""
    selected: dict[Key, dict[int, dict[str, Any]]]
    """(dataset, activation, setting) → seed → the trial at the chosen learning rate."""
    choices: dict[Key, Choice] = field(default_factory=dict)
    """(dataset, activation, setting) → the selection (every learning rate's validation score)."""


@dataclass
class Ranks:
    """Friedman over every complete block (dataset × setting × seed), average ranks with bootstrap CIs,
    Nemenyi's critical difference and the groups it cannot separate."""

    names: list[str]
    friedman: stats.FriedmanResult
    low: np.ndarray
    high: np.ndarray
    cd: float
    cliques: list[list[str]]

    @property
    def order(self) -> list[int]:
        return [int(i) for i in np.argsort(self.friedman.average_ranks, kind="stable")]


@dataclass
class Results:
    """What the section, the terminal summary and the claims read."""

    frame: Frame
    comparisons: list[Comparison]
    ranks: Ranks | None
    """None with fewer than two activations or two complete blocks."""
    rule: Rule = RULE


def results(stored: Stored) -> Results | None:
    """The one arrangement of the study's trials (None: the store holds none)."""
    trials = [t for t in stored.trials if t.get("status", "ok") == "ok"]
    if not trials:
        return None
    f = frame(trials)
    comps = comparisons(f)
    names, scores, _ = blocks(f)
    return Results(f, comps, ranks(names, scores))


def setting_of(cell: dict[str, Any], extra: list[str]) -> Setting:
    return (cell.get("depth"), cell.get("width"), cell.get("init"), cell.get("optimizer"),
            *(f"{k}={cell.get(k)}" for k in extra))


def frame(trials: list[dict[str, Any]]) -> Frame:
    choices = select(trials, RULE)
    seen: dict[str, set[str]] = defaultdict(set)
    for ch in choices:
        for k in ch.cell:
            seen[k].add(repr(ch.cell[k]))
    extra = sorted(k for k in seen if k not in NAMED and (len(seen[k]) > 1 or any(k not in ch.cell for ch in choices)))
    chosen, selected, by_key = {}, {}, {}
    for ch in choices:
        key = (ch.cell["dataset"], ch.cell["activation"], setting_of(ch.cell, extra))
        chosen[key] = ch.setting["lr"]
        selected[key] = {t["seed"]: t for t in ch.trials}
        by_key[key] = ch
    counts: dict[str, int] = defaultdict(int)
    for t in trials:
        counts[t["config"]["baseline"]] += 1
    baseline = max(counts, key=counts.__getitem__)
    acts = list(dict.fromkeys(t["activation"] for t in trials))
    acts = [baseline] + [a for a in acts if a != baseline] if baseline in acts else acts
    settings = sorted({k[2] for k in by_key}, key=lambda s: tuple((v is None, 0 if v is None else v) for v in s))
    return Frame(trials, baseline, acts, list(dict.fromkeys(t["config"]["dataset"] for t in trials)), settings,
                 chosen, selected, by_key)


def accuracies(f: Frame, dataset: str, act: str, setting: Setting) -> dict[int, float]:
    """Seed → test accuracy at the cell's chosen learning rate."""
    return {s: t["metrics"]["test_accuracy"] for s, t in f.selected.get((dataset, act, setting), {}).items()}


def comparisons(f: Frame) -> list[Comparison]:
    """Every activation against the baseline per dataset and setting (Wilcoxon signed-rank over the shared
    seeds, Holm-adjusted within each dataset × setting)."""
    out = []
    nan = float("nan")
    for d in f.datasets:
        for s in f.settings:
            base = accuracies(f, d, f.baseline, s)
            base_lr = f.chosen.get((d, f.baseline, s), nan)
            group = []
            for a in f.activations:
                acc = accuracies(f, d, a, s)
                if not acc:
                    continue
                lr = f.chosen[(d, a, s)]
                values = np.array(list(acc.values()))
                lo, hi = stats.bootstrap_ci(values, n_resamples=2000) if len(values) > 1 else (values[0], values[0])
                seeds = sorted(set(acc) & set(base))
                if a == f.baseline or len(seeds) < 2:
                    group.append(Comparison(d, s, a, values.mean(), float(np.median(values)), (lo, hi), 0.0,
                                            nan, nan, 0.0, len(seeds), lr, base_lr))
                    continue
                test = stats.paired_test([acc[k] for k in seeds], [base[k] for k in seeds])
                group.append(Comparison(d, s, a, values.mean(), float(np.median(values)), (lo, hi), test.mean_diff,
                                        test.p_value, nan, test.effect_size, test.n, lr, base_lr))
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
            accs = [accuracies(f, d, a, s) for a in f.activations]
            for seed in sorted(set.intersection(*(set(a) for a in accs))):
                rows.append([a[seed] for a in accs])
                keys.append((d, s, seed))
    return f.activations, np.array(rows, dtype=float).reshape(len(rows), len(f.activations)), keys


def ranks(names: list[str], scores: np.ndarray) -> Ranks | None:
    """Friedman over all complete blocks, average ranks with bootstrap CIs, Nemenyi's CD and its groups."""
    if len(names) < 2 or len(scores) < 2:
        return None
    fr = stats.friedman(scores)
    lo, hi = stats.rank_ci(scores)
    cd = stats.nemenyi_cd(len(names), len(scores), ALPHA)
    return Ranks(list(names), fr, lo, hi, cd, stats.cliques(names, fr.average_ranks, cd))


def verdicts(r: Results) -> dict[str, tuple[int, int, int]]:
    """Activation → (cells significantly better than the baseline, cells worse, cells tested): Holm-adjusted
    p < ALPHA, over the dataset × setting cells where it was tested against the baseline."""
    out: dict[str, tuple[int, int, int]] = {}
    for a in r.frame.activations:
        cs = [c for c in r.comparisons if c.activation == a and a != r.frame.baseline and not np.isnan(c.p_holm)]
        if cs:
            up = sum(c.p_holm < ALPHA and c.diff > 0 for c in cs)
            out[a] = (up, sum(c.p_holm < ALPHA and c.diff < 0 for c in cs), len(cs))
    return out


def setting_words(s: Setting) -> str:
    """'depth 2, width 64, init torch, adam', or for the MNIST-1D paper's models 'MNIST-1D paper's CNN, adam'."""
    model = next((str(x)[6:] for x in s[4:] if str(x).startswith("model=")), "None")
    rest = [str(x).replace("=", " ") for x in s[4:] if not str(x).startswith("model=")]
    if model in ("cnn", "gru"):
        return ", ".join([f"MNIST-1D paper's {model.upper()}, {s[3]}", *rest])
    return ", ".join([f"depth {s[0]}, width {s[1]}, init {s[2]}, {s[3]}", *rest])
