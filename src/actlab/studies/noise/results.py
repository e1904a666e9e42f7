"""The noise study's trials arranged once: per experiment its arms, every seed's metrics, the training-loss
and saturated-fraction curves pooled over seeds, the one fixed setting every arm ran, and every claim's
verdict. The section, the terminal summary and the claims read this object; nothing else reads the store.

Nothing is tuned: every arm of an experiment runs the same fixed optimizer, learning rate and step budget,
so no "best per cell" choice is made. A store can hold one experiment at several setups (the default run's
short one next to `actlab run noise`'s full one): trials are grouped by every config value that is not the
arm's own (its unit, its noise schedule) nor the seed, and the setup with the most trials is the one shown
and judged (ties: more steps, then the later run); the others are counted, not mixed in.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from actlab.report.names import display
from actlab.studies.noise.claims import SPECS, Judged, Spec, judged
from actlab.studies.noise.study import ARMS, EXPERIMENTS
from actlab.studies.protocol import Stored

ARM_KEYS = frozenset({"arm", "seed", "activation", "gate", "candidate", "cell", "noise_c", "anneal_start",
                      "anneal_end", "anneal_kind", "anneal_fraction"})
"""Config keys that belong to an arm (its unit, its noise) or a replicate: not part of an experiment's setup."""
SHOWN = {"escape": ("Escape from saturation: deep MLP on digits, saturated initialisation", "final_loss", "hard_tanh"),
         "ordinary": ("Ordinary initialisation: deep MLP on digits", "test_accuracy", "hard_tanh"),
         "gru_adding": ("GRU on the adding problem", "test_mse", "hard"),
         "lstm_unique": ("LSTM counting distinct values", "test_accuracy", "constant"),
         "one_d": ("Gradient descent on f(x) = x²/10 − cos(3x)", "share_global", "none")}
"""Experiment → (title, the metric shown first, the reference arm)."""
WORDS = {"final_loss": "final training loss", "mean_loss": "mean training loss", "test_accuracy": "test accuracy",
         "test_mse": "test MSE", "share_global": "share of starts at the global minimum"}
ONE_D = {"none": "no noise", "constant": "constant noise", "annealed": "annealed noise"}
Curve = list[tuple[int, float, float, float]]
"""(step, lower quartile, median, upper quartile) over seeds."""


@dataclass
class Experiment:
    name: str
    title: str
    metric: str
    """The metric shown first (tables, figures): what the experiment is about."""
    reference: str
    """The arm every other arm is compared with."""
    arms: list[str]
    labels: dict[str, str]
    """Arm → its display name (figures, tables, sentences)."""
    specs: dict[str, str]
    """Arm → its full description (the units' spec strings; hover text and legend)."""
    seeds: list[int]
    values: dict[str, dict[str, dict[int, float]]]
    """Metric → arm → seed → value (finite numbers only)."""
    loss: dict[str, Curve]
    """Arm → training loss over seeds, per recorded step."""
    saturated: dict[str, dict[str, list[tuple[int, float]]]]
    """Activation layer → arm → (step, saturated fraction, mean over seeds)."""
    setting: dict[str, Any]
    """The setup every arm ran (optimizer, learning rate, steps, sizes, …): fixed, not tuned."""
    not_shown: int = 0
    """Trials of this experiment at other setups (or repeated for an arm and seed) in the store."""

    def label(self, arm: str) -> str:
        return self.labels.get(arm, arm)

    def spread(self, arm: str, metric: str | None = None) -> tuple[float, float, float]:
        """(lower quartile, median, upper quartile) of the arm's metric over seeds (NaN: none)."""
        v = list(self.values.get(metric or self.metric, {}).get(arm, {}).values())
        if not v:
            return (math.nan, math.nan, math.nan)
        q1, med, q3 = np.percentile(v, [25, 50, 75])
        return (float(q1), float(med), float(q3))

    def versus(self, arm: str, metric: str | None = None) -> Judged | None:
        """`arm` against the reference arm on the paired seeds (the numbers only: no claim, no margin)."""
        metric = metric or self.metric
        return judged(Spec("", self.name, "", arm, self.reference, metric, "superiority", 0.0),
                      self.values.get(metric, {}))


@dataclass
class NoiseResults:
    experiments: dict[str, Experiment] = field(default_factory=dict)
    """The stored experiments, in the study's order."""
    verdicts: dict[str, Judged] = field(default_factory=dict)
    """Claim id → its verdict, for the claims whose two arms are stored."""
    trials: int = 0


def results(stored: Stored) -> NoiseResults:
    """The study's trials arranged (see the module): curves read here, while the store is open."""
    by_exp: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in stored.trials:
        if t.get("status", "ok") == "ok" and t["config"].get("experiment") in SHOWN:
            by_exp[t["config"]["experiment"]].append(t)
    out = NoiseResults(trials=sum(len(v) for v in by_exp.values()))
    for exp in EXPERIMENTS:
        if by_exp.get(exp):
            out.experiments[exp] = _experiment(exp, by_exp[exp], stored.curves)
    for spec in SPECS:
        e = out.experiments.get(spec.experiment)
        if e is not None and (j := judged(spec, e.values.get(spec.metric, {}))) is not None:
            out.verdicts[spec.id] = j
    return out


def _setup(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k not in ARM_KEYS}


def _chosen(trials: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """The trials of the setup shown (most trials, then most steps, then the latest run), one per arm and seed
    (the latest), and how many trials that leaves out."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in trials:
        groups[json.dumps(_setup(t["config"]), sort_keys=True, default=str)].append(t)

    def rank(ts: list[dict[str, Any]]) -> tuple[int, int, str]:
        return (len(ts), int(ts[0]["config"].get("steps", 0)), max(str(t.get("created_at", "")) for t in ts))

    best = max(groups.values(), key=rank)
    one: dict[tuple[str, int], dict[str, Any]] = {}
    for t in sorted(best, key=lambda t: str(t.get("created_at", ""))):
        one[(t["config"]["arm"], int(t["seed"]))] = t
    return list(one.values()), len(trials) - len(one)


def _experiment(exp: str, trials: list[dict[str, Any]],
                curves: Callable[[list[str]], dict[str, list[tuple[int, float]]]]) -> Experiment:
    title, metric, reference = SHOWN[exp]
    ts, left = _chosen(trials)
    stored_arms = {t["config"]["arm"] for t in ts}
    arms = [a for a in ARMS[exp] if a in stored_arms] + sorted(stored_arms - set(ARMS[exp]))
    first = {a: next(t["config"] for t in ts if t["config"]["arm"] == a) for a in arms}
    values: dict[str, dict[str, dict[int, float]]] = defaultdict(lambda: defaultdict(dict))
    for t in ts:
        for k, v in t["metrics"].items():
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                values[k][t["config"]["arm"]][int(t["seed"])] = float(v)
    stored = curves([t["trial_id"] for t in ts])
    per_arm = {a: [t for t in ts if t["config"]["arm"] == a] for a in arms}
    loss = {a: _quartiles([stored.get(t["trial_id"], []) for t in mine]) for a, mine in per_arm.items()}
    layers = list(dict.fromkeys(layer for t in ts for layer in t["metrics"].get("saturated") or {}))
    saturated = {layer: {a: _mean_line([t["metrics"]["saturated"].get(layer, []) for t in mine])
                         for a, mine in per_arm.items()} for layer in layers}
    labels, specs = _names(exp, first)
    return Experiment(exp, title, metric, reference if reference in arms else arms[0], arms, labels, specs,
                      sorted({int(t["seed"]) for t in ts}), {k: {a: dict(s) for a, s in v.items()}
                                                             for k, v in values.items()},
                      loss, saturated, _setting(ts[0]["config"]), left)


def _by_step(series: Sequence[Sequence[Sequence[float]]]) -> dict[int, list[float]]:
    out: dict[int, list[float]] = defaultdict(list)
    for curve in series:
        for step, v in curve:
            if v is not None and math.isfinite(v):
                out[int(step)].append(float(v))
    return out


def _quartiles(series: Sequence[Sequence[Sequence[float]]]) -> Curve:
    out = []
    for step, vs in sorted(_by_step(series).items()):
        q1, med, q3 = np.percentile(vs, [25, 50, 75])
        out.append((step, float(q1), float(med), float(q3)))
    return out


def _mean_line(series: Sequence[Sequence[Sequence[float]]]) -> list[tuple[int, float]]:
    by = _by_step(series)
    return [(s, float(np.mean(by[s]))) for s in sorted(by)]


def _setting(config: dict[str, Any]) -> dict[str, Any]:
    drop = ARM_KEYS | {"study", "experiment", "dtype", "monitor_every", "saturation_eps", "objective"}
    return {k: v for k, v in config.items() if k not in drop}


def _names(exp: str, configs: dict[str, dict[str, Any]]) -> tuple[dict[str, str], dict[str, str]]:
    """Each arm's display name and full description: the unit's short name (names.display), the gate's for a
    recurrent net (the candidate and cell in the description), the noise schedule for the 1-D runs."""
    labels, specs = {}, {}
    for arm, c in configs.items():
        if exp in ("escape", "ordinary"):
            labels[arm], specs[arm] = display(c["activation"]), c["activation"]
        elif exp in ("gru_adding", "lstm_unique"):
            labels[arm] = display(c["gate"]) + {"annealed": ", annealed", "constant": ", constant"}.get(arm, "")
            specs[arm] = f"gates {c['gate']}; candidate {c['candidate']}" + (
                f"; cell {c['cell']}" if c.get("cell") else "") + _schedule(c, "c")
        else:
            step = "x ← x − lr·f′(x + s·ε)" if c.get("noise_on") == "parameter" else "x ← x − lr·(f′(x) + s·ε)"
            labels[arm] = ONE_D.get(arm, arm)
            s = c.get("noise_c", 0.0)
            specs[arm] = f"{step}, s = {s:g}" + _schedule({**c, "anneal_start": s}, "s")
    seen: dict[str, int] = defaultdict(int)
    for v in labels.values():
        seen[v] += 1
    return {a: (v if seen[v] == 1 else f"{v} ({a})") for a, v in labels.items()}, specs


def _schedule(c: dict[str, Any], name: str) -> str:
    if "anneal_kind" not in c:
        return ""
    return (f"; {name} annealed {c['anneal_start']:g} → {c['anneal_end']:g} ({c['anneal_kind']}) over the first "
            f"{100 * c['anneal_fraction']:.0f} % of the steps")
