"""Torch threads: how many a tensor program gets, measured against the cores other processes leave free.

torch's intra-op pool (OpenMP) spins and synchronises at every op. A small program (a few
thousand elements per op) gains nothing from it, and next to one busy process on a 2-core
machine it runs many times slower on two threads than on one (measured: the propagation of one
activation took 1.1 s on one thread and 12-20 s on two while other work ran). So a program gets
one thread per `ELEMENTS_PER_THREAD` elements of its ops, and never more threads than cores that
are free now (`FreeCores`). `torch_threads(n)` sets the count around a program and gives the
caller's setting back; the analyser's functions wrap themselves in `single_thread()`.
"""

from __future__ import annotations

import functools
import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ParamSpec, TypeVar

import torch

P = ParamSpec("P")
R = TypeVar("R")

ELEMENTS_PER_THREAD = 5_000
"""Elements per op each thread needs to pay for itself. Measured alone on 2 cores, 2 threads against 1,
one batch each: 0.56-0.9× the time for ops of 12 000-5 600 000 elements (planar widths 10-100,
ADAMm populations of 120-4000 trials), 0.96-1.04× for 120-7 200 (gradient trials, CMA-ES, planar
widths 2-3) and for CMA-ES even at 32 000; and next to one busy process a batch took 2-10× longer
on 2 threads than on 1, small ones included."""
BUSY_SHARE = 0.25
"""A core counts as taken once other processes use more than this share of it (short bursts, a
progress bar or a shell, do not take it)."""
MIN_WINDOW = 0.5
"""Seconds of machine time a measurement of free cores averages over, at least (/proc/stat counts
in 10 ms ticks per core)."""


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """torch runs on `n` threads inside; the caller's setting is given back afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def single_thread() -> Iterator[None]:
    with torch_threads(1):
        yield


def on_one_thread(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator: `fn` runs inside `single_thread()`."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with single_thread():
            return fn(*args, **kwargs)

    return wrapper


def threads_for(elements: int, free: int) -> int:
    """Threads for a program whose ops hold `elements` elements when `free` cores are free: one per
    `ELEMENTS_PER_THREAD`, at most `free`, at least one."""
    return max(1, min(free, elements // ELEMENTS_PER_THREAD))


def usable_cores() -> set[int]:
    """The cores this process may run on (its affinity mask: taskset, a container's cpuset)."""
    try:
        return os.sched_getaffinity(0)
    except AttributeError:  # macOS, Windows: no affinity mask
        return set(range(os.cpu_count() or 1))


class FreeCores:
    """Cores that other processes leave free, measured over the interval since the last call.

    From /proc/stat: the busy time of this process's cores (user, nice, system, irq, softirq, and
    steal: time a hypervisor gave the core to someone else) less this process's own CPU time, so
    the work of our own threads does not count; a process pool's workers count each other, so
    each one leaves the others' cores alone. Where /proc/stat is missing: the 1-minute load
    average less this process's own share; where that is missing too: every core is free."""

    def __init__(self, stat: str | Path = "/proc/stat") -> None:
        self.stat = Path(stat)
        self.cores = len(usable_cores())
        self._start = self._sample()
        self._free: int | None = None

    def __call__(self) -> int:
        """Free cores now, 1..cores; within `MIN_WINDOW` of the last measurement its answer stands."""
        now = self._sample()
        if now[0] - self._start[0] < MIN_WINDOW:
            if self._free is not None:
                return self._free
            time.sleep(MIN_WINDOW - (now[0] - self._start[0]))  # the first answer waits for a whole window
            now = self._sample()
        (t0, busy0, own0), (t1, busy1, own1) = self._start, now
        own = (own1 - own0) / (t1 - t0)
        others = (self._load_average() if math.isnan(busy1) else (busy1 - busy0) / (t1 - t0)) - own
        taken = math.ceil(max(0.0, others - BUSY_SHARE))
        self._start, self._free = now, max(1, min(self.cores, self.cores - taken))
        return self._free

    def _sample(self) -> tuple[float, float, float]:
        """(wall seconds, CPU-seconds busy on our cores (nan without /proc/stat), this process's CPU-seconds)."""
        wall, own = time.monotonic(), time.process_time()
        try:
            lines = self.stat.read_text().splitlines()
        except OSError:
            return wall, math.nan, own
        ours = {f"cpu{i}" for i in usable_cores()}
        ticks = 0
        for line in lines:
            name, *fields = line.split()
            if name in ours:
                user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
                ticks += user + nice + system + irq + softirq + steal
        return wall, ticks / os.sysconf("SC_CLK_TCK"), own

    def _load_average(self) -> float:
        try:
            return os.getloadavg()[0]
        except (AttributeError, OSError):
            return 0.0


free_cores = FreeCores()
"""This process's meter: its first window starts when this module is imported, each call starts the next."""
