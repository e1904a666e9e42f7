"""Reports: read the results store (and the analyser), write one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path


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


__all__ = ["write_report"]
