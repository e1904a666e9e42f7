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
