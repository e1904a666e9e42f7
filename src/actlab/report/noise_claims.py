"""The noise study's claims and the rules that judge them from the store's numbers.

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
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from actlab.analysis.stats import bootstrap_ci, paired_test

ALPHA = 0.05
MIN_PAIRS = 6
LOWER_IS_BETTER = {"final_loss", "best_loss", "mean_loss", "test_loss", "test_mse", "test_error"}


@dataclass(frozen=True)
class Claim:
    id: str
    experiment: str
    sentence: str
    arm: str
    reference: str
    metric: str
    kind: str
    """superiority, non-inferiority or equivalence."""
    margin: float


CLAIMS = (
    Claim("escape-nan", "escape", "In a deep MLP initialised into saturation, the noisy hard tanh (NAN, output "
          "noise) trains where the hard tanh freezes: lower final training loss.", "nan", "hard_tanh",
          "final_loss", "superiority", 0.02),
    Claim("escape-nani", "escape", "In the same saturated MLP, input noise (NANI) trains where the hard tanh "
          "freezes: lower final training loss.", "nani", "hard_tanh", "final_loss", "superiority", 0.02),
    Claim("escape-nanil", "escape", "In the same saturated MLP, learned input noise (NANIL) trains where the hard "
          "tanh freezes: lower final training loss.", "nanil", "hard_tanh", "final_loss", "superiority", 0.02),
    Claim("ordinary-vs-tanh", "ordinary", "At an ordinary initialisation the noisy hard tanh (NAN) does at least "
          "as well as tanh on test accuracy.", "nan", "tanh", "test_accuracy", "non-inferiority", 0.01),
    Claim("ordinary-vs-hard", "ordinary", "At an ordinary initialisation the noisy hard tanh (NAN) does at least "
          "as well as the hard tanh on test accuracy.", "nan", "hard_tanh", "test_accuracy", "non-inferiority", 0.01),
    Claim("gru-noisy-vs-hard", "gru_adding", "On the adding problem a GRU with noisy hard gates (output noise) "
          "learns at least as well as one with hard gates: test MSE.", "noisy_output", "hard", "test_mse",
          "non-inferiority", 0.005),
    Claim("gru-noisy-faster", "gru_adding", "On the adding problem noisy hard gates learn faster than hard gates: "
          "lower mean training loss over training (area under the loss curve).", "noisy_output", "hard",
          "mean_loss", "superiority", 0.002),
    Claim("gru-input-vs-output", "gru_adding", "Input noise does about as well as output noise in the GRU's gates: "
          "test MSE.", "noisy_input", "noisy_output", "test_mse", "equivalence", 0.005),
    Claim("lstm-anneal-vs-constant", "lstm_unique", "Annealing the noise beats constant noise: an LSTM counting "
          "distinct values reaches a higher test accuracy.", "annealed", "constant", "test_accuracy",
          "superiority", 0.01),
    Claim("lstm-anneal-vs-none", "lstm_unique", "Annealed noise beats no noise (hard gates): higher test accuracy "
          "on counting distinct values.", "annealed", "hard", "test_accuracy", "superiority", 0.01),
    Claim("one-d-anneal-vs-none", "one_d", "Annealed noise lets gradient descent on a 1-D non-convex function reach "
          "its global minimum more often than plain gradient descent.", "annealed", "none", "share_global",
          "superiority", 0.02),
    Claim("one-d-anneal-vs-constant", "one_d", "Annealed noise reaches the global minimum more often than constant "
          "noise.", "annealed", "constant", "share_global", "superiority", 0.02),
)


def rule_text(c: Claim) -> str:
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
        return "inconclusive", numbers
    low, high = bootstrap_ci(d) if d.size > 1 else (float(d[0]), float(d[0]))
    test = paired_test(d, np.zeros_like(d))
    mean = float(d.mean())
    numbers |= {"mean_diff": mean, "ci_low": low, "ci_high": high, "p_value": test.p_value,
                "effect_size": test.effect_size, "ties": test.ties}
    if d.size < MIN_PAIRS:
        return "inconclusive", numbers
    sig = test.p_value < ALPHA
    if kind == "superiority":
        if sig and mean > 0:
            return "reproduced", numbers
        if (sig and mean < 0) or high <= margin:
            return "not reproduced", numbers
    elif kind == "non-inferiority":
        if low >= -margin:
            return "reproduced", numbers
        if high < -margin or (sig and mean < -margin):
            return "not reproduced", numbers
    elif kind == "equivalence":
        if -margin <= low and high <= margin:
            return "reproduced", numbers
        if sig and abs(mean) > margin:
            return "not reproduced", numbers
    else:
        raise ValueError(f"unknown claim kind {kind!r}")
    return "inconclusive", numbers


def by_arm(trials: list[dict[str, Any]], experiment: str, metric: str) -> dict[str, dict[int, float]]:
    """arm → seed → metric value (finite values only) for one experiment."""
    out: dict[str, dict[int, float]] = defaultdict(dict)
    for t in trials:
        c = t["config"]
        v = t["metrics"].get(metric)
        if c.get("experiment") == experiment and isinstance(v, (int, float)) and math.isfinite(v):
            out[c["arm"]][int(t["seed"])] = float(v)
    return out


def paired(values: dict[str, dict[int, float]], arm: str, reference: str) -> tuple[np.ndarray, np.ndarray]:
    """The two arms' values on the seeds both have, in seed order."""
    seeds = sorted(set(values.get(arm, {})) & set(values.get(reference, {})))
    return (np.array([values[arm][s] for s in seeds]), np.array([values[reference][s] for s in seeds]))


def verdict(c: Claim, trials: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The claim judged on the trials (None when the store lacks either arm)."""
    values = by_arm(trials, c.experiment, c.metric)
    if c.arm not in values or c.reference not in values:
        return None
    a, b = paired(values, c.arm, c.reference)
    sign = -1.0 if c.metric in LOWER_IS_BETTER else 1.0
    result, numbers = judge(c.kind, sign * (a - b), c.margin)
    numbers |= {"mean_arm": float(a.mean()) if a.size else None, "mean_reference": float(b.mean()) if b.size else None,
                "advantage": "arm − reference" if sign == 1.0 else "reference − arm (lower is better)"}
    return {"id": c.id, "experiment": c.experiment, "claim": c.sentence, "arm": c.arm, "reference": c.reference,
            "metric": c.metric, "kind": c.kind, "margin": c.margin, "rule": rule_text(c), "numbers": numbers,
            "verdict": result}


def verdicts_of(trials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for c in CLAIMS if (v := verdict(c, trials)) is not None]


def sentence(v: dict[str, Any]) -> str:
    """One finding from a verdict, every number from the store."""
    n = v["numbers"]
    if not n.get("n"):
        return f"{v['claim']} — {v['verdict']}: no seed ran both arms."
    return (f"{v['claim']} — {v['verdict']}: {v['arm']} {n['mean_arm']:.4g} vs {v['reference']} "
            f"{n['mean_reference']:.4g} ({v['metric']}, mean over {n['n']} paired seeds; advantage "
            f"{n['mean_diff']:+.3g}, 95% CI [{n['ci_low']:+.3g}, {n['ci_high']:+.3g}], "
            f"Wilcoxon p = {n['p_value']:.3g}, r = {n['effect_size']:+.2f}).")
