"""Schedules for an activation hyper-parameter during training: `anneal(model, "c", ...)`.

With t = min(step, steps)/steps (so steps past `steps` hold `end`):
  constant     v = start
  linear       v = start + (end − start)·t
  exponential  v = start·(end/start)^t          (start, end > 0)
  cosine       v = end + (start − end)·(1 + cos(πt))/2
Typical use: the noise scale c of the noisy units (Gulcehre et al. 2016), large early, small late.
Setting the value changes nothing else: in eval() a noisy unit still returns its expectation, now at the new c.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from torch import nn

from actlab.core import validate
from actlab.core.activation import AbstractActivation
from actlab.core.errors import ActlabInputError, ParameterError, ParameterTypeError

_KINDS: dict[str, Callable[[float, float, float], float]] = {
    "constant": lambda a, b, t: a,
    "linear": lambda a, b, t: a + (b - a) * t,
    "exponential": lambda a, b, t: a * (b / a) ** t,
    "cosine": lambda a, b, t: b + (a - b) * (1 + math.cos(math.pi * t)) / 2,
}


def _numeric(value: object) -> bool:
    """A float hyper-parameter (not an int such as num_parameters, not a tensor, not a bool)."""
    return isinstance(value, float)


class Schedule:
    """Drives the float attribute `attr` of `modules` along one of the curves in the module docstring.

    `sched(step)` sets the value on every module (and in its `get_params()`, so its spec stays true)
    and returns it; `sched.value(step)` only computes it.
    """

    def __init__(self, modules: list[tuple[str, AbstractActivation]], attr: str, start: float, end: float,
                 steps: int, kind: str) -> None:
        self.kind = validate.choice("anneal", "kind", kind, tuple(_KINDS))
        self.start = validate.real("anneal", "start", start)
        self.end = validate.real("anneal", "end", end)
        self.steps = validate.integer("anneal", "steps", steps)
        if kind == "exponential" and not (self.start > 0 and self.end > 0):
            raise ParameterError(f"anneal: an exponential schedule needs start > 0 and end > 0, got start={start:g}, "
                                 f"end={end:g}")
        self.attr, self.modules = attr, modules

    def value(self, step: int) -> float:
        """The value at `step` (an integer ≥ 0), without setting anything."""
        step = validate.integer("anneal", "step", step, low=0)
        return _KINDS[self.kind](self.start, self.end, min(step, self.steps) / self.steps)

    def __call__(self, step: int) -> float:
        v = self.value(step)
        for _, m in self.modules:
            setattr(m, self.attr, v)
            if self.attr in m._params:  # keep get_params()/spec in step with the attribute
                m._params[self.attr] = v
        return v

    def __repr__(self) -> str:
        return (f"Schedule({self.attr!r}, {self.kind}, {self.start:g} -> {self.end:g} over {self.steps} steps, "
                f"{len(self.modules)} modules)")


def anneal(model: nn.Module, attr: str, *, start: float, end: float | None = None, steps: int = 1,
           kind: str = "linear") -> Schedule:
    """A `Schedule` for the attribute `attr` of every actlab activation in `model` that has it as a float.

    `model` may be an activation itself. `end` may be left out only for kind='constant'.
    Raises ActlabInputError when no activation in `model` has a numeric `attr`.

    >>> import actlab
    >>> act = actlab.create("noisy_hard_tanh")
    >>> sched = anneal(act, "c", start=30.0, end=0.5, steps=10)
    >>> sched(5), act.c
    (15.25, 15.25)
    """
    if not isinstance(attr, str):
        raise ParameterTypeError(f"anneal: attr must be an attribute name (a string), got {type(attr).__name__}")
    if end is None:
        if kind != "constant":
            raise ParameterTypeError(f"anneal: a {kind!r} schedule needs end=; only kind='constant' goes without it")
        end = start
    acts = [(n, m) for n, m in model.named_modules() if isinstance(m, AbstractActivation)]
    found = [(n, m) for n, m in acts if _numeric(getattr(m, attr, None))]
    if not found:
        have = sorted({f"{type(m).__name__}({', '.join(k for k, v in m.get_params().items() if _numeric(v)) or '-'})"
                       for _, m in acts})
        raise ActlabInputError(f"anneal: no activation in the model has a float attribute {attr!r}; "
                               + (f"its activations have: {'; '.join(have)}" if have
                                  else "the model holds no actlab activations"))
    return Schedule(found, attr, start, end, steps, kind)
