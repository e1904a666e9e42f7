"""The analyser: measured properties against independent values, and against every declaration."""

from __future__ import annotations

import math

import mpmath as mp
import pytest
import torch
from torch import nn

import actlab


def close(a: float, b: float, tol: float = 1e-9) -> bool:
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= tol * (1 + abs(b))


mp.mp.dps = 30


def test_sigmoid_fixed_point_is_the_true_one() -> None:
    want = mp.findroot(lambda x: 1 / (1 + mp.exp(-x)) - x, 0.6)  # 0.659046068407...
    (fp,) = actlab.analyze("sigmoid", cost=False)["fixed_points"]
    assert fp["lo"] == fp["hi"] and close(fp["lo"], float(want), 1e-11) and fp["attracting"]


def test_fixed_point_dynamics() -> None:
    (fp,) = actlab.analyze("tanh", cost=False)["fixed_points"]
    assert fp == {"lo": 0.0, "hi": 0.0, "attracting": True}  # though tanh'(0) = 1
    sq = actlab.analyze("square", cost=False)["fixed_points"]
    assert [(f["lo"], f["attracting"]) for f in sq] == [(0.0, True), (1.0, False)]
    assert actlab.analyze("hard_tanh", cost=False)["fixed_points"] == [{"lo": -1.0, "hi": 1.0, "attracting": True}]
    assert actlab.analyze("relu", cost=False)["fixed_points"] == [{"lo": 0.0, "hi": math.inf, "attracting": True}]
    dottie = float(mp.findroot(lambda x: mp.cos(x) - x, 0.7))
    (fp,) = actlab.analyze("cos", cost=False)["fixed_points"]
    assert close(fp["lo"], dottie, 1e-11) and fp["attracting"]
    # gelu(x) rounds to x beyond 8.3 in float64, but its only fixed point is 0
    assert actlab.analyze("gelu", cost=False)["fixed_points"] == [{"lo": 0.0, "hi": 0.0, "attracting": True}]


def test_extrema_and_moments_against_mpmath() -> None:
    r = actlab.analyze("gelu", cost=False)
    gelu = lambda x: x * (1 + mp.erf(x / mp.sqrt(2))) / 2  # noqa: E731
    xm = mp.findroot(lambda t: mp.diff(gelu, t), -0.75)
    assert close(r["minimum"]["value"], float(gelu(xm)), 1e-14) and close(r["minimum"]["at"], float(xm), 1e-10)
    assert r["maximum"] is None and r["range"][1] == math.inf
    tanh = actlab.analyze("tanh", cost=False)
    phi = lambda x: mp.exp(-x * x / 2) / mp.sqrt(2 * mp.pi)  # noqa: E731
    second = mp.quad(lambda x: mp.tanh(x) ** 2 * phi(x), [-mp.inf, 0, mp.inf])
    assert close(tanh["output_moments"]["var"], float(second), 1e-9)
    assert close(tanh["gain"], float(1 / mp.sqrt(second)), 1e-9)
    assert tanh["minimum"] is None and tanh["range"] == [-1.0, 1.0]  # not attained
    relu = actlab.analyze("relu", cost=False)
    assert close(relu["gain"], math.sqrt(2), 1e-9)  # torch.nn.init.calculate_gain('relu')
    assert close(relu["dead_fraction"], 0.5, 1e-12)
    assert relu["minimum"] == {"value": 0.0, "at": 0.0}


def test_saturation_and_active_range() -> None:
    r = actlab.analyze("hard_sigmoid_gulcehre", cost=False)
    assert r["saturation"] == {"left": {"kind": "hard", "threshold": -2.0}, "right": {"kind": "hard", "threshold": 2.0}}
    assert r["active_range"] == [-2.0, 2.0]
    s = actlab.analyze("sigmoid", active_fraction=0.5, cost=False)
    want = float(mp.findroot(lambda x: mp.exp(-x) / (1 + mp.exp(-x)) ** 2 - 0.125, 1.7))
    assert close(s["active_range"][1], want, 1e-9) and close(s["active_range"][0], -want, 1e-9)
    g = actlab.analyze("gelu_tanh", cost=False)  # f' rounds to 0 below −7.2: still soft saturation
    assert g["saturation"]["left"] == {"kind": "soft", "threshold": None}


def test_kinks_and_smoothness() -> None:
    assert actlab.analyze("hard_shrink", cost=False)["smoothness"] == -1
    assert actlab.analyze("squared_relu", cost=False)["smoothness"] == 1
    assert actlab.analyze("leaky_relu6(cap=4.5)", cost=False)["kinks"] == [0.0, 4.5]


def test_formulas_module_and_callable_measure_like_the_catalog() -> None:
    ref = actlab.analyze("silu", cost=False).data
    for target in ("expr:x*sigmoid(x)", nn.SiLU(), lambda t: t * torch.sigmoid(t)):
        got = actlab.analyze(target, cost=False).data
        for key in ("range", "monotonic", "zero_centered", "kinks", "smoothness", "saturation", "dead_fraction"):
            assert got[key] == ref[key] or got[key] == pytest.approx(ref[key], rel=1e-9), key
        assert got["minimum"]["value"] == pytest.approx(ref["minimum"]["value"], rel=1e-12)


def test_report_dict_holds_floats_and_json_holds_strings() -> None:
    import json

    from actlab.cli.jsonout import dumps

    d = actlab.analyze("snake(a=0.5)").to_dict()
    assert d["range"] == [-math.inf, math.inf] and d["undefined"] == {}
    assert d["spec"] == "snake(a=0.5)" and d["cost"] > 0
    text = dumps(d)
    assert json.loads(text)["range"] == ["-inf", "inf"]  # the documented JSON encoding
    assert "Infinity" not in text and "NaN" not in text
    back = json.loads(text)
    assert [float(v) for v in back["range"]] == d["range"]


def test_bad_targets() -> None:
    with pytest.raises(actlab.ParameterError, match="not elementwise"):
        actlab.analyze("softmax")
    with pytest.raises(actlab.ParameterError, match="active_fraction"):
        actlab.analyze("relu", active_fraction=1.5)
    with pytest.raises(actlab.ParameterTypeError, match="cannot analyse"):
        actlab.analyze(42)
    with pytest.raises(actlab.SpecError, match="unknown function"):
        actlab.analyze("expr:x*foo(x)")


@pytest.mark.parametrize("spec", ["relu", "tanh", "snake(a=0.7)", "square", "gelu", "hard_tanh", "noisy_hard_tanh",
                                  "acon_c", "leaky_relu6", "expr:x*sigmoid(x)", "signed_square", "log_sigmoid"])
def test_slope_profile_is_what_analyze_measures(spec: str) -> None:
    """The monitor's cheap profile (lipschitz and active range alone) equals the full analysis; "nan" says
    where f or f′ is nan (nowhere for these)."""
    from actlab.analysis.measure import slope_profile

    full, cheap = actlab.analyze(spec, cost=False), slope_profile(spec)
    assert cheap == {"lipschitz": full["lipschitz"], "active_range": full["active_range"], "nan": None}


def test_slope_profile_says_where_f_is_nan() -> None:
    from actlab.analysis.measure import slope_profile

    profile = slope_profile("expr:log(x)")
    assert profile["nan"].startswith("f is nan at x = -") and profile["active_range"] is None


@pytest.mark.parametrize("spec", ["expr:abs(x)", "expr:max(x, 0)", "expr:max(x, 0) - cos(x)",
                                  "expr:min(x + 1, cos(x))"])
def test_a_formula_kink_where_autograd_gives_a_middle_slope_is_found(spec: str) -> None:
    """At a grid point on the kink autograd gives abs the slope 0 and max the slope ½: f' jumps in two half steps.
    Each kink here is at 0 (by hand: x + 1 = cos x at x = 0, slopes 1 and −sin 0 = 0)."""
    data = actlab.analyze(spec).data
    assert data["kinks"] == [0.0] and data["smoothness"] == 0
