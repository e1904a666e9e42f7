"""`actlab compare MODEL --data DATA --activations relu,gelu,...`: activations compared on your model and data."""

from __future__ import annotations

from pathlib import Path

import typer

from actlab.core.errors import ActlabInputError


def compare_command(
    model: str = typer.Argument(..., help="module:function or path/to/file.py:function: a factory make(activation) "
                                          "-> nn.Module, or one without arguments whose activations are swapped."),
    data: str = typer.Option(..., "--data", help="A .csv / .parquet file (with --target), an .npz with X and y, "
                                                  "or module:function returning (X, y)."),
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
    out: Path = typer.Option(Path("actlab-runs/compare"), "--out", help="Folder for trials.csv and report.html."),
    dry_run: bool = typer.Option(False, "--dry-run",
                                 help="Check the model and data and print the plan; train nothing."),
) -> None:
    """Compare activations on your own model and data: paired seeds, learning rate chosen on validation, the
    test split read once, paired Wilcoxon tests with Holm, Friedman ranks; a table, the answer and a report."""
    import torch

    from actlab.studies.compare import compare
    from actlab.studies.compare.data import load_object

    try:
        lrs = [float(v) for v in lr.split(",") if v.strip()]
    except ValueError:
        raise ActlabInputError(f"--lr: expected comma-separated numbers, got {lr!r}") from None
    if device != "cpu" and not (device.startswith("cuda") and torch.cuda.is_available()):
        raise ActlabInputError(f"--device: {device!r} is not available here (allowed: cpu"
                               f"{', cuda' if torch.cuda.is_available() else ''})")
    factory = load_object(model, "model")
    kw = dict(activations=activations, baseline=baseline, seeds=seeds, lr=lrs, optimizer=optimizer, epochs=epochs,
              batch_size=batch_size, target=target, device=device)
    if dry_run:
        result = compare(factory, data, **{**kw, "epochs": 1, "seeds": 1, "lr": lrs[:1]}, plan_only=True)
        n = len(result.settings["activations"]) * seeds * len(lrs)
        print(f"{n} trials: {len(result.settings['activations'])} activations × {seeds} seeds × {len(lrs)} learning "
              f"rates × {epochs} epochs; task {result.task} ({result.metric}); data {result.data}.")
        return
    if out.exists() and not out.is_dir():
        raise ActlabInputError(f"--out: {out} exists and is not a folder")
    result = compare(factory, data, **kw, progress=lambda line: print(line, flush=True))
    out.mkdir(parents=True, exist_ok=True)
    result.to_csv(out / "trials.csv")
    report = result.report(out / "report.html")
    print(result)
    print(f"\ntrials: {out / 'trials.csv'}\nreport: {report}")
