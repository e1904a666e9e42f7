"""`actlab run STUDY --quick` alone and next to one busy process: does the thread choice hold up under load?

Goal: next to one process that keeps a core busy, a run takes at most 1.3× its time alone, and
alone the automatic choice is no slower than the best fixed setting. Each run is the whole command
(`python -m actlab run STUDY --quick --quiet`, start-up included) into a fresh temporary store;
"loaded" runs it while a spinning Python process keeps one core busy. `--compare` adds the fixed
settings of before (`--threads 2`, torch's default on 2 cores, and `--threads 1`) and `--workers
auto` (alone it takes both cores with two processes, so its loaded/alone ratio is not the goal's).

The machine may be shared: the "others" columns are the CPU other processes (not this benchmark,
its runs or its spinner) used during each run, in cores; "alone" means alone only where it is near
0. `--wait-idle` starts each run only once other processes have left the machine idle for a second.

    python benchmarks/bench_load.py [--repeat 3] [--compare] [--wait-idle] [--studies planar single-sample]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SETTINGS = {"auto": [], "--threads 2": ["--threads", "2"], "--threads 1": ["--threads", "1"],
            "--workers auto": ["--workers", "auto"]}
SPIN = "while True: pass"


def busy_seconds() -> float:
    """CPU-seconds the whole machine has been busy (/proc/stat: everything but idle and iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def ours_seconds() -> float:
    """CPU-seconds of this process and its finished children (the runs and the spinner)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def wait_until_idle(limit: float = 900.0) -> None:
    """Until other processes use under 0.1 cores for one second (at most `limit` seconds)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        busy0, ours0, t0 = busy_seconds(), ours_seconds(), time.perf_counter()
        time.sleep(1.0)
        if (busy_seconds() - busy0 - (ours_seconds() - ours0)) / (time.perf_counter() - t0) < 0.1:
            return


def run(study: str, flags: list[str], loaded: bool) -> tuple[float, float]:
    """(seconds of the whole command, cores other processes used meanwhile)."""
    busy0, ours0, t0 = busy_seconds(), ours_seconds(), time.perf_counter()
    spinner = subprocess.Popen([sys.executable, "-c", SPIN]) if loaded else None
    try:
        if spinner:
            time.sleep(0.5)  # the spinner is up and busy before the run starts
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            r = subprocess.run([sys.executable, "-m", "actlab", "run", study, "--quick", "--quiet", *flags,
                                "--store", str(Path(folder) / "results.db")], capture_output=True, text=True)
            wall = time.perf_counter() - start
    finally:
        if spinner:
            spinner.kill()
            spinner.wait()  # reaped: its CPU time counts in ours_seconds()
    if r.returncode != 0:
        sys.exit(f"actlab run {study} failed: {r.stderr}")
    others = (busy_seconds() - busy0 - (ours_seconds() - ours0)) / (time.perf_counter() - t0)
    return wall, max(0.0, others)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--repeat", type=int, default=3, help="Runs of each (study, setting, load).")
    ap.add_argument("--compare", action="store_true", help="Also --threads 2, --threads 1 and --workers auto.")
    ap.add_argument("--studies", nargs="+", default=["planar", "single-sample"])
    ap.add_argument("--wait-idle", action="store_true", help="Start each run once other processes are idle.")
    args = ap.parse_args()
    settings = list(SETTINGS) if args.compare else ["auto"]
    print(f"{os.cpu_count()} cores; actlab run STUDY --quick, seconds of the whole command; "
          f"'others' = cores busy with other processes during the run")
    print(f"{'study':14s} {'setting':14s} {'alone s':>8s} {'others':>6s} {'loaded s':>9s} {'others':>6s} "
          f"{'loaded/alone':>12s}")
    for study in args.studies:
        for name in settings:
            ratios = []
            for _ in range(args.repeat):
                timings = []
                for spin in (False, True):
                    if args.wait_idle:
                        wait_until_idle()
                    timings.append(run(study, SETTINGS[name], loaded=spin))
                (alone, a_others), (loaded, l_others) = timings
                print(f"{study:14s} {name:14s} {alone:8.1f} {a_others:6.2f} {loaded:9.1f} {l_others:6.2f} "
                      f"{loaded / alone:12.2f}", flush=True)
                ratios.append(loaded / alone)
            print(f"{study:14s} {name:14s} median loaded/alone {statistics.median(ratios):.2f} (goal ≤ 1.3)")


if __name__ == "__main__":
    main()
