"""`as_activation`: the catalog entry computing the same function as a module (torch.nn's included).

The monitor and `init_` look at a model's activation layers through actlab's closed forms: an
actlab activation is itself; a torch.nn activation (nn.LeakyReLU(0.2), nn.PReLU, nn.GELU('tanh'))
becomes the entry registered for exactly its class, built with the module's own arguments and
current parameter values, and checked to compute the same values on [−8, 8].
"""

from __future__ import annotations

import copy
import inspect

import torch
from torch import nn

from actlab.core.activation import AbstractActivation
from actlab.core.registry import entries


def as_activation(module: nn.Module) -> AbstractActivation | None:
    """The actlab activation equal to `module`, or None when the catalog has none for its exact class
    (subclasses may compute something else) or the one it has computes other values.

    Arguments are read from the module's attributes of the same names (only those the entry takes
    and does not fix); learnable parameters are copied by position (nn.PReLU's `weight` -> `a`), so
    the result's derivative is the module's derivative now, not at its initialisation."""
    if isinstance(module, AbstractActivation):
        return module
    entry = next((e for e in entries() if e.torch_class is type(module)), None)
    if entry is None:
        return None
    params = inspect.signature(entry.cls.__init__).parameters
    kwargs = {k: getattr(module, k) for k, p in params.items()
              if k != "self" and k not in entry.fixed and p.kind is not p.VAR_KEYWORD and hasattr(module, k)}
    act = entry.cls(**entry.fixed, **kwargs)
    with torch.no_grad():
        for mine, theirs in zip((getattr(act, n) for n in act.param_names), module.parameters()):
            mine.copy_(theirs.detach().reshape(mine.shape))
    return act if not act.properties.elementwise or _same_function(module, act) else None


def _same_function(module: nn.Module, act: AbstractActivation) -> bool:
    """Both compute the same values on [−8, 8] (eval mode, float64; channels on dim 1 as wide as the parameters)."""
    channels = max([p.numel() for p in module.parameters()] + [1])
    x = torch.linspace(-8, 8, 321, dtype=torch.float64).reshape(-1, 1).expand(-1, channels).contiguous()
    theirs = copy.deepcopy(module).to("cpu", torch.float64).eval()
    mine = copy.deepcopy(act).to("cpu", torch.float64).eval()
    with torch.no_grad():
        return torch.allclose(theirs(x.clone()), mine(x), rtol=1e-6, atol=1e-9)
