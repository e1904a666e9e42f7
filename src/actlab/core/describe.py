"""Plain-data descriptions of catalog entries (what `actlab list` and `actlab show` print)."""

from __future__ import annotations

import inspect
import math
from typing import Any

from actlab.core.activation import AbstractActivation
from actlab.core.registry import create, entries, entry_of


def fmt_range(rng: tuple[float, float]) -> str:
    """'[lo, hi]', with '(' / ')' on infinite ends: '(−∞, 6]', '[-0.169971, ∞)'."""
    lo, hi = rng
    left = "(−∞" if math.isinf(lo) else f"[{lo:.6g}"
    right = "∞)" if math.isinf(hi) else f"{hi:.6g}]"
    return f"{left}, {right}"


def summary_rows(pattern: str = "*") -> list[dict[str, Any]]:
    """One row per canonical name matching `pattern`, with the declared headline properties."""
    import fnmatch

    rows = []
    for e in entries():
        if not fnmatch.fnmatchcase(e.name, pattern):
            continue
        p = create(e.name).properties
        rows.append({
            "name": e.name,
            "formula": p.formula,
            "range": p.to_dict()["range"],
            "monotonic": p.monotonic,
            "zero_centered": p.zero_centered,
            "saturation": [p.saturation_left, p.saturation_right],
            "learnable": list(p.learnable),
            "elementwise": p.elementwise,
        })
    return rows


def describe(spec: str | AbstractActivation) -> dict[str, Any]:
    """Everything the catalog declares about one activation (JSON-ready)."""
    act = create(spec)
    if not act.properties.declared:  # a formula: nothing is declared beyond the formula itself
        return {"name": "expr", "spec": act.spec, "class": f"{type(act).__module__}.{type(act).__qualname__}",
                "aliases": [], "params": act.get_params(), "fixed_by_variant": {}, "torch_equivalent": None,
                "properties": act.properties.to_dict(), "doc": inspect.getdoc(type(act)) or ""}
    e = entry_of(act)
    # the hand-written part only: the generated declarations are shown as properties already
    doc = (inspect.getdoc(type(act)) or "").split("\n\nDeclared properties of ")[0]
    return {
        "name": e.name,
        "spec": act.spec,
        "class": f"{type(act).__module__}.{type(act).__qualname__}",
        "aliases": list(e.aliases),
        "params": act.get_params(),
        "fixed_by_variant": e.fixed,
        "torch_equivalent": f"torch.nn.{e.torch_class.__name__}" if e.torch_class else None,
        "properties": act.properties.to_dict(),
        "doc": doc,
    }


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """The catalog as a Markdown table (generated into the README, never edited by hand)."""
    head = "| name | formula | range | monotonic | zero-centred | saturation (left/right) | learnable |"
    lines = [head, "|---|---|---|---|---|---|---|"]
    for r in rows:
        lo, hi = (float(v) for v in r["range"])
        cells = [f"`{r['name']}`", r["formula"].replace("|", "\\|"), fmt_range((lo, hi)),
                 "yes" if r["monotonic"] else "no", "yes" if r["zero_centered"] else "no",
                 "/".join(r["saturation"]), ", ".join(r["learnable"]) or "—"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
