"""actlab.nn.mnist1d: the MNIST-1D paper's four models — shapes, parameter counts by hand from the paper's
architecture, the paper's state_dict keys, every activation swappable, the actlab GRU equal to torch's, and a
short training run that learns."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import actlab
from actlab.core.errors import ParameterTypeError
from actlab.data.realdata import split
from actlab.nn import Bidirectional, mnist1d
from actlab.nn.mnist1d import MNIST1D_PAPER, MODELS, count_parameters

N = 8

# Parameter counts from the paper's architecture (models.py), written out:
# logistic: Linear(40, 10) = 40·10 + 10 = 410
# mlp:      Linear(40, 100) + Linear(100, 100) + Linear(100, 10) = (4000 + 100) + (10000 + 100) + (1000 + 10) = 15 210
# cnn:      Conv1d(1, 25, 5) = 25·1·5 + 25 = 150; Conv1d(25, 25, 3) = 25·25·3 + 25 = 1900, twice;
#           lengths 40 → (40 + 2 − 5)//2 + 1 = 19 → (19 + 2 − 3)//2 + 1 = 10 → (10 + 2 − 3)//2 + 1 = 5,
#           Linear(25·5, 10) = 1250 + 10 = 1260;  150 + 1900 + 1900 + 1260 = 5210
# gru:      per direction, 3 gates × hidden 6 = 18 rows: W_ih 18·1 + W_hh 18·6 + b_ih 18 + b_hh 18 = 162,
#           two directions = 324; Linear(40 steps · 2 · 6, 10) = 4800 + 10 = 4810;  324 + 4810 = 5134
COUNTS = {
    "logistic": 40 * 10 + 10,
    "mlp": (40 * 100 + 100) + (100 * 100 + 100) + (100 * 10 + 10),
    "cnn": (25 * 1 * 5 + 25) + 2 * (25 * 25 * 3 + 25) + (25 * 5 * 10 + 10),
    "gru": 2 * (18 * 1 + 18 * 6 + 18 + 18) + (40 * 2 * 6 * 10 + 10),
}
# The paper's own printout ("Initialized ... with N parameters", mnist1d-classification.ipynb) agrees.
PRINTED = {"logistic": 410, "mlp": 15210, "cnn": 5210, "gru": 5134}

# state_dict keys of the paper's classes (models.py attribute names), so its checkpoints load.
PAPER_KEYS = {
    "logistic": ["linear.weight", "linear.bias"],
    "mlp": [f"linear{i}.{k}" for i in (1, 2, 3) for k in ("weight", "bias")],
    "cnn": [f"conv{i}.{k}" for i in (1, 2, 3) for k in ("weight", "bias")] + ["linear.weight", "linear.bias"],
    "gru": [f"gru.{k}_l0{d}" for d in ("", "_reverse") for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    + ["linear.weight", "linear.bias"],
}
ACTIVATIONS = {"mlp": 2, "cnn": 3}  # where the paper applies .relu()
M = TypeVar("M", bound=nn.Module)


@pytest.fixture(autouse=True)
def _one_thread():
    """Models this small run fastest on one thread; two threads next to a busy process run torch's GRU 10x slower."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def batch() -> tuple[torch.Tensor, torch.Tensor]:
    """100 MNIST-1D training rows (standardised), generated locally once per process (realdata caches it)."""
    s = split("mnist1d", 0, val_fraction=0)
    return torch.from_numpy(s.X_train[:100]), torch.from_numpy(s.y_train[:100])


def _x(seed: int = 0) -> torch.Tensor:
    return torch.randn(N, 40, generator=torch.Generator().manual_seed(seed))


def _seeded(build: Callable[[], M], seed: int = 0) -> M:
    torch.manual_seed(seed)
    return build()


@pytest.mark.parametrize("name", list(MODELS))
def test_shape_count_and_keys(name: str) -> None:
    model = MODELS[name]()
    assert model(_x()).shape == (N, 10)
    assert model(_x()[:1]).shape == (1, 10)
    assert count_parameters(model) == COUNTS[name] == PRINTED[name]
    assert sorted(model.state_dict()) == sorted(PAPER_KEYS[name])


def test_default_activations_are_separate_relus() -> None:
    for name, count in ACTIVATIONS.items():
        relus = [m for m in MODELS[name]().modules() if isinstance(m, nn.ReLU)]
        assert len(relus) == count and len({id(m) for m in relus}) == count
    assert not any(isinstance(m, nn.ReLU) for name in ("logistic", "gru") for m in MODELS[name]().modules())


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@pytest.mark.parametrize("how", ["factory", "spec", "module"])
def test_activation_argument_replaces_every_relu(name: str, how: str) -> None:
    tanh_cls = type(actlab.create("tanh"))
    arg = {"factory": lambda: actlab.create("tanh"), "spec": "tanh", "module": actlab.create("tanh")}[how]
    build = getattr(mnist1d, name)
    relu, tanh = _seeded(build), _seeded(lambda: build(arg))
    found = [m for m in tanh.modules() if isinstance(m, tanh_cls)]
    assert len(found) == ACTIVATIONS[name] and len({id(m) for m in found}) == ACTIVATIONS[name]
    assert not any(isinstance(m, nn.ReLU) for m in tanh.modules())
    for a, b in zip(relu.parameters(), tanh.parameters()):  # same seed, same weights: only the activation differs
        assert torch.equal(a, b)
    assert not torch.allclose(relu(_x()), tanh(_x()))
    # the same as building with ReLU and swapping afterwards
    swapped = _seeded(build)
    assert actlab.swap(swapped, "relu", "tanh") == ACTIVATIONS[name]
    torch.testing.assert_close(swapped(_x()), tanh(_x()), rtol=0, atol=0)


def test_per_unit_parameters_and_bad_activation() -> None:
    model = mnist1d.cnn("prelu")
    assert [m.a.shape for m in (model.act1, model.act2, model.act3)] == [(25,)] * 3  # one per channel
    with pytest.raises(ParameterTypeError):
        mnist1d.mlp(lambda: 3)  # type: ignore[arg-type, return-value]
    with pytest.raises(ParameterTypeError):
        mnist1d.mlp(3)  # type: ignore[arg-type]


def test_actlab_gru_equals_torch_gru() -> None:
    """sigmoid / tanh through actlab.nn.GRU: the paper's torch model's outputs and gradients to 1e-6."""
    paper = _seeded(mnist1d.gru)
    ours = _seeded(lambda: mnist1d.gru(gate="sigmoid", candidate="tanh"))
    bi, torch_gru = ours.gru, paper.gru
    assert isinstance(bi, Bidirectional) and isinstance(torch_gru, nn.GRU)
    for p, q in zip(paper.parameters(), ours.parameters()):  # same seed: the same draws in torch's order
        assert torch.equal(p, q)
    bi.load_torch_state_dict(torch_gru.state_dict())  # and explicitly, by torch's keys
    ours.linear.load_state_dict(paper.linear.state_dict())
    x = _x(1)
    torch.testing.assert_close(ours(x), paper(x), rtol=0, atol=1e-6)
    h0 = torch.randn(2, N, 6)
    for a, b in zip(bi(x.view(N, 40, 1), h0), torch_gru(x.view(N, 40, 1), h0)):  # outputs and h_n
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
    y = torch.arange(N) % 10
    g_ours = torch.autograd.grad(F.cross_entropy(ours(x), y), list(ours.parameters()))
    g_paper = torch.autograd.grad(F.cross_entropy(paper(x), y), list(paper.parameters()))
    for a, b in zip(g_ours, g_paper):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)


def test_gru_gate_and_candidate_are_swapped() -> None:
    base = _seeded(lambda: mnist1d.gru(gate="sigmoid", candidate="tanh"))
    hard = _seeded(lambda: mnist1d.gru(gate="hard_sigmoid"))
    kinds = {type(actlab.create(s)) for s in ("hard_sigmoid", "tanh")}
    bi = hard.gru
    assert isinstance(bi, Bidirectional)
    acts = [m for layer in (bi.fwd, bi.bwd) for m in layer.activations.modules() if not isinstance(m, nn.ModuleList)
            and not isinstance(m, nn.ModuleDict)]
    assert len(acts) == 6 and {type(m) for m in acts} == kinds and len({id(m) for m in acts}) == 6
    assert not torch.allclose(base(_x()), hard(_x()))


def test_protocol_record() -> None:
    p = MNIST1D_PAPER
    assert (p.learning_rate, p.weight_decay, p.batch_size, p.total_steps, p.eval_every, p.optimizer, p.seed) == (
        1e-2, 0.0, 100, 6000, 250, "adam", 42)
    assert set(p.accuracy) == set(MODELS) == set(p.seed42)
    with pytest.raises(TypeError):
        p.accuracy["cnn"] = (0.0, 0.0)  # type: ignore[index]


@pytest.mark.parametrize("name", list(MODELS))
def test_fifty_steps_on_a_batch_reduce_the_loss(name: str, batch: tuple[torch.Tensor, torch.Tensor]) -> None:
    """50 Adam steps at the paper's learning rate on 100 MNIST-1D rows: the loss on them falls well below its start."""
    x, y = batch
    model = _seeded(MODELS[name])
    opt = torch.optim.Adam(model.parameters(), MNIST1D_PAPER.learning_rate)
    with torch.no_grad():
        start = F.cross_entropy(model(x), y).item()
    for _ in range(50):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        end = F.cross_entropy(model(x), y).item()
    assert end < 0.7 * start
