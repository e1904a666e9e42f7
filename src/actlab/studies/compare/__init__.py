"""`compare`: activations compared on the user's own model and data (docs/compare.md).

`actlab.compare(...)` in Python, `actlab compare MODEL --data DATA` on the command line, and a study like the
others (`actlab run compare --set model=... --set data=...`): planned, stored, resumable, on every backend."""

from pathlib import Path

from actlab.studies.compare import study as _s
from actlab.studies.compare.api import compare
from actlab.studies.compare.data import CompareInputError
from actlab.studies.protocol import Study, lazy

_HERE = "actlab.studies.compare"

STUDY = Study(
    name=_s.NAME, question=_s.QUESTION, config=_s.CompareConfig, presets=Path(__file__).parent / "presets",
    plan=_s.plan, run_batch=_s.run_batch, cost=_s.cost, results=lazy(f"{_HERE}.results", "results"),
    section=lazy(f"{_HERE}.section", "section"), summary=lazy(f"{_HERE}.summary", "summary"), default_presets=(),
    size_keys=("seeds",))

__all__ = ["STUDY", "CompareInputError", "compare"]
