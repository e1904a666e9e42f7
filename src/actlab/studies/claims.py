"""The claims ledger: what the five source articles (shared/seeds/) claim, and what actlab measures.

Each `Claim` is one checkable statement of one article: the sentence (in English), the setup used
(the article's own where it states it, else the choice made, stated), the rule that turns numbers
into a verdict (written next to the claim) and `check`, which measures — from the trials in a
results store, or live from the analyser (deterministic) — and applies that rule. Verdicts are
never typed by hand; a claim whose trials the store does not hold says "not run in this store".
The claims themselves live per article: single_sample.claims (000), catalog_claims (001, 002, 003), benchmark.claims and
claims_planar (004).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, WRONG, NOT_RUN = (
    "reproduced", "not reproduced", "inconclusive", "the article is wrong", "not run in this store")
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, WRONG, NOT_RUN)
COLOURS = {REPRODUCED: "#2e7d32", NOT_REPRODUCED: "#c62828", INCONCLUSIVE: "#8d6e00", WRONG: "#6a1b9a",
           NOT_RUN: "#666"}
"""The colour a verdict is shown in, in every section."""

ARTICLES = {"000": "000_bdb132fcdceb348c.txt", "001": "001_d9e406604dff1b93.txt",
            "002": "002_9d5f540598b23ccb.txt", "003": "003_be53ae60522fd4e4.txt",
            "004": "004_eb38fb6dc6d1ecae.txt"}
"""Article id → its seed file (in shared/seeds/)."""


class Evidence:
    """What a check may read: each study's results object (what its `results(stored)` returned for the
    store's trials, computed once per report), or None where the store holds none of its trials. The
    catalog's claims read nothing: they measure live with the analyser."""

    def __init__(self, results: dict[str, Any] | None = None) -> None:
        self._results = dict(results or {})

    def results(self, study: str) -> Any | None:
        return self._results.get(study)


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


def spread(values: Iterable[float], fmt: str = ".2f") -> str:
    """'median m (IQR q1–q3, range lo–hi, n seeds)' of a list of per-seed values."""
    v = np.asarray(list(values), dtype=float)
    if v.size == 0:
        return "no trials"
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    return (f"median {med:{fmt}} (IQR {q1:{fmt}}–{q3:{fmt}}, range {v.min():{fmt}}–{v.max():{fmt}}, "
            f"n {v.size})")


def wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a success rate k/n (scipy's `binomtest(...).proportion_ci`); (0, 1) for n = 0."""
    if n == 0:
        return (0.0, 1.0)
    from scipy.stats import binomtest

    ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    return (float(ci.low), float(ci.high))


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
