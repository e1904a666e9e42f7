"""Planar binary-classification datasets, generated locally from a seed (nothing is downloaded).

`circle`, `xor`, `gauss` and `spiral` follow TensorFlow Playground's generators (its dataset.ts),
in its coordinates ([−6, 6]², radius 5) and then divided by 6, so every dataset lives in about
[−1, 1]²; `noise` is Playground's noise level in [0, 1]. `periodic` has the boundary
x2 = cos(4·x1) on [−1.5, 1.5]² (about two periods), `square` the boundary
x2 = x1² − 0.75 on [−1, 1]²; both are drawn uniformly, leave out points closer than `margin`
(vertically, in the unscaled plane) to the boundary, and are then scaled into [−1, 1]²;
`moons` is scikit-learn's make_moons, centred and scaled into [−1, 1]². Labels are 0/1; a
point's label is 1 on the "inside" / "above" side.

The planar article's data (seed 004), in its own units (not scaled into [−1, 1]²): `disc`, Playground's
circle with radius 2 (class 1 within 1, class 0 from 1.4 to 2; the article's data come from its part I,
which we do not have: its units and gap are our choice), and
`cos_wave`, the boundary x2 = cos(x1) on x1 ∈ [−2π, 2π], x2 ∈ [−2, 2] (two periods; the article
states neither range). `cos_wave` is uniform, leaves out points closer than `margin` to the boundary
and adds Gaussian noise of standard deviation `noise`·0.1 (scaled by the half-widths). `beyond(name, …)`
draws the same boundary outside the training range (x1 ∈ [2π, 6π] for `cos_wave`): extrapolation.
"""

from __future__ import annotations

import math

import numpy as np

DATASETS = ("circle", "xor", "gauss", "spiral", "periodic", "square", "moons")
ARTICLE_DATASETS = ("disc", "cos_wave")
DISC_RADIUS = 2.0
"""In the article's units; not in DATASETS (the study's default grid, every one in about [−1, 1]²)."""
SCALE = 6.0  # Playground's plane is [−6, 6]²


def make(name: str, n: int, noise: float, seed: int, margin: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """(X (n, 2) float64, y (n,) in {0, 1}) for dataset `name`."""
    if name not in DATASETS + ARTICLE_DATASETS:
        raise ValueError(f"unknown dataset {name!r}; allowed: {', '.join(DATASETS + ARTICLE_DATASETS)}")
    rng = np.random.default_rng(seed)
    X, y = globals()[f"_{name}"](rng, n, noise, margin)
    return X.astype(np.float64), y.astype(np.float64)


def _circle(rng: np.random.Generator, n: int, noise: float, margin: float) -> tuple[np.ndarray, np.ndarray]:
    radius = 5.0
    half = n // 2
    parts = []
    for count, (r_lo, r_hi), label in ((half, (0, 0.5 * radius), 1), (n - half, (0.7 * radius, radius), 0)):
        r = rng.uniform(r_lo, r_hi, count)
        angle = rng.uniform(0, 2 * math.pi, count)
        pts = np.stack([r * np.sin(angle), r * np.cos(angle)], 1)
        pts = pts + rng.uniform(-radius, radius, (count, 2)) * noise
        parts.append((pts, np.full(count, label)))
    return _join(parts)


def _xor(rng: np.random.Generator, n: int, noise: float, margin: float) -> tuple[np.ndarray, np.ndarray]:
    pad = 0.3
    pts = rng.uniform(-5, 5, (n, 2))
    pts = pts + np.where(pts > 0, pad, -pad)
    label = (pts[:, 0] * pts[:, 1] >= 0).astype(float)
    pts = pts + rng.uniform(-5, 5, (n, 2)) * noise
    return pts / SCALE, label


def _gauss(rng: np.random.Generator, n: int, noise: float, margin: float) -> tuple[np.ndarray, np.ndarray]:
    variance = 0.5 + 3.5 * noise  # Playground maps noise 0..0.5 to variance 0.5..4; ours spans 0..1
    half = n // 2
    parts = [(rng.normal(c, math.sqrt(variance), (k, 2)), np.full(k, label))
             for k, c, label in ((half, 2.0, 1), (n - half, -2.0, 0))]
    return _join(parts)


def _spiral(rng: np.random.Generator, n: int, noise: float, margin: float) -> tuple[np.ndarray, np.ndarray]:
    half = n // 2
    parts = []
    for count, delta, label in ((half, 0.0, 1), (n - half, math.pi, 0)):
        i = np.arange(count)
        r = i / count * 5
        t = 1.75 * i / count * 2 * math.pi + delta
        pts = np.stack([r * np.sin(t), r * np.cos(t)], 1) + rng.uniform(-1, 1, (count, 2)) * noise
        parts.append((pts, np.full(count, label)))
    return _join(parts)


def _boundary(rng: np.random.Generator, n: int, noise: float, margin: float, f: object,
              half: tuple[float, float] = (1.0, 1.0)) -> tuple[np.ndarray, np.ndarray]:
    out = np.empty((0, 2))
    while len(out) < n:  # rejection: keep points at least `margin` (vertically) from the boundary
        pts = rng.uniform(-1, 1, (2 * n, 2)) * np.array(half)
        gap = pts[:, 1] - f(pts[:, 0])  # type: ignore[operator]
        out = np.concatenate([out, pts[np.abs(gap) >= margin]])
    out = out[:n]
    label = (out[:, 1] > f(out[:, 0])).astype(float)  # type: ignore[operator]
    return (out + rng.normal(0, 1, out.shape) * noise * 0.1 * np.array(half)) / np.array(half), label


def _periodic(rng: np.random.Generator, n: int, noise: float, margin: float) -> tuple[np.ndarray, np.ndarray]:
    return _boundary(rng, n, noise, margin, lambda x: np.cos(4 * x), (1.5, 1.5))


def _square(rng: np.random.Generator, n: int, noise: float, margin: float) -> tuple[np.ndarray, np.ndarray]:
    return _boundary(rng, n, noise, margin, lambda x: x**2 - 0.75)


def _moons(rng: np.random.Generator, n: int, noise: float, margin: float) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=n, noise=0.3 * noise, random_state=int(rng.integers(2**31)))
    X = (X - np.array([0.5, 0.25])) / 1.6  # centre and scale into about [−1, 1]²
    return X, y.astype(float)


def _disc(rng: np.random.Generator, n: int, noise: float, margin: float) -> tuple[np.ndarray, np.ndarray]:
    X, y = _circle(rng, n, noise, margin)  # Playground's circle: radius 5, class 1 within 2.5, class 0 from 3.5
    return X * SCALE * DISC_RADIUS / 5.0, y


def _cos_wave(rng: np.random.Generator, n: int, noise: float, margin: float) -> tuple[np.ndarray, np.ndarray]:
    half = (2 * math.pi, 2.0)
    X, y = _boundary(rng, n, noise, margin, np.cos, half)
    return X * np.array(half), y


def extent(name: str) -> tuple[float, float]:
    """Half-widths (x1, x2) of a plot that shows all of dataset `name` with a margin: 1.2 for the study's
    datasets (about [−1, 1]²), 1.2 × the article datasets' own ranges."""
    return {"disc": (2.4, 2.4), "cos_wave": (1.2 * 2 * math.pi, 2.4)}.get(name, (1.2, 1.2))


def beyond(name: str, n: int, seed: int, margin: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Points of `cos_wave`'s boundary x2 = cos(x1) outside its training range: x1 ∈ [2π, 6π], x2 ∈ [−2, 2]."""
    if name != "cos_wave":
        raise ValueError(f"no extrapolation set for dataset {name!r}; allowed: cos_wave")
    X, y = _boundary(np.random.default_rng(seed), n, 0.0, margin, np.cos, (2 * math.pi, 2.0))
    return (X * np.array([2 * math.pi, 2.0]) + np.array([4 * math.pi, 0.0])).astype(np.float64), y


def _join(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    X = np.concatenate([p[0] for p in parts]) / SCALE
    y = np.concatenate([p[1] for p in parts])
    return X, y
