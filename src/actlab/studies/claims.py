"""The claims ledger: what the five source articles (shared/seeds/) claim, and what actlab measures.

Each `Claim` is one checkable statement of one article: the sentence (in English), the setup used
(the article's own where it states it, else the choice made, stated), the rule that turns numbers
into a verdict (written next to the claim) and `check`, which measures — from the trials in a
results store, or live from the analyser (deterministic) — and applies that rule. Verdicts are
never typed by hand; a claim whose trials the store does not hold says "not run in this store".
The claims themselves live per article: claims_single (000), claims_catalog (001, 002, 003) and
claims_planar (004).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from actlab.results.store import Store

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, WRONG, NOT_RUN = (
    "reproduced", "not reproduced", "inconclusive", "the article is wrong", "not run in this store")
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, WRONG, NOT_RUN)

ARTICLES = {"000": "000_bdb132fcdceb348c.txt", "001": "001_d9e406604dff1b93.txt",
            "002": "002_9d5f540598b23ccb.txt", "003": "003_be53ae60522fd4e4.txt",
            "004": "004_eb38fb6dc6d1ecae.txt"}
"""Article id → its seed file (in shared/seeds/)."""


class Evidence:
    """What a check may read: the store's trials per study (loaded once) and their curves."""

    def __init__(self, store: str | Path | None) -> None:
        self.path = Path(store) if store is not None else None
        self._trials: dict[str, list[dict[str, Any]]] = {}

    def trials(self, study: str) -> list[dict[str, Any]]:
        if study not in self._trials:
            if self.path is None or not self.path.exists():
                self._trials[study] = []
            else:
                with Store(self.path, create=False) as s:
                    self._trials[study] = list(s.trials(study))
        return self._trials[study]

    def curves(self, trials: Iterable[dict[str, Any]]) -> dict[str, list[tuple[int, float]]]:
        ids = [t["trial_id"] for t in trials]
        if self.path is None or not ids:
            return {}
        with Store(self.path, create=False) as s:
            return s.curves(ids)


@dataclass(frozen=True)
class Measured:
    """What a check found: the numbers (with their spread), the verdict its rule gives, and — where
    the study's own setup differs from the article's — that setup's numbers and why it differs."""

    numbers: str
    verdict: str
    study_setup: str = ""


NOT_RUN_HERE = Measured("not run in this store", NOT_RUN)


@dataclass(frozen=True)
class Claim:
    id: str
    article: str
    """The article's id: a key of ARTICLES."""
    sentence: str
    setup: str
    rule: str
    section: str
    """The report section with the figure: 'catalog', 'single-sample', 'planar', 'benchmark', 'noise' or 'depth'."""
    check: Callable[[Evidence], Measured]


@dataclass(frozen=True)
class Row:
    id: str
    article: str
    """The seed file's name."""
    sentence: str
    setup: str
    rule: str
    section: str
    numbers: str
    verdict: str
    study_setup: str = ""


def claims() -> list[Claim]:
    """Every claim of the ledger, article by article."""
    from actlab.studies import claims_benchmark, claims_catalog, claims_planar, claims_single

    return [*claims_single.CLAIMS, *claims_catalog.CLAIMS, *claims_benchmark.CLAIMS, *claims_planar.CLAIMS]


def ledger(store: str | Path | None) -> list[Row]:
    """One row per claim, its verdict computed by its rule from `store` (None: analyser claims only)."""
    ev = Evidence(store)
    rows = []
    for c in claims():
        m = c.check(ev)
        if m.verdict not in VERDICTS:  # pragma: no cover - a check returns one of the five
            raise ValueError(f"claim {c.id}: verdict {m.verdict!r} is not one of {VERDICTS}")
        rows.append(Row(c.id, ARTICLES[c.article], c.sentence, c.setup, c.rule, c.section, m.numbers, m.verdict,
                        m.study_setup))
    return rows


def spread(values: Iterable[float], fmt: str = ".2f") -> str:
    """'median m (IQR q1–q3, range lo–hi, n seeds)' of a list of per-seed values."""
    v = np.asarray(list(values), dtype=float)
    if v.size == 0:
        return "no trials"
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    return (f"median {med:{fmt}} (IQR {q1:{fmt}}–{q3:{fmt}}, range {v.min():{fmt}}–{v.max():{fmt}}, "
            f"n {v.size})")


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval (95 %) of a success rate k/n."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (float(max(0.0, centre - half)), float(min(1.0, centre + half)))


def still_improving(curves: Iterable[list[tuple[int, float]]], tail: float = 0.2, drop: float = 0.05,
                    floor: float = 0.05) -> bool:
    """True if the median training loss fell by more than `drop` (relative) over the last `tail` of the
    budget and is still above `floor`: the verdict might change with more steps. (Below the floor the
    data are fitted; on separable data cross-entropy keeps falling forever without changing a label.)"""
    ends = []
    for c in curves:
        if len(c) < 2:
            continue
        steps = np.array([s for s, _ in c], dtype=float)
        loss = np.array([v for _, v in c])
        start = int(np.searchsorted(steps, steps[-1] * (1 - tail)))
        ends.append((loss[min(start, len(loss) - 1)], loss[-1]))
    if not ends:
        return False
    before, after = np.median([e[0] for e in ends]), np.median([e[1] for e in ends])
    return bool(before > 0 and after > floor and (before - after) / before > drop)
