"""The report kit: every string a section carries is escaped by the one renderer, the two markups work
on escaped text only, figures must be PNG data URIs; display names follow their documented rules."""

from __future__ import annotations

import re

import pytest

from actlab.report import render
from actlab.report.kit import Bullets, Cell, Details, Figure, Paragraph, Section, Table, slug
from actlab.report.names import counted, display, displays, legend

EVIL = ["<script>alert(1)</script>", '<img src=x onerror="alert(2)">', "where(x<abs(x), x, 0) & y>1", "'\"`"]
PNG = "data:image/png;base64,iVBORw0KGgo="


def _all_blocks(s: str) -> Section:
    table = Table([s, Cell(s, title=s)], [[s, Cell(s, title=s, colour=s)]], caption=s, row_ids=[s])
    return Section(s, [Paragraph(s), Bullets([s, s]), Figure(PNG, s), table, Details(s, [Paragraph(s)])],
                   question=s, answer=[s], figure=Figure(PNG, s))


@pytest.mark.parametrize("s", EVIL[:3])
def test_every_string_of_every_block_is_escaped(s: str) -> None:
    sec = _all_blocks(s)
    page = render.page(render.Page(s, s, [s], [sec], [sec]))
    assert "<script" not in page and "<img src=x" not in page and "onerror=\"alert" not in page
    visible = re.sub(r"<[^>]+>", "", page)
    import html

    assert html.unescape(visible).count(s) >= 10  # the text itself is all there, literally


def test_markups_apply_to_escaped_text_only() -> None:
    out = render.text("use `x<1` and see [the answer](#depth) but not [x](javascript:alert(1))")
    assert "<code>x&lt;1</code>" in out and '<a href="#depth">the answer</a>' in out
    assert "javascript" in out and 'href="javascript' not in out


def test_a_figure_must_be_a_png_data_uri() -> None:
    render.figure(Figure(PNG, "ok"))
    for uri in ("javascript:alert(1)", 'data:image/png;base64,AAA" onload="x', "https://example.com/a.png"):
        with pytest.raises(ValueError, match="PNG data URI"):
            render.figure(Figure(uri, "bad"))


def test_page_opens_with_the_answers_and_links_to_sections() -> None:
    a = Section("Planar: what can each activation learn?", [Paragraph("body")], question="Q?", answer=["A."],
                figure=Figure(PNG, "fig"))
    page = render.page(render.Page("t", "made", [], [a], [a]))
    assert page.index("The answers") < page.index('<section id="planar-what-can-each-activation-learn"')
    assert '<a href="#planar-what-can-each-activation-learn">' in page and page.count(PNG) == 1


def test_markdown_table_escapes_pipes() -> None:
    md = render.markdown_table(Table(["a|b", "c"], [["x|y", Cell("z\nw")]]))
    assert md.splitlines() == ["| a\\|b | c |", "|---|---|", "| x\\|y | z w |"]


def test_slug() -> None:
    assert slug("Depth: signal propagation at initialisation") == "depth-signal-propagation-at-initialisation"


def test_display_names_by_their_rules() -> None:
    spec = "noisy_hard_sigmoid(alpha=1.1, c=0.15, noise='half_normal', mode='input_learned', num_parameters=16)"
    assert display(spec) == "noisy sigmoid, half-normal, learned p, input noise"
    assert display("noisy_hard_tanh(alpha=1.15, noise='normal')") == "noisy tanh, normal"
    assert display("relu") == "relu" and display("prelu(num_parameters=3)") == "prelu"
    assert display("snake(a=0.5, num_parameters=4)") == "snake(a=0.5)"
    assert display("mixed(acts=['cos', 'identity'])") == "mixed cos/identity"
    long = "expr:where(x<abs(x), x, 0)+sin(x)*cos(x)"
    assert display(long) == long[:27] + "…" and len(display(long)) == 28
    assert display("expr:x*sigmoid(x)") == "expr:x*sigmoid(x)"


def test_display_names_never_merge_two_specs() -> None:
    a, b = "prelu(num_parameters=3)", "prelu(num_parameters=5)"
    assert displays([a, b]) == {a: a, b: b}
    assert legend(["relu", "snake(a=0.5, num_parameters=2)"]) == "snake(a=0.5) = snake(a=0.5, num_parameters=2)"


def test_counted_lists() -> None:
    assert counted(["a", "b"], 5, "activations") == "2 of 5 activations: a, b"
    assert counted([], 5, "activations") == "0 of 5 activations"
    assert counted(list("abcdefghij"), 20, "x", most=3) == "10 of 20 x: a, b, c and 7 more"
