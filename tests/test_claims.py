"""The claims ledger: its rules on synthetic stores (including ones that must say "not reproduced"),
its helpers against hand calculations, and the report section / docs page built from it."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.optimize import brentq

import actlab
from actlab.report.kit import slug
from actlab.report.render import section as render_section
from actlab.results.store import Store, TrialRecord
from actlab.studies import page
from actlab.studies.claims import NOT_RUN, VERDICTS, still_improving, wilson
from actlab.studies.ledger import ledger, markdown, section
from actlab.studies.planar import claims as claims_planar
from actlab.studies.single_sample import claims as claims_single

KERAS = "Keras glorot_uniform weights, zero biases, from the seed"


def _planar(act: str, width: int, accs: list[float], dataset: str = "disc", optimizer: str = "rmsprop-keras",
            val: list[float] | None = None, **extra: Any) -> list[TrialRecord]:
    """Synthetic planar trials: test accuracies `accs`, validation accuracies `val` (default: the same)."""
    spec = actlab.create(act).spec
    recs = []
    for seed, a in enumerate(accs):
        config = {"study": "planar", "dataset": dataset, "activation": spec, "width": width, "layers": 1,
                  "optimizer": optimizer, "lr": 0.001, "steps": 100, "n": 400, "test_fraction": 0.5,
                  "noise": 0.0, "seed": seed, "init": KERAS, "dtype": "float32", **extra}
        metrics = {"test_accuracy": a, "train_accuracy": a, "val_accuracy": (val or accs)[seed], "val_loss": 0.1,
                   "final_loss": 0.1, "weights": []}
        recs.append(TrialRecord("planar", dataset, spec, optimizer, seed, config, metrics,
                                [(0, 0.7), (50, 0.2), (100, 0.2)]))
    return recs


def _planar_checks(tmp_path: Path, recs: list[TrialRecord]) -> dict[str, Any]:
    """Every planar claim's Measured, from the planar study's results of a store holding `recs`."""
    from actlab.studies.claims import Evidence
    from actlab.studies.planar.results import results
    from actlab.studies.protocol import Stored

    ev = Evidence(results={"planar": results(Stored.load(_store(tmp_path, recs), "planar"))})
    return {c.id: c.check(ev) for c in claims_planar.CLAIMS}


def _single(act: str, opt: str, bounds: str, k: int, n: int = 20) -> list[TrialRecord]:
    spec = actlab.create(act).spec
    recs = []
    for seed in range(n):
        config = {"study": "single-sample", "activation": spec, "output_activation": spec, "optimizer": opt,
                  "lr": 0.01, "target": 0.5, "bounds": bounds, "box": [[-1.0] * 4, [1.0] * 4], "seed": seed}
        ok = seed < k
        metrics = {"success": ok, "params": [0.5, 0.5, 0.5, 0.5] if seed % 2 else [3.0, 0.0, 0.0, 0.0]}
        recs.append(TrialRecord("single-sample", "t", spec, opt, seed, config, metrics))
    return recs


def _store(tmp_path: Path, recs: list[TrialRecord]) -> Path:
    path = tmp_path / "s.db"
    with Store(path) as s:
        s.write(recs)
    return path


def _rows(path: Path | None) -> dict[str, Any]:
    """The ledger's rows by id, from one read of the store at `path` (None: no store)."""
    ev = page.read(path).evidence() if path is not None else None
    return {r.id: r for r in ledger(ev)}


def test_planar_rules_on_a_synthetic_store(tmp_path: Path) -> None:
    recs = (_planar("relu", 2, [0.97, 0.98, 0.99, 0.96])  # ReLU-2 separating the disc: the claim fails
            + _planar("relu", 3, [0.7, 0.8, 0.75, 0.72])  # 3 ReLUs never reaching 95 %, loss flat: fails
            + _planar("sigmoid", 2, [0.75] * 4) + _planar("tanh", 2, [0.76] * 4)
            + _planar("sigmoid", 3, [0.70] * 4) + _planar("tanh", 3, [0.95] * 4))  # a 0.25 gap at width 3
    rows = _planar_checks(tmp_path, recs)
    assert rows["004-relu-2"].verdict == "not reproduced"
    assert rows["004-relu-3"].verdict == "not reproduced"
    assert rows["004-sigmoid-tanh"].verdict == "not reproduced"
    assert rows["004-cos-identity"].verdict == NOT_RUN and rows["004-square-2"].verdict == NOT_RUN


def test_planar_rules_reproduced_and_budget_dependence(tmp_path: Path) -> None:
    recs = _planar("relu", 2, [0.70, 0.80, 0.75, 0.78]) + _planar("relu", 3, [0.96, 0.97, 0.99, 0.90])
    # a longer budget of ReLU-2 that separates the disc: its own cell, and the one the claim reads
    recs += _planar("relu", 2, [0.99] * 4, steps=300)
    rows = _planar_checks(tmp_path, recs)
    assert rows["004-relu-2"].verdict == "not reproduced" and "300 steps" in rows["004-relu-2"].numbers
    assert "median 0.99 (IQR 0.99–0.99" in rows["004-relu-2"].numbers  # not pooled with the 100-step trials
    assert rows["004-relu-3"].verdict == "reproduced"
    rows = _planar_checks(tmp_path / "short", recs[:8])
    assert rows["004-relu-2"].verdict == "reproduced" and "100 steps" in rows["004-relu-2"].numbers
    # a "learns" claim that fails while the loss is still falling is inconclusive, not refuted
    assert claims_planar.learns(np.array([0.8, 0.9]), True) == "inconclusive"
    assert claims_planar.learns(np.array([0.8, 0.9]), False) == "not reproduced"
    assert claims_planar.cannot(np.array([0.9, 0.96, 0.8])) == "inconclusive"


def test_planar_claims_read_the_setting_chosen_on_validation(tmp_path: Path) -> None:
    """Two optimizers for ReLU-3: Adam best on test, RMSprop best on validation — the claim reads RMSprop."""
    recs = (_planar("relu", 3, [0.70, 0.72, 0.71, 0.69], val=[0.99, 0.98, 0.99, 0.97])
            + _planar("relu", 3, [0.99, 0.98, 0.99, 0.97], optimizer="adam", val=[0.80, 0.82, 0.81, 0.79]))
    row = _planar_checks(tmp_path, recs)["004-relu-3"]
    assert "rmsprop-keras lr 0.001" in row.numbers and "median 0.70" in row.numbers
    assert row.verdict == "not reproduced"  # RMSprop's seeds stay under 95 % and the loss is flat


def test_extrapolation_of_the_exact_cos_identity_network() -> None:
    """Hidden [cos(x1), x2] (W = I, no bias), output k·(h2 − h1): the boundary is exactly x2 = cos(x1)."""
    spec = actlab.create("mixed(acts=['cos', 'identity'])").spec
    trial = {"seed": 0, "config": {"activation": spec, "width": 2, "layers": 1},
             "metrics": {"weights": [[1.0, 0.0, 0.0, 1.0], [0.0, 0.0], [-5.0, 5.0], [0.0]]}}
    assert claims_planar.extrapolation(trial) == 1.0
    X = np.array([[0.0, 1.5], [0.0, 0.5], [math.pi, -0.9], [math.pi, -1.1]])
    assert np.array_equal(claims_planar.logits(trial, X) > 0, [True, False, True, False])


def test_single_sample_rules_on_a_synthetic_store(tmp_path: Path) -> None:
    recs = []
    for act in ("tanh", "sigmoid", "relu", "gelu"):
        recs += _single(act, "adam", "none", 20 if act != "relu" else 4)  # Adam fails on ReLU: 20 %
        recs += _single(act, "adamm", "none", 10)
        recs += _single(act, "adam", "reflect", 20)
        recs += _single(act, "adamm", "reflect", 20)
    rows = _rows(_store(tmp_path, recs))
    assert rows["000-adam"].verdict == "not reproduced"  # ReLU 20 % < 50 %
    assert rows["000-adamm"].verdict == "not reproduced"  # ADAMm 50 % vs Adam 100 % on three of four
    assert rows["000-reflect"].verdict == "reproduced"
    assert rows["000-box"].verdict == "inconclusive"  # half the successful fits end inside the box


def test_variance_split_by_hand() -> None:
    # rows: activations; success depends on the activation only → its share is 1
    assert claims_single.variance_split(np.array([[1.0, 1.0], [0.0, 0.0]])) == (1.0, 0.0)
    # [[1, 0], [0, 0]]: grand mean 1/4, SS total 3/4; row means (1/2, 0): SS_act = 2·2·(1/4)² = 1/4 → 1/3
    f_act, f_opt = claims_single.variance_split(np.array([[1.0, 0.0], [0.0, 0.0]]))
    assert f_act == pytest.approx(1 / 3) and f_opt == pytest.approx(1 / 3)


def test_wilson_interval_published_value() -> None:
    lo, hi = wilson(5, 10)  # Wilson (1927) 95 % interval for 5/10: 0.2366 … 0.7634
    assert lo == pytest.approx(0.2366, abs=1e-4) and hi == pytest.approx(0.7634, abs=1e-4)


def test_still_improving() -> None:
    assert still_improving([[(0, 1.0), (80, 0.5), (100, 0.3)]])
    assert not still_improving([[(0, 1.0), (80, 0.30), (100, 0.295)]])
    assert not still_improving([])
    assert not still_improving([[(0, 0.7), (80, 0.02), (100, 0.01)]])  # fitted: below the floor


def test_analyser_claims_without_a_store() -> None:
    rows = _rows(None)
    assert all(r.verdict in VERDICTS for r in rows.values())
    assert rows["000-adam"].verdict == NOT_RUN and rows["004-cos-3"].verdict == NOT_RUN
    # the sigmoid's fixed point, from scipy: σ(x) = x at 0.6590…, not the article's ≈ 0.69
    root = brentq(lambda x: 1 / (1 + math.exp(-x)) - x, 0, 1)
    assert abs(root - 0.69) > 0.005 and f"{root:.4f}" in rows["003-fixed-sigmoid"].numbers
    assert rows["003-fixed-sigmoid"].verdict == "the article is wrong"
    for cid in ("003-fixed-hard-sigmoid", "003-fixed-tanh", "003-saturation", "003-contractive", "003-taylor",
                "004-sigmoid-deriv", "002-formulas", "001-formulas", "002-softmax", "001-dead", "001-centred"):
        assert rows[cid].verdict == "reproduced", (cid, rows[cid].numbers)
    assert rows["001-relu6-leaky-all"].verdict == "the article is wrong"


def test_swish_minimum_against_scipy() -> None:
    from scipy.optimize import minimize_scalar

    best = minimize_scalar(lambda x: x / (1 + math.exp(-x)), bounds=(-5, 0), method="bounded")
    row = _rows(None)["001-swish"]
    assert f"{best.fun:.4f}" in row.numbers and f"{best.x:.4f}" in row.numbers


def test_slug_rule() -> None:
    assert slug("Planar: what can each activation learn?") == "planar-what-can-each-activation-learn"
    assert slug("Real data: which activation, and how sure?") == "real-data-which-activation-and-how-sure"
    assert slug("Depth… signal ×2") == "depth-signal-2"


def test_report_section_and_markdown(tmp_path: Path) -> None:
    path = _store(tmp_path, _planar("relu", 2, [0.7, 0.8]))
    rows = list(_rows(path).values())
    sec = section(rows, {"planar": "planar-what-can-each-activation-learn"})
    assert sec is not None
    html = render_section(sec)
    assert 'id="claim-004-relu-2"' in html and 'href="#planar-what-can-each-activation-learn"' in html
    assert sec.answer and f"{len(rows)} checkable claims" in sec.answer[0]
    md = markdown(rows, [], path, "actlab docs --claims s.db")
    for r in rows:
        assert f"**{r.id}**" in md
    assert "actlab docs --claims s.db" in md and "| **004-relu-2**" in md


def test_noise_claims_are_in_the_ledger_and_read_its_results(tmp_path: Path) -> None:
    """The noise study's claims are ledger rows from its own Claim objects: not run without its trials."""
    from actlab.studies.noise import STUDY as NOISE

    ids = {c.id for c in NOISE.claims()}
    rows = _rows(None)
    assert len(ids) == 12 and ids <= set(rows)
    assert all(rows[i].verdict == NOT_RUN and rows[i].section == "noise" for i in ids)


def test_docs_claims_command_writes_the_page(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = _store(tmp_path, _planar("relu", 2, [0.7, 0.8]))
    r = subprocess.run([sys.executable, "-m", "actlab", "docs", "--claims", str(path), "-o", str(tmp_path / "d")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "d" / "claims.md").read_text()
    assert "actlab docs --claims" in text and "| **004-relu-2**" in text
    bad = subprocess.run([sys.executable, "-m", "actlab", "docs", "--claims", str(tmp_path / "none.db")],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "no results store" in bad.stderr


def test_every_claim_links_to_a_section_the_report_has() -> None:
    """Rows link to the section with their figure by its key: the catalog, depth, or a registered study."""
    from actlab.studies.ledger import claims
    from actlab.studies.registry import studies

    keys = {"catalog", "depth", *studies()}
    assert {c.section for c in claims()} <= keys
