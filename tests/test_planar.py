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
from actlab.data.planar import DATASETS, make
from actlab.engine.mlp import forward, init_mlp, train_mlp
from actlab.studies.config import ConfigError, build
from actlab.studies.planar.study import PlanarConfig, data, plan, run_batch


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
    from actlab.data.planar import beyond

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


# --- the validation split and the one selection rule -------------------------------------------------------


def _numpy_accuracy(config: dict, weights: list[list[float]], X: np.ndarray, y: np.ndarray) -> float:
    """A one-hidden-layer ReLU network's accuracy written out in numpy (independent of engine.forward)."""
    w = config["width"]
    W1, b1 = np.reshape(weights[0], (w, 2)), np.reshape(weights[1], (w, 1))
    W2, b2 = np.reshape(weights[2], (1, w)), np.reshape(weights[3], (1, 1))
    logits = (W2 @ np.maximum(W1 @ X.T + b1, 0) + b2)[0]
    return float(np.mean((logits > 0) == (y > 0.5)))


def test_validation_set_is_an_independent_draw_of_the_same_generator() -> None:
    from actlab.studies.planar.study import stream_seed, validation

    c = {"dataset": "circle", "n": 80, "noise": 0.0, "seed": 3, "test_fraction": 0.25}
    Xv, yv = validation(c)
    Xtr, _, Xte, _ = data(c)
    assert Xv.shape == (20, 2) == Xte.shape and 0 < yv.mean() < 1
    r = np.hypot(*Xv.T) * 6  # the circle's rule (noise 0): class 1 within 2.5, class 0 from 3.5
    assert np.all(r[yv == 1] <= 2.5 + 1e-9) and np.all(r[yv == 0] >= 3.5 - 1e-9)
    seen = np.concatenate([Xtr, Xte])
    assert not any(np.any(np.all(np.isclose(seen, x), 1)) for x in Xv)  # no point shared with train or test
    assert np.array_equal(validation(c)[0], Xv)  # deterministic
    assert not np.array_equal(validation({**c, "seed": 4})[0], Xv)
    # its seed: the 128-bit state of numpy's child stream of the seed, no small integer seed
    s = stream_seed(3, 1)
    words = np.random.SeedSequence(3, spawn_key=(1,)).generate_state(4)
    assert s == int(words[0]) + (int(words[1]) << 32) + (int(words[2]) << 64) + (int(words[3]) << 96)
    assert s >= 2**64 and s != stream_seed(3, 2) and s != stream_seed(4, 1)


def _tiny(**over: object) -> PlanarConfig:
    values = {"datasets": ["circle"], "activations": ["relu"], "widths": [2, 3], "optimizers": ["adam", "sgd"],
              "lr": [0.01, 0.1], "seeds": 2, "steps": 40, "n": 60}
    return build(PlanarConfig, {**values, **over})


def _stored(recs: list, tmp_path: object = None) -> object:
    from actlab.studies.protocol import Stored

    trials = [{"trial_id": f"t{i}", "study": r.study, "task": r.task, "activation": r.activation,
               "optimizer": r.optimizer, "seed": r.seed, "status": "ok", "config": r.config, "metrics": r.metrics}
              for i, r in enumerate(recs)]
    return Stored("planar", trials)


def _chosen(r: object) -> dict[str, dict]:
    import json

    return {json.dumps(c.cell, sort_keys=True): c.setting for c in r.choices}  # type: ignore[attr-defined]


def test_run_batch_stores_validation_accuracy_and_old_trials_get_the_same() -> None:
    from actlab.studies.planar.results import results
    from actlab.studies.planar.study import validation

    recs = [r for b in plan(_tiny(optimizers=["adam"], lr=0.05)) for r in run_batch(b)]
    for rec in recs:
        Xv, yv = validation(rec.config)
        assert rec.metrics["val_accuracy"] == pytest.approx(_numpy_accuracy(rec.config, rec.metrics["weights"], Xv, yv),
                                                            abs=1e-6)
        assert rec.metrics["val_loss"] > 0
    old = _stored(recs)
    for t in old.trials:  # type: ignore[attr-defined]
        t["metrics"] = {k: v for k, v in t["metrics"].items() if k not in ("val_accuracy", "val_loss")}
    r_old, r_new = results(old), results(_stored(recs))  # type: ignore[arg-type]
    assert r_old.recomputed == len(recs) and r_new.recomputed == 0
    assert [t["metrics"]["val_accuracy"] for c in r_old.choices for t in c.trials] == \
        [t["metrics"]["val_accuracy"] for c in r_new.choices for t in c.trials]


def test_the_test_split_never_decides_a_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shuffled test labels (a rerun) and scrambled stored test accuracies change no cell's choice."""
    from actlab.studies.planar import study
    from actlab.studies.planar.results import results

    cfg = _tiny()
    recs = [r for b in plan(cfg) for r in run_batch(b)]
    want = _chosen(results(_stored(recs)))  # type: ignore[arg-type]
    assert len(want) == 2 and any(len(c.scores) == 4 for c in results(_stored(recs)).choices)  # type: ignore[arg-type]

    clean = study.data

    def shuffled(config: dict) -> tuple:
        Xtr, ytr, Xte, yte = clean(config)
        return Xtr, ytr, Xte, np.random.default_rng(99).permutation(1 - yte)

    monkeypatch.setattr(study, "data", shuffled)
    again = [r for b in plan(cfg) for r in study.run_batch(b)]
    assert [r.metrics["test_accuracy"] for r in again] != [r.metrics["test_accuracy"] for r in recs]
    assert _chosen(results(_stored(again))) == want  # type: ignore[arg-type]
    rng = np.random.default_rng(0)
    for rec in recs:  # the stored test accuracies made the opposite of what they were, plus noise
        rec.metrics["test_accuracy"] = float(1 - rec.metrics["test_accuracy"] + 0.01 * rng.random())
    assert _chosen(results(_stored(recs))) == want  # type: ignore[arg-type]


def test_a_cell_never_pools_step_budgets() -> None:
    from actlab.report import render
    from actlab.studies.planar.results import results
    from actlab.studies.planar.section import section

    recs = [r for steps in (10, 30) for b in plan(_tiny(steps=steps, widths=[2], optimizers=["adam"]))
            for r in run_batch(b)]
    r = results(_stored(recs))  # type: ignore[arg-type]
    assert len(r.choices) == 2 and all(len({t["config"]["steps"] for t in c.trials}) == 1 for c in r.choices)
    assert sorted(c.cell["steps"] for c in r.choices) == [10, 30]
    assert [s.label for s in r.setups] == ["circle, 10 steps, PyTorch init", "circle, 30 steps, PyTorch init"]
    html = render.section(section(r))  # type: ignore[arg-type]
    assert "circle, 10 steps" in html and "circle, 30 steps" in html and "<script" not in html


def test_v0_store_reports_with_validation_computed_from_its_weights() -> None:
    from pathlib import Path

    from actlab.report import kit, render
    from actlab.studies.planar.results import results
    from actlab.studies.planar.section import section, summary
    from actlab.studies.protocol import Stored

    r = results(Stored.load(Path(__file__).parent / "fixtures" / "store_v0.db", "planar"))
    assert r.trials == 64 and r.recomputed == 64 and len(r.choices) == 8  # circle, xor × relu, tanh × widths 2, 3
    assert all(len(c.scores) == 4 and len(c.trials) == 2 for c in r.choices)  # adam, sgd × lr 0.01, 0.1; 2 seeds
    sec = section(r)
    assert isinstance(sec, kit.Section) and sec.title == "Planar: what can each activation learn?"
    assert len(sec.answer) == 2 and sec.figure is not None and "validation" in render.section(sec)
    assert len(summary(r)) == 2


def test_the_section_shows_the_settings_the_claims_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every cell a claim of article 004 reads is a cell of the results, with the setting the section shows."""
    from actlab.report import kit, render
    from actlab.report.names import displays
    from actlab.studies.claims import Evidence
    from actlab.studies.planar import claims, plots
    from actlab.studies.planar import section as planar_section
    from actlab.studies.planar.results import PlanarResults, results
    from actlab.studies.planar.section import section

    blank = "data:image/png;base64,"  # the figures are not under test here (their cost is)
    monkeypatch.setattr(plots, "accuracy_vs_width", lambda r: blank)
    monkeypatch.setattr(planar_section, "setup_details", lambda s, names: kit.Details(s.label, []))

    acts = ["relu", "sigmoid", "tanh", "square", "cos", "mixed(acts=['cos', 'identity'])"]
    article = {"init": "glorot", "bias_free": ["square", acts[-1]], "optimizers": ["rmsprop-keras", "adam"],
               "lr": 0.01, "seeds": 2, "n": 40, "noise": 0.0, "steps": 16}
    disc = {**article, "datasets": ["disc"], "activations": acts[:5], "widths": [2, 3]}
    wave = [{**article, "datasets": ["cos_wave"], "activations": [a], "widths": [w]} for a, w in ((acts[0], 8),
                                                                                                   (acts[-1], 2))]
    shorter = {**disc, "activations": ["relu"], "widths": [2], "steps": 8}  # a second budget: never pooled or read
    recs = [r for values in (disc, *wave, shorter) for b in plan(build(PlanarConfig, values)) for r in run_batch(b)]
    r = results(_stored(recs))  # type: ignore[arg-type]
    read: list = []
    find = PlanarResults.find

    def spy(self: PlanarResults, *a: object, **k: object) -> object:
        c = find(self, *a, **k)  # type: ignore[arg-type]
        read.append(c)
        return c

    PlanarResults.find = spy  # type: ignore[method-assign]
    try:
        rows = {c.id: c.check(Evidence(results={"planar": r})) for c in claims.CLAIMS}
    finally:
        PlanarResults.find = find  # type: ignore[method-assign]
    assert all(m.verdict != "not run in this store" for m in rows.values()), rows
    read = [c for c in read if c is not None]
    assert len(read) >= 10 and all(any(c is x for x in r.choices) for c in read)
    assert all(c.cell["steps"] == 16 for c in read)  # the longest budget, never a pool of both
    sec = section(r)
    assert sec is not None
    table = next(t for b in sec.blocks if isinstance(b, kit.Details) for t in b.blocks
                 if isinstance(t, kit.Table) and "optimizer" in t.columns)
    shown = {(row[0], row[1].title, row[2], row[3], row[4]) for row in table.rows}  # type: ignore[union-attr]
    labels = {id(c): s.label for s in r.setups for c in s.cells.values()}
    for c in read:
        setting = (c.setting["optimizer"], f"{c.setting['lr']:g}")
        key = (labels[id(c)], c.cell["activation"], str(c.cell["width"]), *setting)
        assert key in shown, key
    assert f"{read[0].setting['optimizer']} lr {read[0].setting['lr']:g}" in rows["004-relu-2"].numbers
    assert displays(acts) and render.section(sec)
