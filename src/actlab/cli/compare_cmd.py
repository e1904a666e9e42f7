"""`actlab compare MODEL --data DATA --activations relu,gelu,...`: activations compared on your model and data."""

from __future__ import annotations

from pathlib import Path

import typer

from actlab.core.errors import ActlabInputError


def compare_command(
    model: str = typer.Argument(..., help="module:function or path/to/file.py:function: a factory make(activation) "
                                          "-> nn.Module, or one without arguments whose activations are swapped."),
    data: str = typer.Option(..., "--data", help="A .csv / .parquet file (with --target), an .npz with X and y, "
                                                  "module:function returning (X, y), or a dataset name (mnist1d, "
                                                  "digits, breast_cancer, wine)."),
    activations: str = typer.Option("relu,gelu,silu,tanh", "--activations", help="Comma-separated names, specs "
                                                                                 "or formulas."),
    target: str | None = typer.Option(None, "--target", help="The label column of a table."),
    baseline: str | None = typer.Option(None, "--baseline", help="Compared with every other (default: the first)."),
    seeds: int = typer.Option(5, "--seeds", help="Seeds (replicates; each fixes split, weights and batch order)."),
    epochs: int = typer.Option(20, "--epochs"),
    lr: str = typer.Option("0.001,0.003", "--lr", help="Comma-separated learning-rate grid (chosen on validation)."),
    optimizer: str = typer.Option("adam", "--optimizer", help="sgd, momentum, adam, adamw or rmsprop."),
    batch_size: int = typer.Option(64, "--batch-size"),
    device: str = typer.Option("cpu", "--device"),
    store: Path = typer.Option(Path("actlab-runs/compare/results.db"), "--store",
                               help="The results store (resumable: trials it holds are not run again); "
                                    "trials.csv and report.html are written next to it."),
    backend: str = typer.Option("local", "--backend", help="local, process or ray."),
    workers: str = typer.Option("1", "--workers", help="Processes for the process backend, or 'auto'."),
    dry_run: bool = typer.Option(False, "--dry-run",
                                 help="Check the model and data and print the plan; train nothing."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Compare activations on your own model and data: paired seeds, learning rate chosen on validation, the
    test split read once, paired Wilcoxon tests with Holm, Friedman ranks; a table, the answer and a report."""
    import torch

    from actlab.cli.output import output_file
    from actlab.studies.compare import compare
    from actlab.studies.compare.study import CompareConfig, plan
    from actlab.studies.compare.train import split_specs
    from actlab.studies.config import ConfigError
    from actlab.studies.estimate import admit, plan_summary

    try:
        lrs = [float(v) for v in lr.split(",") if v.strip()]
    except ValueError:
        raise ActlabInputError(f"--lr: expected comma-separated numbers, got {lr!r}") from None
    if device != "cpu" and not (device.startswith("cuda") and torch.cuda.is_available()):
        raise ActlabInputError(f"--device: {device!r} is not available here (allowed: cpu"
                               f"{', cuda' if torch.cuda.is_available() else ''})")
    n_workers: int | str = workers if workers == "auto" else _count(workers)
    try:
        cfg = CompareConfig(model=model, data=data, target=target or "", baseline=baseline or "",
                            activations=split_specs(activations), seeds=seeds, lr=lrs, optimizer=optimizer,
                            epochs=epochs, batch_size=batch_size)
        from actlab.studies.compare.study import _factory

        _factory(model)  # the model reference resolves (a clear error now, not in a worker)
        batches = plan(cfg)
        admit("compare", cfg, batches)
    except ConfigError as e:
        raise ActlabInputError(str(e)) from None
    if dry_run:
        print(plan_summary(batches, store).text("compare", store))
        return
    output_file(store, "the store")
    import sys

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    todo = plan_summary(batches, store).todo
    with Progress(TextColumn("compare"), BarColumn(), MofNCompleteColumn(), TextColumn("trials"), TimeElapsedColumn(),
                  console=Console(stderr=True), disable=quiet) as bar:
        task = bar.add_task("compare", total=todo)
        result = compare(model, data, cfg.activations, baseline=baseline, seeds=seeds, lr=lrs, optimizer=optimizer,
                         epochs=epochs, batch_size=batch_size, target=target, device=device, store=store,
                         backend=backend, workers=n_workers, on_batch=lambda n: bar.advance(task, n),
                         command=" ".join(["actlab", *sys.argv[1:]]))
    result.to_csv(store.parent / "trials.csv")
    report = result.report(store.parent / "report.html")
    print(result)
    print(f"\nstore: {store}\ntrials: {store.parent / 'trials.csv'}\nreport: {report}")


def _count(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ActlabInputError(f"--workers: expected a number ≥ 1 or 'auto', got {text!r}") from None
