"""Formulas as activations: `expr:x*sigmoid(x)`.

A whitelist compiler over Python's `ast`: numbers, `x`, `pi`, `e`, + − * / **, unary minus,
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

Fn = Callable[[Tensor], Tensor]

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


def compile_formula(text: str) -> Fn:
    """Check `text` against the whitelist and return f(x) built from torch functions."""
    text, tree = parse_expression(text, "formula", MAX_LENGTH, "write a function of x, e.g. 'x*sigmoid(x)'")
    nodes = sum(1 for _ in ast.walk(tree))
    if nodes > MAX_NODES:
        raise SpecError(f"formula has {nodes} syntax nodes; at most {MAX_NODES} are allowed")
    return _Compiler(text).build(tree, 0)


def _constant(value: float) -> Fn:
    """The constant function, in x's dtype: 1e308 is inf in float32, as torch rounds it."""
    return lambda x: torch.full_like(x, _in_dtype(value, x.dtype))


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
    def __init__(self, text: str) -> None:
        self.text = text

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
                return lambda x: x
            if node.id in _CONSTANTS:
                return _constant(_CONSTANTS[node.id])
            raise self.reject(node, "the only names are x, pi and e")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = self.build(node.operand, depth + 1)
            return (lambda x: -inner(x)) if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            op = _BINOPS[type(node.op)]
            left, right = self.build(node.left, depth + 1), self.build(node.right, depth + 1)
            return lambda x: op(left(x), right(x))
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
            return lambda x: torch.where(cond(x), a(x), b(x))
        args = [self.build(a, depth + 1) for a in node.args]
        if name == "clamp":
            return lambda x: torch.maximum(torch.minimum(args[0](x), args[2](x)), args[1](x))
        return lambda x: impl(*(a(x) for a in args))

    def condition(self, node: ast.AST, depth: int) -> Callable[[Tensor], Tensor]:
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE):
            raise self.reject(node, "where's condition is one comparison, e.g. where(x > 0, x, 0.1*x)")
        op = _COMPARE[type(node.ops[0])]
        left, right = self.build(node.left, depth + 1), self.build(node.comparators[0], depth + 1)
        return lambda x: op(left(x), right(x))


class Expression(AbstractActivation):
    """An activation given by a formula in x; f' by autograd; nothing declared (the analyser measures)."""

    def __init__(self, formula: str = "x") -> None:
        super().__init__(formula=formula)
        self.formula = formula.strip() if isinstance(formula, str) else formula
        self._fn = compile_formula(self.formula)

    def f(self, x: Tensor) -> Tensor:
        return self._fn(x)

    def exact(self, x: Tensor) -> Tensor:
        """The formula through autograd as written (a formula has no closed-form backward)."""
        if x.dtype in (torch.float16, torch.bfloat16):  # computed in float32, rounded once
            return self._fn(x.float()).to(x.dtype)
        return self._fn(x)

    def composite(self, x: Tensor) -> Tensor:
        return self._fn(x)

    @torch.no_grad()
    def derivative(self, x: Tensor) -> Tensor:
        with torch.enable_grad():
            xg = x.detach().requires_grad_(True)
            y = self.forward(xg)
            if not y.requires_grad:  # a formula that does not depend on x ('1', 'where(x > 0, 1, -1)')
                return torch.zeros_like(x)
            (d,) = torch.autograd.grad(y.sum(), xg, allow_unused=True)
        return torch.zeros_like(x) if d is None else d

    def df(self, x: Tensor) -> Tensor:
        return self.derivative(x)

    @property
    def spec(self) -> str:
        return f"expr:{self.formula}"

    @property
    def properties(self) -> Properties:
        return Properties(formula=self.formula, derivative_formula="autograd of the formula", range=(-INF, INF),
                          monotonic=False, zero_centered=False, reference="user formula", declared=False)


register_prefix("expr:", Expression)
