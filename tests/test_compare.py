"""`actlab.compare` and `actlab compare`: the ensemble trainer against torch.optim trained alone, models with
BatchNorm and recurrent cells, per-trial failures, selection on validation only, and the CLI's bad input."""

from __future__ import annotations

import copy
import csv
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import actlab
from actlab.engine import ensemble
from actlab.engine.optim import torch_class
from actlab.studies.compare import CompareInputError, compare
from actlab.studies.compare.results import CompareResult, Trial


def blobs(n: int = 240, d: int = 6, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g)
    return X, (X[:, 0] * X[:, 1] + X[:, 2] > 0).long()


def mlp(act: nn.Module) -> nn.Module:
    return nn.Sequential(nn.Linear(6, 16), act, nn.Linear(16, 16), copy.deepcopy(act), nn.Linear(16, 2))


def reference(build, splits: ensemble.Splits, seed: int, lr: float, name: str, epochs: int, batch: int) -> list[float]:
    """Training losses per epoch of one trial, written here independently with torch.optim."""
    X, y = splits.train
    model = build(seed)
    cls, kw = torch_class(name)
    opt = cls(model.parameters(), lr=lr, **kw)
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(epochs):
        order, total, n = torch.randperm(len(X), generator=g), 0.0, 0
        model.train()
        for i in range(0, len(X), batch):
            idx = order[i:i + batch]
            loss = nn.functional.cross_entropy(model(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, n = total + loss.item(), n + 1
        out.append(total / n)
    return out


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam", "adamw", "rmsprop"])
def test_ensemble_equals_torch_optim_alone(name: str) -> None:
    X, y = blobs()
    splits = ensemble.Splits((X[:160], y[:160]), (X[160:200], y[160:200]), (X[200:], y[200:]))

    def build(seed: int) -> nn.Module:
        torch.manual_seed(seed)
        return mlp(actlab.create("snake"))  # a learnable activation: its parameter is per trial

    run = ensemble.train(build, splits, ensemble.classification(), [0, 3], [0.002, 0.01], optimizer=name, epochs=3,
                         batch_size=32)
    assert run.mode == "vmap"
    for m in run.members:
        want = reference(build, splits, m.seed, m.lr, name, 3, 32)
        np.testing.assert_allclose(m.train_loss, want, rtol=2e-4)
    assert run.members[0].train_loss != run.members[1].train_loss  # the learning rates differ per member


def cnn(act: nn.Module) -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), act, nn.Flatten(), nn.Linear(4 * 6 * 6, 2))


def test_cnn_with_batchnorm_on_image_tensors() -> None:
    g = torch.Generator().manual_seed(1)
    X = torch.randn(200, 1, 8, 8, generator=g)
    y = (X[:, 0, :4].mean((1, 2)) > X[:, 0, 4:].mean((1, 2))).long()
    r = compare(cnn, (X, y), ["relu", "mish"], seeds=2, lr=[0.01], epochs=3, batch_size=32, vectorize=True)
    assert r.runs["relu"][0] == r.runs["mish"][0] == "vmap"
    assert all(math.isfinite(t.test) and not t.failed for t in r.trials)
    auto = compare(cnn, (X, y), ["relu"], seeds=2, lr=[0.01], epochs=3, batch_size=32)  # vectorize="auto"
    mode, why = auto.runs["relu"]
    assert mode == "sequential" and "Conv2d" in why and "grouped convolution" in why
    np.testing.assert_allclose([t.test for t in auto.trials], [t.test for t in r.trials if t.activation == "relu"],
                               atol=1e-6)
    # BatchNorm keeps running statistics per trial, as one model trained alone does
    splits = ensemble.Splits((X[:120], y[:120]), (X[120:160], y[120:160]), (X[160:], y[160:]))

    def build(seed: int) -> nn.Module:
        torch.manual_seed(seed)
        return cnn(actlab.create("mish"))

    run = ensemble.train(build, splits, ensemble.classification(), [0, 1], [0.01], optimizer="adam", epochs=2,
                         batch_size=32)
    for m in run.members:
        np.testing.assert_allclose(m.train_loss, reference(build, splits, m.seed, m.lr, "adam", 2, 32), rtol=2e-4)


class Recurrent(nn.Module):
    def __init__(self, cell: nn.Module) -> None:
        super().__init__()
        self.rnn, self.head = cell, nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(x)[0][:, -1])


def test_gru_on_sequences_vmapped_and_torch_gru_falls_back() -> None:
    g = torch.Generator().manual_seed(2)
    X = torch.randn(160, 5, 3, generator=g)
    y = (X.sum((1, 2)) > 0).long()

    def actlab_gru(act: nn.Module) -> nn.Module:
        return Recurrent(actlab.nn.GRU(3, 8, batch_first=True, candidate=act))

    r = compare(actlab_gru, (X, y), ["tanh", "softsign"], seeds=2, lr=[0.01], epochs=2, batch_size=32)
    assert {mode for mode, _ in r.runs.values()} == {"vmap"}
    torch_gru = compare(lambda act: Recurrent(nn.GRU(3, 8, batch_first=True)), (X, y), ["tanh"], seeds=2, lr=[0.01],
                        epochs=2, batch_size=32)
    mode, why = torch_gru.runs["tanh"]
    assert mode == "sequential" and "vmap could not train" in why
    assert all(math.isfinite(t.test) for t in torch_gru.trials)


def test_failures_are_per_trial() -> None:
    X, y = blobs()
    r = compare(mlp, (X, y), ["relu", "glu"], seeds=2, lr=[0.01, 1e6], optimizer="sgd", epochs=2)
    assert r.runs["glu"][0] == "failed" and "fails with this activation" in r.runs["glu"][1]
    assert all(t.failed for t in r.trials if t.activation == "glu")
    diverged = [t for t in r.trials if t.activation == "relu" and t.lr == 1e6]
    assert all("diverged" in t.failed for t in diverged)
    assert all(not t.failed for t in r.trials if t.activation == "relu" and t.lr == 0.01)
    assert [row.lr for row in r.rows if row.activation == "relu"] == [0.01]


def test_same_seed_same_initial_weights_for_every_activation() -> None:
    from actlab.studies.compare.train import builder, factory

    make = factory(mlp, None)
    a, b = builder(make, "relu", "cpu")(7), builder(make, "snake", "cpu")(7)
    linear = [(n, p) for m in (a, b) for n, p in m.named_parameters() if n.split(".")[0] in {"0", "2", "4"}]
    assert len(linear) == 12
    for (name, p), (_, q) in zip(linear[:6], linear[6:]):
        torch.testing.assert_close(p, q, rtol=0, atol=0, msg=name)


def test_replace_swaps_a_given_models_activations() -> None:
    X, y = blobs()
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 2))
    r = compare(model, (X, y), ["tanh", "gelu"], seeds=2, lr=[0.01], epochs=2)
    assert r.runs["tanh"][0] == "vmap" and isinstance(model[1], nn.ReLU)  # the given model is not touched
    with pytest.raises(CompareInputError, match="no activation module"):
        compare(nn.Sequential(nn.Linear(6, 2)), (X, y), ["tanh"], seeds=2, lr=[0.01], epochs=1)


def test_selection_reads_validation_only() -> None:
    """The chosen learning rate and the pick follow validation; test numbers that say otherwise change nothing."""
    trials = []
    for act, val in (("relu", (0.9, 0.8)), ("tanh", (0.7, 0.95))):
        for seed in range(4):
            for lr, v in zip((0.01, 0.1), val):
                test = 1.0 - v + 0.01 * seed  # anti-correlated with validation
                trials.append(Trial(act, seed, lr, v, test, 1, "", "vmap", 0.0))
    r = CompareResult(trials, "classification", "accuracy", "relu", {"relu": ("vmap", ""), "tanh": ("vmap", "")},
                      "synthetic", {"seeds": [0, 1, 2, 3], "lr": [0.01, 0.1]})
    assert {row.activation: row.lr for row in r.rows} == {"relu": 0.01, "tanh": 0.1}
    assert r.best.activation == "tanh" and "tanh has the highest mean validation accuracy" in r.answer()


def test_regression_is_inferred_from_float_targets() -> None:
    X, _ = blobs()
    y = (X[:, 0] - 0.5 * X[:, 1]).numpy()
    r = compare(lambda act: nn.Sequential(nn.Linear(6, 16), act, nn.Linear(16, 1)), (X.numpy(), y), ["relu", "tanh"],
                seeds=2, lr=[0.01], epochs=5)
    assert r.task == "regression" and r.metric == "r2"
    assert all(0.0 < t.test <= 1.0 for t in r.trials)


@pytest.mark.parametrize("data, message", [
    ((np.zeros((10, 3)), np.zeros(10, dtype=int)), "one class"),
    ((np.full((10, 3), np.nan), np.arange(10) % 2), "NaN"),
    ((np.zeros((4, 3)), np.arange(4) % 2), "cannot be split"),
    ((np.zeros((10, 3)), np.zeros(9, dtype=int)), "rows"),
])
def test_bad_data_is_refused(data: tuple, message: str) -> None:
    with pytest.raises(CompareInputError, match=message):
        compare(lambda act: nn.Sequential(nn.Linear(3, 2)), data, ["relu"], seeds=2, epochs=1)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "actlab", "compare", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_cli_on_a_csv(tmp_path: Path) -> None:
    X, y = blobs(160)
    with (tmp_path / "t.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow([f"x{i}" for i in range(6)] + ["label"])
        w.writerows([[f"{v:.5f}" for v in row] + [["no", "yes"][int(c)]] for row, c in zip(X.tolist(), y)])
    (tmp_path / "m.py").write_text("from torch import nn\n"
                                   "def make(act):\n    return nn.Sequential(nn.Linear(6, 8), act, nn.Linear(8, 2))\n")
    p = _cli("m.py:make", "--data", "t.csv", "--target", "label", "--activations", "relu,tanh", "--seeds", "2",
             "--epochs", "2", "--lr", "0.01", "--store", "out/r.db", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "highest mean validation accuracy" in p.stdout
    rows = list(csv.DictReader((tmp_path / "out" / "trials.csv").read_text().splitlines()))
    assert len(rows) == 4 and {r["activation"] for r in rows} == {"relu", "tanh"}
    assert "<html" in (tmp_path / "out" / "report.html").read_text()


@pytest.mark.parametrize("args, message", [
    (["nothere:make"], "cannot import"),
    (["m.py:absent"], "no attribute"),
    (["m.py:raises"], "factory raised"),
    (["m.py:make", "--target", "nope"], "target column"),
    (["m.py:make", "--activations", "relu,notanactivation"], "activations"),
    (["m.py:make", "--lr", "-1"], "lr"),
])
def test_cli_bad_input_exit_2_nothing_written(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "t.csv").write_text("a,b,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(40)))
    (tmp_path / "m.py").write_text("from torch import nn\n"
                                   "def make(act):\n    return nn.Sequential(nn.Linear(2, 8), act, nn.Linear(8, 2))\n"
                                   "def raises(act):\n    raise ValueError('broken factory')\n")
    target = [] if "--target" in args else ["--target", "label"]
    p = _cli(*args[:1], "--data", "t.csv", *target, *args[1:], "--seeds", "2", "--epochs", "1", "--store",
             "out/r.db", cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    assert message in p.stderr and len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr
    assert not (tmp_path / "out").exists()


def test_given_splits_a_dataset_and_custom_loss_and_metric() -> None:
    X, y = blobs(300)
    parts = {"train": (X[:180], y[:180]), "val": (X[180:240], y[180:240]), "test": (X[240:], y[240:])}
    calls = []

    def error_rate_negated(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        calls.append(1)
        return -(out.argmax(-1) != target).float().mean()

    r = compare(mlp, parts, ["relu"], seeds=2, lr=[0.01], epochs=2, metric=error_rate_negated)
    assert calls and r.metric == "error_rate_negated" and all(-1 <= t.test <= 0 for t in r.trials)
    assert "180, 60, 60 rows" in r.data
    ds = torch.utils.data.TensorDataset(X, y)
    r2 = compare(mlp, ds, ["relu"], seeds=2, lr=[0.01], epochs=2)
    assert r2.task == "classification" and len(r2.trials) == 2


def test_npz_and_a_dataset_name_from_the_cli(tmp_path: Path) -> None:
    X, y = blobs(120)
    np.savez(tmp_path / "d.npz", X=X.numpy(), y=y.numpy())
    (tmp_path / "m.py").write_text("from torch import nn\n"
                                   "def make(act):\n    return nn.Sequential(nn.Linear(6, 8), act, nn.Linear(8, 2))\n")
    p = _cli("m.py:make", "--data", "d.npz", "--activations", "relu", "--seeds", "2", "--epochs", "1", "--lr", "0.01",
             "--store", "s/r.db", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    p = _cli("actlab.studies.compare.examples:digits_mlp", "--data", "digits", "--activations", "relu,tanh",
             "--seeds", "2", "--epochs", "1", "--lr", "0.01", "--store", "s2/r.db", "--dry-run", cwd=tmp_path)
    assert p.returncode == 0 and "study compare: 4 trials" in p.stdout and not (tmp_path / "s2").exists()


def test_peak_memory_counts_the_saved_activations_and_the_state() -> None:
    """Linear(6, 16) → relu → Linear(16, 2), a minibatch of 32: autograd keeps relu's 32 × 16 output (and
    cross-entropy its 32 × 2 log-probabilities); parameters 16·6 + 16 + 2·16 + 2 = 146 floats, held 5 times
    with Adam (weights, gradients, two moments, the best copy); the split's 240 rows × (6 floats + 1 label)."""
    X, y = blobs()
    split = ensemble.Splits((X[:160], y[:160]), (X[160:200], y[160:200]), (X[200:], y[200:]))

    def build(seed: int) -> nn.Module:
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 2))

    fixed = 5 * 146 * 4 + 240 * 6 * 4 + 240 * 8
    one = ensemble.peak_memory(build, split, ensemble.classification(), 1, 32)
    assert 32 * 16 * 4 <= one - fixed <= 3 * 32 * 18 * 4
    assert ensemble.peak_memory(build, split, ensemble.classification(), 20, 32) == 20 * one


def test_gru_ensemble_equals_each_trial_alone_with_torch_optim() -> None:
    g = torch.Generator().manual_seed(3)
    X = torch.randn(96, 5, 3, generator=g)
    y = (X.sum((1, 2)) > 0).long()
    splits = ensemble.Splits((X[:64], y[:64]), (X[64:80], y[64:80]), (X[80:], y[80:]))

    def build(seed: int) -> nn.Module:
        torch.manual_seed(seed)
        return Recurrent(actlab.nn.GRU(3, 8, batch_first=True, candidate="softsign"))

    run = ensemble.train(build, splits, ensemble.classification(), [0, 1], [0.01], optimizer="adam", epochs=2,
                         batch_size=16)
    assert run.mode == "vmap"
    for m in run.members:
        np.testing.assert_allclose(m.train_loss, reference(build, splits, m.seed, m.lr, "adam", 2, 16), rtol=2e-4)


def test_activation_lists_keep_commas_inside_specs_and_formulas() -> None:
    from actlab.studies.compare.train import split_specs

    text = "relu, leaky_relu(negative_slope=0.2),expr:where(x > 0, x, a*x); a=0.1, num_parameters=4,tanh"
    assert split_specs(text) == ["relu", "leaky_relu(negative_slope=0.2)",
                                 "expr:where(x > 0, x, a*x); a=0.1, num_parameters=4", "tanh"]


def test_a_formula_with_a_learnable_parameter_trains_per_trial() -> None:
    X, y = blobs()
    r = compare(mlp, (X, y), "relu,expr:x*sigmoid(beta*x); beta=1.0", seeds=2, lr=[0.01], epochs=2)
    assert r.runs["expr:x*sigmoid(beta*x); beta=1.0"][0] == "vmap"
    assert all(math.isfinite(t.test) and not t.failed for t in r.trials)


def test_the_example_in_docs_compare_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/compare.md's Python example, as a user copies it (fewer seeds and epochs, to stay fast)."""
    text = (Path(__file__).parents[1] / "docs" / "compare.md").read_text()
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    assert "seeds=10" in code and "epochs=30" in code
    code = code.replace("seeds=10", "seeds=2").replace("epochs=30", "epochs=2")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "docs/compare.md", "exec"), {"__name__": "__docs__"})
    assert (tmp_path / "trials.csv").read_text().count("\n") == 1 + 5 * 2 * 3
    assert "<html" in (tmp_path / "compare.html").read_text()


class _Conv(nn.Module):
    """digits' 64 features as a 1-channel signal: Conv1d(1, 2, 3) → 2 × 62, the activation, Linear(124, 10)."""

    def __init__(self, act: nn.Module) -> None:
        super().__init__()
        self.conv, self.act, self.fc = nn.Conv1d(1, 2, 3), act, nn.Linear(124, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.act(self.conv(x.unsqueeze(1))).flatten(1))


def test_the_cost_counts_a_rows_training_flops_and_a_convolution_trains_one_trial_after_another() -> None:
    """By hand, per row (2 flops a multiply-add; no input gradient for the first layer): digits' 64-64-64-10 MLP
    forward 2·(64·64 + 64·64 + 64·10) = 17 664, weight gradients as many, input gradients of layers 2-3
    2·(64·64 + 64·10) = 9 472: 44 800. The convolution model: Conv1d forward 2·2·3·62 = 744 and its weight
    gradient 744, Linear(124, 10) 2 480 three times: 8 928, and it trains sequentially (the ensemble's rule)."""
    from actlab.studies.compare import examples
    from actlab.studies.compare import train as api
    from actlab.studies.compare.data import read

    digits = read("digits", None)
    mlp_work = api.work(api.factory(examples.digits_mlp, None), "relu", digits, 0.15, 0.15, 64)
    assert mlp_work.flops_per_row == 44_800 and not mlp_work.sequential
    assert mlp_work.rows == api.training_rows(digits, 0.15, 0.15)
    conv_work = api.work(api.factory(_Conv, None), "tanh", digits, 0.15, 0.15, 64)
    assert conv_work.flops_per_row == 8_928 and conv_work.sequential
    narrow = api.factory(lambda act: nn.Sequential(nn.Linear(3, 5), act), None)
    broken = api.work(narrow, "relu", digits, 0.15, 0.15, 64)
    assert broken.flops_per_row == 6 * 20 and not broken.sequential  # it cannot take 64 features: 6 per parameter
