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
    "squareplus": lambda x: (x + mp.sqrt(x**2 + 4)) / 2,
    "squareplus(b=0.5)": lambda x: (x + mp.sqrt(x**2 + mp.mpf("0.5"))) / 2,
    "sparse_plus": lambda x: 0 if x <= -1 else ((x + 1) ** 2 / 4 if x < 1 else x),
    "sparse_sigmoid": lambda x: clip((x + 1) / 2, 0, 1),
    "hard_mish": lambda x: x * clip(x + 2, 0, 2) / 2,
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


# --- kinks and huge inputs of squareplus, sparse_plus, sparse_sigmoid, hard_mish, by hand ---------------
# (spec, x, f(x), f'(x)): at a declared kink f' is the documented value; sparse_plus' f' is continuous at
# ±1 and hard_mish's at 0 (one-sided slopes agree), squareplus(b=0) is relu (f'(0) = 0, relu's value).
BY_HAND = [
    ("squareplus", 0.0, 1.0, 0.5),  # (0 + √4)/2; (1 + 0)/2
    ("squareplus", 1.5, 2.0, 0.8),  # (1.5 + √6.25)/2 = (1.5 + 2.5)/2; (1 + 1.5/2.5)/2
    ("squareplus", -1.5, 0.5, 0.2),  # (−1.5 + 2.5)/2; (1 − 0.6)/2
    ("squareplus(b=0.0)", 0.0, 0.0, 0.0),
    ("squareplus(b=0.0)", -3.0, 0.0, 0.0),
    ("squareplus(b=0.0)", 2.5, 2.5, 1.0),
    ("sparse_plus", -1.0, 0.0, 0.0),
    ("sparse_plus", 0.0, 0.25, 0.5),
    ("sparse_plus", 1.0, 1.0, 1.0),
    ("sparse_sigmoid", -1.0, 0.0, 0.0),  # f'(±1) = 0: the saturated side's value, as hard_sigmoid's
    ("sparse_sigmoid", 0.0, 0.5, 0.5),
    ("sparse_sigmoid", 1.0, 1.0, 0.0),
    ("hard_mish", -2.0, 0.0, 0.0),  # f' jumps 0 → −1 here; the documented value is the left one
    ("hard_mish", -1.0, -0.5, 0.0),  # the minimum: −1·1/2, f' = −1 + 1
    ("hard_mish", -0.5, -0.375, 0.5),  # −0.5·1.5/2; −0.5 + 1
    ("hard_mish", 0.0, 0.0, 1.0),
]


@pytest.mark.parametrize(("spec", "x", "want_f", "want_d"), BY_HAND)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_values_and_slopes_by_hand(spec: str, x: float, want_f: float, want_d: float, dtype: torch.dtype) -> None:
    """derivative() and the backward of forward, at kinks too (to the dtype's rounding: 0.8 and 0.2 are not
    binary fractions)."""
    act = actlab.create(spec)
    t = torch.tensor([x], dtype=dtype, requires_grad=True)
    y = act(t)
    (g,) = torch.autograd.grad(y.sum(), t)
    rel = 1e-15 if dtype == torch.float64 else 1.2e-7
    d = act.derivative(t.detach())
    for what, got, want in (("f", y, want_f), ("derivative()", d, want_d), ("backward", g, want_d)):
        assert math.isclose(got.item(), want, rel_tol=rel), f"{spec}: {what} at {x} is {got.item()}, want {want}"


def _squareplus(x: mp.mpf, b: int = 4) -> tuple[mp.mpf, mp.mpf]:
    """f and f' straight from the paper's formulas, at 700 digits (x + √(x² + b) cancels for x ≪ 0: at
    x = −1e300, √(x² + 4) differs from |x| in the 600th digit)."""
    with mp.workdps(700):
        r = mp.sqrt(x**2 + b)
        return (x + r) / 2, (1 + x / r) / 2


HUGE = [-1e30, -1e4, 1e4, 1e30]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_squareplus_is_accurate_at_huge_inputs(dtype: torch.dtype) -> None:
    """No overflow of x² (float32: |x| > 1.8e19) and no cancellation of x + √(x² + b) for x ≪ 0."""
    pts = HUGE + ([-1e300, 1e300] if dtype == torch.float64 else [-3e38, 3e38])
    act = actlab.create("squareplus")
    x = torch.tensor(pts, dtype=dtype)
    y, d = act(x), act.derivative(x)
    rel = 1e-14 if dtype == torch.float64 else 1e-6
    tiny = torch.finfo(dtype).tiny  # a true value below it may round to 0
    for i, p in enumerate(x.tolist()):
        want_f, want_d = _squareplus(mp.mpf(p))
        assert math.isclose(y[i].item(), float(want_f), rel_tol=rel, abs_tol=tiny), f"f({p})"
        assert math.isclose(d[i].item(), float(want_d), rel_tol=rel, abs_tol=tiny), f"f'({p})"
    inf = torch.tensor([-math.inf, math.inf], dtype=dtype)
    assert act(inf).tolist() == [0.0, math.inf] and act.derivative(inf).tolist() == [0.0, 1.0]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_piecewise_entries_at_huge_inputs(dtype: torch.dtype) -> None:
    """Exact constants and identities far out (no −inf·0): f and f' at ±1e4, ±1e30 and ±inf."""
    x = torch.tensor([-math.inf, *HUGE, math.inf], dtype=dtype)
    big = x.tolist()
    want = {  # f, f' at -inf, -1e30, -1e4, 1e4, 1e30, inf
        "sparse_plus": ([0.0] * 3 + big[3:], [0.0] * 3 + [1.0] * 3),
        "sparse_sigmoid": ([0.0] * 3 + [1.0] * 3, [0.0] * 6),
        "hard_mish": ([0.0] * 3 + big[3:], [0.0] * 3 + [1.0] * 3),
        "squareplus(b=0.0)": ([0.0] * 3 + big[3:], [0.0] * 3 + [1.0] * 3),
    }
    for spec, (f, d) in want.items():
        act = actlab.create(spec)
        assert act(x).tolist() == f and act.derivative(x).tolist() == d, spec
