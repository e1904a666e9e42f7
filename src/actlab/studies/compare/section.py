"""The report's compare section: each comparison in the store, its answer first (`report.sections`)."""

from __future__ import annotations

from actlab.report.kit import Paragraph, Section
from actlab.studies.compare.report import sections
from actlab.studies.compare.study import QUESTION


def section(results: list) -> Section | None:
    if not results:
        return None
    blocks, answers = [], []
    for r in results:
        (s,) = sections(r)
        blocks += [Paragraph(f"{r.data}: {r.answer()}"), *s.blocks]
        answers.append(r.answer() if len(results) == 1 else f"{r.data}: {r.answer()}")
    return Section("Compare: activations on a given model and data", blocks, question=QUESTION, answer=answers[:2])
