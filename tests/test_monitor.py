"""actlab.diagnostics: monitor and diagnose against ground truth and hand-written torch references."""

from __future__ import annotations

import contextlib
import copy
import importlib
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import actlab
from actlab.core.errors import ParameterError, ParameterTypeError
from actlab.diagnostics import Monitor, diagnose, monitor

monitor_module = importlib.import_module("actlab.diagnostics.monitor")  # the package's `monitor` is the function

QS = torch.tensor([0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99], dtype=torch.float64)
Q_NAMES = ["q01", "q05", "q25", "q50", "q75", "q95", "q99"]


@pytest.fixture(scope="module")
def digits() -> tuple[torch.Tensor, torch.Tensor]:
    x, y = load_digits(return_X_y=True)
    x = torch.tensor(x, dtype=torch.float32)
    return (x - x.mean(0)) / x.std(0).clamp_min(1e-6), torch.tensor(y)


def mlp(act: type[nn.Module] | str, width: int = 64) -> nn.Sequential:
    make = (lambda: actlab.create(act)) if isinstance(act, str) else act
    return nn.Sequential(nn.Linear(64, width), make(), nn.Linear(width, width), make(), nn.Linear(width, 10))


def train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int, lr: float = 0.1) -> None:
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for k in range(steps):
        xb, yb = x[16 * k: 16 * k + 16], y[16 * k: 16 * k + 16]
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()


def table(mon: Monitor) -> dict[tuple[int, str, str], float]:
    return {(r["step"], r["layer"], r["metric"]): r["value"] for r in mon.rows()}


# --- ground truth ----------------------------------------------------------------------------------
def test_relu_behind_a_bias_of_minus_100_is_dead_and_saturated(digits) -> None:
    torch.manual_seed(0)
    model = mlp(nn.ReLU)
    with torch.no_grad():
        model[0].bias.fill_(-100.0)
    with monitor(model) as mon:
        train(model, *digits, steps=2)
    t = table(mon)
    assert t[(0, "1", "dead_fraction")] == 1.0 and t[(0, "1", "saturated_fraction")] == 1.0
    assert mon.units("dead")["1"][0].all()
    layer = diagnose(model, digits[0]).layers[0]
    assert layer["layer"] == "1" and layer["dead_fraction"] == 1.0 and layer["saturated_fraction"] == 1.0


def test_tanh_behind_large_weights_saturates(digits) -> None:
    """Weights ×100: z has std ≈ 55, and |tanh'(z)| < 0.05 where |z| > 2.18, so > 95 % (×50 gives std ≈ 28 and
    about 93 %, by a direct torch computation)."""
    torch.manual_seed(0)
    model = mlp(nn.Tanh)
    with torch.no_grad():
        model[0].weight.mul_(100.0)
    with monitor(model) as mon:
        train(model, *digits, steps=1)
    assert table(mon)[(0, "1", "saturated_fraction")] > 0.95
    assert diagnose(model, digits[0]).layers[0]["saturated_fraction"] > 0.95


@pytest.mark.parametrize("act, metric", [(nn.Tanh, "saturated_fraction"), (nn.ReLU, "dead_fraction")])
def test_a_default_mlp_on_digits_is_healthy(digits, act, metric) -> None:
    torch.manual_seed(0)
    model = mlp(act)
    with monitor(model, every=5) as mon:
        train(model, *digits, steps=10)
    t = table(mon)
    for step in (0, 5):
        assert t[(step, "1", metric)] < 0.05 and t[(step, "3", metric)] < 0.05
    assert all(layer[metric] < 0.05 for layer in diagnose(model, digits[0]).layers)


# --- every statistic against a hand-written reference ------------------------------------------------
class Small(nn.Module):
    """Linear -> relu (units 0-2 dead) -> Linear -> actlab tanh -> Linear, float64."""

    def __init__(self) -> None:
        super().__init__()
        self.l1, self.act1, self.l2, self.act2, self.l3 = (nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 8),
                                                           actlab.create("tanh"), nn.Linear(8, 3))
        with torch.no_grad():
            self.l1.bias[:3] = -100.0
            self.l2.weight.mul_(4.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.l3(self.act2(self.l2(self.act1(self.l1(x)))))


def reference_step(model: Small, x: torch.Tensor, y: torch.Tensor) -> dict[str, dict[str, object]]:
    """Everything the monitor records for one step, computed directly with torch (no monitor code)."""
    z1 = model.l1(x)
    a1 = torch.relu(z1)
    z2 = model.l2(a1)
    a2 = torch.tanh(z2)
    a1.retain_grad()
    a2.retain_grad()
    F.cross_entropy(model.l3(a2), y).backward()
    d1 = (z1 > 0).double()  # relu', relu'(0) = 0; max|f'| = 1
    d2 = 1 - torch.tanh(z2) ** 2  # tanh', max|f'| = 1
    out = {}
    for name, z, a, d in (("act1", z1, a1, d1), ("act2", z2, a2, d2)):
        z, post = z.detach(), a.detach()
        out[name] = {
            "pre_mean": z.mean().item(), "pre_std": z.std(correction=0).item(),
            **{f"pre_{q}": v for q, v in zip(Q_NAMES, torch.quantile(z.flatten(), QS).tolist())},
            "post_mean": post.mean().item(), "post_std": post.std(correction=0).item(),
            **{f"post_{q}": v for q, v in zip(Q_NAMES, torch.quantile(post.flatten(), QS).tolist())},
            "saturated_fraction": (d.abs() < 0.05).double().mean().item(),
            "dead_fraction": (d == 0).all(0).double().mean().item(),
            "grad_norm": a.grad.norm().item(),
            "units": {"dead": (d == 0).all(0).numpy(), "saturated_fraction": (d.abs() < 0.05).double().mean(0).numpy(),
                      "pre_mean": z.mean(0).numpy(), "pre_std": z.std(0, correction=0).numpy()},
            "z": z,
        }
    return out


def test_every_statistic_equals_a_hand_written_reference() -> None:
    torch.manual_seed(0)
    model = Small().double()
    twin = copy.deepcopy(model)
    x, y = torch.randn(40, 6, dtype=torch.float64), torch.randint(3, (40,))
    opt, twin_opt = torch.optim.SGD(model.parameters(), lr=0.5), torch.optim.SGD(twin.parameters(), lr=0.5)
    refs = []
    with monitor(model, bins=10) as mon:
        for k in range(2):
            w0 = {n: p.detach().clone() for n, p in twin.named_parameters()}
            refs.append(reference_step(twin, x[20 * k:20 * k + 20], y[20 * k:20 * k + 20]))
            refs[-1]["params"] = {n: (p.grad.norm().item(), w0[n]) for n, p in twin.named_parameters()}
            twin_opt.step()
            twin_opt.zero_grad()
            refs[-1]["ratios"] = {n: ((p.detach() - w0[n]).norm() / w0[n].norm()).item()
                                  for n, p in twin.named_parameters()}
            loss = F.cross_entropy(model(x[20 * k:20 * k + 20]), y[20 * k:20 * k + 20])
            opt.zero_grad()
            loss.backward()
            opt.step()
    t = table(mon)
    for step, ref in enumerate(refs):
        for layer in ("act1", "act2"):
            for metric, value in ref[layer].items():
                if metric not in ("units", "z"):
                    assert t[(step, layer, metric)] == pytest.approx(value, rel=1e-6, abs=1e-9), (step, layer, metric)
            for metric, arr in ref[layer]["units"].items():
                np.testing.assert_allclose(mon.units(metric)[layer][step], arr, rtol=1e-6, atol=1e-9)
            h = mon.histogram(layer)
            z = ref[layer]["z"].flatten()
            e = torch.tensor(h.edges)
            counts = [(z < e[0]).sum()] + [((z >= e[k]) & (z < e[k + 1])).sum() for k in range(len(e) - 1)]
            counts.append((z >= e[-1]).sum())
            np.testing.assert_allclose(h.fractions[step] * z.numel(), torch.stack(counts).numpy(), atol=1e-9)
        for name, (grad_norm, _) in ref["params"].items():
            assert t[(step, name, "param_grad_norm")] == pytest.approx(grad_norm, rel=1e-6)
            assert t[(step, name, "update_ratio")] == pytest.approx(ref["ratios"][name], rel=1e-6)
    assert t[(0, "act1", "dead_fraction")] == 3 / 8  # the three units behind a bias of -100
    assert mon.histogram("act1").fractions.shape == (2, 12)


# --- what counts as an activation, and how it is judged -------------------------------------------
def test_torch_modules_are_mapped_with_their_own_arguments() -> None:
    model = nn.Sequential(nn.Linear(4, 6), nn.LeakyReLU(0.2), nn.Linear(6, 6), nn.ELU(alpha=2.0), nn.Linear(6, 3),
                          nn.PReLU(3), nn.Hardtanh(-2.0, 3.0), nn.Softmax(dim=1))
    mon = monitor(model)
    assert mon.layers == {"1": "leaky_relu(negative_slope=0.2)", "3": "elu(alpha=2.0)",
                          "5": "prelu(num_parameters=3)", "6": "hard_tanh(min_val=-2.0, max_val=3.0)"}
    assert [s.name for s in mon.skipped] == ["7"] and "not elementwise" in mon.skipped[0].reason


def test_a_torch_prelu_is_judged_by_its_current_weight() -> None:
    """The catalog equivalent follows nn.PReLU's learned weight: at a = 0, negative inputs are dead."""
    model = nn.Sequential(nn.Linear(4, 5), nn.PReLU())
    with torch.no_grad():
        model[0].bias.fill_(-100.0)
    with monitor(model) as mon:
        model(torch.randn(6, 4))  # a = 0.25: f' = 0.25 everywhere
        with torch.no_grad():
            model[1].weight.zero_()
        model(torch.randn(6, 4))  # a = 0: f' = 0 everywhere
    t = table(mon)
    assert (t[(0, "1", "dead_fraction")], t[(1, "1", "dead_fraction")]) == (0.0, 1.0)


@pytest.mark.parametrize("eps, expected", [(0.3, "negatives"), (0.1, "none")])
def test_leaky_relu_is_judged_by_its_own_slope(eps, expected) -> None:
    """f' = 0.2 on negatives: saturated at eps = 0.3 (0.2 < 0.3), not at eps = 0.1 (a slope of 0.01 would be)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 7), nn.LeakyReLU(0.2))
    x = torch.randn(30, 5)
    with monitor(model, eps=eps) as mon:
        model(x)
    negatives = (model[0](x) <= 0).double().mean().item()
    assert table(mon)[(0, "1", "saturated_fraction")] == pytest.approx(negatives if expected == "negatives" else 0.0)


def test_dead_means_a_derivative_of_exactly_zero() -> None:
    """leaky_relu(0.2) with every input negative: f' = 0.2 everywhere, saturated at eps = 0.3, never dead."""
    model = nn.Sequential(nn.Linear(5, 6), nn.LeakyReLU(0.2))
    with torch.no_grad():
        model[0].bias.fill_(-100.0)
    with monitor(model, eps=0.3) as mon:
        model(torch.randn(10, 5))
    t = table(mon)
    assert t[(0, "1", "saturated_fraction")] == 1.0 and t[(0, "1", "dead_fraction")] == 0.0


def test_mixed_per_neuron_the_identity_half_is_never_dead() -> None:
    model = nn.Sequential(nn.Linear(5, 8), actlab.create("mixed(acts=['relu', 'identity'])"))
    with torch.no_grad():
        model[0].bias.fill_(-100.0)
    with monitor(model) as mon:
        model(torch.randn(16, 5))
    np.testing.assert_array_equal(mon.units("dead")["1"][0], [True] * 4 + [False] * 4)
    np.testing.assert_array_equal(mon.units("saturated_fraction")["1"][0], [1.0] * 4 + [0.0] * 4)
    assert table(mon)[(0, "1", "saturated_fraction")] == 0.5
    assert diagnose(model, torch.randn(50, 5)).layers[0]["dead_fraction"] == 0.5


def test_inplace_relu_gives_gradient_norms() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(inplace=True), nn.Linear(8, 2))
    x = torch.randn(12, 5)
    with monitor(model) as mon:
        model(x).square().sum().backward()
    h = model[0](x).relu()
    h.retain_grad()
    model[2](h).square().sum().backward()
    t, z = table(mon), model[0](x).detach()
    assert t[(0, "1", "grad_norm")] == pytest.approx(h.grad.norm().item(), rel=1e-6)
    for q, name in zip((0.01, 0.5), ("pre_q01", "pre_q50")):  # of z itself, not of the relu that overwrote it
        assert t[(0, "1", name)] == pytest.approx(torch.quantile(z.flatten(), q).item(), rel=1e-6, abs=1e-9)
    assert t[(0, "1", "pre_mean")] == pytest.approx(z.mean().item(), rel=1e-6)


def test_an_expr_formula_is_judged_by_its_autograd_derivative() -> None:
    torch.manual_seed(0)
    act = actlab.create("expr:x*sigmoid(x)")
    model = nn.Sequential(nn.Linear(5, 9), act)
    x = torch.randn(25, 5)
    with monitor(model, eps=0.2) as mon:
        model(x)
    z = model[0](x).detach().requires_grad_(True)
    (d,) = torch.autograd.grad((z * torch.sigmoid(z)).sum(), z)
    lipschitz = actlab.analyze("expr:x*sigmoid(x)", cost=False)["lipschitz"]
    expected = (d.abs() < 0.2 * lipschitz).double().mean().item()
    assert mon.layers == {"1": "expr:x*sigmoid(x)"}
    assert table(mon)[(0, "1", "saturated_fraction")] == pytest.approx(expected)


def test_units_are_channels_of_a_conv_or_any_chosen_dim() -> None:
    conv = nn.Sequential(nn.Conv2d(2, 4, 3), nn.ReLU())
    with torch.no_grad():
        conv[0].bias[0] = -100.0
    with monitor(conv) as mon:
        conv(torch.randn(3, 2, 6, 6))
    np.testing.assert_array_equal(mon.units("dead")["1"][0], [True, False, False, False])
    tokens = nn.Sequential(nn.Linear(5, 6), nn.ReLU())  # (batch, tokens, features): units on the last dim
    with torch.no_grad():
        tokens[0].bias[1] = -100.0
    x = torch.randn(2, 7, 5)
    dead = [u["dead"] for u in diagnose(tokens, x, unit_dim=-1).units]
    assert dead == [False, True] + [False] * 4
    assert len(diagnose(tokens, x).units) == 7  # the default unit_dim=1: one unit per token position


def test_a_module_called_twice_is_two_sites() -> None:
    class Shared(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b, self.act = nn.Linear(3, 4), nn.Linear(4, 4), nn.Tanh()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.act(self.b(self.act(self.a(x))))

    model = Shared()
    with monitor(model) as mon:
        model(torch.randn(8, 3)).sum().backward()
    sites = {r["layer"] for r in mon.rows() if r["metric"] == "grad_norm"}
    assert sites == {"act", "act#1"}


def test_monitoring_leaves_training_and_the_random_stream_alone(digits) -> None:
    """Same seed, same weights with and without the monitor: RReLU's f' is taken in eval(), sampling uses its
    own generator (sample=16 forces sampling)."""
    weights = []
    for watch in (False, True):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(64, 32), nn.RReLU(), nn.Dropout(0.1), nn.Linear(32, 10))
        with monitor(model, sample=16) if watch else contextlib.nullcontext():
            train(model, *digits, steps=4)
        weights.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    assert torch.equal(weights[0], weights[1])


# --- steps, hooks ------------------------------------------------------------------------------
def test_every_n_records_steps_0_n_2n_and_eval_forwards_do_not_count() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
    with monitor(model, every=3) as mon:
        for k in range(10):
            model(torch.randn(5, 3))
            if k == 4:
                model.eval()
                model(torch.randn(5, 3))
                model.train()
    assert mon.recorded == [0, 3, 6, 9] and mon.forwards == 10
    assert {r["step"] for r in mon.rows()} == {0, 3, 6, 9}


@pytest.mark.parametrize("reading", ["every step", "sorted at every flush"])
def test_when_results_are_computed_does_not_change_them(digits, monkeypatch, reading) -> None:
    """Records move to the host FLUSH_EVERY at a time; their quantiles, histograms and the table are computed
    when read, or at a flush once SORT_LIMIT values wait. Reading after every step (one record per block), or
    with every flush sorting (blocks of 3), gives the table of reading once at the end (blocks of 32 and the
    rest), bit for bit. Sites of different shapes, sampled (sample=100 < 16 × 32 elements)."""
    results = []
    for mode in (reading, "once"):
        if mode == "sorted at every flush":
            monkeypatch.setattr(monitor_module, "FLUSH_EVERY", 3)
            monkeypatch.setattr(monitor_module, "SORT_LIMIT", 0)
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 16), nn.Tanh(), nn.Linear(16, 10))
        with monitor(model, bins=8, sample=100) as mon:
            for step in range(40):
                train(model, digits[0][step:], digits[1][step:], steps=1)
                if mode == "every step":
                    mon.rows()
        results.append((mon.rows(), mon.units("dead"), mon.units("pre_std"), mon.histogram("3")))
        monkeypatch.undo()
    (rows, dead, std, hist), (rows_once, dead_once, std_once, hist_once) = results
    assert len(rows) == len(rows_once) > 40 * 40 and rows == rows_once
    for a, b in ((dead, dead_once), (std, std_once)):
        assert a.keys() == b.keys() and all(np.array_equal(a[k][s], b[k][s]) for k in a for s in a[k])
    assert all(np.array_equal(x, y) for x, y in zip(hist, hist_once)) and hist.fractions.shape == (40, 10)


def hooked(model: nn.Module) -> bool:
    return any(m._forward_hooks or m._forward_pre_hooks for m in model.modules()) or any(
        getattr(p, "_post_accumulate_grad_hooks", None) for p in model.parameters())


def test_hooks_are_removed_on_exit_and_tensor_hooks_stop_firing() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    with monitor(model) as mon:
        out = model(torch.randn(5, 3))
        assert hooked(model)
    assert not hooked(model)
    out.sum().backward()  # the activation's output hook was registered inside the block
    assert not any(r["metric"] in ("grad_norm", "param_grad_norm") for r in mon.rows())


def test_hooks_are_removed_when_the_body_raises() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
    with pytest.raises(RuntimeError, match="boom"), monitor(model):
        model(torch.randn(2, 3))
        raise RuntimeError("boom")
    assert not hooked(model)


# --- diagnose, outputs, bad input ----------------------------------------------------------------
def test_diagnose_over_a_loader_equals_diagnose_over_the_tensor() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 6), nn.Tanh()).double()
    with torch.no_grad():
        model[0].bias[:2] = -50.0
    x = torch.randn(101, 4, dtype=torch.float64)
    whole = diagnose(model, x, batch_size=1000)
    loaded = diagnose(model, DataLoader(TensorDataset(x, torch.zeros(101)), batch_size=17))
    assert len(whole.units) == 12 and [u["dead"] for u in whole.units[:6]] == [True, True] + [False] * 4
    for a, b in zip(whole.units + whole.layers, loaded.units + loaded.layers):
        assert a.keys() == b.keys()
        for k in a:
            assert a[k] == (b[k] if isinstance(b[k], str) else pytest.approx(b[k], rel=1e-9, abs=1e-12)), k
    assert model.training


def test_outputs_csv_summary_and_figures(tmp_path) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1), nn.Softmax(dim=0))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with monitor(model, every=2) as mon:
        for _ in range(5):
            loss = model(torch.randn(10, 3)).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
    text = mon.to_csv(tmp_path / "m.csv").read_text().splitlines()
    assert text[0] == "step,layer,metric,value" and len(text) == len(mon.rows()) + 1
    summary = json.loads(json.dumps(mon.summary(), allow_nan=False))
    assert set(summary["layers"]["1"]) >= {"dead_fraction", "saturated_fraction", "grad_norm"}
    assert summary["skipped"][0][0] == "3"
    paths = mon.figures(tmp_path / "figs")
    assert [p.name for p in paths] == ["histograms.png", "saturation.png", "gradients.png"]
    assert all(p.read_bytes()[:4] == b"\x89PNG" and p.stat().st_size > 1000 for p in paths)
    try:
        frame = mon.frame()
    except ImportError as e:
        assert "pandas" in str(e)
    else:
        assert list(frame.columns) == ["step", "layer", "metric", "value"] and len(frame) == len(mon.rows())


@pytest.mark.parametrize("call, error, words", [
    (lambda m: monitor(m, every=0), ParameterError, ">= 1"),
    (lambda m: monitor(m, every=2.5), ParameterTypeError, "integer"),
    (lambda m: monitor(m, eps=0.0), ParameterError, "(0, 1)"),
    (lambda m: monitor(m, eps=1.5), ParameterError, "(0, 1)"),
    (lambda m: monitor([m]), ParameterTypeError, "torch.nn.Module"),
    (lambda m: diagnose("model", torch.zeros(2, 3)), ParameterTypeError, "torch.nn.Module"),
    (lambda m: diagnose(m, torch.zeros(2, 3), batch_size=0), ParameterError, ">= 1"),
    (lambda m: diagnose(m, [{"x": 1}]), ParameterTypeError, "first element"),
    (lambda m: monitor(m).units("nope"), ParameterError, "allowed: saturated_fraction"),
])
def test_bad_arguments_name_what_is_allowed(call, error, words) -> None:
    with pytest.raises(error) as info:
        call(nn.Sequential(nn.Linear(3, 2), nn.ReLU()))
    assert words in str(info.value)


def test_a_formula_the_analyser_cannot_bound_is_diagnosed_not_refused() -> None:
    """exp(−|x − cosh x|): f′ overflows far out, so the analyser gives no Lipschitz constant and no active range;
    the monitor still runs (the search trains such candidates): dead units counted, saturation unknown (nan)."""
    import math

    import torch

    import actlab

    spec = "expr:exp(-b3*abs((x) - (cosh(x)))); b3=1.0"
    assert actlab.analysis.measure.slope_profile(spec)["lipschitz"] is None
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), actlab.create(spec))
    (layer,) = actlab.diagnose(model, torch.randn(50, 3)).layers
    assert layer["dead_fraction"] == 0.0 and math.isnan(layer["saturated_fraction"])
