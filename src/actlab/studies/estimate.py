"""What a plan would cost before anything runs: its trials, what the store already holds, the estimated time
(`Study.cost` summed over the trials left) and the largest batch's peak memory — what `--dry-run` prints —
and the refusal of a plan whose batch cannot fit in this machine's memory (`admit`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actlab.core.threads import free_cores, threads_for
from actlab.results.store import Store
from actlab.studies.plan import Batch


@dataclass
class PlanSummary:
    trials: int
    activations: int
    batches: int
    stored: int
    seconds: float
    """Estimated seconds of the trials still to run in this process, each batch on the torch threads it would
    get now (`Study.cost`'s one-thread seconds, all but its `serial` part divided by `speedup`)."""
    memory: int
    """The largest batch's estimated peak memory, in bytes."""

    @property
    def todo(self) -> int:
        return self.trials - self.stored

    def text(self, study: str, store: str | Path) -> str:
        return (f"study {study}: {self.trials} trials ({self.activations} activations) in {self.batches} batches; "
                f"{self.stored} already in {store}, {self.todo} to run; estimated time about "
                f"{duration(self.seconds)} in this process with the cores free now, on a CPU like actlab's 2-core "
                f"reference machine (±50 %; --workers N divides it by up to N); largest batch about "
                f"{size(self.memory)} of memory")


SPEEDUP_EXPONENT = 0.85
"""A batch on n torch threads runs about n^0.85 times faster than on one (2 threads: 1.8×; measured 1.6–1.9×
on the benchmark's batches on the reference 2-core CPU)."""


def speedup(threads: int) -> float:
    return float(threads) ** SPEEDUP_EXPONENT


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def plan_summary(batches: list[Batch], store_path: str | Path) -> PlanSummary:
    """What a run would do (reads the store if it exists; writes nothing)."""
    from actlab.studies.registry import study

    trials = [t for b in batches for t in b.trials]
    done: set[str] = set()
    # an empty file is a store another process is creating right now: nothing is stored in it yet
    if Path(store_path).is_file() and Path(store_path).stat().st_size > 0:
        with Store(store_path, create=False) as store:
            done = set(store.done(t.id for t in trials))
    seconds, memory = 0.0, 0
    free = free_cores()
    for b in batches:
        cost = study(b.study).cost(b)
        left = sum(t.id not in done for t in b.trials)
        parallel = cost.seconds - cost.serial
        seconds += (cost.serial + parallel / speedup(threads_for(cost.elements, free))) * left / len(b)
        memory = max(memory, cost.memory)
    acts = len({t.config.get("activation") for t in trials})
    return PlanSummary(len(trials), acts, len(batches), len(done), seconds, memory)


def available_memory() -> int:
    """Bytes of memory this machine can give a run now (MemAvailable; the total where it is not known)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not a POSIX machine
        return 1 << 40


def admit(study_name: str, config: Any, batches: list[Batch], limit: int | None = None) -> None:
    """Refuse a plan whose largest batch would not fit in memory (`limit` bytes; None: 80 % of what is
    available now), before anything runs: a ConfigError naming the study's size keys and their values."""
    import dataclasses

    from actlab.studies.config import ConfigError
    from actlab.studies.registry import study

    s = study(study_name)
    limit = int(0.8 * available_memory()) if limit is None else limit
    worst = max(batches, key=lambda b: s.cost(b).memory, default=None)
    if worst is None:
        return
    need = s.cost(worst).memory
    if need > limit:
        values = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
        keys = ", ".join(f"{k}={values[k]!r}" for k in s.size_keys if k in values)
        raise ConfigError(f"{study_name}: one batch of this plan needs about {size(need)} of memory, more than the "
                          f"{size(limit)} this machine can give it now; make these smaller: {keys}")
