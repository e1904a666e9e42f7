"""Ramachandran et al.'s one-unit space: enumeration, the analyser's screen (each rejection by its reason), classes
of equal functions checked again at points off the grid, and catalog names for the classes that are entries."""

from __future__ import annotations

import random

import pytest
import torch

import actlab
from actlab.studies.search.space import BINARY, UNARY, Candidate, one_unit, screen


@pytest.fixture(scope="module")
def screened():
    return screen(list(one_unit()))


def test_the_space_is_the_papers() -> None:
    assert len(UNARY) == 25 and len(BINARY) == 10
    candidates = list(one_unit())
    assert len(candidates) == 6250 and len(set(candidates)) == 6250


def test_every_candidate_is_a_formula_whose_betas_are_learnable() -> None:
    swish = actlab.create(Candidate("x", "b*x", "sigmoid(x1)*x2").spec)
    assert [n for n, _ in swish.named_parameters()] == ["b2"]
    x = torch.linspace(-3, 3, 7)
    assert torch.allclose(swish(x), x * torch.sigmoid(x))  # σ(x)·(βx) at β = 1
    for c in random.Random(0).sample(list(one_unit()), 200):
        actlab.create(c.spec)  # parses under the whitelist


def test_every_candidate_is_kept_or_rejected_for_one_reason(screened) -> None:
    assert screened.enumerated == 6250
    assert sum(len(k.members) for k in screened.kept) + sum(v for r, v in screened.rejected.items()
                                                            if r != "duplicate") == 6250
    assert sum(len(k.members) - 1 for k in screened.kept) == screened.rejected["duplicate"]
    assert set(screened.rejected) == {"not finite", "constant", "linear", "exploding derivative", "duplicate"}


@pytest.mark.parametrize("u1, u2, b, why", [
    ("x", "sqrt(x)", "x1+x2", "not finite"),              # √x of a negative input
    ("b", "b", "x1+x2", "constant"),                        # β1 + β2
    ("x", "x", "max(x1,x2)", "linear"),                     # max(x, x) = x
    ("x", "-x", "x1-x2", "linear"),                         # 2x
    ("exp(x)", "exp(x)", "x1*x2", "exploding derivative"),  # (e^x)², f'(6) = 2e^12
])
def test_known_rejections(screened, u1: str, u2: str, b: str, why: str) -> None:
    c = Candidate(u1, u2, b)
    assert all(c not in k.members for k in screened.kept)
    from actlab.analysis import equivalence
    from actlab.studies.search.space import reason

    assert reason(equivalence.signature(c.spec)) == why


def test_x_sigmoid_x_is_one_class_named_silu(screened) -> None:
    k = screened.find("expr:x*sigmoid(x)")
    assert k is not None and k.catalog == "silu"
    labels = {m.label for m in k.members}
    assert {"x1*x2[x, sigmoid(x)]", "x1*x2[sigmoid(x), x]", "sigmoid(x1)*x2[x, x]"} <= labels


def test_classes_are_equal_functions_off_the_grid(screened) -> None:
    """Each member of a sampled class equals its representative at 200 random points the grid never saw."""
    x = torch.empty(200, dtype=torch.float64).uniform_(-5.9, 5.9, generator=torch.Generator().manual_seed(0))
    for k in random.Random(1).sample([k for k in screened.kept if len(k.members) > 1], 40):
        ref = actlab.create(k.representative.spec).double()(x).detach()
        for m in k.members:
            got = actlab.create(m.spec).double()(x).detach()
            assert torch.allclose(got, ref, rtol=1e-6, atol=1e-6, equal_nan=True), (k.representative.label, m.label)


@pytest.mark.parametrize("a, b", [
    ("expr:x*sigmoid(x)", "expr:sigmoid(x)*x"),
    ("expr:(x + x)", "expr:2*x"),
    ("expr:max(x, x)", "expr:x"),
    ("expr:(sinc(x/pi) + x)", "expr:sin(x)/x + x"),
])
def test_canonical_forms_agree_for_equal_formulas(a: str, b: str) -> None:
    from actlab.studies.search.space import canonical

    assert canonical(a) == canonical(b)


def test_canonical_reads_only_whitelisted_formulas() -> None:
    from actlab.studies.search.space import canonical

    with pytest.raises(actlab.SpecError):
        canonical("expr:__import__('os').getcwd()")
    assert canonical("expr:x*sigmoid(beta*x); beta=1") == "x/(1 + exp(-beta*x))"  # x·σ(βx) = x / (1 + e^(−βx))


def test_canonical_form_is_read_without_a_timer_on_a_candidate_simplify_took_seconds_on() -> None:
    """sympy.simplify needed 3.4 s on this two-unit candidate; the form is now the same on every machine."""
    from actlab.studies.search.space import canonical

    spec = "expr:exp(-b6*((sigmoid((max(sqrt(x), tanh(x))))) - (sinc(x/pi)))**2); b6=1.0"
    assert canonical(spec) == "exp(-b6*(1/(1 + exp(-Max(sqrt(x), tanh(x)))) - sin(x)/x)**2)"
