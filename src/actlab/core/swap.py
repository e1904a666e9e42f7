"""`swap`: replace every matching activation module in a model by a fresh one."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from actlab.core.activation import AbstractActivation
from actlab.core.errors import ParameterTypeError, UnknownNameError
from actlab.core.registry import create, entry, entry_of
from actlab.core.spec import parse_spec

Matcher = str | type | Callable[[nn.Module], bool]
Factory = str | Callable[[], nn.Module]


def swap(model: nn.Module, old: Matcher, new: Factory) -> int:
    """Replace, in place, every submodule of `model` that matches `old` by a fresh `new`; return the count.

    `old` is a name or spec string ('relu' matches actlab's relu and torch.nn.ReLU;
    'leaky_relu(negative_slope=0.2)' only those with that slope), a module class, or a
    predicate on modules. `new` is a spec string or a zero-argument factory; each match gets
    its own instance, so learnable parameters are never shared. The root module itself is
    not replaced. Replaced modules are not searched further.
    """
    match = _matcher(old)
    make = (lambda: create(new)) if isinstance(new, str) else new
    if not callable(make):
        raise ParameterTypeError(f"swap: new must be a spec string or a factory, got {type(new).__name__}")
    if isinstance(new, str):
        create(new)  # fail before touching the model
    return _swap(model, match, make)


def _swap(module: nn.Module, match: Callable[[nn.Module], bool], make: Callable[[], nn.Module]) -> int:
    count = 0
    for name, child in list(module.named_children()):
        if match(child):
            setattr(module, name, make())
            count += 1
        else:
            count += _swap(child, match, make)
    return count


def _matcher(old: Matcher) -> Callable[[nn.Module], bool]:
    if isinstance(old, type):
        return lambda m: isinstance(m, old)
    if not isinstance(old, str):
        if callable(old):
            return old
        raise ParameterTypeError(f"swap: old must be a name, a spec, a class or a predicate, got {type(old).__name__}")
    name, kwargs = parse_spec(old)
    e = entry(name)

    def match(m: nn.Module) -> bool:
        if isinstance(m, AbstractActivation):
            try:
                if entry_of(m).name != e.name:
                    return False
            except UnknownNameError:  # a formula or an unregistered class
                return False
            params = m.get_params()
            return all(params.get(k) == v for k, v in kwargs.items())
        if e.torch_class is not None and type(m) is e.torch_class:
            return all(getattr(m, k, None) == v for k, v in kwargs.items())
        return False

    return match
