"""The studies by name: each is a config class, a planner and a batch runner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actlab.core.errors import UnknownNameError
from actlab.results.store import TrialRecord
from actlab.studies.plan import Batch

PRESETS = Path(__file__).parent / "presets"


@dataclass(frozen=True)
class Study:
    name: str
    config: type
    plan: Callable[[Any], list[Batch]]
    run_batch: Callable[[Batch, str], list[TrialRecord]]


def studies() -> dict[str, Study]:
    from actlab.studies import single_sample

    return {single_sample.NAME: Study(single_sample.NAME, single_sample.SingleSampleConfig, single_sample.plan,
                                      single_sample.run_batch)}


def study(name: str) -> Study:
    known = studies()
    if name not in known:
        import difflib

        close = difflib.get_close_matches(name, list(known), n=2)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise UnknownNameError(f"unknown study {name!r}{hint} (known: {', '.join(known)})")
    return known[name]
