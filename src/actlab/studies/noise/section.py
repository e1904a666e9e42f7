"""The report's noise section, from the study's results: the answer (two computed sentences and the escape
experiment's curves), the claims with their verdicts, then per experiment a table of its arms and one figure
(every seed's metric, the training loss, the saturated fraction per layer)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from actlab.report.figures import colours, finish_grid, plt
from actlab.report.kit import Block, Cell, Details, Figure, Paragraph, Section, Table
from actlab.report.names import legend
from actlab.studies.claims import COLOURS, VERDICTS
from actlab.studies.noise.claims import LOWER_IS_BETTER, MIN_PAIRS, SPECS, fmt, numbers, rule_text
from actlab.studies.noise.results import WORDS, Experiment, NoiseResults
from actlab.studies.noise.study import QUESTION

TITLE = "Noise and saturation"
SECOND = {"escape": "test_accuracy", "ordinary": "final_loss", "gru_adding": "mean_loss", "lstm_unique": "final_loss",
          "one_d": "final_loss"}
"""The metric each experiment's table shows next to its own."""
LEADS = {"escape": "In the deep MLP started in saturation", "ordinary": "In the deep MLP at an ordinary initialisation",
         "gru_adding": "In the GRU on the adding problem", "lstm_unique": "In the LSTM counting distinct values",
         "one_d": "In gradient descent on the 1-D function"}


def section(r: NoiseResults) -> Section | None:
    if not r.experiments:
        return None
    col = colours(sorted({label for e in r.experiments.values() for label in e.labels.values()}))
    blocks: list[Block] = [Paragraph(_design(r)), _claims_table(r)]
    for e in r.experiments.values():
        blocks += [_arms_table(e), Figure(_experiment_figure(e, col), _caption(e))]
    units = [s for e in r.experiments.values() if e.name != "one_d" for s in _units(e)]
    if (names := legend(units)):
        blocks.append(Paragraph(f"Names: {names}."))
    blocks += [Details("The fixed setting of each experiment (no arm is tuned)", [_settings_table(r)]),
               Details("The rule behind each verdict", [Table(["claim", "rule"], [[s.id, rule_text(s)] for s in SPECS
                                                                                if s.id in r.verdicts])])]
    first = next(iter(r.experiments.values()))
    fig = Figure(_answer_figure(first, col), f"{first.title}: training loss and saturated units, per arm (median and "
                                        "quartiles over seeds)")
    return Section(TITLE, blocks, question=QUESTION, answer=answer(r), figure=fig)


def answer(r: NoiseResults) -> list[str]:
    """Two sentences: the first experiment's reference arm against the others (medians), and the verdicts'
    tally (with why nothing is decided when the seeds are too few)."""
    e = next(iter(r.experiments.values()))
    others = [e.spread(a)[1] for a in e.arms if a != e.reference]
    words = WORDS.get(e.metric, e.metric)
    ref = fmt(e.spread(e.reference)[1])
    rest = f", the other arms at {_range(others)}" if others else ""
    first = (f"{LEADS.get(e.name, e.title)}, {e.label(e.reference)} ends at a median {words} of {ref}{rest} "
             f"({len(e.seeds)} seeds).")
    vs = list(r.verdicts.values())
    if not vs:
        return [first]
    tally = ", ".join(f"{sum(v.verdict == k for v in vs)} {k}" for k in VERDICTS if any(v.verdict == k for v in vs))
    most = max(v.n for v in vs)
    few = (f"; {most} paired seeds are too few to decide (a test needs at least {MIN_PAIRS})"
           if most < MIN_PAIRS else "")
    return [first, f"Of the {len(vs)} claims this store can judge: {tally}{few}."]


def _range(vs: list[float]) -> str:
    lo, hi = min(vs), max(vs)
    return fmt(lo) if fmt(lo) == fmt(hi) else f"{fmt(lo)} to {fmt(hi)}"


def _design(r: NoiseResults) -> str:
    seeds = sorted({s for e in r.experiments.values() for s in e.seeds})
    hidden = sum(e.not_shown for e in r.experiments.values())
    more = (f" The store holds {hidden} more trials of these experiments at other setups (another preset's); each "
            "experiment shows its setup with the most trials (ties: more steps, then the later run)."
            if hidden else "")
    return (f"{r.trials:,} trials, {len(seeds)} seeds. Every arm of an experiment ran the same seeds (one seed: one "
            "data draw and one initialisation), so arms are compared seed by seed: the mean paired difference with "
            "its 95 % bootstrap CI and a Wilcoxon signed-rank test. Nothing is tuned: every arm of an experiment "
            "runs one fixed setting (optimizer, learning rate, steps), listed below. Test metrics are taken in eval "
            "mode, where a noisy unit returns its expectation; the saturated fraction is the monitor's share of "
            "pre-activations where |f′| < eps·max|f′| during training." + more)


def _claims_table(r: NoiseResults) -> Table:
    rows: list[list[str | Cell]] = []
    ids = []
    for s in SPECS:
        j = r.verdicts.get(s.id)
        e = r.experiments.get(s.experiment)
        if j is None or e is None:
            rows.append([Cell(s.id, title=s.sentence), s.sentence, "not run in this store", ""])
        else:
            rows.append([Cell(s.id, title=rule_text(s)), s.sentence, numbers(j, e.labels),
                         Cell(j.verdict, colour=COLOURS.get(j.verdict, ""))])
        ids.append(f"noise-{s.id}")
    return Table(["claim", "the article says", "measured (means; difference arm − reference)", "verdict"], rows,
                 "The article's training claims, each judged by its rule (below) on the paired seeds", ids)


def _iqr(e: Experiment, arm: str, metric: str) -> str:
    q1, med, q3 = e.spread(arm, metric)
    return "–" if math.isnan(med) else f"{fmt(med)} ({fmt(q1)}–{fmt(q3)})"


def _arms_table(e: Experiment) -> Table:
    second = SECOND.get(e.name, "final_loss")
    rows: list[list[str | Cell]] = []
    for a in e.arms:
        j = e.versus(a) if a != e.reference else None
        diff = "reference" if a == e.reference else "–" if j is None or j.n == 0 else \
            f"{fmt(j.diff, '+')} [{fmt(j.ci[0], '+')}, {fmt(j.ci[1], '+')}]"
        p = "" if j is None or j.n == 0 else f"{j.p_value:.2g}"
        n = len(e.values.get(e.metric, {}).get(a, {}))
        rows.append([Cell(e.label(a), title=e.specs.get(a, a)), _iqr(e, a, e.metric),
                     _iqr(e, a, second), diff, p, str(n)])
    head = [f"{WORDS.get(e.metric, e.metric)}: median (IQR)", f"{WORDS.get(second, second)}: median (IQR)",
            f"vs {e.label(e.reference)}: mean difference [95 % CI]", "Wilcoxon p", "seeds"]
    better = "lower" if e.metric in LOWER_IS_BETTER else "higher"
    return Table(["arm", *head], rows, f"{e.title} ({WORDS.get(e.metric, e.metric)}: {better} is better)")


def _units(e: Experiment) -> list[str]:
    """The unit specs of an experiment's arms (MLP activations; the recurrent nets' gates and candidates)."""
    out = []
    for text in e.specs.values():
        out += [part.split(" ", 1)[-1] for part in text.split("; ") if part.startswith(("gates ", "candidate ",
                                                                                         "cell "))] or [text]
    return out


def _settings_table(r: NoiseResults) -> Table:
    rows = [[e.name, ", ".join(f"{k} {v}" for k, v in e.setting.items())] for e in r.experiments.values()]
    return Table(["experiment", "setting (every arm, every seed)"], rows)


def _caption(e: Experiment) -> str:
    return (f"{e.title}: {WORDS.get(e.metric, e.metric)} per arm (one point per seed, a grey line joins a seed's "
            "arms), the training loss (median and quartiles over seeds) and the saturated fraction of each "
            "activation layer (mean over seeds)")


def _layer(e: Experiment, name: str) -> str:
    if e.name in ("escape", "ordinary") and name.isdigit():
        return f"hidden layer {(int(name) + 1) // 2}"
    return name.replace("rnn.activations.0.", "")


def _loss_panel(ax: Any, e: Experiment, col: dict[str, Any]) -> None:
    for a in e.arms:
        curve = e.loss.get(a, [])
        if not curve:
            continue
        steps, q1, med, q3 = (np.array(v) for v in zip(*curve))
        ax.plot(steps, med, color=col[a], label=e.label(a))
        ax.fill_between(steps, q1, q3, color=col[a], alpha=0.15, lw=0)
    ax.set(title="training loss" if e.name != "one_d" else "mean f(x) over the starts", xlabel="step")


def _saturation_panel(ax: Any, e: Experiment, layer: str, col: dict[str, Any]) -> None:
    for a, line in e.saturated[layer].items():
        if line:
            ax.plot(*zip(*line), color=col[a], label=e.label(a))
    ax.set(title=f"saturated: {_layer(e, layer)}", xlabel="step", ylim=(-0.02, 1.02))


def _seeds_panel(ax: Any, e: Experiment, col: dict[str, Any]) -> None:
    values = e.values.get(e.metric, {})
    for s in e.seeds:
        pts = [(i, values[a][s]) for i, a in enumerate(e.arms) if s in values.get(a, {})]
        if len(pts) > 1:
            ax.plot(*zip(*pts), color="0.82", lw=0.7, zorder=1)
    for i, a in enumerate(e.arms):
        v = list(values.get(a, {}).values())
        ax.scatter([i] * len(v), v, color=col[a], s=14, zorder=2)
        if v:
            ax.hlines(np.median(v), i - 0.25, i + 0.25, color=col[a], lw=2, zorder=3)
    ax.set_xticks(range(len(e.arms)), [e.label(a) for a in e.arms], rotation=30, ha="right", fontsize=7)
    ax.set(title=WORDS.get(e.metric, e.metric) + (" (lower is better)" if e.metric in LOWER_IS_BETTER else ""),
           xlim=(-0.5, len(e.arms) - 0.5))


def _experiment_figure(e: Experiment, col: dict[str, Any]) -> str:
    by_arm = {a: col[e.label(a)] for a in e.arms}
    n = 2 + len(e.saturated)
    nrows = -(-n // 4)
    ncols = -(-n // nrows)  # the panels spread evenly over as few rows of at most 4 as hold them
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 3.0 * nrows), squeeze=False)
    flat = [ax for row in axes for ax in row]
    _loss_panel(flat[0], e, by_arm)  # first: the figure's legend is this panel's
    _seeds_panel(flat[1], e, by_arm)
    for k, layer in enumerate(e.saturated):
        _saturation_panel(flat[2 + k], e, layer, by_arm)
    return finish_grid(fig, axes, n, legend_columns=min(len(e.arms), 4))


def _answer_figure(e: Experiment, col: dict[str, Any]) -> str:
    by_arm = {a: col[e.label(a)] for a in e.arms}
    n = 1 + min(1, len(e.saturated))
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.0), squeeze=False)
    _loss_panel(axes[0][0], e, by_arm)
    if e.saturated:
        _saturation_panel(axes[0][1], e, next(iter(e.saturated)), by_arm)
    return finish_grid(fig, axes, n, legend_columns=min(len(e.arms), 3))
