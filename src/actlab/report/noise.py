"""The report's noise section: per experiment the arms' spread over seeds, paired tests against the
reference arm, training-loss and saturated-fraction curves, and a verdict per claim (noise_claims.py)."""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from actlab.report.aggregate import load
from actlab.report.figures import colours, finish_grid, plt
from actlab.report.noise_claims import CLAIMS, LOWER_IS_BETTER, by_arm, paired, sentence, verdicts_of
from actlab.report.single_sample import Section, _img
from actlab.results.store import Store

STUDY = "noise"
EXPERIMENTS = {  # experiment → (title, primary metric, reference arm)
    "escape": ("Escape from saturation: deep MLP on digits, saturated initialisation", "final_loss", "hard_tanh"),
    "ordinary": ("Ordinary initialisation: deep MLP on digits", "test_accuracy", "hard_tanh"),
    "gru_adding": ("GRU on the adding problem", "test_mse", "hard"),
    "lstm_unique": ("LSTM counting distinct values", "test_accuracy", "constant"),
    "one_d": ("Gradient descent on f(x) = x²/10 − cos(3x)", "share_global", "none"),
}


def verdicts(store: str | Path) -> list[dict[str, Any]]:
    """Every claim the store can judge: {id, experiment, claim, arm, reference, metric, kind, margin, rule,
    numbers, verdict} with verdict "reproduced", "not reproduced" or "inconclusive"."""
    return verdicts_of(load(store, STUDY))


def section(store: str | Path) -> Section | None:
    trials = load(store, STUDY)
    if not trials:
        return None
    judged = verdicts_of(trials)
    seeds = len({t["seed"] for t in trials})
    parts = [f"<p>{len(trials):,} trials, {seeds} seeds; every arm of an experiment ran the same seeds (one seed: "
             "one data draw and one initialisation), so arms are compared pair by pair (Wilcoxon signed-rank, "
             "95% bootstrap CI of the mean paired difference). Saturated fraction: the monitor's share of "
             "pre-activations where |f′| < eps·max|f′| (training forwards, mean over seeds). Test metrics in "
             "eval mode, where a noisy unit returns its expectation.</p>"]
    for exp, (title, metric, ref) in EXPERIMENTS.items():
        ts = [t for t in trials if t["config"].get("experiment") == exp]
        if not ts:
            continue
        arms = list(dict.fromkeys(t["config"]["arm"] for t in ts))
        parts += [f"<h3>{html.escape(title)}</h3>", _img(spread(ts, arms, metric), f"{exp}: {metric} per arm, one "
                                                         "point per seed"),
                  test_table(ts, arms, metric, ref if ref in arms else arms[0])]
        parts.append(_img(curves(store, ts, arms), f"{exp}: training loss (median over seeds) and saturated "
                                                   "fraction per layer (mean over seeds)"))
        mine = [v for v in judged if v["experiment"] == exp]
        if mine:
            parts.append(verdict_table(mine))
    return Section("Noise and saturation", [sentence(v) for v in judged], "\n".join(parts))


def spread(ts: list[dict[str, Any]], arms: list[str], metric: str) -> str:
    """Box per arm with every seed's value on it (jittered), lines joining a seed across arms."""
    values = by_arm(ts, ts[0]["config"]["experiment"], metric)
    col = colours(arms)
    fig, ax = plt.subplots(figsize=(1.2 * len(arms) + 2, 3.2))
    data = [[values.get(a, {}).get(s, np.nan) for s in sorted(values.get(a, {}))] for a in arms]
    ax.boxplot([d if d else [np.nan] for d in data], widths=0.5, showfliers=False)
    seeds = sorted({s for a in arms for s in values.get(a, {})})
    rng = np.random.default_rng(0)
    jitter = {s: rng.uniform(-0.12, 0.12) for s in seeds}
    for s in seeds:
        xs = [i + 1 + jitter[s] for i, a in enumerate(arms) if s in values.get(a, {})]
        ys = [values[a][s] for a in arms if s in values.get(a, {})]
        ax.plot(xs, ys, color="0.8", lw=0.6, zorder=1)
    for i, a in enumerate(arms):
        pts = values.get(a, {})
        ax.scatter([i + 1 + jitter[s] for s in pts], list(pts.values()), color=col[a], s=14, zorder=2)
    ax.set_xticks(range(1, len(arms) + 1), arms, rotation=20)
    ax.set_ylabel(metric + (" (lower is better)" if metric in LOWER_IS_BETTER else ""))
    fig.tight_layout()
    return finish_grid(fig, [[ax]], 1)


def test_table(ts: list[dict[str, Any]], arms: list[str], metric: str, ref: str) -> str:
    """Each arm against the reference: mean, paired difference, its CI, Wilcoxon p and effect size."""
    from actlab.analysis.stats import bootstrap_ci, paired_test

    values = by_arm(ts, ts[0]["config"]["experiment"], metric)
    rows = []
    for a in arms:
        mean = np.mean(list(values.get(a, {}).values())) if values.get(a) else np.nan
        cells = [html.escape(a), f"{mean:.4g}"]
        x, y = paired(values, a, ref)
        if a != ref and x.size > 1:
            t = paired_test(x, y)
            lo, hi = bootstrap_ci(x - y)
            cells += [f"{t.mean_diff:+.4g}", f"[{lo:+.3g}, {hi:+.3g}]", f"{t.p_value:.3g}", f"{t.effect_size:+.2f}",
                      str(t.n)]
        else:
            cells += ["reference" if a == ref else "", "", "", "", str(x.size)]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = (f"<tr><th>arm</th><th>mean {html.escape(metric)}</th><th>mean paired diff vs {html.escape(ref)}</th>"
            "<th>95% CI</th><th>Wilcoxon p</th><th>rank-biserial r</th><th>pairs</th></tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def verdict_table(vs: list[dict[str, Any]]) -> str:
    rows = "".join(f"<tr><td>{html.escape(v['claim'])}</td><td>{html.escape(v['rule'])}</td>"
                   f"<td><b>{html.escape(v['verdict'])}</b></td></tr>" for v in vs)
    return f"<table><tr><th>claim</th><th>rule</th><th>verdict</th></tr>{rows}</table>"


def curves(store: str | Path, ts: list[dict[str, Any]], arms: list[str]) -> str:
    """Panel 1: median training loss over seeds per arm; then one panel per activation layer: the
    saturated fraction (mean over seeds) per arm."""
    with Store(store, create=False) as s:
        stored = s.curves(t["trial_id"] for t in ts)
    layers = list(dict.fromkeys(name for t in ts for name in t["metrics"].get("saturated", {})))
    col = colours(arms)
    n = 1 + len(layers)
    ncols = min(n, 3)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4 * ncols, 2.8 * nrows), squeeze=False)
    flat = [ax for row in axes for ax in row]
    for a in arms:
        mine = [t for t in ts if t["config"]["arm"] == a]
        _pooled_line(flat[0], [stored.get(t["trial_id"], []) for t in mine], col[a], a, np.nanmedian)
        for k, layer in enumerate(layers):
            _pooled_line(flat[k + 1], [t["metrics"].get("saturated", {}).get(layer, []) for t in mine], col[a], a,
                         np.mean)
    flat[0].set(title="training loss", xlabel="step")
    for k, layer in enumerate(layers):
        short = layer.replace("rnn.activations.0.", "")
        flat[k + 1].set(title=f"saturated: {short}", xlabel="step", ylim=(-0.02, 1.02))
    flat[0].legend(fontsize=7)
    return finish_grid(fig, axes, n)


def _pooled_line(ax: Any, series: list[Any], colour: Any, label: str, stat: Callable[..., Any]) -> None:
    """One line over the trials' curves [(step, value), …]: `stat` of the values recorded at each step."""
    by_step: dict[int, list[float]] = defaultdict(list)
    for curve in series:
        for step, v in curve:
            by_step[int(step)].append(float(v))
    if by_step:
        steps = sorted(by_step)
        ax.plot(steps, [stat(by_step[s]) for s in steps], color=colour, label=label)


__all__ = ["CLAIMS", "section", "verdicts"]
