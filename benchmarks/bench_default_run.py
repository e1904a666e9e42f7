"""How long the default `actlab run` takes here (goal: under 5 minutes on a 2-core CPU, no GPU).

Runs it in a fresh temporary folder exactly as a user would, then prints its time per stage
(single-sample, planar, report) and the total wall time.

    python benchmarks/bench_default_run.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time

import torch


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "actlab", "run", "--quiet"], cwd=folder, capture_output=True,
                           text=True)
        wall = time.perf_counter() - start
    if r.returncode != 0:
        sys.exit(f"actlab run failed: {r.stderr}")
    stages = next(line for line in r.stdout.splitlines() if line.startswith("time per stage"))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(stages)
    print(f"wall time of `actlab run` including start-up: {wall:.1f} s (goal: < 300 s)")


if __name__ == "__main__":
    main()
