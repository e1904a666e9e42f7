"""Claims of article 004 ("Tuning neural networks part III: what activations let you learn").

Its setup, reproduced as stated (presets planar-article.toml and the cheap default-planar-article-*):
Keras Dense layers, Glorot-uniform weights and zero biases, no hidden bias where its code says
use_bias=False, `model.compile(loss="binary_crossentropy")` — Keras's default optimizer RMSprop at
lr 0.001 — full-batch steps, data in its own units (`disc`, `cos_wave`). Per-seed numbers are test
accuracies of the trials with the article's optimizer (rmsprop-keras) and init (glorot); the study's
own setup (default planar: Playground circle / periodic cos(4·x1), PyTorch init, Adam 0.05) is shown
next to them. Derived measurements (periodic copies, extrapolation) are computed from the stored
weights, deterministically.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import torch

import actlab
from actlab.engine.mlp import forward
from actlab.studies.claims import (
    INCONCLUSIVE,
    NOT_REPRODUCED,
    NOT_RUN_HERE,
    REPRODUCED,
    Claim,
    Evidence,
    Measured,
    spread,
    still_improving,
)
from actlab.studies.datasets import beyond
from actlab.studies.planar import data, sizes

ARTICLE = "Keras setup as stated: Glorot-uniform weights, zero biases, RMSprop (Keras defaults) lr 0.001"
COS_ID = "mixed(acts=['cos', 'identity'])"
GOOD = 0.95


def spec(name: str) -> str:
    return actlab.create(name).spec


def cell(ev: Evidence, dataset: str, act: str, width: int, article: bool = True) -> list[dict[str, Any]]:
    """The one-hidden-layer trials of one cell: the article's setup (Glorot, rmsprop-keras) or the study's
    (PyTorch init, the best optimizer and lr by median test accuracy)."""
    s = spec(act)
    ts = [t for t in ev.trials("planar") if t["config"]["dataset"] == dataset and t["activation"] == s
          and t["config"]["width"] == width and t["config"]["layers"] == 1
          and t["config"]["init"].startswith("Keras") == article]
    if article:  # the article's optimizer; of several budgets in the store, the longest
        ts = [t for t in ts if t["optimizer"] == "rmsprop-keras"]
        longest = max((t["config"]["steps"] for t in ts), default=0)
        return [t for t in ts if t["config"]["steps"] == longest]
    groups: dict[tuple[str, float], list[dict[str, Any]]] = {}
    for t in ts:
        groups.setdefault((t["optimizer"], t["config"]["lr"]), []).append(t)
    return max(groups.values(), key=lambda g: float(np.median(acc(g))), default=[])


def acc(ts: list[dict[str, Any]], key: str = "test_accuracy") -> np.ndarray:
    return np.array([t["metrics"][key] for t in ts], dtype=float)


def logits(trial: dict[str, Any], X: np.ndarray) -> np.ndarray:
    """The trained network's logits at points X (N, 2), from the stored weights."""
    c = trial["config"]
    sz = sizes(c)
    shapes = [s for a, b in zip(sz[:-1], sz[1:]) for s in ((b, a), (b, 1))]
    params = [torch.tensor(w, dtype=torch.float64).reshape(1, *s) for w, s in zip(trial["metrics"]["weights"], shapes)]
    act = actlab.create(c["activation"]).eval()
    with torch.no_grad():
        out, _ = forward(params, torch.tensor(X.T[None], dtype=torch.float64), act)
    return out[0].numpy()


def regions(trial: dict[str, Any], half: float = 12.0, grid: int = 240) -> int:
    """Connected class-1 regions of the trained network on [−half, half]² (a periodic boundary makes copies)."""
    from scipy import ndimage

    g = np.linspace(-half, half, grid)
    xx, yy = np.meshgrid(g, g)
    inside = logits(trial, np.stack([xx.ravel(), yy.ravel()], 1)).reshape(grid, grid) > 0
    return int(ndimage.label(inside)[1])


def extrapolation(trial: dict[str, Any], n: int = 400) -> float:
    """Accuracy on `cos_wave` points beyond the training range (x1 ∈ [2π, 6π])."""
    X, y = beyond("cos_wave", n, trial["seed"])
    return float(np.mean((logits(trial, X) > 0) == (y > 0.5)))


def improving(ev: Evidence, ts: list[dict[str, Any]]) -> bool:
    return still_improving(ev.curves(ts).values())


def study_words(ev: Evidence, dataset: str, act: str, width: int) -> str:
    ts = cell(ev, dataset, act, width, article=False)
    if not ts:
        return ""
    c = ts[0]["config"]
    why = ("cos(4·x1) on [−1.5, 1.5]² scaled into [−1, 1]², not cos(x1) in the article's units"
           if dataset == "periodic" else "TensorFlow Playground's circle scaled into [−1, 1]², not the article's disc")
    return (f"study's own setup — {dataset} ({why}), PyTorch init with hidden biases, {ts[0]['optimizer']} lr "
            f"{c['lr']:g}, {c['steps']} steps: test accuracy {spread(acc(ts))}")


def learns(ts_acc: np.ndarray, improving_: bool) -> str:
    """Rule 'learns': reproduced if the median seed reaches 95 % test accuracy; not reproduced if even the
    best seed stays under 95 % and training has settled; otherwise inconclusive."""
    if np.median(ts_acc) >= GOOD:
        return REPRODUCED
    if ts_acc.max() < GOOD and not improving_:
        return NOT_REPRODUCED
    return INCONCLUSIVE


def cannot(ts_acc: np.ndarray) -> str:
    """Rule 'cannot': reproduced if no seed reaches 95 %; not reproduced if the median seed does."""
    if ts_acc.max() < GOOD:
        return REPRODUCED
    return NOT_REPRODUCED if np.median(ts_acc) >= GOOD else INCONCLUSIVE


def _learns(dataset: str, act: str, width: int, ev: Evidence) -> Measured:
    ts = cell(ev, dataset, act, width)
    if not ts:
        return NOT_RUN_HERE
    a, imp = acc(ts), improving(ev, ts)
    extra = f"; extrapolation accuracy {spread([extrapolation(t) for t in ts])}" if dataset == "cos_wave" else ""
    return Measured(f"test accuracy {spread(a)}{extra}; loss still falling: {'yes' if imp else 'no'}",
                    learns(a, imp), study_words(ev, "periodic" if dataset == "cos_wave" else "circle", act, width))


def _cannot(dataset: str, act: str, width: int, ev: Evidence) -> Measured:
    ts = cell(ev, dataset, act, width)
    if not ts:
        return NOT_RUN_HERE
    a = acc(ts)
    return Measured(f"test accuracy {spread(a)}; train accuracy {spread(acc(ts, 'train_accuracy'))}", cannot(a),
                    study_words(ev, "circle", act, width))


def _alike(ev: Evidence) -> Measured:
    """Rule: reproduced if sigmoid's and tanh's median test accuracies differ by ≤ 0.05 at widths 2 and 3;
    not reproduced if by > 0.10 at either; otherwise inconclusive."""
    gaps, words = [], []
    for w in (2, 3):
        s, t = cell(ev, "disc", "sigmoid", w), cell(ev, "disc", "tanh", w)
        if not s or not t:
            return NOT_RUN_HERE
        gaps.append(abs(float(np.median(acc(s)) - np.median(acc(t)))))
        words.append(f"width {w}: sigmoid {spread(acc(s))}, tanh {spread(acc(t))}")
    verdict = REPRODUCED if max(gaps) <= 0.05 else NOT_REPRODUCED if max(gaps) > 0.10 else INCONCLUSIVE
    return Measured("; ".join(words) + f"; largest gap of medians {max(gaps):.3f}", verdict)


def _exact(ev: Evidence) -> Measured:
    """Rule: reproduced if the median seed separates the training data exactly (train accuracy 1) and
    reaches ≥ 0.99 on test; not reproduced if its test accuracy is < 0.95 once training has settled."""
    ts = cell(ev, "disc", "square", 2)
    if not ts or ts[0]["config"].get("hidden_bias", True):
        return NOT_RUN_HERE
    a, tr, imp = acc(ts), acc(ts, "train_accuracy"), improving(ev, ts)
    if np.median(tr) >= 1.0 and np.median(a) >= 0.99:
        verdict = REPRODUCED
    else:
        verdict = NOT_REPRODUCED if np.median(a) < GOOD and not imp else INCONCLUSIVE
    return Measured(f"train accuracy {spread(tr, '.3f')}; test accuracy {spread(a, '.3f')}; loss still falling: "
                    f"{'yes' if imp else 'no'}", verdict, study_words(ev, "circle", "square", 2))


def constructed_cos(trial: dict[str, Any]) -> float:
    """Accuracy on a trial's data of the article's hand solution z = k·(cos x1 + cos x2 − c): hidden weights
    the identity, no hidden bias, the threshold c chosen on the training points (the best of a grid)."""
    Xtr, ytr, Xte, yte = data(trial["config"])
    f_tr, f_te = np.cos(Xtr).sum(1), np.cos(Xte).sum(1)
    cs = np.linspace(-2, 2, 401)
    best = cs[int(np.argmax([np.mean((f_tr > c) == (ytr > 0.5)) for c in cs]))]
    return float(np.mean((f_te > best) == (yte > 0.5)))


def _stuck(ev: Evidence) -> Measured:
    """Rule: reproduced if the hand solution separates the data (≥ 95 % test) and at least a quarter of the
    seeds stay under 95 % (stuck); the article is wrong on the theory if the hand solution does not
    separate; not reproduced if fewer than a quarter get stuck."""
    ts = cell(ev, "disc", "cos", 2)
    if not ts:
        return NOT_RUN_HERE
    a, hand = acc(ts), constructed_cos(ts[0])
    stuck = float(np.mean(a < GOOD))
    verdict = ("the article is wrong" if hand < GOOD else REPRODUCED if stuck >= 0.25 else NOT_REPRODUCED)
    return Measured(f"hand solution 1 + cos x1 + cos x2: test accuracy {hand:.3f}; trained: test accuracy {spread(a)}, "
                    f"{stuck:.0%} of seeds under 95 %", verdict, study_words(ev, "circle", "cos", 2))


def _copies(ev: Evidence) -> Measured:
    """Rule: reproduced if the median seed reaches 95 % test accuracy and its class-1 region on [−12, 12]²
    has ≥ 2 connected parts (copies of the disc); not reproduced if the median seed has one part."""
    ts = cell(ev, "disc", "cos", 3)
    if not ts:
        return NOT_RUN_HERE
    a, parts = acc(ts), np.array([regions(t) for t in ts])
    if np.median(parts) < 2:
        verdict = NOT_REPRODUCED
    else:
        verdict = REPRODUCED if np.median(a) >= GOOD else INCONCLUSIVE
    return Measured(f"test accuracy {spread(a)}; class-1 regions on [−12, 12]² {spread(parts, '.0f')}", verdict,
                    study_words(ev, "circle", "cos", 3))


def _relu_wave(ev: Evidence) -> Measured:
    """Rule: reproduced if the median extrapolation accuracy beyond the data (x1 ∈ [2π, 6π]) is < 0.8; not
    reproduced if ≥ 0.95; otherwise inconclusive."""
    ts = cell(ev, "cos_wave", "relu", 8)
    if not ts:
        return NOT_RUN_HERE
    ex = np.array([extrapolation(t) for t in ts])
    verdict = REPRODUCED if np.median(ex) < 0.8 else NOT_REPRODUCED if np.median(ex) >= GOOD else INCONCLUSIVE
    return Measured(f"test accuracy (inside the data's range) {spread(acc(ts))}; extrapolation accuracy {spread(ex)}",
                    verdict, study_words(ev, "periodic", "relu", 8))


CIRCLE = (f"{ARTICLE}; data `disc` (Playground's circle with radius 2: class 1 within 1, class 0 from 1.4; our "
          "choice), 8 seeds")
WAVE = f"{ARTICLE}; data `cos_wave` (x1 ∈ [−2π, 2π], x2 ∈ [−2, 2], our choice), 8 seeds"
CLAIMS = [
    Claim("004-relu-2", "004", "ReLU with one hidden layer of 2 neurons cannot separate the circle.", CIRCLE,
          cannot.__doc__ or "", "planar", partial(_cannot, "disc", "relu", 2)),
    Claim("004-relu-3", "004", "3 ReLU hidden neurons suffice to separate the circle.", CIRCLE,
          learns.__doc__ or "", "planar", partial(_learns, "disc", "relu", 3)),
    Claim("004-sigmoid-tanh", "004", "Sigmoid and tanh learn much what ReLU learns and behave alike (2 and 3 "
          "hidden neurons).", CIRCLE, _alike.__doc__ or "", "planar", _alike),
    Claim("004-square-2", "004", "x² without biases and 2 hidden neurons separates the circle exactly.",
          CIRCLE + "; use_bias=False as in its code", _exact.__doc__ or "", "planar", _exact),
    Claim("004-cos-2", "004", "cos with 2 hidden neurons can separate the circle in theory (1 + cos x + cos y) "
          "but training gets stuck in local minima.", CIRCLE + "; hidden bias on (its code is not shown)",
          _stuck.__doc__ or "", "planar", _stuck),
    Claim("004-cos-3", "004", "cos with 3 hidden neurons learns the circle, with periodic copies of it over the "
          "whole plane.", CIRCLE, _copies.__doc__ or "", "planar", _copies),
    Claim("004-relu-8-wave", "004", "ReLU with 8 hidden neurons does not learn the periodic boundary "
          "x2 = cos(x1) beyond the data.", WAVE, _relu_wave.__doc__ or "", "planar", _relu_wave),
    Claim("004-cos-identity", "004", "One hidden layer of 2 neurons, the first cos and the second the identity, "
          "no biases, learns the boundary x2 = cos(x1).", WAVE + "; use_bias=False as in its code",
          learns.__doc__ or "", "planar", partial(_learns, "cos_wave", COS_ID, 2)),
]
