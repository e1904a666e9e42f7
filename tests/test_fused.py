"""The fused path (`act.fuse()`, torch.compile'd kernels) computes what the eager exact path computes."""

from __future__ import annotations

import copy

import pytest
import torch

import actlab


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
