"""Ramachandran, Zoph and Le's search space (2017, "Searching for Activation Functions", §3): core units
b(u1(x), u2(x)) of 25 unary and 10 binary functions, written as actlab formulas with learnable β's, enumerated,
screened by what the analyser measures, and grouped into classes of equal functions.

Each β is its own learnable parameter (`b1` in u1, `b2` in u2, `b3` in b), initialised at 1; ε = 1e-3. The
paper's sinc is sin(x)/x (torch's `sinc` is the normalised one, so it is written `sinc(x/pi)`).

Screening, each rejection counted by its reason, in this order: not finite (a value or a derivative on the
working range [−6, 6] is nan or infinite: √x and log of a negative, ...), constant, linear (nothing
non-linear to learn), exploding derivative (|f'| > EXPLODING somewhere on the working range at
initialisation), duplicate (equal, within `equivalence.TOL`, to a class already kept: x·σ(x) and σ(x)·x). A kept
class equal to a catalog entry carries that entry's name (x·σ(x) is silu).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from actlab.analysis import equivalence

UNARY: dict[str, str] = {
    "x": "{x}", "-x": "(-{x})", "|x|": "abs({x})", "x^2": "({x})**2", "x^3": "({x})**3", "sqrt(x)": "sqrt({x})",
    "b*x": "{b}*{x}", "x+b": "({x} + {b})", "log(|x|+eps)": "log(abs({x}) + 0.001)", "exp(x)": "exp({x})",
    "sin(x)": "sin({x})", "cos(x)": "cos({x})", "sinh(x)": "sinh({x})", "cosh(x)": "cosh({x})",
    "tanh(x)": "tanh({x})", "asinh(x)": "asinh({x})", "atan(x)": "atan({x})", "sinc(x)": "sinc({x}/pi)",
    "max(x,0)": "max({x}, 0)", "min(x,0)": "min({x}, 0)", "sigmoid(x)": "sigmoid({x})",
    "log(1+exp(x))": "softplus({x})", "exp(-x^2)": "exp(-({x})**2)", "erf(x)": "erf({x})", "b": "{b}",
}
"""The paper's 25 unary functions: label → formula template ({x} the argument, {b} its own β)."""
BINARY: dict[str, str] = {
    "x1+x2": "({p} + {q})", "x1*x2": "({p})*({q})", "x1-x2": "({p} - ({q}))", "x1/(x2+eps)": "({p})/(({q}) + 0.001)",
    "max(x1,x2)": "max({p}, {q})", "min(x1,x2)": "min({p}, {q})", "sigmoid(x1)*x2": "sigmoid({p})*({q})",
    "exp(-b(x1-x2)^2)": "exp(-{b}*(({p}) - ({q}))**2)", "exp(-b|x1-x2|)": "exp(-{b}*abs(({p}) - ({q})))",
    "b*x1+(1-b)*x2": "({b}*({p}) + (1 - {b})*({q}))",
}
"""The paper's 10 binary functions: label → formula template ({p}, {q} the unary results, {b} its β)."""
PUBLISHED: dict[str, str] = {
    "x·σ(βx)": "expr:x*sigmoid(b*x); b=1.0", "max(x, σ(x))": "expr:max(x, sigmoid(x))",
    "cos(x) − x": "expr:cos(x) - x",
    "min(x, sin(x))": "expr:min(x, sin(x))", "(tan⁻¹x)² − x": "expr:atan(x)**2 - x",
    "max(x, tanh(x))": "expr:max(x, tanh(x))", "sinc(x) + x": "expr:sinc(x/pi) + x",
    "x·(sinh⁻¹x)²": "expr:x*asinh(x)**2"}
"""The paper's published top functions (its Table 1 and Figure 3) as actlab formulas. The first six are one core
unit; (tan⁻¹x)² − x and x·(sinh⁻¹x)² need two (a square of a unary function). A search finds one where a class it
kept has the same signature (at β = 1)."""
PRETTY_UNARY: dict[str, str] = {
    "x": "{x}", "-x": "−{x}", "|x|": "|{x}|", "x^2": "{x}²", "x^3": "{x}³", "sqrt(x)": "√{x}", "b*x": "β{x}",
    "x+b": "({x} + β)", "log(|x|+eps)": "log(|{x}| + ε)", "exp(x)": "exp({x})", "sin(x)": "sin {x}",
    "cos(x)": "cos {x}", "sinh(x)": "sinh {x}", "cosh(x)": "cosh {x}", "tanh(x)": "tanh {x}", "asinh(x)": "sinh⁻¹ {x}",
    "atan(x)": "tan⁻¹ {x}", "sinc(x)": "sinc {x}", "max(x,0)": "max({x}, 0)", "min(x,0)": "min({x}, 0)",
    "sigmoid(x)": "σ({x})", "log(1+exp(x))": "log(1 + e^{x})", "exp(-x^2)": "exp(−{x}²)", "erf(x)": "erf {x}",
    "b": "β"}
PRETTY_BINARY: dict[str, str] = {
    "x1+x2": "{p} + {q}", "x1*x2": "{p}·{q}", "x1-x2": "{p} − {q}", "x1/(x2+eps)": "{p} / ({q} + ε)",
    "max(x1,x2)": "max({p}, {q})", "min(x1,x2)": "min({p}, {q})", "sigmoid(x1)*x2": "σ({p})·{q}",
    "exp(-b(x1-x2)^2)": "exp(−β({p} − {q})²)", "exp(-b|x1-x2|)": "exp(−β|{p} − {q}|)",
    "b*x1+(1-b)*x2": "β{p} + (1 − β){q}"}
"""How a candidate reads in the report: the paper's notation (β learnable, ε = 10⁻³)."""


def pretty(b: str, u1: str, u2: str, inner: str = "x") -> str:
    """b(u1(inner), u2(x)) in the paper's notation (`inner` wrapped in parentheses where it is not x)."""
    template = PRETTY_UNARY[u1]
    bare = inner == "x" or "({x}" in template or "|{x}|" in template
    p, q = template.format(x=inner if bare else f"({inner})"), PRETTY_UNARY[u2].format(x="x")
    wrap = b in ("x1*x2", "sigmoid(x1)*x2", "b*x1+(1-b)*x2")
    if wrap:  # a sum or difference inside a product reads with its parentheses
        p, q = (f"({v})" if (" + " in v or " − " in v) and not v.startswith("(") else v for v in (p, q))
    return PRETTY_BINARY[b].format(p=p, q=q)


WORKING = (-6.0, 6.0)
EXPLODING = 1e3


@dataclass(frozen=True)
class Candidate:
    u1: str
    u2: str
    b: str

    @property
    def label(self) -> str:
        return f"{self.b}[{self.u1}, {self.u2}]"

    @property
    def formula(self) -> str:
        """The candidate in the paper's notation: σ(βx)·x for sigmoid(x1)*x2[b*x, x]."""
        return pretty(self.b, self.u1, self.u2)

    @property
    def spec(self) -> str:
        """The candidate as an `expr:` spec with its learnable β's (b1, b2, b3 at 1)."""
        a = UNARY[self.u1].format(x="x", b="b1")
        c = UNARY[self.u2].format(x="x", b="b2")
        formula = BINARY[self.b].format(p=a, q=c, b="b3")
        names = [n for n in ("b1", "b2", "b3") if n in formula]
        return "expr:" + formula + ("; " + ", ".join(f"{n}=1.0" for n in names) if names else "")


    @property
    def units(self) -> int:
        return 1

    @property
    def uses_x(self) -> bool:
        """The form b(x, g(x)) or b(g(x), x): one argument of the binary function is x itself."""
        return "x" in (self.u1, self.u2)


@dataclass(frozen=True)
class TwoUnit:
    """Two core units: b(u1(c(x)), u2(x)) with c a one-unit candidate (its β's b1–b3, this unit's b4–b6)."""

    inner: Candidate
    u1: str
    u2: str
    b: str

    @property
    def label(self) -> str:
        return f"{self.b}[{self.u1}∘{self.inner.label}, {self.u2}]"

    @property
    def formula(self) -> str:
        return pretty(self.b, self.u1, self.u2, inner=self.inner.formula)

    @property
    def spec(self) -> str:
        inner = self.inner.spec[5:].split(";")[0]
        a = UNARY[self.u1].format(x=f"({inner})", b="b4")
        c = UNARY[self.u2].format(x="x", b="b5")
        formula = BINARY[self.b].format(p=a, q=c, b="b6")
        names = [n for n in ("b1", "b2", "b3", "b4", "b5", "b6") if n in formula]
        return "expr:" + formula + ("; " + ", ".join(f"{n}=1.0" for n in names) if names else "")

    @property
    def units(self) -> int:
        return 2

    @property
    def uses_x(self) -> bool:
        return self.u2 == "x"


Unit = Candidate | TwoUnit

SPACES = ("one-unit", "x-paired")
"""one-unit: all 6 250 core units; x-paired: the 490 with x as one argument of b (b(x, u(x)), b(u(x), x))."""


def one_unit(space: str = "one-unit") -> Iterator[Candidate]:
    """Every one-unit candidate b(u1(x), u2(x)): 25 × 25 × 10 = 6 250 (x-paired: those with u1 or u2 = x)."""
    for b in BINARY:
        for u1 in UNARY:
            for u2 in UNARY:
                c = Candidate(u1, u2, b)
                if space == "one-unit" or c.uses_x:
                    yield c


def two_unit(n: int, seed: int) -> list[TwoUnit]:
    """`n` two-unit candidates drawn uniformly (with numpy's generator seeded by `seed`; repeats dropped)."""
    rng = np.random.default_rng(seed)
    u, b = list(UNARY), list(BINARY)
    out: dict[TwoUnit, None] = {}
    for _ in range(20 * n):
        if len(out) >= n:
            break
        i = rng.integers(0, [len(u), len(u), len(b), len(u), len(u), len(b)])
        out[TwoUnit(Candidate(u[i[0]], u[i[1]], b[i[2]]), u[i[3]], u[i[4]], b[i[5]])] = None
    return list(out)


def parameters(spec: str) -> int:
    """The learnable β's a candidate's spec names."""
    return spec.count("=1.0")


@dataclass
class Kept:
    """One class of equal functions: its representative (the member with the fewest units, then the fewest β's,
    then the first enumerated), every member, the catalog entry it equals, its signature."""

    representative: Unit
    members: list[Unit] = field(default_factory=list)
    catalog: str = ""
    signature: equivalence.Signature | None = None


@dataclass
class Screened:
    enumerated: int
    kept: list[Kept]
    rejected: Counter
    """reason → count (not finite, constant, linear, exploding derivative, duplicate)."""

    def find(self, spec: str) -> Kept | None:
        """The kept class a formula belongs to (by its signature), if any."""
        s = equivalence.signature(spec)
        if s is None:
            return None
        return next((k for k in self.kept if k.signature is not None and s.difference(k.signature) <= equivalence.TOL),
                    None)


def reason(sig: equivalence.Signature | None) -> str:
    """Why a candidate is rejected before training ('' if it is kept), from its signature on the grid."""
    if sig is None:
        return "not finite"
    inside = (equivalence.GRID >= WORKING[0]) & (equivalence.GRID <= WORKING[1])
    v, d = sig.values[inside], sig.derivatives[inside]
    if not (np.isfinite(v).all() and np.isfinite(d).all()):
        return "not finite"
    if np.ptp(v) <= 1e-9 * (1 + np.abs(v).max()):
        return "constant"
    if np.ptp(d) <= 1e-7 * (1 + np.abs(d).max()):
        return "linear"
    if np.abs(d).max() > EXPLODING:
        return "exploding derivative"
    return ""


def screen(candidates: list[Unit]) -> Screened:
    """Filter and group: every candidate's signature, each rejection counted, equal functions one class."""
    rejected: Counter = Counter()
    kept: list[Kept] = []
    index: dict[bytes, list[tuple[equivalence.Signature, Kept]]] = {}
    for c in candidates:
        sig = equivalence.signature(c.spec)
        why = reason(sig)
        if why:
            rejected[why] += 1
            continue
        assert sig is not None
        # a coarse bucket (5 values to 2 decimals; + 0.0 makes −0.0 and 0.0 one key); equality is decided by
        # `difference` within the bucket, so a pair split by a rounding boundary would stay two classes
        key = (np.round(sig.values[::60], 2) + 0.0).tobytes()
        bucket = index.setdefault(key, [])
        same = next((k for s, k in bucket if sig.difference(s) <= equivalence.TOL), None)
        if same is not None:
            same.members.append(c)
            rejected["duplicate"] += 1
            continue
        k = Kept(c, [c], signature=sig)
        bucket.append((sig, k))
        kept.append(k)
    for k in kept:
        k.representative = min(k.members, key=lambda m: (m.units, parameters(m.spec)))
        m = equivalence.match(k.representative.spec)
        k.catalog = m.name if m else ""
    return Screened(len(candidates), kept, rejected)


def canonical(spec: str) -> str:
    """A readable canonical form of a formula spec by sympy: its own automatic canonicalisation, then the shortest
    (fewest operations, then fewest characters) of the expression, `together`, `cancel`, `factor_terms` and
    `powsimp` of it. Deterministic and bounded (a few ms per search candidate): `sympy.simplify` took seconds on
    some two-unit candidates, and a timer around it made the report depend on the machine's load. x*sigmoid(x) and
    sigmoid(x)*x both read 'x/(1 + exp(-x))'. The formula is first checked by actlab's whitelist (building it),
    then read into sympy through the same names: torch's normalised sinc(u) is sin(pi*u)/(pi*u); where(c, a, b) a
    Piecewise."""
    import ast

    import sympy as sp

    from actlab.catalog.expression import Expression, split_parameters

    Expression(spec[5:] if spec.startswith("expr:") else spec)  # the whitelist: nothing else is read below
    formula, values, _ = split_parameters(spec[5:] if spec.startswith("expr:") else spec)
    x = sp.Symbol("x", real=True)
    names = {"x": x, "pi": sp.pi, "e": sp.E, **{n: sp.Symbol(n, real=True) for n in values},
             "exp": sp.exp, "log": sp.log, "log1p": lambda u: sp.log(1 + u), "expm1": lambda u: sp.exp(u) - 1,
             "sqrt": sp.sqrt, "abs": sp.Abs, "sign": sp.sign, "sin": sp.sin, "cos": sp.cos, "tan": sp.tan,
             "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh, "asinh": sp.asinh, "atan": sp.atan, "erf": sp.erf,
             "erfc": sp.erfc, "sigmoid": lambda u: 1 / (1 + sp.exp(-u)), "softplus": lambda u: sp.log(1 + sp.exp(u)),
             "relu": lambda u: sp.Max(u, 0), "gelu": lambda u: u * (1 + sp.erf(u / sp.sqrt(2))) / 2,
             "silu": lambda u: u / (1 + sp.exp(-u)), "sinc": lambda u: sp.sin(sp.pi * u) / (sp.pi * u), "min": sp.Min,
             "max": sp.Max, "clamp": lambda u, lo, hi: sp.Min(sp.Max(u, lo), hi),
             "where": lambda c, a, b: sp.Piecewise((a, c), (b, True))}
    tree = ast.parse(formula, mode="eval")
    expr = eval(compile(tree, "<formula>", "eval"), {"__builtins__": {}}, names)  # noqa: S307 (whitelisted above)

    forms = [expr, *(f(expr) for f in (sp.together, sp.cancel, sp.factor_terms, sp.powsimp))]
    ranked = sorted((sp.count_ops(f), len(sp.sstr(f)), sp.sstr(f)) for f in forms)
    return ranked[0][2]
