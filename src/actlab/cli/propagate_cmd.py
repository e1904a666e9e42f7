"""`actlab propagate SPEC [--sigma-w ..] [--sigma-b ..] [--json] [--plot FILE]`: mean-field signal propagation."""

from __future__ import annotations

import shutil
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from actlab.cli.analyze_cmd import as_spec
from actlab.cli.jsonout import dumps


def propagate_command(
    spec: str = typer.Argument(..., help="A name, a spec, 'expr:FORMULA' or a formula in x."),
    sigma_w: float = typer.Option(1.0, "--sigma-w", help="Weight scale: W ~ N(0, σw²/fan_in)."),
    sigma_b: float = typer.Option(0.0, "--sigma-b", help="Bias scale: b ~ N(0, σb²)."),
    depth: int = typer.Option(50, help="Layers of the per-layer curves."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON on stdout and nothing else."),
    plot_file: Path | None = typer.Option(None, "--plot", help="Write the phase diagram and per-layer figure."),
) -> None:
    """Signal propagation at initialisation: q*, c*, χ₁, depth scales, edge of chaos, recommended init."""
    from actlab.analysis.propagation import propagation

    target = as_spec(spec)
    result = propagation(target, sigma_w, sigma_b, depth=depth)
    if plot_file is not None:
        from actlab.analysis.propagation_plots import save

        save(result, target, plot_file)
    if as_json:
        typer.echo(dumps(result.to_dict()))
        return
    table = Table(title=f"signal propagation: {result.spec}", show_header=False)
    table.add_column("quantity", style="bold")
    table.add_column("value", overflow="fold")
    rec = result.recommended
    rows = [("σw, σb", f"{sigma_w:g}, {sigma_b:g}"), ("length q*", f"{result.q_star:.10g} ({result.length})"),
            ("χ₁", f"{result.chi1:.10g} ({result.phase})"), ("c*", _num(result.c_star)),
            ("ξ_q, ξ_c (layers)", f"{_num(result.xi_q)}, {_num(result.xi_c)}"),
            ("edge of chaos", ", ".join(f"σb={c['sigma_b']:g}: σw={c['sigma_w']:.4f}" for c in result.edge_of_chaos
                                        if c["sigma_w"] is not None) or "none on σb ∈ [0, 1]"),
            ("recommended", f"σw = {rec['sigma_w']:.6g}, σb = {rec['sigma_b']:g} ({rec['note']})" if rec else "none")]
    for k, v in rows:
        table.add_row(k, v)
    console = Console(width=shutil.get_terminal_size((120, 24)).columns)
    console.print(table)
    console.print(result.sentence())


def _num(v: float | None) -> str:
    return "—" if v is None else "∞" if v == float("inf") else f"{v:.6g}"
