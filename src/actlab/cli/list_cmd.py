"""`actlab list [PATTERN] [--json]`: the catalog table."""

from __future__ import annotations

import shutil

import typer
from rich.console import Console
from rich.table import Table

from actlab.cli.jsonout import dumps
from actlab.core.describe import fmt_range, markdown_table, summary_rows


def list_command(
    pattern: str = typer.Argument("*", help="Shell-style pattern on names, e.g. '*relu*'."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON on stdout and nothing else."),
    markdown: bool = typer.Option(False, "--markdown", help="Print a Markdown table (the README's catalog)."),
) -> None:
    """List the catalog: name, formula, range, monotonic, zero-centred, saturation, learnable."""
    rows = summary_rows(pattern)
    if as_json:
        typer.echo(dumps(rows))
        return
    if markdown:
        typer.echo(markdown_table(rows))
        return
    table = Table(title=f"actlab catalog ({len(rows)} activations)")
    table.add_column("name", no_wrap=True, style="bold")
    for col in ("formula", "range", "monotonic", "zero-centred", "saturation (left/right)", "learnable"):
        table.add_column(col, overflow="fold")
    for r in rows:
        lo, hi = (float(v) for v in r["range"])
        table.add_row(r["name"], r["formula"], fmt_range((lo, hi)), _yes(r["monotonic"]), _yes(r["zero_centered"]),
                      "/".join(r["saturation"]), ", ".join(r["learnable"]) or "—")
    Console(width=shutil.get_terminal_size((160, 24)).columns).print(table)


def _yes(v: bool) -> str:
    return "yes" if v else "no"
