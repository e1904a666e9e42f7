"""Property-based tests (hypothesis) of the declared invariants, for every elementwise entry."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import actlab
from conftest import make64

ELEMENTWISE = [n for n in actlab.names() if actlab.create(n).properties.elementwise]
reals = st.floats(min_value=-60, max_value=60, allow_nan=False)


def _eval(spec: str) -> actlab.AbstractActivation:
    torch.manual_seed(0)
    return make64(spec).eval()


def _f(act: actlab.AbstractActivation, *xs: float) -> list[float]:
    return act(torch.tensor(xs, dtype=torch.float64)).tolist()


@pytest.mark.parametrize("spec", ELEMENTWISE)
@settings(max_examples=60, deadline=None)
@given(x=reals)
def test_values_lie_in_the_declared_range(spec: str, x: float) -> None:
    act = _eval(spec)
    lo, hi = act.properties.range
    (y,) = _f(act, x)
    assert lo - 1e-12 <= y <= hi + 1e-12


@pytest.mark.parametrize("spec", [n for n in ELEMENTWISE if actlab.create(n).properties.monotonic])
@settings(max_examples=60, deadline=None)
@given(a=reals, b=reals)
def test_monotonic_means_non_decreasing(spec: str, a: float, b: float) -> None:
    act = _eval(spec)
    a, b = min(a, b), max(a, b)
    ya, yb = _f(act, a, b)
    assert ya <= yb + 1e-12 * max(1.0, abs(yb))


@pytest.mark.parametrize("spec", [n for n in ELEMENTWISE if not actlab.create(n).properties.monotonic])
def test_non_monotonic_entries_really_decrease_somewhere(spec: str) -> None:
    act = _eval(spec)
    x = torch.linspace(-12, 12, 24001, dtype=torch.float64)
    assert (act.derivative(x) < 0).any()


@pytest.mark.parametrize("spec", ELEMENTWISE)
def test_zero_centred_declaration(spec: str) -> None:
    act = _eval(spec)
    (y0,) = _f(act, 0.0)
    y = act(torch.linspace(-20, 20, 4001, dtype=torch.float64))
    truth = y0 == 0 and bool((y < 0).any()) and bool((y > 0).any())
    assert act.properties.zero_centered == truth


HARD_SIDES = [(n, side) for n in ELEMENTWISE for side in (-1, 1)
              if getattr(actlab.create(n).properties, "saturation_left" if side < 0 else "saturation_right") == "hard"]


@pytest.mark.parametrize(("spec", "side"), HARD_SIDES)
@settings(max_examples=40, deadline=None)
@given(d=st.floats(min_value=1e-9, max_value=1e3))
def test_hard_saturation_has_zero_derivative(spec: str, side: int, d: float) -> None:
    act = _eval(spec)
    t = act.properties.threshold_left if side < 0 else act.properties.threshold_right
    assert act.derivative(torch.tensor([t + side * d], dtype=torch.float64)).item() == 0.0


@pytest.mark.parametrize("spec", ELEMENTWISE)
def test_soft_saturation_means_derivative_vanishes_only_in_the_limit(spec: str) -> None:
    act = _eval(spec)
    p = act.properties
    for side, kind in ((-1, p.saturation_left), (1, p.saturation_right)):
        far = act.derivative(torch.tensor([side * 1e3], dtype=torch.float64)).abs().item()
        near = act.derivative(torch.tensor([side * 3.0], dtype=torch.float64)).abs().item()
        if kind == "soft":
            assert far < 1e-6 and near > 0
        elif kind == "none" and not p.periodic:
            assert far > 1e-6, f"{spec}: f' → 0 on side {side} but saturation is 'none'"


@pytest.mark.parametrize("spec", [n for n in ELEMENTWISE if actlab.create(n).properties.periodic])
@settings(max_examples=40, deadline=None)
@given(x=reals)
def test_periodic(spec: str, x: float) -> None:
    act = _eval(spec)
    period = act.properties.periodic
    a, b = _f(act, x, x + period)
    assert math.isclose(a, b, abs_tol=1e-9)
