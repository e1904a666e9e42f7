"""Successive halving over activation candidates: promotion by validation score, and a real rung on digits."""

from __future__ import annotations

import math

import torch

from actlab.studies.search.halving import best, promote, score


def test_promote_keeps_the_best_share_by_score_never_nan() -> None:
    scores = {"a": 0.5, "b": 0.9, "c": math.nan, "d": 0.7, "e": 0.9}
    assert promote(scores, 0.4) == ["b", "e"]  # ⌈0.4·5⌉ = 2; the tie keeps the given order
    assert promote(scores, 0.01) == ["b"]
    assert promote(scores, 1.0) == ["b", "e", "d", "a"]
    assert promote({"x": math.nan}, 0.5) == []


def test_the_last_rung_keeps_the_best_n_never_nan() -> None:
    scores = {"a": 0.5, "b": 0.9, "c": math.nan, "d": 0.7}
    assert best(scores, 2) == ["b", "d"] and best(scores, 9) == ["b", "d", "a"]


def test_a_real_rung_on_digits_ranks_a_broken_candidate_last() -> None:
    """relu and silu learn digits; 'expr:0*x' kills every gradient past the first layer; glu breaks the model."""
    torch.set_num_threads(1)
    scores = {spec: score(spec, "digits", 2, 2)[0] for spec in ["relu", "expr:x*sigmoid(x)", "expr:0*x", "glu"]}
    assert scores["relu"] > 0.5 and scores["expr:x*sigmoid(x)"] > 0.5  # 10 classes: chance is 0.1
    assert scores["expr:0*x"] < 0.3 and math.isnan(scores["glu"])
    assert set(promote(scores, 0.5)) == {"relu", "expr:x*sigmoid(x)"}
