"""`mixed`: a different activation on each group of neurons / channels."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from actlab.core.activation import AbstractActivation
from actlab.core.errors import ParameterError, ParameterTypeError
from actlab.core.properties import Properties, combine
from actlab.core.registry import create, register


@register("mixed")
class Mixed(AbstractActivation):
    """Apply acts[k] to the k-th contiguous group of channels (dim 1; the last dim of a 1-D input).

    With C channels and K activations the groups have C // K or C // K + 1 channels, the larger
    ones first (C = 2, acts = ['cos', 'identity']: cosine on neuron 0, identity on neuron 1).
    f' is the sub-activations' f' on their groups; each runs on its own exact path.
    """

    elementwise_maths = False  # its maths split the channels on dim 1

    def __init__(self, acts: list[str] | tuple[str, ...] = ("relu", "identity")) -> None:
        if isinstance(acts, str) or not isinstance(acts, (list, tuple)) or not acts:
            raise ParameterTypeError(f"mixed: acts must be a non-empty list of spec strings, got {acts!r}")
        subs = [create(a) for a in acts]
        for a, s in zip(acts, subs):
            if not s.properties.elementwise:
                raise ParameterError(f"mixed: {a!r} is not elementwise; allowed: elementwise activations")
        super().__init__(acts=list(acts))
        self.acts = nn.ModuleList(subs)

    def _groups(self, x: Tensor) -> list[int]:
        dim = 1 if x.dim() >= 2 else 0
        c, k = x.shape[dim], len(self.acts)
        if c < k:
            raise ParameterError(f"mixed: {k} activations need at least {k} channels on dim {dim}, got {c}")
        return [c // k + (1 if i < c % k else 0) for i in range(k)]

    def _per_group(self, x: Tensor, fn: str) -> Tensor:
        dim = 1 if x.dim() >= 2 else 0
        parts = x.split(self._groups(x), dim)
        return torch.cat([getattr(a, fn)(p) for a, p in zip(self.acts, parts)], dim)

    def f(self, x: Tensor) -> Tensor:
        return self._per_group(x, "composite")

    def forward(self, x: Tensor) -> Tensor:
        return self._per_group(x, "forward")

    def composite(self, x: Tensor) -> Tensor:
        return self._per_group(x, "composite")

    @torch.no_grad()
    def derivative(self, x: Tensor) -> Tensor:
        return self._per_group(x, "derivative")

    def get_params(self) -> dict[str, Any]:
        return {"acts": list(self._params["acts"])}

    @property
    def properties(self) -> Properties:
        subs = [a for a in self.acts if isinstance(a, AbstractActivation)]
        parts = [a.properties for a in subs]
        specs = ", ".join(a.spec for a in subs)
        return combine(parts, f"per channel group: [{specs}]", "each group's f'", "the decision-boundary article")
