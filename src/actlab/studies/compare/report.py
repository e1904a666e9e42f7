"""A comparison as one self-contained HTML page: the answer first, then the table, the CD diagram, the
learning curves and every trial (every string through the report's one escaping renderer)."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from actlab._version import __version__
from actlab.report import render
from actlab.report.kit import Block, Details, Figure, Paragraph, Section, Table

CompareResult = Any
"""actlab.studies.compare.results.CompareResult (not imported: results imports this module)."""


def _num(v: float, fmt: str = ".4f") -> str:
    return "—" if not math.isfinite(v) else format(v, fmt)


def sections(r: CompareResult) -> list[Section]:
    m = r.metric
    rows = [[row.activation, _num(row.lr, "g"), _num(row.val_mean), _num(row.test_mean),
             f"{_num(row.ci[0])} – {_num(row.ci[1])}", _num(row.grid_mean), _num(row.diff, "+.4f"),
             _num(row.p_holm, ".3g"), _num(row.effect, "+.2f"), _num(row.rank, ".2f"), row.mode,
             str(row.failed), _num(row.seconds_per_epoch, ".4f"), f"{row.peak_memory / 2**20:.1f}"] for row in r.rows]
    table = Table(["activation", "lr (chosen)", f"val {m}", f"test {m}", "95% CI", "test, grid mean",
                   f"vs {r.baseline}", "p (Holm)", "effect r", "rank", "trained as", "failed", "s / trial-epoch",
                   "peak MiB"],
                  rows, caption=f"Chosen on validation: {r.rule}.")
    blocks: list[Block] = [table, Paragraph(_settings(r))]
    if math.isfinite(r.cd):
        from actlab.report.cd_diagram import cd_diagram
        from actlab.report.figures import png

        ranked = [row for row in r.rows if math.isfinite(row.rank)]
        fig = cd_diagram([row.activation for row in ranked], [row.rank for row in ranked], r.cd)
        blocks.append(Figure(png(fig), f"Average test ranks over seeds (1 = best); Friedman p = {r.friedman_p:.3g}; "
                                       f"bars join activations closer than Nemenyi's CD = {r.cd:.3g}."))
    blocks.append(Figure(_curves(r), f"Validation {m} per epoch at each activation's chosen learning rate "
                                     "(mean over seeds)."))
    mon = r.monitor()
    if mon:
        blocks.append(Table(["activation", "layer", "dead units", "saturated units", "gradient RMS at its input"],
                            [[m["activation"], m["layer"], _num(m["dead"], ".1%"), _num(m["saturated"], ".1%"),
                              _num(m["grad_rms"], ".3g")] for m in mon],
                            caption="The monitor at each trial's selected epoch, on the validation split (mean "
                                    "over seeds at the chosen learning rate): dead, the share of units whose f' is 0 "
                                    "on every row; saturated, the share of inputs where |f'| is below the monitor's "
                                    "threshold (actlab.diagnose, eps 0.05)."))
    if r.variance:
        blocks.append(Paragraph("Variance of the test metric explained (η², sequential): " + ", ".join(
            f"{k} {v:.1%}" for k, v in r.variance.items()) + "."))
    why = [f"{a}: {mode}{' — ' + reason if reason else ''}" for a, (mode, reason) in r.runs.items()]
    blocks.append(Paragraph("How each activation trained: " + "; ".join(why) + "."))
    trials = Table(["activation", "seed", "lr", f"val {m}", f"test {m}", "best epoch", "failed"],
                   [[t.activation, str(t.seed), f"{t.lr:g}", _num(t.val), _num(t.test), str(t.best_epoch), t.failed]
                    for t in r.trials])
    blocks.append(Details(f"Every trial ({len(r.trials)})", [trials]))
    return [Section("Which activation for this model and these data?", blocks,
                    question="Which activation should this model use on these data?", answer=[r.answer()])]


def _settings(r: CompareResult) -> str:
    s = r.settings
    return (f"Task: {r.task} ({r.metric}); data: {r.data}; {len(s['seeds'])} seeds; learning rates "
            f"{', '.join(f'{v:g}' for v in s['lr'])}; optimizer {s['optimizer']}; {s['epochs']} epochs; batch size "
            f"{s['batch_size']}; validation {s['val_fraction']:g}, test {s['test_fraction']:g} of the rows unless "
            "given. A seed fixes the split, the initial weights and the minibatch order for every activation.")


def _curves(r: CompareResult) -> str:
    from actlab.report.figures import plt, png

    fig, ax = plt.subplots(figsize=(6, 3.2))
    for row in r.rows:
        curves = [t.val_curve for t in r.trials if t.activation == row.activation and t.lr == row.lr and t.val_curve]
        if curves:
            mean = np.nanmean(np.where(np.isfinite(curves), curves, np.nan), axis=0)
            ax.plot(np.arange(1, len(mean) + 1), mean, label=row.activation)
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"validation {r.metric}")
    if ax.lines:
        ax.legend(fontsize=7)
    return png(fig)


def write(r: CompareResult, path: Path) -> Path:
    made = f"actlab {__version__} compare, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
    secs = sections(r)
    path.write_text(render.page(render.Page("actlab compare", made, [], secs, secs)), encoding="utf-8")
    return path
