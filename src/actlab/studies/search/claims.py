"""The search's rows of the claims ledger: article 001 credits Swish to Ramachandran, Zoph and Le's search (2017);
these rows check that search's own observations (its §4) against actlab's search at laptop scale. Each verdict
comes from the stored search (`results.Results`) by the rule written in its row."""

from __future__ import annotations

import math
from collections.abc import Callable

from actlab.studies.claims import INCONCLUSIVE, NOT_REPRODUCED, NOT_RUN_HERE, REPRODUCED, Claim, Evidence, Measured
from actlab.studies.search.results import Results
from actlab.studies.search.study import NAME

SETUP = ("actlab run search as stored: the paper's one-unit space (and sampled two-unit functions where the preset "
         "draws them) screened and merged into classes of equal functions at β = 1, successive halving on real-data "
         "MLPs by validation accuracy, then the search's finalists tested with relu, silu and gelu; the paper searched "
         "with an RNN controller and ResNet-20 on CIFAR-10")
PERIODIC = {"sin(x)", "cos(x)", "sinc(x)"}


def _results(ev: Evidence) -> Results | None:
    r = ev.results(NAME)
    return r if isinstance(r, Results) and r.rungs and r.rungs[0].scored else None


def _finished(r: Results | None) -> bool:
    """Every rung ran and the last one chose finalists (a rung whose candidates all failed chooses none)."""
    return r is not None and len(r.pipeline.rungs) == len(r.config.rung_epochs) and bool(r.pipeline.rungs[-1].promoted)


def _first_rung(r: Results, keep: Callable[[dict], bool]) -> tuple[int, int]:
    """(promoted past rung 0, scored in rung 0) among the classes `keep` selects."""
    first = r.pipeline.rungs[0]
    specs = [s for s in first.candidates
             if keep(r.classes.get(s, {})) and not math.isnan(first.scores.get(s, math.nan))]
    return sum(s in first.promoted for s in specs), len(specs)


def _rate(k: int, n: int) -> str:
    return f"{k}/{n} = {k / n:.0%}" if n else "0/0"


def swish(ev: Evidence) -> Measured:
    r = _results(ev)
    if r is None or not _finished(r):
        return NOT_RUN_HERE
    from actlab.studies.search.section import SWISH

    cls = [c["spec"] for c in r.screen["classes"] if c["catalog"] == SWISH]
    if not cls:
        return Measured("Swish's class was not among the classes searched (a sample left it out)", INCONCLUSIVE)
    top = r.pipeline.rungs[-1].promoted
    reached = max(x.index for x in r.pipeline.rungs if cls[0] in x.scores)
    if cls[0] in top:
        return Measured(f"x·σ(x)'s class is among the search's {len(top)} finalists (of {r.rungs[0].candidates} "
                        "classes)", REPRODUCED)
    return Measured(f"x·σ(x)'s class was last trained in rung {reached} of {len(r.rungs)}; not among the "
                    f"{len(top)} finalists", NOT_REPRODUCED)


def _share_claim(ev: Evidence, keep: Callable[[dict], bool], what: str) -> Measured:
    """Finalists' share with the property against the share among the classes the search trained."""
    r = _results(ev)
    if r is None or not _finished(r):
        return NOT_RUN_HERE
    top = r.pipeline.rungs[-1].promoted
    space = r.pipeline.rungs[0].candidates
    k = sum(keep(r.classes.get(s, {})) for s in top)
    base = sum(keep(r.classes.get(s, {})) for s in space)
    if base in (0, len(space)):
        return Measured(f"every class searched {'is' if base else 'is not'} {what}: nothing to compare", INCONCLUSIVE)
    share, prior = k / len(top), base / len(space)
    numbers = f"{what}: {_rate(k, len(top))} of the finalists vs {_rate(base, len(space))} of the classes searched"
    return Measured(numbers, REPRODUCED if share > prior and share >= 0.5 else NOT_REPRODUCED)


def simple(ev: Evidence) -> Measured:
    return _share_claim(ev, lambda c: c.get("units") == 1, "one core unit")


def x_form(ev: Evidence) -> Measured:
    return _share_claim(ev, lambda c: bool(c.get("uses_x")), "of the form b(x, g(x))")


def periodic(ev: Evidence) -> Measured:
    """Among the classes with a periodic unary function, those adding it to or subtracting it from x are promoted
    past rung 0 more often than the other periodic ones."""
    r = _results(ev)
    if r is None:
        return NOT_RUN_HERE

    def is_periodic(c: dict) -> bool:
        return c.get("units") == 1 and bool(PERIODIC & set(c.get("unary", [])))

    def plus_x(c: dict) -> bool:
        return is_periodic(c) and bool(c.get("uses_x")) and c.get("binary") in ("x1+x2", "x1-x2")

    a = _first_rung(r, plus_x)
    b = _first_rung(r, lambda c: is_periodic(c) and not plus_x(c))
    if not a[1] or not b[1]:
        return Measured("the classes searched hold no periodic function added to x, or no other", INCONCLUSIVE)
    numbers = (f"promoted past rung 0: x ± periodic {_rate(*a)}; other periodic forms {_rate(*b)}")
    return Measured(numbers, REPRODUCED if a[0] / a[1] > b[0] / b[1] else NOT_REPRODUCED)


def division(ev: Evidence) -> Measured:
    """Classes whose binary function is x1 / (x2 + ε) are promoted past rung 0 less often than the rest."""
    r = _results(ev)
    if r is None:
        return NOT_RUN_HERE
    a = _first_rung(r, lambda c: c.get("binary") == "x1/(x2+eps)")
    b = _first_rung(r, lambda c: c.get("binary") != "x1/(x2+eps)")
    if not a[1] or not b[1]:
        return Measured("the classes searched hold no division, or nothing else", INCONCLUSIVE)
    numbers = f"promoted past rung 0: division {_rate(*a)}; every other binary function {_rate(*b)}"
    return Measured(numbers, REPRODUCED if a[0] / a[1] < b[0] / b[1] else NOT_REPRODUCED)


def claims() -> list[Claim]:
    def claim(n: int, sentence: str, rule: str, check: Callable[[Evidence], Measured]) -> Claim:
        return Claim(f"001-search-{n}", "001", sentence, SETUP, rule, NAME, check)

    return [
        claim(1, "Swish (x·σ(βx)) was found by an automated search as one of the best activations.",
              "reproduced if the class equal to x·σ(x) at β = 1 is among the search's finalists (the last rung's "
              "top), not reproduced if it was searched and left out; inconclusive if it was not searched", swish),
        claim(2, "The best activations found are simple: one or two core units, the best of them one.",
              "reproduced if one-unit functions make up at least half of the finalists and a larger share than of "
              "the classes searched", simple),
        claim(3, "The top functions share the form b(x, g(x)): x itself is one argument of the binary function.",
              "reproduced if b(x, g(x)) forms make up at least half of the finalists and a larger share than of "
              "the classes searched", x_form),
        claim(4, "Periodic functions appear in the top functions added to or subtracted from x.",
              "reproduced if classes x ± periodic(x) are promoted past rung 0 more often than the other forms with a "
              "periodic function", periodic),
        claim(5, "Functions that use division do poorly.",
              "reproduced if classes whose binary function is x1 / (x2 + ε) are promoted past rung 0 less often "
              "than the classes with any other binary function", division),
    ]
