"""One self-contained HTML file: header (how it was made), findings, then a section per study.
Figures are embedded PNG data URIs; no external scripts, fonts or images."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

from actlab._version import __version__
from actlab.results.store import Store

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1100px;margin:0 auto;padding:1rem;
line-height:1.45;color:#1d1d1f}
img{max-width:100%;height:auto}figure{margin:1rem 0}figcaption{font-size:.85rem;color:#555}
table{border-collapse:collapse;font-size:.85rem;display:block;overflow-x:auto}
td,th{border-bottom:1px solid #ddd;padding:.2rem .5rem;text-align:left}
header{border-bottom:2px solid #333;margin-bottom:1rem}.meta{font-size:.85rem;color:#444}
"""


def render(store: str | Path, command: str) -> str:
    """The report's HTML. Activations run eager here: the report calls each one a few times on large
    grids, where compiling (automatic fusion) costs seconds per entry and saves milliseconds."""
    from actlab.core.activation import auto_fuse

    with auto_fuse(False):
        return _render(store, command)


def _render(store: str | Path, command: str) -> str:
    from actlab.report import benchmark, catalog, claims, depth, noise, planar, single_sample
    from actlab.report.figures import assign

    with Store(store, create=False) as s:
        runs = s.runs()
        names = s.distinct("activation") + s.distinct("optimizer")
    assign(names)  # one colour per activation (and optimizer) in every figure
    sections = [sec for sec in (claims.section(store), catalog.section(store), depth.section(store),
                                 single_sample.section(store), planar.section(store), benchmark.section(store),
                                 noise.section(store))
                if sec is not None]
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    runs_html = "".join(f"<li><code>{html.escape(r['command'])}</code> — actlab {html.escape(r['actlab'])}, "
                        f"{html.escape(r['date'])}</li>" for r in runs)
    findings = [f for sec in sections for f in sec.findings]
    body = [f"<header><h1>actlab report</h1><p class='meta'>Made by actlab {__version__} with "
            f"<code>{html.escape(command)}</code> on {now} from the store <code>{html.escape(str(store))}</code>."
            f"</p><details class='meta'><summary>Runs recorded in the store ({len(runs)})</summary><ul>{runs_html}"
            "</ul></details></header>",
            "<h2>Findings</h2><ul>" + "".join(f"<li>{html.escape(f)}</li>" for f in findings) + "</ul>"
            if findings else "<p>The store holds no trials yet.</p>"]
    for sec in sections:
        body.append(f"<section id='{claims.slug(sec.title)}'><h2>{html.escape(sec.title)}</h2>{sec.html}</section>")
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'><title>actlab report</title>"
            f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>")
