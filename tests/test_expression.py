"""Formulas (`expr:`): the whitelist compiler and formulas as activations everywhere."""

from __future__ import annotations

import os

import pytest
import torch
from torch import nn

import actlab


def test_formula_matches_torch() -> None:
    x = torch.linspace(-4, 4, 101, dtype=torch.float64)
    cases = {
        "x*sigmoid(x)": x * torch.sigmoid(x),
        "where(x >= 0, x, 0.2*x)": torch.where(x >= 0, x, 0.2 * x),
        "clamp(x, -1, 1) + max(x, 0)**2 - min(x, 0)": x.clamp(-1, 1) + x.clamp(min=0) ** 2 - x.clamp(max=0),
        "-exp(-x**2/2)/sqrt(2*pi) + e": -torch.exp(-(x**2) / 2) / (2 * torch.pi) ** 0.5 + torch.e,
        "log1p(exp(x)) - softplus(x) + tanh(x)": torch.tanh(x),
    }
    for formula, want in cases.items():
        act = actlab.create(f"expr:{formula}")
        assert torch.allclose(act(x), want, atol=1e-12), formula
        xg = x.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(act(xg).sum(), xg)
        assert torch.allclose(act.derivative(x), g)


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("x.real", "not allowed"),
        ("__import__('os').system('touch /tmp/actlab_expr_pwned')", "unknown function"),
        ("exp(x=1)", "positional"),
        ("where(x, 1, 2)", "one comparison"),
        ("where(0 < x < 1, 1, 2)", "one comparison"),
        ("y + 1", "the only names are x, pi and e"),
        ("'text'", "not allowed"),
        ("[x]", "not allowed"),
        ("x if x > 0 else 0", "not allowed"),
        ("(lambda: x)()", "unknown function"),
        ("x" + "+x" * 150, "syntax nodes"),
        ("sin(" * 40 + "x" + ")" * 40, "nesting deeper"),
        ("x" * 1001, "characters long"),
        ("x +", "cannot parse"),
        ("", "empty formula"),
    ],
)
def test_rejected_formulas_run_nothing(formula: str, message: str) -> None:
    with pytest.raises(actlab.SpecError, match=message):
        actlab.create(f"expr:{formula}")
    assert not os.path.exists("/tmp/actlab_expr_pwned")


def test_formulas_work_wherever_a_name_does() -> None:
    mixed = actlab.create("mixed(acts=['expr:x*sin(x)', 'identity'])")
    x = torch.randn(5, 2)
    assert torch.allclose(mixed(x)[:, 0], x[:, 0] * torch.sin(x[:, 0]))
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    assert actlab.swap(net, "relu", "expr:x*tanh(softplus(x))") == 1
    assert actlab.swap(net, "relu", "gelu") == 0  # a formula is not a relu
    act = actlab.create("expr: x*sigmoid(x) ")
    assert act.spec == "expr:x*sigmoid(x)" and actlab.create(act.spec).spec == act.spec
    assert act.properties.declared is False and actlab.create("relu").properties.declared


# --- learnable parameters --------------------------------------------------------------------------------------
def test_a_formula_parameter_is_learnable_and_its_gradient_is_the_closed_form() -> None:
    """x·σ(βx): ∂f/∂β = x²·σ'(βx) (hand-derived), summed over the inputs; the spec round-trips."""
    act = actlab.create("expr:x*sigmoid(beta*x); beta=1.5")
    assert act.spec == "expr:x*sigmoid(beta*x); beta=1.5" and actlab.create(act.spec).spec == act.spec
    assert [n for n, _ in act.named_parameters()] == ["beta"] and act.properties.learnable == ("beta",)
    x = torch.linspace(-3, 3, 13, dtype=torch.float64)
    act = act.double()
    act(x).sum().backward()
    s = torch.sigmoid(1.5 * x)
    assert torch.allclose(act.beta.grad, (x * x * s * (1 - s)).sum().reshape(1))
    with torch.no_grad():
        act.beta.fill_(2.0)
    assert torch.allclose(act(x), x * torch.sigmoid(2.0 * x))  # the trained value is used; the spec keeps 1.5
    assert act.spec.endswith("beta=1.5")


def test_per_channel_formula_parameters() -> None:
    act = actlab.create("expr:a*x + (1 - a)*sin(x); a=0.25, num_parameters=3")
    assert act.a.shape == (3,) and act.spec.endswith("num_parameters=3")
    with torch.no_grad():
        act.a.copy_(torch.tensor([0.0, 0.5, 1.0]))
    x = torch.randn(2, 3, 4)
    want = torch.stack([torch.sin(x[:, 0]), 0.5 * x[:, 1] + 0.5 * torch.sin(x[:, 1]), x[:, 2]], 1)
    assert torch.allclose(act(x), want)
    with pytest.raises(actlab.ParameterError, match="channels on dim 1"):
        act(torch.randn(5))


@pytest.mark.parametrize("spec, words", [
    ("expr:x*beta", "the only names are x, pi and e"),
    ("expr:x; beta=1", "does not appear"),
    ("expr:x*sigmoid(x); x=1", "cannot name a parameter"),
    ("expr:x*sin(x); sin=1", "cannot name a parameter"),
    ("expr:x*b; b=nan", "finite number"),
    ("expr:x*b; b=one", "expected a number"),
    ("expr:x*b; b=1, b=2", "given twice"),
    ("expr:x; num_parameters=2", "needs parameters"),
    ("expr:x*b; b=1, num_parameters=0", "num_parameters must be"),
    ("expr:x*b; b", "name=value"),
    ("expr:" + "+".join(f"p{i}*x" for i in range(9)) + "; " + ", ".join(f"p{i}=1" for i in range(9)), "at most 8"),
])
def test_bad_formula_parameters_are_refused(spec: str, words: str) -> None:
    with pytest.raises(actlab.SpecError, match=words):
        actlab.create(spec)
