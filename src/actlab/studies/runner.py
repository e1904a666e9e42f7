"""Running a study: plan → skip what the store holds → run batches on a backend → store each batch.

The driver alone writes the store, one transaction per finished batch, so a run killed at any
instant leaves whole batches only and a re-run finishes exactly the planned set. Backends:
'local' runs batches in this process; 'process' spreads them over a local process pool (torch
threads split between the workers); 'ray' sends them to a Ray cluster (`RAY_ADDRESS`, or a local
one). Results do not depend on the backend: a trial's result does not depend on its batch.

Two runs may share one store: each batch is checked against the store again just before it
starts, so they split the work, and a trial both happen to finish is stored once (INSERT OR
IGNORE in the batch's transaction; a writer waits for the other's transaction, not fails).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actlab.core.errors import ActlabInputError
from actlab.results.store import Store, TrialRecord
from actlab.studies.plan import Batch

BACKENDS = ("local", "process", "ray")


@dataclass
class RunSummary:
    planned: int
    stored_before: int
    ran: int
    batches: int
    seconds: float


def run_batch(batch: Batch, device: str = "cpu") -> list[TrialRecord]:
    """Run one batch of any study (what a worker does).

    Activations run eager, never compiled automatically (`auto_fuse`): a stored result must not
    depend on whether the machine has a C++ compiler (fused kernels round differently), and a
    worker must not stall for seconds compiling."""
    from actlab.core.activation import auto_fuse
    from actlab.studies.registry import study

    with auto_fuse(False):
        return study(batch.study).run_batch(batch, device)


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
class PlanSummary:
    trials: int
    cells: int
    settings: int
    batches: int
    stored: int
    evaluations: int

    @property
    def todo(self) -> int:
        return self.trials - self.stored

    def text(self, study: str, store: str | Path) -> str:
        return (f"study {study}: {self.cells} cells (activation × optimizer × bounds), {self.settings} settings "
                f"(× lr × target), {self.trials} trials in {self.batches} batches; "
                f"{self.stored} already in {store}, {self.todo} to run; {self.evaluations:,} network evaluations")


def plan_summary(batches: list[Batch], store_path: str | Path) -> PlanSummary:
    """What a run would do (reads the store if it exists; writes nothing)."""
    trials = [t for b in batches for t in b.trials]
    stored = 0
    if Path(store_path).exists():
        with Store(store_path, create=False) as store:
            stored = len(store.done(t.id for t in trials))
    settings = {tuple((k, str(v)) for k, v in t.config.items() if k != "seed") for t in trials}
    cells = {(t.config.get("activation"), t.config.get("optimizer"), t.config.get("bounds")) for t in trials}
    evals = sum((t.config.get("steps", 0) + 1) * (t.config.get("popsize") or 1) for t in trials)
    return PlanSummary(len(trials), len(cells), len(settings), len(batches), stored, evals)


def execute(batches: list[Batch], store_path: str | Path, *, backend: str = "local", workers: int = 1,
            device: str = "cpu", on_batch: Callable[[int], None] | None = None, command: str = "") -> RunSummary:
    """Run every planned trial the store does not hold yet; `on_batch(n)` after each stored batch of n."""
    if backend not in BACKENDS:
        raise ActlabInputError(f"unknown backend {backend!r} (allowed: {', '.join(BACKENDS)})")
    if workers < 1:
        raise ActlabInputError(f"--workers must be ≥ 1, got {workers}")
    start = time.perf_counter()
    planned = sum(len(b) for b in batches)
    with Store(store_path) as store:
        store.add_run(command or "(library call)", study=batches[0].study if batches else "")
        todo = pending(batches, store)
        ran = 0

        def still_pending(b: Batch) -> Batch | None:
            """The batch less what another run on this store finished since we planned (None: all of it)."""
            rest = pending([b], store)
            if on_batch and len(b) > sum(len(r) for r in rest):
                on_batch(len(b) - sum(len(r) for r in rest))
            return rest[0] if rest else None

        for records in _results(todo, backend, workers, device, still_pending):
            store.write(records)  # one transaction; trials already stored are ignored, never duplicated
            ran += len(records)
            if on_batch:
                on_batch(len(records))
    return RunSummary(planned, planned - sum(len(b) for b in todo), ran, len(todo), time.perf_counter() - start)


def _results(todo: list[Batch], backend: str, workers: int, device: str,
             still_pending: Callable[[Batch], Batch | None]) -> Iterator[list[TrialRecord]]:
    """Each batch's records; a batch is looked up in the store again just before it starts (local and
    process backends), so two runs sharing a store split the work instead of both doing all of it."""
    if not todo:
        return
    if backend == "local" or (backend == "process" and workers == 1):
        for b in todo:
            rest = still_pending(b)
            if rest is not None:
                yield run_batch(rest, device)
    elif backend == "process":
        yield from _process_pool(todo, workers, device, still_pending)
    else:
        yield from _ray(todo, device)


def _set_threads(n: int) -> None:
    import torch

    torch.set_num_threads(n)


def _process_pool(todo: list[Batch], workers: int, device: str,
                  still_pending: Callable[[Batch], Batch | None]) -> Iterator[list[TrialRecord]]:
    import multiprocessing as mp

    threads = max(1, (os.cpu_count() or 1) // workers)
    # spawn, not fork: a forked child of a process that has started torch's thread pools can hang
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_set_threads,
                             initargs=(threads,)) as pool:
        queue = list(reversed(todo))
        running: set[Any] = set()
        while queue or running:
            while queue and len(running) < 2 * workers:  # keep every worker fed, not the whole plan in flight
                rest = still_pending(queue.pop())
                if rest is not None:
                    running.add(pool.submit(run_batch, rest, device))
            if not running:
                break
            finished, running = wait(running, return_when=FIRST_COMPLETED)
            for f in finished:
                yield f.result()


def _ray(todo: list[Batch], device: str) -> Iterator[list[TrialRecord]]:
    try:
        import ray
    except ImportError:
        raise ActlabInputError("--backend ray needs Ray: pip install 'actlab[ray]'") from None
    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS"), include_dashboard=False, log_to_driver=False)
    remote = ray.remote(num_cpus=1, num_gpus=1 if device.startswith("cuda") else 0)(run_batch)
    refs = [remote.remote(b, device) for b in todo]  # type: ignore[call-arg]
    while refs:
        finished, refs = ray.wait(refs, num_returns=1)
        yield ray.get(finished[0])
