"""What `actlab run noise` prints after the study: per experiment its arms (the experiment's metric, median
and quartiles over seeds, and the paired difference from the reference arm), with the verdict of each of its
claims under the table. The numbers are the results object's, as the report shows them."""

from __future__ import annotations

from rich.table import Table

from actlab.studies.noise.claims import LOWER_IS_BETTER, SPECS, fmt, numbers
from actlab.studies.noise.results import WORDS, Experiment, NoiseResults


def summary(r: NoiseResults) -> list[Table]:
    return [_table(e, r) for e in r.experiments.values()]


def _table(e: Experiment, r: NoiseResults) -> Table:
    words = WORDS.get(e.metric, e.metric)
    better = "lower" if e.metric in LOWER_IS_BETTER else "higher"
    verdicts = [(s, r.verdicts[s.id]) for s in SPECS if s.experiment == e.name and s.id in r.verdicts]
    caption = "\n".join(f"{s.id}: {j.verdict} — {numbers(j, e.labels)}" for s, j in verdicts)
    t = Table(title=f"noise, {e.title}: {words} ({better} is better), {len(e.seeds)} seeds, one fixed setting",
              caption=caption or None, caption_justify="left")
    t.add_column("arm")
    t.add_column(f"{words}: median", justify="right")
    t.add_column("IQR", justify="right")
    t.add_column(f"vs {e.label(e.reference)}: mean diff [95 % CI]", justify="right")
    t.add_column("p", justify="right")
    for a in e.arms:
        q1, med, q3 = e.spread(a)
        j = e.versus(a) if a != e.reference else None
        diff = "reference" if a == e.reference else "–" if j is None or j.n == 0 else \
            f"{fmt(j.diff, '+')} [{fmt(j.ci[0], '+')}, {fmt(j.ci[1], '+')}]"
        t.add_row(e.label(a), fmt(med), f"{fmt(q1)}–{fmt(q3)}", diff,
                  "" if j is None or j.n == 0 else f"{j.p_value:.2g}")
    return t
