"""`actlab plot SPEC [SPEC ...] -o FILE [--derivatives] [--second]`."""

from __future__ import annotations

from pathlib import Path

import typer

from actlab.analysis.plots import plot
from actlab.cli.analyze_cmd import as_spec
from actlab.cli.output import output_file


def plot_command(
    specs: list[str] = typer.Argument(..., help="Names, specs or formulas ('expr:x*sin(x)')."),
    output: Path = typer.Option(..., "-o", "--output", help="Figure file: .png, .svg or .pdf."),
    derivatives: bool = typer.Option(False, "--derivatives", help="Add a panel with f'."),
    second: bool = typer.Option(False, "--second", help="Add panels with f' and f''."),
    xmin: float = typer.Option(-5.0, help="Left end of the x axis."),
    xmax: float = typer.Option(5.0, help="Right end of the x axis."),
) -> None:
    """Plot activations (f, and f' / f'' on request) with kinks and saturation thresholds marked."""
    if not xmin < xmax:
        from actlab.core.errors import ParameterError

        raise ParameterError(f"--xmin must be below --xmax, got {xmin} and {xmax}")
    out = output_file(output, "the figure")
    path = plot([as_spec(s) for s in specs], out, derivatives=derivatives, second=second, xlim=(xmin, xmax))
    typer.echo(str(path))
