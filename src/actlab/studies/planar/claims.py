"""Claims of article 004 ("Tuning neural networks part III: what activations let you learn").

Its setup, reproduced as stated (presets planar-article.toml and the cheap default-planar-article-*):
Keras Dense layers, Glorot-uniform weights and zero biases, no hidden bias where its code says
use_bias=False, `model.compile(loss="binary_crossentropy")` — Keras's default optimizer RMSprop at
lr 0.001 — full-batch steps, data in its own units (`disc`, `cos_wave`). Every check reads the study's
results (`ev.results("planar")`, `results.PlanarResults`): a claim's cell is the one its section shows,
with the optimizer and lr chosen on validation accuracy by the study's one rule (the default presets
run RMSprop only; planar-article.toml adds Adam); of several step budgets in a store, the longest.
Per-seed numbers are the chosen setting's test accuracies; the study's own setup (default planar:
Playground circle / periodic cos(4·x1), PyTorch init, Adam 0.05) is shown next to them. Derived
measurements (periodic copies, extrapolation) are computed from the stored weights, deterministically.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import torch

import actlab
from actlab.data.planar import beyond
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
from actlab.studies.planar.results import GOOD, PlanarResults, accuracies
from actlab.studies.planar.study import EXTRAPOLATION_STREAM, NAME, data, evaluator, params_of, stream_seed
from actlab.studies.selection import Choice

ARTICLE = ("Keras setup as stated: Glorot-uniform weights, zero biases, RMSprop (Keras defaults) lr 0.001 (with "
           "planar-article.toml Adam at 0.001 too: each cell's optimizer chosen on validation accuracy)")
COS_ID = "mixed(acts=['cos', 'identity'])"


def spec(name: str) -> str:
    return actlab.create(name).spec


def planar(ev: Evidence) -> PlanarResults | None:
    r = ev.results(NAME)
    return r if isinstance(r, PlanarResults) else None


def cell(ev: Evidence, dataset: str, act: str, width: int, article: bool = True,
         hidden_bias: bool = True) -> Choice | None:
    """The chosen setting of a one-hidden-layer cell (`PlanarResults.find`): the article's setup (Glorot
    init) or the study's (PyTorch init); the optimizer and lr are the cell's choice on validation."""
    r = planar(ev)
    return r.find(dataset, spec(act), width, article=article, hidden_bias=hidden_bias) if r else None


def acc(ts: list[dict[str, Any]], key: str = "test_accuracy") -> np.ndarray:
    return accuracies(ts, key)


def setting(c: Choice) -> str:
    """'rmsprop-keras lr 0.001, 3000 steps' — the chosen setting a claim's numbers come from."""
    return f"{c.setting['optimizer']} lr {c.setting['lr']:g}, {c.cell['steps']} steps"


def logits(trial: dict[str, Any], X: np.ndarray) -> np.ndarray:
    """The trained network's logits at points X (N, 2), from the stored weights."""
    c = trial["config"]
    params = params_of(c, trial["metrics"]["weights"], torch.float64)
    act = evaluator(c["activation"], torch.float64)
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
    """Accuracy on `cos_wave` points beyond the training range (x1 ∈ [2π, 6π]), drawn from the trial's own
    stream for it (`study.stream_seed(seed, EXTRAPOLATION_STREAM)`): independent of its training points."""
    X, y = beyond("cos_wave", n, stream_seed(trial["seed"], EXTRAPOLATION_STREAM))
    return float(np.mean((logits(trial, X) > 0) == (y > 0.5)))


def improving(ev: Evidence, c: Choice) -> bool:
    r = planar(ev)
    return still_improving(r.curves_of(c)) if r else False


def study_words(ev: Evidence, dataset: str, act: str, width: int) -> str:
    c = cell(ev, dataset, act, width, article=False)
    if c is None:
        return ""
    why = ("cos(4·x1) on [−1.5, 1.5]² scaled into [−1, 1]², not cos(x1) in the article's units"
           if dataset == "periodic" else "TensorFlow Playground's circle scaled into [−1, 1]², not the article's disc")
    return (f"study's own setup — {dataset} ({why}), PyTorch init with hidden biases, {setting(c)}: test "
            f"accuracy {spread(acc(c.trials))}")


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


def _learns(dataset: str, act: str, width: int, hidden_bias: bool, ev: Evidence) -> Measured:
    c = cell(ev, dataset, act, width, hidden_bias=hidden_bias)
    if c is None:
        return NOT_RUN_HERE
    a, imp = acc(c.trials), improving(ev, c)
    extra = (f"; extrapolation accuracy {spread([extrapolation(t) for t in c.trials])}" if dataset == "cos_wave"
             else "")
    return Measured(f"{setting(c)}: test accuracy {spread(a)}{extra}; loss still falling: {'yes' if imp else 'no'}",
                    learns(a, imp), study_words(ev, "periodic" if dataset == "cos_wave" else "circle", act, width))


def _cannot(dataset: str, act: str, width: int, ev: Evidence) -> Measured:
    c = cell(ev, dataset, act, width)
    if c is None:
        return NOT_RUN_HERE
    a, tr = acc(c.trials), acc(c.trials, "train_accuracy")
    return Measured(f"{setting(c)}: test accuracy {spread(a)}; train accuracy {spread(tr)}", cannot(a),
                    study_words(ev, "circle", act, width))


def _alike(ev: Evidence) -> Measured:
    """Rule: reproduced if sigmoid's and tanh's median test accuracies differ by ≤ 0.05 at widths 2 and 3;
    not reproduced if by > 0.10 at either; otherwise inconclusive."""
    gaps, words = [], []
    for w in (2, 3):
        s, t = cell(ev, "disc", "sigmoid", w), cell(ev, "disc", "tanh", w)
        if s is None or t is None:
            return NOT_RUN_HERE
        gaps.append(abs(float(np.median(acc(s.trials)) - np.median(acc(t.trials)))))
        words.append(f"width {w}: sigmoid ({setting(s)}) {spread(acc(s.trials))}, tanh ({setting(t)}) "
                     f"{spread(acc(t.trials))}")
    verdict = REPRODUCED if max(gaps) <= 0.05 else NOT_REPRODUCED if max(gaps) > 0.10 else INCONCLUSIVE
    return Measured("; ".join(words) + f"; largest gap of medians {max(gaps):.3f}", verdict)


def _exact(ev: Evidence) -> Measured:
    """Rule: reproduced if the median seed separates the training data exactly (train accuracy 1) and
    reaches ≥ 0.99 on test; not reproduced if its test accuracy is < 0.95 once training has settled."""
    c = cell(ev, "disc", "square", 2, hidden_bias=False)
    if c is None:
        return NOT_RUN_HERE
    a, tr, imp = acc(c.trials), acc(c.trials, "train_accuracy"), improving(ev, c)
    if np.median(tr) >= 1.0 and np.median(a) >= 0.99:
        verdict = REPRODUCED
    else:
        verdict = NOT_REPRODUCED if np.median(a) < GOOD and not imp else INCONCLUSIVE
    return Measured(f"{setting(c)}: train accuracy {spread(tr, '.3f')}; test accuracy {spread(a, '.3f')}; loss still "
                    f"falling: {'yes' if imp else 'no'}", verdict, study_words(ev, "circle", "square", 2))


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
    c = cell(ev, "disc", "cos", 2)
    if c is None:
        return NOT_RUN_HERE
    a, hand = acc(c.trials), constructed_cos(c.trials[0])
    stuck = float(np.mean(a < GOOD))
    verdict = ("the article is wrong" if hand < GOOD else REPRODUCED if stuck >= 0.25 else NOT_REPRODUCED)
    return Measured(f"hand solution 1 + cos x1 + cos x2: test accuracy {hand:.3f}; trained ({setting(c)}): test "
                    f"accuracy {spread(a)}, {stuck:.0%} of seeds under 95 %", verdict,
                    study_words(ev, "circle", "cos", 2))


def _copies(ev: Evidence) -> Measured:
    """Rule: reproduced if the median seed reaches 95 % test accuracy and its class-1 region on [−12, 12]²
    has ≥ 2 connected parts (copies of the disc); not reproduced if the median seed has one part."""
    c = cell(ev, "disc", "cos", 3)
    if c is None:
        return NOT_RUN_HERE
    a, parts = acc(c.trials), np.array([regions(t) for t in c.trials])
    if np.median(parts) < 2:
        verdict = NOT_REPRODUCED
    else:
        verdict = REPRODUCED if np.median(a) >= GOOD else INCONCLUSIVE
    return Measured(f"{setting(c)}: test accuracy {spread(a)}; class-1 regions on [−12, 12]² {spread(parts, '.0f')}",
                    verdict, study_words(ev, "circle", "cos", 3))


def _relu_wave(ev: Evidence) -> Measured:
    """Rule: reproduced if the median extrapolation accuracy beyond the data (x1 ∈ [2π, 6π]) is < 0.8; not
    reproduced if ≥ 0.95; otherwise inconclusive."""
    c = cell(ev, "cos_wave", "relu", 8)
    if c is None:
        return NOT_RUN_HERE
    ex = np.array([extrapolation(t) for t in c.trials])
    verdict = REPRODUCED if np.median(ex) < 0.8 else NOT_REPRODUCED if np.median(ex) >= GOOD else INCONCLUSIVE
    return Measured(f"{setting(c)}: test accuracy (inside the data's range) {spread(acc(c.trials))}; extrapolation "
                    f"accuracy {spread(ex)}", verdict, study_words(ev, "periodic", "relu", 8))


CIRCLE = (f"{ARTICLE}; data `disc` (Playground's circle with radius 2: class 1 within 1, class 0 from 1.4; our "
          "choice), 8 seeds")
WAVE = f"{ARTICLE}; data `cos_wave` (x1 ∈ [−2π, 2π], x2 ∈ [−2, 2], our choice), 8 seeds"
CLAIMS = [
    Claim("004-relu-2", "004", "ReLU with one hidden layer of 2 neurons cannot separate the circle.", CIRCLE,
          cannot.__doc__ or "", "planar", partial(_cannot, "disc", "relu", 2)),
    Claim("004-relu-3", "004", "3 ReLU hidden neurons suffice to separate the circle.", CIRCLE,
          learns.__doc__ or "", "planar", partial(_learns, "disc", "relu", 3, True)),
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
          learns.__doc__ or "", "planar", partial(_learns, "cos_wave", COS_ID, 2, False)),
]


def claims() -> list[Claim]:
    """The study's rows of the claims ledger."""
    return list(CLAIMS)
