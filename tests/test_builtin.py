"""Entries that torch implements run on torch's own kernels, and compute what the exact path computes.

The speed of `actlab.create("silu")` in a model comes from `builtin`: torch's forward and
backward kernels instead of the closed forms. These tests pin which entries take that path (so a
slow fallback cannot creep back) and prove that it changes nothing but the cost: values, first
and second derivatives equal the exact path's, at the kinks too (check_activation adds gradcheck).
"""

from __future__ import annotations

import math

import pytest
import torch

import actlab
from actlab.core.activation import _FUSED as fused_cache
from conftest import ALL_SPECS

# Every entry of the catalog that torch.nn has, by the kernel that runs its forward and backward.
# softsign, tanh_shrink and mish stay on the exact path: torch's softsign and tanhshrink are
# compositions of several ops, its mish kernel is slower than the closed forms and its double
# backward is nan at ±1e4. hard_sigmoid and log_sigmoid run the exact path on torch's kernels
# (torch has no double backward for hardsigmoid; its log_sigmoid saves a second tensor).
# benchmarks/bench_activations.py prints the ratios.
TORCH_KERNELS = {
    "relu": "ReluBackward0", "leaky_relu": "LeakyReluBackward0", "relu6": "HardtanhBackward0",
    "prelu": "PreluKernelBackward0", "threshold": "ThresholdBackward0", "elu": "EluBackward0",
    "selu": "EluBackward0", "celu": "CeluBackward0", "gelu": "GeluBackward0", "gelu_tanh": "GeluBackward0",
    "silu": "SiluBackward0", "hard_swish": "HardswishBackward0",
    "hard_tanh": "HardtanhBackward0", "sigmoid": "SigmoidBackward0", "tanh": "TanhBackward0",
    "softplus": "SoftplusBackward0", "soft_shrink": "SoftshrinkBackward0", "hard_shrink": "HardshrinkBackward0",
    "softmax": "SoftmaxBackward0", "log_softmax": "LogSoftmaxBackward0", "softmin": "SoftmaxBackward0",
    "glu": "GluBackward0", "identity": "ViewBackward0",
}


def _input(act: actlab.AbstractActivation) -> torch.Tensor:
    """float64 (2, C, L): ±1e4, a grid on [−8, 8] and every declared kink, on each of C channels."""
    pts = [-1e4, 1e4, *torch.linspace(-8, 8, 97).tolist(), *(k.at for k in act.properties.kinks)]
    x = torch.tensor(pts + [0.0] * (len(pts) % 2), dtype=torch.float64)  # glu halves the last dim
    c = max([getattr(act, n).numel() for n in act.param_names] + [2])
    return (x * torch.linspace(1, 1.5, 2 * c, dtype=torch.float64).reshape(2, c, 1)).contiguous()


def _uses_builtin(spec: str) -> bool:
    act = actlab.create(spec).double().eval()
    return act.builtin(_input(act)) is not None


BUILTIN = [s for s in ALL_SPECS if actlab.create(s).properties.declared and _uses_builtin(s)]


@pytest.mark.parametrize(("name", "node"), sorted(TORCH_KERNELS.items()))
def test_torch_equivalents_run_on_torch_kernels(name: str, node: str) -> None:
    act = actlab.create(name).eval()
    x = torch.randn(4, 2, 6, requires_grad=True)
    assert type(act(x).grad_fn).__name__ == node


def test_rrelu_eval_hard_sigmoid_and_log_sigmoid_use_torch_kernels() -> None:
    x = torch.randn(4, 2, 6, requires_grad=True)
    assert type(actlab.create("rrelu").eval()(x).grad_fn).__name__ == "LeakyReluBackward0"
    assert actlab.create("rrelu").train().builtin(x) is None, "train() draws actlab's own noise"
    # hardsigmoid: torch's forward and backward kernels under the exact path (torch has no double
    # backward), not compiled even where the automatic rule would compile the exact path
    act = actlab.create("hard_sigmoid")
    with actlab.auto_fuse(True, min_numel=1):
        y = act(x)
    (g,) = torch.autograd.grad(y.sum(), x)
    assert torch.equal(g, torch.ops.aten.hardsigmoid_backward(torch.ones_like(x), x.detach()))
    assert torch.equal(y, torch.nn.functional.hardsigmoid(x)) and not fused_cache.get(act)
    act = actlab.create("log_sigmoid")  # log σ(x) = softplus with β = −1: torch's two kernels, x saved alone
    with actlab.auto_fuse(True, min_numel=1):
        y = act(x)
    (g,) = torch.autograd.grad(y.sum(), x)
    assert torch.allclose(y, torch.nn.functional.logsigmoid(x), atol=1e-6) and not fused_cache.get(act)
    assert torch.allclose(g, torch.sigmoid(-x), atol=1e-6)


def test_configurations_torch_lacks_take_the_exact_path() -> None:
    x = torch.randn(4, 2, 6)
    for spec in ("mish", "swish(beta=2.0)", "swish(learnable=True)", "quick_gelu", "hard_tanh(slope=2.0)",
                 "leaky_relu6", "hard_sigmoid_gulcehre", "geglu", "softsign", "tanh_shrink", "snake"):
        assert actlab.create(spec).builtin(x) is None, spec


@pytest.mark.parametrize("spec", BUILTIN)
def test_builtin_equals_exact_path(spec: str) -> None:
    """f and f' (float64) of forward equal those of the exact path, kinks and ±1e4 included; f'' too,
    except where it does not exist (the kinks; x = 0 for elu and celu, whose f'' jumps there), and each
    path keeps its own convention."""
    torch.manual_seed(0)
    act = actlab.create(spec).double().eval()
    x = _input(act).requires_grad_(True)
    out = []
    for path in (act, act.exact):
        y = path(x)
        w = torch.linspace(0.5, 1.5, y.numel(), dtype=torch.float64).reshape(y.shape)
        (g,) = torch.autograd.grad((y * w).sum(), x, create_graph=True)
        gg = (torch.autograd.grad(g.sum(), x, allow_unused=True, materialize_grads=True)[0] if g.requires_grad
              else torch.zeros_like(x))  # relu's backward does not depend on x
        out.append((y, g, gg))
    away = torch.ones_like(x, dtype=torch.bool)
    for k in act.properties.kinks:
        away &= (x.detach() - k.at).abs() > 1e-9
    if act.properties.smoothness < 2:
        away &= x.detach() != 0
    out = [(y, g, gg[away]) for y, g, gg in out]
    for what, a, b in zip(("f", "f'", "f''"), *out):
        assert torch.allclose(a, b, atol=1e-12, rtol=1e-11), f"{spec}: {what} max diff {(a - b).abs().max()}"


@pytest.mark.parametrize("spec", ["silu", "gelu", "gelu_tanh", "hard_swish"])
def test_at_infinity_forward_is_torchs_and_the_exact_path_has_the_limits(spec: str) -> None:
    """torch's kernels are nan at ±inf where the limits are finite (silu(−inf) = −inf·0); forward keeps
    torch.nn's values, the exact path and derivative() give the limits."""
    act, ref = actlab.create(spec), torch.nn.GELU("tanh") if spec == "gelu_tanh" else _torch_module(spec)
    x = torch.tensor([-math.inf, -1.0, 2.0, math.inf], requires_grad=True)
    assert torch.equal(act(x).isnan(), ref(x).isnan())
    y = act.exact(x)
    (g,) = torch.autograd.grad(y.sum(), x)
    assert y[0] == 0 and y[3] == math.inf and torch.allclose(y[1:3], act(x.detach()[1:3]))
    assert g[0] == 0 and g[3] == 1 and torch.equal(act.derivative(x.detach()), g)
    assert torch.isnan(act(torch.tensor([math.nan, 1.0]))[0]), "nan propagates"


def _torch_module(spec: str) -> torch.nn.Module:
    return {"silu": torch.nn.SiLU(), "gelu": torch.nn.GELU(), "hard_swish": torch.nn.Hardswish()}[spec]
