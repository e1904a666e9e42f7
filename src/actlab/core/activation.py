"""AbstractActivation and the one exact-gradient autograd path.

An activation is written as maths: `f(x, *p)`, its closed-form derivative `df(x, *p)`
and the partial derivatives `dparams(x, *p)` with respect to its parameter tensors `p`.
`forward` sends these through `_Exact`, a `torch.autograd.Function` that saves only the
input and the parameter tensors and computes the backward pass from the closed forms.
The backward pass is itself made of differentiable torch ops on the saved tensors, so
double backward works (the second derivative is autograd of the closed-form f').

Non-elementwise activations (softmax, glu, ...) write `vjp(x, g)` instead of `df`.

Entries that torch implements itself (relu, silu, gelu, softmax, ...) also write `builtin(x)`:
the call of torch's own kernel, whose forward and backward are one pass each. `forward` takes
it whenever it returns a tensor; the conformance suite proves that its derivative is the closed
form everywhere, the documented value at every kink included, so on finite inputs the two paths
differ only in cost and float rounding. At ±inf forward gives torch's values (silu(−inf) and
gelu(±inf) are nan, as with torch.nn); `exact(x)` and `derivative(x)` give the limits.

torch.func: `_Exact` has a generated vmap rule (elementwise entries without noise a written one,
`_ExactElementwise`: the whole batch in one call) and a closed-form `jvp`, so vmap, grad, jacrev, jvp, hessian and
functional_call ensembles work on every entry (tests/test_torch_func.py). Under a transform the maths run out of
place (`_OutOfPlace`), nothing compiles, torch's kernels give way in forward mode and where a transform batches the
parameters a builtin reads, and a stochastic entry draws its noise from torch's generator as vmap's `randomness=` says.
"""

from __future__ import annotations

import functools
import os
import shutil
import types
import warnings
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import torch
from torch import Tensor, nn
from torch._C._functorch import TransformType
from torch._functorch.pyfunctorch import retrieve_all_functorch_interpreters
from torch.autograd import forward_ad as fwAD
from torch.overrides import TorchFunctionMode

from actlab.core.errors import ParameterError
from actlab.core.naming import spec_of
from actlab.core.properties import Properties


def backward_terms(maths: Any, g: Tensor, x: Tensor, params: tuple[Tensor, ...], need_x: bool,
                   need_p: tuple[bool, ...], kw: dict) -> tuple[Tensor | None, ...]:
    """(∂L/∂x, ∂L/∂p...) from the closed forms, parameter gradients reduced to the parameters' shapes."""
    if not any(need_p):
        gx = maths.vjp(x, g, *params, **kw) if maths.has_vjp else g * maths.df(x, *params, **kw)
        return (gx if need_x else None, *([None] * len(params)))
    d, *partials = maths.grads(x, *params, **kw)
    gp = [(g * dp).sum_to_size(p.shape) if need else None for p, dp, need in zip(params, partials, need_p)]
    return (g * d if need_x else None, *gp)


class _Exact(torch.autograd.Function):
    """y = maths.f(x, *p); backward from the closed forms (maths.grads / df / vjp).

    `extra` holds non-tensor arguments fixed at forward time (a noise seed); `maths.expand`
    turns them into the keyword arguments of the maths (the noise itself), once in forward and
    again in backward, so that only x and the parameters are saved. `fused`: forward and the
    first-order backward run as torch.compile'd kernels (see `fusing`).

    Written for torch.func: forward takes no ctx (`setup_context` saves x and the parameters),
    vmap's rule is generated from these closed forms, and forward-mode AD (`jvp`) is
    f'(x)·tₓ + Σ ∂f/∂p·tₚ from the same closed forms. Under a torch.func transform nothing is compiled.
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(maths: Any, extra: dict, fused: bool, x: Tensor, *params: Tensor) -> Tensor:
        xo, po = _opmath(x), tuple(_opmath(p) for p in params)
        if _transformed(x, *params):
            with _OutOfPlace():
                return maths.f(xo, *po, **maths.expand(xo, extra)).to(x.dtype)
        kw = maths.expand(xo, extra)
        y = _compiled(maths, "f", xo.detach(), *(p.detach() for p in po), **kw) if fused else None
        if y is None:
            y = maths.f(xo, *po, **kw)
        return y.to(x.dtype)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
        maths, extra, fused, x, *params = inputs
        ctx.maths, ctx.extra = maths, extra
        ctx.fused = bool(fused) and not _transformed(x, *params)
        ctx.save_for_backward(x, *params)
        ctx.save_for_forward(x, *params)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple[Tensor | None, ...]:
        x, *params = ctx.saved_tensors
        maths = ctx.maths
        need_x, need_p = ctx.needs_input_grad[3], tuple(ctx.needs_input_grad[4:])
        xo, po, go = _opmath(x), tuple(_opmath(p) for p in params), _opmath(g)
        if _transformed(g, x, *params):
            with _OutOfPlace():
                terms = backward_terms(maths, go, xo, po, need_x, need_p, maths.expand(xo, ctx.extra))
            return (None, None, None, *(_cast(t, ref) for t, ref in zip(terms, (x, *params))))
        kw = maths.expand(xo, ctx.extra)
        # Double backward (create_graph=True) needs differentiable eager ops; otherwise a fused
        # kernel, or torch's own backward kernel, may run.
        first_order = not torch.is_grad_enabled()
        builtin = getattr(maths, "builtin_backward", None)
        kernel = builtin(go, xo) if builtin is not None and first_order and need_x and not params else None
        grads: tuple[Tensor | None, ...] | None = None
        if kernel is not None:
            grads = (kernel,)
        elif ctx.fused and first_order:
            grads = _compiled(maths, ("backward", need_x, need_p), go, xo.detach(), *(p.detach() for p in po), **kw)
        if grads is None:
            grads = backward_terms(maths, go, xo, po, need_x, need_p, kw)
        return (None, None, None, *(_cast(t, ref) for t, ref in zip(grads, (x, *params))))

    @staticmethod
    def jvp(ctx: Any, _maths: Any, _extra: Any, _fused: Any, tx: Tensor | None, *tps: Tensor | None) -> Tensor:
        """Forward mode: f'(x)·tₓ + Σ ∂f/∂p·tₚ from the closed forms (elementwise maths); an entry that
        writes `vjp` (not elementwise) gets the forward-mode derivative of its own maths `f`."""
        x, *params = ctx.saved_tensors
        maths = ctx.maths
        xo, po = _opmath(x), tuple(_opmath(p) for p in params)
        with _OutOfPlace():
            kw = maths.expand(xo, ctx.extra)
            if maths.has_vjp:
                if any(t is not None for t in tps):
                    raise NotImplementedError(f"forward-mode AD of {maths.spec} with respect to its parameters")
                if tx is None:
                    return torch.zeros_like(maths.f(xo, *po, **kw)).to(x.dtype)
                return maths.jvp(xo, _opmath(tx), *po, **kw).to(x.dtype)
            if any(t is not None for t in tps):
                d, *partials = maths.grads(xo, *po, **kw)
            else:
                d, partials = maths.df(xo, *po, **kw), []
            out = torch.zeros_like(xo) if tx is None else d * _opmath(tx)
            for dp, tp in zip(partials, tps):
                if tp is not None:
                    out = out + dp * _opmath(tp)
        return out.to(x.dtype)


class _ExactElementwise(_Exact):
    """`_Exact` for an elementwise entry without noise, with a written vmap rule: the batch dimension moved to the
    front of x, each batched parameter's batch dimension to the front and its logical shape right-aligned
    against x's, and the same function applied once to the whole batch. The generated rule cost about 1 ms per
    forward and backward in a model ensemble (mish trained 2.5x slower than relu in `actlab compare`)."""

    generate_vmap_rule = False

    @staticmethod
    def vmap(info: Any, in_dims: tuple, maths: Any, extra: dict, fused: bool, x: Tensor,
             *params: Tensor) -> tuple[Tensor, int]:
        """Nothing compiles here (`fused` is dropped), as nowhere under a transform. A parameter view of higher
        rank than x pads x's logical shape too, so every operand is [batch, *logical shape right-aligned]."""
        x_dim, *p_dims = in_dims[3:]
        x = x.movedim(x_dim, 0) if x_dim is not None else x.expand(info.batch_size, *x.shape)
        logical = [p.dim() - (d is not None) for p, d in zip(params, p_dims)]
        rank = max([x.dim() - 1, *logical])
        x = x.reshape(x.shape[0], *([1] * (rank - (x.dim() - 1))), *x.shape[1:])
        batched = []
        for p, d, n in zip(params, p_dims, logical):
            if d is not None:
                p = p.movedim(d, 0)
                p = p.reshape(p.shape[0], *([1] * (rank - n)), *p.shape[1:])
            batched.append(p)
        return _ExactElementwise.apply(maths, extra, False, x, *batched), 0


def _transformed(*tensors: Tensor) -> bool:
    """True inside a torch.func transform (vmap, grad, jvp, functional_call's vmap): its tensors are
    wrapped. Nothing compiles there, torch's own kernels are left to the transform, and the maths run
    out of place (`_OutOfPlace`)."""
    if torch.compiler.is_compiling():  # dynamo cannot trace the check (and handles transforms itself)
        return False
    return any(torch._C._functorch.is_functorch_wrapped_tensor(t) for t in tensors)


def _kernel_unfit(act: AbstractActivation, x: Tensor) -> bool:
    """Whether torch's own kernel (`builtin`) must give way to the exact path: in forward-mode AD
    (torch.func.jvp, jacfwd, hessian, forward_ad), whose formulas for torch's kernels are not the
    documented derivatives at the kinks (prelu'(0) is 1 there, 0.25 in its backward), and where the
    parameters are batched by a transform (an ensemble through functional_call). Outside any
    transform this costs three flag reads (~0.2 µs a call)."""
    if torch.compiler.is_compiling():
        return False
    if fwAD._current_level >= 0:
        return True
    if torch._C._functorch.maybe_current_level() is None:
        return False
    params = [getattr(act, n) for n in act.param_names] if act.builtin_reads_params else []
    return bool(params and _transformed(*params)) or any(
        i.key() == TransformType.Jvp for i in retrieve_all_functorch_interpreters())


_KEEP_IN_PLACE = frozenset({"requires_grad_", "retain_grad", "share_memory_", "fill_", "zero_", "copy_",
                            "uniform_", "normal_", "random_", "exponential_", "bernoulli_", "set_", "resize_"})


class _OutOfPlace(TorchFunctionMode):
    """The catalog's maths with every in-place op run out of place, and `out=` dropped.

    The maths overwrite their own temporaries (`x.clamp(0).square_()`) to save memory and time. Under a
    torch.func transform that is slow or impossible: functorch has no batching rule for clamp_, square_ or
    addcmul_ (it falls back to a loop over the batch, and warns), and cannot write a batched parameter's
    product into an unbatched temporary. Every in-place call in the maths uses its return value, so the
    out-of-place op computes the same values."""

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        if name.endswith("_") and not name.startswith("_") and name not in _KEEP_IN_PLACE and args \
                and isinstance(args[0], Tensor):
            pure = getattr(Tensor, name[:-1], None)
            if callable(pure):
                return pure(*args, **kwargs)
        out = kwargs.pop("out", None)
        if isinstance(out, Tensor):
            return func(*args, **kwargs).to(out.dtype)
        if out is not None:
            kwargs["out"] = out
        return func(*args, **kwargs)


def _opmath(t: Tensor) -> Tensor:
    """float16 / bfloat16 are computed in float32 (as torch's own kernels do) and rounded once at the end."""
    return t.float() if t.dtype in (torch.float16, torch.bfloat16) else t


def _cast(t: Tensor | None, like: Tensor) -> Tensor | None:
    return None if t is None else t.to(like.dtype)


_FUSED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""Compiled kernels per activation object (kept out of the module so copies never share them)."""


def fused_kernel(maths: Any, key: Any) -> Any:
    """A torch.compile'd (inductor) version of maths.f or of its backward, cached on the object.

    Compiled once per activation instance, call signature and dtype (dynamic shapes); the first
    call costs seconds of compilation, later ones run one fused loop instead of one pass per op.
    """
    cache = _FUSED.setdefault(maths, {})
    if key not in cache:
        fn: Callable[..., Any]
        if key == "f":

            def forward(x: Tensor, *params: Tensor, **kw: Any) -> Tensor:
                return maths.f(x, *params, **kw)

            fn = forward
        else:
            _, need_x, need_p = key

            def backward(g: Tensor, x: Tensor, *params: Tensor, **kw: Any) -> tuple[Tensor | None, ...]:
                return backward_terms(maths, g, x, params, need_x, need_p, kw)

            fn = backward

        # Dynamo keeps its compiled variants on the code object, at most 8 of them: a fresh code
        # object per kernel stops activations (and instances) from evicting each other.
        fn = types.FunctionType(fn.__code__.replace(), fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
        # The on-disk FX graph cache is off: in one session it served a stale kernel after the
        # maths of an activation changed (torch 2.13), and a silently wrong gradient is worse
        # than seconds of compilation per process.
        cache[key] = torch.compile(fn, dynamic=True, options={"fx_graph_cache": False})
    return cache[key]


def _compiled(maths: Any, key: Any, *args: Tensor, **kw: Any) -> Any:
    """The compiled kernel's result; None where the automatic rule chose it and compilation failed
    (warned once; that activation stays eager). A failure after `fuse(True)` is raised, and so is an
    error of the compiled code itself (out of memory, a bad shape), as eager would raise it."""
    try:
        return fused_kernel(maths, key)(*args, **kw)
    except torch._dynamo.exc.TorchDynamoException as e:  # tracing or compiling, not running
        if getattr(maths, "fused", None) is not None:
            raise
        _UNFUSABLE.add(maths)
        warnings.warn(f"actlab: compiling {maths.spec} failed, it runs eager from now on ({type(e).__name__}: "
                      f"{' '.join(str(e).split())[:200]}); actlab.auto_fuse(False) turns automatic compilation off",
                      RuntimeWarning, stacklevel=2)
        return None


class Fusion:
    """When the exact path of an entry without a torch kernel compiles itself (`auto_fuse`)."""

    enabled = os.environ.get("ACTLAB_AUTO_FUSE", "1") != "0"
    min_numel = 2**17
    """CPU: below this many elements eager is as fast: the work per call is too small to matter."""
    min_numel_cuda = 2**24
    """CUDA: a compiled call costs ~0.3 ms more than its kernels (H100, torch 2.11), as much as ~10
    eager passes at 2^22 elements: below 2^24, cheap entries (sin, square) run faster eager, and
    expensive ones (snake, acon_c) gain little."""


class auto_fuse:  # noqa: N801 - used like torch.set_grad_enabled: a call, or a `with` block
    """Automatic fusion of the exact path on or off: `actlab.auto_fuse(False)` for the process (or
    ACTLAB_AUTO_FUSE=0 in the environment), `with actlab.auto_fuse(False):` for a block.

    On (the default), an activation without a torch kernel (snake, acon_c, learnable swish, ...)
    whose input has at least `min_numel` elements (2^17 on the CPU, 2^24 on CUDA; `min_numel=` sets
    both) runs forward and backward as torch.compile'd
    kernels, where torch can compile for the device (CPU: a C++ compiler on PATH; CUDA: triton)
    and not inside a user's torch.compile (which fuses the closed forms itself). The first such
    call per activation object and dtype compiles (seconds); a failed compilation warns once and
    that activation stays eager. `act.fuse(True / False)` overrides the rule per activation.
    """

    def __init__(self, enabled: bool = True, *, min_numel: int | None = None) -> None:
        self._before = (Fusion.enabled, Fusion.min_numel, Fusion.min_numel_cuda)
        Fusion.enabled = bool(enabled)
        if min_numel is not None:
            Fusion.min_numel = Fusion.min_numel_cuda = int(min_numel)

    def __enter__(self) -> auto_fuse:
        return self

    def __exit__(self, *exc: object) -> None:
        Fusion.enabled, Fusion.min_numel, Fusion.min_numel_cuda = self._before


@functools.cache
def can_compile(device_type: str) -> bool:
    """Whether torch.compile (inductor) can build kernels for this device type here."""
    if device_type == "cpu":
        return any(shutil.which(c) for c in (os.environ.get("CXX", "g++"), "g++", "c++", "clang++"))
    if device_type == "cuda":
        from torch.utils._triton import has_triton

        return bool(has_triton())
    return False


_UNFUSABLE: weakref.WeakSet = weakref.WeakSet()
"""Activations whose compilation failed once: they stay eager (the rule is automatic, the error is not the user's)."""


def fusing(act: Any, x: Tensor) -> bool:
    """Whether this call of the exact path runs compiled kernels: `act.fused` if set, else the automatic rule."""
    if act.fused is not None:
        return bool(act.fused)
    limit = Fusion.min_numel_cuda if x.device.type == "cuda" else Fusion.min_numel
    return (Fusion.enabled and x.numel() >= limit and x.dtype.is_floating_point
            and act not in _UNFUSABLE and not torch.compiler.is_compiling() and can_compile(x.device.type))


class AbstractActivation(nn.Module, ABC):
    """Base of every actlab activation.

    Subclasses define the maths (`f`, `df` or `vjp`, `dparams`), `properties`, and call
    `super().__init__(**constructor_arguments)` so that `get_params()` round-trips:
    `type(a)(**a.get_params())` builds an equal activation.

    `param_names` lists the tensor attributes (learnable `nn.Parameter`s or fixed
    buffers) passed to the maths, in order. A tensor of one element is shared; one of C
    elements is per channel, channel dim 1 (like `torch.nn.PReLU`).
    """

    name: ClassVar[str] = ""
    param_names: ClassVar[tuple[str, ...]] = ()
    has_vjp: ClassVar[bool] = False
    elementwise_maths: ClassVar[bool] = True
    """Whether `f`, `df` and `grads` act on each element alone (no dim, no shape read): then a vmap runs them once
    on the whole batch (`_ExactElementwise`). Entries that split channels (mixed, meta_acon) say False."""
    builtin_reads_params: ClassVar[bool] = True
    """Whether `builtin` reads the parameters (prelu's slope does): where it does not (silu's builtin runs only
    for a fixed β = 1), parameters batched by a transform leave torch's kernel fit."""
    fused: bool | None = None
    """True / False: always / never run the exact path as torch.compile'd kernels (see `fuse`);
    None: decided per call by the automatic rule (`auto_fuse`)."""

    def __init__(self, **params: Any) -> None:
        super().__init__()
        self._params = dict(params)

    # --- the maths (subclasses) -------------------------------------------------
    @abstractmethod
    def f(self, x: Tensor, *p: Tensor) -> Tensor:
        """The function itself, written with differentiable torch ops (also the composite path)."""

    def df(self, x: Tensor, *p: Tensor) -> Tensor:
        """Closed-form f'(x) for elementwise activations."""
        raise NotImplementedError(f"{type(self).__name__} defines vjp, not df")

    def vjp(self, x: Tensor, g: Tensor, *p: Tensor) -> Tensor:
        """Closed-form vector-Jacobian product gᵀ ∂f/∂x (non-elementwise activations)."""
        raise NotImplementedError(f"{type(self).__name__} defines df, not vjp")

    def jvp(self, x: Tensor, t: Tensor, *p: Tensor) -> Tensor:
        """Closed-form Jacobian-vector product ∂f/∂x·t (non-elementwise activations; forward-mode AD)."""
        raise NotImplementedError(f"{type(self).__name__} has no closed-form Jacobian-vector product")

    def dparams(self, x: Tensor, *p: Tensor) -> tuple[Tensor, ...]:
        """Closed-form ∂f/∂p for each tensor in `param_names` (broadcastable against x)."""
        return ()

    def grads(self, x: Tensor, *p: Tensor, **kw: Any) -> tuple[Tensor, ...]:
        """(f', ∂f/∂p...) together; override to share intermediate results between them."""
        return (self.df(x, *p, **kw), *self.dparams(x, *p, **kw))

    def expand(self, x: Tensor, extra: dict) -> dict:
        """Keyword arguments of the maths from `_extra`'s values (e.g. noise from its seed)."""
        return extra

    @property
    @abstractmethod
    def properties(self) -> Properties:
        """Declared properties for the constructor's arguments."""

    def builtin(self, x: Tensor) -> Tensor | None:
        """f(x) through torch's own forward and backward kernels, or None where torch has none
        for this configuration (then `forward` takes the exact path).

        An override must return exactly f, with a backward equal to the closed-form f' at every
        point and kink; `check_activation` verifies both through `forward`."""
        return None

    def builtin_backward(self, g: Tensor, x: Tensor) -> Tensor | None:
        """g·f'(x) by torch's own backward kernel for the exact path's first-order backward, or None.

        For entries whose torch kernel has no double backward (hardsigmoid): forward and first
        backward run on torch's kernels, double backward on the closed forms."""
        return None

    # --- the public surface -----------------------------------------------------
    def forward(self, x: Tensor) -> Tensor:
        if self.fused is not True and not _kernel_unfit(self, x):
            y = self.builtin(x)
            if y is not None:
                return y
        return self.exact(x)

    def exact(self, x: Tensor) -> Tensor:
        """f(x) on the exact path (closed-form backward), even where a built-in kernel exists.

        A stochastic entry inside a torch.func transform draws its noise from torch's generator (vmap's
        `randomness=` decides) and runs its maths through autograd: there is no seed to redraw it from."""
        extra, params = self._extra(x), self.param_views(x)
        if extra.get("seed", 0) is None:
            xo = _opmath(x)
            with _OutOfPlace():
                return self.f(xo, *(_opmath(p) for p in params), **self.expand(xo, extra)).to(x.dtype)
        function = _ExactElementwise if not extra and not self.has_vjp and self.elementwise_maths else _Exact
        return function.apply(self, extra, fusing(self, x), x, *params)

    def fuse(self, enabled: bool | None = True) -> AbstractActivation:
        """Compile forward and backward into fused kernels with torch.compile (inductor): True
        always, False never, None by the automatic rule (`auto_fuse`, the default).

        Costs seconds of compilation on the first call per dtype; then forward + backward run
        at about the cost of torch's own fused activations. Double backward keeps the eager
        closed forms. Entries with a torch kernel (`builtin`) run on it unless fused is True.
        Returns self.
        """
        self.fused = enabled
        return self

    def composite(self, x: Tensor) -> Tensor:
        """The same function through plain autograd (for export and for comparison)."""
        return self.f(x, *self.param_views(x), **self.expand(x, self._extra(x)))

    @torch.no_grad()
    def derivative(self, x: Tensor) -> Tensor:
        """Closed-form f'(x), same shape as x (not autograd).

        For non-elementwise activations this is ∂(Σ f(x))/∂x, the vector-Jacobian product
        with ones, which equals f'(x) for elementwise ones.
        """
        xo = _opmath(x)
        p, extra = tuple(_opmath(t) for t in self.param_views(x)), self.expand(xo, self._extra(x))
        if self.has_vjp:
            return self.vjp(xo, torch.ones_like(self.f(xo, *p, **extra)), *p, **extra).to(x.dtype)
        d = self.df(xo, *p, **extra)
        if d.shape != x.shape or d.dtype != x.dtype:
            return d.expand_as(x).to(x.dtype).clone()  # broadcast constants, fp16/bf16 rounding: a fresh tensor
        # a df computed from x is already a fresh tensor; copy only what could alias x or a parameter
        return d if d._base is None and d.data_ptr() not in _shared(x, p) else d.clone()

    def get_params(self) -> dict[str, Any]:
        """The constructor arguments (round-trippable)."""
        return dict(self._params)

    @property
    def spec(self) -> str:
        """A spec string that `actlab.create` turns back into an equal activation."""
        return spec_of(self)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self._params.items())

    # --- helpers for subclasses ---------------------------------------------------
    def _extra(self, x: Tensor) -> dict[str, Any]:
        """Non-tensor values fixed at forward time (e.g. a noise seed); see `expand`."""
        return {}

    def param_views(self, x: Tensor) -> tuple[Tensor, ...]:
        """Parameter tensors shaped to broadcast against x (per channel on dim 1)."""
        return tuple(_channel_view(getattr(self, n), x, n) for n in self.param_names)

    def _make_param(self, name: str, init: float, num_parameters: int, learnable: bool) -> None:
        """A learnable nn.Parameter (default dtype), or a fixed buffer kept in float64 so that
        constants such as quick_gelu's 1.702 stay exact until the input's dtype is known."""
        if learnable:
            self.register_parameter(name, nn.Parameter(torch.full((num_parameters,), float(init))))
        else:
            self.register_buffer(name, torch.full((num_parameters,), float(init), dtype=torch.float64))

    def _learnable(self) -> tuple[str, ...]:
        """The learnable ones among `param_names` (also under `functional_call`, which puts plain tensors
        in the module's parameter slots)."""
        return tuple(n for n in self.param_names if n in self._parameters)


def _shared(x: Tensor, params: tuple[Tensor, ...]) -> set[int]:
    """Storage addresses a derivative must not hand back uncopied: the input's and the parameters'."""
    return {x.data_ptr(), *(t.data_ptr() for t in params)}


def _channel_view(p: Tensor, x: Tensor, name: str) -> Tensor:
    p = p.to(x.dtype)
    if p.numel() == 1:
        return p.reshape(())
    if x.dim() < 2 or x.shape[1] != p.numel():
        raise ParameterError(
            f"{name} has {p.numel()} channels but the input has shape {tuple(x.shape)}: "
            f"per-channel parameters need the channels on dim 1"
        )
    return p.reshape((1, -1) + (1,) * (x.dim() - 2))
