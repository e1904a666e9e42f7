"""The terminal summary of the compare study: one rich table per comparison, its answer as the caption."""

from __future__ import annotations

import math

from rich.table import Table

from actlab.studies.compare.results import CompareResult


def _f(v: float, fmt: str = ".4f") -> str:
    return "–" if not math.isfinite(v) else format(v, fmt)


def summary(results: list[CompareResult]) -> list[Table]:
    tables = []
    for r in results:
        t = Table(title=f"compare: {r.data}, test {r.metric} at each activation's learning rate chosen on "
                        f"validation, {len(r.settings['seeds'])} seeds", caption=r.answer(), caption_justify="left")
        for col in ("activation", "lr", f"val {r.metric}", f"test {r.metric}", "95% CI", f"vs {r.baseline}",
                    "p (Holm)", "rank", "trained as"):
            t.add_column(col, justify="left" if col in ("activation", "trained as") else "right")
        for row in r.rows:
            t.add_row(row.activation, _f(row.lr, "g"), _f(row.val_mean), _f(row.test_mean),
                      f"{_f(row.ci[0])}–{_f(row.ci[1])}", _f(row.diff, "+.4f"), _f(row.p_holm, ".2g"),
                      _f(row.rank, ".2f"), row.mode + (f" ({row.failed} failed)" if row.failed else ""))
        tables.append(t)
    return tables
