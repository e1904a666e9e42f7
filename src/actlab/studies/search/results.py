"""The search's stored trials arranged once (what its section, its summary and its claims read): the screen's
counts, each rung's candidates, scores and promotions (replayed from the store by the same `pipeline` that planned
them), the final test's leaderboard with its statistics, and where the paper's published functions went.

The final test: per cell (task, model) each finalist's learning rate is chosen on validation (`RULE`, the
selection module), its test accuracies at that rate are the seeds' values; a finalist's leaderboard score is its
mean test accuracy over every cell and seed; ranks are Friedman's over blocks (cell, seed) with bootstrap
intervals and Nemenyi's critical difference; each finalist against relu is a paired Wilcoxon test per cell, Holm-
corrected over the finalist's cells. A store may hold several searches (other configs): the complete one that
searched the most classes is arranged (the newest where none is complete).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from actlab.analysis import stats
from actlab.studies.protocol import Stored
from actlab.studies.search.study import NAME, Pipeline, SearchConfig, pipeline
from actlab.studies.selection import Rule, select

RULE = Rule(objective="val_accuracy", tuned=("lr",), pooled=("seed",),
            words="the learning rate with the best mean validation accuracy over seeds, per finalist and cell")
ALPHA = 0.05
BASELINE = "relu"


@dataclass
class RungRow:
    index: int
    epochs: int
    seeds: int
    tasks: list[str]
    candidates: int
    scored: int
    """Candidates with a finite score (the rest failed: nan)."""
    promoted: int
    seconds: float
    """Sum of the rung's trials' measured seconds (one process's time)."""
    best: list[tuple[str, float]] = field(default_factory=list)
    """The rung's best five (spec, score)."""


@dataclass
class Entry:
    spec: str
    origin: str
    """'search' (a finalist the rungs chose) or 'baseline'."""
    label: str
    catalog: str
    mean: float
    ci: tuple[float, float]
    per_cell: dict[str, float]
    """'task/model' → mean test accuracy over seeds at the chosen learning rate."""
    rank: float = math.nan
    rank_ci: tuple[float, float] = (math.nan, math.nan)
    against: str = ""
    """Against relu: 'better in k, worse in m of n cells (Holm, α = 0.05)'."""
    better: int = 0
    worse: int = 0
    cells: int = 0


@dataclass
class Published:
    label: str
    spec: str
    where: str
    """'searched', 'not sampled' (the class exists in the space but was not drawn) or 'not in the space'."""
    cls: str = ""
    """The label of the class it belongs to."""
    reached: int = -1
    """The last rung it was trained in (−1: none)."""
    rank: int = 0
    """Its rank at that rung (1 = best)."""
    of: int = 0
    final_rank: float = math.nan


@dataclass
class Results:
    config: SearchConfig
    pipeline: Pipeline
    screen: dict[str, Any]
    classes: dict[str, dict[str, Any]]
    """spec → the screen's class record (label, catalog name, members, units, uses_x, binary, unary)."""
    rungs: list[RungRow]
    leaderboard: list[Entry]
    complete: bool
    cd: float = math.nan
    friedman_p: float = math.nan
    blocks: int = 0
    searches: int = 1
    published: list[Published] = field(default_factory=list)

    def label(self, spec: str) -> str:
        c = self.classes.get(spec)
        return c["label"] if c else spec


def results(stored: Stored) -> Results | None:
    """The store's search: of several (other configs), the complete one that searched the most classes, else the
    newest."""
    screens = [t for t in stored.trials if t["config"].get("stage") == "screen"]
    if not screens:
        return None
    found = {t["trial_id"]: t for t in stored.trials}
    # the store's order is the order of writing (created_at has a resolution of seconds)
    arranged = [_arrange(t, found, len(screens)) for t in screens]
    complete = [(r.screen["searched"], i) for i, r in enumerate(arranged) if r.complete]
    return arranged[max(complete)[1]] if complete else arranged[-1]


def _arrange(screen_trial: dict[str, Any], found: dict[str, dict[str, Any]], searches: int) -> Results:
    from actlab.studies.config import build

    cfg = build(SearchConfig, dict(screen_trial["config"]["search"]))
    p = pipeline(cfg, found)
    screen = found[p.screen.id]["metrics"]
    classes = {c["spec"]: c for c in screen["classes"]}
    rows = []
    for r in p.rungs:
        done = [found[t.id] for t in r.trials.values() if t.id in found]
        ranked = sorted(((s, v) for s, v in r.scores.items() if not math.isnan(v)), key=lambda sv: -sv[1])
        rows.append(RungRow(r.index, r.epochs, r.seeds, r.tasks, len(r.candidates),
                            sum(not math.isnan(v) for v in r.scores.values()), len(r.promoted),
                            float(sum(t["metrics"].get("seconds") or 0.0 for t in done)), ranked[:5]))
    out = Results(cfg, p, screen, classes, rows, [], complete=not p.pending and bool(p.final), searches=searches)
    if out.complete:
        _final(out, [found[t.id] for t in p.final])
    out.published = _published(out)
    return out


def _final(out: Results, trials: list[dict[str, Any]]) -> None:
    chosen = select(trials, RULE)
    acc: dict[str, dict[str, dict[int, float]]] = {}
    for ch in chosen:
        cell = f"{ch.cell['task']}/{ch.cell['model']}"
        per_seed = acc.setdefault(ch.cell["activation"], {}).setdefault(cell, {})
        for t in ch.trials:
            v = t["metrics"].get("test_accuracy")
            per_seed[t["config"]["seed"]] = math.nan if v is None else float(v)
    specs = out.pipeline.finalists
    cells = sorted({c for s in specs for c in acc.get(s, {})})
    seeds = sorted({k for s in specs for c in acc.get(s, {}).values() for k in c})
    blocks = [(c, k) for c in cells for k in seeds]
    table = np.array([[acc.get(s, {}).get(c, {}).get(k, math.nan) for s in specs] for c, k in blocks], dtype=float)
    table = np.where(np.isfinite(table), table, 0.0)  # a failed trial scores as chance-less zero: it is ranked last
    for i, s in enumerate(specs):
        values = table[:, i]
        lo, hi = stats.bootstrap_ci(values, n_resamples=2000) if len(values) > 1 else (values[0], values[0])
        per_cell = {c: float(np.mean([table[j, i] for j, (cc, _) in enumerate(blocks) if cc == c])) for c in cells}
        found = out.classes.get(s, {})
        out.leaderboard.append(Entry(s, "search" if s in out.pipeline.rungs[-1].promoted else "baseline",
                                     found.get("label", s), found.get("catalog", ""), float(values.mean()),
                                     (float(lo), float(hi)), per_cell))
    out.blocks = len(blocks)
    if len(specs) >= 2 and len(blocks) >= 2:
        fr = stats.friedman(table)
        out.friedman_p = float(fr.p_value)
        lo_r, hi_r = stats.rank_ci(table)
        out.cd = stats.nemenyi_cd(len(specs), len(blocks), ALPHA)
        for e, r, a, b in zip(out.leaderboard, fr.average_ranks, lo_r, hi_r):
            e.rank, e.rank_ci = float(r), (float(a), float(b))
    base = next((i for i, s in enumerate(specs) if s == BASELINE), None)
    if base is not None:
        for i, e in enumerate(out.leaderboard):
            if i == base:
                continue
            tested: list[tuple[float, float]] = []
            for c in cells:
                rows = [j for j, (cc, _) in enumerate(blocks) if cc == c]
                a, b = table[rows, i], table[rows, base]
                if len(rows) >= 2 and not np.allclose(a, b):
                    test = stats.paired_test(a, b)
                    tested.append((test.p_value, float(np.mean(a - b))))
            adjusted = list(stats.holm([p for p, _ in tested])) if tested else []
            e.better = sum(1 for (p, d), q in zip(tested, adjusted) if q < ALPHA and d > 0)
            e.worse = sum(1 for (p, d), q in zip(tested, adjusted) if q < ALPHA and d < 0)
            e.cells = len(cells)
    out.leaderboard.sort(key=lambda e: (-e.mean, e.spec))


def _published(out: Results) -> list[Published]:
    specs = [c["spec"] for c in out.screen["classes"]]
    rows = []
    for label, p in out.screen["published"].items():
        row = Published(label, p["spec"], p["where"])
        if p["class"] is not None:
            spec = specs[p["class"]]
            row.cls = out.label(spec)
            for r in out.pipeline.rungs:
                if spec not in r.scores:
                    break
                ranked = sorted((s for s in r.scores if not math.isnan(r.scores[s])), key=lambda s: -r.scores[s])
                row.reached, row.of = r.index, len(r.candidates)
                row.rank = ranked.index(spec) + 1 if spec in ranked else 0
            row.final_rank = next((e.rank for e in out.leaderboard if e.spec == spec), math.nan)
        rows.append(row)
    return rows


__all__ = ["ALPHA", "NAME", "RULE", "Results", "results"]
