"""A study's plan: trials (resolved configs, each with its stable id) grouped into batches.

A batch is what one worker runs as one tensor program; it is plain data (picklable), so the same
batch runs in-process, in a process pool or on a Ray cluster. Plans are computed before anything
runs, which is what `--dry-run` prints and what a resumed run subtracts the stored trials from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from actlab.results.store import trial_id


@dataclass
class Trial:
    config: dict[str, Any]
    task: str

    @cached_property
    def id(self) -> str:
        return trial_id(self.config)


@dataclass
class Batch:
    study: str
    trials: list[Trial] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.trials)
