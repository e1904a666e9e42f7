"""Spec strings: `relu`, `leaky_relu(negative_slope=0.2)`, `mixed(acts=['cos','identity'])`.

Parsed with a whitelist over Python's `ast`: a name, optionally called with keyword
arguments whose values are literals (numbers, strings, booleans, None, inf, nan, and
lists/tuples of these). Nothing is ever evaluated; anything else is a `SpecError` that
points at the offending part.
"""

from __future__ import annotations

import ast
import math
from typing import Any

from actlab.core.errors import SpecError

MAX_SPEC_LENGTH = 2000
MAX_LITERAL_DEPTH = 20
"""Nesting of lists and unary signs in one value (`--1` is 2 deep)."""
_CONSTANT_NAMES = {"inf": math.inf, "nan": math.nan, "True": True, "False": False, "None": None}


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """Split a spec string into (name, keyword arguments)."""
    text, tree = parse_expression(spec, "spec", MAX_SPEC_LENGTH,
                                  "give an activation name such as 'relu' or 'snake(a=0.5)'")
    if isinstance(tree, ast.Name):
        return tree.id, {}
    if not (isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name)):
        raise _reject(text, tree, "a spec is NAME or NAME(key=value, ...)")
    if tree.args:
        raise _reject(text, tree.args[0], "arguments must be given by keyword, e.g. snake(a=0.5)")
    kwargs: dict[str, Any] = {}
    for kw in tree.keywords:
        if kw.arg is None:
            raise _reject(text, kw.value, "'**' is not allowed in a spec")
        if kw.arg in kwargs:
            raise SpecError(f"argument {kw.arg!r} given twice in {text!r}")
        kwargs[kw.arg] = _literal(text, kw.value)
    return tree.func.id, kwargs


def parse_expression(source: object, what: str, max_length: int, hint: str) -> tuple[str, ast.expr]:
    """The stripped text and its `ast` expression, with the checks both whitelist parsers share
    (a non-empty string, bounded length, valid syntax). Nothing is evaluated."""
    if not isinstance(source, str):
        raise SpecError(f"a {what} must be a string, got {type(source).__name__}")
    text = source.strip()
    if not text:
        raise SpecError(f"empty {what}: {hint}")
    if len(text) > max_length:
        raise SpecError(f"{what} is {len(text)} characters long; at most {max_length} are allowed")
    try:
        return text, ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError) as e:  # ValueError: a null byte (Python < 3.12)
        msg, offset = (e.msg, e.offset) if isinstance(e, SyntaxError) else (str(e), None)
        raise SpecError(f"cannot parse {what} {text!r}: {msg}" + (f" at column {offset}" if offset else "")) from None


def _literal(text: str, node: ast.AST, depth: int = 0) -> Any:
    if depth > MAX_LITERAL_DEPTH:
        raise _reject(text, node, f"a value nested deeper than {MAX_LITERAL_DEPTH}")
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool, type(None))):
        value = node.value
        if type(value) is int and not -(2**63) <= value < 2**63:
            raise _reject(text, node, "an integer beyond 64 bits (write a float, e.g. 1e30)")
        return value
    if isinstance(node, ast.Name) and node.id in _CONSTANT_NAMES:
        return _CONSTANT_NAMES[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _literal(text, node.operand, depth + 1)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(text, e, depth + 1) for e in node.elts]
    raise _reject(text, node, "values must be literals: numbers, strings, True/False/None, inf, nan, lists")


def _reject(text: str, node: ast.AST, why: str) -> SpecError:
    start = getattr(node, "col_offset", 0)
    end = getattr(node, "end_col_offset", None) or len(text)
    return SpecError(f"rejected {text[start:end]!r} (column {start + 1}) in spec {text!r}: {why}")


def format_spec(name: str, params: dict[str, Any]) -> str:
    """The inverse of `parse_spec` for literal parameters."""
    if not params:
        return name
    return f"{name}({', '.join(f'{k}={_format_value(v)}' for k, v in params.items())})"


def _format_value(v: Any) -> str:
    if isinstance(v, float) and math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_format_value(e) for e in v) + "]"
    return repr(v)
