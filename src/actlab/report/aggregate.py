"""From stored trials to cells: one cell per (activation, optimizer, bound mode), its learning rate
tuned away (the best one is reported, the others kept), with the spread over seeds."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

from actlab.results.store import Store


@dataclass
class LrResult:
    lr: float | None
    n: int
    success: float
    """Fraction of seeds that reached the target."""
    evals: list[int]
    """Evaluations to target of the seeds that reached it."""
    trial_ids: list[str] = field(default_factory=list)

    @property
    def median_evals(self) -> float:
        return float(np.median(self.evals)) if self.evals else math.inf


@dataclass
class Cell:
    activation: str
    optimizer: str
    bounds: str
    by_lr: list[LrResult]
    evaluations_per_step: int = 1
    """1 for gradient optimizers, the population size for population ones (from the trials' configs)."""

    @property
    def best(self) -> LrResult:
        """Highest success rate; ties go to fewer median evaluations to target."""
        return min(self.by_lr, key=lambda r: (-r.success, r.median_evals))


def load(store: str | Path, study: str) -> list[dict[str, Any]]:
    with Store(store, create=False) as s:
        return list(s.trials(study))


def cells(trials: list[dict[str, Any]]) -> list[Cell]:
    groups: dict[tuple[str, str, str], dict[Any, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for t in trials:
        c = t["config"]
        groups[(t["activation"], t["optimizer"], c.get("bounds", "none"))][c.get("lr")].append(t)
    out = []
    for (act, opt, mode), by_lr in groups.items():
        results = []
        for lr, ts in sorted(by_lr.items(), key=lambda kv: -1 if kv[0] is None else kv[0]):
            ok = [t for t in ts if t["metrics"]["success"]]
            results.append(LrResult(lr, len(ts), len(ok) / len(ts),
                                    [t["metrics"]["evaluations_to_target"] for t in ok],
                                    [t["trial_id"] for t in ts]))
        popsize = next(iter(by_lr.values()))[0]["config"].get("popsize") or 1
        out.append(Cell(act, opt, mode, results, int(popsize)))
    return out


def matrix(cs: list[Cell], bounds: str) -> tuple[list[str], list[str], np.ndarray]:
    """(activations, optimizers, success[a, o]) at the best lr, for one bound mode (nan where absent)."""
    sel = [c for c in cs if c.bounds == bounds]
    acts = list(dict.fromkeys(c.activation for c in sel))
    opts = list(dict.fromkeys(c.optimizer for c in sel))
    m = np.full((len(acts), len(opts)), np.nan)
    for c in sel:
        m[acts.index(c.activation), opts.index(c.optimizer)] = c.best.success
    return acts, opts, m


def cell_tables(store: str | Path, study: str) -> list[Table]:
    """The run's summary, one table per bound mode: success rate per activation × optimizer at the best
    learning rate (the lr under it)."""
    cs = cells(load(store, study))
    opts = list(dict.fromkeys(c.optimizer for c in cs))
    index = {(c.activation, c.optimizer, c.bounds): c for c in cs}
    tables = []
    for mode in dict.fromkeys(c.bounds for c in cs):
        t = Table(title=f"{study}, bounds {mode}: success rate at the best learning rate")
        t.add_column("activation")
        for o in opts:
            t.add_column(o, justify="right")
        for a in dict.fromkeys(c.activation for c in cs):
            row = [a]
            for o in opts:
                c = index.get((a, o, mode))
                row.append("" if c is None else f"{c.best.success:.0%}" + (f"\n@{c.best.lr:g}" if c.best.lr else ""))
            t.add_row(*row)
        tables.append(t)
    return tables
