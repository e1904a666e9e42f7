"""`actlab docs [-o DIR] [--claims STORE]`: the generated catalog page (docs/catalog.md and one figure
per entry), or with `--claims` the claims ledger (docs/claims.md) from a results store."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import typer

from actlab.analysis.catalog_page import write_catalog_page
from actlab.cli.output import output_folder


def docs_command(
    output: Path = typer.Option(Path("docs"), "-o", "--output", help="Folder for catalog.md and img/."),
    claims: Path | None = typer.Option(None, "--claims", metavar="STORE",
                                       help="Write claims.md (the claims ledger) from this results store instead."),
) -> None:
    """Generate the catalog page from the registry: declared and measured properties, a figure each."""
    folder = output_folder(output, "the claims page" if claims else "the catalog page")
    if claims is not None:
        from actlab.results.store import Store
        from actlab.studies.page import write_claims_page

        Store(claims, create=False).close()  # a missing or foreign store fails here, in one line
        command = "actlab " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        typer.echo(str(write_claims_page(claims, folder, command)))
        return
    typer.echo(str(write_catalog_page(folder)))
