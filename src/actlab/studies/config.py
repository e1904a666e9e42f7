"""Typed, strict study configs: a dataclass, a TOML preset, and `--set key=value` overrides.

Values are TOML literals (`seeds=1000`, `lr=[1e-3, 1e-2]`, `activations=["tanh", "snake(a=0.5)"]`); a
bare word is a string (`bounds=reflect`). Unknown keys and values of the wrong type are errors that
name the key and what is allowed; nothing is guessed. Numbers are finite (TOML's inf and nan are
refused) and integers fit in 64 bits.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import re
import sys
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from actlab.core.errors import ActlabInputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

T = TypeVar("T")
_BARE_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-.]*$")


class ConfigError(ActlabInputError, ValueError):
    """A config key or value that the study does not accept."""


class _OutOfRange(ConfigError):
    """A value of the right type outside what a config holds (inf, a 65-bit integer)."""


@functools.lru_cache(maxsize=256)
@functools.lru_cache(maxsize=256)
def measured(spec: str) -> dict[str, Any]:
    """The analyser's slope profile of an elementwise activation a study runs (`slope_profile`: its active
    range and Lipschitz constant, measured as `analyze` does, in milliseconds; cached by spec); a ConfigError
    if f or f′ is nan somewhere on the real line (log(x)), since the weight box and the report read it."""
    from actlab.analysis.measure import slope_profile

    profile = slope_profile(spec)
    if profile["nan"] or profile["active_range"] is None:
        why = profile["nan"] or "its active range is undefined"
        raise ConfigError(f"activation {spec!r} cannot be studied: {why}")
    return profile


MAX_SEEDS = 100_000
"""The most seeds a count may ask for (a plan holds one trial per seed and cell)."""


def seed_list(seeds: int | Sequence[int]) -> list[int]:
    """The seeds of a study: a count N means 0..N−1 (1 ≤ N ≤ MAX_SEEDS); listed seeds are integers
    in [0, 2**63), what torch's and numpy's generators take; repeats are dropped."""
    if isinstance(seeds, int):
        if not 1 <= seeds <= MAX_SEEDS:
            raise ConfigError(f"seeds: expected a count from 1 to {MAX_SEEDS:,} or a list of seeds, got {seeds}")
        return list(range(seeds))
    bad = [s for s in seeds if not 0 <= s < 2**63]
    if bad:
        raise ConfigError(f"seeds: a seed is an integer from 0 to 2**63 - 1, got {bad[0]}")
    return list(dict.fromkeys(seeds))


def values(key: str, value: float | Sequence[float]) -> list[float]:
    """A key that takes one number or a list of them (`lr`): the list, each value positive."""
    out = [float(value)] if isinstance(value, (int, float)) else [float(v) for v in value]
    if not out or not all(v > 0 for v in out):
        raise ConfigError(f"{key}: expected a positive number or a non-empty list of them, got {value!r}")
    return out


def require(checks: Sequence[tuple[object, str, str]], config: object) -> None:
    """Raise the first failed check as 'KEY: expected ALLOWED, got VALUE': checks are (ok, key, allowed)."""
    for ok, key, allowed in checks:
        if not ok:
            raise ConfigError(f"{key}: expected {allowed}, got {getattr(config, key)!r}")


def parse_override(text: str) -> tuple[str, Any]:
    """'key=value' → (key, value), the value read as a TOML literal (a bare word is a string)."""
    if "=" not in text:
        raise ConfigError(f"--set expects key=value, got {text!r}")
    key, raw = (part.strip() for part in text.split("=", 1))
    if not key:
        raise ConfigError(f"--set expects key=value, got {text!r}")
    try:
        return key, tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        if _BARE_WORD.match(raw):
            return key, raw
        raise ConfigError(f"--set {key}: cannot read {raw!r} as a TOML value (quote strings, "
                          f"write lists as [1, 2] or [\"a\", \"b\"])") from None


def load_preset(preset: str | Path) -> dict[str, Any]:
    """The key/values of a TOML preset file."""
    path = Path(preset)
    try:
        return tomllib.loads(path.read_text())
    except (FileNotFoundError, IsADirectoryError):
        raise ConfigError(f"no preset file {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read preset {path} as TOML: {e}") from None


def load_config(cls: type[T], preset: str | Path | None = None, overrides: Sequence[str] = ()) -> T:
    """Build `cls` (a dataclass) from its defaults, then a TOML preset, then `--set` overrides."""
    values: dict[str, Any] = {}
    if preset is not None:
        values.update(load_preset(preset))
    for text in overrides:
        key, value = parse_override(text)
        values[key] = value
    return build(cls, values)


def build(cls: type[T], values: dict[str, Any]) -> T:
    """Check every key and value against the dataclass's fields and types, then construct it."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    hints = get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    for key, value in values.items():
        if key not in names:
            close = difflib.get_close_matches(key, names, n=2)
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            raise ConfigError(f"unknown config key {key!r}{hint} (allowed: {', '.join(names)})")
        values[key] = _check(key, value, hints[key])
    return cls(**values)  # type: ignore[return-value]


def _check(key: str, value: Any, hint: Any) -> Any:
    """value if it fits the type hint (ints widen to float), else a ConfigError naming both."""
    origin, args = get_origin(hint), get_args(hint)
    if hint is Any:
        return value
    if origin in (Union, types.UnionType):
        for option in args:
            try:
                return _check(key, value, option)
            except _OutOfRange:
                raise  # the type fits, the value does not: say so, not "expected A | B"
            except ConfigError:
                continue
        raise ConfigError(f"{key}: expected {_name(hint)}, got {type(value).__name__} {value!r}")
    if origin is Literal:
        if value in args:
            return value
        raise ConfigError(f"{key}: must be one of {', '.join(map(repr, args))}; got {value!r}")
    if origin in (list, Sequence, typing.Sequence) or hint is list:
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list ({_name(hint)}), got {type(value).__name__} {value!r}")
        inner = args[0] if args else Any
        return [_check(f"{key}[{i}]", v, inner) for i, v in enumerate(value)]
    if hint is type(None):
        if value is None:
            return value
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(float(value)):  # TOML has inf and nan; no study axis means them
                raise _OutOfRange(f"{key}: expected a finite number, got {value!r}")
            return float(value)
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            if not -(2**63) <= value < 2**63:  # what torch and SQLite hold
                raise _OutOfRange(f"{key}: expected a 64-bit integer, got {value}")
            return value
    elif isinstance(hint, type) and isinstance(value, hint):
        return value
    raise ConfigError(f"{key}: expected {_name(hint)}, got {type(value).__name__} {value!r}")


def _name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")
