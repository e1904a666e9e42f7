"""Time of `actlab.analyze` per elementwise catalog entry and for the whole catalog.

    python benchmarks/bench_analysis.py [--no-cost]
"""

from __future__ import annotations

import argparse
import time

import actlab


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-cost", action="store_true", help="skip the forward+backward timing inside analyze")
    args = ap.parse_args()
    actlab.analyze("relu")  # warm-up (first torch calls)
    names = [n for n in actlab.names() if actlab.create(n).properties.elementwise]
    times = []
    start = time.perf_counter()
    for n in names:
        t = time.perf_counter()
        actlab.analyze(n, cost=not args.no_cost)
        times.append((time.perf_counter() - t, n))
    total = time.perf_counter() - start
    times.sort()
    print(f"{len(names)} activations in {total:.2f} s (target: under 60 s); "
          f"median {times[len(times) // 2][0] * 1e3:.0f} ms, slowest {times[-1][1]} {times[-1][0] * 1e3:.0f} ms "
          f"(target: well under 1 s each)")
    for t, n in times[::-1][:10]:
        print(f"  {n:24s} {t * 1e3:7.0f} ms")


if __name__ == "__main__":
    main()
