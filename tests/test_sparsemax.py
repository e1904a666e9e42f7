"""sparsemax against hand calculation and an independent reference (numpy, one row at a time, a plain
loop over candidate supports), its Jacobian against finite differences of that reference.

The shared suites (conformance, torch.func, dtypes) run sparsemax and sparsemax(dim=1) too; these tests
pin the values themselves.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.func import jacfwd, vmap

import actlab


def reference(v: np.ndarray) -> np.ndarray:
    """Martins & Astudillo 2016, Algorithm 1, for one vector, written as a loop."""
    z = np.sort(v)[::-1]
    k = 0
    for j in range(1, len(z) + 1):
        if 1 + j * z[j - 1] > z[:j].sum():
            k = j
    tau = (z[:k].sum() - 1) / k
    return np.maximum(v - tau, 0.0)


def reference_along(x: np.ndarray, dim: int) -> np.ndarray:
    moved = np.moveaxis(x, dim, -1)
    rows = moved.reshape(-1, moved.shape[-1])
    out = np.stack([reference(r) for r in rows]).reshape(moved.shape)
    return np.moveaxis(out, -1, dim)


def numeric_jacobian(v: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of the reference: exact up to rounding while no x_i crosses τ within h."""
    n = len(v)
    jac = np.empty((n, n))
    for j in range(n):
        e = np.zeros(n)
        e[j] = h
        jac[:, j] = (reference(v + e) - reference(v - e)) / (2 * h)
    return jac


# (x, sparsemax(x)) by hand: sorted z, cumulative sums, support size k = the last j with 1 + j·z_j > Σ_{i≤j} z_i,
# τ = (Σ_{i≤k} z_i − 1)/k.
BY_HAND = [
    # z = 1, .5, −1; sums 1, 1.5, .5; 2 > 1, 2 > 1.5, −2 < .5: k = 2, τ = (1.5 − 1)/2 = .25
    ([1.0, 0.5, -1.0], [0.75, 0.25, 0.0]),
    # 4 > 3, 1 < 3: k = 1, τ = 3 − 1 = 2 (support of one: a one-hot output)
    ([3.0, 0.0, -1.0], [1.0, 0.0, 0.0]),
    # ties: z = 1, 1, 0; sums 1, 2, 2; 2 > 1, 3 > 2, 1 < 2: k = 2, τ = .5
    ([1.0, 1.0, 0.0], [0.5, 0.5, 0.0]),
    # all equal: k = 4, τ = (4c − 1)/4, each 1/4
    ([2.0, 2.0, 2.0, 2.0], [0.25, 0.25, 0.25, 0.25]),
    # unsorted, support of 3: z = .6, .4, .3, −2; sums .6, 1, 1.3, −.7; k = 3, τ = .1
    ([0.3, -2.0, 0.6, 0.4], [0.2, 0.0, 0.5, 0.3]),
    # far from 0: only differences count (x − max keeps τ from rounding away)
    ([1e4 + 1, 1e4 + 0.5, 1e4 - 1], [0.75, 0.25, 0.0]),
    ([1e30, 0.0, 0.0], [1.0, 0.0, 0.0]),
]


@pytest.mark.parametrize(("x", "want"), BY_HAND)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_values_by_hand(x: list[float], want: list[float], dtype: torch.dtype) -> None:
    got = actlab.create("sparsemax")(torch.tensor(x, dtype=dtype))
    assert got.dtype == dtype
    torch.testing.assert_close(got, torch.tensor(want, dtype=dtype), rtol=0, atol=1e-15 if dtype == torch.float64
                               else 1e-6)
    # the reference agrees with the hand values (shifted: as published, 1 + 1e30 rounds to 1e30 and k to 0)
    v = np.array(x)
    assert np.allclose(reference(v - v.max()), want, atol=1e-12)


def test_vjp_by_hand() -> None:
    """x = [1, .5, −1]: support {0, 1}; g = [1, 2, 3] → g − mean over the support = [−.5, .5], 0 off it."""
    act = actlab.create("sparsemax")
    x = torch.tensor([1.0, 0.5, -1.0], dtype=torch.float64, requires_grad=True)
    (got,) = torch.autograd.grad(act(x), x, torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
    assert got.tolist() == [-0.5, 0.5, 0.0]
    assert act.derivative(x.detach()).tolist() == [0.0, 0.0, 0.0]  # ∂(Σ f)/∂x: Σ f = 1 whatever x is


@pytest.mark.parametrize("dim", [-1, 0, 1, 2])
def test_matches_the_reference_on_batches(dim: int) -> None:
    g = torch.Generator().manual_seed(3)
    x = torch.randn(3, 5, 7, generator=g, dtype=torch.float64) * 1.5
    y = actlab.create(f"sparsemax(dim={dim})")(x)
    np.testing.assert_allclose(y.numpy(), reference_along(x.numpy(), dim), rtol=0, atol=1e-14)
    # on the simplex: non-negative, summing to 1, and sparse (unlike softmax, zeros do occur)
    assert (y >= 0).all() and torch.allclose(y.sum(dim), torch.ones((), dtype=y.dtype), atol=1e-14, rtol=0)
    assert (y == 0).any()
    # the largest input always keeps the most mass, as with softmax
    assert torch.equal(y.argmax(dim), x.argmax(dim))


def test_two_inputs_give_sparse_sigmoid_of_the_difference() -> None:
    """For n = 2, sparsemax([t, 0])₁ = clip((t + 1)/2, 0, 1): Martins & Astudillo's two-class case, which
    is sparse_sigmoid; an identity between two independently written entries."""
    t = torch.linspace(-3, 3, 61, dtype=torch.float64)
    y = actlab.create("sparsemax")(torch.stack([t, torch.zeros_like(t)], -1))[:, 0]
    torch.testing.assert_close(y, actlab.create("sparse_sigmoid")(t), rtol=0, atol=1e-15)


def test_jacobian_against_finite_differences_of_the_reference() -> None:
    """Reverse mode (the closed-form vjp) and forward mode (the closed-form jvp), row by row, against
    central differences of the numpy reference, and against diag(s) − s·sᵀ/|S| written out (s: the
    support's indicator)."""
    act = actlab.create("sparsemax")
    g = torch.Generator().manual_seed(7)
    for _ in range(20):
        x = torch.randn(6, generator=g, dtype=torch.float64) * 2
        want = numeric_jacobian(x.numpy())
        rev = torch.autograd.functional.jacobian(act, x)
        fwd = jacfwd(act)(x)
        s = (act(x) > 0).double()
        by_hand = torch.diag(s) - torch.outer(s, s) / s.sum()
        for got in (rev, fwd, by_hand):
            np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-7)


def test_half_precision_and_vmap() -> None:
    """float16 / bfloat16 are computed in float32; vmap over a batch equals the batched call."""
    g = torch.Generator().manual_seed(11)
    x = torch.randn(4, 9, generator=g, dtype=torch.float64)
    act = actlab.create("sparsemax")
    for dtype, tol in ((torch.float16, 2e-3), (torch.bfloat16, 1.6e-2), (torch.float32, 1e-6)):
        xr = x.to(dtype)
        y = act(xr)
        assert y.dtype == dtype
        np.testing.assert_allclose(y.double().numpy(), reference_along(xr.double().numpy(), -1), atol=tol)
    torch.testing.assert_close(vmap(act)(x), act(x), rtol=0, atol=1e-15)


def test_dim_is_validated() -> None:
    with pytest.raises(actlab.ParameterTypeError, match="sparsemax: dim must be an integer"):
        actlab.create("sparsemax(dim=1.5)")
