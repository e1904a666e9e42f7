"""The one registry: canonical names, aliases and variants -> activation classes.

A *variant* is a class with some constructor arguments fixed (`gelu_tanh` is
`GELU(approximate='tanh')`); it is registered, never copied.
"""

from __future__ import annotations

import difflib
import fnmatch
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from actlab.core.activation import AbstractActivation
from actlab.core.errors import ParameterTypeError, UnknownNameError
from actlab.core.naming import record, variant_of
from actlab.core.spec import parse_spec


@dataclass(frozen=True)
class Entry:
    name: str
    cls: type[AbstractActivation]
    fixed: dict[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    torch_class: type[nn.Module] | None = None
    """The torch.nn module this entry matches (for parity tests and `swap`)."""


# Filled when `actlab` is imported: actlab/__init__.py imports the catalog, whose modules register
# themselves here (core sits below catalog and never imports it).
_ENTRIES: dict[str, Entry] = {}
_ALIASES: dict[str, str] = {}


def register(
    name: str,
    *,
    aliases: tuple[str, ...] = (),
    torch_class: type[nn.Module] | None = None,
    **fixed: Any,
) -> Callable[[type[AbstractActivation]], type[AbstractActivation]]:
    """Class decorator: register `cls` under `name` (first registration names the class)."""

    def deco(cls: type[AbstractActivation]) -> type[AbstractActivation]:
        add(Entry(name, cls, dict(fixed), tuple(aliases), torch_class))
        return cls

    return deco


def add(entry: Entry) -> None:
    """Add an entry; any name or alias already taken is an error."""
    for n in (entry.name, *entry.aliases):
        if n in _ENTRIES or n in _ALIASES:
            raise ValueError(f"activation name {n!r} is already registered")
    _ENTRIES[entry.name] = entry
    for a in entry.aliases:
        _ALIASES[a] = entry.name
    record(entry.cls, entry.name, entry.fixed)
    if not entry.cls.name:
        entry.cls.name = entry.name
    entry.cls.__doc__ = (entry.cls.__doc__ or "").rstrip() + _declared_doc(entry)


def _declared_doc(entry: Entry) -> str:
    """A docstring section listing the entry's declared properties, generated so it cannot drift."""
    import torch

    with torch.random.fork_rng(devices=[]):  # building an instance must not move the user's RNG
        try:
            props = entry.cls(**entry.fixed).properties.to_dict()
        except Exception:  # noqa: BLE001 - a class that needs arguments documents itself
            return ""
    lines = "\n".join(f"    {k}: {v}" for k, v in props.items() if k not in ("formula", "derivative_formula"))
    label = entry.name + (f" ({', '.join(f'{k}={v!r}' for k, v in entry.fixed.items())})" if entry.fixed else "")
    return f"\n\nDeclared properties of {label}, default arguments (generated):\n{lines}\n"


def names(pattern: str = "*") -> list[str]:
    """Canonical names matching a shell-style pattern, sorted."""
    return sorted(n for n in _ENTRIES if fnmatch.fnmatchcase(n, pattern))


def entry(name: str) -> Entry:
    """The registry entry of a canonical name or alias."""
    key = _ALIASES.get(name, name)
    if key not in _ENTRIES:
        close = difflib.get_close_matches(name, [*_ENTRIES, *_ALIASES], n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `actlab list` shows every name"
        raise UnknownNameError(f"unknown activation {name!r}{hint}")
    return _ENTRIES[key]


def entries() -> list[Entry]:
    return [_ENTRIES[n] for n in sorted(_ENTRIES)]


def get_class(name: str) -> type[AbstractActivation]:
    """The class behind a name or alias."""
    return entry(name).cls


_PREFIXES: dict[str, Callable[[str], AbstractActivation]] = {}


def register_prefix(prefix: str, factory: Callable[[str], AbstractActivation]) -> None:
    """Specs starting with `prefix` (e.g. 'expr:') are built by `factory(rest of the spec)`."""
    if prefix in _PREFIXES:
        raise ValueError(f"spec prefix {prefix!r} is already registered")
    _PREFIXES[prefix] = factory


def create(spec: str | AbstractActivation) -> AbstractActivation:
    """Build an activation from a spec string such as 'snake(a=0.5)' or 'expr:x*sigmoid(x)'."""
    if isinstance(spec, AbstractActivation):
        return spec
    if isinstance(spec, str):
        for prefix, factory in _PREFIXES.items():
            if spec.strip().startswith(prefix):
                return factory(spec.strip()[len(prefix):])
    name, kwargs = parse_spec(spec)
    e = entry(name)
    allowed = [p for p in inspect.signature(e.cls.__init__).parameters if p != "self"]
    for k in kwargs:
        if k in e.fixed:
            raise ParameterTypeError(f"{e.name}: {k!r} is fixed to {e.fixed[k]!r} by this variant")
        if k not in allowed:
            raise ParameterTypeError(
                f"{e.name}: unknown parameter {k!r}; allowed: "
                + (", ".join(a for a in allowed if a not in e.fixed) or "none")
            )
    act = e.cls(**e.fixed, **kwargs)
    return act


def entry_of(act: AbstractActivation) -> Entry:
    """The most specific entry describing an instance (a variant if its fixed args match).

    Raises UnknownNameError for unregistered classes (formulas included)."""
    return _ENTRIES[variant_of(act)[0]]
