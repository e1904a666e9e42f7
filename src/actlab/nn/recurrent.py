"""Recurrent layers whose gates take any activation: `GRU` and `LSTM`, torch.nn's equations.

GRU, gate order r, z, n (torch.nn.GRU):
  r = gate_r(W_ir x + b_ir + W_hr h + b_hr),   z = gate_z(W_iz x + b_iz + W_hz h + b_hz)
  n = candidate(W_in x + b_in + r ⊙ (W_hn h + b_hn)),   h' = (1 − z) ⊙ n + z ⊙ h
LSTM, gate order i, f, g, o (torch.nn.LSTM):
  i = gate_i(W_ii x + b_ii + W_hi h + b_hi), f = gate_f(…), g = candidate(…), o = gate_o(…)
  c' = f ⊙ c + i ⊙ g,   h' = o ⊙ cell(c')
With gate = sigmoid and candidate = cell = tanh (the defaults) both are torch's layers exactly.
Each role of each layer owns its activation module, in `activations[layer][role]`; per-unit
parameters sit on dim 1 of the (N, hidden) gate input, so a spec whose class takes `num_parameters`
and does not set it gets num_parameters = hidden_size (the noisy units' p is learned per unit).
Parameters keep torch's names, shapes and U(±1/√hidden) initialisation (the same draws for the
same seed), so state_dicts load both ways; see `torch_state_dict` for activations with parameters.
"""

from __future__ import annotations

import copy
import inspect
import math
import warnings
from collections.abc import Mapping
from typing import cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from actlab.core import validate
from actlab.core.errors import ParameterError, ParameterTypeError, SpecError
from actlab.core.registry import create, entry
from actlab.core.spec import format_spec, parse_spec

ActivationLike = str | nn.Module
"""A spec string accepted by `actlab.create` ('hard_sigmoid', 'expr:…'), or a module (deep-copied per use)."""


def make_activation(spec: ActivationLike, units: int, owner: str, role: str) -> nn.Module:
    """A fresh activation module for one role of one layer; per-unit parameters get `units` channels
    when the spec names a class with a `num_parameters` argument and leaves it unset."""
    if isinstance(spec, nn.Module):
        return copy.deepcopy(spec)
    if not isinstance(spec, str):
        raise ParameterTypeError(f"{owner}: {role} must be a spec string or an nn.Module, got {type(spec).__name__}")
    try:
        name, kwargs = parse_spec(spec)
    except SpecError:
        return create(spec)  # a prefixed spec ('expr:…'), or a bad one: create names what is wrong
    e = entry(name)
    takes = inspect.signature(e.cls.__init__).parameters
    if "num_parameters" in takes and "num_parameters" not in {**kwargs, **e.fixed}:
        kwargs["num_parameters"] = units
    return create(format_spec(name, kwargs))


class _Recurrent(nn.Module):
    """Shared plumbing of GRU and LSTM: parameters, argument and shape checks, the loop over layers.

    A subclass sets `blocks` (gate blocks stacked in the weights), `states` (1: h; 2: h and c) and
    writes `_layer`, the loop over the time steps of one layer."""

    blocks: int
    states: int

    def __init__(self, input_size: int, hidden_size: int, num_layers: int, bias: bool, batch_first: bool,
                 dropout: float, roles: Mapping[str, ActivationLike]) -> None:
        super().__init__()
        owner = type(self).__name__
        self.input_size = validate.integer(owner, "input_size", input_size)
        self.hidden_size = validate.integer(owner, "hidden_size", hidden_size)
        self.num_layers = validate.integer(owner, "num_layers", num_layers)
        self.bias = validate.boolean(owner, "bias", bias)
        self.batch_first = validate.boolean(owner, "batch_first", batch_first)
        self.dropout = validate.real(owner, "dropout", dropout, low=0.0)
        if self.dropout > 1:
            raise ParameterError(f"{owner}: dropout must be a probability in [0, 1], got {dropout}")
        if self.dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                          UserWarning, stacklevel=3)
        rows = self.blocks * hidden_size  # the gate blocks stacked, in torch's order
        for layer in range(num_layers):
            shapes: dict[str, tuple[int, ...]] = {"weight_ih": (rows, input_size if layer == 0 else hidden_size),
                                                  "weight_hh": (rows, hidden_size)}
            if bias:
                shapes |= {"bias_ih": (rows,), "bias_hh": (rows,)}
            for kind, shape in shapes.items():
                self.register_parameter(f"{kind}_l{layer}", nn.Parameter(torch.empty(shape)))
        self.reset_parameters()
        self.activations = nn.ModuleList(
            nn.ModuleDict({role: make_activation(spec, hidden_size, owner, role) for role, spec in roles.items()})
            for _ in range(num_layers))

    def reset_parameters(self) -> None:
        """torch's initialisation: every weight and bias U(−k, k), k = 1/√hidden_size, in torch's order."""
        k = 1.0 / math.sqrt(self.hidden_size)
        for name in self.torch_keys():
            nn.init.uniform_(getattr(self, name), -k, k)

    def torch_keys(self) -> list[str]:
        """The parameter names torch.nn.GRU / LSTM has for this configuration, in its order."""
        kinds = ("weight_ih", "weight_hh", "bias_ih", "bias_hh") if self.bias else ("weight_ih", "weight_hh")
        return [f"{kind}_l{layer}" for layer in range(self.num_layers) for kind in kinds]

    def _weights(self, layer: int) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
        w_ih, w_hh = getattr(self, f"weight_ih_l{layer}"), getattr(self, f"weight_hh_l{layer}")
        if not self.bias:
            return w_ih, w_hh, None, None
        return w_ih, w_hh, getattr(self, f"bias_ih_l{layer}"), getattr(self, f"bias_hh_l{layer}")

    def torch_state_dict(self) -> dict[str, Tensor]:
        """The weights under torch's keys only: `torch.nn.GRU/LSTM(...).load_state_dict(this)` is strict-clean
        even when the activations have parameters of their own (which torch's layer has no place for)."""
        keys = set(self.torch_keys())
        return {k: v for k, v in self.state_dict().items() if k in keys}

    def load_torch_state_dict(self, state_dict: Mapping[str, Tensor]) -> None:
        """Load a torch.nn.GRU/LSTM state_dict (exactly its keys and shapes); the activations keep their parameters."""
        owner, keys = type(self).__name__, self.torch_keys()
        missing, unexpected = sorted(set(keys) - set(state_dict)), sorted(set(state_dict) - set(keys))
        if missing or unexpected:
            raise ParameterError(f"{owner}: not a state_dict of torch.nn.{owner} with this configuration "
                                 f"(missing {missing or 'none'}, unexpected {unexpected or 'none'})")
        for k in keys:
            if tuple(state_dict[k].shape) != tuple(getattr(self, k).shape):
                raise ParameterError(f"{owner}: {k} has shape {tuple(state_dict[k].shape)}, "
                                     f"this layer needs {tuple(getattr(self, k).shape)}")
        self.load_state_dict(dict(state_dict), strict=False)

    # --- forward -------------------------------------------------------------------
    def _run(self, input: Tensor, hx: tuple[Tensor, ...] | None) -> tuple[Tensor, tuple[Tensor, ...]]:
        """(output, final states) for input (L, N, H_in) / (N, L, H_in) / (L, H_in); each state (layers[, N], H)."""
        batched = self._check_input(input)
        x = input if batched else input.unsqueeze(1)
        if batched and self.batch_first:
            x = x.transpose(0, 1)
        states = self._initial(hx, x, batched)
        finals = []
        for layer in range(self.num_layers):
            x, state = self._layer(layer, x, tuple(s[layer] for s in states))
            finals.append(state)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True)
        out = tuple(torch.stack([f[k] for f in finals]) for k in range(self.states))
        if not batched:
            return x.squeeze(1), tuple(s.squeeze(1) for s in out)
        return (x.transpose(0, 1) if self.batch_first else x), out

    def _check_input(self, input: Tensor) -> bool:
        owner = type(self).__name__
        if not isinstance(input, Tensor):
            raise ParameterTypeError(f"{owner}: input must be a tensor, got {type(input).__name__}")
        if input.dim() not in (2, 3) or input.shape[-1] != self.input_size:
            raise ParameterError(f"{owner}: input must have shape (L, N, {self.input_size}), (N, L, {self.input_size}) "
                                 f"with batch_first, or (L, {self.input_size}) unbatched; got {tuple(input.shape)}")
        if input.shape[1 if self.batch_first and input.dim() == 3 else 0] == 0:
            raise ParameterError(f"{owner}: the sequence length must be at least 1, got shape {tuple(input.shape)}")
        return input.dim() == 3

    def _initial(self, hx: tuple[Tensor, ...] | None, x: Tensor, batched: bool) -> tuple[Tensor, ...]:
        """Initial states, each (num_layers, N, hidden): zeros, or the given ones checked and unsqueezed."""
        shape = (self.num_layers, x.shape[1], self.hidden_size)
        if hx is None:
            return tuple(x.new_zeros(shape) for _ in range(self.states))
        want = shape if batched else (self.num_layers, self.hidden_size)
        for h in hx:
            if not isinstance(h, Tensor) or tuple(h.shape) != want:
                got = tuple(h.shape) if isinstance(h, Tensor) else type(h).__name__
                raise ParameterError(f"{type(self).__name__}: each initial state must have shape {want} for this "
                                     f"input, got {got}")
        return hx if batched else tuple(h.unsqueeze(1) for h in hx)

    def _layer(self, layer: int, x: Tensor, state: tuple[Tensor, ...]) -> tuple[Tensor, tuple[Tensor, ...]]:
        raise NotImplementedError

    def _acts(self, layer: int) -> nn.ModuleDict:
        """The activation modules of one layer, by role."""
        return cast(nn.ModuleDict, self.activations[layer])

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        return s + (f", dropout={self.dropout}" if self.dropout else "")


class GRU(_Recurrent):
    """torch.nn.GRU with any gate and candidate activation (equations in the module docstring).

    Args: input_size, hidden_size, num_layers, bias, batch_first, dropout as torch.nn.GRU (no
    bidirectional); gate: the activation of r and z (each its own module), candidate: that of n.
    forward(input, hx=None) -> (output, h_n) with torch's shapes.

    >>> gru = GRU(3, 5, gate="hard_sigmoid")
    >>> out, h = gru(torch.randn(7, 2, 3))
    >>> out.shape, h.shape
    (torch.Size([7, 2, 5]), torch.Size([1, 2, 5]))
    """

    blocks, states = 3, 1

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, *, gate: ActivationLike = "sigmoid",
                 candidate: ActivationLike = "tanh") -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         {"gate_r": gate, "gate_z": gate, "candidate": candidate})

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        out, (h,) = self._run(input, None if hx is None else (hx,))
        return out, h

    def _layer(self, layer: int, x: Tensor, state: tuple[Tensor, ...]) -> tuple[Tensor, tuple[Tensor, ...]]:
        (h,) = state
        w_ih, w_hh, b_ih, b_hh = self._weights(layer)
        acts = self._acts(layer)
        gate_r, gate_z, candidate = acts["gate_r"], acts["gate_z"], acts["candidate"]
        gi = F.linear(x, w_ih, b_ih)  # W_i· x + b_i· for every step in one matmul
        outs = []
        for gi_t in gi.unbind(0):
            i_r, i_z, i_n = gi_t.chunk(3, 1)
            h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, 1)
            r, z = gate_r(i_r + h_r), gate_z(i_z + h_z)
            n = candidate(i_n + r * h_n)
            h = n + z * (h - n)  # (1 − z)·n + z·h
            outs.append(h)
        return torch.stack(outs), (h,)


class LSTM(_Recurrent):
    """torch.nn.LSTM with any gate, candidate and cell-output activation (equations in the module docstring).

    Args: as torch.nn.LSTM (no bidirectional, no proj_size); gate: the activation of i, f and o (each
    its own module), candidate: that of g, cell: the one applied to c' in h' = o ⊙ cell(c').
    forward(input, hx=None) with hx = (h_0, c_0) -> (output, (h_n, c_n)) with torch's shapes.
    """

    blocks, states = 4, 2

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, *, gate: ActivationLike = "sigmoid",
                 candidate: ActivationLike = "tanh", cell: ActivationLike = "tanh") -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         {"gate_i": gate, "gate_f": gate, "candidate": candidate, "gate_o": gate, "cell": cell})

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        if hx is not None and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise ParameterTypeError(f"LSTM: hx must be a pair (h_0, c_0) of tensors, got {type(hx).__name__}")
        out, (h, c) = self._run(input, None if hx is None else tuple(hx))
        return out, (h, c)

    def _layer(self, layer: int, x: Tensor, state: tuple[Tensor, ...]) -> tuple[Tensor, tuple[Tensor, ...]]:
        h, c = state
        w_ih, w_hh, b_ih, b_hh = self._weights(layer)
        acts = self._acts(layer)
        gate_i, gate_f, candidate, gate_o, cell = (acts[k] for k in ("gate_i", "gate_f", "candidate", "gate_o", "cell"))
        gi = F.linear(x, w_ih, b_ih)  # W_i· x + b_i· for every step in one matmul
        outs = []
        for gi_t in gi.unbind(0):
            i, f, g, o = (gi_t + F.linear(h, w_hh, b_hh)).chunk(4, 1)
            c = gate_f(f) * c + gate_i(i) * candidate(g)
            h = gate_o(o) * cell(c)
            outs.append(h)
        return torch.stack(outs), (h, c)
