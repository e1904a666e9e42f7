"""`as_activation`: the catalog entry computing the same function as a module (torch.nn's included).

The monitor and `init_` look at a model's activation layers through actlab's closed forms: an
actlab activation is itself; a torch.nn activation (nn.LeakyReLU(0.2), nn.PReLU, nn.GELU('tanh'))
becomes the registered entry whose `torch_class` it is, built with the module's own arguments
and, for learnable ones (nn.PReLU), its current parameter values.
"""

from __future__ import annotations

import inspect

import torch
from torch import nn

from actlab.core.activation import AbstractActivation
from actlab.core.registry import entries

_RENAMED = {"init": "weight"}
"""actlab argument -> torch attribute where the names differ (nn.PReLU keeps its init in `weight`)."""


def as_activation(module: nn.Module) -> AbstractActivation | None:
    """The actlab activation equal to `module`, or None when the catalog has no entry for its class.

    For torch.nn modules the arguments are read from the module's attributes (only those the
    catalog entry takes and does not fix) and learnable parameters are copied, so the result's
    derivative is the module's derivative now, not at its initialisation."""
    if isinstance(module, AbstractActivation):
        return module
    for e in entries():
        if e.torch_class is None or type(module) is not e.torch_class:
            continue
        allowed = [p for p in inspect.signature(e.cls.__init__).parameters if p not in ("self", "params")]
        kwargs: dict[str, object] = {}
        for k in allowed:
            if k in e.fixed:
                continue
            value = getattr(module, _RENAMED.get(k, k), None)
            if isinstance(value, torch.Tensor):
                kwargs["num_parameters"] = value.numel()
                value = float(value.detach().flatten()[0]) if value.numel() else None
            if isinstance(value, (bool, int, float, str)):
                kwargs[k] = value
        act = e.cls(**e.fixed, **kwargs)
        _copy_parameters(module, act)
        return act.to(next(iter(module.parameters()), torch.empty(0)).device)
    return None


def _copy_parameters(source: nn.Module, act: AbstractActivation) -> None:
    """Copy learnable values by position (nn.PReLU's `weight` -> prelu's `a`) where shapes agree."""
    theirs = list(source.parameters())
    ours = [getattr(act, n) for n in act.param_names]
    with torch.no_grad():
        for t, o in zip(theirs, ours):
            if t.shape == o.shape:
                o.copy_(t.detach())
