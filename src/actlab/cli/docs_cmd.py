"""`actlab docs [-o DIR]`: the generated catalog page (docs/catalog.md and one figure per entry)."""

from __future__ import annotations

from pathlib import Path

import typer

from actlab.analysis.catalog_page import write_catalog_page
from actlab.cli.output import output_folder


def docs_command(
    output: Path = typer.Option(Path("docs"), "-o", "--output", help="Folder for catalog.md and img/."),
) -> None:
    """Generate the catalog page from the registry: declared and measured properties, a figure each."""
    typer.echo(str(write_catalog_page(output_folder(output, "the catalog page"))))
