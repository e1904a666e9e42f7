"""The real-data benchmark as a study: config checks, the plan's paired design, a small run end to end
through the CLI (store, resume, report), and the report's rules on synthetic stores whose answer is
known: selection on validation (never test), a clearly better activation, one indistinguishable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from actlab.report import benchmark as section_mod
from actlab.results import Store, TrialRecord
from actlab.studies.benchmark import BenchmarkConfig, plan
from actlab.studies.config import ConfigError, build

TINY = ["--set", 'datasets=["wine", "digits"]', "--set", 'activations=["relu", "tanh"]', "--set", "depths=[2]",
        "--set", "widths=[8]", "--set", "seeds=3", "--set", "lr=[0.003, 0.01]", "--set", "epochs=2",
        "--set", "minibatch=64", "--quiet"]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "actlab", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("values, words", [
    ({"datasets": ["imagenet"]}, "datasets: expected a non-empty list of mnist1d, digits"),
    ({"inits": ["xavier"]}, "inits: expected a non-empty list of torch, he, lecun, edge"),
    ({"optimizers": ["lbfgs"]}, "optimizers"),
    ({"baseline": "gelu", "activations": ["relu", "tanh"]}, "baseline: expected one of the activations"),
    ({"activations": ["softmax"]}, "not elementwise"),
    ({"depths": [0]}, "depths"),
    ({"epochs": 0}, "epochs"),
    ({"val_fraction": 1.0}, "val_fraction"),
])
def test_config_errors_name_the_key(values: dict, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        build(BenchmarkConfig, values)


def test_plan_is_one_batch_per_cell_and_shares_seeds_across_activations() -> None:
    cfg = build(BenchmarkConfig, {"datasets": ["wine", "digits"], "activations": ["relu", "tanh", "gelu"],
                                  "depths": [2, 4], "seeds": 3, "lr": [0.001, 0.01]})
    batches = plan(cfg)
    assert len(batches) == 2 * 3 * 2 and all(len(b) == 3 * 2 for b in batches)
    seeds = {frozenset((t.config["seed"], t.config["lr"]) for t in b.trials) for b in batches}
    assert len(seeds) == 1  # every cell runs the same seeds × learning rates: the paired design
    keys = {"dataset", "activation", "depth", "width", "init", "optimizer", "lr", "epochs", "minibatch",
            "val_fraction", "test_fraction", "seed", "baseline"}
    assert keys <= set(batches[0].trials[0].config)
    assert len({t.id for b in batches for t in b.trials}) == sum(len(b) for b in batches)


def test_small_run_end_to_end_resumes_and_reports(tmp_path: Path) -> None:
    store = tmp_path / "b.db"
    r = cli("run", "benchmark", *TINY, "--store", str(store))
    assert r.returncode == 0, r.stderr
    with Store(store, create=False) as s:
        trials = list(s.trials("benchmark"))
    assert len(trials) == 2 * 2 * 3 * 2
    for t in trials:
        m = t["metrics"]
        assert 0 <= m["test_accuracy"] <= 1 and 0 <= m["best_epoch"] <= 2 and len(m["train_loss"]) == 2
        assert len(m["dead"]) == 2 and len(m["saturated"]) == 2
    again = cli("run", "benchmark", *TINY, "--store", str(store))
    assert again.returncode == 0
    with Store(store, create=False) as s:
        assert s.count() == len(trials)
    rep = cli("report", "--store", str(store))
    assert rep.returncode == 0, rep.stderr
    html = (tmp_path / "report.html").read_text()
    assert "Real data: which activation, and how sure?" in html and "Critical-difference diagram" in html


def test_bad_config_from_the_cli_is_one_line_and_exit_2(tmp_path: Path) -> None:
    r = cli("run", "benchmark", "--set", 'datasets=["cifar"]', "--store", str(tmp_path / "x.db"))
    assert r.returncode == 2 and r.stderr.startswith("actlab: error: datasets") and "Traceback" not in r.stderr
    assert not (tmp_path / "x.db").exists()


# --- the report's rules on synthetic stores -------------------------------------------------------
def _store(tmp_path: Path, acc: dict[tuple[str, float], list[tuple[float, float]]], dataset: str = "wine") -> Path:
    """A store with one trial per (activation, lr, seed): (val accuracy, test accuracy) per seed."""
    path = tmp_path / "synthetic.db"
    records = []
    for (act, lr), pairs in acc.items():
        for seed, (val, test) in enumerate(pairs):
            config = {"study": "benchmark", "dataset": dataset, "activation": act, "depth": 2, "width": 8,
                      "init": "torch", "optimizer": "adam", "lr": lr, "epochs": 3, "minibatch": 32, "seed": seed,
                      "baseline": "relu"}
            metrics = {"test_accuracy": test, "val_accuracy": val, "test_loss": 1.0, "best_epoch": 2,
                       "epochs_to_target": None, "time": 0.1, "train_loss": [1.0, 0.5, 0.2], "dead": [0.0, 0.1],
                       "saturated": [0.2, 0.3]}
            records.append(TrialRecord("benchmark", dataset, act, "adam", seed, config, metrics))
    with Store(path) as s:
        s.write(records)
    return path


def test_the_learning_rate_is_chosen_on_validation_never_on_test(tmp_path: Path) -> None:
    # lr 0.1 has the better validation accuracy, lr 0.01 the better test accuracy: 0.1 must be chosen
    rng = np.random.default_rng(0)
    acc = {("relu", 0.1): [(0.9, 0.5 + 0.01 * rng.random()) for _ in range(6)],
           ("relu", 0.01): [(0.5, 0.95) for _ in range(6)]}
    f = section_mod.frame(list(_load(_store(tmp_path, acc))))
    key = ("wine", "relu", (2, 8, "torch", "adam"))
    assert f.chosen[key] == 0.1
    assert max(section_mod.test_acc(f, "wine", "relu", key[2]).values()) < 0.52


def _load(path: Path) -> list[dict]:
    with Store(path, create=False) as s:
        return list(s.trials("benchmark"))


def test_a_clearly_better_activation_is_named_and_a_twin_is_not(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    base = 0.7 + 0.02 * rng.standard_normal(12)
    acc = {("relu", 0.01): [(b, b) for b in base],
           ("gelu", 0.01): [(b + 0.05, b + 0.05 + 0.001 * i) for i, b in enumerate(base)],  # better on every seed
           ("tanh", 0.01): [(b, b + (0.002 if i % 2 else -0.002)) for i, b in enumerate(base)]}  # a twin
    path = _store(tmp_path, acc)
    sec = section_mod.section(path)
    assert sec is not None
    text = " ".join(sec.findings)
    assert "better than relu" in text and "gelu (1 of 1)" in text
    assert "not distinguishable from relu in any cell at these seeds: tanh" in text
    comps = {c.activation: c for c in section_mod.comparisons(section_mod.frame(_load(path)))}
    assert comps["gelu"].p_holm < 0.05 and comps["gelu"].effect == pytest.approx(1.0)
    assert comps["tanh"].p_holm > 0.05


def test_the_variance_split_says_what_decides(tmp_path: Path) -> None:
    # the activation moves accuracy by 0.2, the seed by ±0.001: the activation explains nearly all of it
    acc = {(a, 0.01): [(0.5 + d + 0.001 * (s % 2), 0.5 + d + 0.001 * (s % 2)) for s in range(6)]
           for a, d in (("relu", 0.0), ("tanh", 0.2))}
    sec = section_mod.section(_store(tmp_path, acc))
    assert sec is not None
    line = next(w for w in sec.findings if w.startswith("Real data, wine: of the variance"))
    assert line.startswith("Real data, wine: of the variance in test accuracy the activation explains 100%")


def test_the_ledger_reads_the_benchmark(tmp_path: Path) -> None:
    """The catalog articles' training claims on a synthetic benchmark store whose answer is known: tanh and
    sigmoid clearly worse than relu (reproduced), silu indistinguishable (not reproduced), selu absent."""
    from actlab.studies.claims import ledger

    rng = np.random.default_rng(2)
    base = 0.8 + 0.02 * rng.standard_normal(10)
    acc = {("relu", 0.01): [(b, b) for b in base],
           ("tanh", 0.01): [(b - 0.1, b - 0.1 - 0.001 * i) for i, b in enumerate(base)],
           ("sigmoid", 0.01): [(b - 0.2, b - 0.2 - 0.001 * i) for i, b in enumerate(base)],
           ("silu", 0.01): [(b, b + (0.001 if i % 2 else -0.001)) for i, b in enumerate(base)]}
    rows = {r.id: r for r in ledger(_store(tmp_path, acc))}
    assert rows["001-deep-tanh-sigmoid"].verdict == "reproduced"
    assert rows["001-swish-trains"].verdict == "not reproduced"
    assert rows["002-selu-deep"].verdict == "not run in this store"


def test_the_dry_run_prints_the_estimated_time_from_sizes_that_match_the_data(tmp_path: Path) -> None:
    from actlab.studies.benchmark import SIZES, seconds
    from actlab.studies.realdata import split

    for name, (d, k, n_train, n_val) in SIZES.items():
        sp = split(name, 3)
        assert (sp.n_features, sp.n_classes, len(sp.y_train), len(sp.y_val)) == (d, k, n_train, n_val)
    cfg = build(BenchmarkConfig, {"datasets": ["digits"], "activations": ["relu"], "depths": [2], "epochs": 10})
    longer = build(BenchmarkConfig, {"datasets": ["digits"], "activations": ["relu"], "depths": [2], "epochs": 20})
    a, b = seconds(plan(cfg)[0]), seconds(plan(longer)[0])
    assert 1.5 < b / a < 2.0  # the training part doubles, the diagnosis does not
    r = cli("run", "benchmark", "--dry-run", "--store", str(tmp_path / "x.db"))
    assert r.returncode == 0 and "estimated time: about" in r.stdout and not (tmp_path / "x.db").exists()


def test_the_process_backend_gives_the_local_results(tmp_path: Path) -> None:
    from actlab.studies.runner import execute

    cfg = build(BenchmarkConfig, {"datasets": ["wine"], "activations": ["relu", "snake"], "depths": [2],
                                  "widths": [8], "seeds": 2, "lr": [0.01], "epochs": 3})
    stores = {"local": tmp_path / "local.db", "process": tmp_path / "process.db"}
    for backend, path in stores.items():
        execute(plan(cfg), path, backend=backend, workers=2 if backend == "process" else 1)
    found = {}
    for backend, path in stores.items():
        with Store(path, create=False) as s:
            found[backend] = {t["trial_id"]: (t["metrics"]["test_accuracy"], t["metrics"]["train_loss"])
                              for t in s.trials("benchmark")}
    assert len(found["local"]) == 4 and found["local"] == found["process"]
