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


ALPHA = 0.05


def _share_claim(ev: Evidence, keep: Callable[[dict], bool], what: str) -> Measured:
    """Finalists' share with the property against the share among the classes the search trained: fewer than half
    is not reproduced; at least half and more than the space holds by chance (one-sided binomial test against the
    classes' share, p < ALPHA) is reproduced; else inconclusive (the space is mostly so already)."""
    r = _results(ev)
    if r is None or not _finished(r):
        return NOT_RUN_HERE
    top = r.pipeline.rungs[-1].promoted
    space = r.pipeline.rungs[0].candidates
    k = sum(keep(r.classes.get(s, {})) for s in top)
    base = sum(keep(r.classes.get(s, {})) for s in space)
    if base in (0, len(space)):
        return Measured(f"every class searched {'is' if base else 'is not'} {what}: nothing to compare", INCONCLUSIVE)
    from scipy.stats import binomtest

    share, prior = k / len(top), base / len(space)
    p = float(binomtest(k, len(top), prior, alternative="greater").pvalue)
    numbers = (f"{what}: {_rate(k, len(top))} of the finalists vs {_rate(base, len(space))} of the classes searched "
               f"(binomial p = {p:.2g})")
    if share < 0.5:
        return Measured(numbers, NOT_REPRODUCED)
    return Measured(numbers, REPRODUCED if p < ALPHA else INCONCLUSIVE)


def _compare_rates(a: tuple[int, int], b: tuple[int, int], higher: bool) -> tuple[str, float]:
    """Whether a's rate is higher (`higher`) or lower than b's, with Fisher's exact test: the verdict and p."""
    from scipy.stats import fisher_exact

    p = float(fisher_exact([[a[0], a[1] - a[0]], [b[0], b[1] - b[0]]])[1])
    ra, rb = a[0] / a[1], b[0] / b[1]
    if p >= ALPHA or ra == rb:
        return INCONCLUSIVE, p
    return (REPRODUCED if (ra > rb) == higher else NOT_REPRODUCED), p


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
    verdict, p = _compare_rates(a, b, higher=True)
    return Measured(f"promoted past rung 0: x ± periodic {_rate(*a)}; other periodic forms {_rate(*b)} (Fisher p = "
                    f"{p:.2g})", verdict)


def division(ev: Evidence) -> Measured:
    """Classes whose binary function is x1 / (x2 + ε) are promoted past rung 0 less often than the rest."""
    r = _results(ev)
    if r is None:
        return NOT_RUN_HERE
    a = _first_rung(r, lambda c: c.get("binary") == "x1/(x2+eps)")
    b = _first_rung(r, lambda c: c.get("binary") != "x1/(x2+eps)")
    if not a[1] or not b[1]:
        return Measured("the classes searched hold no division, or nothing else", INCONCLUSIVE)
    verdict, p = _compare_rates(a, b, higher=False)
    return Measured(f"promoted past rung 0: division {_rate(*a)}; every other binary function {_rate(*b)} (Fisher p = "
                    f"{p:.2g})", verdict)


def claims() -> list[Claim]:
    def claim(n: int, sentence: str, rule: str, check: Callable[[Evidence], Measured]) -> Claim:
        return Claim(f"001-search-{n}", "001", sentence, SETUP, rule, NAME, check)

    return [
        claim(1, "Swish (x·σ(βx)) was found by an automated search as one of the best activations.",
              "reproduced if the class equal to x·σ(x) at β = 1 is among the search's finalists (the last rung's "
              "top), not reproduced if it was searched and left out; inconclusive if it was not searched", swish),
        claim(2, "The best activations found are simple: one or two core units, the best of them one.",
              "not reproduced if fewer than half of the finalists are one core unit; reproduced if at least half "
              "are and more than the classes searched would give by chance (one-sided binomial test, p < 0.05); "
              "else inconclusive", simple),
        claim(3, "The top functions share the form b(x, g(x)): x itself is one argument of the binary function.",
              "not reproduced if fewer than half of the finalists have the form; reproduced if at least half do "
              "and more than the classes searched would give by chance (one-sided binomial test, p < 0.05); else "
              "inconclusive", x_form),
        claim(4, "Periodic functions appear in the top functions added to or subtracted from x.",
              "reproduced if classes x ± periodic(x) are promoted past rung 0 more often than the other forms with a "
              "periodic function (Fisher's exact test, p < 0.05), not reproduced if less often; else inconclusive",
              periodic),
        claim(5, "Functions that use division do poorly.",
              "reproduced if classes whose binary function is x1 / (x2 + ε) are promoted past rung 0 less often "
              "than the classes with any other binary function (Fisher's exact test, p < 0.05), not reproduced if "
              "more often; else inconclusive", division),
    ]
