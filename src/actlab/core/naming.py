"""The name an activation instance goes by: its registered variant and its spec string.

The registry (`actlab.core.registry`) records here each class's entries as it adds them, as
(name, fixed arguments); `AbstractActivation.spec` and the registry's `entry_of` read them back.
It sits below both, so the base class names its instances without importing the registry, whose
entries hold that base class.
"""

from __future__ import annotations

import inspect
from typing import Any, Protocol

from actlab.core.errors import UnknownNameError
from actlab.core.spec import format_spec


class Named(Protocol):
    """What naming needs of an activation: its constructor arguments (its class does the rest)."""

    def get_params(self) -> dict[str, Any]: ...


_VARIANTS: dict[type, list[tuple[str, dict[str, Any]]]] = {}
"""Per registered class: (name, fixed arguments) of each of its entries, in registration order."""


def record(cls: type, name: str, fixed: dict[str, Any]) -> None:
    """Note that `cls` is registered under `name` with these constructor arguments fixed."""
    _VARIANTS.setdefault(cls, []).append((name, dict(fixed)))


def variant_of(act: Named) -> tuple[str, dict[str, Any]]:
    """(name, fixed arguments) of the most specific entry describing an instance (a variant if its
    fixed args match). Raises UnknownNameError for unregistered classes (formulas included)."""
    params = act.get_params()
    best: tuple[str, dict[str, Any]] | None = None
    for name, fixed in _VARIANTS.get(type(act), ()):
        if all(params.get(k) == v for k, v in fixed.items()):
            if best is None or len(fixed) > len(best[1]):
                best = (name, fixed)
    if best is None:
        raise UnknownNameError(f"{type(act).__name__} is not registered")
    return best


def spec_of(act: Named) -> str:
    """The spec string of an instance: its most specific name and the arguments it does not fix."""
    name, fixed = variant_of(act)
    defaults = {k: p.default for k, p in inspect.signature(type(act).__init__).parameters.items()}
    params = {k: v for k, v in act.get_params().items() if k not in fixed and not _same(v, defaults.get(k, _MISSING))}
    return format_spec(name, params)


_MISSING = object()


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same kind (1 and 1.0 are the same; True and 1 are not)."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return list(a) == list(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b
