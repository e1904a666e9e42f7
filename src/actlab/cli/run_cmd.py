"""`actlab run [STUDY|PRESET.toml] [--set key=value ...] [--store PATH] [--quick] [--dry-run] [--workers N]
[--threads N] [--backend local|process|ray] [--device cpu|cuda] [--quiet]`; N of --workers may be 'auto'."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from actlab.core.errors import ActlabInputError
from actlab.studies.page import summary_tables
from actlab.studies.registry import default_run, resolve, resolve_default
from actlab.studies.runner import AUTO, BACKENDS, admit, estimated_plan, plan_summary, resources, run_study

DEFAULT_STORE = Path("actlab-runs/results.db")


def run_command(
    target: str | None = typer.Argument(None, metavar="[STUDY|PRESET.toml]",
                                        help="A study (single-sample, planar) or a preset file; none: the default "
                                             "run (both studies, small, then the report)."),
    set_: list[str] = typer.Option([], "--set", help="Override a config key: key=value (TOML literal)."),
    store: Path = typer.Option(DEFAULT_STORE, "--store", help="The results store (created if missing)."),
    quick: bool = typer.Option(False, "--quick", help="The study's small preset."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan (cells, trials, batches), the workers "
                                                        "and the threads it would use; run nothing."),
    workers_: str = typer.Option("1", "--workers", metavar="N|auto",
                                 help="Processes for the 'process' backend (> 1 selects it); auto: one per free "
                                      "core once the first batches show the rest is worth their start-up."),
    threads: int | None = typer.Option(None, "--threads", help="Torch threads per batch; default: chosen per batch "
                                                               "from its size and the cores free now."),
    backend: str = typer.Option("local", "--backend", help=f"One of {', '.join(BACKENDS)}."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda[:N]."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Run a study: every trial the store does not hold yet, batched; then a summary. With no study:
    the default run (every study small, and the planar article's own setup) and the HTML report next to
    the store."""
    _check_device(device)
    if backend not in BACKENDS:
        raise ActlabInputError(f"--backend: unknown backend {backend!r} (allowed: {', '.join(BACKENDS)})")
    workers = _workers(workers_)
    if threads is not None and threads < 1:
        raise ActlabInputError(f"--threads must be ≥ 1, got {threads}")
    if workers != AUTO and int(workers) > 1 and backend == "local":
        backend = "process"
    default = target is None
    stages = resolve_default(set_) if default else [resolve(target, set_, quick=quick)]
    plans = [(study, study.plan(cfg)) for study, cfg in stages]  # every config is checked before anything runs
    for (study, cfg), (_, batches) in zip(stages, plans):
        admit(study.name, cfg, estimated_plan(study, cfg, batches))  # a batch that cannot fit: refused before running
    if dry_run:
        for (study, cfg), (_, batches) in zip(stages, plans):
            everything = estimated_plan(study, cfg, batches, store)
            summary = plan_summary(everything, store)
            typer.echo(summary.text(study.name, store))
            if study.staged:
                later = sum(len(b) for b in everything) - sum(len(b) for b in batches)
                typer.echo(f"{study.name} runs in stages: the first holds {sum(len(b) for b in batches)} trials; "
                           f"the later stages' {later} trials are planned from its results as it runs (counted "
                           "here at the sizes its rules give them)")
            typer.echo(resources(everything, backend, workers, device, threads).text())
        return
    command = " ".join(["actlab", *sys.argv[1:]])
    console = Console() if Console().is_terminal else Console(width=160)
    times: list[tuple[str, float]] = []
    # a default run's stages are named by their presets (three are planar: the study's and the article's)
    labels = [p.removeprefix("default-").removesuffix(".toml") for _, p in default_run()] if default else \
        [study.name for study, _ in plans]
    for i, ((study, batches), (_, cfg), label) in enumerate(zip(plans, stages, labels)):
        start = time.perf_counter()
        result = _run_one(label, study, cfg, batches, store, backend, workers, device, threads, quiet, command)
        if all(later.name != study.name for later, _ in plans[i + 1:]):  # a study's tables once, after its last stage
            for table in summary_tables(store, study.name):
                console.print(table)
        typer.echo(f"{label}: {result.ran} trials run, {result.stored_before} already stored, "
                   f"{result.seconds:.1f} s; store: {store}")
        times.append((label, time.perf_counter() - start))
    if default:
        from actlab.studies.page import write_report

        start = time.perf_counter()
        out = write_report(store, store.parent / "report.html", command=command)
        times.append(("report", time.perf_counter() - start))
        typer.echo("time per stage: " + ", ".join(f"{name} {sec:.1f} s" for name, sec in times) +
                   f"; total {sum(sec for _, sec in times):.1f} s")
        typer.echo(str(out))


def _workers(text: str) -> int | str:
    """--workers: a count ≥ 1 or 'auto'."""
    if text == AUTO:
        return AUTO
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise ActlabInputError(f"--workers must be ≥ 1 or 'auto', got {text}")
    return n


def _run_one(name: str, study: Any, cfg: Any, batches: list[Any], store: Path, backend: str, workers: int | str,
             device: str, threads: int | None, quiet: bool, command: str) -> Any:
    err = Console(stderr=True)
    summary = plan_summary(batches, store)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("trials"),
                  TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                  console=err, disable=quiet) as progress:
        task = progress.add_task(name, total=summary.todo, rate="")

        def advance(n: int) -> None:
            progress.advance(task, n)
            t = progress.tasks[0]
            if t.elapsed:
                progress.update(task, rate=f"{t.completed / t.elapsed:,.0f}/s")

        def grow(more: list[Any]) -> None:  # a staged study's next stage, planned from the last one's results
            progress.update(task, total=(progress.tasks[0].total or 0) + plan_summary(more, store).todo)

        return run_study(study, cfg, store, batches=batches, on_stage=grow, backend=backend, workers=workers,
                         device=device, threads=threads, on_batch=advance, command=command)


def _check_device(device: str) -> None:
    import torch

    if device == "cpu":
        return
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ActlabInputError(f"--device {device}: no CUDA device is available here (use cpu)")
        return
    raise ActlabInputError(f"--device: expected cpu or cuda[:N], got {device!r}")
