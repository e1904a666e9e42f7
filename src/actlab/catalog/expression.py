"""Formulas as activations: `expr:x*sigmoid(x)`, and with learnable parameters `expr:x*sigmoid(beta*x); beta=1`.

Parameters follow the formula after a semicolon, each `name=initial value`, and optionally `num_parameters=C`
(one value per channel, channel dim 1, as the catalog's learnable entries): each becomes an `nn.Parameter`
(`act.beta`), trained with the model; `act.spec` gives the formula with the initial values back. A name is a
Python identifier other than x, pi, e and the functions; at most MAX_PARAMETERS of them.

A whitelist compiler over Python's `ast`: numbers, `x`, `pi`, `e`, the parameters, + − * / **, unary minus,
parentheses, and calls to a fixed table of functions mapped to torch. `where(cond, a, b)`
takes one comparison (<, <=, >, >=, ==, !=) as its condition. No attribute access, no other
names, no keyword arguments, bounded length, node count and depth. Nothing is evaluated
while parsing: the tree is checked, then turned into a closure over torch functions.

A formula is a real activation (an `AbstractActivation`, usable wherever a name is) whose
derivative comes from autograd; it declares nothing (`properties.declared` is False) and the
analyser measures it.
"""

from __future__ import annotations

import ast
import functools
import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from actlab.core.activation import AbstractActivation
from actlab.core.errors import SpecError
from actlab.core.properties import INF, Properties
from actlab.core.registry import register_prefix
from actlab.core.spec import parse_expression

MAX_LENGTH, MAX_NODES, MAX_DEPTH = 1000, 200, 30
MAX_PARAMETERS, MAX_CHANNELS = 8, 1 << 20

Fn = Callable[..., Tensor]
"""f(x, params): params maps each parameter's name to its tensor (broadcast against x)."""

# name -> (number of arguments, implementation)
FUNCTIONS: dict[str, tuple[int, Callable[..., Tensor]]] = {
    "exp": (1, torch.exp), "log": (1, torch.log), "log1p": (1, torch.log1p), "expm1": (1, torch.expm1),
    "sqrt": (1, torch.sqrt), "abs": (1, torch.abs), "sign": (1, torch.sign),
    "sin": (1, torch.sin), "cos": (1, torch.cos), "tan": (1, torch.tan),
    "sinh": (1, torch.sinh), "cosh": (1, torch.cosh), "tanh": (1, torch.tanh),
    "asinh": (1, torch.asinh), "atan": (1, torch.atan), "erf": (1, torch.erf), "erfc": (1, torch.erfc),
    "sigmoid": (1, torch.sigmoid), "softplus": (1, F.softplus), "relu": (1, torch.relu),
    "gelu": (1, F.gelu), "silu": (1, F.silu), "sinc": (1, torch.sinc),
    "min": (2, torch.minimum), "max": (2, torch.maximum), "clamp": (3, torch.clamp),
    "where": (3, torch.where),
}
_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: torch.add, ast.Sub: torch.sub, ast.Mult: torch.mul, ast.Div: torch.div, ast.Pow: torch.pow,
}
_COMPARE: dict[type, Callable[[Any, Any], Tensor]] = {
    ast.Lt: torch.lt, ast.LtE: torch.le, ast.Gt: torch.gt, ast.GtE: torch.ge, ast.Eq: torch.eq, ast.NotEq: torch.ne,
}
_CONSTANTS = {"pi": math.pi, "e": math.e}


def compile_formula(text: str, params: tuple[str, ...] = ()) -> Fn:
    """Check `text` against the whitelist and return f(x, params) built from torch functions."""
    text, tree = parse_expression(text, "formula", MAX_LENGTH, "write a function of x, e.g. 'x*sigmoid(x)'")
    nodes = sum(1 for _ in ast.walk(tree))
    if nodes > MAX_NODES:
        raise SpecError(f"formula has {nodes} syntax nodes; at most {MAX_NODES} are allowed")
    compiler = _Compiler(text, params)
    fn = compiler.build(tree, 0)
    unused = [p for p in params if p not in compiler.used]
    if unused:
        raise SpecError(f"parameter {unused[0]!r} does not appear in the formula {text!r}")
    return fn


def split_parameters(source: object) -> tuple[str, dict[str, float], int]:
    """'x*sigmoid(beta*x); beta=1, num_parameters=3' → ('x*sigmoid(beta*x)', {'beta': 1.0}, 3)."""
    if not isinstance(source, str):
        raise SpecError(f"a formula must be a string, got {type(source).__name__}")
    formula, _, rest = source.partition(";")
    values: dict[str, float] = {}
    channels = 1
    for part in filter(None, (p.strip() for p in rest.split(","))):
        name, eq, value = (s.strip() for s in part.partition("="))
        if not eq or not name.isidentifier():
            raise SpecError(f"formula parameters are written name=value after ';' (e.g. 'x*sigmoid(beta*x); "
                            f"beta=1'), got {part!r}")
        if name in values:
            raise SpecError(f"formula parameter {name!r} is given twice")
        if name == "num_parameters":
            if not value.isdigit() or not 1 <= int(value) <= MAX_CHANNELS:
                raise SpecError(f"num_parameters must be an integer from 1 to {MAX_CHANNELS}, got {value!r}")
            channels = int(value)
            continue
        if name == "x" or name in _CONSTANTS or name in FUNCTIONS:
            raise SpecError(f"{name!r} cannot name a parameter (x, pi, e and the functions are taken)")
        try:
            values[name] = float(value)
        except ValueError:
            raise SpecError(f"formula parameter {name!r}: expected a number, got {value!r}") from None
        if not math.isfinite(values[name]):
            raise SpecError(f"formula parameter {name!r}: expected a finite number, got {value!r}")
    if len(values) > MAX_PARAMETERS:
        raise SpecError(f"a formula takes at most {MAX_PARAMETERS} parameters, got {len(values)}")
    if channels > 1 and not values:
        raise SpecError("num_parameters needs parameters (e.g. 'x*sigmoid(beta*x); beta=1, num_parameters=8')")
    return formula.strip(), values, channels


def _constant(value: float) -> Fn:
    """The constant function, in x's dtype: 1e308 is inf in float32, as torch rounds it."""
    return lambda x, p: torch.full_like(x, _in_dtype(value, x.dtype))


@functools.lru_cache(maxsize=1024)
def _in_dtype(value: float, dtype: torch.dtype) -> float:
    if not dtype.is_floating_point:
        return value
    return torch.tensor(value, dtype=torch.float64).to(dtype).item()


def _float(value: float) -> float:
    """A number literal as float64: an integer literal beyond its range is inf, like 1e999."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


class _Compiler:
    def __init__(self, text: str, params: tuple[str, ...] = ()) -> None:
        self.text, self.params = text, params
        self.used: set[str] = set()

    def reject(self, node: ast.AST, why: str) -> SpecError:
        start = getattr(node, "col_offset", 0)
        end = getattr(node, "end_col_offset", None) or len(self.text)
        marked = f"{self.text[:start]}»{self.text[start:end]}«{self.text[end:]}"
        return SpecError(f"rejected {self.text[start:end]!r} at column {start + 1} of the formula {marked}: {why}")

    def build(self, node: ast.AST, depth: int) -> Fn:
        if depth > MAX_DEPTH:
            raise self.reject(node, f"nesting deeper than {MAX_DEPTH}")
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return _constant(_float(node.value))
        if isinstance(node, ast.Name):
            if node.id == "x":
                return lambda x, p: x
            if node.id in _CONSTANTS:
                return _constant(_CONSTANTS[node.id])
            if node.id in self.params:
                self.used.add(node.id)
                name = node.id
                return lambda x, p: p[name]
            known = ["x", "pi", "e", *self.params]
            names = ", ".join(known[:-1]) + " and " + known[-1]
            raise self.reject(node, f"the only names are {names} (parameters are declared after ';', e.g. "
                                    "'x*sigmoid(beta*x); beta=1')")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = self.build(node.operand, depth + 1)
            return (lambda x, p: -inner(x, p)) if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            op = _BINOPS[type(node.op)]
            left, right = self.build(node.left, depth + 1), self.build(node.right, depth + 1)
            return lambda x, p: op(left(x, p), right(x, p))
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        allowed = "numbers, x, pi, e, + - * / **, and the functions " + ", ".join(sorted(FUNCTIONS))
        raise self.reject(node, f"not allowed in a formula; allowed: {allowed}")

    def call(self, node: ast.Call, depth: int) -> Fn:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise self.reject(node.func, "unknown function; allowed: " + ", ".join(sorted(FUNCTIONS)))
        name = node.func.id
        arity, impl = FUNCTIONS[name]
        if node.keywords or len(node.args) != arity:
            raise self.reject(node, f"{name} takes {arity} positional argument{'s' if arity > 1 else ''}")
        if name == "where":
            cond = self.condition(node.args[0], depth + 1)
            a, b = self.build(node.args[1], depth + 1), self.build(node.args[2], depth + 1)
            return lambda x, p: torch.where(cond(x, p), a(x, p), b(x, p))
        args = [self.build(a, depth + 1) for a in node.args]
        if name == "clamp":
            return lambda x, p: torch.maximum(torch.minimum(args[0](x, p), args[2](x, p)), args[1](x, p))
        return lambda x, p: impl(*(a(x, p) for a in args))

    def condition(self, node: ast.AST, depth: int) -> Fn:
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE):
            raise self.reject(node, "where's condition is one comparison, e.g. where(x > 0, x, 0.1*x)")
        op = _COMPARE[type(node.ops[0])]
        left, right = self.build(node.left, depth + 1), self.build(node.comparators[0], depth + 1)
        return lambda x, p: op(left(x, p), right(x, p))


class Expression(AbstractActivation):
    """An activation given by a formula in x, with learnable parameters if it names any; f' by autograd;
    nothing declared (the analyser measures)."""

    def __init__(self, formula: str = "x") -> None:
        super().__init__(formula=formula)
        text, values, channels = split_parameters(formula)
        self.formula, self.initial, self.channels = text, values, channels
        self.param_names = tuple(values)  # type: ignore[misc]  # per instance: the formula's own names
        self._fn = compile_formula(text, self.param_names)
        for name, value in values.items():
            self._make_param(name, value, channels, learnable=True)

    def f(self, x: Tensor, *p: Tensor) -> Tensor:
        return self._fn(x, dict(zip(self.param_names, p)))

    def exact(self, x: Tensor) -> Tensor:
        """The formula through autograd as written (a formula has no closed-form backward)."""
        if x.dtype in (torch.float16, torch.bfloat16):  # computed in float32, rounded once
            xf = x.float()
            return self._fn(xf, dict(zip(self.param_names, self.param_views(xf)))).to(x.dtype)
        return self._fn(x, dict(zip(self.param_names, self.param_views(x))))

    def composite(self, x: Tensor) -> Tensor:
        return self.exact(x)

    @torch.no_grad()
    def derivative(self, x: Tensor) -> Tensor:
        with torch.enable_grad():
            xg = x.detach().requires_grad_(True)
            y = self.forward(xg)
            if not y.requires_grad:  # a formula that does not depend on x ('1', 'where(x > 0, 1, -1)')
                return torch.zeros_like(x)
            (d,) = torch.autograd.grad(y.sum(), xg, allow_unused=True)
        return torch.zeros_like(x) if d is None else d

    def df(self, x: Tensor, *p: Tensor) -> Tensor:
        return self.derivative(x)

    @property
    def spec(self) -> str:
        if not self.initial:
            return f"expr:{self.formula}"
        values = ", ".join(f"{k}={v!r}" for k, v in self.initial.items())
        return f"expr:{self.formula}; {values}" + (f", num_parameters={self.channels}" if self.channels > 1 else "")

    @property
    def properties(self) -> Properties:
        return Properties(formula=self.formula, derivative_formula="autograd of the formula", range=(-INF, INF),
                          monotonic=False, zero_centered=False, reference="user formula", declared=False,
                          learnable=self._learnable())


register_prefix("expr:", Expression)
