"""Real-data splits: sizes by hand, stratification, disjoint parts covering the whole dataset (rows matched
back to scikit-learn's own arrays), standardisation by the training part only, seeding, MNIST-1D."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
import sklearn.datasets
from scipy.spatial import cKDTree

from actlab.core.errors import ActlabInputError
from actlab.data import realdata
from actlab.data.realdata import DATASETS, split

# sklearn's train_test_split puts ceil(fraction·n) rows out: digits 1797 → test ceil(449.25) = 450, rest 1347 →
# validation ceil(269.4) = 270, train 1077; breast_cancer 569 → 143, 426 → 86, 340; wine 178 → 45, 133 → 27, 106.
SIZES = {"digits": (1077, 270, 450, 64, 10), "breast_cancer": (340, 86, 143, 30, 2), "wine": (106, 27, 45, 13, 3)}
PARTS = ("train", "val", "test")


def _match(Z: np.ndarray, X_raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the raw row of each standardised row, μ, σ). The parts share one affine map per feature,
    x ↦ (x − μ)/σ: recover μ and σ from the extremes, undo it, and find each row among the raw ones."""
    Z = Z.astype(np.float64)
    span_z, span_x = Z.max(0) - Z.min(0), X_raw.max(0) - X_raw.min(0)
    sigma = np.where(span_z > 0, span_x / np.where(span_z > 0, span_z, 1), 1.0)
    mu = X_raw.min(0) - sigma * Z.min(0)
    dist, idx = cKDTree(X_raw).query(Z * sigma + mu)
    assert dist.max() < 1e-3 * (1 + np.abs(X_raw).max())
    return idx, mu, sigma


def _parts(s: realdata.Split) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(s.X_train, s.y_train), (s.X_val, s.y_val), (s.X_test, s.y_test)]


@pytest.mark.parametrize("name", list(SIZES))
def test_sizes_and_stratification(name: str) -> None:
    s = split(name, 3)
    n_train, n_val, n_test, d, k = SIZES[name]
    assert [len(X) for X, _ in _parts(s)] == [n_train, n_val, n_test] and (s.n_features, s.n_classes) == (d, k)
    y_all = getattr(sklearn.datasets, f"load_{name}")(return_X_y=True)[1]
    share = np.bincount(y_all) / len(y_all)
    for X, y in _parts(s):
        assert X.dtype == np.float32 and y.dtype == np.int64 and X.shape[1] == d
        assert np.abs(np.bincount(y, minlength=k) - share * len(y)).max() <= 2  # class counts as in the whole set


@pytest.mark.parametrize("name", list(SIZES))
def test_parts_are_disjoint_cover_the_set_and_are_standardised_by_train(name: str) -> None:
    X_raw, y_raw = getattr(sklearn.datasets, f"load_{name}")(return_X_y=True)
    s = split(name, 11)
    idx, mu, sigma = _match(np.concatenate([X for X, _ in _parts(s)]), X_raw)
    assert sorted(idx) == list(range(len(X_raw)))  # every row once: disjoint, and together the whole set
    assert np.array_equal(np.concatenate([y for _, y in _parts(s)]), y_raw[idx])
    train_raw = X_raw[idx[:len(s.X_train)]]
    std = train_raw.std(0)
    np.testing.assert_allclose(mu, train_raw.mean(0), atol=1e-4 * (1 + np.abs(X_raw).max()))
    np.testing.assert_allclose(sigma, np.where(std > 0, std, 1.0), rtol=1e-4)  # a constant feature keeps σ = 1
    np.testing.assert_allclose(s.X_train.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(s.X_train.std(0)[std > 0], 1, atol=1e-4)
    for X in (s.X_val, s.X_test):  # statistics from train only: the other parts are not exactly centred
        assert np.isfinite(X).all() and np.abs(X.mean(0)).max() > 1e-3


def test_digits_has_constant_pixels_that_stay_finite() -> None:
    s = split("digits", 0)
    constant = s.X_train.std(0) == 0
    assert constant.any() and not np.isnan(s.X_val).any() and np.all(s.X_train[:, constant] == 0)


@pytest.mark.parametrize("name", list(SIZES))
def test_a_split_is_a_function_of_the_seed(name: str) -> None:
    a, b, c = split(name, 5), split(name, 5), split(name, 6)
    for (Xa, ya), (Xb, yb), (Xc, _) in zip(_parts(a), _parts(b), _parts(c)):
        assert np.array_equal(Xa, Xb) and np.array_equal(ya, yb)
        assert Xa.shape != Xc.shape or not np.array_equal(Xa, Xc)


def test_mnist1d_split() -> None:
    a, b = split("mnist1d", 0), split("mnist1d", 1)
    assert [len(X) for X, _ in _parts(a)] == [3200, 800, 1000] and (a.n_features, a.n_classes) == (40, 10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from mnist1d.data import get_dataset_args, make_dataset
    d = make_dataset(get_dataset_args())
    assert np.array_equal(a.y_test, d["y_test"]) and np.array_equal(b.y_test, d["y_test"])  # its own fixed test set
    idx, mu, sigma = _match(np.concatenate([a.X_train, a.X_val]), d["x"])  # both carved from its 4000
    assert sorted(idx) == list(range(4000)) and np.array_equal(np.concatenate([a.y_train, a.y_val]), d["y"][idx])
    train_raw = d["x"][idx[:3200]]
    np.testing.assert_allclose(mu, train_raw.mean(0), atol=1e-4)
    np.testing.assert_allclose(a.X_test, (d["x_test"] - train_raw.mean(0)) / train_raw.std(0), atol=1e-4)
    assert np.abs(np.bincount(a.y_val) - 80).max() <= 3  # stratified: 10 % of 800 per class, about
    assert not np.array_equal(a.y_val, b.y_val)
    np.testing.assert_allclose(a.X_train.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(a.X_train.std(0), 1, atol=1e-4)


def test_unknown_dataset_and_missing_mnist1d(monkeypatch: pytest.MonkeyPatch) -> None:
    allowed = "allowed: mnist1d, digits, breast_cancer, wine"
    with pytest.raises(ActlabInputError, match=f"unknown dataset 'cifar'; {allowed}"):
        split("cifar", 0)
    with pytest.raises(ActlabInputError, match="val_fraction"):
        split("wine", 0, val_fraction=1.0)
    realdata._mnist1d.cache_clear()
    monkeypatch.setitem(sys.modules, "mnist1d.data", None)  # what an environment without the package looks like
    try:
        with pytest.raises(ActlabInputError, match=r"pip install mnist1d\).*digits, breast_cancer, wine"):
            split("mnist1d", 0)
    finally:
        realdata._mnist1d.cache_clear()
    assert DATASETS == ("mnist1d", "digits", "breast_cancer", "wine")


def test_no_validation_part_keeps_every_non_test_row_for_training() -> None:
    """val_fraction 0 (the noise study's digits): the same test rows as with a validation part, and the
    training part is every other row (1797 − 450), standardised by itself."""
    from actlab.data.tasks import digits

    s = split("digits", 3, val_fraction=0.0)
    with_val = split("digits", 3)
    assert s.X_val.shape == (0, 64) and s.y_val.shape == (0,)
    assert s.X_train.shape == (1347, 64) and np.array_equal(s.y_test, with_val.y_test)
    assert np.allclose(s.X_train.mean(0), 0, atol=1e-5)
    X_train, y_train, X_test, y_test = digits(3, 0.25)
    assert np.array_equal(X_train, s.X_train) and np.array_equal(y_test, s.y_test)
