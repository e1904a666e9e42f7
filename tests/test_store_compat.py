"""Stores keep working across the studies' move into packages: every bundled preset plans exactly the
trial ids it planned before (tests/fixtures/plan_hashes.json), and a store written by the code before
the move (tests/fixtures/store_v0.db) loads, reports and resumes (re-running its commands runs nothing)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from actlab.studies import page
from actlab.studies.registry import resolve, studies

FIXTURES = Path(__file__).parent / "fixtures"
V0_COMMANDS = [
    ["single-sample", "--set", 'activations=["tanh","relu","expr:where(x<abs(x), x, 0)"]', "--set",
     'optimizers=["adam","cmaes"]', "--set", "seeds=3", "--set", "steps=40", "--set", "lr=[0.01,0.1]", "--set",
     'bounds=["none","reflect"]'],
    ["planar", "--set", 'datasets=["circle","xor"]', "--set", 'activations=["relu","tanh"]', "--set", "widths=[2,3]",
     "--set", "seeds=2", "--set", "steps=60"],
    ["benchmark", "--set", 'datasets=["wine"]', "--set", 'activations=["relu","tanh"]', "--set", "depths=[2]", "--set",
     "widths=[8]", "--set", "seeds=3", "--set", "lr=[0.003,0.01]", "--set", "epochs=2", "--set", "minibatch=64"],
    ["noise", "--set", "seeds=[0,1]", "--set", "monitor_every=5", "--set", "mlp_width=8", "--set", "mlp_layers=3",
     "--set", "mlp_steps=20", "--set", "mlp_batch=32", "--set", 'escape_arms=["hard_tanh","nan"]', "--set",
     'ordinary_arms=["tanh","nan"]', "--set", 'gru_arms=["hard","noisy_output"]', "--set",
     'lstm_arms=["constant","annealed"]', "--set", "rnn_hidden=4", "--set", "rnn_batch=8", "--set", "test_size=32",
     "--set", "adding_length=6", "--set", "gru_steps=10", "--set", "unique_length=4", "--set", "unique_values=4",
     "--set", "lstm_steps=10", "--set", "one_d_starts=64", "--set", "one_d_steps=40"],
]
"""The commands that wrote store_v0.db (tests/fixtures/README.md)."""


def _presets() -> dict[str, Path]:
    return {p.name: p for s in studies().values() for p in s.presets.glob("*.toml")}


def test_every_bundled_preset_of_then_is_still_bundled() -> None:
    gold = json.loads((FIXTURES / "plan_hashes.json").read_text())
    assert set(gold) <= set(_presets()), sorted(set(gold) - set(_presets()))


@pytest.mark.parametrize("name", sorted(json.loads((FIXTURES / "plan_hashes.json").read_text())))
def test_preset_plans_the_same_trials(name: str) -> None:
    gold = json.loads((FIXTURES / "plan_hashes.json").read_text())[name]
    study, cfg = resolve(str(_presets()[name]), [])
    ids = sorted(t.id for b in study.plan(cfg) for t in b.trials)
    assert study.name == gold["study"] and len(ids) == gold["trials"]
    assert hashlib.sha256("\n".join(ids).encode()).hexdigest() == gold["sha256"]


def test_the_full_single_sample_grid_keeps_every_trial_id_as_the_catalog_grows() -> None:
    """single-sample.toml runs every deterministic elementwise entry of the catalog: new entries add trials
    (squareplus, sparse_plus, sparse_sigmoid, hard_mish: 3400 each), and the trials of the others are exactly
    those recorded at 42205ea, so a stored run is resumed, not redone."""
    study, cfg = resolve(str(_presets()["single-sample.toml"]), [])
    trials = [t for b in study.plan(cfg) for t in b.trials]
    added = {"squareplus", "sparse_plus", "sparse_sigmoid", "hard_mish"}
    before = sorted(t.id for t in trials if t.config["activation"] not in added)
    assert len(before) == 136000 and len(trials) - len(before) == 4 * 3400
    assert hashlib.sha256("\n".join(before).encode()).hexdigest() == \
        "afde286a64b9c020a093e375b3b04070f65bdbce08ac6ec53a4cbb7e30db7e1f"


@pytest.fixture(scope="module")
def v0(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("v0") / "results.db"
    shutil.copy(FIXTURES / "store_v0.db", store)
    return store


def test_old_store_loads_with_every_study(v0: Path) -> None:
    contents = page.read(v0)
    assert set(contents.results) == {"single-sample", "planar", "benchmark", "noise"}
    assert "expr:where(x<abs(x), x, 0)" in contents.activations


def test_old_store_reports(v0: Path, tmp_path: Path) -> None:
    out = page.write_report(v0, tmp_path / "report.html")
    text = out.read_text(encoding="utf-8")
    for title in ("Claims: what the source articles say", "Single sample:", "Planar:", "Real data:",
                  "Noise and saturation"):
        assert title in text, title
    assert "where(x&lt;abs(x), x, 0)" in text and "where(x<abs(x)" not in text
    # the answers first (the studies', then the catalog's and depth's), then the ledger's table, then the sections
    answers, ledger = text.index("<h2>The answers</h2>"), text.index('<section id="claims-what-the-source-articles')
    first_study = text.index('<a href="#single-sample-does-the-activation-or-the-optimizer-decide-convergence">')
    catalog_answer = text.index('<a href="#the-activations-what-each-one-is">')
    assert answers < first_study < catalog_answer < ledger < text.index('<section id="the-activations-what-each-one')


@pytest.mark.parametrize("command", V0_COMMANDS, ids=[c[0] for c in V0_COMMANDS])
def test_old_store_resumes_running_nothing(v0: Path, command: list[str]) -> None:
    r = subprocess.run([sys.executable, "-m", "actlab", "run", *command, "--store", str(v0), "-q"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert " 0 trials run, " in r.stdout, r.stdout
