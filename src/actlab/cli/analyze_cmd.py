"""`actlab analyze SPEC [--json]`: measured properties of an activation or a formula."""

from __future__ import annotations

import math
import shutil

import typer
from rich.console import Console
from rich.table import Table

from actlab.analysis import analyze, equivalence
from actlab.cli.jsonout import dumps


def analyze_command(
    spec: str = typer.Argument(..., help="A name, a spec, 'expr:FORMULA' or a formula in x: 'x*tanh(softplus(x))'."),
    as_json: bool = typer.Option(False, "--json", help="Print the report's JSON on stdout and nothing else."),
    active_fraction: float = typer.Option(0.1, help="active_range: where |f'| ≥ this fraction of its max."),
) -> None:
    """Measure what an activation really is: range, extrema, kinks, saturation, fixed points, gain, cost."""
    spec = as_spec(spec)
    report = analyze(spec, active_fraction=active_fraction).to_dict()
    same = equivalence.match(spec, exclude=_name_of(spec))
    if as_json:
        typer.echo(dumps({**report, "equals": None if same is None else {"name": same.name,
                                                                          "difference": same.difference}}))
        return
    table = Table(title=f"measured: {report['spec']}", show_header=False)
    table.add_column("property", style="bold")
    table.add_column("value", overflow="fold")
    undefined = report["undefined"]
    for key, value in report.items():
        if key in undefined:
            table.add_row(key.replace("_", " "), f"undefined: {undefined[key]}")
        elif key not in ("spec", "undefined"):
            table.add_row(key.replace("_", " "), _fmt(value))
    console = Console(width=shutil.get_terminal_size((120, 24)).columns)
    console.print(table)
    if same is not None:
        console.print(f"{report['spec']} {same.words()}", highlight=False)


def _name_of(spec: str) -> str:
    """The catalog name of a spec at its defaults ('' for a formula or a spec with arguments): an entry is not
    reported as equal to itself."""
    from actlab.core.registry import create, names

    canonical = create(spec).spec
    return canonical if canonical in names() else ""


def as_spec(text: str) -> str:
    """A bare formula ('x*sigmoid(x)') is read as 'expr:...'; names and specs pass through."""
    import ast

    from actlab.core.errors import ActlabInputError
    from actlab.core.registry import create

    if text.strip().startswith("expr:"):
        return text
    try:
        create(text)
        return text
    except ActlabInputError as error:
        try:
            tree = ast.parse(text.strip(), mode="eval").body
        except (SyntaxError, ValueError):  # 'x +', 'relu(': the parser's own one-line message
            raise error from None
        looks_like_name = isinstance(tree, ast.Name) and tree.id != "x"
        looks_like_spec = isinstance(tree, ast.Call) and bool(tree.keywords)
        if looks_like_name or looks_like_spec:
            raise  # 'gleu' stays an unknown name with suggestions, not a bad formula
        return "expr:" + text


def _fmt(v: object) -> str:
    if isinstance(v, float) and math.isinf(v):
        return "∞" if v > 0 else "−∞"
    if isinstance(v, float):
        return f"{v:.10g}"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(u) for u in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_fmt(u)}" for k, u in v.items()) + "}"
    if v is None:
        return "—"
    return str(v)

