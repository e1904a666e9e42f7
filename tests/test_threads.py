"""Torch threads per batch: the rule (size and free cores), the free-core meter, and what a run leaves behind."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from actlab.core import threads
from actlab.core.errors import ActlabInputError
from actlab.core.threads import ELEMENTS_PER_THREAD, FreeCores, threads_for, torch_threads
from actlab.studies import runner
from actlab.studies.config import build
from actlab.studies.plan import Batch
from actlab.studies.planar import study as planar
from actlab.studies.planar.study import PlanarConfig
from actlab.studies.runner import batch_elements, batch_threads, execute, resources


# --- the rule ----------------------------------------------------------------------------------
def test_small_batches_get_one_thread_large_ones_the_free_cores() -> None:
    assert threads_for(4_800, free=2) == 1  # a planar batch of width 2
    assert threads_for(ELEMENTS_PER_THREAD - 1, free=16) == 1
    assert threads_for(2 * ELEMENTS_PER_THREAD, free=2) == 2
    assert threads_for(2 * ELEMENTS_PER_THREAD, free=1) == 1
    assert threads_for(5 * ELEMENTS_PER_THREAD, free=16) == 5  # one thread per ELEMENTS_PER_THREAD
    assert threads_for(100 * ELEMENTS_PER_THREAD, free=16) == 16


def planar_batch(trials: int, width: int, n: int = 400) -> Batch:
    """One planar batch of `trials` trials (circle, relu, one optimizer and learning rate), planned by the study."""
    from actlab.studies.planar.study import PlanarConfig, plan

    (batch,) = plan(build(PlanarConfig, {"datasets": ["circle"], "activations": ["relu"], "widths": [width],
                                         "optimizers": ["adam"], "lr": 0.01, "seeds": trials, "n": n}))
    return batch


def single_batch(optimizer: str, trials: int) -> Batch:
    from actlab.studies.single_sample.study import SingleSampleConfig, plan

    (batch,) = plan(build(SingleSampleConfig, {"activations": ["tanh"], "optimizers": [optimizer], "lr": 0.01,
                                               "targets": [0.5], "seeds": trials, "popsize": 100}))
    return batch


def test_a_batch_size_is_trials_times_population_width_and_training_points() -> None:
    assert batch_elements(planar_batch(12, 10)) == 12 * 10 * 200
    assert batch_elements(single_batch("adamm", 120)) == 120 * 100
    assert batch_elements(single_batch("adam", 120)) == 120


def test_batch_threads_follow_size_free_cores_and_device() -> None:
    small, large = planar_batch(12, 2), planar_batch(140, 100, n=1600)
    assert batch_threads(small, free=2) == 1
    assert batch_threads(large, free=2) == 2
    assert batch_threads(large, free=1) == 1
    assert batch_threads(large, "cuda", free=2) == 1


# --- the free-core meter -------------------------------------------------------------------------
class Machine:
    """A fake /proc/stat with its clocks: `run(seconds, ours=…, others=…)` advances them."""

    def __init__(self, path: Path, cores: int = 2) -> None:
        self.path, self.cores, self.wall, self.own, self.busy = path, cores, 100.0, 1.0, [0] * cores
        self.write()

    def write(self) -> None:
        rows = [f"cpu{i} {b} 0 0 1000 0 0 0 0 0 0" for i, b in enumerate(self.busy)]
        self.path.write_text("cpu 0 0 0 0 0 0 0 0 0 0\n" + "\n".join(rows) + "\nintr 0\n")

    def run(self, seconds: float, ours: float = 0.0, others: float = 0.0) -> None:
        """`ours` and `others`: cores busy with this process and with other processes (user ticks of 10 ms)."""
        total = round((ours + others) * seconds * 100)
        for i in range(total):
            self.busy[i % self.cores] += 1
        self.wall, self.own = self.wall + seconds, self.own + ours * seconds
        self.write()


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Machine:
    m = Machine(tmp_path / "stat")
    monkeypatch.setattr(threads, "usable_cores", lambda: {0, 1})
    monkeypatch.setattr(threads.time, "monotonic", lambda: m.wall)
    monkeypatch.setattr(threads.time, "process_time", lambda: m.own)
    monkeypatch.setattr(threads.time, "sleep", lambda s: m.run(s))
    monkeypatch.setattr(threads.os, "sysconf", lambda name: 100)
    return m


def test_free_cores_subtract_our_own_work(machine: Machine) -> None:
    meter = FreeCores(machine.path)
    machine.run(2.0, ours=1.0)
    assert meter() == 2  # the machine was busy, but with us
    machine.run(2.0, ours=2.0)
    assert meter() == 2
    machine.run(2.0, ours=1.0, others=1.0)
    assert meter() == 1  # one busy process next to us
    machine.run(2.0, ours=2.0 * 2 / 3, others=2 / 3)
    assert meter() == 1  # our two threads squeeze it, it still takes a core
    machine.run(2.0, others=2.0)
    assert meter() == 1  # never fewer than one
    machine.run(2.0, ours=1.0, others=0.2)
    assert meter() == 2  # a shell, a progress bar: still free


def test_the_first_answer_waits_for_a_window_then_answers_stand_within_one(machine: Machine) -> None:
    meter = FreeCores(machine.path)
    start = machine.wall
    assert meter() == 2 and machine.wall - start == pytest.approx(threads.MIN_WINDOW)
    machine.run(0.1, others=2.0)
    assert meter() == 2  # within the window: the last answer
    machine.run(1.0, others=2.0)
    assert meter() == 1


def test_without_proc_stat_the_load_average_then_all_cores(machine: Machine, monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (2.0, 0.0, 0.0))
    meter = FreeCores(tmp_path / "no-such-file")
    machine.run(1.0, ours=1.0)
    assert meter() == 1  # load 2, one of it ours
    monkeypatch.delattr(threads.os, "getloadavg")
    machine.run(1.0, ours=1.0)
    assert meter() == 2


def test_the_real_meter_answers_within_the_usable_cores() -> None:
    meter = FreeCores()
    assert 1 <= meter() <= meter.cores == len(threads.usable_cores())


# --- runs ----------------------------------------------------------------------------------------
def small_plan() -> list[Batch]:
    return planar.plan(PlanarConfig(datasets=["circle"], activations=["tanh"], widths=[2], optimizers=["adam"],
                                    lr=0.05, seeds=2, steps=5, n=40))


def test_a_local_run_sets_threads_per_batch_and_gives_the_callers_back(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    real = planar.run_batch

    def spy(batch: Batch, device: str = "cpu") -> list:
        seen.append(torch.get_num_threads())
        return real(batch, device)

    job = runner.job
    monkeypatch.setattr(runner, "job", lambda b: runner.Job(spy, job(b).elements))
    with torch_threads(3):
        execute(small_plan(), tmp_path / "a.db")
        assert torch.get_num_threads() == 3
        execute(small_plan(), tmp_path / "b.db", threads=2)
        assert torch.get_num_threads() == 3
    assert seen == [1, 2]


def test_resources_count_a_pools_other_workers_as_busy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "free_cores", Free(4, 4))
    large = [planar_batch(140, 100, n=1600)]  # 11.2 M elements: up to 2240 threads
    assert resources(large).threads == {4: 1}
    assert resources(large, "process", workers=2).threads == {2: 1}  # its share of the 4 cores
    assert resources(large, "process", workers=8).threads == {1: 1}
    assert resources(large, "ray").threads == {1: 1}  # a Ray task reserves one CPU
    assert resources(large, threads=3).threads == {3: 1} and resources(large, threads=3).fixed


def test_a_pool_worker_takes_at_most_its_share_of_the_cores() -> None:
    large = planar_batch(140, 100, n=1600)
    assert batch_threads(large, free=15, most=runner.free_cores.cores) == min(15, runner.free_cores.cores)
    assert batch_threads(large, free=15, most=8) == 8
    assert runner.most_threads("local", 1) is None and runner.most_threads("ray", 1) == 1
    assert runner.most_threads("process", 2) == max(1, runner.free_cores.cores // 2)


class Free:
    """A fake meter: `free` of `cores` cores free."""

    def __init__(self, free: int, cores: int) -> None:
        self.free, self.cores = free, cores

    def __call__(self) -> int:
        return self.free


def test_workers_auto_hands_the_rest_to_a_pool_only_when_it_pays(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    pools = []

    def pool(todo: list[Batch], workers: int, device: str, threads: int | None, still_pending: object) -> list:
        pools.append((len(todo), workers))
        return [runner.run_batch(b, device, threads) for b in todo]

    monkeypatch.setattr(runner, "_process_pool", pool)
    monkeypatch.setattr(runner, "free_cores", Free(2, 2))
    batches = planar.plan(PlanarConfig(datasets=["circle"], activations=["tanh", "relu", "cos"], widths=[2],
                                       optimizers=["adam"], lr=0.05, seeds=2, steps=5, n=40))
    execute(batches, tmp_path / "a.db", workers="auto")
    assert pools == []  # three tiny batches: done before the probe ends
    monkeypatch.setattr(runner, "PROBE_SECONDS", 0.0)
    monkeypatch.setattr(runner, "WORKER_START", 0.0)
    execute(batches, tmp_path / "b.db", workers="auto")
    assert pools == [(3, 2)]
    monkeypatch.setattr(runner, "free_cores", Free(1, 2))
    execute(batches, tmp_path / "c.db", workers="auto")
    assert pools == [(3, 2)]  # one core free: this process goes on
    with pytest.raises(ActlabInputError, match="--workers must be ≥ 1 or 'auto'"):
        execute(batches, tmp_path / "d.db", workers="all")


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "actlab", *args], capture_output=True, text=True, timeout=120)


def test_dry_run_names_the_workers_and_the_threads(tmp_path: Path) -> None:
    store = str(tmp_path / "x.db")
    r = cli("run", "planar", "--quick", "--dry-run", "--store", store)
    assert r.returncode == 0, r.stderr
    assert "runs in this process" in r.stdout and "cores free now" in r.stdout
    counts = re.search(r"torch threads chosen per batch from its size and the free cores: (.*)", r.stdout)
    assert counts and sum(int(k) for k in re.findall(r"× (\d+) batches", counts[1])) == 12
    r = cli("run", "planar", "--quick", "--dry-run", "--workers", "2", "--threads", "2", "--store", store)
    assert r.returncode == 0 and "2 worker processes" in r.stdout and "(--threads): 2 threads × 12 batches" in r.stdout
    r = cli("run", "planar", "--quick", "--dry-run", "--workers", "auto", "--store", store)
    assert r.returncode == 0 and "one worker process per free core (--workers auto)" in r.stdout
    r = cli("run", "planar", "--quick", "--threads", "0", "--store", store)
    assert r.returncode == 2 and "--threads must be ≥ 1" in r.stderr and not Path(store).exists()
    r = cli("run", "planar", "--quick", "--workers", "many", "--store", store)
    assert r.returncode == 2 and "--workers must be ≥ 1 or 'auto'" in r.stderr and not Path(store).exists()


def test_results_do_not_depend_on_the_threads() -> None:
    from actlab.studies.single_sample import study as single_sample
    from actlab.studies.single_sample.study import SingleSampleConfig

    wide = planar.plan(PlanarConfig(datasets=["circle", "xor"], activations=["tanh"], widths=[100],
                                    optimizers=["adam"], lr=0.05, seeds=3, steps=20))[0]  # 120 000 elements
    adamm = single_sample.plan(SingleSampleConfig(activations=["tanh"], optimizers=["adamm"], seeds=200, steps=20,
                                                  lr=0.1))[0]  # 400 trials × 100 members
    for batch in (wide, adamm):
        one, two = (runner.run_batch(batch, threads=n) for n in (1, 2))
        assert [({**r.metrics, "time": 0}, r.curve) for r in one] == [({**r.metrics, "time": 0}, r.curve) for r in two]


def test_the_estimate_divides_only_the_parallel_part_by_the_threads_speedup(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch of 10 s on one thread, 4 of them serial (Python per step): on 2 free cores 4 + 6 / 2^0.85 s, on
    one 10 s."""
    from actlab.studies import estimate, registry
    from actlab.studies.protocol import Cost

    batch = planar_batch(140, 100, n=1600)  # 11.2 M elements: as many threads as are free
    study = dataclasses.replace(registry.study(batch.study), cost=lambda b: Cost(10.0, 10**8, 0, serial=4.0))
    monkeypatch.setattr(registry, "study", lambda name: study)
    monkeypatch.setattr(estimate, "free_cores", Free(2, 2))
    assert estimate.plan_summary([batch], tmp_path / "none.db").seconds == pytest.approx(4 + 6 / 2 ** 0.85)
    monkeypatch.setattr(estimate, "free_cores", Free(1, 2))
    assert estimate.plan_summary([batch], tmp_path / "none.db").seconds == pytest.approx(10.0)
