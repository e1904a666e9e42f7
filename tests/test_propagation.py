"""Signal propagation: Gaussian expectations against closed forms and mpmath, fixed points and the edge of
chaos against independent integrals, theory against real random deep networks, init_, the CLI."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import mpmath
import pytest
import torch
from torch import nn

import actlab
from actlab.analysis.deepnet import simulate
from actlab.analysis.maps import Maps
from actlab.core.errors import ParameterError, ParameterTypeError

mpmath.mp.dps = 30


def mp_expect(fn, q: float, breaks: list[float]) -> float:
    """E[fn(√q·z)] by mpmath, the integral split at the kinks (in z)."""
    r = mpmath.sqrt(q)
    pts = [-mpmath.inf, *sorted(mpmath.mpf(b) / r for b in breaks), mpmath.inf]
    return float(mpmath.quad(lambda z: fn(r * z) * mpmath.npdf(z), pts))


MP = {
    "tanh": (mpmath.tanh, lambda x: 1 - mpmath.tanh(x) ** 2, []),
    "hard_tanh": (lambda x: min(1, max(-1, x)), lambda x: 1 if -1 < x < 1 else 0, [-1, 1]),
    "gelu": (lambda x: x * mpmath.ncdf(x), lambda x: mpmath.ncdf(x) + x * mpmath.npdf(x), []),
    "selu": (lambda x: 1.0507009873554805 * (x if x > 0 else 1.6732632423543772 * mpmath.expm1(x)),
             lambda x: 1.0507009873554805 * (1 if x > 0 else 1.6732632423543772 * mpmath.exp(x)), [0]),
    "sigmoid": (lambda x: 1 / (1 + mpmath.exp(-x)), lambda x: mpmath.exp(-x) / (1 + mpmath.exp(-x)) ** 2, []),
}


@pytest.mark.parametrize("name", sorted(MP))
@pytest.mark.parametrize("q", [0.3, 2.5, 40.0])
def test_moments_match_mpmath_to_1e8(name: str, q: float) -> None:
    f, df, kinks = MP[name]
    m = Maps(name).moments(q)
    expected = {"V": mp_expect(lambda x: f(x) ** 2, q, kinks), "W": mp_expect(lambda x: df(x) ** 2, q, kinks),
                "M": mp_expect(f, q, kinks)}
    for key, value in expected.items():
        assert float(m[key][0]) == pytest.approx(value, rel=1e-8, abs=1e-14), key


def test_relu_closed_forms() -> None:
    maps = Maps("relu")
    for q in (1e-6, 0.7, 3.0, 1e5):
        m = maps.moments(q)
        assert float(m["V"][0]) == pytest.approx(q / 2, rel=1e-12)  # E[relu(√q z)²] = q/2
        assert float(m["W"][0]) == pytest.approx(0.5, rel=1e-12)
        assert float(m["D"][0]) == pytest.approx(0.5, rel=1e-12)  # dV/dq
    for c in (-0.95, -0.3, 0.0, 0.5, 0.9, 0.999, 0.999999):
        ff, dd = maps.pair(2.0, c)
        s = math.sqrt(1 - c * c)
        # the arc-cosine kernel (Cho & Saul 2009): E[relu(u1) relu(u2)] = q/(2π)·(s + (π − arccos c)·c)
        assert ff == pytest.approx(2.0 / (2 * math.pi) * (s + (math.pi - math.acos(c)) * c), rel=1e-9)
        assert dd == pytest.approx((math.pi - math.acos(c)) / (2 * math.pi), rel=1e-9)


@pytest.mark.parametrize("c", [-0.6, 0.2, 0.95, 0.9999])
def test_erf_arcsine_kernel(c: float) -> None:
    """Williams 1998: E[erf(u1) erf(u2)] = (2/π)·arcsin(2q12 / √((1 + 2q1)(1 + 2q2))), here q1 = q2 = q."""
    q = 1.7
    ff, _ = Maps("expr:erf(x)").pair(q, c)
    assert ff == pytest.approx(2 / math.pi * math.asin(2 * c * q / (1 + 2 * q)), rel=1e-9)


def test_relu_fixed_points_by_hand() -> None:
    p = actlab.propagation("relu", 1.2, 0.3)
    assert p.length == "fixed point"
    assert p.q_star == pytest.approx(0.09 / (1 - 0.72), rel=1e-10)  # q = σw²q/2 + σb²
    assert p.chi1 == pytest.approx(0.72, rel=1e-12) and p.phase == "ordered"
    assert p.c_star == 1.0 and p.xi_c == pytest.approx(-1 / math.log(0.72), rel=1e-9)
    assert p.xi_q == pytest.approx(-1 / math.log(0.72), rel=1e-6)  # F'(q) = σw²/2 as well
    assert actlab.propagation("relu", 1.6, 0.1).length == "diverges"
    assert actlab.propagation("relu", 1.0, 0.0).length == "collapses"
    he = actlab.propagation("relu", math.sqrt(2), 0.0)
    assert he.length == "marginal" and he.phase == "edge of chaos"
    curve = {c["sigma_b"]: c["sigma_w"] for c in he.edge_of_chaos}
    assert curve[0.0] == pytest.approx(math.sqrt(2)) and all(v is None for b, v in curve.items() if b > 0)
    assert actlab.propagation("relu", 1.0, 0.5).recommended["sigma_b"] == 0.0  # the only σb with one


@pytest.mark.parametrize(("name", "sigma_b"), [("tanh", 0.3), ("hard_tanh", 0.2), ("sigmoid", 0.0), ("selu", 0.5)])
def test_edge_of_chaos_checked_by_mpmath(name: str, sigma_b: float) -> None:
    """At the recommended point, q* = σw²·E[φ²] + σb² and χ₁ = σw²·E[φ′²] = 1, by mpmath's integrals."""
    rec = actlab.propagation(name, 1.0, sigma_b).recommended
    assert rec is not None and rec["sigma_b"] == sigma_b
    f, df, kinks = MP[name]
    sw2, q = rec["sigma_w"] ** 2, rec["q_star"]
    assert sw2 * mp_expect(lambda x: f(x) ** 2, q, kinks) + sigma_b**2 == pytest.approx(q, rel=1e-8)
    assert sw2 * mp_expect(lambda x: df(x) ** 2, q, kinks) == pytest.approx(1.0, rel=1e-8)
    at = actlab.propagation(name, rec["sigma_w"], sigma_b)
    assert at.phase == "edge of chaos" and at.q_star == pytest.approx(q, rel=1e-8)


def test_tanh_edge_at_zero_bias_and_chaotic_correlation() -> None:
    assert actlab.propagation("tanh", 1.0, 0.0).recommended["sigma_w"] == pytest.approx(1.0, abs=1e-12)
    p = actlab.propagation("tanh", 1.5, 0.3)
    assert p.phase == "chaotic" and p.chi1 > 1 and p.c_star < 1
    # c* is a fixed point of the correlation map, checked with the paired expectation directly
    ff, dd = Maps("tanh").pair(p.q_star, p.c_star)
    assert (1.5**2 * ff + 0.09) / p.q_star == pytest.approx(p.c_star, rel=1e-9)
    assert p.xi_c == pytest.approx(-1 / math.log(1.5**2 * dd), rel=1e-9)
    assert "chaotic" in p.sentence() and "explode" in p.sentence()


def test_gelu_has_no_attracting_edge_at_zero_bias() -> None:
    """gelu at σb = 0: χ₁ = 1 only at q* = 0 with σw = 2, a length that runs away (F(q) = q + 6q²/π + ...)."""
    p = actlab.propagation("gelu", 1.0, 0.0)
    assert p.edge_of_chaos[0]["sigma_w"] is None
    assert p.recommended is not None and p.recommended["sigma_b"] > 0 and "nearest" in p.recommended["note"]


@pytest.mark.parametrize(("name", "sigma_w", "sigma_b"), [("tanh", 1.5, 0.3), ("gelu", 1.3, 0.2)])
def test_theory_matches_random_deep_networks(name: str, sigma_w: float, sigma_b: float) -> None:
    """Width 1000, depth 50, 3 networks of 4 input pairs: at every layer the mean over networks has q within
    8 %, c within 0.06 and log10 squared gradient norms within 0.2 of the maps. One network's own scatter
    at width 1000 is ~2.5 % in q and ~0.02 in c (benchmarks/bench_propagation.py prints it)."""
    theory = actlab.propagation(name, sigma_w, sigma_b, depth=50).layers
    measured = simulate(name, sigma_w, sigma_b, width=1000, depth=50, seeds=3)
    q, c, g = (torch.tensor(measured[k]).mean(0) for k in ("q", "c", "log10_grad"))
    assert ((q - torch.tensor(theory["q"])).abs() / torch.tensor(theory["q"])).max() < 0.08
    assert (c - torch.tensor(theory["c"])).abs().max() < 0.06
    assert (g - torch.tensor(theory["log10_grad"])).abs().max() < 0.2
    assert abs(theory["log10_grad"][0]) > 1  # the comparison is not trivial: gradients change by > 10×


def test_a_wrong_theory_would_fail_the_comparison() -> None:
    """The comparison is sensitive: networks at σw = 1.2 leave the tolerance of the σw = 1.5 theory."""
    theory = actlab.propagation("tanh", 1.5, 0.3, depth=20).layers
    measured = simulate("tanh", 1.2, 0.3, width=1000, depth=20, seeds=1)
    q = torch.tensor(measured["q"][0])
    assert ((q - torch.tensor(theory["q"])).abs() / torch.tensor(theory["q"])).max() > 0.08
    g = torch.tensor(measured["log10_grad"][0])
    assert (g - torch.tensor(theory["log10_grad"])).abs().max() > 0.2


def mlp() -> nn.Sequential:
    return nn.Sequential(nn.Linear(50, 400), nn.Tanh(), nn.Dropout(0.1), nn.Linear(400, 400), nn.ReLU(),
                         nn.Linear(400, 400), actlab.create("mixed(acts=['cos', 'identity'])"), nn.Linear(400, 3))


def test_init_sets_each_layer_by_the_activation_it_feeds() -> None:
    model = mlp()
    last = model[7].weight.detach().clone()
    records = actlab.init_(model, torch.randn(8, 50), sigma_b=0.2, generator=torch.Generator().manual_seed(0))
    by_layer = {r["layer"]: r for r in records}
    fed = [by_layer[k]["activation"] for k in ("0", "3", "5", "7")]
    assert fed == ["tanh", "relu", "mixed(acts=['cos', 'identity'])", None]
    tanh = actlab.propagation("tanh", 1.0, 0.2).recommended
    assert by_layer["0"]["sigma_w"] == pytest.approx(tanh["sigma_w"])
    assert by_layer["3"]["sigma_w"] == pytest.approx(math.sqrt(2)) and by_layer["3"]["sigma_b"] == 0.0
    assert torch.equal(model[7].weight, last)  # the output layer feeds nothing: untouched
    assert float(model[0].weight.detach().std()) * math.sqrt(50) == pytest.approx(tanh["sigma_w"], rel=0.03)
    assert float(model[0].bias.detach().std()) == pytest.approx(0.2, rel=0.15)
    assert float(model[3].bias.detach().abs().max()) == 0.0
    assert actlab.init_(mlp(), sigma_b=0.2) == records  # registration order agrees for a Sequential


def test_init_traces_the_data_flow() -> None:
    class Crossed(nn.Module):  # activations registered in the opposite order of use
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b = nn.Linear(4, 64), nn.Linear(64, 64)
            self.act_b, self.act_a = nn.ReLU(), nn.Tanh()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.act_b(self.b(self.act_a(self.a(x))))

    records = actlab.init_(Crossed(), torch.randn(2, 4))
    assert [(r["layer"], r["activation"]) for r in records] == [("a", "tanh"), ("b", "relu")]
    with pytest.raises(ParameterTypeError, match="nn.Module"):
        actlab.init_("not a model")  # type: ignore[arg-type]


def test_bad_arguments() -> None:
    with pytest.raises(ParameterError, match="sigma_w"):
        actlab.propagation("tanh", -1.0)
    with pytest.raises(ParameterError, match="c0"):
        actlab.propagation("tanh", c0=1.5)
    with pytest.raises(ParameterError, match="not elementwise"):
        actlab.propagation("softmax")


def test_cli_propagate_json_and_plot(tmp_path: Path) -> None:
    out = tmp_path / "p.png"
    r = subprocess.run([sys.executable, "-m", "actlab", "propagate", "tanh", "--sigma-w", "1.5", "--sigma-b", "0.3",
                        "--json", "--plot", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["phase"] == "chaotic" and data["recommended"]["sigma_b"] == 0.3
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_depth_section_fates_come_from_the_numbers() -> None:
    """Per initialisation, each activation's fate over 50 layers from χ₁ and the length: vanish when
    |log10 χ₁|·50 ≥ 3 below 1, explode above, kept otherwise (1.02^50 < 10^3), diverge by the length;
    an activation without an edge of chaos is absent there."""
    from actlab.report.depth import _fate_table, _fates

    def r(chi1: float, length: str = "fixed point") -> dict:
        layers = math.inf if chi1 == 1 else 3 / abs(math.log10(chi1))
        return {"sigma_w": 1.0, "sigma_b": 0.0, "chi1": chi1, "phase": "", "layers": layers, "length": length}

    rows = {"a": {"he": r(0.5)}, "b": {"he": r(1.0)}, "c": {"he": r(1.02)}, "d": {"he": r(3.0)},
            "e": {"he": r(1.0, "diverges")}}
    he = _fates(rows)["he"]
    assert (he["vanish"], he["explode"], he["kept"], he["diverge"]) == (["a"], ["d"], ["b", "c"], ["e"])
    assert _fates(rows)["edge of chaos"]["absent"] == ["a", "b", "c", "d", "e"]
    table = _fate_table(_fates(rows), 5)
    he_row = next(row for row in table.rows if row[0] == "he")
    assert [c.text for c in he_row[1:]] == ["2: b, c", "1: a", "1: d", "1: e", "—"]
