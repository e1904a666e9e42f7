"""A report section as data: title, the question and its computed answer, then blocks (paragraphs,
tables, figures, lists, folded details). Sections know nothing of HTML; `actlab.report.render` turns
them into a page and escapes every string on the way, so a formula such as `where(x<abs(x), x, 0)`
or a stored config string reads on the page exactly as it is written.

Text is plain text. Two light markups are understood, both applied after escaping: `code` between
backticks, and a link written [words](#anchor) to another section of the same page (only `#` links).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: Sequence[str]


@dataclass(frozen=True)
class Figure:
    """A figure: a PNG data URI (from `actlab.report.figures.png`) and its caption (also its alt text)."""

    uri: str
    caption: str


@dataclass(frozen=True)
class Cell:
    """A table cell with more than text: a hover title (the full spec behind a display name), a colour."""

    text: str
    title: str = ""
    colour: str = ""
    anchor: str = ""
    """A `#anchor` link on the cell's text ('' for none)."""


@dataclass(frozen=True)
class Table:
    columns: Sequence[str]
    rows: Sequence[Sequence[str | Cell]]
    caption: str = ""
    row_ids: Sequence[str] = ()
    """An id per row ('' for none), so that other sections can link to a row."""


@dataclass(frozen=True)
class Details:
    """Folded content: a one-line summary and the blocks it opens to."""

    summary: str
    blocks: Sequence[Block]


Block = Paragraph | Bullets | Figure | Table | Details


@dataclass
class Section:
    """One section of the report. `question`, `answer` (one or two computed sentences) and `figure`
    (the one figure that shows the answer) open the report; the section itself repeats the question and
    the answer above its blocks, and the figure only where a block holds it (the report stays short)."""

    title: str
    blocks: list[Block] = field(default_factory=list)
    question: str = ""
    answer: list[str] = field(default_factory=list)
    figure: Figure | None = None

    @property
    def anchor(self) -> str:
        return slug(self.title)


def slug(title: str) -> str:
    """The anchor id of a section: lower case, every run of characters other than a–z and 0–9 made one
    '-', no '-' at either end ("Planar: what can each activation learn?" → "planar-what-can-each-activation-learn")."""
    import re

    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")

