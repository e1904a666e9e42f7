"""`check_activation`: the gradient checks of the conformance suite, for any activation.

A user adding an activation (or a test over the registry) calls it to verify that the
exact path, the composite path, the closed-form derivative, autograd and finite
differences agree in float64, that gradcheck and gradgradcheck pass (parameters
included), and that the derivative at each declared kink is the documented value.
Stochastic activations are checked in eval() and, with the global seed reset before every
call so the noise repeats, in train().
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import Tensor

from actlab.core.activation import AbstractActivation


def sample_points(act: AbstractActivation, n: int = 97, margin: float = 1e-2) -> Tensor:
    """float64 points on [−6, 6] at least `margin` away from every declared kink."""
    x = torch.linspace(-6.0, 6.0, n, dtype=torch.float64) + 0.0123
    for k in act.properties.kinks:
        x = x[(x - k.at).abs() > margin]
    return x


def _input(act: AbstractActivation, n: int) -> Tensor:
    """A float64 input the activation accepts: 1-D for elementwise ones, (N, C, L) otherwise."""
    channels = _channels(act)
    if act.properties.elementwise:
        x = sample_points(act, n)
        return x if channels == 1 else x[: len(x) // channels * channels].reshape(-1, channels)
    g = torch.Generator().manual_seed(0)
    fc1 = getattr(act, "fc1", None)
    c = fc1.in_features if isinstance(fc1, torch.nn.Linear) else 4
    return torch.randn(3, c, 4, generator=g, dtype=torch.float64) * 2


def _channels(act: AbstractActivation) -> int:
    """C of per-channel parameters (1 when all are shared)."""
    return max([t.numel() for n in act.param_names for t in [getattr(act, n)]] + [1])


def _repeatable(act: AbstractActivation, fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    if not act.properties.stochastic:
        return fn

    def call(*args: Tensor) -> Tensor:
        torch.manual_seed(1234)
        return fn(*args)

    return call


def check_activation(act: AbstractActivation, *, n: int = 97, atol: float = 1e-7, rtol: float = 1e-6) -> None:
    """Raise AssertionError naming the first check that fails."""
    act = copy.deepcopy(act).double()
    for training in (False, True) if act.properties.stochastic else (act.training,):
        act.train(training)
        _check_mode(act, n, atol, rtol)
    if act.properties.elementwise:
        _check_kinks(act)


def _check_mode(act: AbstractActivation, n: int, atol: float, rtol: float) -> None:
    mode = "train" if act.training else "eval"
    x = _input(act, n).requires_grad_(True)
    fwd, comp = _repeatable(act, act), _repeatable(act, act.composite)
    y_exact, y_comp = fwd(x), comp(x)
    _close(y_exact, y_comp, atol, rtol, f"{mode}: exact path vs composite path")
    (g_exact,) = torch.autograd.grad(y_exact.sum(), x)
    (g_comp,) = torch.autograd.grad(y_comp.sum(), x)
    _close(g_exact, g_comp, atol, rtol, f"{mode}: closed-form backward vs autograd of the composite")
    deriv = _repeatable(act, act.derivative)(x.detach())
    _close(deriv, g_exact, atol, rtol, f"{mode}: derivative() vs backward")
    if act.properties.elementwise and not act.properties.stochastic:
        h = 1e-6
        fd = (act(x.detach() + h) - act(x.detach() - h)) / (2 * h)
        _close(deriv, fd, 1e-5, 1e-5, f"{mode}: derivative() vs central finite differences")
    params = [p for p in act.parameters() if p.requires_grad]
    xs = x.detach()[: min(len(x), 24)].clone().requires_grad_(True)

    def run(inp: Tensor, *ps: Tensor) -> Tensor:
        return fwd(inp)

    ok = torch.autograd.gradcheck(run, (xs, *params), atol=1e-6, rtol=1e-5, raise_exception=False)
    assert ok, f"{act.spec} {mode}: gradcheck failed (input and parameters)"
    ok = torch.autograd.gradgradcheck(run, (xs, *params), atol=1e-5, rtol=1e-4, raise_exception=False)
    assert ok, f"{act.spec} {mode}: gradgradcheck failed (input and parameters)"
    _check_param_grads(act, x.detach(), params, mode)


def _check_param_grads(act: AbstractActivation, x: Tensor, params: list[torch.nn.Parameter], mode: str) -> None:
    """Closed-form parameter gradients vs autograd of the composite."""
    if not params:
        return
    fwd, comp = _repeatable(act, act), _repeatable(act, act.composite)
    g_exact = torch.autograd.grad(fwd(x).sum(), params, allow_unused=True)
    y_comp = comp(x)
    # a composite output may not depend on the parameters at all (noisy units in eval(), normal noise)
    g_comp = (torch.autograd.grad(y_comp.sum(), params, allow_unused=True) if y_comp.requires_grad
              else (None,) * len(params))
    for p, a, b in zip(params, g_exact, g_comp):
        if b is None:
            continue
        assert a is not None, f"{act.spec} {mode}: no gradient reaches a parameter of shape {tuple(p.shape)}"
        _close(a, b, 1e-7, 1e-6, f"{mode}: closed-form parameter gradient vs autograd")


def _check_kinks(act: AbstractActivation) -> None:
    """derivative() and the backward of forward (a built-in kernel where there is one) at each kink."""
    act = act.eval()
    for k in act.properties.kinks:
        c = _channels(act)
        at = torch.full((1, c) if c > 1 else (1,), k.at, dtype=torch.float64, requires_grad=True)
        (backward,) = torch.autograd.grad(act(at).sum(), at)
        for what, got in (("derivative()", act.derivative(at.detach())), ("backward", backward)):
            want = torch.full_like(got, k.derivative)
            assert torch.allclose(got, want, atol=1e-12, rtol=1e-9), (
                f"{act.spec}: {what} at the kink {k.at} is {got.flatten().tolist()}, documented {k.derivative}"
            )


def _close(a: Tensor, b: Tensor, atol: float, rtol: float, what: str) -> None:
    a, b = a.detach(), b.detach()
    assert a.shape == b.shape, f"{what}: shapes {tuple(a.shape)} and {tuple(b.shape)} differ"
    if not torch.allclose(a, b, atol=atol, rtol=rtol, equal_nan=True):
        err = (a - b).abs()
        i = int(err.nan_to_num(float("inf")).argmax())
        at = f"{a.flatten()[i].item()} vs {b.flatten()[i].item()}"
        raise AssertionError(f"{what}: max error {err.max().item():.3g} at index {i} ({at})")
