"""The fused path (`act.fuse()`, torch.compile'd kernels) computes what the eager exact path computes,
and the automatic rule (`actlab.auto_fuse`) chooses it only where it should."""

from __future__ import annotations

import copy
import os
import subprocess
import sys

import pytest
import torch

import actlab
from actlab.core import activation
from actlab.core.activation import _FUSED as fused_cache
from actlab.core.activation import Fusion, can_compile, fusing


def _compare(spec: str, train: bool) -> None:
    torch.manual_seed(0)
    eager = actlab.create(spec).train(train)
    fused = copy.deepcopy(eager).fuse()
    x = (torch.randn(4, 3, 50) * 3).requires_grad_(True)
    outs = []
    for act in (eager, fused):
        torch.manual_seed(7)
        y = act(x)
        w = torch.linspace(-1, 1, y.numel()).reshape(y.shape)
        grads = torch.autograd.grad((y * w).sum(), [x, *act.parameters()])
        outs.append((y, *grads))
    for a, b in zip(*outs):
        assert torch.allclose(a, b, atol=1e-5, rtol=1e-5)
    # double backward falls back to the differentiable closed forms
    xd = x.detach().double().requires_grad_(True)
    f64 = copy.deepcopy(fused).double()

    def call(t: torch.Tensor) -> torch.Tensor:
        torch.manual_seed(3)  # the same noise on every call of the check
        return f64(t)

    assert torch.autograd.gradgradcheck(call, (xd[:1, :1, :6],))


@pytest.mark.parametrize(("spec", "train"), [("snake(a=0.5)", True), ("noisy_hard_tanh(p=1.0)", True)])
def test_fused_matches_eager(spec: str, train: bool) -> None:
    _compare(spec, train)


@pytest.mark.slow
@pytest.mark.parametrize("spec", ["acon_c", "swish(learnable=True)", "noisy_hard_sigmoid(p=0.5)", "gelu", "mish"])
def test_fused_matches_eager_more(spec: str) -> None:
    _compare(spec, True)


# --- automatic fusion (`actlab.auto_fuse`) -------------------------------------------------------


def _kernels(act: actlab.AbstractActivation) -> dict:
    return fused_cache.get(act, {})


def test_the_automatic_rule() -> None:
    act = actlab.create("snake")
    small, large = torch.zeros(Fusion.min_numel - 1), torch.zeros(Fusion.min_numel)
    assert not fusing(act, small)
    assert fusing(act, large) == can_compile("cpu")
    assert not fusing(act, large.long()), "integer tensors are not compiled"
    with actlab.auto_fuse(False):
        assert not fusing(act, large)
    assert Fusion.enabled, "the block gives the setting back"
    assert not fusing(actlab.create("snake").fuse(False), large)
    assert fusing(actlab.create("snake").fuse(), small), "fuse() forces it at any size"
    with actlab.auto_fuse(True, min_numel=10):
        assert fusing(act, torch.zeros(10)) == can_compile("cpu")
    assert Fusion.min_numel == small.numel() + 1


def test_switch_from_the_environment() -> None:
    code = "import actlab.core.activation as a; print(a.Fusion.enabled)"
    env = {**os.environ, "ACTLAB_AUTO_FUSE": "0"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.skipif(not can_compile("cpu"), reason="no C++ compiler: torch cannot compile for the CPU here")
def test_large_inputs_compile_without_being_asked() -> None:
    """At min_numel elements snake compiles itself and computes what the eager path computes."""
    torch.manual_seed(0)
    auto = actlab.create("snake(a=0.7)")
    eager = copy.deepcopy(auto).fuse(False)
    x = (torch.randn(8, 16) * 3).requires_grad_(True)
    with actlab.auto_fuse(True, min_numel=x.numel()):
        outs = []
        for act in (auto, eager):
            y = act(x)
            outs.append((y, *torch.autograd.grad((y * y).sum(), [x, act.a])))
        assert set(_kernels(auto)) == {"f", ("backward", True, (True,))} and not _kernels(eager)
        assert not fusing(auto, x[:1]), "below min_numel the same activation stays eager"
    for a, b in zip(*outs):
        assert torch.allclose(a, b, atol=1e-5, rtol=1e-5)


def test_inside_a_users_compile_nothing_is_compiled_twice() -> None:
    """torch.compile around a model with actlab activations traces the closed forms; the activation
    compiles nothing of its own (aot_eager here; inductor in the slow test below)."""
    _compile_model("aot_eager")


@pytest.mark.slow
@pytest.mark.skipif(not can_compile("cpu"), reason="no C++ compiler")
def test_inside_a_users_inductor_compile_nothing_is_compiled_twice() -> None:
    _compile_model("inductor")


def _compile_model(backend: str) -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(16, 32), actlab.create("snake"), torch.nn.Linear(32, 4))
    x = torch.randn(64, 16)
    with actlab.auto_fuse(True, min_numel=1):
        compiled = torch.compile(model, backend=backend)
        y = compiled(x)
        y.sum().backward()
        grad = model[0].weight.grad.clone()
        model.zero_grad()
        with actlab.auto_fuse(False):
            ref = model(x)
            ref.sum().backward()
    assert not _kernels(model[1]), "the activation compiled kernels of its own inside torch.compile"
    assert torch.allclose(y, ref, atol=1e-5) and torch.allclose(grad, model[0].weight.grad, atol=1e-5)


def test_a_failed_compilation_warns_once_and_stays_eager(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(maths: object, key: object) -> None:
        raise torch._dynamo.exc.BackendCompilerFailed(broken, RuntimeError("no compiler today"), None)

    monkeypatch.setattr(activation, "fused_kernel", broken)
    act, ref = actlab.create("snake"), actlab.create("snake").fuse(False)
    x = torch.randn(4, 8, requires_grad=True)
    with actlab.auto_fuse(True, min_numel=1):
        with pytest.warns(RuntimeWarning, match="compiling snake.* failed.*auto_fuse"):
            y = act(x)
        assert not fusing(act, x), "it stays eager"
        assert torch.equal(y, ref(x))
        with pytest.raises(RuntimeError, match="no compiler today"):
            actlab.create("snake").fuse()(x)  # asked for explicitly: the error is the user's to see

    def runs_out_of_memory(maths: object, key: object) -> None:
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory")

    monkeypatch.setattr(activation, "fused_kernel", runs_out_of_memory)
    with actlab.auto_fuse(True, min_numel=1), pytest.raises(RuntimeError, match="allocate"):
        actlab.create("snake")(x)  # the compiled code's own error is raised, as eager would raise it


def test_studies_run_eager(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stored result must not depend on the machine's compiler: workers never fuse automatically."""
    from actlab.studies import runner
    from actlab.studies.plan import Batch

    seen = []

    def probe(batch: Batch, device: str) -> list:
        seen.append(Fusion.enabled)
        return []

    assert runner.run_batch(Batch("planar", []), "cpu", work=runner.Job(probe, 1)) == [] and seen == [False]
    assert Fusion.enabled
