"""The planar study: datasets by their definitions, the batched MLP trainer (independent of its
batch, equal to nn.Module + torch.optim), config checks, and a small run end to end."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import actlab
from actlab.engine.mlp import forward, init_mlp, train_mlp
from actlab.studies.config import ConfigError, build
from actlab.studies.datasets import DATASETS, make
from actlab.studies.planar import PlanarConfig, data, plan, run_batch


@pytest.mark.parametrize("name", DATASETS)
def test_datasets_are_seeded_and_labelled(name: str) -> None:
    X, y = make(name, 300, 0.1, seed=4)
    X2, y2 = make(name, 300, 0.1, seed=4)
    assert X.shape == (300, 2) and np.array_equal(X, X2) and np.array_equal(y, y2)
    assert set(np.unique(y)) == {0.0, 1.0} and 0.2 < y.mean() < 0.8
    assert np.abs(X).max() < 1.6
    assert not np.array_equal(make(name, 300, 0.1, seed=5)[0], X)


def test_dataset_definitions_by_hand() -> None:
    X, y = make("circle", 400, 0.0, 0)  # no noise: class 1 inside radius 2.5 (of 5), class 0 from 3.5 out
    r = np.hypot(*X.T) * 6
    assert np.all(r[y == 1] <= 2.5 + 1e-9) and np.all(r[y == 0] >= 3.5 - 1e-9)
    X, y = make("xor", 400, 0.0, 0)
    assert np.array_equal(y, (X[:, 0] * X[:, 1] >= 0).astype(float))
    X, y = make("periodic", 400, 0.0, 0)  # boundary x2 = cos(4·x1) in the unscaled plane [−1.5, 1.5]²
    gap = 1.5 * X[:, 1] - np.cos(4 * 1.5 * X[:, 0])
    assert np.array_equal(y, (gap > 0).astype(float)) and np.abs(gap).min() >= 0.05 - 1e-9
    X, y = make("square", 400, 0.0, 0)
    assert np.array_equal(y, (X[:, 1] > X[:, 0] ** 2 - 0.75).astype(float))
    X, y = make("gauss", 400, 0.0, 0)  # two blobs at ±(2, 2)/6
    assert X[y == 1].mean(0) == pytest.approx([2 / 6, 2 / 6], abs=0.05)
    with pytest.raises(ValueError, match="unknown dataset 'donut'"):
        make("donut", 10, 0.0, 0)


def _data(seeds: list[int], name: str = "circle") -> tuple[torch.Tensor, ...]:
    parts = [data({"dataset": name, "n": 80, "noise": 0.1, "seed": s, "test_fraction": 0.5}) for s in seeds]
    return tuple(torch.tensor(np.stack([p[i].T if i % 2 == 0 else p[i] for p in parts]), dtype=torch.float32)
                 for i in range(4))


def test_mlp_trial_does_not_depend_on_its_batch() -> None:
    act = actlab.create("tanh").requires_grad_(False)
    big = train_mlp(act, [2, 5, 1], *_data([0, 1, 2, 3]), seeds=[0, 1, 2, 3], optimizer="adam", lr=0.05, steps=60)
    one = train_mlp(act, [2, 5, 1], *_data([2]), seeds=[2], optimizer="adam", lr=0.05, steps=60)
    assert torch.allclose(one.final_loss[0], big.final_loss[2], rtol=1e-5)
    assert torch.allclose(one.params[0][0], big.params[0][2], atol=1e-6)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_mlp_matches_one_nn_module_trained_alone(optimizer: str) -> None:
    X, y, Xt, yt = _data([7])
    act = actlab.create("cos").requires_grad_(False)
    out = train_mlp(act, [2, 4, 4, 1], X, y, Xt, yt, seeds=[7], optimizer=optimizer, lr=0.05, steps=80)
    init = [p[0] for p in init_mlp([7], [2, 4, 4, 1])]
    layers = [nn.Linear(2, 4), nn.Linear(4, 4), nn.Linear(4, 1)]
    with torch.no_grad():
        for k, lin in enumerate(layers):
            lin.weight.copy_(init[2 * k])
            lin.bias.copy_(init[2 * k + 1][:, 0])
    net = nn.Sequential(layers[0], actlab.create("cos"), layers[1], actlab.create("cos"), layers[2])
    opt = torch.optim.Adam(net.parameters(), lr=0.05) if optimizer == "adam" else torch.optim.SGD(net.parameters(),
                                                                                                   lr=0.05)
    for _ in range(80):
        opt.zero_grad()
        F.binary_cross_entropy_with_logits(net(X[0].T)[:, 0], y[0]).backward()
        opt.step()
    with torch.no_grad():
        want = F.binary_cross_entropy_with_logits(net(X[0].T)[:, 0], y[0])
    assert abs(float(out.final_loss[0]) - float(want)) < 1e-4


def test_mixed_activation_acts_per_neuron() -> None:
    """With mixed(acts=['cos', 'identity']) the first half of the hidden neurons is cos, the rest linear."""
    params = init_mlp([0], [2, 4, 1], torch.float64)
    X = torch.randn(1, 2, 9, dtype=torch.float64)
    _, hidden = forward(params, X, actlab.create("mixed(acts=['cos', 'identity'])"))
    pre = torch.baddbmm(params[1], params[0], X)
    assert torch.allclose(hidden[0][0, :2], torch.cos(pre[0, :2])) and torch.allclose(hidden[0][0, 2:], pre[0, 2:])


def test_planar_config_errors() -> None:
    for values, message in [({"datasets": ["donut"]}, "datasets: expected"), ({"widths": [0]}, "widths"),
                            ({"layers": 0}, "layers"), ({"optimizers": ["lbfgs"]}, "optimizers"),
                            ({"test_fraction": 1.5}, "test_fraction"), ({"wdiths": [2]}, "did you mean widths")]:
        with pytest.raises(ConfigError, match=message):
            build(PlanarConfig, values)


def test_small_planar_run_learns_the_circle() -> None:
    cfg = build(PlanarConfig, {"datasets": ["circle"], "activations": ["square", "relu"], "widths": [2, 10],
                               "optimizers": ["adam"], "lr": 0.05, "seeds": 3, "steps": 400, "n": 200, "layers": 1})
    batches = plan(cfg)
    assert len(batches) == 4 and all(len(b) == 3 for b in batches)
    recs = [r for b in batches for r in run_batch(b)]
    by = {(r.activation, r.config["width"]): [x.metrics["test_accuracy"] for x in recs
                                              if (x.activation, x.config["width"]) == (r.activation, r.config["width"])]
          for r in recs}
    # x² separates a circle with two neurons (its level sets are ellipses); ten ReLUs approximate it too
    assert np.median(by[("square", 2)]) >= 0.95 and np.median(by[("relu", 10)]) >= 0.9
    r = recs[0]
    assert {"dataset", "width", "layers"} <= set(r.config)
    assert {"test_accuracy", "train_accuracy", "final_loss", "steps_to_95"} <= set(r.metrics)
    assert len(r.metrics["weights"]) == 4 and len(r.metrics["weights"][0]) == 2 * r.config["width"]
    deep = build(PlanarConfig, {"datasets": ["xor"], "activations": ["tanh"], "widths": [3], "layers": 2,
                                "optimizers": ["adam"], "lr": 0.05, "seeds": 1, "steps": 5, "n": 40})
    rec = run_batch(plan(deep)[0])[0]
    assert rec.config["layers"] == 2 and len(rec.metrics["weights"]) == 6
    assert math.isfinite(rec.metrics["final_loss"])


# --- the planar article's setup: Glorot init, no hidden bias, Keras RMSprop, its datasets -----------------


def test_glorot_init_bounds_and_zero_biases() -> None:
    params = init_mlp([0, 1], [2, 300, 1], torch.float64, init="glorot")
    bound = math.sqrt(6 / (2 + 300))  # Glorot & Bengio (2010): U(±√(6/(fan_in + fan_out)))
    w = params[0]
    assert w.abs().max() <= bound and w.abs().max() > 0.95 * bound
    assert abs(float(w.var()) - bound**2 / 3) < 0.1 * bound**2 / 3  # variance of U(±a) is a²/3
    assert all(float(b.abs().max()) == 0.0 for b in params[1::2])
    no_bias = init_mlp([0], [2, 4, 1], torch.float64, hidden_bias=False)
    assert float(no_bias[1].abs().max()) == 0.0 and float(no_bias[3].abs().max()) > 0.0
    with pytest.raises(ValueError, match="unknown init 'he'"):
        init_mlp([0], [2, 4, 1], init="he")


def test_no_hidden_bias_with_keras_rmsprop_matches_a_hand_written_loop() -> None:
    """use_bias=False on the hidden layer, RMSprop as Keras defines it (ρ 0.9, ε 1e-7), written out by hand."""
    X, y, Xt, yt = _data([3], "circle")
    act = actlab.create("square").requires_grad_(False)
    out = train_mlp(act, [2, 2, 1], X, y, Xt, yt, seeds=[3], optimizer="rmsprop-keras", lr=0.01, steps=40,
                    init="glorot", hidden_bias=False)
    W1, _, W2, b2 = (p[0].clone().double().requires_grad_(True) for p in init_mlp([3], [2, 2, 1], init="glorot",
                                                                                 hidden_bias=False))
    v = [torch.zeros_like(p) for p in (W1, W2, b2)]
    x, t = X[0].double(), y[0].double()
    for _ in range(40):
        loss = F.binary_cross_entropy_with_logits((W2 @ (W1 @ x) ** 2 + b2)[0], t)
        grads = torch.autograd.grad(loss, (W1, W2, b2))
        with torch.no_grad():
            for p, g, s in zip((W1, W2, b2), grads, v):
                s.mul_(0.9).add_(0.1 * g * g)
                p.sub_(0.01 * g / (s.sqrt() + 1e-7))
    with torch.no_grad():
        want = F.binary_cross_entropy_with_logits((W2 @ (W1 @ x) ** 2 + b2)[0], t)
    assert abs(float(out.final_loss[0]) - float(want)) < 1e-4
    assert float(out.params[1].abs().max()) == 0.0  # the hidden bias stayed out of training
    assert out.curve.shape == (1, len(out.curve_steps)) and out.curve_steps[0] == 0 and out.curve_steps[-1] == 40


def test_article_datasets_by_their_definitions() -> None:
    from actlab.studies.datasets import beyond

    X, y = make("disc", 400, 0.0, 0)  # Playground's circle with radius 2: class 1 within 1, class 0 in [1.4, 2]
    r = np.hypot(*X.T)
    assert np.all(r[y == 1] <= 1.0 + 1e-9) and np.all((r[y == 0] >= 1.4 - 1e-9) & (r[y == 0] <= 2.0 + 1e-9))
    assert y.mean() == 0.5
    X, y = make("cos_wave", 400, 0.0, 0)
    assert np.array_equal(y, (X[:, 1] > np.cos(X[:, 0])).astype(float))
    assert X[:, 0].min() >= -2 * math.pi and X[:, 0].max() <= 2 * math.pi and np.abs(X[:, 1]).max() <= 2
    assert X[:, 0].max() - X[:, 0].min() > 3 * math.pi  # the article's units: about two periods, not scaled
    Xb, yb = beyond("cos_wave", 200, 0)
    assert Xb[:, 0].min() >= 2 * math.pi and np.array_equal(yb, (Xb[:, 1] > np.cos(Xb[:, 0])).astype(float))


def test_article_preset_runs_and_stores_its_setup() -> None:
    cfg = build(PlanarConfig, {"datasets": ["cos_wave"], "activations": ["relu", "mixed(acts=['cos', 'identity'])"],
                               "widths": [2], "init": "glorot", "bias_free": ["mixed(acts=['cos', 'identity'])"],
                               "optimizers": ["rmsprop-keras"], "lr": 0.001, "seeds": 2, "steps": 20, "n": 40})
    recs = [r for b in plan(cfg) for r in run_batch(b)]
    by = {r.activation: r for r in recs}
    mixed = by[actlab.create("mixed(acts=['cos', 'identity'])").spec]
    assert mixed.config["hidden_bias"] is False and "hidden_bias" not in by["relu"].config
    assert mixed.config["init"].startswith("Keras") and max(abs(v) for v in mixed.metrics["weights"][1]) == 0.0
    assert len(mixed.curve) >= 2 and mixed.curve[-1][0] == 20
    with pytest.raises(ConfigError, match="bias_free: unknown activation 'tahn'"):
        build(PlanarConfig, {"activations": ["relu"], "bias_free": ["tahn"]})
    assert build(PlanarConfig, {"activations": ["relu"], "bias_free": ["tanh"]}).bias_free == ["tanh"]  # not run
    with pytest.raises(ConfigError, match="init"):
        build(PlanarConfig, {"init": "he"})
