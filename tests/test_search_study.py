"""The search as a staged study: stages planned from stored results (runner.run_study), promotions replayed the same
on resume, the finalists and baselines in the final test, the claims' rules, and what the report shows.
(The shared checks — determinism, batch independence, backends, resume after a kill, bad config, dry-run estimate,
section and summary — are the study conformance suite's.)"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from actlab.results.store import Store, TrialRecord
from actlab.studies import registry
from actlab.studies.claims import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, Evidence
from actlab.studies.config import build
from actlab.studies.plan import Batch, Trial
from actlab.studies.protocol import Cost, Stored, Study
from actlab.studies.runner import estimated_plan, run_study
from actlab.studies.search import claims as search_claims
from actlab.studies.search import results as search_results
from actlab.studies.search.study import NAME, SearchConfig, pipeline, screened


# --- the staged protocol, on a study of three lines a stage ---------------------------------------------------
def _stage_run(batch: Batch, device: str = "cpu") -> list[TrialRecord]:
    return [TrialRecord("staged", "t", t.config["name"], "", 0, t.config, {"score": len(t.config["name"])})
            for t in batch.trials]


def _stage_0() -> list[Batch]:
    return [Batch("staged", [Trial({"study": "staged", "stage": 0, "name": n}, "t") for n in ("a", "bb", "c")])]


def _stage_next(cfg: Any, stored: Stored) -> list[Batch]:
    """Stage 0, then (once stored) stage 1: the best-scoring name of stage 0 doubled."""
    names = {t["config"]["name"]: t["metrics"]["score"] for t in stored.trials if t["config"]["stage"] == 0}
    if len(names) < 3:
        return _stage_0()
    best = max(names, key=lambda n: names[n])
    return [*_stage_0(), Batch("staged", [Trial({"study": "staged", "stage": 1, "name": best * 2}, "t")])]


@pytest.fixture
def staged() -> Any:
    from dataclasses import dataclass

    @dataclass
    class Config:
        pass

    s = Study("staged", "Which name is longest?", Config, Path("."),
              plan=lambda cfg: _stage_0(),
              run_batch=_stage_run, cost=lambda b: Cost(0.01, 1, 1), results=lambda st: None,
              section=lambda r: None, next_stage=_stage_next)
    with registry.registered(s):
        yield s


def test_run_study_runs_each_next_stage_from_the_stored_results(staged: Study, tmp_path: Path) -> None:
    stages: list[list[Batch]] = []
    out = run_study(staged, staged.config(), tmp_path / "s.db", on_stage=stages.append)
    assert (out.planned, out.ran, out.stages) == (4, 4, 2)
    assert [t.config["name"] for b in stages[0] for t in b.trials] == ["bbbb"]  # planned from stage 0's scores
    with Store(tmp_path / "s.db", create=False) as s:
        assert len(s.runs()) == 1  # one run, however many stages
    again = run_study(staged, staged.config(), tmp_path / "s.db")
    assert (again.ran, again.stored_before, again.stages) == (0, 4, 2)  # resumed: the same stages, nothing to run


def test_a_resumed_run_counts_every_stored_stage(staged: Study, tmp_path: Path) -> None:
    from actlab.studies.runner import execute

    execute(_stage_0(), tmp_path / "s.db")  # stage 0 stored, as by a run killed after it
    out = run_study(staged, staged.config(), tmp_path / "s.db")
    assert (out.planned, out.stored_before, out.ran) == (4, 3, 1)


def test_a_study_that_plans_something_new_for_ever_is_stopped(staged: Study, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses
    import itertools

    from actlab.studies import runner

    count = itertools.count()

    def endless(cfg: Any, stored: Stored) -> list[Batch]:
        return [Batch("staged", [Trial({"study": "staged", "stage": 9, "name": "x" * (next(count) + 1)}, "t")])]

    monkeypatch.setattr(runner, "MAX_STAGES", 5)
    looping = dataclasses.replace(staged, next_stage=endless)
    with pytest.raises(RuntimeError, match="more than 5 stages"):
        run_study(looping, staged.config(), tmp_path / "loop.db")


# --- the search's pipeline, replayed from a store --------------------------------------------------------------
def tiny(**over: Any) -> SearchConfig:
    values = {"space": "x-paired", "sample": 20, "tasks": ["wine", "digits"], "rung_epochs": [1, 2],
              "rung_seeds": [1, 2], "rung_tasks": [1, 2], "keep": 0.25, "per_batch": 3, "top": 2,
              "baselines": ["relu", "silu"], "final_models": ["mlp"], "final_seeds": 3, "final_epochs": 2}
    values.update(over)
    return build(SearchConfig, values)


def fake(cfg: SearchConfig, score: Any) -> dict[str, dict[str, Any]]:
    """Every stage stored with made-up metrics: a rung trial scores `score(spec, task, rung)`, a final trial's
    accuracies are its score on 'final'."""
    found: dict[str, dict[str, Any]] = {}
    while (p := pipeline(cfg, found)).pending:
        for b in p.pending:
            for t in b.trials:
                c = t.config
                if c["stage"] == "screen":
                    m: dict[str, Any] = screened(cfg)
                elif c["stage"] == "rung":
                    m = {"score": score(c["activation"], c["task"], c["rung"]), "seconds": 0.1}
                else:
                    v = score(c["activation"], c["task"], "final") + 0.001 * c["seed"]
                    m = {"val_accuracy": v, "test_accuracy": v}
                found[t.id] = {"trial_id": t.id, "config": c, "metrics": m, "created_at": "2026-12-05"}
    return found


def test_rungs_promote_the_best_quarter_by_the_mean_over_tasks_and_never_nan() -> None:
    cfg = tiny()
    specs = [c["spec"] for c in screened(cfg)["classes"]]
    bad = specs[0]

    def score(spec: str, task: str, rung: Any) -> float:
        if spec not in specs:  # a baseline in the final test
            return 0.5
        return math.nan if spec == bad else (specs.index(spec) % 7) / 10 + (0.05 if task == "digits" else 0)

    p = pipeline(cfg, fake(cfg, score))
    first, second = p.rungs
    assert first.candidates == specs and first.tasks == ["wine"]
    expected = sorted((s for s in specs if s != bad), key=lambda s: (-score(s, "wine", 0), specs.index(s)))
    assert math.isnan(first.scores[bad])
    assert first.promoted == expected[:math.ceil(0.25 * len(specs))] and bad not in first.promoted
    assert second.tasks == ["wine", "digits"] and second.candidates == first.promoted
    assert p.finalists[:2] == second.promoted and p.finalists[2:] == ["relu", "silu"]
    assert len(p.final) == len(p.finalists) * 2 * 3 and not p.pending  # two tasks × three seeds, MLP only


def test_the_dry_run_counts_the_later_stages_at_their_rules_sizes() -> None:
    cfg = tiny()
    everything = estimated_plan(registry.study(NAME), cfg)
    real = pipeline(cfg, fake(cfg, lambda s, t, r: 0.5))
    ran = 1 + sum(len(r.trials) for r in real.rungs) + len(real.final)
    assert sum(len(b) for b in everything) == ran


def test_results_rank_the_final_test_and_say_whether_swish_was_found() -> None:
    cfg = tiny(sample=0, top=3)
    classes = screened(cfg)["classes"]
    swish = next(c["spec"] for c in classes if c["catalog"] == "silu")

    def score(spec: str, task: str, rung: Any) -> float:
        return 0.9 if spec == swish else 0.8 if spec == "relu" else 0.3 + 0.0001 * len(spec)

    found = fake(cfg, score)
    r = search_results.results(Stored(NAME, list(found.values())))
    assert r is not None and r.complete
    assert r.leaderboard[0].spec == swish and r.leaderboard[0].catalog == "silu"
    assert [e.spec for e in r.leaderboard][:2] == [swish, "relu"]
    assert r.leaderboard[0].rank == 1.0  # first in every block
    from actlab.studies.search.section import answer, section

    words = " ".join(answer(r))
    assert "σ(x)·x" in words or "x·σ(x)" in words
    assert "was among the search's finalists" in words
    assert section(r) is not None
    ev = Evidence({NAME: r})
    assert search_claims.swish(ev).verdict == REPRODUCED
    published = {p.label: p for p in r.published}
    assert published["cos(x) − x"].where == "searched" and published["cos(x) − x"].reached >= 0
    assert published["(tan⁻¹x)² − x"].where == "not in the space"  # two units; none drawn


def test_the_division_and_periodic_claims_follow_their_rules() -> None:
    cfg = tiny(sample=0, space="x-paired")
    classes = {c["spec"]: c for c in screened(cfg)["classes"]}

    def poor_division(spec: str, task: str, rung: Any) -> float:
        c = classes.get(spec, {})
        return 0.1 if c.get("binary") == "x1/(x2+eps)" else 0.5 + 0.001 * (hash(spec) % 100)

    r = search_results.results(Stored(NAME, list(fake(cfg, poor_division).values())))
    assert search_claims.division(Evidence({NAME: r})).verdict == REPRODUCED

    def good_division(spec: str, task: str, rung: Any) -> float:
        c = classes.get(spec, {})
        return 0.9 if c.get("binary") == "x1/(x2+eps)" else 0.5

    r = search_results.results(Stored(NAME, list(fake(cfg, good_division).values())))
    assert search_claims.division(Evidence({NAME: r})).verdict == NOT_REPRODUCED
    # every class of the x-paired space has the form b(x, g(x)): nothing to compare it with
    assert search_claims.x_form(Evidence({NAME: r})).verdict == INCONCLUSIVE
    assert search_claims.simple(Evidence({NAME: r})).verdict == INCONCLUSIVE  # no two-unit function drawn


def test_the_report_leaves_the_search_candidates_out_of_the_catalog_section(tmp_path: Path) -> None:
    from actlab.studies.page import read

    cfg = tiny()
    found = fake(cfg, lambda s, t, r: 0.5)
    with Store(tmp_path / "s.db") as s:
        s.write([TrialRecord(NAME, t["config"].get("task", "screen"), t["config"].get("activation", ""), "", 0,
                             t["config"], t["metrics"]) for t in found.values()])
        s.write([TrialRecord("another", "digits", "tanh", "adam", 0, {"study": "another", "x": 1}, {})])
    contents = read(tmp_path / "s.db")
    assert contents.activations == ["tanh"]  # the search's 20 candidates and its baselines stay in its section
    assert contents.results[NAME].complete


def test_dry_run_of_the_full_preset_says_how_the_stages_are_sized(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "actlab", "run", "search", "--quick", "--dry-run", "--store",
                          str(tmp_path / "x.db")], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "search runs in stages: the first holds 1 trials" in out.stdout
    assert not (tmp_path / "x.db").exists()


def test_of_several_searches_the_report_arranges_the_complete_one_that_searched_most() -> None:
    small, large = tiny(sample=8), tiny(sample=20)  # the small one is written last (the newer) in each store below
    a, b = fake(small, lambda s, t, r: 0.5), fake(large, lambda s, t, r: 0.5)
    r = search_results.results(Stored(NAME, list({**b, **a}.values())))
    assert r is not None and r.config.sample == 20 and r.searches == 2
    unfinished = {k: v for k, v in b.items() if v["config"]["stage"] != "final"}
    r = search_results.results(Stored(NAME, list({**unfinished, **a}.values())))
    assert r is not None and r.config.sample == 8  # the only complete one
    a_open = {k: v for k, v in a.items() if v["config"]["stage"] != "final"}
    r = search_results.results(Stored(NAME, list({**unfinished, **a_open}.values())))
    assert r is not None and r.config.sample == 8 and not r.complete  # none complete: the newest


def test_a_search_whose_rung_fails_entirely_says_it_stopped() -> None:
    cfg = tiny()
    r = search_results.results(Stored(NAME, list(fake(cfg, lambda s, t, k: math.nan if k == 1 else 0.5).values())))
    assert r is not None and not r.complete and r.pipeline.rungs[-1].promoted == []
    from actlab.studies.search.section import answer, section

    assert "Every candidate of rung 1 failed" in answer(r)[0]
    assert section(r) is not None
    ev = Evidence({NAME: r})
    assert {c.check(ev).verdict for c in search_claims.claims()[:3]} == {"not run in this store"}


def test_rungs_train_one_vmapped_ensemble_on_splits_that_share_one_test_set() -> None:
    import torch

    from actlab.data import realdata
    from actlab.engine import ensemble
    from actlab.studies.search.halving import mlp, splits, unseen

    a, b = realdata.split("wine", 0, test_seed=0), realdata.split("wine", 1, test_seed=0)
    assert (a.y_test == b.y_test).all() and not (a.y_train == b.y_train).all()  # one test set, two train cuts
    parts = {s: unseen(splits("wine", s)) for s in (0, 1)}
    torch.manual_seed(0)
    run = ensemble.train(lambda seed: mlp("expr:x*sigmoid(x)", 13, 3, 8, 2, seed), parts, ensemble.classification(),
                         [0, 1], [0.01], epochs=2, diagnose=False)
    assert run.mode == "vmap", run.reason  # an empty test part is left out, not a reason to train one by one
    assert all(math.isnan(m.test_metric) and m.val_metric > 0 for m in run.members)


def test_the_dry_run_of_a_part_run_search_counts_the_stages_the_store_decides(tmp_path: Path) -> None:
    """Screen and rung 0 stored: rung 1 holds the candidates rung 0 really promoted (stored or not), and only the
    stages after it are stand-ins; the summary counts what is stored."""
    from actlab.studies.runner import plan_summary

    cfg = tiny()
    found = fake(cfg, lambda s, t, r: (len(s) % 5) / 10)
    done = {k: v for k, v in found.items() if v["config"]["stage"] == "screen" or v["config"].get("rung") == 0}
    with Store(tmp_path / "s.db") as s:
        s.write([TrialRecord(NAME, t["config"].get("task", "screen"), t["config"].get("activation", ""), "", 0,
                             t["config"], t["metrics"]) for t in done.values()])
    study = registry.study(NAME)
    everything = estimated_plan(study, cfg, store_path=tmp_path / "s.db")
    real = pipeline(cfg, found)
    ids = {t.id for b in everything for t in b.trials}
    assert {t.id for t in real.rungs[1].trials.values()} <= ids  # the promoted candidates themselves
    assert sum(len(b) for b in everything) == len(found)  # later stages at the rules' sizes
    summary = plan_summary(everything, tmp_path / "s.db")
    assert summary.stored == len(done) and summary.todo == len(found) - len(done)
