"""Claims of articles 001 and 002 (the activation catalogs) and 003 (noisy activations, its analytic part),
checked live against the catalog and the analyser — deterministic, except the one cost timing.

A printed formula is compared with the catalog's function on a grid (float64, |x| ≤ 8, off the kinks):
values within 1e-6, and the catalog's derivative within 1e-4 of the printed formula's central
difference. The catalog itself is tested against torch and autograd (tests/test_conformance.py),
so a mismatch here means the article printed something else.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

import actlab
from actlab.analysis.measure import analyze_spec
from actlab.studies.claims import (
    INCONCLUSIVE,
    NOT_REPRODUCED,
    REPRODUCED,
    WRONG,
    Claim,
    Evidence,
    Measured,
)

GRID = np.linspace(-8, 8, 1601) + 0.0037  # off every kink (0, ±1, ±2, ±3, 6)
ANALYSER = "actlab's analyser (actlab.analyze), computed live; inputs N(0, 1) where a distribution is needed"
CATALOG = "the catalog's function vs the printed formula on x ∈ [−8, 8] (float64)"


def _sig(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


PRINTED: dict[str, dict[str, Callable[[np.ndarray], np.ndarray]]] = {
    "001": {"relu": lambda x: np.maximum(0, x), "leaky_relu": lambda x: np.maximum(0.01 * x, x),
            "relu6": lambda x: np.minimum(np.maximum(0, x), 6), "swish": lambda x: x * _sig(x)},
    "002": {"sigmoid": _sig, "tanh": lambda x: (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x)),
            "relu": lambda x: np.maximum(x, 0), "leaky_relu": lambda x: np.where(x >= 0, x, 0.01 * x),
            "elu": lambda x: np.where(x >= 0, x, 1.0 * (np.exp(x) - 1)),
            "selu": lambda x: np.where(x >= 0, 1.0507 * x, 1.0507 * 1.6733 * (np.exp(x) - 1))},
}
"""The formulas each article prints, as printed (002's SELU with its rounded λ ≈ 1.0507, α ≈ 1.6733)."""


def mismatch(name: str, f: Callable[[np.ndarray], np.ndarray], tol: float = 1e-6) -> str:
    """'' if the catalog's `name` equals f (values and derivative) on GRID, else what differs."""
    act = actlab.create(name).double().eval()
    x = torch.tensor(GRID, dtype=torch.float64)
    with torch.no_grad():
        value, slope = act(x).numpy(), act.derivative(x).numpy()
    h = 1e-5
    fd = (f(GRID + h) - f(GRID - h)) / (2 * h)
    dv, dd = np.abs(value - f(GRID)).max(), np.abs(slope - fd).max()
    rel = max(1.0, float(np.abs(value).max()))
    if dv > tol * rel * 100 or dd > 1e-4 * rel * 100:  # SELU's printed constants are rounded to 5 digits
        return f"{name}: |Δf| {dv:.1e}, |Δf′| {dd:.1e}"
    return ""


def _formulas(article: str, ev: Evidence) -> Measured:
    """Rule: reproduced if every printed formula matches the catalog (values within 1e-4 relative, the
    derivative within 1e-2 relative, to allow printed constants rounded to 5 digits); the article is
    wrong if one does not."""
    bad = [m for n, f in PRINTED[article].items() if (m := mismatch(n, f))]
    names = ", ".join(PRINTED[article])
    return Measured(f"{len(PRINTED[article]) - len(bad)} of {len(PRINTED[article])} match ({names})" +
                    (f"; differ: {'; '.join(bad)}" if bad else ""), WRONG if bad else REPRODUCED)


def _softmax(ev: Evidence) -> Measured:
    """Rule: reproduced if softmax([z, 0])₁ equals σ(z) within 1e-12 for z on the grid (float64)."""
    z = torch.tensor(GRID, dtype=torch.float64)
    sm = actlab.create("softmax").double()
    with torch.no_grad():
        two = sm(torch.stack([z, torch.zeros_like(z)], 1))[:, 0]
    err = float((two - torch.sigmoid(z)).abs().max())
    return Measured(f"max |softmax([z, 0])₁ − σ(z)| = {err:.1e}", REPRODUCED if err < 1e-12 else WRONG)


def _deriv_range(name: str, lo: float, hi: float, ev: Evidence) -> Measured:
    """Rule: reproduced if the analyser's derivative range lies within the stated interval (1e-9 slack);
    the article is wrong otherwise."""
    r = _analysis(name)["derivative_range"]
    ok = r[0] >= lo - 1e-9 and r[1] <= hi + 1e-9
    return Measured(f"{name}′ ranges over [{r[0]:.6g}, {r[1]:.6g}]", REPRODUCED if ok else WRONG)


def _relu_grad(ev: Evidence) -> Measured:
    """Rule: reproduced if the catalog's ReLU derivative takes only the values 0 and 1 on the grid."""
    with torch.no_grad():
        vals = sorted(set(actlab.create("relu").derivative(torch.tensor(GRID)).tolist()))
    return Measured(f"ReLU′ values on the grid: {vals}", REPRODUCED if vals == [0.0, 1.0] else WRONG)


def _centred(ev: Evidence) -> Measured:
    """Rule: reproduced if tanh's output mean under N(0, 1) is within 0.01 of 0 and sigmoid's is not
    (|mean| ≥ 0.1); the article is wrong otherwise."""
    t = _analysis("tanh")["output_moments"]["mean"]
    s = _analysis("sigmoid")["output_moments"]["mean"]
    ok = abs(t) < 0.01 and abs(s) >= 0.1
    return Measured(f"output mean under N(0, 1): tanh {t:.3g}, sigmoid {s:.4f}", REPRODUCED if ok else WRONG)


def _dead(ev: Evidence) -> Measured:
    """Rule: reproduced if ReLU's dead fraction (share of N(0, 1) inputs with zero derivative) is ≥ 0.25
    and Leaky ReLU's is < 1e-6; the article is wrong otherwise."""
    r = _analysis("relu")["dead_fraction"]
    lk = _analysis("leaky_relu")["dead_fraction"]
    return Measured(f"dead fraction under N(0, 1): ReLU {r:.3f}, Leaky ReLU {lk:.1e}",
                    REPRODUCED if r >= 0.25 and lk < 1e-6 else WRONG)


def _relu6_leaky(ev: Evidence) -> Measured:
    """Rule: reproduced if leaky_relu6 is bounded above (maximum 6) and never dies (dead fraction < 1e-6)."""
    d = _analysis("leaky_relu6")
    top = d["maximum"]["value"] if d["maximum"] else float("inf")
    ok = top <= 6 + 1e-9 and d["dead_fraction"] < 1e-6
    return Measured(f"leaky_relu6: maximum {top:g}, dead fraction {d['dead_fraction']:.1e}",
                    REPRODUCED if ok else NOT_REPRODUCED)


def _relu6_all(ev: Evidence) -> Measured:
    """Rule: the problems the article lists are a vanishing gradient, a non-zero-centred output, dying and
    explosion; the article is wrong if leaky_relu6 still has one: a hard-saturated side (derivative 0
    beyond a threshold) or an output mean under N(0, 1) with |mean| ≥ 0.1. Reproduced otherwise."""
    d = _analysis("leaky_relu6")
    hard = [side for side in ("left", "right") if d["saturation"][side]["kind"] == "hard"]
    mean = d["output_moments"]["mean"]
    bad = hard or abs(mean) >= 0.1
    return Measured(f"leaky_relu6: hard saturation {', '.join(hard) or 'none'} (derivative 0 for x ≥ 6); "
                    f"output mean under N(0, 1) {mean:.3f}", WRONG if bad else REPRODUCED)


def _swish_shape(ev: Evidence) -> Measured:
    """Rule: reproduced if the analyser finds Swish non-monotonic with a finite minimum and smooth (C^∞)
    while ReLU has a kink at 0."""
    s, r = _analysis("swish"), _analysis("relu")
    ok = not s["monotonic"] and s["minimum"] is not None and s["smoothness"] == float("inf") and r["kinks"] == [0.0]
    m = s["minimum"] or {"value": float("nan"), "at": float("nan")}
    return Measured(f"Swish monotonic: {s['monotonic']}; minimum {m['value']:.4f} at x = {m['at']:.4f}; smoothness "
                    f"{s['smoothness']}; ReLU kinks {r['kinks']}", REPRODUCED if ok else NOT_REPRODUCED)


def timing_ratio(a: Callable[[torch.Tensor], torch.Tensor], b: Callable[[torch.Tensor], torch.Tensor],
                 rounds: int = 9, n: int = 2**16) -> np.ndarray:
    """Per round, (forward + backward time of a) / (that of b) on n float32 N(0, 1) inputs, the two timed
    interleaved (best of 3 each), so load on the machine hits both alike."""
    x = torch.randn(n, generator=torch.Generator().manual_seed(0)).requires_grad_(True)
    g = torch.ones(n)

    def once(fn: Callable[[torch.Tensor], torch.Tensor]) -> float:
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            fn(x).backward(g)
            best = min(best, time.perf_counter() - t)
        return best

    once(a), once(b)  # warm-up
    return np.array([once(a) / once(b) for _ in range(rounds)])


def _hswish_cost(ev: Evidence) -> Measured:
    """Rule (timing, on this machine): ratio = time(H-Swish) / time(Swish), catalog implementations,
    forward + backward, 9 interleaved rounds: reproduced if the upper quartile < 1; not reproduced if the
    lower quartile > 1; otherwise inconclusive. Torch's own kernels are shown alongside."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: both timed alike, whatever else runs
    try:
        ours = timing_ratio(actlab.create("hard_swish"), actlab.create("swish"))
        kern = timing_ratio(F.hardswish, F.silu)
    finally:
        torch.set_num_threads(threads)
    q1, q3 = np.percentile(ours, [25, 75])
    verdict = REPRODUCED if q3 < 1 else NOT_REPRODUCED if q1 > 1 else INCONCLUSIVE
    k1, k3 = np.percentile(kern, [25, 75])
    return Measured(f"time ratio H-Swish / Swish (catalog): median {np.median(ours):.2f} (IQR {q1:.2f}–{q3:.2f}); "
                    f"torch kernels F.hardswish / F.silu: median {np.median(kern):.2f} (IQR {k1:.2f}–{k3:.2f})",
                    verdict)


def _saturation(ev: Evidence) -> Measured:
    """Rule: reproduced if the analyser finds hard saturation at exactly ±2 (hard sigmoid, Gulcehre's
    0.25·x + 0.5) and ±1 (hard tanh); the article is wrong otherwise."""
    found = {}
    for name in ("hard_sigmoid_gulcehre", "hard_tanh"):
        s = _analysis(name)["saturation"]
        found[name] = (s["left"]["kind"], s["left"]["threshold"], s["right"]["kind"], s["right"]["threshold"])
    ok = (found["hard_sigmoid_gulcehre"] == ("hard", -2.0, "hard", 2.0)
          and found["hard_tanh"] == ("hard", -1.0, "hard", 1.0))
    return Measured("; ".join(f"{n}: {lk} from {lt:g}, {rk} from {rt:g}" for n, (lk, lt, rk, rt) in found.items()),
                    REPRODUCED if ok else WRONG)


def _contractive(ev: Evidence) -> Measured:
    """Rule: reproduced if max |h′| beyond the saturation threshold is < 1 for both (a contraction there)."""
    words, ok = [], True
    for name, t in (("hard_sigmoid_gulcehre", 2.0), ("hard_tanh", 1.0)):
        x = torch.tensor(GRID[np.abs(GRID) > t])
        with torch.no_grad():
            top = float(actlab.create(name).double().derivative(x).abs().max())
        ok &= top < 1
        words.append(f"{name}: max |h′| for |x| > {t:g} is {top:g}")
    return Measured("; ".join(words), REPRODUCED if ok else WRONG)


def _analysis(name: str) -> Any:
    """The analyser's report on `name`, measured once per process (`analyze_spec`: several claims, and the
    report's catalog section, read the same activations)."""
    return analyze_spec(name)


def fixed_points(name: str) -> list[dict]:
    return _analysis(name)["fixed_points"]


def _points(ps: list[dict], fmt: str = "g") -> str:
    """Fixed points as the analyser gives them: a number, or [lo, hi] for an interval of them."""
    return ", ".join(format(p["lo"], fmt) if p["lo"] == p["hi"] else f"[{p['lo']:{fmt}}, {p['hi']:{fmt}}]" for p in ps)


def _fixed_hard_sigmoid(ev: Evidence) -> Measured:
    """Rule: reproduced if the analyser's only fixed point of hard sigmoid is 2/3 (to 1e-9); the article is
    wrong otherwise."""
    hs = fixed_points("hard_sigmoid_gulcehre")
    ok = len(hs) == 1 and abs(hs[0]["lo"] - 2 / 3) < 1e-9
    return Measured(f"fixed points of hard sigmoid: {_points(hs, '.9f')}", REPRODUCED if ok else WRONG)


def _fixed_sigmoid(ev: Evidence) -> Measured:
    """Rule: the stated ≈ 0.69 holds if the analyser's fixed point rounds to it (within ±0.005); the article is
    wrong otherwise."""
    s = fixed_points("sigmoid")
    ok = len(s) == 1 and abs(s[0]["lo"] - 0.69) <= 0.005
    return Measured(f"fixed point of sigmoid: {s[0]['lo']:.4f} (stated ≈ 0.69)", REPRODUCED if ok else WRONG)


def _fixed_tanh(ev: Evidence) -> Measured:
    """Rule: reproduced if the analyser finds hard tanh's fixed points to be exactly [−1, 1] and tanh's only 0;
    the article is wrong otherwise."""
    ht, t = fixed_points("hard_tanh"), fixed_points("tanh")
    ok = (len(ht) == 1 and (ht[0]["lo"], ht[0]["hi"]) == (-1.0, 1.0)
          and len(t) == 1 and t[0]["lo"] == t[0]["hi"] == 0)
    return Measured(f"fixed points: hard tanh {_points(ht)}; tanh {_points(t)}", REPRODUCED if ok else WRONG)


def _attracting(ev: Evidence) -> Measured:
    """Rule: reproduced if the analyser marks the fixed points of tanh and sigmoid attracting."""
    flags = {n: all(p["attracting"] for p in fixed_points(n)) for n in ("tanh", "sigmoid")}
    return Measured(", ".join(f"{n}: attracting {v}" for n, v in flags.items()),
                    REPRODUCED if all(flags.values()) else WRONG)


def _taylor(ev: Evidence) -> Measured:
    """Rule: reproduced if hard sigmoid and hard tanh equal the first-order Taylor expansions of sigmoid and
    tanh at 0 inside their thresholds (slope σ′(0) = 1/4, offset 1/2; slope tanh′(0) = 1) within 1e-12."""
    errs = []
    for name, slope, off, t in (("hard_sigmoid_gulcehre", 0.25, 0.5, 2.0), ("hard_tanh", 1.0, 0.0, 1.0)):
        x = torch.tensor(GRID[np.abs(GRID) < t])
        with torch.no_grad():
            errs.append(float((actlab.create(name).double()(x) - (slope * x + off)).abs().max()))
    return Measured(f"max |h(x) − u(x)| inside the threshold: hard sigmoid {errs[0]:.1e}, hard tanh {errs[1]:.1e}",
                    REPRODUCED if max(errs) < 1e-12 else WRONG)


def _c(cid: str, art: str, sentence: str, setup: str, fn: Callable[[Evidence], Measured], doc: str = "") -> Claim:
    return Claim(cid, art, sentence, setup, doc or fn.__doc__ or "", "catalog", fn)


CLAIMS = [
    _c("001-formulas", "001", "Its printed formulas: ReLU max(0, x), Leaky ReLU max(αx, x) (α = 0.01), ReLU6 "
       "min(max(0, x), 6), Swish x·sigmoid(x).", CATALOG, lambda ev: _formulas("001", ev), _formulas.__doc__ or ""),
    _c("001-centred", "001", "tanh is zero-centred; sigmoid is not (also 002).", ANALYSER, _centred),
    _c("001-dead", "001", "ReLU has dead units: for negative inputs output and gradient are 0 (Leaky ReLU fixes "
       "it).", ANALYSER, _dead),
    _c("001-relu6-leaky", "001", "Combining ReLU6 and Leaky ReLU gives a function bounded above that never dies.",
       ANALYSER + "; the combination is the catalog's leaky_relu6", _relu6_leaky),
    _c("001-relu6-leaky-all", "001", "That combination solves all the known problems of activation functions.",
       ANALYSER, _relu6_all),
    _c("001-swish", "001", "Swish is smooth where ReLU changes abruptly at 0; it is non-monotonic with a minimum.",
       ANALYSER, _swish_shape),
    _c("001-hswish-cost", "001", "H-Swish is cheaper to compute than Swish.", "forward + backward timing on "
       "this machine, one thread, 2^16 float32 inputs", _hswish_cost),
    _c("002-formulas", "002", "Its printed formulas: sigmoid, tanh, ReLU, Leaky ReLU, ELU (α = 1), SELU "
       "(λ ≈ 1.0507, α ≈ 1.6733).", CATALOG, lambda ev: _formulas("002", ev), _formulas.__doc__ or ""),
    _c("002-softmax", "002", "With 2 classes softmax reduces to the sigmoid.", CATALOG, _softmax),
    _c("002-relu-grad", "002", "ReLU's gradient is always 0 or 1.", CATALOG, _relu_grad),
    _c("004-sigmoid-deriv", "004", "The sigmoid's derivative only takes values between 0 and 0.25.", ANALYSER,
       lambda ev: _deriv_range("sigmoid", 0.0, 0.25, ev), _deriv_range.__doc__ or ""),
    _c("004-tanh-deriv", "004", "tanh's derivative is bounded in [0, 1].", ANALYSER,
       lambda ev: _deriv_range("tanh", 0.0, 1.0, ev), _deriv_range.__doc__ or ""),
    _c("003-taylor", "003", "Hard sigmoid and hard tanh are the first-order Taylor expansions of sigmoid and "
       "tanh at 0, clipped.", CATALOG + "; hard sigmoid is Gulcehre's clip(0.25·x + 0.5, 0, 1)", _taylor),
    _c("003-saturation", "003", "Hard sigmoid saturates for |x| ≥ 2 and hard tanh for |x| ≥ 1.", ANALYSER,
       _saturation),
    _c("003-contractive", "003", "Both are contractive mappings beyond the threshold.", CATALOG, _contractive),
    _c("003-fixed-hard-sigmoid", "003", "The fixed point of hard sigmoid is x = 2/3.", ANALYSER,
       _fixed_hard_sigmoid),
    _c("003-fixed-sigmoid", "003", "The fixed point of sigmoid is about 0.69.", ANALYSER, _fixed_sigmoid),
    _c("003-fixed-tanh", "003", "Every x in [−1, 1] is a fixed point of hard tanh; tanh's only fixed point is 0.",
       ANALYSER, _fixed_tanh),
    _c("003-attracting", "003", "The fixed points of tanh and sigmoid are attracting.", ANALYSER, _attracting),
]
