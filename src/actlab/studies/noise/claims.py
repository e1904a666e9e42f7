"""The noise study's claims (article 003's training claims) and the rules that judge them.

Every claim compares one arm with a reference arm of the same experiment on one metric, over the
seeds both ran (paired: a seed is one dataset draw and one initialisation). With d = (arm − reference)
oriented so that d > 0 is what the claim expects (a lower loss or error counts as positive), the 95 %
bootstrap CI of mean(d) (`bootstrap_ci`) and a two-sided Wilcoxon signed-rank test (`paired_test`):

  superiority      reproduced:     p < 0.05 and mean d > 0
                   not reproduced: p < 0.05 and mean d < 0, or the CI's upper end ≤ margin (the claimed
                                   advantage is ruled out beyond a negligible margin)
  non-inferiority  reproduced:     the CI's lower end ≥ −margin (at least as good, up to the margin)
                   not reproduced: the CI's upper end < −margin, or p < 0.05 and mean d < −margin
  equivalence      reproduced:     the CI lies inside [−margin, margin]
                   not reproduced: p < 0.05 and |mean d| > margin
  anything else, or fewer than MIN_PAIRS pairs: inconclusive. With n ≤ 5 pairs the smallest two-sided
  Wilcoxon p is 2/2ⁿ ≥ 0.0625, so no test can speak; the bootstrap of so few numbers is not trusted either.

The study's `results` judges every claim whose two arms are stored (`judged`); a claim's `check` reads
that verdict from `ev.results("noise")`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from actlab.analysis.stats import bootstrap_ci, paired_test
from actlab.studies.claims import (
    INCONCLUSIVE,
    NOT_REPRODUCED,
    NOT_RUN,
    NOT_RUN_HERE,
    REPRODUCED,
    Claim,
    Evidence,
    Measured,
)

NAME = "noise"
ALPHA = 0.05
MIN_PAIRS = 6
LOWER_IS_BETTER = frozenset({"final_loss", "best_loss", "mean_loss", "test_loss", "test_mse", "test_error"})


@dataclass(frozen=True)
class Spec:
    """One claim as the study checks it: `arm` against `reference` in `experiment` on `metric`."""

    id: str
    experiment: str
    sentence: str
    arm: str
    reference: str
    metric: str
    kind: str
    """superiority, non-inferiority or equivalence."""
    margin: float


SPECS = (
    Spec("escape-nan", "escape", "In a deep MLP initialised into saturation, the noisy hard tanh (NAN, output "
         "noise) trains where the hard tanh freezes: lower final training loss.", "nan", "hard_tanh",
         "final_loss", "superiority", 0.02),
    Spec("escape-nani", "escape", "In the same saturated MLP, input noise (NANI) trains where the hard tanh "
         "freezes: lower final training loss.", "nani", "hard_tanh", "final_loss", "superiority", 0.02),
    Spec("escape-nanil", "escape", "In the same saturated MLP, learned input noise (NANIL) trains where the hard "
         "tanh freezes: lower final training loss.", "nanil", "hard_tanh", "final_loss", "superiority", 0.02),
    Spec("ordinary-vs-tanh", "ordinary", "At an ordinary initialisation the noisy hard tanh (NAN) does at least "
         "as well as tanh on test accuracy.", "nan", "tanh", "test_accuracy", "non-inferiority", 0.01),
    Spec("ordinary-vs-hard", "ordinary", "At an ordinary initialisation the noisy hard tanh (NAN) does at least "
         "as well as the hard tanh on test accuracy.", "nan", "hard_tanh", "test_accuracy", "non-inferiority", 0.01),
    Spec("gru-noisy-vs-hard", "gru_adding", "On the adding problem a GRU with noisy hard gates (output noise) "
         "learns at least as well as one with hard gates: test MSE.", "noisy_output", "hard", "test_mse",
         "non-inferiority", 0.005),
    Spec("gru-noisy-faster", "gru_adding", "On the adding problem noisy hard gates learn faster than hard gates: "
         "lower mean training loss over training (area under the loss curve).", "noisy_output", "hard",
         "mean_loss", "superiority", 0.002),
    Spec("gru-input-vs-output", "gru_adding", "Input noise does about as well as output noise in the GRU's gates: "
         "test MSE.", "noisy_input", "noisy_output", "test_mse", "equivalence", 0.005),
    Spec("lstm-anneal-vs-constant", "lstm_unique", "Annealing the noise beats constant noise: an LSTM counting "
         "distinct values reaches a higher test accuracy.", "annealed", "constant", "test_accuracy",
         "superiority", 0.01),
    Spec("lstm-anneal-vs-none", "lstm_unique", "Annealed noise beats no noise (hard gates): higher test accuracy "
         "on counting distinct values.", "annealed", "hard", "test_accuracy", "superiority", 0.01),
    Spec("one-d-anneal-vs-none", "one_d", "Annealed noise lets gradient descent on a 1-D non-convex function reach "
         "its global minimum more often than plain gradient descent.", "annealed", "none", "share_global",
         "superiority", 0.02),
    Spec("one-d-anneal-vs-constant", "one_d", "Annealed noise reaches the global minimum more often than constant "
         "noise.", "annealed", "constant", "share_global", "superiority", 0.02),
)
SETUPS = {"escape": "deep MLP on digits (scikit-learn), initialised into saturation",
          "ordinary": "deep MLP on digits, nn.Linear's default initialisation",
          "gru_adding": "GRU on the adding problem", "lstm_unique": "LSTM counting distinct values",
          "one_d": "gradient descent on f(x) = x²/10 − cos(3x) from many starts"}


def rule_text(c: Spec) -> str:
    """The rule that judges `c`, in words (with its margin)."""
    m = f"{c.margin:g}"
    head = f"d = {c.arm} − {c.reference} on {c.metric}" + (" (sign flipped: lower is better)"
                                                         if c.metric in LOWER_IS_BETTER else "")
    body = {"superiority": f"reproduced if Wilcoxon p < {ALPHA} and mean d > 0; not reproduced if p < {ALPHA} and "
                           f"mean d < 0, or the 95% bootstrap CI of mean d ends at or below {m}",
            "non-inferiority": f"reproduced if the 95% bootstrap CI of mean d starts at or above −{m}; not reproduced "
                               f"if it ends below −{m}, or p < {ALPHA} and mean d < −{m}",
            "equivalence": f"reproduced if the 95% bootstrap CI of mean d lies in [−{m}, {m}]; not reproduced if "
                           f"p < {ALPHA} and |mean d| > {m}"}[c.kind]
    return f"{head}; {body}; inconclusive otherwise or with fewer than {MIN_PAIRS} paired seeds."


def judge(kind: str, d: np.ndarray, margin: float) -> tuple[str, dict[str, Any]]:
    """(verdict, numbers) for oriented paired differences d (d > 0: as the claim expects)."""
    numbers: dict[str, Any] = {"n": int(d.size)}
    if d.size == 0:
        return INCONCLUSIVE, numbers
    low, high = bootstrap_ci(d) if d.size > 1 else (float(d[0]), float(d[0]))
    test = paired_test(d, np.zeros_like(d))
    mean = float(d.mean())
    numbers |= {"mean_diff": mean, "ci_low": low, "ci_high": high, "p_value": test.p_value,
                "effect_size": test.effect_size, "ties": test.ties}
    if d.size < MIN_PAIRS:
        return INCONCLUSIVE, numbers
    sig = test.p_value < ALPHA
    if kind == "superiority":
        if sig and mean > 0:
            return REPRODUCED, numbers
        if (sig and mean < 0) or high <= margin:
            return NOT_REPRODUCED, numbers
    elif kind == "non-inferiority":
        if low >= -margin:
            return REPRODUCED, numbers
        if high < -margin or (sig and mean < -margin):
            return NOT_REPRODUCED, numbers
    elif kind == "equivalence":
        if -margin <= low and high <= margin:
            return REPRODUCED, numbers
        if sig and abs(mean) > margin:
            return NOT_REPRODUCED, numbers
    else:
        raise ValueError(f"unknown claim kind {kind!r}")
    return INCONCLUSIVE, numbers


@dataclass(frozen=True)
class Judged:
    """One claim judged: its verdict and the numbers behind it, as raw arm − reference differences."""

    spec: Spec
    verdict: str
    n: int
    """Paired seeds."""
    mean_arm: float
    mean_reference: float
    diff: float
    """mean(arm − reference) over the paired seeds (not oriented: its sign is the metric's)."""
    ci: tuple[float, float]
    """95 % bootstrap CI of `diff`."""
    p_value: float
    effect_size: float
    """Rank-biserial r of the oriented differences (> 0: as the claim expects)."""


def judged(spec: Spec, values: dict[str, dict[int, float]]) -> Judged | None:
    """`spec` judged on arm → seed → value of its metric (None: either arm is not stored)."""
    if spec.arm not in values or spec.reference not in values:
        return None
    seeds = sorted(set(values[spec.arm]) & set(values[spec.reference]))
    a = np.array([values[spec.arm][s] for s in seeds])
    b = np.array([values[spec.reference][s] for s in seeds])
    sign = -1.0 if spec.metric in LOWER_IS_BETTER else 1.0
    verdict, n = judge(spec.kind, sign * (a - b), spec.margin)
    if not seeds:
        return Judged(spec, verdict, 0, math.nan, math.nan, math.nan, (math.nan, math.nan), math.nan, math.nan)
    lo, hi = sorted((sign * n["ci_low"], sign * n["ci_high"]))
    return Judged(spec, verdict, len(seeds), float(a.mean()), float(b.mean()), float((a - b).mean()), (lo, hi),
                  float(n["p_value"]), float(n["effect_size"]))


def fmt(v: float, sign: str = "") -> str:
    """Three significant digits, a true minus sign ('–' for no number)."""
    return f"{v:{sign}.3g}".replace("-", "−") if math.isfinite(v) else "–"


def numbers(j: Judged, label: dict[str, str] | None = None) -> str:
    """'noisy tanh, normal 0.042 vs hard_tanh 2.3, −2.3 [CI −2.5, −2.0], p = 0.002, 10 seeds' (means over the
    paired seeds; the difference is arm − reference)."""
    name = label or {}
    if j.n == 0:
        return "no seed ran both arms"
    a, r = name.get(j.spec.arm, j.spec.arm), name.get(j.spec.reference, j.spec.reference)
    p = "p < 0.001" if j.p_value < 0.001 else f"p = {j.p_value:.2g}"
    return (f"{a} {fmt(j.mean_arm)} vs {r} {fmt(j.mean_reference)}, {fmt(j.diff, '+')} [CI {fmt(j.ci[0], '+')}, "
            f"{fmt(j.ci[1], '+')}], {p}, {j.n} seed{'s' * (j.n != 1)}")


def _check(spec: Spec, ev: Evidence) -> Measured:
    r: Any = ev.results(NAME)
    if r is None:
        return NOT_RUN_HERE
    j = r.verdicts.get(spec.id)
    if j is None:
        return Measured(f"not run in this store: experiment {spec.experiment} lacks the arm {spec.arm} or "
                        f"{spec.reference}", NOT_RUN)
    return Measured(numbers(j, r.experiments[spec.experiment].labels), j.verdict)


def _setup(s: Spec) -> str:
    return (f"noise study (`actlab run noise`), {SETUPS[s.experiment]}: arm {s.arm} vs {s.reference} on "
            f"{s.metric}, every arm on the same seeds, one fixed setting per experiment")


CLAIMS = [Claim(s.id, "003", s.sentence, _setup(s), rule_text(s), "noise", partial(_check, s)) for s in SPECS]


def claims() -> list[Claim]:
    """The study's rows of the claims ledger (article 003's training claims)."""
    return list(CLAIMS)
