"""actlab.nn.GRU / LSTM: torch.nn's layers exactly with sigmoid/tanh (values and gradients, float64),
a pure-Python reference step with other gate activations, per-unit noisy gates, state_dicts, bad input."""

from __future__ import annotations

import math

import pytest
import torch

import actlab
from actlab.core.errors import ActlabInputError, ParameterError, ParameterTypeError, SpecError, UnknownNameError
from actlab.nn import GRU, LSTM

TORCH = {GRU: torch.nn.GRU, LSTM: torch.nn.LSTM}
L, N, H_IN, H = 5, 3, 4, 6


@pytest.fixture(autouse=True)
def _float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def _run(model: torch.nn.Module, x: torch.Tensor, hx, lstm: bool) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """(outputs, gradients of a weighted sum of all outputs w.r.t. input, initial states and every weight)."""
    x = x.clone().requires_grad_(True)
    states = [] if hx is None else [s.clone().requires_grad_(True) for s in (hx if lstm else (hx,))]
    h0 = None if hx is None else (tuple(states) if lstm else states[0])
    out, fin = model(x, h0)
    outs = [out, *(fin if lstm else (fin,))]
    g = torch.Generator().manual_seed(7)
    loss = sum((o * torch.randn(o.shape, generator=g)).sum() for o in outs)
    weights = [p for n, p in model.named_parameters() if not n.startswith("activations.")]
    grads = torch.autograd.grad(loss, [x, *states, *weights])
    return [o.detach() for o in outs], list(grads)


def _inputs(batched: bool, batch_first: bool, with_hx: bool, layers: int, lstm: bool):
    g = torch.Generator().manual_seed(3)
    x = torch.randn((N, L, H_IN) if batch_first else (L, N, H_IN), generator=g) if batched else torch.randn(L, H_IN)
    shape = (layers, N, H) if batched else (layers, H)
    if not with_hx:
        return x, None
    hx = tuple(torch.randn(shape, generator=g) for _ in range(2 if lstm else 1))
    return x, (hx if lstm else hx[0])


def _assert_same(a: list[torch.Tensor], b: list[torch.Tensor]) -> None:
    assert len(a) == len(b)
    for u, v in zip(a, b):
        assert u.shape == v.shape
        torch.testing.assert_close(u, v, rtol=0, atol=1e-10)


@pytest.mark.parametrize("cls", [GRU, LSTM])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("with_hx", [False, True])
@pytest.mark.parametrize("direction", ["torch_to_ours", "ours_to_torch"])
def test_equals_torch_values_and_gradients(cls, layers, batch_first, with_hx, direction) -> None:
    lstm = cls is LSTM
    ref, ours = TORCH[cls](H_IN, H, layers, batch_first=batch_first), cls(H_IN, H, layers, batch_first=batch_first)
    if direction == "torch_to_ours":
        ours.load_state_dict(ref.state_dict())  # strict: the same keys and shapes
    else:
        ref.load_state_dict(ours.state_dict())
    x, hx = _inputs(True, batch_first, with_hx, layers, lstm)
    _assert_same(_run(ours, x, hx, lstm)[0], _run(ref, x, hx, lstm)[0])
    _assert_same(_run(ours, x, hx, lstm)[1], _run(ref, x, hx, lstm)[1])


@pytest.mark.parametrize("cls", [GRU, LSTM])
@pytest.mark.parametrize("with_hx", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_unbatched_and_no_bias_equal_torch(cls, with_hx, bias) -> None:
    lstm = cls is LSTM
    ref, ours = TORCH[cls](H_IN, H, 2, bias=bias), cls(H_IN, H, 2, bias=bias)
    ours.load_state_dict(ref.state_dict())
    x, hx = _inputs(False, False, with_hx, 2, lstm)
    a, b = _run(ours, x, hx, lstm), _run(ref, x, hx, lstm)
    _assert_same(a[0], b[0])
    _assert_same(a[1], b[1])
    assert a[0][0].shape == (L, H) and a[0][1].shape == (2, H)


@pytest.mark.parametrize("cls", [GRU, LSTM])
def test_same_initialisation_as_torch(cls) -> None:
    torch.manual_seed(11)
    ref = TORCH[cls](H_IN, H, 2)
    torch.manual_seed(11)
    ours = cls(H_IN, H, 2)
    assert list(ours.state_dict()) == list(ref.state_dict())
    for k, v in ref.state_dict().items():
        assert torch.equal(ours.state_dict()[k], v), k
        assert v.abs().max() <= 1 / math.sqrt(H)
    assert ours.extra_repr() == ref.extra_repr()


@pytest.mark.parametrize("cls", [GRU, LSTM])
def test_dropout_between_layers_like_torch(cls) -> None:
    lstm = cls is LSTM
    ref, ours = TORCH[cls](H_IN, H, 3, dropout=0.4), cls(H_IN, H, 3, dropout=0.4)
    ours.load_state_dict(ref.state_dict())
    x, hx = _inputs(True, False, True, 3, lstm)
    ref.eval(), ours.eval()
    _assert_same(_run(ours, x, hx, lstm)[0], _run(ref, x, hx, lstm)[0])
    ref.train(), ours.train()  # torch draws its masks with F.dropout's RNG calls: the same seed, the same masks
    torch.manual_seed(5)
    a = _run(ours, x, hx, lstm)[0]
    torch.manual_seed(5)
    b = _run(ref, x, hx, lstm)[0]
    _assert_same(a, b)
    with pytest.warns(UserWarning, match="dropout"):
        cls(H_IN, H, 1, dropout=0.5)


# --- other activations: a pure-Python reference -------------------------------------------------

def _hard_sigmoid(v: float) -> float:
    return min(max(v / 6 + 0.5, 0.0), 1.0)  # torch.nn.Hardsigmoid


def _sigmoid(v: float) -> float:
    return 1 / (1 + math.exp(-v))


def _matvec(w: torch.Tensor, v: list[float]) -> list[float]:
    return [sum(float(w[i, j]) * v[j] for j in range(len(v))) for i in range(w.shape[0])]


def _python_gru(model: torch.nn.Module, xs: list[list[float]], gate, cand) -> list[list[float]]:
    """torch.nn.GRU's documented equations, one layer, batch of one, with float arithmetic."""
    sd, hid = model.state_dict(), model.hidden_size
    h, outs = [0.0] * hid, []
    for x in xs:
        gi = [a + float(b) for a, b in zip(_matvec(sd["weight_ih_l0"], x), sd["bias_ih_l0"])]
        gh = [a + float(b) for a, b in zip(_matvec(sd["weight_hh_l0"], h), sd["bias_hh_l0"])]
        r = [gate(gi[k] + gh[k]) for k in range(hid)]
        z = [gate(gi[hid + k] + gh[hid + k]) for k in range(hid)]
        n = [cand(gi[2 * hid + k] + r[k] * gh[2 * hid + k]) for k in range(hid)]
        h = [(1 - z[k]) * n[k] + z[k] * h[k] for k in range(hid)]
        outs.append(h)
    return outs


def _python_lstm(model: torch.nn.Module, xs: list[list[float]], gate, cand, cell) -> list[list[float]]:
    sd, hid = model.state_dict(), model.hidden_size
    h, c, outs = [0.0] * hid, [0.0] * hid, []
    for x in xs:
        a = [u + float(b1) + v + float(b2) for u, v, b1, b2 in zip(
            _matvec(sd["weight_ih_l0"], x), _matvec(sd["weight_hh_l0"], h), sd["bias_ih_l0"], sd["bias_hh_l0"])]
        i, f, g, o = ([a[blk * hid + k] for k in range(hid)] for blk in range(4))
        c = [gate(f[k]) * c[k] + gate(i[k]) * cand(g[k]) for k in range(hid)]
        h = [gate(o[k]) * cell(c[k]) for k in range(hid)]
        outs.append(h)
    return outs


def _big_weights(model: torch.nn.Module) -> None:
    """Weights large enough that some gate inputs pass ±3, where the hard sigmoid saturates."""
    g = torch.Generator().manual_seed(2)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 3)


XS = [[0.5, -1.0], [2.0, 0.3], [-1.5, 1.2]]


def test_python_reference_is_torch_with_sigmoid_tanh() -> None:
    """The reference itself is right: with sigmoid/tanh it reproduces torch.nn.GRU / LSTM."""
    for cls in (torch.nn.GRU, torch.nn.LSTM):
        ref = cls(2, 3)
        _big_weights(ref)
        want = ref(torch.tensor(XS))[0].tolist()
        got = (_python_gru(ref, XS, _sigmoid, math.tanh) if cls is torch.nn.GRU
               else _python_lstm(ref, XS, _sigmoid, math.tanh, math.tanh))
        torch.testing.assert_close(torch.tensor(got), torch.tensor(want), rtol=0, atol=1e-12)


def test_hard_sigmoid_gru_equals_reference_and_differs_from_torch() -> None:
    ours, ref = GRU(2, 3, gate="hard_sigmoid"), torch.nn.GRU(2, 3)
    _big_weights(ours)
    ref.load_state_dict(ours.state_dict())
    gate_inputs = []
    ours.activations[0]["gate_z"].register_forward_hook(lambda m, i, o: gate_inputs.append(i[0]))
    out = ours(torch.tensor(XS))[0]
    assert any((g.abs() > 3).any() for g in gate_inputs)  # the saturated part is exercised
    want = torch.tensor(_python_gru(ours, XS, _hard_sigmoid, math.tanh))
    torch.testing.assert_close(out, want, rtol=0, atol=1e-12)
    assert (out - ref(torch.tensor(XS))[0]).abs().max() > 1e-2


def test_lstm_with_other_gate_candidate_and_cell_equals_reference() -> None:
    ours = LSTM(2, 3, gate="hard_sigmoid", candidate="softsign", cell="expr:x/(1+abs(x))")
    _big_weights(ours)
    softsign = lambda v: v / (1 + abs(v))  # noqa: E731
    want = torch.tensor(_python_lstm(ours, XS, _hard_sigmoid, softsign, softsign))
    torch.testing.assert_close(ours(torch.tensor(XS))[0], want, rtol=0, atol=1e-12)


# --- activation modules --------------------------------------------------------------------------

def test_noisy_gates_learn_p_per_unit() -> None:
    gru = GRU(H_IN, H, 2, gate="noisy_hard_sigmoid", candidate="noisy_hard_tanh(mode='input')")
    acts = [a for layer in gru.activations for a in layer.values()]
    assert len(acts) == 6 and len({id(a) for a in acts}) == 6 and len({id(a.p) for a in acts}) == 6
    assert all(a.p.shape == (H,) for a in acts)
    lstm = LSTM(H_IN, H, gate="noisy_hard_sigmoid(num_parameters=1)", cell="noisy_hard_tanh")
    assert lstm.activations[0]["gate_f"].p.shape == (1,) and lstm.activations[0]["cell"].p.shape == (H,)
    assert sorted(lstm.activations[0]) == ["candidate", "cell", "gate_f", "gate_i", "gate_o"]
    out, h = gru(10 * torch.randn(L, N, H_IN))  # train mode, saturating gate inputs: noisy, and p learns
    (out.sum() + h.sum()).backward()
    assert all(a.p.grad is not None and a.p.grad.shape == (H,) and a.p.grad.abs().sum() > 0 for a in acts[:2])
    gru.eval()
    x = torch.randn(L, N, H_IN)
    assert torch.equal(gru(x)[0], gru(x)[0])


def test_module_argument_is_copied_per_gate() -> None:
    proto = actlab.create("swish(learnable=True)")
    gru = GRU(H_IN, H, gate=proto)
    r, z = gru.activations[0]["gate_r"], gru.activations[0]["gate_z"]
    assert r is not proto and z is not proto and r is not z and r.beta is not z.beta
    assert isinstance(gru.activations[0]["candidate"], actlab.get_class("tanh"))


@pytest.mark.parametrize("cls", [GRU, LSTM])
def test_state_dict_with_activation_parameters(cls) -> None:
    ours, ref = cls(H_IN, H, 2, gate="noisy_hard_sigmoid"), TORCH[cls](H_IN, H, 2)
    extra = sorted(set(ours.state_dict()) - set(ref.state_dict()))
    assert extra and all(k.startswith("activations.") and k.endswith(".p") for k in extra)
    with pytest.raises(RuntimeError, match="Missing key"):
        ours.load_state_dict(ref.state_dict())  # torch's plain strict load names the activations' keys
    p_before = ours.activations[1]["gate_f" if cls is LSTM else "gate_z"].p.clone()
    ours.load_torch_state_dict(ref.state_dict())
    ref2 = TORCH[cls](H_IN, H, 2)
    ref2.load_state_dict(ours.torch_state_dict())  # strict
    for k, v in ref.state_dict().items():
        assert torch.equal(ours.state_dict()[k], v) and torch.equal(ref2.state_dict()[k], v)
    assert torch.equal(ours.activations[1]["gate_f" if cls is LSTM else "gate_z"].p, p_before)
    twin = cls(H_IN, H, 2, gate="noisy_hard_sigmoid")
    twin.load_state_dict(ours.state_dict())  # ours -> ours, strict, activation parameters included
    assert all(torch.equal(a, b) for a, b in zip(twin.state_dict().values(), ours.state_dict().values()))
    with pytest.raises(ParameterError, match="missing"):
        ours.load_torch_state_dict(TORCH[cls](H_IN, H, 1).state_dict())
    with pytest.raises(ParameterError, match="shape"):
        ours.load_torch_state_dict(TORCH[cls](H_IN + 1, H, 2).state_dict())


# --- bad input --------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, error", [
    ({"hidden_size": 0}, ParameterError),
    ({"input_size": -1}, ParameterError),
    ({"num_layers": 0}, ParameterError),
    ({"hidden_size": 2.5}, ParameterTypeError),
    ({"dropout": 1.5}, ParameterError),
    ({"bias": 1}, ParameterTypeError),
    ({"gate": "not_an_activation"}, UnknownNameError),
    ({"candidate": "relu(("}, SpecError),
    ({"gate": "hard_sigmoid(slope=-1.0)"}, ParameterError),
    ({"gate": "sigmoid(bogus=1)"}, ParameterTypeError),
    ({"candidate": "expr:x +* 2"}, SpecError),
    ({"gate": 3}, ParameterTypeError),
])
@pytest.mark.parametrize("cls", [GRU, LSTM])
def test_bad_arguments_raise(cls, kwargs, error) -> None:
    args = {"input_size": H_IN, "hidden_size": H} | kwargs
    with pytest.raises(error) as e:
        cls(**args)
    assert isinstance(e.value, ActlabInputError)


@pytest.mark.parametrize("cls", [GRU, LSTM])
def test_bad_inputs_raise(cls) -> None:
    m = cls(H_IN, H, 2)
    for x in (torch.randn(L, N, H_IN + 1), torch.randn(L), torch.randn(1, L, N, H_IN), torch.randn(0, N, H_IN)):
        with pytest.raises(ParameterError):
            m(x)
    state = torch.zeros(1, N, H)  # one layer's state for a two-layer model
    with pytest.raises(ActlabInputError):
        m(torch.randn(L, N, H_IN), (state, state) if cls is LSTM else state)
    if cls is LSTM:
        with pytest.raises(ParameterTypeError):
            m(torch.randn(L, N, H_IN), torch.zeros(2, N, H))
