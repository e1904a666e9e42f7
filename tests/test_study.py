"""The single-sample study end to end: config, plan, weight box, batch independence, resume after
kill -9, the process backend, the CLI (`actlab run`, `actlab report`) and its bad-input paths."""

from __future__ import annotations

import base64
import io
import math
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import matplotlib.image as mpimg
import pytest
import torch

from actlab.core.errors import ActlabInputError, UnknownNameError
from actlab.engine import OPTIMIZERS
from actlab.results import Store
from actlab.studies.config import ConfigError, build
from actlab.studies.registry import resolve
from actlab.studies.runner import execute, plan_summary
from actlab.studies.single_sample.study import SingleSampleConfig, default_activations, plan, run_batch
from actlab.studies.single_sample.weight_box import default_targets, weight_box, working_interval

SMALL = {"activations": ["tanh", "snake"], "optimizers": ["adam", "adamm", "cmaes"], "seeds": 4, "steps": 40,
         "lr": [0.01, 0.1]}


def cfg(**over: object) -> SingleSampleConfig:
    return build(SingleSampleConfig, {**SMALL, **over})


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "actlab", *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def comparable(store: Path) -> dict[str, dict]:
    with Store(store, create=False) as s:
        out = {}
        for t in s.trials():
            m = dict(t["metrics"])
            m.pop("time")
            out[t["trial_id"]] = m
        return out


# --- config and plan ------------------------------------------------------------------------
def test_config_rejects_what_it_does_not_know() -> None:
    with pytest.raises(ConfigError, match="unknown config key 'seed'; did you mean seeds"):
        build(SingleSampleConfig, {"seed": 3})
    with pytest.raises(ConfigError, match="steps: expected int"):
        build(SingleSampleConfig, {"steps": "many"})
    with pytest.raises(ConfigError, match="unknown optimizer 'adamw'"):
        cfg(optimizers=["adamw"])
    with pytest.raises(ConfigError, match="bounds: must be one of 'none', 'clip', 'reflect'; got 'wrap'"):
        cfg(bounds="wrap")
    with pytest.raises(UnknownNameError, match="tanhh"):
        cfg(activations=["tanhh"])
    with pytest.raises(ConfigError, match="'softmax' is not elementwise"):
        cfg(activations=["softmax"])
    with pytest.raises(ConfigError, match="lr: expected a positive"):
        cfg(lr=[0.0])


def test_default_activations_are_the_deterministic_elementwise_catalog() -> None:
    acts = default_activations()
    assert {"tanh", "relu", "snake", "acon_c", "square", "cos"} <= set(acts)
    assert not {"softmax", "glu", "mixed", "rrelu", "noisy_hard_tanh"} & set(acts)


def test_plan_counts_and_records_every_axis() -> None:
    c = cfg(bounds=["none", "reflect"], targets=[0.3])
    batches = plan(c)
    trials = [t for b in batches for t in b.trials]
    # per activation and bound mode: adam and adamm × 2 lr, cmaes × 1 (no lr), × 1 target × 4 seeds
    assert len(trials) == 2 * 2 * (2 + 2 + 1) * 4
    assert len({t.id for t in trials}) == len(trials)
    for b in batches:  # one activation, optimizer and bound mode per batch
        assert len({(t.config["activation"], t.config["optimizer"], t.config["bounds"]) for t in b.trials}) == 1
    t = trials[0].config
    for key in ("activation", "output_activation", "optimizer", "lr", "target", "input", "steps", "bounds", "box",
                "success_threshold", "popsize", "seed"):
        assert key in t
    assert {t.config["popsize"] for t in trials if t.config["optimizer"] == "adamm"} == {100}


def test_weight_box_rule_by_hand() -> None:
    # tanh: |tanh'| = sech² ≥ 0.1 ⇔ |z| ≤ acosh(√10); with x = 0.5 the w1, b1 half-width is that / 1.5
    a = math.acosh(math.sqrt(10))
    assert working_interval("tanh") == pytest.approx((-a, a), abs=1e-9)
    lo, hi = weight_box("tanh", "tanh", 0.5)
    assert lo[:2] == pytest.approx([-a / 1.5, -a / 1.5], abs=1e-9) and hi[:2] == pytest.approx([a / 1.5] * 2, abs=1e-9)
    # output: H = tanh(a), half-width a / (1 + tanh(a))
    assert hi[2] == pytest.approx(a / (1 + math.tanh(a)), abs=1e-6)
    # relu: working interval [0, 5] (capped): w1 ∈ ±2.5/1.5, b1 ∈ 2.5 ± 2.5/1.5, every corner inside [0, 5]
    lo, hi = weight_box("relu", "relu", 0.5)
    assert lo[:2] == pytest.approx([-5 / 3, 2.5 - 5 / 3]) and hi[:2] == pytest.approx([5 / 3, 2.5 + 5 / 3])
    for w in (lo[0], hi[0]):
        for b in (lo[1], hi[1]):
            assert -1e-9 <= w * 0.5 + b <= 5 + 1e-9
    # default targets: a quarter and three quarters of the way up tanh's values on its working interval
    assert default_targets("tanh") == pytest.approx([-0.5 * math.tanh(a), 0.5 * math.tanh(a)], abs=1e-3)


# --- running ----------------------------------------------------------------------------------
def test_a_trial_does_not_depend_on_its_batch_or_backend(tmp_path: Path) -> None:
    many = [r for b in plan(cfg(seeds=[0, 1, 2, 3])) for r in run_batch(b)]
    few = [r for b in plan(cfg(seeds=[2])) for r in run_batch(b)]
    by_id = {r.trial_id: r.metrics for r in many}
    assert len(few) > 0
    for r in few:
        a, b = dict(r.metrics), dict(by_id[r.trial_id])
        a.pop("time"), b.pop("time")
        assert a == b


def test_store_resume_and_process_backend(tmp_path: Path) -> None:
    c = cfg()
    batches = plan(c)
    first = execute(batches, tmp_path / "a.db")
    assert first.ran == first.planned == sum(len(b) for b in batches)
    again = execute(batches, tmp_path / "a.db")
    assert again.ran == 0 and again.stored_before == first.planned
    assert plan_summary(batches, tmp_path / "a.db").todo == 0
    pool = execute(plan(c), tmp_path / "b.db", backend="process", workers=2)
    assert pool.ran == first.planned
    assert comparable(tmp_path / "a.db") == comparable(tmp_path / "b.db")


def test_kill_minus_9_then_resume_gives_exactly_the_planned_trials(tmp_path: Path) -> None:
    store = tmp_path / "k.db"
    args = ["run", "single-sample", "--set", 'activations=["tanh","relu","sigmoid","snake"]', "--set",
            'optimizers=["adam","sgd"]', "--set", "seeds=2", "--set", "steps=2000", "--set", "batch_size=2",
            "--set", "lr=0.01",
            "--store", str(store), "-q"]
    p = subprocess.Popen([sys.executable, "-m", "actlab", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:  # wait until a few batches are in, then kill mid-run
        time.sleep(0.2)
        if store.exists():
            # read-only, and always closed: a connection left open in this process would keep a stale
            # view of the WAL index after the writer's last close removes it
            try:
                db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
            except sqlite3.OperationalError:
                continue
            try:
                if db.execute("SELECT COUNT(*) FROM trials").fetchone()[0] >= 6:
                    break
            except sqlite3.OperationalError:
                pass
            finally:
                db.close()
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    with Store(store, create=False) as s:
        assert s.integrity() == "ok"
        partial = s.count()
    _, c = resolve("single-sample", args[3:14:2])
    planned = {t.id for b in plan(c) for t in b.trials}
    assert 0 < partial < len(planned)
    r = cli(*args)
    assert r.returncode == 0, r.stderr
    with Store(store, create=False) as s:
        ids = [t["trial_id"] for t in s.trials()]
        assert len(ids) == len(set(ids)) and set(ids) == planned
        assert all(len(s.curve(i)) > 0 for i in ids[:5])
    # the resumed trials equal an uninterrupted run's
    ref = [r for b in plan(c) for r in run_batch(b)]
    got = comparable(store)
    for rec in ref:
        m = dict(rec.metrics)
        m.pop("time")
        assert got[rec.trial_id] == m


# --- command line ---------------------------------------------------------------------------------
def test_cli_run_dry_run_progress_and_report(tmp_path: Path) -> None:
    store = tmp_path / "runs" / "results.db"
    sets = ["--set", 'activations=["tanh","snake"]', "--set", 'optimizers=["adam","cmaes"]', "--set", "seeds=3",
            "--set", "steps=30", "--set", 'bounds=["none","clip"]']
    r = cli("run", "single-sample", *sets, "--store", str(store), "--dry-run")
    assert r.returncode == 0 and "96 trials (2 activations) in 8 batches" in r.stdout and not store.exists()
    r = cli("run", "single-sample", *sets, "--store", str(store))
    assert r.returncode == 0, r.stderr
    assert "trials" in r.stderr and "tanh" in r.stdout and "bounds clip" in r.stdout
    r = cli("run", "single-sample", *sets, "--store", str(store), "--quiet")
    assert r.returncode == 0 and r.stderr == "" and "0 trials run" in r.stdout
    out = tmp_path / "rep.html"
    r = cli("report", "--store", str(store), "-o", str(out))
    assert r.returncode == 0 and r.stdout.strip() == str(out)
    html = out.read_text()
    assert "Single sample" in html and "comes from the optimizer" in html and "actlab run single-sample" in html
    assert 'id="single-sample-does-the-activation-or-the-optimizer-decide-convergence"' in html
    assert not re.search(r'(src|href)="(https?:)?//', html)


def _section_of(store: Path) -> tuple[object, object]:
    from actlab.studies.protocol import Stored
    from actlab.studies.registry import study

    st = study("single-sample")
    res = st.results(Stored.load(store, "single-sample"))
    return res, st.section(res)


def test_section_is_data_and_renders(tmp_path: Path) -> None:
    from actlab.report import render
    from actlab.report.kit import Details, Figure, Paragraph, Section, Table

    store = tmp_path / "s.db"
    execute(plan(cfg(activations=["tanh", "relu"], optimizers=["adam", "cmaes"], seeds=3, steps=30,
                     bounds=["none", "clip"])), store)
    res, sec = _section_of(store)
    assert isinstance(sec, Section)
    assert sec.title == "Single sample: does the activation or the optimizer decide convergence?"
    assert sec.question and 1 <= len(sec.answer) <= 2 and sec.figure is not None
    text = [sec.question, *sec.answer] + [b.text for b in sec.blocks if isinstance(b, Paragraph)]
    assert not any("<" in t and ">" in t for t in text)  # plain text: the renderer escapes it
    assert any(res.rule.text() in t for t in text) and any("objective" in t for t in text)
    figures = [b for b in sec.blocks if isinstance(b, Figure)]
    assert len(figures) == 4  # heatmap, evaluations, curves, bounds effect
    for f in figures:
        png = base64.b64decode(f.uri.removeprefix("data:image/png;base64,"))
        assert mpimg.imread(io.BytesIO(png), format="png").shape[0] > 100
    every = next(b for b in sec.blocks if isinstance(b, Details)).blocks[0]
    assert isinstance(every, Table) and len(every.rows) == 2 * 2 * 2
    html = render.section(sec)
    assert html.count("<img") == 4 and "<script" not in html


def test_section_and_claims_choose_the_same_learning_rate(tmp_path: Path) -> None:
    """On one store, every cell's learning rate in the section's table is the claims' (both through the one
    selection rule); and the rule breaks ties by the lower median evaluations to target."""
    from actlab.report.kit import Details
    from actlab.studies.single_sample.claims import chosen_lr

    store = tmp_path / "s.db"
    execute(plan(cfg(activations=["tanh", "relu", "sigmoid"], optimizers=["adam", "sgd", "adamm"], seeds=3,
                     steps=60, lr=[0.01, 0.1, 1.0], bounds=["none", "reflect"])), store)
    res, sec = _section_of(store)
    table = next(b for b in sec.blocks if isinstance(b, Details)).blocks[0]
    col = {c: i for i, c in enumerate(table.columns)}
    shown = {(row[col["activation"]].title, row[col["optimizer"]], row[col["bounds"]]): row[col["chosen lr"]]
             for row in table.rows}
    claimed = chosen_lr(res)
    assert len(claimed) == len(shown) == 3 * 3 * 2
    assert {k: "" if v is None else f"{v:g}" for k, v in claimed.items()} == shown
    # the rule by hand, on the store's trials: best mean success, ties to the lower median evaluations
    with Store(store, create=False) as s:
        trials = list(s.trials("single-sample"))
    for (a, o, b), lr in claimed.items():
        by: dict = {}
        for t in trials:
            c = t["config"]
            if (c["activation"], c["optimizer"], c["bounds"]) == (a, o, b):
                by.setdefault(c["lr"], []).append(t["metrics"])
        def key(item: tuple) -> tuple:
            ms = item[1]
            ev = sorted(m["evaluations_to_target"] if m["evaluations_to_target"] is not None else math.inf for m in ms)
            med = (ev[(len(ev) - 1) // 2] + ev[len(ev) // 2]) / 2
            return (-sum(m["success"] for m in ms) / len(ms), med)
        assert min(sorted(by.items()), key=key)[0] == lr


def test_ties_go_to_the_lower_median_evaluations() -> None:
    from actlab.studies.protocol import Stored
    from actlab.studies.single_sample.claims import chosen_lr, success
    from actlab.studies.single_sample.results import results

    def trial(lr: float, seed: int, ok: bool, evals: int | None) -> dict:
        config = {"study": "single-sample", "activation": "tanh", "output_activation": "tanh", "optimizer": "adam",
                  "lr": lr, "target": 0.3, "input": 0.5, "steps": 100, "bounds": "none", "box": [[-1] * 4, [1] * 4],
                  "success_threshold": 1e-6, "popsize": None, "seed": seed, "init": "u", "dtype": "float32"}
        metrics = {"success": ok, "evaluations_to_target": evals, "params": [0.0] * 4}
        return {"trial_id": f"{lr}-{seed}", "seed": seed, "activation": "tanh", "config": config, "metrics": metrics}

    # 0.01 and 0.1 both succeed 2 of 3; 0.1 needs fewer evaluations: the rule picks 0.1 (a plain "highest
    # success" rule would keep the first, 0.01); 1.0 succeeds once only
    trials = [trial(0.01, 0, True, 90), trial(0.01, 1, True, 80), trial(0.01, 2, False, None),
              trial(0.1, 0, True, 20), trial(0.1, 1, False, None), trial(0.1, 2, True, 30),
              trial(1.0, 0, True, 5), trial(1.0, 1, False, None), trial(1.0, 2, False, None)]
    res = results(Stored("single-sample", trials))
    assert chosen_lr(res) == {("tanh", "adam", "none"): 0.1}
    assert success(res) == {("tanh", "adam", "none"): (2, 3)}
    assert res.cells[0].best.evals == [20, 30] and res.box == (5, 5)  # every successful fit ends inside [-1, 1]


def test_old_store_still_reports() -> None:
    from actlab.report import render
    from actlab.studies.claims import VERDICTS, Evidence

    res, sec = _section_of(Path(__file__).parent / "fixtures" / "store_v0.db")
    assert res.trials == 108 and len(res.cells) == 3 * 2 * 2
    assert "expr:where(x<abs(x), x, 0)" in render.section(sec).replace("&lt;", "<")
    from actlab.studies.registry import study

    ev = Evidence(results={"single-sample": res})
    assert all(c.check(ev).verdict in VERDICTS for c in study("single-sample").claims())


def test_records_keep_finite_values_only() -> None:
    from actlab.engine import Outcome
    from actlab.studies.single_sample.study import _records

    b = plan(cfg(activations=["tanh"], optimizers=["adam"], seeds=3, lr=0.01, targets=[0.3]))[0]
    nan, inf = float("nan"), float("inf")
    out = Outcome(final_loss=torch.tensor([0.5, nan, 1e-9]), best_loss=torch.tensor([0.25, inf, 1e-9]),
                  steps_to_target=torch.tensor([-1, -1, 7]), evaluations_per_step=1, curve_steps=[0, 1, 40],
                  curve=torch.tensor([[1.0, 0.5, 0.5], [nan, 2.0, inf], [1.0, 1e-3, 1e-9]]),
                  params=torch.tensor([[1.0, 2.0, 3.0, 4.0], [nan, 0.0, inf, 1.0], [0.0] * 4]), seconds=0.3)
    r = _records(b, out)
    assert [x.metrics["final_loss"] for x in r] == [0.5, None, pytest.approx(1e-9)]
    assert [x.metrics["best_loss"] for x in r][:2] == [0.25, None]
    assert [x.metrics["success"] for x in r] == [False, False, True]
    assert [x.metrics["steps_to_target"] for x in r] == [None, None, 7]
    assert [x.metrics["evaluations_to_target"] for x in r] == [None, None, 8]
    assert r[1].metrics["params"] == [None, 0.0, None, 1.0]
    assert list(r[0].curve) == [(0, 1.0), (1, 0.5), (40, 0.5)] and list(r[1].curve) == [(1, 2.0)]
    assert all(type(v) is float for _, v in r[2].curve) and r[0].metrics["time"] == pytest.approx(0.1)


def test_cli_bad_store_files(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.db"
    foreign.write_bytes(b"not a database at all" * 10)
    before = foreign.read_bytes()
    for args in (["run", "single-sample", "--set", "seeds=1", "--set", "steps=1", "--set", 'activations=["tanh"]',
                  "--store", str(foreign)], ["report", "--store", str(foreign)]):
        r = cli(*args)
        assert r.returncode == 2 and "not an actlab results store" in r.stderr and "Traceback" not in r.stderr
    assert foreign.read_bytes() == before
    old = tmp_path / "old.db"
    Store(old).close()
    with sqlite3.connect(old) as db:
        db.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    r = cli("report", "--store", str(old))
    assert r.returncode == 2 and "schema version 0" in r.stderr
    r = cli("report", "--store", str(tmp_path / "missing.db"))
    assert r.returncode == 2 and "no results store" in r.stderr
    if not torch.cuda.is_available():
        r = cli("run", "single-sample", "--device", "cuda", "--store", str(tmp_path / "x.db"))
        assert r.returncode == 2 and "no CUDA device" in r.stderr and not (tmp_path / "x.db").exists()


def test_every_optimizer_runs_in_the_study() -> None:
    c = cfg(optimizers=list(OPTIMIZERS), activations=["tanh"], seeds=2, steps=5, lr=0.01)
    recs = [r for b in plan(c) for r in run_batch(b)]
    assert {r.optimizer for r in recs} == set(OPTIMIZERS)
    for r in recs:
        assert r.metrics["evaluations"] == 6 * (r.config["popsize"] or 1)
        assert r.metrics["best_loss"] <= r.metrics["final_loss"] + 1e-12


def test_library_errors_are_input_errors() -> None:
    with pytest.raises(ActlabInputError):
        execute([], "/nonexistent/x.db", backend="carrier-pigeon")


def test_ray_backend_gives_the_local_results(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    sets = ["--set", 'activations=["tanh"]', "--set", 'optimizers=["adam","cmaes"]', "--set", "seeds=3",
            "--set", "steps=20", "-q"]
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}  # a local cluster for the test
    r = subprocess.run([sys.executable, "-m", "actlab", "run", "single-sample", *sets, "--backend", "ray",
                        "--store", str(tmp_path / "r.db")], capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    assert cli("run", "single-sample", *sets, "--store", str(tmp_path / "l.db")).returncode == 0
    assert comparable(tmp_path / "r.db") == comparable(tmp_path / "l.db") != {}


def test_default_run_writes_store_and_report_under_actlab_runs(tmp_path: Path) -> None:
    r = cli("run", "--set", "seeds=2", "--set", "steps=30", "--set", 'activations=["tanh","relu"]', "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    report = tmp_path / "actlab-runs" / "report.html"
    assert r.stdout.strip().splitlines()[-1] == "actlab-runs/report.html"
    assert (tmp_path / "actlab-runs" / "results.db").exists()
    text = report.read_text()
    assert "The answers" in text and "Single sample" in text and "Planar" in text and "The activations" in text
    assert "time per stage: single-sample" in r.stdout and "planar" in r.stdout
    r = cli("run", "planar", "--dry-run", "--quick", "--store", str(tmp_path / "p.db"))
    assert r.returncode == 0 and "study planar" in r.stdout and not (tmp_path / "p.db").exists()
