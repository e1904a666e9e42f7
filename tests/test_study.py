"""The single-sample study end to end: config, plan, weight box, batch independence, resume after
kill -9, the process backend, the CLI (`actlab run`, `actlab report`) and its bad-input paths."""

from __future__ import annotations

import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from actlab.core.errors import ActlabInputError, UnknownNameError
from actlab.engine import OPTIMIZERS
from actlab.results import Store
from actlab.studies.config import ConfigError, build
from actlab.studies.registry import resolve
from actlab.studies.runner import execute, plan_summary
from actlab.studies.single_sample import SingleSampleConfig, default_activations, plan, run_batch
from actlab.studies.weight_box import default_targets, weight_box, working_interval

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
    with pytest.raises(ConfigError, match="lr: expected positive"):
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
    assert r.returncode == 0 and "2 cells" not in r.stdout and "8 cells" in r.stdout and not store.exists()
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
    import base64
    import io
    import re

    import matplotlib.image as mpimg

    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    # catalog gallery, depth (edge-of-chaos curves, theory vs measured for tanh and snake), heatmap, evaluations,
    # curves, bounds effect
    assert len(images) == 8
    assert "Depth: signal propagation" in html and "Under the he initialisation" in html
    for b64 in images:
        assert mpimg.imread(io.BytesIO(base64.b64decode(b64)), format="png").shape[0] > 100
    assert not re.search(r'(src|href)="(https?:)?//', html)


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
    assert "Findings" in text and "Single sample" in text and "Planar" in text and "The activations" in text
    assert "time per stage: single-sample" in r.stdout and "planar" in r.stdout
    r = cli("run", "planar", "--dry-run", "--quick", "--store", str(tmp_path / "p.db"))
    assert r.returncode == 0 and "study planar" in r.stdout and not (tmp_path / "p.db").exists()
