"""`Bidirectional`: two one-way recurrent layers read as torch's `bidirectional=True` layer.

For a batch-first input x of length T, with → the forward layer and ← the backward one:
  out→ = fwd(x),   out← = flip(bwd(flip(x)))     (flip reverses the time axis)
  output[:, t] = [out→[:, t], out←[:, t]],   h_n = [h→_T ; h←_1]  stacked on the direction axis
which is torch.nn.GRU(..., bidirectional=True)'s output and h_n exactly (one layer). torch's
reverse-direction weights are its `*_reverse` keys; `load_torch_state_dict` maps them onto `bwd`.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from actlab.core.errors import ParameterError
from actlab.nn.recurrent import GRU


class Bidirectional(nn.Module):
    """A one-layer, batch-first bidirectional GRU built from two `actlab.nn.GRU`s (forward, then backward).

    forward(x, h0=None): x (N, T, H_in), h0 (2, N, H) or None (zeros) -> (output (N, T, 2H), h_n (2, N, H)).
    Built in this order, both layers draw their initial weights in torch's order: for the same seed the
    weights equal those of torch.nn.GRU(H_in, H, batch_first=True, bidirectional=True).
    """

    def __init__(self, fwd: GRU, bwd: GRU) -> None:
        super().__init__()
        for name, layer in (("fwd", fwd), ("bwd", bwd)):
            if not isinstance(layer, GRU) or layer.num_layers != 1 or not layer.batch_first:
                raise ParameterError(f"Bidirectional: {name} must be a one-layer, batch-first actlab.nn.GRU")
        if (fwd.input_size, fwd.hidden_size) != (bwd.input_size, bwd.hidden_size):
            raise ParameterError("Bidirectional: fwd and bwd must have the same input and hidden sizes")
        self.fwd, self.bwd = fwd, bwd
        self.hidden_size = fwd.hidden_size

    def forward(self, x: Tensor, h0: Tensor | None = None) -> tuple[Tensor, Tensor]:
        h_f, h_b = (None, None) if h0 is None else (h0[0:1], h0[1:2])
        out_f, hn_f = self.fwd(x, h_f)
        out_b, hn_b = self.bwd(x.flip(1), h_b)  # the backward layer reads the sequence from its end
        return torch.cat([out_f, out_b.flip(1)], dim=-1), torch.cat([hn_f, hn_b], dim=0)

    def load_torch_state_dict(self, state_dict: Mapping[str, Tensor]) -> None:
        """Load the weights of a one-layer torch.nn.GRU(bidirectional=True): keys `*_l0` and `*_l0_reverse`."""
        keys = self.fwd.torch_keys()
        missing = sorted({*keys, *(k + "_reverse" for k in keys)} - set(state_dict))
        if missing:
            raise ParameterError(f"Bidirectional: not a bidirectional torch.nn.GRU state_dict (missing {missing})")
        self.fwd.load_torch_state_dict({k: state_dict[k] for k in keys})
        self.bwd.load_torch_state_dict({k: state_dict[k + "_reverse"] for k in keys})
