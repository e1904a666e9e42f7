"""actlab.anneal: the curves against hand-computed values, the attribute set on every matching unit,
and eval() still the expectation of the noisy units (checked by Monte Carlo) at the values it sets;
with the output mode's clip (the default), eval() is the clipped unit at the mean noise and every
output stays in the hard function's range."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import actlab
from actlab.core.errors import ActlabInputError, ParameterError, ParameterTypeError
from actlab.nn import GRU, Schedule


def _unit() -> actlab.AbstractActivation:
    return actlab.create("noisy_hard_tanh")


# start 30, end 0.5, 10 steps; by hand: t = step/10.
#   linear      30 − 29.5·t:               step 5 -> 15.25, step 2 -> 24.1
#   exponential 30·(1/60)^t:               step 5 -> 30/√60 = 3.872983346207417, step 2 -> 30/e^0.818869 = 13.2279031
#   cosine      0.5 + 29.5·(1 + cos πt)/2: step 5 -> 15.25, step 2 -> 0.5 + 29.5·0.904508497187 = 27.18300066703
HAND = [
    ("linear", 0, 30.0), ("linear", 2, 24.1), ("linear", 5, 15.25), ("linear", 10, 0.5),
    ("exponential", 0, 30.0), ("exponential", 5, 3.872983346207417), ("exponential", 2, 13.2279030933),
    ("exponential", 10, 0.5),
    ("cosine", 0, 30.0), ("cosine", 2, 27.183000667030), ("cosine", 5, 15.25), ("cosine", 10, 0.5),
    ("constant", 0, 30.0), ("constant", 7, 30.0), ("constant", 50, 30.0),
]


@pytest.mark.parametrize("kind, step, want", HAND)
def test_curves_match_hand_values(kind, step, want) -> None:
    act = _unit()
    c0 = act.c
    sched = actlab.anneal(act, "c", start=30.0, end=0.5, steps=10, kind=kind)
    assert sched.value(step) == pytest.approx(want, rel=1e-9)
    assert act.c == c0  # value() sets nothing
    assert sched(step) == pytest.approx(want, rel=1e-9)
    assert act.c == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize("kind", ["linear", "exponential", "cosine"])
def test_holds_end_after_steps(kind) -> None:
    sched = actlab.anneal(_unit(), "c", start=2.0, end=0.25, steps=4, kind=kind)
    assert [sched(s) for s in (4, 5, 100, 10**9)] == [0.25] * 4
    values = [sched.value(s) for s in range(5)]
    assert all(a > b for a, b in zip(values, values[1:]))  # monotone from start to end


def test_constant_needs_no_end_and_value_sets_nothing() -> None:
    act = _unit()
    c0 = act.c
    sched = actlab.anneal(act, "c", start=0.3, kind="constant")
    assert sched.value(3) == 0.3 and act.c == c0
    assert sched(3) == 0.3 and act.c == 0.3


def test_sets_every_noisy_unit_of_a_model() -> None:
    mlp = nn.Sequential(nn.Linear(3, 4), actlab.create("noisy_hard_tanh"), nn.Linear(4, 4),
                        actlab.create("noisy_hard_sigmoid(mode='input')"), actlab.create("sigmoid"))
    gru = GRU(4, 5, 2, gate="noisy_hard_sigmoid", candidate="noisy_hard_tanh")
    model = nn.ModuleDict({"mlp": mlp, "gru": gru})
    sched = actlab.anneal(model, "c", start=30.0, end=0.5, steps=10)
    names = [n for n, _ in sched.modules]
    assert names == ["mlp.1", "mlp.3", *(f"gru.activations.{k}.{r}" for k in (0, 1)
                                          for r in ("gate_r", "gate_z", "candidate"))]
    assert sched(5) == 15.25
    units = [m for m in model.modules() if isinstance(m, actlab.get_class("noisy_hard_tanh"))]
    assert len(units) == 8 and all(m.c == 15.25 for m in units)
    assert all(m.get_params()["c"] == 15.25 and "c=15.25" in m.spec for m in units)  # the spec stays true
    assert isinstance(sched, Schedule) and "8 modules" in repr(sched)
    out, _ = gru(torch.randn(6, 2, 4))  # the model still runs
    assert out.shape == (6, 2, 5)


def test_any_float_hyperparameter() -> None:
    model = nn.Sequential(actlab.create("snake(a=0.5)"), actlab.create("leaky_relu"))
    sched = actlab.anneal(model, "negative_slope", start=0.3, end=0.01, steps=2)
    assert sched(1) == pytest.approx(0.155)
    assert model[1].negative_slope == pytest.approx(0.155)
    x = torch.tensor([-2.0])
    assert model[1](x).item() == pytest.approx(-0.31)  # the activation computes with the new value


def test_errors() -> None:
    model = nn.Sequential(nn.Linear(2, 2), actlab.create("snake"), actlab.create("elu(alpha=2.0)"))
    with pytest.raises(ActlabInputError, match=r"'c'.*ELU\(alpha, scale\); Snake\(a\)") as e:
        actlab.anneal(model, "c", start=1.0, end=0.0, steps=5)
    assert "alpha" in str(e.value)
    with pytest.raises(ActlabInputError, match="no actlab activations"):
        actlab.anneal(nn.Linear(2, 2), "c", start=1.0, end=0.0, steps=5)
    with pytest.raises(ActlabInputError):  # an int attribute is not a hyper-parameter to anneal
        actlab.anneal(actlab.create("noisy_hard_tanh(num_parameters=3)"), "num_parameters", start=1.0, end=2.0)
    act = _unit()
    bad = [
        (dict(steps=0), ParameterError), (dict(steps=2.5), ParameterTypeError), (dict(steps=True), ParameterTypeError),
        (dict(start=math.nan), ParameterError), (dict(end=math.inf), ParameterError),
        (dict(kind="sigmoidal"), ParameterError), (dict(kind="exponential", end=0.0), ParameterError),
        (dict(kind="exponential", start=-1.0), ParameterError), (dict(end=None), ParameterTypeError),
    ]
    for kwargs, error in bad:
        args = dict(start=1.0, end=0.5, steps=10, kind="linear") | kwargs
        with pytest.raises(error):
            actlab.anneal(act, "c", **args)
    sched = actlab.anneal(act, "c", start=1.0, end=0.5, steps=10)
    for step in (-1, 2.0, "3", None):
        with pytest.raises(ActlabInputError):
            sched(step)


# --- eval() is still the expectation, at the c the schedule set ---------------------------------

def _expected(kind: str, x: float, alpha: float, c: float, p: float, noise: str) -> float:
    """Gulcehre et al. 2016, mode='output': E[φ] = α·h + (1 − α)·u + d·σ·E[ε], d = −sgn(x)·sgn(1 − α),
    σ = c·(sigmoid(p·δ) − 1/2)², δ = h − u; E[ε] = 0 (normal) or √(2/π) (half-normal)."""
    u = x if kind == "tanh" else x / 4 + 0.5
    h = min(max(u, -1.0 if kind == "tanh" else 0.0), 1.0)
    sigma = c * (1 / (1 + math.exp(-p * (h - u))) - 0.5) ** 2
    d = -math.copysign(1.0, x) * math.copysign(1.0, 1 - alpha)
    mean_eps = 0.0 if noise == "normal" else math.sqrt(2 / math.pi)
    return alpha * h + (1 - alpha) * u + d * sigma * mean_eps


@pytest.mark.parametrize("kind", ["tanh", "sigmoid"])
@pytest.mark.parametrize("noise", ["normal", "half_normal"])
def test_train_mean_is_eval_output_at_scheduled_c(kind, noise) -> None:
    """clip=False, the paper's literal formula: eval() is exactly E[φ]."""
    torch.manual_seed(0)
    alpha, p = (1.15, 0.75) if kind == "tanh" else (1.1, -1.25)  # p exact in float32
    act = actlab.create(f"noisy_hard_{kind}(noise='{noise}', p={p}, mode='output', clip=False)").double()
    act.fuse(False)  # eager: 800k elements would otherwise compile a kernel first (seconds)
    points = [-3.0, -1.4, 0.3, 2.5] if kind == "tanh" else [-5.0, -2.6, 1.0, 3.5]
    sched = actlab.anneal(act, "c", start=2.0, end=0.25, steps=4, kind="exponential")
    for step in (0, 4):
        c = sched(step)
        want = torch.tensor([_expected(kind, v, alpha, c, p, noise) for v in points], dtype=torch.float64)
        x = torch.tensor(points, dtype=torch.float64).repeat(200_000, 1)
        act.eval()
        torch.testing.assert_close(act(x[:1])[0], want, rtol=0, atol=1e-12)
        act.train()
        y = act(x)
        se = y.std(dim=0) / math.sqrt(y.shape[0])
        assert ((y.mean(dim=0) - want).abs() <= 4 * se + 1e-12).all(), (c, y.mean(dim=0), want, se)
        assert (se[[0, 1, 3]] > 0).all()  # the saturated points are noisy in train mode


@pytest.mark.parametrize("kind", ["tanh", "sigmoid"])
@pytest.mark.parametrize("noise", ["normal", "half_normal"])
def test_clipped_eval_is_the_unit_at_the_mean_noise(kind, noise) -> None:
    """clip=True (the default): eval() is clamp(E-formula, lo, hi), the clipped unit at E[ε], at every c
    the schedule sets; train() stays in [lo, hi] at points where the unclipped unit leaves it."""
    torch.manual_seed(0)
    alpha, p = (1.15, 0.75) if kind == "tanh" else (1.1, -1.25)
    lo, hi = (-1.0, 1.0) if kind == "tanh" else (0.0, 1.0)
    act = actlab.create(f"noisy_hard_{kind}(noise='{noise}', p={p})").double()
    points = [-30.0, -3.0, 0.3, 2.5, 30.0] if kind == "tanh" else [-60.0, -5.0, 1.0, 3.5, 60.0]
    sched = actlab.anneal(act, "c", start=2.0, end=0.25, steps=4, kind="exponential")
    for step in (0, 4):
        c = sched(step)
        want = torch.tensor([min(max(_expected(kind, v, alpha, c, p, noise), lo), hi) for v in points],
                            dtype=torch.float64)
        assert want[0] == hi and want[-1] == lo  # by hand: the unclipped values lie beyond [lo, hi] there
        x = torch.tensor(points, dtype=torch.float64).repeat(20_000, 1)
        act.eval()
        torch.testing.assert_close(act(x[:1])[0], want, rtol=0, atol=1e-12)
        act.train()
        y = act(x)
        assert ((y >= lo) & (y <= hi)).all() and y.std(dim=0)[1] > 0


# --- the output mode's clip: bounded, not monotone; values by hand ---------------------------------

def test_clip_values_by_hand() -> None:
    """tanh, α = 1.15, eval() with normal noise: clamp(1.15·h − 0.15·x, −1, 1). x = 10: 1.15 − 1.5 = −0.35
    (inside, so unchanged); x = ±20: ±(1.15 − 3) = ∓1.85, clipped to ∓1. sigmoid, α = 1.1, p = 0 (no noise
    term): x = 10: 0.25·(2.2 − 1) + 0.5 = 0.8; x = 50: 0.25·(2.2 − 5) + 0.5 = −0.2, clipped to 0.
    Derivatives: −0.15 at 10, 0 where clipped, and 0 at x = 1 where the unclipped output is exactly 1."""
    x = torch.tensor([10.0, 20.0, -20.0, 1.0], dtype=torch.float64)
    tanh = actlab.create("noisy_hard_tanh").double().eval()
    torch.testing.assert_close(tanh(x), torch.tensor([-0.35, -1.0, 1.0, 1.0], dtype=torch.float64), rtol=0, atol=1e-12)
    torch.testing.assert_close(tanh.derivative(x), torch.tensor([-0.15, 0.0, 0.0, 0.0], dtype=torch.float64),
                               rtol=0, atol=1e-12)
    literal = actlab.create("noisy_hard_tanh(clip=False)").double().eval()
    torch.testing.assert_close(literal(x[:3]), torch.tensor([-0.35, -1.85, 1.85], dtype=torch.float64),
                               rtol=0, atol=1e-12)
    sig = actlab.create("noisy_hard_sigmoid(p=0.0)").double().eval()
    torch.testing.assert_close(sig(torch.tensor([10.0, 50.0, -50.0], dtype=torch.float64)),
                               torch.tensor([0.8, 0.0, 1.0], dtype=torch.float64), rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", ["tanh", "sigmoid"])
@pytest.mark.parametrize("noise", ["normal", "half_normal"])
def test_clipped_output_is_bounded_everywhere(kind, noise) -> None:
    """|x| up to 1e6 (and ±inf), train() and eval(), a large c: the output stays in h's range; clip=False
    leaves it (which is why the test can fail), and neither is monotone."""
    torch.manual_seed(0)
    lo, hi = (-1.0, 1.0) if kind == "tanh" else (0.0, 1.0)
    x = torch.cat([torch.linspace(-1e6, 1e6, 20_001), torch.linspace(-60, 60, 2001),
                   torch.tensor([-math.inf, math.inf])]).double()
    for clip in (True, False):
        act = actlab.create(f"noisy_hard_{kind}(noise='{noise}', p=1.0, c=20.0, clip={clip})").double()
        for training in (True, False):
            y = act.train(training)(x)
            inside = bool(((y >= lo) & (y <= hi)).all())
            assert inside == clip, (clip, training, y.min().item(), y.max().item())
            assert not bool((y[20_001:-2].diff() >= 0).all())  # not monotone on [−60, 60]
