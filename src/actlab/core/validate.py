"""Checks for constructor arguments: each names the parameter and what is allowed."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from actlab.core.errors import ParameterError, ParameterTypeError

FLOAT32_MAX = 3.4028234663852886e38
"""Models run in float32: a hyperparameter beyond it overflows there (torch refuses F.hardtanh(x, 0, 1e300))."""


def real(owner: str, name: str, value: Any, *, low: float | None = None, strict: bool = False) -> float:
    """A finite real number, optionally > low (strict) or >= low."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterTypeError(f"{owner}: {name} must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ParameterError(f"{owner}: {name} must be finite, got {value}")
    if abs(value) > FLOAT32_MAX:
        raise ParameterError(f"{owner}: {name} must be within ±{FLOAT32_MAX:.6g} (the float32 range), got {value:g}")
    if low is not None and (value <= low if strict else value < low):
        raise ParameterError(f"{owner}: {name} must be {'>' if strict else '>='} {low:g}, got {value:g}")
    return value


def positive(owner: str, name: str, value: Any) -> float:
    return real(owner, name, value, low=0.0, strict=True)


def integer(owner: str, name: str, value: Any, *, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterTypeError(f"{owner}: {name} must be an integer, got {type(value).__name__} {value!r}")
    if value < low:
        raise ParameterError(f"{owner}: {name} must be >= {low}, got {value}")
    return value


def boolean(owner: str, name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ParameterTypeError(f"{owner}: {name} must be True or False, got {value!r}")
    return value


def choice(owner: str, name: str, value: Any, allowed: Sequence[Any]) -> Any:
    if value not in allowed:
        raise ParameterError(f"{owner}: {name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value
