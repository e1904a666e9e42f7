"""Claims of article 000 ("Activation functions in training: the key to fast convergence?", A. Dik).

Its setup: a 1-1-1 network (the activation on both neurons) fitted to one sample by backprop Adam
and by the population ADAMm, which never sees a derivative; weights bounded by the activations'
ranges, with reflection back into the box. The article gives neither its sample, targets, budget
nor tolerance in the text we hold, so these checks read the single-sample study's trials as run
(default: input 0.5, targets ¼ and ¾ up each activation's working range, success = squared error
< 1e-6, 500 steps, lr tuned over {0.01, 0.1}, 50 seeds). Every check reads the study's results object
(`results.Results`): a cell's success rate is at the learning rate the one selection rule chose (the
same the report names), in the store's main setup, with one activation on both neurons.
"""

from __future__ import annotations

import numpy as np

import actlab
from actlab.studies.claims import (
    INCONCLUSIVE,
    NOT_REPRODUCED,
    NOT_RUN_HERE,
    REPRODUCED,
    Claim,
    Evidence,
    Measured,
    wilson,
)
from actlab.studies.single_sample.results import NAME, Results

COMMON = ("tanh", "sigmoid", "relu", "gelu")
SETUP = ("single-sample study as run: 1-1-1 network, one sample, success = squared error < threshold, lr chosen "
         "per cell by the study's selection rule, seeds as stored")

Key = tuple[str, str, str]


def success(r: Results) -> dict[Key, tuple[int, int]]:
    """(activation, optimizer, bounds) → (successes, trials) at the learning rate the rule chose for the cell
    (the main setup's cells with one activation on both neurons, as the article has it)."""
    return {(c.activation, c.label, c.bounds): (c.best.successes, c.best.n)
            for c in r.main if c.output == c.activation}


def chosen_lr(r: Results) -> dict[Key, float | None]:
    """The learning rate behind each cell of `success` (what the ledger's numbers are read at)."""
    return {(c.activation, c.label, c.bounds): c.best.lr for c in r.main if c.output == c.activation}


def rate(kn: tuple[int, int]) -> str:
    lo, hi = wilson(*kn)
    return f"{kn[0] / kn[1]:.0%} [{lo:.0%}, {hi:.0%}] of {kn[1]}"


def _success(ev: Evidence) -> dict[Key, tuple[int, int]] | None:
    r = ev.results(NAME)
    return None if r is None else success(r)


def _adam(ev: Evidence) -> Measured:
    """Rule: reproduced if Adam's success rate (bounds none) is ≥ 90 % for every common activation present
    (tanh, sigmoid, relu, gelu); not reproduced if any is < 50 %; otherwise inconclusive."""
    s = _success(ev) or {}
    cells = {a: s[(actlab.create(a).spec, "adam", "none")] for a in COMMON
             if (actlab.create(a).spec, "adam", "none") in s}
    if not cells:
        return NOT_RUN_HERE
    rates = [k / n for k, n in cells.values()]
    verdict = REPRODUCED if min(rates) >= 0.9 else NOT_REPRODUCED if min(rates) < 0.5 else INCONCLUSIVE
    words = ", ".join(f"{a} {rate(kn)}" for a, kn in cells.items())
    return Measured(f"Adam, success rate [95 % Wilson interval]: {words}", verdict)


def _adamm(ev: Evidence) -> Measured:
    """Rule: the mean over activations of success(ADAMm) − success(Adam), bounds none: reproduced if
    ≥ −0.05 (as reliable or more); not reproduced if < −0.15; otherwise inconclusive."""
    s = _success(ev) or {}
    acts = [a for a, o, b in s if o == "adam" and b == "none" and (a, "adamm", "none") in s]
    if not acts:
        return NOT_RUN_HERE
    diffs = [s[(a, "adamm", "none")][0] / s[(a, "adamm", "none")][1] - s[(a, "adam", "none")][0] /
             s[(a, "adam", "none")][1] for a in acts]
    mean = float(np.mean(diffs))
    verdict = REPRODUCED if mean >= -0.05 else NOT_REPRODUCED if mean < -0.15 else INCONCLUSIVE
    parts = [f"{a}: ADAMm {rate(s[(a, 'adamm', 'none')])} vs Adam {rate(s[(a, 'adam', 'none')])}" for a in acts]
    return Measured("; ".join(parts) + f"; mean difference {mean:+.2f} (SD {np.std(diffs):.2f})", verdict)


def _box(ev: Evidence) -> Measured:
    """Rule: of the trials that reached the target without any bound (bounds none), the fraction whose final
    weights lie inside the box derived from the activations' ranges: reproduced if ≥ 90 %, not reproduced if
    < 50 %, otherwise inconclusive."""
    r = ev.results(NAME)
    inside, total = r.box if r is not None else (0, 0)
    if total == 0:
        return NOT_RUN_HERE
    lo_, hi_ = wilson(inside, total)
    f = inside / total
    verdict = REPRODUCED if f >= 0.9 else NOT_REPRODUCED if f < 0.5 else INCONCLUSIVE
    return Measured(f"{inside:,} of {total:,} unbounded successful fits ({f:.1%} [{lo_:.1%}, {hi_:.1%}]) end with "
                    "every weight inside the box", verdict)


def _reflect(ev: Evidence) -> Measured:
    """Rule: the mean over (activation, optimizer) cells of success(reflect) − success(none) with its standard
    error: reproduced if mean − 2·SE > 0; not reproduced if mean + 2·SE ≤ 0.02 (no measurable help);
    otherwise inconclusive."""
    s = _success(ev) or {}
    diffs = [s[(a, o, "reflect")][0] / s[(a, o, "reflect")][1] - k / n
             for (a, o, b), (k, n) in s.items() if b == "none" and (a, o, "reflect") in s]
    if not diffs:
        return NOT_RUN_HERE
    mean = float(np.mean(diffs))
    se = float(np.std(diffs, ddof=1) / np.sqrt(len(diffs))) if len(diffs) > 1 else float("inf")
    verdict = REPRODUCED if mean - 2 * se > 0 else NOT_REPRODUCED if mean + 2 * se <= 0.02 else INCONCLUSIVE
    return Measured(f"success(reflect) − success(none) over {len(diffs)} cells: mean {mean:+.3f} ± {se:.3f} (SE), "
                    f"range {min(diffs):+.2f} to {max(diffs):+.2f}", verdict)


def variance_split(m: np.ndarray) -> tuple[float, float]:
    """(activation's share, optimizer's share) of the success-rate table's sum of squares (rows: activations)."""
    grand = m.mean()
    total = float(((m - grand) ** 2).sum())
    if total == 0:
        return (0.0, 0.0)
    ss_act = m.shape[1] * float(((m.mean(1) - grand) ** 2).sum())
    ss_opt = m.shape[0] * float(((m.mean(0) - grand) ** 2).sum())
    return ss_act / total, ss_opt / total


def complete(r: Results, bounds: str = "none") -> tuple[list[str], list[str], np.ndarray]:
    """The success-rate table (activations × optimizers, one activation on both neurons) with its complete rows."""
    acts, opts, m = r.grid(bounds, same_output=True)
    keep = [i for i in range(len(acts)) if not np.isnan(m[i]).any()]
    return [acts[i] for i in keep], opts, m[keep]


def _split(ev: Evidence) -> Measured:
    """Rule: two-way split of the success-rate table (activations × optimizers, bounds none, complete rows):
    reproduced if the activation's share exceeds the optimizer's by > 0.1; not reproduced if the
    optimizer's exceeds the activation's by > 0.1; otherwise inconclusive."""
    r = ev.results(NAME)
    if r is None or "none" not in r.modes:
        return NOT_RUN_HERE
    acts, opts, m = complete(r)
    if len(acts) < 2 or len(opts) < 2:
        return NOT_RUN_HERE
    f_act, f_opt = variance_split(m)
    verdict = REPRODUCED if f_act > f_opt + 0.1 else NOT_REPRODUCED if f_opt > f_act + 0.1 else INCONCLUSIVE
    return Measured(f"{len(acts)} activations × {len(opts)} optimizers ({', '.join(opts)}): activation's share "
                    f"{f_act:.0%}, optimizer's {f_opt:.0%}, interaction {1 - f_act - f_opt:.0%}", verdict)


CLAIMS = [
    Claim("000-adam", "000", "Backprop Adam fits the single sample for the common activations.", SETUP,
          _adam.__doc__ or "", "single-sample", _adam),
    Claim("000-adamm", "000", "The population ADAMm, blind to derivatives, reaches the target as reliably as "
          "backprop Adam.", SETUP, _adamm.__doc__ or "", "single-sample", _adamm),
    Claim("000-box", "000", "The activation's range bounds the useful weights (the weight box).", SETUP,
          _box.__doc__ or "", "single-sample", _box),
    Claim("000-reflect", "000", "Reflecting weights back into the box helps training (avoids saturation and "
          "stagnation).", SETUP, _reflect.__doc__ or "", "single-sample", _reflect),
    Claim("000-split", "000", "The activation function, not the optimizer, is the key to convergence (the title's "
          "question): it explains more of the variation in success.", SETUP, _split.__doc__ or "",
          "single-sample", _split),
]


def claims() -> list[Claim]:
    """The study's rows of the claims ledger."""
    return list(CLAIMS)
