"""The report's search section and the terminal summary: the funnel (enumerated → screened → rungs → final), the
leaderboard with its statistics, the winners' plots with their derivatives and properties, where the paper's
published functions went. Every sentence is computed from `results.Results`."""

from __future__ import annotations

import math

from rich.markup import escape
from rich.table import Table as RichTable

from actlab.report.kit import Bullets, Cell, Details, Figure, Paragraph, Section, Table
from actlab.studies.search.results import ALPHA, BASELINE, RULE, Entry, Results
from actlab.studies.search.study import QUESTION

TITLE = "Search: what a search over Ramachandran et al.'s space finds"
SWISH = "silu"
"""The catalog entry of Swish's class at β = 1 (x·σ(x))."""


def _name(r: Results, e: Entry) -> str:
    if e.origin == "baseline":
        return e.spec
    return f"{e.label}" + (f" (= {e.catalog})" if e.catalog else "")


def funnel_sentence(r: Results) -> str:
    s = r.screen
    rejected = ", ".join(f"{n} {why}" for why, n in sorted(s["rejected"].items(), key=lambda kv: -kv[1]))
    two = f" and {s['two_unit']:,} two-unit" if s["two_unit"] else ""
    sample = f"; {s['searched']:,} of them drawn" if s["searched"] < s["kept"] else ""
    rungs = " → ".join(str(x.candidates) for x in r.rungs)
    return (f"Of {s['enumerated']:,} candidates ({s['one_unit']:,} one-unit{two}), the screen kept {s['kept']:,} "
            f"classes of distinct functions (rejected: {rejected}){sample}; successive halving took them through "
            f"{len(r.rungs)} rung{'s' * (len(r.rungs) > 1)} ({rungs} candidates) to {len(r.pipeline.finalists)} "
            f"finalists with the baselines.")


def swish_finding(r: Results) -> tuple[str, bool | None]:
    """Whether the Swish class was among the search's finalists (None: it was not searched), and the words."""
    searched = [c for c in r.screen["classes"] if c["catalog"] == SWISH]
    if not searched:
        return "Swish's class (x·σ(x) at β = 1) was not among the classes searched.", None
    spec = searched[0]["spec"]
    chosen = r.rungs and spec in r.pipeline.rungs[-1].promoted
    reached = max((x.index for x in r.pipeline.rungs if spec in x.scores), default=-1)
    if chosen:
        e = next((e for e in r.leaderboard if e.spec == spec), None)
        where = f", and placed {r.leaderboard.index(e) + 1} of {len(r.leaderboard)} in the final test" if e else ""
        return f"Swish's class ({searched[0]['label']}, = silu) was among the search's finalists{where}.", True
    return (f"Swish's class ({searched[0]['label']}, = silu) was not among the finalists: it was last trained in "
            f"rung {reached}.", False)


def stopped(r: Results) -> int | None:
    """The rung whose candidates all failed, ending the search (None: none did)."""
    last = r.pipeline.rungs[-1] if r.pipeline.rungs else None
    return last.index if last is not None and last.scores and not last.promoted else None


def answer(r: Results) -> list[str]:
    if (k := stopped(r)) is not None:
        return [f"Every candidate of rung {k} failed (no finite validation accuracy): the search stopped there, with "
                "no finalists.", funnel_sentence(r)]
    if not r.complete:
        done = sum(1 for x in r.pipeline.rungs if x.scores)
        return [funnel_sentence(r) if r.rungs else "The search's screen is stored; no rung has run yet.",
                f"The search is not finished in this store ({done} of {len(r.config.rung_epochs)} rungs complete, "
                "no final test yet): run it again to go on."][-2:]
    best = r.leaderboard[0]
    base = next((e for e in r.leaderboard if e.spec == BASELINE), None)
    vs = ""
    if base is not None and best.spec != BASELINE:
        vs = (f"; against relu it is better in {best.better} and worse in {best.worse} of {best.cells} cells "
              f"(paired Wilcoxon, Holm, α = {ALPHA:g})")
    cells = len(best.per_cell)
    first = (f"In the final test ({cells} task/model cell{'s' * (cells > 1)} × {r.config.final_seeds} seeds), "
             f"{_name(r, best)} ranked first by mean test accuracy ({best.mean:.3f}, 95 % CI {best.ci[0]:.3f}–"
             f"{best.ci[1]:.3f}){vs}.")
    return [first, swish_finding(r)[0]]


def section(r: Results | None) -> Section | None:
    if r is None:
        return None
    blocks: list = [Paragraph(funnel_sentence(r)) if r.rungs else Paragraph("The screen is stored; no rung has run."),
                    Paragraph("Candidates are the paper's core units b(u1(x), u2(x)) of 25 unary and 10 binary "
                              "functions, written as `expr:` formulas whose β's are learnable (initialised at 1). "
                              "The screen rejects, for one reason each, what is not finite on [−6, 6], constant, "
                              "linear or has an exploding derivative there, and merges functions equal on a fixed "
                              "grid (values and derivatives) into one class, named after a catalog entry it "
                              "equals. Each rung trains every surviving candidate (an MLP, Adam) and promotes "
                              f"the best {r.config.keep:g} share by mean best validation accuracy; the test split "
                              f"is read only in the final test, where {RULE.words}."),
                    _funnel(r), _rejections(r)]
    fig = _winners(r) if r.complete else None
    if r.complete:
        blocks += [_leaderboard(r)]
        if fig is not None:
            blocks.append(fig)
        blocks.append(_properties(r))
    blocks.append(_published(r))
    blocks.append(Details("Each rung's best five candidates", [_rung_best(r)]))
    if r.searches > 1:
        blocks.append(Paragraph(f"This store holds {r.searches} searches (other configs); shown: the complete one that "
                                "searched the most classes (the newest where none is complete)."))
    return Section(TITLE, blocks, question=QUESTION, answer=answer(r), figure=fig)


def _funnel(r: Results) -> Table:
    s = r.screen
    rows: list[list[str | Cell]] = [["enumerated", f"{s['enumerated']:,}", "", "", "", ""],
                                     ["screened (classes kept)", f"{s['kept']:,}", "", "",
                                      f"{s.get('seconds', math.nan):.1f}", ""]]
    if s["searched"] < s["kept"]:
        rows.append(["drawn for the rungs", f"{s['searched']:,}", "", "", "", ""])
    for x in r.rungs:
        per_min = 60 * x.candidates / x.seconds if x.seconds > 0 else math.nan
        budget = f"{x.epochs} epoch{'s' * (x.epochs > 1)} × {x.seeds} seed{'s' * (x.seeds > 1)} on {', '.join(x.tasks)}"
        rows.append([f"rung {x.index}", f"{x.candidates:,}", f"{x.promoted:,}" if x.scored else "—", budget,
                     f"{x.seconds:.0f}", f"{per_min:,.0f}"])
    return Table(["stage", "candidates", "promoted", "budget per candidate", "seconds", "candidates per minute"],
                 rows, caption="The funnel: seconds are the trials' own (one process), summed.")


def _rejections(r: Results) -> Table:
    rej = r.screen["rejected"]
    return Table(["rejected because", "candidates"],
                 [[why, f"{n:,}"] for why, n in sorted(rej.items(), key=lambda kv: -kv[1])],
                 caption="A candidate is rejected for the first reason that applies, in this order: not finite, "
                         "constant, linear, exploding derivative, duplicate.")


def _leaderboard(r: Results) -> Table:
    cells = sorted({c for e in r.leaderboard for c in e.per_cell})
    rows: list[list[str | Cell]] = []
    for i, e in enumerate(r.leaderboard):
        rows.append([str(i + 1), Cell(_name(r, e), title=e.spec), e.origin, f"{e.mean:.3f}",
                     f"{e.ci[0]:.3f}–{e.ci[1]:.3f}",
                     f"{e.rank:.2f} ({e.rank_ci[0]:.1f}–{e.rank_ci[1]:.1f})" if not math.isnan(e.rank) else "—",
                     *(f"{e.per_cell[c]:.3f}" if c in e.per_cell else "—" for c in cells),
                     f"+{e.better} / −{e.worse} of {e.cells}" if e.cells else "—"])
    cd = (f" Friedman's test of equal ranks: p = {r.friedman_p:.2g}; Nemenyi's critical difference of the average "
          f"ranks: {r.cd:.2f}." if not math.isnan(r.cd) else "")
    return Table(["#", "activation", "from", "mean test accuracy", "95 % CI", "average rank (95 % CI)", *cells,
                  "vs relu (cells better / worse)"], rows,
                 caption=f"The final test: {r.blocks} blocks (cell × seed); ranks are Friedman's over the blocks "
                         f"(1 = best).{cd}")


def _winners(r: Results) -> Figure | None:
    """The search's best three finalists and relu: f and f' on [−5, 5]."""
    import torch

    from actlab.core.registry import create
    from actlab.report import figures

    specs = [e.spec for e in r.leaderboard if e.origin == "search"][:3] + [BASELINE]
    fig, axes = figures.plt.subplots(1, 2, figsize=(9, 3.2))
    x = torch.linspace(-5, 5, 401, dtype=torch.float64)
    for spec in specs:
        act = create(spec).double()
        with torch.no_grad():
            y, d = act(x), act.derivative(x)
        label = r.label(spec)
        axes[0].plot(x, y, label=label)
        axes[1].plot(x, d, label=label)
    axes[0].set_title("f(x)")
    axes[1].set_title("f′(x)")
    for ax in axes:
        ax.set_ylim(-3, 5)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    return Figure(figures.png(fig), "The search's three best finalists and relu: each function and its derivative "
                                    "(β at its initial 1).")


def _properties(r: Results) -> Table:
    """The analyser's properties and the canonical form of the search's finalists."""
    from actlab.analysis import analyze
    from actlab.studies.search.space import canonical

    rows: list[list[str | Cell]] = []
    for e in [e for e in r.leaderboard if e.origin == "search"][:5]:
        a = analyze(e.spec).data
        lo, hi = a.get("range") or (math.nan, math.nan)
        smooth = a.get("smoothness")
        rows.append([Cell(e.label, title=e.spec), canonical(e.spec), _yes(a.get("monotonic")),
                     f"[{lo:.3g}, {hi:.3g}]", "C∞" if smooth == math.inf else f"C{smooth}",
                     ", ".join(f"{k:g}" for k in a.get("kinks") or []) or "none",
                     f"{a['lipschitz']:.3g}" if a.get("lipschitz") is not None else "—"])
    return Table(["finalist", "canonical form (sympy)", "monotonic", "range", "smoothness", "kinks", "Lipschitz"], rows,
                 caption="The analyser's measurements of the best five finalists (β = 1).")


def _yes(v: object) -> str:
    return "—" if v is None else "yes" if v is True else "no" if v is False else str(v)


def _published(r: Results) -> Table:
    rows = []
    for p in r.published:
        if p.where != "searched":
            rows.append([p.label, p.where, "—", "—", "—"])
            continue
        final = f"{p.final_rank:.2f}" if not math.isnan(p.final_rank) else "—"
        rows.append([p.label, p.cls, f"rung {p.reached}" if p.reached >= 0 else "—",
                     "—" if p.reached < 0 else f"{p.rank} of {p.of}" if p.rank else "failed", final])
    return Table(["published function", "its class here", "last trained in", "rank there", "final average rank"],
                 rows, caption="The paper's published top functions: the class of equal functions each belongs to "
                               "in this search, how far it went, and its rank there.")


def _rung_best(r: Results) -> Bullets:
    return Bullets([f"rung {x.index}: " + "; ".join(f"{r.label(s)} {v:.3f}" for s, v in x.best) for x in r.rungs
                    if x.best])


def summary(r: Results | None) -> list[RichTable]:
    if r is None:
        return []
    t = RichTable(title=escape("search: " + funnel_sentence(r) if r.rungs else "search"),
                  caption=escape(" ".join(answer(r))),
                  caption_justify="left")
    for col in ("#", "activation", "from", "mean test acc", "95% CI", "avg rank", "vs relu"):
        t.add_column(col, justify="left" if col in ("activation", "from") else "right")
    for i, e in enumerate(r.leaderboard):
        t.add_row(str(i + 1), escape(_name(r, e)), e.origin, f"{e.mean:.3f}", f"{e.ci[0]:.3f}–{e.ci[1]:.3f}",
                  f"{e.rank:.2f}" if not math.isnan(e.rank) else "—",
                  f"+{e.better}/−{e.worse} of {e.cells}" if e.cells else "—")
    if not r.leaderboard:
        t.add_row("", "(no final test stored yet)", "", "", "", "", "")
    return [t]
