"""Running a study: plan → skip what the store holds → run batches on a backend → store each batch.

The driver alone writes the store, one transaction per finished batch, so a run killed at any
instant leaves whole batches only and a re-run finishes exactly the planned set. Backends:
'local' runs batches in this process; 'process' spreads them over a local process pool; 'ray'
sends them to a Ray cluster (`RAY_ADDRESS`, or a local one). Results do not depend on the backend
or on the number of threads: a trial's result does not depend on its batch.

Wherever a batch runs, it picks its own torch threads (`batch_threads`): one unless its tensors
are large, and then no more than the cores other processes leave free at that moment, measured
on the machine it runs on — a process pool's workers count each other as busy. Two threads next
to one busy process cost 2-10× more time than one, so guessing wrong is expensive.

Two runs may share one store: each batch is checked against the store again just before it
starts, so they split the work, and a trial both happen to finish is stored once (INSERT OR
IGNORE in the batch's transaction; a writer waits for the other's transaction, not fails).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actlab.core.errors import ActlabInputError
from actlab.core.threads import free_cores, threads_for, torch_threads
from actlab.results.store import Store, TrialRecord
from actlab.studies.estimate import PlanSummary, admit, plan_summary
from actlab.studies.plan import Batch
from actlab.studies.protocol import Stored, Study

__all__ = ["AUTO", "BACKENDS", "Job", "PlanSummary", "admit", "estimated_plan", "execute", "plan_summary", "resources",
           "run_batch", "run_study"]

BACKENDS = ("local", "process", "ray")
AUTO = "auto"
"""`--workers auto`: a pool of one worker per free core, when the batches left are worth its start-up."""
PROBE_SECONDS = 3.0
"""With `--workers auto`, batches run in this process this long before a pool is considered."""
WORKER_START = 2.5
"""Seconds a pool takes to start its workers (spawn, import torch and actlab): 1.8-2.7 s on 2 cores."""


@dataclass
class RunSummary:
    planned: int
    stored_before: int
    ran: int
    batches: int
    seconds: float
    plan: list[Batch] = field(default_factory=list)
    """Every batch planned, each stage's in turn (`run_study`; `execute` leaves it empty)."""
    stages: int = 1


@dataclass(frozen=True)
class Job:
    """What a worker needs to run a batch without the registry: its study's `run_batch` (a module-level
    function, pickled by reference) and its per-step elements (the thread choice). A study registered in
    this process only (`registry.registered`) runs on every backend this way."""

    run: Callable[[Batch, str], list[TrialRecord]]
    elements: int


def job(batch: Batch) -> Job:
    from actlab.studies.registry import study

    s = study(batch.study)
    return Job(s.run_batch, s.cost(batch).elements)


def run_batch(batch: Batch, device: str = "cpu", threads: int | None = None,
              most: int | None = None, work: Job | None = None) -> list[TrialRecord]:
    """Run one batch of any study (what a worker does) on `threads` torch threads (None: `batch_threads`,
    at most `most`); `work`: the batch's `Job`, resolved by the caller (None: from the registry here).

    The thread count is set around the batch and the caller's own setting given back: on the local
    backend this is the user's process. Activations run eager, never compiled automatically
    (`auto_fuse`): a stored result must not depend on whether the machine has a C++ compiler (fused
    kernels round differently), and a worker must not stall for seconds compiling."""
    from actlab.core.activation import auto_fuse

    work = work or job(batch)
    with auto_fuse(False), torch_threads(threads or _threads(work.elements, device, most=most)):
        return work.run(batch, device)


def batch_elements(batch: Batch) -> int:
    """Elements in each of the batch's per-step tensors, from its study's cost estimate."""
    from actlab.studies.registry import study

    return study(batch.study).cost(batch).elements


def batch_threads(batch: Batch, device: str = "cpu", free: int | None = None, most: int | None = None) -> int:
    """Torch threads for one batch: `threads_for` its elements and the `free` cores (None: measured now),
    at most `most`. One on a GPU, where the CPU only launches kernels."""
    return _threads(batch_elements(batch), device, free, most)


def _threads(elements: int, device: str, free: int | None = None, most: int | None = None) -> int:
    if device != "cpu":
        return 1
    free = free_cores() if free is None else free
    return threads_for(elements, free if most is None else min(free, most))


def most_threads(backend: str, workers: int) -> int | None:
    """The most torch threads one batch may take: a pool worker its share of the cores, so that workers
    measuring an idle machine at the same moment do not all take every core; a Ray task the one CPU
    it reserves; None (every free core) in this process."""
    if backend == "ray":
        return 1
    return max(1, free_cores.cores // workers) if backend == "process" and workers > 1 else None


def pending(batches: list[Batch], store: Store) -> list[Batch]:
    """The batches with the trials the store already holds removed (empty batches dropped)."""
    ids = [t.id for b in batches for t in b.trials]
    done = store.done(ids)
    out = []
    for b in batches:
        rest = [t for t in b.trials if t.id not in done]
        if rest:
            out.append(Batch(b.study, rest))
    return out


@dataclass
class Resources:
    """Where a run's batches would go and the torch threads each would get (what `--dry-run` prints)."""

    backend: str
    workers: int | str
    cores: int
    free: int
    threads: dict[int, int]
    """torch threads → how many batches would run on that many."""
    fixed: bool
    """The threads were given (`--threads`), not chosen per batch."""

    def text(self) -> str:
        where = {"local": "in this process", "process": f"on {self.workers} worker processes",
                 "ray": "on the Ray cluster's workers"}[self.backend]
        if self.workers == AUTO and self.backend != "ray":
            where = (f"in this process for its first {PROBE_SECONDS:g} s, then, if the batches left would take "
                     f"more than {4 * WORKER_START:g} s, on one worker process per free core (--workers auto)")
        counts = ", ".join(f"{n} thread{'s' * (n > 1)} × {k} batches" for n, k in sorted(self.threads.items()))
        if self.fixed:
            how = f"torch threads per batch as given (--threads): {counts}"
        elif self.backend == "ray":
            how = f"torch threads per batch: the one CPU each Ray task reserves: {counts}"
        else:
            how = f"torch threads chosen per batch from its size and the free cores: {counts}"
        return f"runs {where}; {self.free} of {self.cores} cores free now (measured); {how}"


def resources(batches: list[Batch], backend: str = "local", workers: int | str = 1, device: str = "cpu",
              threads: int | None = None) -> Resources:
    """The workers and the threads a run would use now (measures the free cores; runs nothing). With
    `--workers auto` the threads are those of this process, where the first batches run."""
    free = free_cores()
    n = 1 if workers == AUTO else int(workers)
    each = max(1, free - (n - 1))  # a pool's worker sees the other workers as busy cores
    most = most_threads(backend, n)
    counts = Counter(threads or batch_threads(b, device, each, most) for b in batches)
    return Resources(backend, workers, free_cores.cores, free, dict(counts), threads is not None)


def execute(batches: list[Batch], store_path: str | Path, *, backend: str = "local", workers: int | str = 1,
            device: str = "cpu", threads: int | None = None, on_batch: Callable[[int], None] | None = None,
            command: str = "", note_run: bool = True) -> RunSummary:
    """Run every planned trial the store does not hold yet; `on_batch(n)` after each stored batch of n.
    `workers`: the process backend's pool size, or 'auto' (`_auto`, local and process backends).
    `threads` fixes the torch threads of every batch (None: each batch picks its own, `batch_threads`)."""
    if backend not in BACKENDS:
        raise ActlabInputError(f"unknown backend {backend!r} (allowed: {', '.join(BACKENDS)})")
    if workers != AUTO and not (isinstance(workers, int) and workers >= 1):
        raise ActlabInputError(f"--workers must be ≥ 1 or 'auto', got {workers}")
    if threads is not None and threads < 1:
        raise ActlabInputError(f"--threads must be ≥ 1, got {threads}")
    start = time.perf_counter()
    planned = sum(len(b) for b in batches)
    with Store(store_path) as store:
        if note_run:  # a staged study's later stages belong to the run its first stage noted
            store.add_run(command or "(library call)", study=batches[0].study if batches else "")
        todo = pending(batches, store)
        ran = 0

        def still_pending(b: Batch) -> Batch | None:
            """The batch less what another run on this store finished since we planned (None: all of it)."""
            rest = pending([b], store)
            if on_batch and len(b) > sum(len(r) for r in rest):
                on_batch(len(b) - sum(len(r) for r in rest))
            return rest[0] if rest else None

        for records in _results(todo, backend, workers, device, threads, still_pending):
            store.write(records)  # one transaction; trials already stored are ignored, never duplicated
            ran += len(records)
            if on_batch:
                on_batch(len(records))
    return RunSummary(planned, planned - sum(len(b) for b in todo), ran, len(todo), time.perf_counter() - start)


MAX_STAGES = 10_000
"""A staged study that plans something new more often than this is planning in a circle."""


def run_study(study: Study, config: Any, store_path: str | Path, *, batches: list[Batch] | None = None,
              on_stage: Callable[[list[Batch]], None] | None = None, **how: Any) -> RunSummary:
    """Run a study's whole plan: `plan(config)` (or `batches`, its plan already made), then, for a staged study,
    whatever new its `next_stage` plans from the store, until nothing is new. `on_stage(batches)` before each
    stage after the first (a progress bar's total grows); `how`: `execute`'s keywords. The summary adds the
    stages up: a resumed run replans the same stages from the same results and counts what was stored."""
    batches = study.plan(config) if batches is None else batches
    total = RunSummary(0, 0, 0, 0, 0.0, [], 0)
    seen: set[str] = set()
    while True:
        new = [Batch(b.study, rest) for b in batches if (rest := [t for t in b.trials if t.id not in seen])]
        if not new:
            break
        if total.stages >= MAX_STAGES:
            raise RuntimeError(f"study {study.name}: more than {MAX_STAGES} stages planned; its next_stage plans "
                               "something new each time")
        if total.stages and on_stage:
            on_stage(new)
        out = execute(new, store_path, note_run=not total.stages, **how)
        total.planned += out.planned
        total.stored_before += out.stored_before
        total.ran += out.ran
        total.batches += out.batches
        total.seconds += out.seconds
        total.plan += new
        total.stages += 1
        seen |= {t.id for b in new for t in b.trials}
        if study.next_stage is None:
            break
        with Store(store_path, create=False) as store:
            stored = Stored(study.name, list(store.trials(study.name)))
        batches = study.next_stage(config, stored)
    return total


def estimated_plan(study: Study, config: Any, batches: list[Batch] | None = None,
                   store_path: str | Path | None = None) -> list[Batch]:
    """The batches `--dry-run` counts: the plan (`batches`, if made already); for a staged study its stages as far
    as the store at `store_path` decides them and stand-ins for the later ones (`Study.stand_ins`)."""
    if study.stand_ins is None:
        return study.plan(config) if batches is None else batches
    stored = None
    if store_path is not None and Path(store_path).is_file() and Path(store_path).stat().st_size > 0:
        with Store(store_path, create=False) as store:
            stored = Stored(study.name, list(store.trials(study.name)))
    return study.stand_ins(config, stored)


def _results(todo: list[Batch], backend: str, workers: int | str, device: str, threads: int | None,
             still_pending: Callable[[Batch], Batch | None]) -> Iterator[list[TrialRecord]]:
    """Each batch's records; a batch is looked up in the store again just before it starts (local and
    process backends), so two runs sharing a store split the work instead of both doing all of it."""
    if not todo:
        return
    if backend == "ray":
        yield from _ray(todo, device, threads)
    elif workers == AUTO:
        yield from _auto(todo, device, threads, still_pending)
    elif backend == "local" or workers == 1:
        for b in todo:
            rest = still_pending(b)
            if rest is not None:
                yield run_batch(rest, device, threads)
    else:
        yield from _process_pool(todo, int(workers), device, threads, still_pending)


def _auto(todo: list[Batch], device: str, threads: int | None,
          still_pending: Callable[[Batch], Batch | None]) -> Iterator[list[TrialRecord]]:
    """`--workers auto`: batches run in this process for `PROBE_SECONDS`; if the rest, at the pace so far,
    would take more than 4 × `WORKER_START` and more than one core is free, one worker per free core
    takes it over (a pool of n saves (1 − 1/n) of the rest and costs its start-up), else this process
    goes on. The pace is measured, not estimated: per element, a planar batch costs ~100× less time
    than a population batch."""
    start, done = time.perf_counter(), 0
    while done < len(todo) and time.perf_counter() - start < PROBE_SECONDS:
        rest = still_pending(todo[done])
        done += 1
        if rest is not None:
            yield run_batch(rest, device, threads)
    left = todo[done:]
    pace = (time.perf_counter() - start) / max(done, 1)
    n = min(free_cores(), len(left)) if pace * len(left) > 4 * WORKER_START else 1
    yield from _results(left, "process" if n > 1 else "local", n, device, threads, still_pending)


def _process_pool(todo: list[Batch], workers: int, device: str, threads: int | None,
                  still_pending: Callable[[Batch], Batch | None]) -> Iterator[list[TrialRecord]]:
    import multiprocessing as mp

    # spawn, not fork: a forked child of a process that has started torch's thread pools can hang
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
        queue = list(reversed(todo))
        running: set[Any] = set()
        while queue or running:
            while queue and len(running) < 2 * workers:  # keep every worker fed, not the whole plan in flight
                rest = still_pending(queue.pop())
                if rest is not None:
                    running.add(pool.submit(run_batch, rest, device, threads, most_threads("process", workers),
                                            job(rest)))
            if not running:
                break
            finished, running = wait(running, return_when=FIRST_COMPLETED)
            for f in finished:
                yield f.result()


def _ray(todo: list[Batch], device: str, threads: int | None) -> Iterator[list[TrialRecord]]:
    try:
        import ray
    except ImportError:
        raise ActlabInputError("--backend ray needs Ray: pip install 'actlab[ray]'") from None
    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS"), include_dashboard=False, log_to_driver=False)
    remote = ray.remote(num_cpus=1, num_gpus=1 if device.startswith("cuda") else 0)(run_batch)
    refs = [remote.remote(b, device, threads, most_threads("ray", 1), job(b)) for b in todo]  # type: ignore[call-arg]
    while refs:
        finished, refs = ray.wait(refs, num_returns=1)
        yield ray.get(finished[0])
