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
PUBLISHED = {"x*sigmoid(b*x)": ("x", "b*x", "sigmoid(x1)*x2"), "max(x, sigmoid(x))": ("x", "sigmoid(x)", "max(x1,x2)"),
             "cos(x) - x": ("cos(x)", "x", "x1-x2"), "min(x, sin(x))": ("x", "sin(x)", "min(x1,x2)"),
             "atan(x)^2 - x": ("x^2", "x", "x1-x2"), "max(x, tanh(x))": ("x", "tanh(x)", "max(x1,x2)"),
             "sinc(x) + x": ("sinc(x)", "x", "x1+x2"), "x*asinh(x)^2": ("x", "x^2", "x1*x2")}
"""The paper's published top functions (its Table 1 and Figure 3) as (u1, u2, b) of this space where they
are one core unit; (tan⁻¹x)² − x and x·(sinh⁻¹x)² need a nested unit: listed by their nearest core unit's
labels only for reference (`published` resolves the exact formula through the screen's classes)."""
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
    def spec(self) -> str:
        """The candidate as an `expr:` spec with its learnable β's (b1, b2, b3 at 1)."""
        a = UNARY[self.u1].format(x="x", b="b1")
        c = UNARY[self.u2].format(x="x", b="b2")
        formula = BINARY[self.b].format(p=a, q=c, b="b3")
        names = [n for n in ("b1", "b2", "b3") if n in formula]
        return "expr:" + formula + ("; " + ", ".join(f"{n}=1.0" for n in names) if names else "")


def one_unit() -> Iterator[Candidate]:
    """Every one-unit candidate b(u1(x), u2(x)): 25 × 25 × 10 = 6 250."""
    for b in BINARY:
        for u1 in UNARY:
            for u2 in UNARY:
                yield Candidate(u1, u2, b)


@dataclass
class Kept:
    """One class of equal functions: its first candidate, every member, the catalog entry it equals."""

    representative: Candidate
    members: list[Candidate] = field(default_factory=list)
    catalog: str = ""


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
        for k in self.kept:
            ref = equivalence.signature(k.representative.spec)
            if ref is not None and s.difference(ref) <= equivalence.TOL:
                return k
        return None


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


def screen(candidates: list[Candidate]) -> Screened:
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
        k = Kept(c, [c])
        bucket.append((sig, k))
        kept.append(k)
    for k in kept:
        m = equivalence.match(k.representative.spec)
        k.catalog = m.name if m else ""
    return Screened(len(candidates), kept, rejected)


def canonical(spec: str, seconds: float = 2.0) -> str:
    """A readable canonical form of a formula spec by sympy (`sympy.simplify`, at most `seconds` where a timer can
    interrupt it; else the unsimplified expression): x*sigmoid(x) and sigmoid(x)*x both read 'x/(1 + exp(-x))'.
    The formula is first checked by actlab's whitelist (building it), then read into sympy through the same
    names: torch's normalised sinc(u) is sin(pi*u)/(pi*u); where(c, a, b) a Piecewise."""
    import ast
    import signal
    import threading

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

    def simplified() -> str:
        return sp.sstr(sp.simplify(expr))

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        return sp.sstr(expr)

    def stop(signum: int, frame: object) -> None:
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return simplified()
    except TimeoutError:
        return sp.sstr(expr)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
