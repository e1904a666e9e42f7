"""Reports: read the results store (and the analyser), write one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_report(store: str | Path, output: str | Path, *, command: str = "") -> Path:
    """Render the report of `store` into `output` (written whole, or not at all)."""
    from actlab.report.html import render

    out = Path(output)
    text = render(store, command or "(library call)")
    tmp = out.with_name(out.name + ".tmp")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return out


def summary_tables(store: str | Path, study: str) -> list[Any]:
    """Rich tables summing up one study's trials in the store (what `actlab run` prints at the end)."""
    if study == "planar":
        from actlab.report.planar import tables

        return tables(store)
    if study == "benchmark":
        from actlab.report.benchmark import tables as benchmark_tables

        return benchmark_tables(store)
    from actlab.report.aggregate import cell_tables

    return list(cell_tables(store, study))


__all__ = ["summary_tables", "write_report"]
