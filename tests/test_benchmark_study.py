"""The real-data benchmark as a study: config checks, the plan's paired design, the tiny preset end to end
(store, resume, results, section, summary), the store written before the restructuring, and the rules on
synthetic stores whose answer is known: selection on validation (never test: shuffling the test
accuracies changes no choice), the same learning rate per cell in the section and the claims, a clearly
better activation, one indistinguishable, display names, the claims."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from actlab.report import render
from actlab.report.kit import Bullets, Cell, Table
from actlab.results import Store, TrialRecord
from actlab.studies.benchmark import STUDY
from actlab.studies.benchmark.results import RULE, Results, accuracies
from actlab.studies.benchmark.study import BenchmarkConfig, plan
from actlab.studies.claims import NOT_RUN, Evidence
from actlab.studies.config import ConfigError, build
from actlab.studies.protocol import Stored

FIXTURES = Path(__file__).parent / "fixtures"

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


def _results(path: Path) -> Results:
    r = STUDY.results(Stored.load(path, "benchmark"))
    assert isinstance(r, Results)
    return r


def test_tiny_run_end_to_end_resumes_and_reports(tmp_path: Path) -> None:
    """The tiny preset through the runner, then results → section (rendered), summary and claims from it."""
    from actlab.studies.registry import resolve
    from actlab.studies.runner import execute

    store = tmp_path / "b.db"
    study, cfg = resolve(str(STUDY.preset("benchmark-tiny.toml")), [])
    assert study is STUDY
    execute(plan(cfg), store)
    with Store(store, create=False) as s:
        trials = list(s.trials("benchmark"))
    assert len(trials) == 2 * 3 * 2  # activations × seeds × learning rates
    for t in trials:
        m = t["metrics"]
        assert 0 <= m["test_accuracy"] <= 1 and 0 <= m["best_epoch"] <= 2 and len(m["train_loss"]) == 2
        assert len(m["dead"]) == 2 and len(m["saturated"]) == 2
    execute(plan(cfg), store)  # resume: nothing new
    with Store(store, create=False) as s:
        assert s.count() == len(trials)
    r = _results(store)
    sec = STUDY.section(r)
    assert sec is not None and sec.title == "Real data: which activation, and how sure?"
    assert sec.question and 1 <= len(sec.answer) <= 2 and sec.figure is not None
    html = render.section(sec)
    assert "Critical-difference diagram" in html and RULE.text() in html
    tables = STUDY.summary(r)
    assert len(tables) == 1 and [c.header for c in tables[0].columns][:2] == ["activation", "mean"]
    assert tables[0].row_count == 2


def test_bad_config_from_the_cli_is_one_line_and_exit_2(tmp_path: Path) -> None:
    r = cli("run", "benchmark", "--set", 'datasets=["cifar"]', "--store", str(tmp_path / "x.db"))
    assert r.returncode == 2 and r.stderr.startswith("actlab: error: datasets") and "Traceback" not in r.stderr
    assert not (tmp_path / "x.db").exists()


def test_the_store_written_before_the_restructuring_still_reports() -> None:
    r = _results(FIXTURES / "store_v0.db")
    assert r.frame.activations == ["relu", "tanh"] and r.frame.settings == [(2, 8, "torch", "adam")]
    sec = STUDY.section(r)
    assert sec is not None
    render.section(sec)
    assert len(STUDY.summary(r)) == 1
    ev = Evidence(results={"benchmark": r})
    assert {c.check(ev).verdict for c in STUDY.claims()} == {NOT_RUN}  # no sigmoid, silu or selu there


# --- the report's rules on synthetic stores -------------------------------------------------------
Row = tuple[str, str, int, float, int, float, float]
"""(dataset, activation, depth, lr, seed, validation accuracy, test accuracy): one synthetic trial."""


def _write(tmp_path: Path, rows: list[Row], name: str = "synthetic.db") -> Path:
    path = tmp_path / name
    records = []
    for dataset, act, depth, lr, seed, val, test in rows:
        config = {"study": "benchmark", "dataset": dataset, "activation": act, "depth": depth, "width": 8,
                  "init": "torch", "optimizer": "adam", "lr": lr, "epochs": 3, "minibatch": 32, "seed": seed,
                  "baseline": "relu"}
        metrics = {"test_accuracy": test, "val_accuracy": val, "test_loss": 1.0, "best_epoch": 2,
                   "epochs_to_target": None, "time": 0.1, "train_loss": [1.0, 0.5, 0.2], "dead": [0.0, 0.1],
                   "saturated": [0.2, 0.3]}
        records.append(TrialRecord("benchmark", dataset, act, "adam", seed, config, metrics))
    with Store(path) as s:
        s.write(records)
    return path


def _store(tmp_path: Path, acc: dict[tuple[str, float], list[tuple[float, float]]], dataset: str = "wine") -> Path:
    """A store with one trial per (activation, lr, seed): (val accuracy, test accuracy) per seed."""
    return _write(tmp_path, [(dataset, act, 2, lr, seed, val, test) for (act, lr), pairs in acc.items()
                             for seed, (val, test) in enumerate(pairs)])


def test_the_learning_rate_is_chosen_on_validation_never_on_test(tmp_path: Path) -> None:
    # lr 0.1 has the better validation accuracy, lr 0.01 the better test accuracy: 0.1 must be chosen
    rng = np.random.default_rng(0)
    acc = {("relu", 0.1): [(0.9, 0.5 + 0.01 * rng.random()) for _ in range(6)],
           ("relu", 0.01): [(0.5, 0.95) for _ in range(6)]}
    f = _results(_store(tmp_path, acc)).frame
    key = ("wine", "relu", (2, 8, "torch", "adam"))
    assert f.chosen[key] == 0.1
    assert max(accuracies(f, "wine", "relu", key[2]).values()) < 0.52


ACTS = ("relu", "tanh", "sigmoid", "silu", "selu")


def _grid(seed: int) -> list[Row]:
    """Five activations × two datasets × depths 2 and 6 × three learning rates × 6 seeds, random accuracies
    (validation and test independent): the chosen learning rates differ between cells."""
    rng = np.random.default_rng(seed)
    return [(d, a, depth, lr, s, float(rng.uniform(0.5, 0.9)), float(rng.uniform(0.5, 0.9)))
            for d in ("wine", "digits") for a in ACTS for depth in (2, 6) for lr in (0.001, 0.003, 0.01)
            for s in range(6)]


def _by_hand(rows: list[Row]) -> dict[tuple[str, str, int], float]:
    """(dataset, activation, depth) → the lr of the highest mean validation accuracy (ties: the smaller)."""
    means: dict[tuple[str, str, int], dict[float, list[float]]] = {}
    for d, a, depth, lr, _, val, _ in rows:
        means.setdefault((d, a, depth), {}).setdefault(lr, []).append(val)
    return {k: max(sorted(v), key=lambda lr: float(np.mean(v[lr]))) for k, v in means.items()}


def test_test_accuracies_change_no_selection(tmp_path: Path) -> None:
    rows = _grid(3)
    rng = np.random.default_rng(4)
    shuffled_test = rng.permutation([r[6] for r in rows])
    shuffled = [(*r[:6], float(t)) for r, t in zip(rows, shuffled_test)]
    f, g = _results(_write(tmp_path, rows, "a.db")).frame, _results(_write(tmp_path, shuffled, "b.db")).frame
    assert f.chosen == g.chosen
    assert {k: sorted(v) for k, v in f.selected.items()} == {k: sorted(v) for k, v in g.selected.items()}
    expected = _by_hand(rows)
    assert {(d, a, s[0]): lr for (d, a, s), lr in f.chosen.items()} == expected
    assert len(set(expected.values())) == 3  # the test would be empty if every cell chose the same rate


def test_the_section_and_the_claims_name_the_same_learning_rate_per_cell(tmp_path: Path) -> None:
    rows = _grid(5)
    r = _results(_write(tmp_path, rows))
    expected = _by_hand(rows)
    sec = STUDY.section(r)
    assert sec is not None
    lr_table = next(b for b in sec.blocks if isinstance(b, Table) and b.columns[0] == "activation"
                    and "learning rate chosen on validation" in b.caption)
    in_section = {}
    for row in lr_table.rows:
        act = row[0].text if isinstance(row[0], Cell) else row[0]
        for col, cell in zip(lr_table.columns[1:], row[1:]):
            m = re.fullmatch(r"(\w+), depth (\d+)", col)
            assert m is not None and isinstance(cell, Cell)
            in_section[(m.group(1), act, int(m.group(2)))] = float(cell.text)
    assert in_section == expected
    ev = Evidence(results={"benchmark": r})
    named = 0
    for claim in STUDY.claims():
        numbers = claim.check(ev).numbers
        pattern = r"(\w+) depth (\d+): (\w+) [\d.]+ at lr ([\d.e-]+) vs relu [\d.]+ at lr ([\d.e-]+)"
        for m in re.finditer(pattern, numbers):
            d, depth, act, lr, base_lr = m.group(1), int(m.group(2)), m.group(3), float(m.group(4)), float(m.group(5))
            assert (lr, base_lr) == (in_section[(d, act, depth)], in_section[(d, "relu", depth)])
            named += 1
    assert named == 2 * 2 + 2 * 2 + 2 * 1  # tanh and sigmoid at depth 6, silu at both depths, selu at depth 6


def test_a_clearly_better_activation_is_named_and_a_twin_is_not(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    base = 0.7 + 0.02 * rng.standard_normal(12)
    acc = {("relu", 0.01): [(b, b) for b in base],
           ("gelu", 0.01): [(b + 0.05, b + 0.05 + 0.001 * i) for i, b in enumerate(base)],  # better on every seed
           ("tanh", 0.01): [(b, b + (0.002 if i % 2 else -0.002)) for i, b in enumerate(base)]}  # a twin
    r = _results(_store(tmp_path, acc))
    sec = STUDY.section(r)
    assert sec is not None
    text = " ".join(sec.answer)
    assert "Against relu" in text and "better in some cell: 1 of 2 activations: gelu" in text
    assert "never distinguishable: 1 of 2 activations: tanh" in text and "worse in some cell" not in text
    comps = {c.activation: c for c in r.comparisons}
    assert comps["gelu"].p_holm < 0.05 and comps["gelu"].effect == pytest.approx(1.0)
    assert comps["tanh"].p_holm > 0.05
    table = next(b for b in sec.blocks if isinstance(b, Table) and "average rank" in b.columns)
    first = table.rows[0]
    assert first[0] == Cell("gelu") and first[3:5] == ["1 of 1", "0 of 1"]  # best rank first


def test_the_answer_names_the_best_rank_and_what_cannot_be_separated_from_it(tmp_path: Path) -> None:
    # gelu > relu > tanh on every seed, by margins the ranks see: gelu ranks 1.0, tanh 3.0; CD (3 methods,
    # 12 blocks, α 0.05) = 2.343·√(3·4/72) = 0.957 (Demšar's q = 2.343): relu (2.0) is > CD from gelu
    base = 0.7 + 0.001 * np.arange(12)
    acc = {("relu", 0.01): [(b, b) for b in base], ("gelu", 0.01): [(b, b + 0.05) for b in base],
           ("tanh", 0.01): [(b, b - 0.05) for b in base]}
    r = _results(_store(tmp_path, acc))
    assert r.ranks is not None and r.ranks.cd == pytest.approx(2.343 * np.sqrt(12 / 72), abs=1e-3)
    sec = STUDY.section(r)
    assert sec is not None
    assert sec.answer[0] == ("gelu has the best average rank (1.0) over 12 dataset × setting × seed blocks; "
                             "not separable from it by Nemenyi's test: 0 of 2 others.")


def test_the_variance_split_says_what_decides(tmp_path: Path) -> None:
    # the activation moves accuracy by 0.2, the seed by ±0.001: the activation explains nearly all of it
    acc = {(a, 0.01): [(0.5 + d + 0.001 * (s % 2), 0.5 + d + 0.001 * (s % 2)) for s in range(6)]
           for a, d in (("relu", 0.0), ("tanh", 0.2))}
    sec = STUDY.section(_results(_store(tmp_path, acc)))
    assert sec is not None
    words = [w for b in sec.blocks if isinstance(b, Bullets) for w in b.items]
    line = next(w for w in words if w.startswith("wine: of the variance"))
    assert line.startswith("wine: of the variance in test accuracy the activation explains 100%")


def test_long_specs_read_as_display_names_with_the_spec_on_hover_and_in_the_legend(tmp_path: Path) -> None:
    spec = "snake(a=0.5, num_parameters=1)"
    base = 0.7 + 0.01 * np.arange(5)
    sec = STUDY.section(_results(_store(tmp_path, {("relu", 0.01): [(b, b) for b in base],
                                                   (spec, 0.01): [(b, b + 0.01) for b in base]})))
    assert sec is not None
    html = render.section(sec)
    assert f'title="{spec}"' in html and f"snake(a=0.5) = {spec}" in html
    assert spec not in " ".join(sec.answer)
    cells = [c for b in sec.blocks if isinstance(b, Table) for row in b.rows for c in row]
    assert all(c.text == "snake(a=0.5)" for c in cells if isinstance(c, Cell) and c.title == spec)


def test_the_ledger_reads_the_benchmark(tmp_path: Path) -> None:
    """The catalog articles' training claims on a synthetic benchmark store whose answer is known: tanh and
    sigmoid clearly worse than relu (reproduced), silu indistinguishable (not reproduced), selu absent."""
    rng = np.random.default_rng(2)
    base = 0.8 + 0.02 * rng.standard_normal(10)
    acc = {("relu", 0.01): [(b, b) for b in base],
           ("tanh", 0.01): [(b - 0.1, b - 0.1 - 0.001 * i) for i, b in enumerate(base)],
           ("sigmoid", 0.01): [(b - 0.2, b - 0.2 - 0.001 * i) for i, b in enumerate(base)],
           ("silu", 0.01): [(b, b + (0.001 if i % 2 else -0.001)) for i, b in enumerate(base)]}
    ev = Evidence(results={"benchmark": _results(_store(tmp_path, acc))})
    rows = {c.id: c.check(ev) for c in STUDY.claims()}
    assert rows["001-deep-tanh-sigmoid"].verdict == "reproduced"
    assert rows["001-swish-trains"].verdict == "not reproduced"
    assert rows["002-selu-deep"].verdict == "not run in this store"
    assert {c.check(Evidence()).verdict for c in STUDY.claims()} == {NOT_RUN}


def test_the_dry_run_prints_the_estimated_time_from_sizes_that_match_the_data(tmp_path: Path) -> None:
    from actlab.data.realdata import split
    from actlab.studies.benchmark.study import SIZES, seconds

    for name, (d, k, n_train, n_val) in SIZES.items():
        sp = split(name, 3)
        assert (sp.n_features, sp.n_classes, len(sp.y_train), len(sp.y_val)) == (d, k, n_train, n_val)
    cfg = build(BenchmarkConfig, {"datasets": ["digits"], "activations": ["relu"], "depths": [2], "epochs": 10})
    longer = build(BenchmarkConfig, {"datasets": ["digits"], "activations": ["relu"], "depths": [2], "epochs": 20})
    a, b = seconds(plan(cfg)[0]), seconds(plan(longer)[0])
    assert 1.5 < b / a < 2.0  # the training part doubles, the diagnosis does not
    r = cli("run", "benchmark", "--dry-run", "--store", str(tmp_path / "x.db"))
    assert r.returncode == 0 and "estimated time about" in r.stdout and not (tmp_path / "x.db").exists()


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


# --- the MNIST-1D paper's CNN and GRU -----------------------------------------------------------------------------
def test_the_full_preset_adds_the_paper_models_and_keeps_every_mlp_trial_id() -> None:
    """The MLP trials of the full preset are exactly those planned before `models` existed (their ids hash to
    the value recorded then), and the CNN and GRU cells come on MNIST-1D only, one per activation."""
    import hashlib

    from actlab.studies.registry import resolve

    study, cfg = resolve(str(STUDY.preset("benchmark.toml")), [])
    trials = [t for b in study.plan(cfg) for t in b.trials]
    mlp = sorted(t.id for t in trials if "model" not in t.config)
    assert len(mlp) == 3120
    assert hashlib.sha256("\n".join(mlp).encode()).hexdigest() == \
        "aec8a4f2dd102cb1292cce90f03e5b007d51317a690ec2a1c3d8ba365c8f4ffb"
    paper = [t for t in trials if "model" in t.config]
    assert {t.config["dataset"] for t in paper} == {"mnist1d"}
    assert len(paper) == 2 * 13 * 10 * 3  # cnn and gru × activations × seeds × learning rates


def test_paper_models_need_mnist1d() -> None:
    with pytest.raises(ConfigError, match="models: expected mlp, or the dataset mnist1d for cnn and gru"):
        BenchmarkConfig(datasets=["wine"], models=["cnn"])
    assert all("model" not in t.config for b in plan(BenchmarkConfig(datasets=["wine"], models=["mlp", "cnn"]))
               for t in b.trials)


def test_cnn_and_gru_cells_train_and_report(tmp_path: Path) -> None:
    import torch

    from actlab.studies.benchmark.results import results
    from actlab.studies.runner import execute

    torch.set_num_threads(1)
    cfg = BenchmarkConfig(datasets=["mnist1d"], activations=["relu", "tanh"], models=["cnn", "gru"], seeds=2,
                          lr=[0.01], epochs=1, minibatch=256)
    batches = plan(cfg)
    assert [b.trials[0].config["model"] for b in batches] == ["cnn", "gru", "cnn", "gru"]
    execute(batches, tmp_path / "r.db")
    stored = Stored.load(tmp_path / "r.db", "benchmark")
    assert len(stored.trials) == 8
    for t in stored.trials:
        m = t["metrics"]
        # on the CPU the CNN trains one trial after another (vmap's grouped convolutions are slower there)
        assert m["trained_as"] == {"cnn": "sequential", "gru": "vmap"}[t["config"]["model"]]
        assert 0.1 < m["test_accuracy"] <= 1 and len(m["dead"]) >= 1
    r = results(stored)
    assert {s[-1] for s in r.frame.settings} == {"model=cnn", "model=gru"}
    assert sorted((c.activation, c.setting[-1]) for c in r.comparisons if c.activation != r.frame.baseline) == \
        [("tanh", "model=cnn"), ("tanh", "model=gru")]
