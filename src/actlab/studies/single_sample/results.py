"""The single-sample study's trials arranged once: one cell per config (every value but the learning rate,
the seed and the target), its learning rate chosen by the one selection rule (`RULE`, through
`actlab.studies.selection`), every learning rate kept with its spread over seeds. The section, the
terminal summary and the claims read this object only.

The study fits one sample: there is no validation split, and training success (squared error under the
threshold) is its objective, so the rule selects on it.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import numpy as np
from rich.table import Table

from actlab.report.names import displays
from actlab.studies.protocol import Stored
from actlab.studies.selection import Choice, Rule, select

NAME = "single-sample"
RULE = Rule(objective="success", tuned=("lr",), pooled=("seed", "target"), tie="evaluations_to_target",
            words="per cell (every config value but the learning rate, the seed and the target), the learning "
                  "rate with the highest success rate over seeds and both targets; ties go to the lower median "
                  "evaluations to target. The study fits one sample, so training success is its objective")
DEFAULT_POPSIZE = {"adamm": 100, "cmaes": 8, "snes": 8}
CURVE_TRIALS = 200
"""The most trials per cell whose loss curves make its median curve (the lowest seeds, both targets)."""
SETUP_KEYS = ("steps", "input", "success_threshold", "init")
"""The cell keys that describe a run's setup (rather than which activation, optimizer and box ran)."""


@dataclass
class LrResult:
    """One learning rate of a cell (None for the optimizers that have none): its trials over seeds and targets."""

    lr: float | None
    n: int
    successes: int
    evals: list[int]
    """Evaluations to target of the trials that reached it (kept for the chosen learning rate only)."""

    @property
    def success(self) -> float:
        return self.successes / self.n if self.n else 0.0

    @property
    def median_evals(self) -> float:
        return float(np.median(self.evals)) if self.evals else math.inf


@dataclass
class Cell:
    activation: str
    output: str
    optimizer: str
    bounds: str
    popsize: int | None
    setup: dict[str, Any]
    by_lr: list[LrResult]
    best: LrResult
    """The learning rate the rule chose."""
    trial_ids: list[str] = field(default_factory=list)
    """The chosen learning rate's trials, by seed and target."""
    curve: tuple[list[int], list[float]] = ([], [])
    """Median loss per curve step over the chosen trials (the first CURVE_TRIALS of them), read for the main
    setup's cells in the figures' bound mode."""

    @property
    def evaluations_per_step(self) -> int:
        return self.popsize or 1

    @property
    def label(self) -> str:
        """The optimizer as tables show it: its population size named where it is not the default."""
        p, o = self.popsize, self.optimizer
        return o if p is None or p == DEFAULT_POPSIZE.get(o) else f"{o} (pop {p})"


@dataclass
class Results:
    rule: Rule
    cells: list[Cell]
    """Every cell of every setup; the main setup's first."""
    setups: list[tuple[dict[str, Any], int]]
    """(setup, trials) of each setup in the store, most trials first: the first is the main one."""
    trials: int
    seeds: int
    box: tuple[int, int]
    """(inside, total): unbounded trials that reached the target, and how many end with every weight in the box."""

    @property
    def main(self) -> list[Cell]:
        """The cells of the main setup (the one with the most trials): what the figures and claims read."""
        return [c for c in self.cells if c.setup == self.setups[0][0]]

    @property
    def optimizers(self) -> list[str]:
        """The optimizer labels, in order of first appearance (the report gives each its colour)."""
        return list(dict.fromkeys(c.label for c in self.cells))

    @property
    def modes(self) -> list[str]:
        return list(dict.fromkeys(c.bounds for c in self.main))

    @property
    def base(self) -> str:
        """The bound mode the figures show: 'none' where it ran."""
        return "none" if "none" in self.modes else self.modes[0]

    def grid(self, bounds: str, same_output: bool = False) -> tuple[list[str], list[str], np.ndarray]:
        """(activations, optimizer labels, success[a, o]) of the main setup at the chosen learning rate, for one
        bound mode (nan where absent); `same_output`: only cells with one activation on both neurons."""
        sel = [c for c in self.main if c.bounds == bounds and (c.output == c.activation or not same_output)]
        acts = list(dict.fromkeys(c.activation for c in sel))
        opts = list(dict.fromkeys(c.label for c in sel))
        m = np.full((len(acts), len(opts)), np.nan)
        for c in sel:
            m[acts.index(c.activation), opts.index(c.label)] = c.best.success
        return acts, opts, m

    def cell(self, activation: str, optimizer: str, bounds: str) -> Cell | None:
        """The main setup's cell of one activation (on both neurons), optimizer label and bound mode."""
        return next((c for c in self.main if (c.activation, c.label, c.bounds) == (activation, optimizer, bounds)
                     and c.output == c.activation), None)


def results(stored: Stored) -> Results | None:
    """The study's results object (None when the store holds none of its trials)."""
    trials = stored.trials
    if not trials:
        return None
    setups = Counter(_freeze(_setup(t["config"])) for t in trials)
    order = {k: i for i, (k, _) in enumerate(setups.most_common())}
    cells = sorted((_cell(ch) for ch in select(trials, RULE)), key=lambda c: order[_freeze(c.setup)])
    main = [c for c in cells if _freeze(c.setup) == next(iter(order))]
    base = "none" if any(c.bounds == "none" for c in main) else main[0].bounds
    want = [c for c in main if c.bounds == base]
    some = {id(c): c.trial_ids[:CURVE_TRIALS] for c in want}
    found = stored.curves([i for c in want for i in some[id(c)]])
    for c in want:
        c.curve = _median_curve([found.get(i, []) for i in some[id(c)]])
    return Results(RULE, cells, [(dict(k), n) for k, n in setups.most_common()], len(trials),
                   len({t["seed"] for t in trials}), _box(trials))


def _setup(config: dict[str, Any]) -> dict[str, Any]:
    return {k: config.get(k) for k in SETUP_KEYS}


def _freeze(d: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(d.items())


def _cell(ch: Choice) -> Cell:
    """A cell from its selection: every learning rate's success rate (the rule's scores) and the chosen one's
    trials."""
    c = ch.cell
    lrs = [LrResult(s["lr"], n, round(score * n), []) for s, score, n in ch.scores]
    trials = sorted(ch.trials, key=itemgetter("seed"))  # stable: a seed's targets stay in plan order
    best = next(r for r in lrs if r.lr == ch.setting["lr"])
    best.evals = [e for t in ch.trials if t["metrics"]["success"]
                  and (e := t["metrics"].get("evaluations_to_target")) is not None]
    activation = c["activation"]
    return Cell(activation, c.get("output_activation") or activation, c["optimizer"], c.get("bounds", "none"),
                c.get("popsize"), _setup(c), lrs, best, [t["trial_id"] for t in trials])


def _median_curve(curves: list[list[tuple[int, float]]]) -> tuple[list[int], list[float]]:
    rows: dict[int, list[float]] = {}
    for curve in curves:
        for step, v in curve:
            rows.setdefault(step, []).append(v)
    steps = sorted(rows)
    return steps, [float(np.median(rows[s])) for s in steps]


def _box(trials: list[dict[str, Any]]) -> tuple[int, int]:
    inside = total = 0
    for t in trials:
        c, m = t["config"], t["metrics"]
        if c.get("bounds") != "none" or not m["success"] or not m.get("params") or None in m["params"]:
            continue
        lo, hi = (v if isinstance(v, list) else [v] * 4 for v in c["box"])
        total += 1
        inside += all(a <= p <= b for p, a, b in zip(m["params"], lo, hi))
    return inside, total


def summary(r: Results | None) -> list[Table]:
    """What `actlab run single-sample` prints: per bound mode, the success rate per activation × optimizer at
    the chosen learning rate (shown under it), for the main setup."""
    if r is None:
        return []
    tables = []
    for mode in r.modes:
        acts, opts, _ = r.grid(mode)
        index = {(c.activation, c.label): c for c in r.main if c.bounds == mode}
        t = Table(title=f"{NAME}, bounds {mode}: success rate at the chosen learning rate")
        t.add_column("activation")
        for o in opts:
            t.add_column(o, justify="right")
        names = displays(acts)
        for a in acts:
            row = [names[a]]
            for o in opts:
                c = index.get((a, o))
                row.append("" if c is None else f"{c.best.success:.0%}" +
                           (f"\n@{c.best.lr:g}" if c.best.lr is not None else ""))
            t.add_row(*row)
        tables.append(t)
    return tables
