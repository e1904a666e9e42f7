"""The slope study's results (one arrangement of its stored trials), its report section and its terminal
summary: all three read the same `SlopeResults`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.table import Table as RichTable

from actlab.report import kit
from actlab.report.names import display
from actlab.studies.protocol import Stored
from actlab.studies.selection import Choice, Rule, select

TITLE = "Slope: how fast does gradient descent fit y = a·x?"
RULE = Rule(objective="success", tuned=("lr",), tie="final_loss")


@dataclass
class Row:
    choice: Choice
    """An activation's cell (every config value but the learning rate and the seed) at its best learning rate."""
    curve: list[tuple[int, float]]
    """The median loss curve over the seeds."""

    @property
    def activation(self) -> str:
        return str(self.choice.cell["activation"])

    @property
    def successes(self) -> str:
        return f"{sum(t['metrics']['success'] for t in self.choice.trials)}/{len(self.choice.trials)}"

    @property
    def median_loss(self) -> float:
        return float(np.median([t["metrics"]["final_loss"] for t in self.choice.trials]))


@dataclass
class SlopeResults:
    rows: list[Row]
    """Best first: highest success rate, then lowest median final loss."""


def results(stored: Stored) -> SlopeResults:
    rows = []
    for choice in select(stored.trials, RULE):
        curves = stored.curves([t["trial_id"] for t in choice.trials]).values()
        steps = [s for s, _ in next(iter(curves))]
        rows.append(Row(choice, list(zip(steps, np.median([[v for _, v in c] for c in curves], axis=0)))))
    rows.sort(key=lambda r: (-r.choice.score, r.median_loss))
    return SlopeResults(rows)


def section(r: SlopeResults) -> kit.Section | None:
    if not r.rows:
        return None
    from actlab.report.figures import plt, png

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for row in r.rows:
        ax.semilogy(*zip(*[(s, max(v, 1e-16)) for s, v in row.curve]), label=display(row.activation))
    ax.set(xlabel="step", ylabel="median mean squared error")
    ax.legend()
    best = r.rows[0]
    table = kit.Table(["activation", "learning rate", "reached the target", "median final loss"],
                      [[kit.Cell(display(x.activation), title=x.activation), f"{x.choice.setting['lr']:g}",
                        x.successes, f"{x.median_loss:.2e}"] for x in r.rows])
    return kit.Section(
        TITLE, [kit.Paragraph(f"Selection: {RULE.text()}."), table],
        question="Which activation lets gradient descent fit a line fastest?",
        answer=[f"`{display(best.activation)}` does best: {best.successes} seeds reach a loss below "
                f"{best.choice.cell['target']:g} (median final loss {best.median_loss:.1e})."],
        figure=kit.Figure(png(fig), "Median loss against step, per activation at its best learning rate."))


def summary(r: SlopeResults) -> list[RichTable]:
    table = RichTable(title="slope: fits of y = a·x, each activation at its best learning rate")
    for column in ("activation", "learning rate", "reached the target", "median final loss"):
        table.add_column(column)
    for x in r.rows:
        table.add_row(display(x.activation), f"{x.choice.setting['lr']:g}", x.successes, f"{x.median_loss:.2e}")
    return [table]
