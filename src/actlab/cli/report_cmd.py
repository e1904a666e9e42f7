"""`actlab report [--store PATH] [-o FILE.html]`."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from actlab.report import write_report
from actlab.results import Store


def report_command(
    store: Path = typer.Option(Path("actlab-runs/results.db"), "--store", help="The results store to read."),
    output: Path | None = typer.Option(None, "-o", "--output",
                                       help="HTML file (default: report.html next to the store)."),
) -> None:
    """Write the HTML report of a results store (one self-contained file) and print its path."""
    Store(store, create=False).close()  # a missing, foreign or other-version store: one clear line, exit 2
    out = output or store.parent / "report.html"
    typer.echo(str(write_report(store, out, command=" ".join(["actlab", *sys.argv[1:]]))))
