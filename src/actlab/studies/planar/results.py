"""The planar study's trials, arranged once: every cell's chosen optimizer and learning rate (by
validation accuracy, `RULE`), grouped into setups, with the chosen trials' loss curves. The section,
the terminal summary and the claims (article 004) read this object and nothing else.

A *setup* is one panel of the report: every config value of a cell except the activation, the width
and the hidden bias (a dataset with its step budget, init, size, noise, depth); within a setup, a row
is an activation (with or without hidden biases) and a column a width. Two step budgets are two
setups, never one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from actlab.studies.planar.study import validate
from actlab.studies.protocol import Stored
from actlab.studies.selection import Choice, Rule, select

GOOD = 0.95
"""Median test accuracy that counts as "learns" (the section's and the claims' threshold)."""
RULE = Rule(objective="val_accuracy", tuned=("optimizer", "lr"), pooled=("seed",), tie="val_loss",
            words="each cell's optimizer and learning rate: the highest mean validation accuracy over its seeds "
                  "(ties: the lower median validation loss); a cell is every other config value (dataset, "
                  "activation, width, depth, steps, init, hidden bias, size, noise), so runs of different "
                  "step budgets are never pooled; test accuracy is never read to choose")
SETUP_DROP = ("activation", "width", "hidden_bias")
"""Cell keys that vary inside one setup (its rows and columns)."""
Row = tuple[str, bool]
"""(activation spec, hidden bias)."""


@dataclass
class Setup:
    """One dataset with one training setup: the activation × width grid of its cells' choices."""

    key: dict[str, Any]
    label: str
    cells: dict[tuple[Row, int], Choice]

    @property
    def dataset(self) -> str:
        return str(self.key["dataset"])

    @property
    def rows(self) -> list[Row]:
        return list(dict.fromkeys(r for r, _ in self.cells))

    @property
    def widths(self) -> list[int]:
        return sorted({w for _, w in self.cells})

    def smallest_width(self, row: Row) -> int | None:
        """The smallest width whose chosen setting reaches `GOOD` median test accuracy (None: none does)."""
        ok = [w for (r, w), c in self.cells.items() if r == row and median_test(c) >= GOOD]
        return min(ok, default=None)


@dataclass
class PlanarResults:
    rule: Rule
    choices: list[Choice]
    """Every cell's choice (`selection.select` over all of the study's trials)."""
    setups: list[Setup]
    curves: dict[str, list[tuple[int, float]]]
    """Training-loss curves of the chosen trials, by trial id."""
    trials: int
    seeds: int
    recomputed: int = 0
    """Trials stored without a validation accuracy (old stores) whose one was computed from their weights."""
    activations: list[str] = field(default_factory=list)

    def find(self, dataset: str, activation: str, width: int, *, article: bool, hidden_bias: bool = True,
             layers: int = 1) -> Choice | None:
        """The cell a claim reads: one hidden layer of `width` of `activation` on `dataset`, in the article's
        setup (Glorot init) or the study's (PyTorch init); of several such cells (step budgets, sizes),
        the one with the most steps, then the most trials, then the first."""
        found = [c for c in self.choices
                 if c.cell["dataset"] == dataset and c.cell["activation"] == activation and c.cell["width"] == width
                 and c.cell["layers"] == layers and c.cell.get("hidden_bias", True) == hidden_bias
                 and str(c.cell["init"]).startswith("Keras") == article]
        return max(found, key=lambda c: (c.cell["steps"], len(c.trials)), default=None)

    def curves_of(self, choice: Choice) -> list[list[tuple[int, float]]]:
        return [self.curves.get(t["trial_id"], []) for t in choice.trials]


def median_test(c: Choice) -> float:
    """The chosen setting's median test accuracy over its seeds (read after the choice, never for it)."""
    return float(np.median(accuracies(c.trials)))


def accuracies(trials: list[dict[str, Any]], key: str = "test_accuracy") -> np.ndarray:
    return np.array([t["metrics"][key] for t in trials], dtype=float)


def results(stored: Stored) -> PlanarResults:
    trials = [t for t in stored.trials if t.get("status", "ok") == "ok"
              and ("val_accuracy" in t["metrics"] or t["metrics"].get("weights"))]
    old = [i for i, t in enumerate(trials) if "val_accuracy" not in t["metrics"]]
    if old:  # a store written before the validation split: computed by the function run_batch uses
        found = validate([trials[i]["config"] for i in old], [trials[i]["metrics"]["weights"] for i in old])
        for i, v in zip(old, found):
            trials[i] = {**trials[i], "metrics": {**trials[i]["metrics"], **v}}
    choices = select(trials, RULE)
    chosen = [t["trial_id"] for c in choices for t in c.trials if "trial_id" in t]
    return PlanarResults(RULE, choices, setups(choices), stored.curves(chosen) if chosen else {}, len(trials),
                         len({t["config"]["seed"] for t in trials}), len(old),
                         list(dict.fromkeys(t["config"]["activation"] for t in trials)))


def setups(choices: list[Choice]) -> list[Setup]:
    """The choices grouped by setup, in the order the store holds them; labels name the dataset and every
    setup key that differs between setups of that dataset."""
    groups: dict[str, tuple[dict[str, Any], dict[tuple[Row, int], Choice]]] = {}
    for c in choices:
        key = {k: v for k, v in c.cell.items() if k not in SETUP_DROP}
        fk = repr(sorted(key.items()))
        groups.setdefault(fk, (key, {}))[1][((c.cell["activation"], c.cell.get("hidden_bias", True)),
                                             c.cell["width"])] = c
    keys = [k for k, _ in groups.values()]
    out = []
    for key, cells in groups.values():
        same = [k for k in keys if k["dataset"] == key["dataset"]]
        differ = sorted({n for k in same for n in k if any(o.get(n) != k.get(n) for o in same)})
        out.append(Setup(key, label(key, differ), cells))
    return out


def label(key: dict[str, Any], differ: list[str]) -> str:
    """'disc, 3000 steps, Glorot init': the dataset, its step budget and init always, other keys where they differ."""
    words = [str(key["dataset"]), f"{key['steps']} steps", "Glorot init" if str(key["init"]).startswith("Keras")
             else "PyTorch init"]
    words += [f"{n} {key[n]}" for n in differ if n not in ("dataset", "steps", "init")]
    return ", ".join(words)
