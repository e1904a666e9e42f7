"""The real-data benchmark: which activation, and how sure? MLPs on MNIST-1D and scikit-learn datasets,
a learning-rate grid, paired seeds, selection on validation, the test split read once, statistics.

The results, section and claims modules (scipy, matplotlib) are imported when first used, so that
listing or planning studies stays fast."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from actlab.studies.benchmark import study as _s
from actlab.studies.protocol import Stored, Study

if TYPE_CHECKING:
    from actlab.report.kit import Section
    from actlab.studies.claims import Claim

QUESTION = "Which activation should an MLP on real data use, and how sure is the answer?"


def results(stored: Stored) -> Any:
    from actlab.studies.benchmark.results import results as arrange

    return arrange(stored)


def section(r: Any) -> Section | None:
    from actlab.studies.benchmark.section import section as build

    return build(r)


def summary(r: Any) -> list[Any]:
    from actlab.studies.benchmark.section import summary as tables

    return tables(r)


def claims() -> list[Claim]:
    from actlab.studies.benchmark.claims import CLAIMS

    return list(CLAIMS)


STUDY = Study(
    name=_s.NAME, question=QUESTION, config=_s.BenchmarkConfig, presets=Path(__file__).parent / "presets",
    plan=_s.plan, run_batch=_s.run_batch, cost=_s.cost, results=results, section=section, summary=summary,
    claims=claims, default_presets=("default-benchmark.toml",), size_keys=("widths", "depths", "minibatch"))
