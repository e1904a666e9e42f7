"""The batched classifier trainer: each trial equals training its network alone as nn.Sequential with
torch.optim (weights, validation curve, selected epoch, test accuracy), independent of its batch; model
selection never looks at the test split; the initialisations by their definitions."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

import actlab
from actlab.analysis.maps import maps_of
from actlab.analysis.propagation import edge_curve, recommend
from actlab.core.errors import ActlabInputError
from actlab.engine import classifier
from actlab.engine.classifier import Network, train_classifiers

D, CLASSES = 5, 3


def _data(T: int, seed: int = 0, n: tuple[int, int, int] = (40, 20, 20)) -> list[Tensor]:
    """(X_train, y_train, X_val, y_val, X_test, y_test), float64, each trial its own data from a linear teacher."""
    g = torch.Generator().manual_seed(seed)
    teacher = torch.randn(T, D, CLASSES, generator=g, dtype=torch.float64)
    out = []
    for rows in n:
        X = torch.randn(T, rows, D, generator=g, dtype=torch.float64)
        noise = 0.5 * torch.randn(T, rows, CLASSES, generator=g, dtype=torch.float64)
        out += [X, (torch.bmm(X, teacher) + noise).argmax(-1)]
    return out


def _init_torch(sizes: list[int], seed: int) -> list[Tensor]:
    """The documented 'torch' init, re-derived: per layer W then b ~ U(±1/√fan_in) from Generator(seed), float64."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / math.sqrt(fan_in)
        out.append((torch.rand(fan_out, fan_in, generator=g, dtype=torch.float64) * 2 - 1) * bound)
        out.append((torch.rand(fan_out, generator=g, dtype=torch.float64) * 2 - 1) * bound)
    return out


def _alone(spec: str, sizes: list[int], data: list[Tensor], seed: int, lr: float, optimizer: str, epochs: int,
           batch_size: int) -> dict:
    """One network the usual way: nn.Sequential + torch.optim, the documented minibatch order, best-val selection."""
    X, y, Xv, yv, Xt, yt = data
    init = iter(_init_torch(sizes, seed))
    modules: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = nn.Linear(fan_in, fan_out, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(next(init))
            linear.bias.copy_(next(init))
        modules += [linear] + ([actlab.create(spec).double().eval()] if i < len(sizes) - 2 else [])
    model = nn.Sequential(*modules)
    opt = {"sgd": lambda p: torch.optim.SGD(p, lr=lr), "momentum": lambda p: torch.optim.SGD(p, lr=lr, momentum=0.9),
           "adam": lambda p: torch.optim.Adam(p, lr=lr)}[optimizer](model.parameters())

    def accuracy(A: Tensor, b: Tensor) -> float:
        with torch.no_grad():
            return float((model(A).argmax(1) == b).double().mean())

    val = [accuracy(Xv, yv)]
    best_state, best_epoch = copy.deepcopy(model.state_dict()), 0
    for epoch in range(1, epochs + 1):
        order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed * 2**32 + epoch))
        for idx in order.split(batch_size):
            loss = F.cross_entropy(model(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        val.append(accuracy(Xv, yv))
        if val[-1] > max(val[:-1]):
            best_state, best_epoch = copy.deepcopy(model.state_dict()), epoch
    model.load_state_dict(best_state)
    return {"model": model, "val": val, "best_epoch": best_epoch, "test": accuracy(Xt, yt)}


def _assert_trial_equals_alone(out: classifier.ClassifierOutcome, t: int, ref: dict, sizes: list[int]) -> None:
    assert out.val_accuracy[t].tolist() == pytest.approx(ref["val"], abs=1e-12)
    assert int(out.best_epoch[t]) == ref["best_epoch"]
    assert float(out.test_accuracy[t]) == pytest.approx(ref["test"], abs=1e-12)
    linears = [m for m in ref["model"] if isinstance(m, nn.Linear)]
    for i, linear in enumerate(linears):
        torch.testing.assert_close(out.params[2 * i][t], linear.weight.detach(), rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(out.params[2 * i + 1][t], linear.bias.detach(), rtol=1e-10, atol=1e-12)
    acts = [m for m in ref["model"] if isinstance(m, actlab.AbstractActivation)]
    found = iter(out.params[2 * len(linears):])
    for act in acts:  # learnable activation parameters, per hidden layer, each trial its own copy
        for _, p in act.named_parameters():
            torch.testing.assert_close(next(found)[t], p.detach(), rtol=1e-10, atol=1e-12)
    assert next(found, None) is None


@pytest.mark.parametrize(("spec", "optimizer", "sizes"), [
    ("tanh", "sgd", [D, 7, 6, CLASSES]),
    ("tanh", "momentum", [D, 7, 6, CLASSES]),
    ("relu", "adam", [D, 7, 6, CLASSES]),
    ("snake", "adam", [D, 7, 6, CLASSES]),
    ("snake(a=0.7, num_parameters=6)", "momentum", [D, 6, 6, CLASSES]),
])
def test_each_trial_equals_training_it_alone(spec: str, optimizer: str, sizes: list[int]) -> None:
    seeds, lrs = [3, 5, 3, 8], [0.05, 0.05, 0.2, 0.2]  # two learning rates in one batch, a seed twice
    data = _data(len(seeds))
    out = train_classifiers(spec, sizes, *data, seeds=seeds, lrs=lrs, optimizer=optimizer, init="torch", epochs=4,
                            batch_size=16, diagnose=False)  # 40 rows: batches of 16, 16 and the last 8
    assert out.val_accuracy.shape == (4, 5) and out.train_loss.shape == (4, 4) and out.epochs_to_target is None
    for t, (seed, lr) in enumerate(zip(seeds, lrs)):
        ref = _alone(spec, sizes, [d[t] for d in data], seed, lr, optimizer, epochs=4, batch_size=16)
        _assert_trial_equals_alone(out, t, ref, sizes)
    assert len({tuple(v.tolist()) for v in out.val_accuracy}) > 1  # the trials did learn different things
    if spec.startswith("snake"):
        assert not torch.equal(out.params[-1][0], out.params[-1][2])  # each trial moved its own a


@pytest.mark.parametrize("fused", [None, False])
@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_update_rules_equal_torch_optim_row_by_row(name: str, fused: bool | None) -> None:
    g = torch.Generator().manual_seed(0)
    theta = torch.randn(3, 7, generator=g, dtype=torch.float64)
    lrs = [0.1, 0.01, 0.3]
    rows = [nn.Parameter(theta[t].clone()) for t in range(3)]
    makers = {"sgd": lambda p, lr: torch.optim.SGD(p, lr=lr), "adam": lambda p, lr: torch.optim.Adam(p, lr=lr),
              "momentum": lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9)}
    opts = [makers[name]([r], lr) for r, lr in zip(rows, lrs)]
    update = classifier.Update(name, theta, torch.tensor(lrs, dtype=torch.float64)[:, None])
    update.fused = fused  # None: torch's fused Adam kernel where it runs; False: the rule op by op
    for _ in range(6):
        grad = torch.randn(3, 7, generator=g, dtype=torch.float64)
        update.step(theta, grad)
        for t, (row, opt) in enumerate(zip(rows, opts)):
            row.grad = grad[t].clone()
            opt.step()
    for t, row in enumerate(rows):
        torch.testing.assert_close(theta[t], row.detach(), rtol=1e-13, atol=1e-15)


def test_a_trial_does_not_depend_on_its_batch() -> None:
    sizes, seeds, lrs = [D, 8, 8, CLASSES], [0, 1, 2, 3], [0.01, 0.03, 0.1, 0.01]
    data = _data(4)
    kw = dict(optimizer="adam", init="he", epochs=3, batch_size=12, target=0.5, diagnose=False)
    big = train_classifiers("snake", sizes, *data, seeds=seeds, lrs=lrs, **kw)  # type: ignore[arg-type]
    for keep in ([2], [3, 1], [2, 0, 1]):
        small = train_classifiers("snake", sizes, *[d[keep] for d in data], seeds=[seeds[k] for k in keep],
                                  lrs=[lrs[k] for k in keep], **kw)  # type: ignore[arg-type]
        for i, k in enumerate(keep):
            assert torch.equal(small.val_accuracy[i], big.val_accuracy[k])
            assert int(small.best_epoch[i]) == int(big.best_epoch[k])
            assert int(small.epochs_to_target[i]) == int(big.epochs_to_target[k])  # type: ignore[index]
            for p, q in zip(small.params, big.params):
                torch.testing.assert_close(p[i], q[k], rtol=1e-12, atol=1e-14)


def test_the_test_split_is_looked_at_once_and_never_for_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes, seeds, lrs = [D, 8, CLASSES], [0, 1, 2], [0.05, 0.1, 0.2]
    data = _data(3)
    calls = {"test": 0}
    real_call = Network.__call__

    def counting(self: Network, x: Tensor) -> Tensor:
        calls["test"] += x.data_ptr() == test_inputs[0].data_ptr()  # the test inputs, in any view
        return real_call(self, x)

    monkeypatch.setattr(Network, "__call__", counting)
    kw = dict(seeds=seeds, lrs=lrs, optimizer="adam", init="torch", epochs=5, batch_size=16, diagnose=False)
    test_inputs = [data[4]]
    base = train_classifiers("tanh", sizes, *data, **kw)  # type: ignore[arg-type]
    assert calls["test"] == 1
    g = torch.Generator().manual_seed(9)
    shuffled = data[5][:, torch.randperm(data[5].shape[1], generator=g)]
    noise = torch.randn(data[4].shape, generator=g, dtype=torch.float64) * 10
    for X_test, y_test in ((data[4], shuffled), (noise, (data[5] + 1) % CLASSES)):
        test_inputs[0] = X_test
        calls["test"] = 0
        other = train_classifiers("tanh", sizes, *data[:4], X_test, y_test, **kw)  # type: ignore[arg-type,misc]
        assert calls["test"] == 1
        assert torch.equal(other.best_epoch, base.best_epoch) and torch.equal(other.val_accuracy, base.val_accuracy)
        assert all(torch.equal(p, q) for p, q in zip(other.params, base.params))
        assert not torch.equal(other.test_loss, base.test_loss)


def test_target_selection_and_diagnosis_by_their_definitions() -> None:
    sizes, seeds, lrs = [D, 8, 8, CLASSES], [4, 6], [0.1, 0.01]
    data = _data(2, seed=1)
    out = train_classifiers("relu", sizes, *data, seeds=seeds, lrs=lrs, optimizer="sgd", init="torch", epochs=6,
                            batch_size=10, target=0.6)
    for t in range(2):
        curve = out.val_accuracy[t].tolist()
        assert int(out.epochs_to_target[t]) == next((e for e, a in enumerate(curve) if a >= 0.6), -1)  # type: ignore
        assert int(out.best_epoch[t]) == curve.index(max(curve)) and float(out.best_val_accuracy[t]) == max(curve)
        ref = _alone("relu", sizes, [d[t] for d in data], seeds[t], lrs[t], "sgd", epochs=6, batch_size=10)
        layers = actlab.diagnose(ref["model"], data[2][t]).layers
        assert out.diagnosis is not None and len(out.diagnosis[t]) == 2
        for found, want in zip(out.diagnosis[t], layers):
            assert found["dead"] == pytest.approx(want["dead_fraction"])
            assert found["saturated"] == pytest.approx(want["saturated_fraction"])
        assert [d["layer"] for d in out.diagnosis[t]] == [1, 2]


def _init(spec: str, init: str, sizes: list[int], seeds: list[int]) -> list[Tensor]:
    return [p.detach() for p in Network(spec, sizes, seeds, init, torch.float64, torch.device("cpu")).params()]


def test_initialisations_by_their_definitions() -> None:
    sizes = [400, 300, 300, 10]
    he, lecun, tv = (_init("relu", i, sizes, [7]) for i in ("he", "lecun", "torch"))
    for W, b, gain in zip(he[::2], he[1::2], (2, 2, 1)):  # the output layer is "lecun" under every normal init
        assert float(W.std()) == pytest.approx(math.sqrt(gain / W.shape[-1]), rel=0.02) and not b.any()
    for W in lecun[::2]:
        assert float(W.std()) == pytest.approx(math.sqrt(1 / W.shape[-1]), rel=0.02)
    for W, b in zip(tv[::2], tv[1::2]):
        bound = 1 / math.sqrt(W.shape[-1])
        assert float(W.abs().max()) <= bound and float(W.std()) == pytest.approx(bound / math.sqrt(3), rel=0.02)
        assert float(b.abs().max()) <= bound and b.abs().min() > 0
    torch.testing.assert_close(he[0][0] / math.sqrt(2), lecun[0][0])  # the same normal draws, scaled
    for init in ("torch", "he", "lecun"):  # same seed: same draws whatever the activation; another seed: others
        relu, snake = _init("relu", init, [6, 5, 5, 3], [1, 2, 1]), _init("snake", init, [6, 5, 5, 3], [1, 2, 1])
        assert all(torch.equal(p, q) for p, q in zip(relu, snake[:6]))
        assert torch.equal(relu[0][0], relu[0][2]) and not torch.equal(relu[0][0], relu[0][1])
    edge = _init("relu", "edge", sizes, [7])  # relu's edge of chaos at σb = 0 is σw = √2 (χ₁ = σw²/2 = 1)
    want = recommend(maps_of("relu"), 0.0, [])  # solved exactly at σb = 0
    assert want is not None and want["sigma_w"] == pytest.approx(math.sqrt(2))
    torch.testing.assert_close(edge[0], he[0])
    assert float(edge[4].std()) == pytest.approx(math.sqrt(1 / 300), rel=0.02)


def test_edge_init_uses_the_analysis_for_tanh() -> None:
    sizes = [400, 300, 10]
    edge, lecun = _init("tanh", "edge", sizes, [3]), _init("tanh", "lecun", sizes, [3])
    want = recommend(maps_of("tanh"), 0.0, edge_curve(maps_of("tanh")))
    assert want is not None and want["sigma_b"] == 0 and want["sigma_w"] == pytest.approx(1.0)  # by hand: tanh'(0)=1
    assert float(edge[0].std()) == pytest.approx(want["sigma_w"] / math.sqrt(400), rel=0.02)
    torch.testing.assert_close(edge[0], lecun[0] * want["sigma_w"])
    assert not edge[1].any()


def test_bad_arguments_are_input_errors() -> None:
    data = _data(2)
    kw = dict(seeds=[0, 1], lrs=[0.1, 0.1], optimizer="adam", init="torch", epochs=1, batch_size=8)
    with pytest.raises(ActlabInputError, match="unknown optimizer 'lbfgs'; allowed: sgd, momentum, adam"):
        train_classifiers("relu", [D, 4, CLASSES], *data, **{**kw, "optimizer": "lbfgs"})  # type: ignore[arg-type]
    with pytest.raises(ActlabInputError, match="unknown init 'xavier'; allowed: torch, he, lecun, edge"):
        train_classifiers("relu", [D, 4, CLASSES], *data, **{**kw, "init": "xavier"})  # type: ignore[arg-type]
    with pytest.raises(ActlabInputError, match="one learning rate per seed"):
        train_classifiers("relu", [D, 4, CLASSES], *data, **{**kw, "lrs": [0.1]})  # type: ignore[arg-type]
    with pytest.raises(ActlabInputError, match=r"X_train must be \(T=2, N, d=6\)"):
        train_classifiers("relu", [6, 4, CLASSES], *data, **kw)  # type: ignore[arg-type]
    with pytest.raises(ActlabInputError, match="'square' has no edge of chaos"):
        train_classifiers("square", [D, 4, CLASSES], *data, **{**kw, "init": "edge"})  # type: ignore[arg-type]
    with pytest.raises(ActlabInputError, match="one copy per trial"):
        train_classifiers("mixed(acts=['snake', 'relu'])", [D, 4, CLASSES], *data, **kw)  # type: ignore[arg-type]
    with pytest.raises(actlab.UnknownNameError):
        train_classifiers("relux", [D, 4, CLASSES], *data, **kw)  # type: ignore[arg-type]
