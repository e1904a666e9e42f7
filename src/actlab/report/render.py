"""The one HTML renderer: sections as data (`actlab.report.kit`) → one self-contained page.

Every string passes `text()`, which escapes it (`html.escape`, quotes included) before the two light
markups of the kit are applied to the escaped text: `code` and [words](#anchor). Nothing else reaches
the page unescaped; figures are PNG data URIs checked to be exactly that. No external scripts, fonts
or images.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from actlab.report.kit import Block, Bullets, Cell, Details, Figure, Paragraph, Section, Table

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1100px;margin:0 auto;padding:1rem;
line-height:1.45;color:#1d1d1f}
img{max-width:100%;height:auto}figure{margin:1rem 0}figcaption{font-size:.85rem;color:#555}
table{border-collapse:collapse;font-size:.85rem;display:block;overflow-x:auto}
td,th{border-bottom:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
header{border-bottom:2px solid #333;margin-bottom:1rem}.meta{font-size:.85rem;color:#444}
.answer{border-left:4px solid #2e7d32;padding:.2rem .8rem;margin:.6rem 0;background:#f6faf6}
.answer h3{margin:.2rem 0}details{margin:.5rem 0}summary{cursor:pointer}
"""

_CODE = re.compile(r"`([^`]+)`")
_LINK = re.compile(r"\[([^\]]+)\]\(#([A-Za-z0-9_-]+)\)")
_PNG = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]*")


def text(s: object) -> str:
    """Escape a string for HTML, then apply the kit's markups (`code`, [words](#anchor))."""
    out = html.escape(str(s), quote=True)
    out = _CODE.sub(r"<code>\1</code>", out)
    return _LINK.sub(r'<a href="#\2">\1</a>', out)


def _attr(s: str) -> str:
    return html.escape(s, quote=True)


def figure(f: Figure) -> str:
    if not _PNG.fullmatch(f.uri):
        raise ValueError("a report figure must be a PNG data URI (actlab.report.figures.png)")
    return f'<figure><img src="{f.uri}" alt="{_attr(f.caption)}"><figcaption>{text(f.caption)}</figcaption></figure>'


def _cell(c: str | Cell, tag: str) -> str:
    if not isinstance(c, Cell):
        return f"<{tag}>{text(c)}</{tag}>"
    body = text(c.text)
    if c.anchor:
        body = f'<a href="#{_attr(c.anchor)}">{body}</a>'
    attrs = (f' title="{_attr(c.title)}"' if c.title else "") + \
        (f' style="color:{_attr(c.colour)};font-weight:600"' if c.colour else "")
    return f"<{tag}{attrs}>{body}</{tag}>"


def table(t: Table) -> str:
    head = "".join(_cell(c, "th") for c in t.columns)
    rows = []
    for i, row in enumerate(t.rows):
        rid = t.row_ids[i] if i < len(t.row_ids) and t.row_ids[i] else ""
        ident = f' id="{_attr(rid)}"' if rid else ""
        rows.append(f"<tr{ident}>" + "".join(_cell(c, "td") for c in row) + "</tr>")
    caption = f"<caption>{text(t.caption)}</caption>" if t.caption else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def block(b: Block) -> str:
    if isinstance(b, Paragraph):
        return f"<p>{text(b.text)}</p>"
    if isinstance(b, Bullets):
        return "<ul>" + "".join(f"<li>{text(i)}</li>" for i in b.items) + "</ul>"
    if isinstance(b, Figure):
        return figure(b)
    if isinstance(b, Table):
        return table(b)
    if isinstance(b, Details):
        return f"<details><summary>{text(b.summary)}</summary>{blocks(b.blocks)}</details>"
    raise TypeError(f"not a report block: {type(b).__name__}")


def blocks(bs: Sequence[Block]) -> str:
    return "\n".join(block(b) for b in bs)


def answer(s: Section, link: bool) -> str:
    """The section's question, its computed answer and its one figure (the report's opening)."""
    title = f'<a href="#{_attr(s.anchor)}">{text(s.title)}</a>' if link else text(s.title)
    q = f"<p><strong>{text(s.question)}</strong></p>" if s.question else ""
    a = "".join(f"<p>{text(x)}</p>" for x in s.answer)
    fig = figure(s.figure) if s.figure is not None and link else ""
    return f'<div class="answer"><h3>{title}</h3>{q}{a}{fig}</div>'


def section(s: Section) -> str:
    head = answer(s, link=False) if s.answer else ""
    return f'<section id="{_attr(s.anchor)}"><h2>{text(s.title)}</h2>{head}{blocks(s.blocks)}</section>'


@dataclass(frozen=True)
class Page:
    title: str
    made: str
    """How the page was made (version, command, date, store): one line of text."""
    runs: Sequence[str]
    """The runs recorded in the store, one line each."""
    opening: Sequence[Section]
    """Sections whose answers open the page (each links to its section)."""
    sections: Sequence[Section]


def page(p: Page) -> str:
    runs = "".join(f"<li>{text(r)}</li>" for r in p.runs)
    answers = [answer(s, link=True) for s in p.opening if s.answer]
    body = [f"<header><h1>{text(p.title)}</h1><p class='meta'>{text(p.made)}</p>"
            f"<details class='meta'><summary>Runs recorded in the store ({len(p.runs)})</summary><ul>{runs}</ul>"
            "</details></header>"]
    if answers:
        body.append("<h2>The answers</h2>" + "".join(answers))
    elif not p.sections:
        body.append("<p>The store holds no trials yet.</p>")
    body += [section(s) for s in p.sections]
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{text(p.title)}</title><style>{CSS}</style></head><body>{''.join(body)}</body></html>")


def markdown_table(t: Table) -> str:
    """A kit table as a Markdown table (docs/claims.md): '|' escaped, newlines made spaces."""
    def md(c: str | Cell) -> str:
        s = c.text if isinstance(c, Cell) else str(c)
        return s.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(md(c) for c in t.columns) + " |", "|" + "---|" * len(t.columns)]
    lines += ["| " + " | ".join(md(c) for c in row) + " |" for row in t.rows]
    return "\n".join(lines)
