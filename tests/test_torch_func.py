"""Every catalog entry under torch.func, against eager autograd, in float64, kinks included.

vmap, vmap(grad), jacrev, jvp (torch.func and torch.autograd.forward_ad), hessian (forward over reverse),
and a model ensemble: stack_module_state + functional_call + vmap, learnable parameters batched too.
The reference for a vmapped call is the same call on each sample alone, eagerly (a vmapped softmax(dim=1)
sees dim 1 of the sample, not of the batch).
"""

from __future__ import annotations

import copy
import warnings

import pytest
import torch
from torch.autograd import forward_ad as fwAD
from torch.func import functional_call, grad, hessian, jacrev, jvp, stack_module_state, vmap

import actlab
from conftest import ALL_SPECS, make64

TOL = dict(rtol=1e-9, atol=1e-11)
# torch's hardsigmoid_backward kernel multiplies by 1.0f / 6.0f, a float32 constant, in float64 too: eager
# autograd (the reference here) is off by 3e-8 relative; under a transform the closed form's 1/6 is exact.
LOOSE = {"hard_sigmoid": dict(rtol=1e-7, atol=1e-8)}


def tol(spec: str) -> dict:
    return LOOSE.get(spec, TOL)


def make(spec: str) -> actlab.AbstractActivation:
    torch.manual_seed(0)
    return make64(spec).eval()


def channels(act: actlab.AbstractActivation) -> int:
    fc1 = getattr(act, "fc1", None)
    if isinstance(fc1, torch.nn.Linear):
        return fc1.in_features
    sizes = [getattr(act, n).numel() for n in act.param_names]
    c = max(sizes + [2])
    return max(c, len(getattr(act, "acts", ())))


def samples(act: actlab.AbstractActivation, batch: int = 3, kinks: bool = True, scale: float = 3.0) -> torch.Tensor:
    """(batch, 2, C, 4) float64, each sample (2, C, 4) with its channels on dim 1, and every declared
    kink of the entry among the values (where the derivative takes its documented value)."""
    c = channels(act)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(batch, 2, c, 4, generator=g, dtype=torch.float64) * scale
    if not kinks:
        return x
    kinks = [k.at for k in act.properties.kinks]
    flat = x.view(-1)
    for i, at in enumerate(kinks):
        flat[2 * i] = at
    return x


def each(fn, xs: torch.Tensor) -> torch.Tensor:
    return torch.stack([fn(x) for x in xs])


def weights(like: torch.Tensor) -> torch.Tensor:
    return torch.linspace(-1.0, 1.5, like.numel(), dtype=like.dtype).reshape(like.shape)


@pytest.mark.parametrize("spec", ALL_SPECS)
def test_vmap_and_per_sample_grad(spec: str) -> None:
    act = make(spec)
    xs = samples(act)
    w = weights(act(xs[0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # a functorch fallback (no batching rule) warns
        got = vmap(act)(xs)
        got_grad = vmap(grad(lambda x: (act(x) * w).sum()))(xs)
    torch.testing.assert_close(got, each(act, xs), **tol(spec))
    want = each(lambda x: torch.autograd.grad((act(x.requires_grad_()) * w).sum(), x)[0], xs.clone())
    torch.testing.assert_close(got_grad, want, **tol(spec))


@pytest.mark.parametrize("spec", ALL_SPECS)
def test_jacrev_jvp_forward_ad(spec: str) -> None:
    act = make(spec)
    x = samples(act, 1)[0, :1]
    t = weights(x).flip(-1)
    want_jac = torch.autograd.functional.jacobian(act, x)
    want_jvp = (want_jac.reshape(act(x).numel(), x.numel()) @ t.reshape(-1)).reshape(act(x).shape)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # a functorch fallback (no batching rule) warns
        jac = jacrev(act)(x)
        y, tangent = jvp(act, (x,), (t,))
        with fwAD.dual_level():
            dual = act(fwAD.make_dual(x, t))
            fw = fwAD.unpack_dual(dual).tangent
        batched = vmap(lambda xi, ti: jvp(act, (xi,), (ti,))[1])(x.expand(2, *x.shape), t.expand(2, *t.shape))
    for got, want in ((jac, want_jac), (y, act(x)), (tangent, want_jvp), (fw, want_jvp),
                      (batched, want_jvp.expand(2, *want_jvp.shape))):
        torch.testing.assert_close(got, want, **tol(spec))


@pytest.mark.parametrize("spec", ALL_SPECS)
def test_hessian(spec: str) -> None:
    """Forward over reverse (jacfwd(jacrev)): the closed-form backward is differentiable in forward mode.
    Away from the kinks, where f'' has no value (elu's, selu's f' jumps at 0)."""
    act = make(spec)
    x = samples(act, 1, kinks=False)[0, :1]
    w = weights(act(x))

    def loss(v: torch.Tensor) -> torch.Tensor:
        return (act(v) * w).sum()

    want = torch.autograd.functional.hessian(loss, x)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # a functorch fallback (no batching rule) warns
        got = hessian(loss)(x)
    torch.testing.assert_close(got, want, **TOL)


def perturbed(act: actlab.AbstractActivation, k: int) -> actlab.AbstractActivation:
    other = copy.deepcopy(act)
    with torch.no_grad():
        for p in other.parameters():
            p.add_(0.05 * k * torch.linspace(1, 2, p.numel(), dtype=p.dtype).reshape(p.shape))
    return other


@pytest.mark.parametrize("spec", [s for s in ALL_SPECS if list(make(s).parameters())])
def test_ensemble_of_learnable_parameters(spec: str) -> None:
    """stack_module_state + functional_call + vmap: each member's output and parameter gradients equal
    that member's own eager ones."""
    members = [perturbed(make(spec), k) for k in range(3)]
    params, buffers = stack_module_state(members)
    base = copy.deepcopy(members[0]).to("meta")
    x = samples(members[0], 1)[0]
    w = weights(members[0](x))

    def loss(p: dict, b: dict, v: torch.Tensor) -> torch.Tensor:
        return (functional_call(base, (p, b), (v,)) * w).sum()

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # a functorch fallback (no batching rule) warns
        out = vmap(lambda p, b, v: functional_call(base, (p, b), (v,)), in_dims=(0, 0, None))(params, buffers, x)
        g = vmap(grad(loss), in_dims=(0, 0, None))(params, buffers, x)
    for k, m in enumerate(members):
        torch.testing.assert_close(out[k], m(x), **TOL)
        eager = torch.autograd.grad((m(x) * w).sum(), list(m.parameters()))
        for (name, _), want in zip(m.named_parameters(), eager):
            torch.testing.assert_close(g[name][k], want, **TOL)


STOCHASTIC = [s for s in ALL_SPECS if make(s).properties.stochastic]


@pytest.mark.parametrize("spec", STOCHASTIC)
def test_stochastic_entries_follow_vmap_randomness(spec: str) -> None:
    """In train(), noise comes from torch's generator as vmap's `randomness=` says: 'error' refuses,
    'same' gives every sample the same noise, 'different' independent noise; gradients flow."""
    act = make(spec).train()
    c = channels(act)
    x = torch.linspace(-6.0, 6.0, 2 * c * 4, dtype=torch.float64).reshape(2, c, 4)
    xs = x.expand(16, *x.shape)
    with pytest.raises(RuntimeError, match="randomness"):
        vmap(act)(xs)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        same = vmap(act, randomness="same")(xs)
        different = vmap(act, randomness="different")(xs)
        g = vmap(grad(lambda v: act(v).sum()), randomness="different")(xs)
    assert (same == same[0]).all()
    assert torch.isfinite(g).all() and g.shape == xs.shape
    # where the eager unit's own draws vary, so do the samples' (some settings barely ever move a unit:
    # noisy_hard_tanh's input noise rarely pushes an input back across a threshold)
    eager = torch.stack([act(x) for _ in range(16)])
    if (eager != eager[0]).any():
        assert (different != different[0]).any()
        assert (g != g[0]).any()  # each sample's gradient sees its own noise


def test_an_ensemble_of_silu_runs_on_torchs_kernel_and_prelu_on_the_exact_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """silu's β is a buffer that stack_module_state batches; its builtin ignores β (it runs only for β = 1), so
    an ensemble keeps F.silu (the exact path's autograd.Function under vmap cost 2.3 ms per optimizer step in
    `actlab compare`). prelu's builtin reads its batched slope: the exact path. Both equal each member's own
    input gradients."""
    from actlab.core import activation as core

    calls: list[str] = []
    for function in (core._Exact, core._ExactElementwise):  # each keeps its own vmap rule
        monkeypatch.setattr(function, "apply", lambda act, *a, apply=function.apply: calls.append(act.name) or
                            apply(act, *a))
    x = torch.linspace(-3, 3, 7, dtype=torch.float64)
    for spec, exact in (("silu", False), ("prelu", True)):
        members = [perturbed(make(spec), k) for k in range(3)]
        params, buffers = stack_module_state(members)
        assert params or buffers
        base = copy.deepcopy(members[0]).to("meta")
        calls.clear()
        g = vmap(grad(lambda p, b, v, base=base: functional_call(base, (p, b), (v,)).sum(), argnums=2),
                 in_dims=(0, 0, None))(params, buffers, x)
        assert bool(calls) is exact, (spec, calls)
        for k, m in enumerate(members):
            v = x.clone().requires_grad_()
            (want,) = torch.autograd.grad(m(v).sum(), v)
            torch.testing.assert_close(g[k], want, **TOL)


@pytest.mark.parametrize("spec", [s for s in ALL_SPECS if list(make(s).parameters())])
def test_vmap_rule_takes_batch_dimensions_anywhere(spec: str) -> None:
    """The elementwise entries' written vmap rule moves batch dimensions itself: x batched on dim 2, each
    member's parameters stacked on their last dim, and vmap inside vmap, against each member eagerly."""
    members = [perturbed(make(spec), k) for k in range(3)]
    base = copy.deepcopy(members[0]).to("meta")
    names = [n for n, _ in members[0].named_parameters()]
    stacked = {n: torch.stack([dict(m.named_parameters())[n].detach() for m in members], -1) for n in names}
    dims = {n: p.dim() - 1 for n, p in stacked.items()}
    xs = samples(members[0], 3)  # (3, 2, C, 4): member k reads xs[k]
    w = weights(members[0](xs[0]))

    buffers = dict(members[0].named_buffers())  # shared: not batched

    def call(p: dict, v: torch.Tensor) -> torch.Tensor:
        return functional_call(base, (p, buffers), (v,))

    def loss(p: dict, v: torch.Tensor) -> torch.Tensor:
        return (call(p, v) * w).sum()

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # a functorch fallback (no batching rule) warns
        out = vmap(call, in_dims=(dims, 2))(stacked, xs.movedim(0, 2))
        g = vmap(grad(loss, argnums=(0, 1)), in_dims=(dims, 2))(stacked, xs.movedim(0, 2))
        nested = vmap(vmap(members[0]))(xs.reshape(3, 1, *xs.shape[1:]).expand(3, 2, *xs.shape[1:]))
    for k, m in enumerate(members):
        v = xs[k].clone().requires_grad_()
        y = m(v)
        torch.testing.assert_close(out[k], y, **tol(spec))
        eager = torch.autograd.grad((y * w).sum(), [v, *m.parameters()])
        torch.testing.assert_close(g[1][k], eager[0], **tol(spec))
        for name, want in zip(names, eager[1:]):
            torch.testing.assert_close(g[0][name][k], want, **tol(spec))  # vmap puts the batch first
        torch.testing.assert_close(nested[k, 1], members[0](xs[k]), **tol(spec))


def test_entries_that_split_channels_keep_the_generated_vmap_rule() -> None:
    """mixed splits its channels on dim 1: its exact maths under vmap equal a loop over the samples (the written
    rule, which runs the maths on the physical batch, put the split on the wrong dim: off by 1.8)."""
    m = actlab.create("mixed(acts=['relu', 'identity'])")
    xs = torch.linspace(-2, 2, 24).reshape(3, 4, 2)  # 3 samples of (4, 2): relu on channel 0, identity on 1
    assert not m.elementwise_maths and not actlab.create("meta_acon(channels=8, r=4)").elementwise_maths
    torch.testing.assert_close(vmap(m.exact)(xs), torch.stack([m.exact(x) for x in xs]))


def test_the_vmap_rule_compiles_nothing_and_pads_x_to_a_longer_parameter_view(monkeypatch: pytest.MonkeyPatch) -> None:
    """fuse(True) under a transform: nothing is compiled (as before the written rule). A parameter whose view has
    more dims than x (a user entry's (1, 1, C) against x's (4, C)): each member's output shape and values."""
    from actlab.core import activation as core
    from actlab.core.properties import Properties

    compiled: list[object] = []
    monkeypatch.setattr(core, "_compiled", lambda maths, key, *a, **k: compiled.append(key))
    snake = [actlab.create("snake").fuse(True) for _ in range(2)]
    params, buffers = stack_module_state(snake)
    base = copy.deepcopy(snake[0]).to("meta")
    xs = torch.randn(2, 4, 3)
    out = vmap(lambda p, b, v: functional_call(base, (p, b), (v,)))(params, buffers, xs)
    torch.autograd.grad(out.sum(), list(params.values()))
    assert compiled == []
    torch.testing.assert_close(out, torch.stack([m.exact(x) for m, x in zip(snake, xs)]))

    class Scaled(actlab.AbstractActivation):
        param_names = ("a",)

        def __init__(self, k: float) -> None:
            super().__init__()
            self.a = torch.nn.Parameter(torch.tensor([1.0, 2.0]) * k)

        def param_views(self, x: torch.Tensor) -> tuple[torch.Tensor]:
            return (self.a.reshape(1, 1, -1),)

        def f(self, x: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
            return a * x

        def df(self, x: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
            return a.expand(torch.broadcast_shapes(a.shape, x.shape))

        def dparams(self, x: torch.Tensor, a: torch.Tensor) -> tuple[torch.Tensor]:
            return (x.expand(torch.broadcast_shapes(a.shape, x.shape)),)

        @property
        def properties(self) -> Properties:
            return Properties(formula="a·x")

    members = [Scaled(k + 1) for k in range(3)]
    params, _ = stack_module_state(members)
    base = copy.deepcopy(members[0]).to("meta")
    xs = torch.randn(3, 4, 2)
    got = vmap(lambda p, v: functional_call(base, p, (v,)))(params, xs)
    want = torch.stack([m(x) for m, x in zip(members, xs)])
    assert got.shape == want.shape == (3, 1, 4, 2)
    torch.testing.assert_close(got, want)
