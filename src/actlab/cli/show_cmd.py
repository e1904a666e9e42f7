"""`actlab show SPEC [--json]`: everything the catalog declares about one activation."""

from __future__ import annotations

import shutil
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from actlab.cli.jsonout import dumps
from actlab.cli.output import output_file
from actlab.core.describe import describe, fmt_range


def show_command(
    spec: str = typer.Argument(..., help="A name or spec string, e.g. snake or 'snake(a=0.5)'."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON on stdout and nothing else."),
    plot_file: Path | None = typer.Option(None, "--plot", help="Also write a figure of f, f', f'' (.png/.svg/.pdf)."),
) -> None:
    """Show the declared properties (and, with --plot, the measured ones and a figure) of one activation."""
    info = describe(spec)
    if plot_file is not None:
        from actlab.analysis import analyze
        from actlab.analysis.plots import plot

        plot([spec], output_file(plot_file, "the figure"), second=True, title=info["spec"])
        info["measured"] = analyze(spec).to_dict()
    if as_json:
        typer.echo(dumps(info))
        return
    p = info["properties"]
    table = Table(title=info["spec"], show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("class", info["class"])
    table.add_row("aliases", ", ".join(info["aliases"]) or "—")
    table.add_row("torch equivalent", info["torch_equivalent"] or "—")
    table.add_row("parameters", ", ".join(f"{k}={v!r}" for k, v in info["params"].items()) or "—")
    for key, value in p.items():
        if key == "range":
            value = fmt_range((float(value[0]), float(value[1])))
        elif key == "kinks":
            value = ", ".join(f"x={k['at']} (f'={k['derivative']:g})" for k in value) or "—"
        table.add_row(key.replace("_", " "), str(value) if value not in ((), [], None, "") else "—")
    console = Console(width=shutil.get_terminal_size((120, 24)).columns)
    console.print(table)
    console.print(info["doc"], markup=False)
    if plot_file is not None:
        m = info["measured"]
        rng = fmt_range(tuple(m["range"])) if m["range"] is not None else "undefined"
        gain = f"{m['gain']:.6g}" if m["gain"] is not None else "undefined"
        dead = f"{m['dead_fraction']:.4g}" if m["dead_fraction"] is not None else "undefined"
        console.print(f"measured: range {rng}, kinks {m['kinks']}, fixed points {m['fixed_points']}, "
                      f"gain {gain}, dead fraction {dead}", markup=False)
        for key, why in m["undefined"].items():
            console.print(f"undefined: {key}: {why}", markup=False)
        console.print(f"figure: {plot_file}", markup=False)
