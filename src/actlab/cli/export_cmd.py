"""`actlab export --store PATH -o FILE.csv|FILE.parquet [--study NAME]`."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from actlab.cli.output import output_file
from actlab.results.export import export


def export_command(
    store: Path = typer.Option(Path("actlab-runs/results.db"), "--store", help="The results store to read."),
    output: Path = typer.Option(..., "-o", "--output", help="Output file: .csv or .parquet."),
    study: str | None = typer.Option(None, help="Only this study's trials."),
) -> None:
    """Export the trials of a results store (config and metrics flattened) for analysis elsewhere."""
    out = output_file(output, "the export")
    typer.echo(str(export(store, out, study=study, command=" ".join(["actlab", *sys.argv[1:]]))))
