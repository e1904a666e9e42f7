"""The report's planar section and the terminal summary, from the study's results: the answer (which
activations learn which setups, and how wide the network must be) with accuracy against width, a
table of the smallest width that learns each setup, then — folded — the accuracy of every cell, the
setting chosen for it on validation accuracy, and each setup's decision boundaries, feature spaces
and neurons."""

from __future__ import annotations

from typing import Any

import numpy as np

from actlab.report.kit import Cell, Details, Figure, Paragraph, Section, Table
from actlab.report.names import displays, legend
from actlab.studies.planar import plots
from actlab.studies.planar.results import GOOD, PlanarResults, Setup, accuracies, median_test
from actlab.studies.planar.study import QUESTION
from actlab.studies.selection import Choice

TITLE = "Planar: what can each activation learn?"
GREEN, RED = "#2e7d32", "#c62828"


def learned(r: PlanarResults) -> dict[str, tuple[int, int]]:
    """Activation → (setups on which it reaches `GOOD` median test accuracy at some width, setups it ran on)."""
    out = {}
    for a in r.activations:
        ran = [s for s in r.setups if any(row[0] == a for row in s.rows)]
        out[a] = (sum(any(s.smallest_width(row) is not None for row in s.rows if row[0] == a) for s in ran), len(ran))
    return out


def _names(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def answer(r: PlanarResults) -> list[str]:
    """Two sentences by rule. First: the activations with the largest share of their setups learned (median
    test accuracy ≥ `GOOD` at some width), and those with the smallest. Second: the narrowest width that
    learns a setup — how many setups some activation learns at the smallest such width, which setup needs
    the most, and the setups no activation learns."""
    names, k = displays(r.activations), learned(r)
    share = {a: k[a][0] / k[a][1] for a in r.activations}
    top, low = max(share.values()), min(share.values())
    best = [names[a] for a in r.activations if share[a] == top]
    verb, they = ("reaches", "it") if len(best) == 1 else ("reach", "they")
    first = f"{_names(best)} {verb} {GOOD:.0%} median test accuracy on "
    if top == 1:
        first += f"every setup {they} ran on"
    else:
        a0 = next(a for a in r.activations if share[a] == top)
        first += f"the largest share of setups ({k[a0][0]} of {k[a0][1]})"
    if low < top:
        worst = [a for a in r.activations if share[a] == low]
        first += f"; {_names([names[a] for a in worst])} on the smallest ({k[worst[0]][0]} of {k[worst[0]][1]})"
    narrow = {s.label: min((w for row in s.rows if (w := s.smallest_width(row)) is not None), default=None)
              for s in r.setups}
    found = {lab: w for lab, w in narrow.items() if w is not None}
    never = [lab for lab, w in narrow.items() if w is None]
    if not found:
        return [first + ".", f"No activation reaches it on any setup at the widths run (up to {max_width(r)})."]
    lo, hi = min(found.values()), max(found.values())
    second = (f"Some activation reaches it with {lo} hidden neuron{'s' if lo > 1 else ''} on "
              f"{sum(w == lo for w in found.values())} of {len(r.setups)} setups")
    if hi > lo:
        second += f"; the hardest ({max(found, key=lambda lab: found[lab])}) needs {hi}"
    second += f"; none does on {_names(never)}." if never else "."
    return [first + ".", second]


def max_width(r: PlanarResults) -> int:
    return max(w for s in r.setups for w in s.widths)


def reach_table(r: PlanarResults) -> Table:
    """Activation × setup: the smallest width reaching `GOOD` median test accuracy."""
    names = displays(r.activations)
    rows = list(dict.fromkeys(row for s in r.setups for row in s.rows))
    body = []
    for row in rows:
        cells: list[str | Cell] = [Cell(plots.row_name(row, names), title=row[0])]
        for s in r.setups:
            if row not in s.rows:
                cells.append("")
                continue
            w = s.smallest_width(row)
            cells.append(Cell(str(w), colour=GREEN) if w is not None else Cell(f"none ≤ {s.widths[-1]}", colour=RED))
        body.append(cells)
    return Table(["activation", *[s.label for s in r.setups]], body,
                 f"The smallest hidden width whose chosen setting reaches {GOOD:.0%} median test accuracy "
                 "(none: not at any width run)")


def hover(c: Choice) -> str:
    """A cell's chosen setting and its numbers (a table cell's title)."""
    q1, q3 = np.percentile(accuracies(c.trials), [25, 75])
    return (f"{c.setting['optimizer']} lr {c.setting['lr']:g} (chosen of {len(c.scores)}); mean validation "
            f"accuracy {c.score:.3f}; test IQR {q1:.2f}–{q3:.2f}; {len(c.trials)} seeds")


def accuracy_table(s: Setup, names: dict[str, str]) -> Table:
    body = []
    for row in s.rows:
        cells: list[str | Cell] = [Cell(plots.row_name(row, names), title=row[0])]
        for w in s.widths:
            c = s.cells.get((row, w))
            m = median_test(c) if c is not None else None
            cells.append("" if c is None or m is None else
                         Cell(f"{m:.0%}", title=hover(c), colour=GREEN if m >= GOOD else ""))
        body.append(cells)
    return Table(["activation", *[f"width {w}" for w in s.widths]], body,
                 f"{s.label}: median test accuracy of each cell's chosen setting (hover: the setting, its validation "
                 "score, the test IQR)")


def choices_table(r: PlanarResults, names: dict[str, str]) -> Table:
    """Every cell's chosen optimizer and learning rate, with its validation score and median test accuracy."""
    body: list[list[str | Cell]] = []
    for s in r.setups:
        for (row, w), c in sorted(s.cells.items(), key=lambda kv: (s.rows.index(kv[0][0]), kv[0][1])):
            others = "; ".join(f"{st['optimizer']} {st['lr']:g}: {sc:.3f}" for st, sc, _ in c.scores)
            body.append([s.label, Cell(plots.row_name(row, names), title=row[0]), str(w), str(c.setting["optimizer"]),
                         f"{c.setting['lr']:g}", Cell(f"{c.score:.3f}", title=others), f"{median_test(c):.3f}",
                         str(len(c.trials))])
    return Table(["setup", "activation", "width", "optimizer", "lr", "validation accuracy (mean)",
                  "test accuracy (median)", "seeds"], body,
                 "The setting chosen for each cell (hover on the validation score: every setting's score)")


def setup_details(s: Setup, names: dict[str, str]) -> Details:
    figs = [Figure(plots.boundaries(s, names, average=False),
                   f"{s.label}: decision boundary of the representative seed (the lowest of the chosen setting's "
                   "seeds; orange points class 1, cyan class 0; white line p = 0.5; background P(class 1), red high)"),
            Figure(plots.boundaries(s, names, average=True), f"{s.label}: P(class 1) averaged over the seeds")]
    if {2, 3} & set(s.widths):
        figs.append(Figure(plots.feature_space(s, names), f"{s.label}: the hidden layer's outputs (width 2 and 3) "
                           "with the output unit's separating line / plane"))
    figs.append(Figure(plots.neurons(s, names), f"{s.label}: what each hidden neuron computes"))
    return Details(f"{s.label}: decision boundaries, feature space and hidden neurons ({len(figs)} figures)", figs)


def section(r: PlanarResults | None) -> Section | None:
    if r is None or not r.choices:
        return None
    names = displays(r.activations)
    widths = sorted({w for s in r.setups for w in s.widths})
    ran = (f"{r.trials:,} trials in {len(r.setups)} setups (a dataset with its step budget and init), "
           f"{len(r.activations)} activations, widths {', '.join(map(str, widths))}, {r.seeds} seeds.")
    rule = (f"Selection: {r.rule.text()}. The validation set is a fresh draw of each trial's dataset, as large as "
            "its test part (from its own seed stream); the test accuracy is read once, on the final weights.")
    if r.recomputed:
        rule += (f" {r.recomputed:,} trials were stored before the validation split: their validation accuracy was "
                 "computed from their stored weights.")
    blocks: list[Any] = [Paragraph(ran), Paragraph(rule), reach_table(r),
                         Details(f"Median test accuracy per activation and width ({len(r.setups)} tables)",
                                 [accuracy_table(s, names) for s in r.setups]),
                         Details(f"The chosen optimizer and learning rate of every cell ({len(r.choices)} cells)",
                                 [choices_table(r, names)])]
    blocks += [setup_details(s, names) for s in r.setups]
    if legend(r.activations):
        blocks.append(Paragraph(f"Names: {legend(r.activations)}."))
    fig = Figure(plots.accuracy_vs_width(r), "Median test accuracy (band: IQR over seeds) against hidden width, "
                 f"per setup, each cell at its chosen setting; dotted line: {GOOD:.0%}")
    return Section(TITLE, blocks, QUESTION, answer(r), fig)


def summary(r: PlanarResults | None) -> list[Any]:
    """What `actlab run planar` prints: median test accuracy per activation × width, one table per setup."""
    from rich.table import Table as RichTable

    if r is None:
        return []
    names = displays(r.activations)
    out = []
    for s in r.setups:
        table = RichTable(title=f"planar, {s.label}: median test accuracy (optimizer and lr chosen per cell on "
                                "validation accuracy)")
        table.add_column("activation")
        for w in s.widths:
            table.add_column(f"width {w}", justify="right")
        for row in s.rows:
            table.add_row(plots.row_name(row, names),
                          *[f"{median_test(s.cells[(row, w)]):.0%}" if (row, w) in s.cells else "" for w in s.widths])
        out.append(table)
    return out
