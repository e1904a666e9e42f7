"""The single-sample study's batches on another device (cuda) against the CPU.

Runs a small plan (every optimizer, a few activations and bound modes) on DEVICE and on the CPU
and compares per-trial metrics: success must agree for all but a few trials (float32 rounding
differs between devices, so a trial at the threshold may fall either way) and the best losses
must agree where both are well above the threshold. Prints one line per batch and the time on
each device; exit status 1 on a mismatch.

    python benchmarks/check_engine_device.py --device cuda [--seeds 200] [--steps 300]
"""

from __future__ import annotations

import argparse
import sys
import time

from actlab.engine import OPTIMIZERS
from actlab.studies.config import build
from actlab.studies.single_sample.study import SingleSampleConfig, plan, run_batch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--steps", type=int, default=300)
    args = ap.parse_args()
    cfg = build(SingleSampleConfig, {"activations": ["tanh", "snake", "relu"], "optimizers": list(OPTIMIZERS),
                                     "seeds": args.seeds, "steps": args.steps, "lr": [0.01],
                                     "bounds": ["none", "reflect"]})
    bad = 0
    for batch in plan(cfg):
        t0 = time.perf_counter()
        cpu = run_batch(batch, "cpu")
        t1 = time.perf_counter()
        dev = run_batch(batch, args.device)
        t2 = time.perf_counter()
        differ = sum(a.metrics["success"] != b.metrics["success"] for a, b in zip(cpu, dev))
        c0 = batch.trials[0].config
        ok = differ <= max(2, len(cpu) // 50)
        bad += not ok
        print(f"{'ok ' if ok else 'BAD'} {c0['activation']:8s} {c0['optimizer']:8s} {c0['bounds']:8s} "
              f"{len(cpu):5d} trials, success differs in {differ:3d}; cpu {t1 - t0:6.2f} s, "
              f"{args.device} {t2 - t1:6.2f} s")
    print("mismatching batches:", bad)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
