"""Golden values: f and f' computed independently with mpmath (50 digits), not by actlab.

Each entry is a spec and its formula written directly in mpmath; f' comes from mpmath's
numerical differentiation of that formula, so neither value depends on the code under test.
"""

from __future__ import annotations

import math

import mpmath as mp
import pytest
import torch

import actlab
from conftest import make64

mp.mp.dps = 50
sig = lambda x: 1 / (1 + mp.exp(-x))  # noqa: E731
Phi = lambda x: (1 + mp.erf(x / mp.sqrt(2))) / 2  # noqa: E731
sp = lambda x: mp.log1p(mp.exp(x))  # noqa: E731
clip = lambda v, lo, hi: min(max(v, lo), hi)  # noqa: E731
A, L = mp.mpf("1.6732632423543772848170429916717"), mp.mpf("1.0507009873554804934193349852946")
K = mp.sqrt(2 / mp.pi)

GOLDEN = {
    "sigmoid": sig,
    "tanh": mp.tanh,
    "log_sigmoid": lambda x: mp.log(sig(x)),
    "softsign": lambda x: x / (1 + abs(x)),
    "softplus(beta=2.0, threshold=20.0)": lambda x: mp.log1p(mp.exp(2 * x)) / 2,
    "elu(alpha=2.0)": lambda x: x if x > 0 else 2 * mp.expm1(x),
    "selu": lambda x: L * x if x > 0 else L * A * mp.expm1(x),
    "celu(alpha=0.5)": lambda x: max(0, x) + min(0, 0.5 * mp.expm1(x / 0.5)),
    "gelu": lambda x: x * Phi(x),
    "gelu_tanh": lambda x: x / 2 * (1 + mp.tanh(K * (x + mp.mpf("0.044715") * x**3))),
    "silu": lambda x: x * sig(x),
    "swish(beta=1.5)": lambda x: x * sig(1.5 * x),
    "quick_gelu": lambda x: x * sig(mp.mpf("1.702") * x),
    "mish": lambda x: x * mp.tanh(sp(x)),
    "hard_swish": lambda x: x * clip(x + 3, 0, 6) / 6,
    "hard_sigmoid": lambda x: clip(x / 6 + mp.mpf(1) / 2, 0, 1),
    "hard_sigmoid_gulcehre": lambda x: clip(x / 4 + mp.mpf(1) / 2, 0, 1),
    "hard_sigmoid_keras": lambda x: clip(x / 5 + mp.mpf(1) / 2, 0, 1),
    "hard_tanh": lambda x: clip(x, -1, 1),
    "relu6": lambda x: clip(x, 0, 6),
    "leaky_relu6": lambda x: mp.mpf("0.01") * x if x < 0 else min(x, 6),
    "leaky_relu(negative_slope=0.2)": lambda x: x if x > 0 else x / 5,
    "squared_relu": lambda x: max(x, 0) ** 2,
    "snake(a=0.5)": lambda x: x + mp.sin(x / 2) ** 2 / mp.mpf("0.5"),
    "snake_beta(alpha=0.7, beta=1.3)": lambda x: x + mp.sin(mp.mpf("0.7") * x) ** 2 / mp.mpf("1.3"),
    "acon_c(p1=0.8, p2=-0.4, beta=2.0)": lambda x: mp.mpf("1.2") * x * sig(2 * mp.mpf("1.2") * x) - mp.mpf("0.4") * x,
    "tanh_shrink": lambda x: x - mp.tanh(x),
    "soft_shrink": lambda x: x - mp.mpf("0.5") if x > 0.5 else (x + mp.mpf("0.5") if x < -0.5 else 0),
    "square": lambda x: x**2,
    "signed_square": lambda x: x * abs(x),
    "sin": mp.sin,
    "cos": mp.cos,
    "star_relu": lambda x: mp.mpf("0.8944") * max(x, 0) ** 2 - mp.mpf("0.4472"),
    # eval() of the noisy units is the expectation over ε (output mode: linear in ε)
    "noisy_hard_tanh": lambda x: mp.mpf("1.15") * clip(x, -1, 1) - mp.mpf("0.15") * x,
    # α = 1.1, c = 0.15, p = 0.5, d(x) = −sgn(x)·sgn(1 − α) = sgn(x), E|ε| = √(2/π)
    "noisy_hard_sigmoid(p=0.5)": lambda x: (
        mp.mpf("1.1") * clip(x / 4 + mp.mpf(1) / 2, 0, 1) - mp.mpf("0.1") * (x / 4 + mp.mpf(1) / 2)
        + mp.sign(x) * mp.mpf("0.15") * mp.sqrt(2 / mp.pi)
        * (sig(mp.mpf("0.5") * (clip(x / 4 + mp.mpf(1) / 2, 0, 1) - x / 4 - mp.mpf(1) / 2)) - mp.mpf(1) / 2) ** 2
    ),
}
POINTS = [-7.3, -2.7, -1.1, -0.3, 0.4, 1.7, 3.2, 6.5]  # no kink of any entry here


@pytest.mark.parametrize("spec", list(GOLDEN))
def test_golden_values(spec: str) -> None:
    fn = GOLDEN[spec]
    act = make64(spec).eval()
    x = torch.tensor(POINTS, dtype=torch.float64)
    y, d = act(x), act.derivative(x)
    for i, p in enumerate(POINTS):
        want_f = float(fn(mp.mpf(p)))
        want_d = float(mp.diff(fn, mp.mpf(p)))
        assert math.isclose(y[i].item(), want_f, rel_tol=1e-12, abs_tol=1e-14), f"{spec}: f({p})"
        assert math.isclose(d[i].item(), want_d, rel_tol=1e-10, abs_tol=1e-12), f"{spec}: f'({p})"


def test_snake_parameter_derivative_matches_mpmath() -> None:
    act = make64("snake(a=0.5)")
    x = torch.tensor(POINTS, dtype=torch.float64)
    (da,) = act.dparams(x, act.a.reshape(()))
    for i, p in enumerate(POINTS):
        want = mp.diff(lambda a, p=p: mp.mpf(p) + mp.sin(a * p) ** 2 / a, mp.mpf("0.5"))
        assert math.isclose(da[i].item(), float(want), rel_tol=1e-10, abs_tol=1e-12)


def test_snake_is_accurate_as_a_goes_to_zero() -> None:
    """x + sin²(ax)/a → x + a·x² for tiny a: no 0/0 and no lost digits."""
    x = torch.tensor([-3.0, 0.5, 2.0], dtype=torch.float64)
    for a in (1e-3, 1e-8, 1e-20, 1e-300):
        act = make64(f"snake(a={a!r})")
        y = act(x)
        for i, p in enumerate(x.tolist()):
            want = mp.mpf(p) + mp.sin(mp.mpf(a) * p) ** 2 / mp.mpf(a)
            assert math.isclose(y[i].item(), float(want), rel_tol=1e-15)
        with torch.no_grad():
            act.a.fill_(0.0)  # training may drive a to 0: the limit is the identity
        assert torch.equal(act(x), x)
    y32 = actlab.create("snake(a=1e-30)")(x.float())
    assert torch.isfinite(y32).all() and torch.allclose(y32, x.float())


@pytest.mark.parametrize(
    ("spec", "fn", "start"),
    [
        ("gelu", lambda x: x * Phi(x), -0.75),
        ("gelu_tanh", lambda x: x / 2 * (1 + mp.tanh(K * (x + mp.mpf("0.044715") * x**3))), -0.75),
        ("mish", lambda x: x * mp.tanh(sp(x)), -1.2),
        ("silu", lambda x: x * sig(x), -1.3),
        ("swish(beta=2.5)", lambda x: x * sig(2.5 * x), -0.5),
        ("acon_c", lambda x: x * sig(x), -1.3),
    ],
)
def test_declared_minimum_is_the_true_infimum(spec: str, fn, start: float) -> None:
    xm = mp.findroot(lambda t: mp.diff(fn, t), start)
    assert math.isclose(actlab.create(spec).properties.range[0], float(fn(xm)), rel_tol=1e-14)


def test_acon_minimum_for_mixed_signs() -> None:
    """p1 > 0 > p2 with |p2| < p1 − p2: f → +∞ both ways, minimum found independently."""
    p1, p2, b = mp.mpf("1.0"), mp.mpf("-0.25"), mp.mpf("1.5")
    fn = lambda x: (p1 - p2) * x * sig(b * (p1 - p2) * x) + p2 * x  # noqa: E731
    xm = mp.findroot(lambda t: mp.diff(fn, t), -0.5)
    lo = actlab.create("acon_c(p1=1.0, p2=-0.25, beta=1.5)").properties.range[0]
    assert math.isclose(lo, float(fn(xm)), rel_tol=1e-12)
