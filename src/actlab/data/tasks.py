"""The noise study's data: digits split by seed, the adding problem, counting distinct values, and the
1-D objective. Everything is regenerated from a seed, so the arms of one seed see the same data.

Adding problem (Hochreiter & Schmidhuber 1997; the paper's GRU task): a sequence of length T of
pairs (v_t, m_t), v_t ~ U[0, 1], m_t ∈ {0, 1} with exactly two ones, one in each half of the
sequence (T ≥ 2); the target is Σ_t v_t·m_t. Predicting the constant 1 has MSE Var(v_a + v_b) = 2/12.

Distinct values: a sequence of L integers drawn uniformly from 0..V−1, one-hot; the class is the
number of distinct values minus one (classes 0..min(L, V) − 1).

1-D objective: f(x) = x²/10 − cos(3x), f'(x) = x/5 + 3·sin(3x). Its global minimum is x* = 0,
f(0) = −1 (f(x) ≥ −1 + x²/10 > −1 for x ≠ 0); local minima sit near ±2.0, ±4.1, …; the basin of
x* is (−b, b) with b ≈ 1.08 the first positive zero of f' where f' turns negative (a local maximum).
"""

from __future__ import annotations

import numpy as np

ADDING_BASELINE = 2 / 12
"""MSE of predicting 1 (the mean of the target) on the adding problem."""


def digits(seed: int, test_fraction: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, y_train, X_test, y_test) of scikit-learn's digits (1797 8×8 images, 10 classes): the real-data
    split (`actlab.data.realdata.split`) without a validation part, for `seed` mod 2³² — stratified by class,
    standardised with the training set's mean and std."""
    from actlab.data.realdata import split

    s = split("digits", seed % 2**32, val_fraction=0.0, test_fraction=test_fraction)
    return s.X_train, s.y_train, s.X_test, s.y_test


def adding(rng: np.random.Generator, n: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """(x (n, length, 2) float32, y (n,) float32): values, markers; y = the sum of the two marked values."""
    if length < 2:
        raise ValueError(f"the adding problem needs a sequence length ≥ 2, got {length}")
    half = length // 2
    values = rng.uniform(0, 1, (n, length))
    first = rng.integers(0, half, n)  # one marker in each half: never the same position
    second = rng.integers(half, length, n)
    marks = np.zeros((n, length))
    marks[np.arange(n), first] = 1.0
    marks[np.arange(n), second] = 1.0
    x = np.stack([values, marks], axis=-1)
    return x.astype(np.float32), (values * marks).sum(1).astype(np.float32)


def distinct(rng: np.random.Generator, n: int, length: int, values: int) -> tuple[np.ndarray, np.ndarray]:
    """(x (n, length, values) one-hot float32, y (n,) int64 = distinct count − 1)."""
    seq = rng.integers(0, values, (n, length))
    x = np.eye(values, dtype=np.float32)[seq]
    y = np.array([len(set(row)) - 1 for row in seq.tolist()], dtype=np.int64)
    return x, y


def distinct_classes(length: int, values: int) -> int:
    return min(length, values)


def objective(x: np.ndarray) -> np.ndarray:
    """f(x) = x²/10 − cos(3x)."""
    return x**2 / 10 - np.cos(3 * x)


def gradient(x: np.ndarray) -> np.ndarray:
    """f'(x) = x/5 + 3·sin(3x)."""
    return x / 5 + 3 * np.sin(3 * x)


def _basin_edge() -> float:
    """b: the zero of f' on [1, 1.2] (f'(1) > 0 > f'(1.2)), by bisection to machine precision."""
    lo, hi = 1.0, 1.2
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if gradient(np.array(mid)) > 0 else (lo, mid)
    return (lo + hi) / 2


GLOBAL_MIN = 0.0
BASIN = _basin_edge()
"""|x − x*| < BASIN: gradient descent from x ends at the global minimum."""

