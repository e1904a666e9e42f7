"""How long the activation search takes, stage by stage: the wall time of the screen, of each rung (with its
candidates per minute) and of the final test, the whole run against the `--dry-run` estimate.

    python benchmarks/bench_search.py                  # the quick preset, in a temporary store
    python benchmarks/bench_search.py --full --workers 2
    python benchmarks/bench_search.py --full --store runs/search.db   # resumes a store: stored stages take ~0 s

What a user gets: the same `run_study` that `actlab run search` calls, on its default backend (or the process
pool with --workers N), with threads chosen per batch as the CLI does.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from actlab.studies.estimate import duration, plan_summary
from actlab.studies.registry import resolve
from actlab.studies.runner import estimated_plan, run_study


def label(batches: list) -> str:
    c = batches[0].trials[0].config
    return f"rung {c['rung']}" if c["stage"] == "rung" else c["stage"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="the full preset (default: the quick one)")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--store", type=Path, default=None)
    args = ap.parse_args()
    study, cfg = resolve("search", [], quick=not args.full)
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or Path(tmp) / "search.db"
        marks: list[tuple[float, str, int]] = []
        first = study.plan(cfg)
        marks.append((time.perf_counter(), label(first), sum(len(b) for b in first)))

        def stage(batches: list) -> None:
            marks.append((time.perf_counter(), label(batches), sum(len(b) for b in batches)))

        out = run_study(study, cfg, store, batches=first, on_stage=stage, backend="process" if args.workers > 1
                        else "local", workers=args.workers)
        end = time.perf_counter()
        estimate = plan_summary(estimated_plan(study, cfg, first), Path(tmp) / "none.db").seconds  # as if nothing ran
    print(f"search ({'full' if args.full else 'quick'} preset, {args.workers} worker(s)): {out.ran} trials run, "
          f"{out.stored_before} already stored, {out.stages} stages")
    for (start, name, trials), (stop, _, _) in zip(marks, [*marks[1:], (end, "", 0)]):
        seconds = stop - start
        tasks = 1
        if name.startswith("rung"):
            k = int(name.split()[1])
            tasks = cfg.rung_tasks[k]
        per_min = f"; {60 * trials / tasks / seconds:,.0f} candidates per minute" if name.startswith("rung") else ""
        print(f"  {name:<8} {trials:>6} trials  {seconds:8.1f} s{per_min}")
    total = end - marks[0][0]
    print(f"whole run {duration(total)} ({total:.0f} s); the dry-run estimate {duration(estimate)} ({estimate:.0f} s, "
          f"for one process), measured / estimated = {total / estimate:.2f}")


if __name__ == "__main__":
    main()
