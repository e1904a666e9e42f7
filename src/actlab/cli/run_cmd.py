"""`actlab run [STUDY|PRESET.toml] [--set key=value ...] [--store PATH] [--quick] [--dry-run] [--workers N]
[--backend local|process|ray] [--device cpu|cuda] [--quiet]`."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from actlab.core.errors import ActlabInputError
from actlab.report.aggregate import cell_tables
from actlab.studies.registry import resolve
from actlab.studies.runner import BACKENDS, execute, plan_summary

DEFAULT_STORE = Path("actlab-runs/results.db")


def run_command(
    target: str | None = typer.Argument(None, metavar="[STUDY|PRESET.toml]",
                                        help="A study name (single-sample) or a preset file; none: the default study."),
    set_: list[str] = typer.Option([], "--set", help="Override a config key: key=value (TOML literal)."),
    store: Path = typer.Option(DEFAULT_STORE, "--store", help="The results store (created if missing)."),
    quick: bool = typer.Option(False, "--quick", help="The study's small preset."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan (cells, trials, batches); run nothing."),
    workers: int = typer.Option(1, "--workers", help="Processes for the 'process' backend."),
    backend: str = typer.Option("local", "--backend", help=f"One of {', '.join(BACKENDS)}."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda[:N]."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Run a study: every trial the store does not hold yet, batched; then a summary (and, for the
    default study, the HTML report)."""
    _check_device(device)
    if backend not in BACKENDS:
        raise ActlabInputError(f"--backend: unknown backend {backend!r} (allowed: {', '.join(BACKENDS)})")
    if workers < 1:
        raise ActlabInputError(f"--workers must be ≥ 1, got {workers}")
    if workers > 1 and backend == "local":
        backend = "process"
    default = target is None
    study, cfg = resolve(target, set_, quick=quick or default)
    batches = study.plan(cfg)
    summary = plan_summary(batches, store)
    err = Console(stderr=True)
    if dry_run:
        typer.echo(summary.text(study.name, store))
        return
    command = " ".join(["actlab", *sys.argv[1:]])
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("trials"),
                  TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                  console=err, disable=quiet, transient=False) as progress:
        task = progress.add_task(study.name, total=summary.todo, rate="")

        def advance(n: int) -> None:
            progress.advance(task, n)
            t = progress.tasks[0]
            if t.elapsed:
                progress.update(task, rate=f"{t.completed / t.elapsed:,.0f}/s")

        result = execute(batches, store, backend=backend, workers=workers, device=device, on_batch=advance,
                         command=command)
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    for table in cell_tables(store, study.name):
        console.print(table)
    typer.echo(f"{result.ran} trials run, {result.stored_before} already stored, {result.seconds:.1f} s; "
               f"store: {store}")
    if default:
        from actlab.report import write_report

        out = store.parent / "report.html"
        write_report(store, out, command=command)
        typer.echo(str(out))


def _check_device(device: str) -> None:
    import torch

    if device == "cpu":
        return
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ActlabInputError(f"--device {device}: no CUDA device is available here (use cpu)")
        return
    raise ActlabInputError(f"--device: expected cpu or cuda[:N], got {device!r}")

