"""The single-sample study's network: input → one hidden neuron → one output neuron (1-1-1).

    out = act_out(w2 · act_hidden(w1 · x + b1) + b2)

Parameters are the last dimension of `theta` (w1, b1, w2, b2); every leading dimension is a batch
of independent networks (trials, and population members for population optimizers), so one call
evaluates all of them.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor

PARAMS = ("w1", "b1", "w2", "b2")

Act = Callable[[Tensor], Tensor]


def one_one_one(theta: Tensor, x: float, hidden: Act, output: Act) -> Tensor:
    """Outputs of the networks `theta` (..., 4) for the scalar input x; shape (...)."""
    w1, b1, w2, b2 = theta.unbind(-1)
    return output(w2 * hidden(w1 * x + b1) + b2)
