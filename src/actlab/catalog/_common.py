"""Small numerical helpers shared by the catalog families."""

from __future__ import annotations

import torch
from torch import Tensor


def finite(x: Tensor) -> Tensor:
    """x with ±inf replaced by ±max float (nan stays nan).

    Used where a factor tends to 0 faster than x grows: `x·σ(x)` at x = −inf is
    `−inf·0 = nan` in IEEE arithmetic but its limit is 0; with x clamped to the largest
    finite float the product is exactly that limit.
    """
    big = torch.finfo(x.dtype).max
    return x.clamp(-big, big)


def finite_(t: Tensor) -> Tensor:
    """`finite` in place, for a temporary the caller made."""
    big = torch.finfo(t.dtype).max
    return t.clamp_(-big, big)


def scratch(t: Tensor) -> Tensor:
    """t, to be overwritten by in-place ops: itself where autograd records nothing (forward, a
    first-order backward), else a copy, since a recorded op may have saved t for its own backward
    (double backward, the composite path).

    On CPU an op that writes into a fresh tensor costs up to twice one that overwrites its input
    (the new memory is read into the cache, or page-faulted in, before it is written)."""
    return t.clone() if torch.is_grad_enabled() else t


def silu_slope(z: Tensor) -> Tensor:
    """silu'(z) = σ(z)·(1 + z·(1 − σ(z))): torch's silu_backward kernel (one pass), or the formula
    where autograd records (double backward), since that kernel has no derivative."""
    if torch.is_grad_enabled():
        s = torch.sigmoid(z)
        return s * (1 + z * (1 - s))
    return torch.ops.aten.silu_backward(z.new_ones(()), z)


def sigmoid_slope_(z: Tensor) -> Tensor:
    """σ'(z) = σ(z)·(1 − σ(z)) in z's storage (z: a temporary the caller made)."""
    s = z.sigmoid_()
    return scratch(s).addcmul_(s, s, value=-1.0)


def step(x: Tensor, at: float = 0.0) -> Tensor:
    """1 where x > at, else 0, in x's dtype."""
    return (x > at).to(x.dtype)


def finite_below(x: Tensor) -> Tensor:
    """x with −inf replaced by −max float (for f whose +inf limit is +inf, like x·σ(x))."""
    return x.clamp(min=-torch.finfo(x.dtype).max)


def pick(cond: Tensor, a: float, b: float, like: Tensor) -> Tensor:
    """a where cond else b, in like's dtype and device (exact constants, no float32 detour).

    With a zero on one side (relu', hard_tanh', the shrinks) it is one cast and at most one multiply,
    ~3× faster than torch.where on two 0-d tensors; the values are the same."""
    if b == 0.0 or a == 0.0:
        mask = (cond if b == 0.0 else ~cond).to(like.dtype)
        value = a if b == 0.0 else b
        return mask if value == 1.0 else mask.mul_(value)
    ta = torch.tensor(a, dtype=like.dtype, device=like.device)
    tb = torch.tensor(b, dtype=like.dtype, device=like.device)
    return torch.where(cond, ta, tb)
