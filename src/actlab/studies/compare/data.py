"""The user's data for `compare`: read, checked, its task inferred, and split per seed.

Accepted: `(X, y)` arrays or tensors; `{"train": (X, y), "val": ..., "test": ...}` (or three pairs in that
order), used as given; a torch `Dataset` of (x, y) items; a zero-argument callable returning any of these; a
path to a CSV or Parquet file (with `target=` naming the label column) or an `.npz` with `X` and `y`;
`module:function`; or the name of a dataset of `actlab.data.realdata` (mnist1d, digits, breast_cancer,
wine: split and standardised there, MNIST-1D with its own test set). Bad data raises `CompareInputError`
naming what is wrong (the CLI's exit status 2).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from actlab.core.errors import ActlabInputError
from actlab.data import realdata
from actlab.engine.ensemble import Splits, Task, classification, regression

MAX_CLASSES = 1000


class CompareInputError(ActlabInputError, ValueError):
    """A model, a dataset or an option that `compare` cannot use; the message says what is allowed."""


@dataclass
class Data:
    """Features and labels as numpy arrays, or the user's own three splits."""

    X: np.ndarray | None
    y: np.ndarray | None
    given: dict[str, tuple[np.ndarray, np.ndarray]] | None
    classes: list[Any] | None
    """Class labels in code order (classification), None for regression."""
    source: str
    builtin: str = ""
    """A dataset of `actlab.data.realdata` (mnist1d, digits, breast_cancer, wine): split and standardised by it."""


def load_object(ref: str, what: str) -> Any:
    """`module:function` or `path/to/file.py:function` → that object (a clear error if it is not there)."""
    if ":" not in ref:
        raise CompareInputError(f"{what}: expected module:function or path/to/file.py:function, got {ref!r}")
    mod, _, attr = ref.rpartition(":")
    try:
        if mod.endswith(".py"):
            path = Path(mod)
            if not path.is_file():
                raise CompareInputError(f"{what}: no such file {mod!r}")
            spec = importlib.util.spec_from_file_location(f"_actlab_user_{path.stem}", path)
            if spec is None or spec.loader is None:
                raise CompareInputError(f"{what}: cannot load {mod!r} as a Python file")
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(mod)
    except CompareInputError:
        raise
    except Exception as e:
        raise CompareInputError(f"{what}: cannot import {mod!r} ({type(e).__name__}: {e})") from None
    if not hasattr(module, attr):
        raise CompareInputError(f"{what}: {mod!r} has no attribute {attr!r}")
    return getattr(module, attr)


def read(data: Any, target: str | None = None) -> Data:
    """Any accepted form → `Data` (checked: numeric, finite features; labels of at least two classes)."""
    source = data if isinstance(data, str) else type(data).__name__
    if isinstance(data, str) and data in realdata.DATASETS:
        first = realdata.split(data, 0)
        y = np.concatenate([first.y_train, first.y_val, first.y_test])
        return Data(None, y, None, list(range(first.n_classes)), data, builtin=data)
    if isinstance(data, (str, Path)):
        data = _from_path(str(data), target)
    elif callable(data) and not isinstance(data, torch.utils.data.Dataset):
        try:
            data = data()
        except Exception as e:
            raise CompareInputError(f"data: the function raised {type(e).__name__}: {e}") from None
    if isinstance(data, dict) or (isinstance(data, (tuple, list)) and len(data) == 3):
        parts = dict(zip(("train", "val", "test"), data)) if not isinstance(data, dict) else data
        if set(parts) != {"train", "val", "test"}:
            raise CompareInputError(f"data: given splits must be train, val and test, got {sorted(parts)}")
        given = {k: _pair(v, k) for k, v in parts.items()}
        kind = _kind(np.concatenate([given[k][1] for k in given]))
        classes = sorted(set(np.concatenate([g[1] for g in given.values()]).tolist())) if kind else None
        if classes:
            given = {k: (x, np.searchsorted(np.array(classes), y)) for k, (x, y) in given.items()}
        return Data(None, None, given, classes, f"the given train / validation / test splits "
                    f"({', '.join(str(len(g[1])) for g in given.values())} rows)")
    if isinstance(data, torch.utils.data.Dataset):
        data = _from_dataset(data)
    X, y = _pair(data, "data")
    if not isinstance(source, str) or ":" not in source and not Path(source).suffix:
        source = f"the given data ({len(X)} rows, {int(np.prod(X.shape[1:]))} features)"
    if _kind(y):
        labels, codes = np.unique(y, return_inverse=True)
        return Data(X, codes, None, labels.tolist(), str(source))
    return Data(X, y.astype(np.float32), None, None, str(source))


def _kind(y: np.ndarray) -> bool:
    """True for classification: integer, boolean or string labels (float labels are a regression target)."""
    return y.dtype.kind in "iubOUS"


def _pair(v: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(v, (tuple, list)) or len(v) != 2:
        raise CompareInputError(f"{what}: expected (X, y), got {type(v).__name__}")
    X, y = (t.detach().cpu().numpy() if isinstance(t, Tensor) else np.asarray(t) for t in v)
    if X.dtype.kind not in "fiub":
        raise CompareInputError(f"{what}: features must be numeric, got dtype {X.dtype}")
    if len(X) != len(y) or y.ndim != 1:
        raise CompareInputError(f"{what}: X has {len(X)} rows and y shape {y.shape}; y must be one value per row")
    X = X.astype(np.float32)
    bad = ~np.isfinite(X.reshape(len(X), -1)).all(axis=0)
    if bad.any():
        raise CompareInputError(f"{what}: features {np.flatnonzero(bad)[:10].tolist()} have NaN or inf values")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise CompareInputError(f"{what}: the target has NaN or inf values")
    return X, y


def _from_dataset(ds: torch.utils.data.Dataset) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = zip(*(ds[i] for i in range(len(ds))))  # type: ignore[arg-type]
    return torch.stack([torch.as_tensor(x) for x in xs]).numpy(), np.asarray([np.asarray(v) for v in ys])


def _from_path(path: str, target: str | None) -> Any:
    p = Path(path)
    if not p.suffix and ":" in path or (":" in path and not p.exists()):
        return load_object(path, "data")()
    if not p.is_file():
        raise CompareInputError(f"data: no such file {path!r}")
    if p.suffix == ".npz":
        with np.load(p, allow_pickle=False) as z:
            if "X" not in z or "y" not in z:
                raise CompareInputError(f"data: {path} must hold arrays 'X' and 'y', it has {sorted(z.files)}")
            return z["X"], z["y"]
    if p.suffix not in (".csv", ".parquet", ".pq"):
        raise CompareInputError(f"data: {path}: expected a .csv, .parquet or .npz file, or module:function")
    columns = _csv(p) if p.suffix == ".csv" else _parquet(p)
    if target is None or target not in columns:
        raise CompareInputError(f"data: name the target column with --target (one of {', '.join(columns)})")
    features = {k: v for k, v in columns.items() if k != target}
    text = [k for k, v in features.items() if v.dtype.kind not in "fiub"]
    if text:
        raise CompareInputError(f"data: non-numeric feature columns {text}; encode them first")
    missing = [k for k, v in features.items() if v.dtype.kind == "f" and np.isnan(v).any()]
    if missing:
        raise CompareInputError(f"data: feature columns with missing values (NaN): {missing}")
    if not features:
        raise CompareInputError(f"data: {path} has no feature columns besides the target {target!r}")
    return np.stack(list(features.values()), axis=1).astype(np.float32), columns[target]


def _csv(p: Path) -> dict[str, np.ndarray]:
    """A CSV with a header row → its columns: numeric where every value parses (empty cells are NaN), else text."""
    import csv

    try:
        with p.open(newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise CompareInputError(f"data: {p} is not a readable CSV table ({type(e).__name__}: {e})") from None
    if len(rows) < 2 or len(rows[0]) < 2 or any(len(r) != len(rows[0]) for r in rows[1:] if r):
        raise CompareInputError(f"data: {p} is not a table: it needs a header row and rows of as many columns")
    header, body = rows[0], [r for r in rows[1:] if r]
    return {name: _column([r[i] for r in body]) for i, name in enumerate(header)}


def _column(cells: list[str]) -> np.ndarray:
    try:
        values = np.array([float(c) if c.strip() else np.nan for c in cells])
    except ValueError:
        return np.array(cells)
    whole = np.isfinite(values).all() and (values == np.round(values)).all()
    return values.astype(np.int64) if whole and all("." not in c and "e" not in c.lower() for c in cells) else values


def _parquet(p: Path) -> dict[str, np.ndarray]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise CompareInputError("data: reading Parquet needs pyarrow (pip install pyarrow), or give a CSV") from None
    try:
        table = pq.read_table(p)
    except Exception as e:
        raise CompareInputError(f"data: {p} is not a readable Parquet table ({type(e).__name__}: {e})") from None
    return {name: table.column(name).to_numpy() for name in table.column_names}


def task_of(data: Data, loss: Callable | None, metric: Callable | None) -> Task:
    base = classification() if data.classes is not None else regression()
    if data.classes is not None and len(data.classes) < 2:
        raise CompareInputError(f"data: the target has one class ({data.classes[0]!r}); classification needs two")
    if data.classes is not None and len(data.classes) > MAX_CLASSES:
        raise CompareInputError(f"data: {len(data.classes)} classes (at most {MAX_CLASSES}); "
                                "is the target a float column stored as integers?")
    if loss is None and metric is None:
        return base
    return Task(base.kind, getattr(metric, "__name__", base.metric_name) if metric else base.metric_name,
                loss or base.loss, metric or base.metric)


def splits(data: Data, seed: int, val_fraction: float, test_fraction: float, device: str) -> Splits:
    """The seed's split (stratified for classification), or the user's own splits as given."""
    def pair(X: np.ndarray, y: np.ndarray) -> tuple[Tensor, Tensor]:
        yt = torch.as_tensor(y, dtype=torch.long if data.classes is not None else torch.float32)
        return torch.as_tensor(X, device=device), yt.to(device)

    if data.given is not None:
        return Splits(*(pair(*data.given[k]) for k in ("train", "val", "test")))
    if data.builtin:
        s = realdata.split(data.builtin, seed, val_fraction=val_fraction, test_fraction=test_fraction)
        return Splits(pair(s.X_train, s.y_train), pair(s.X_val, s.y_val), pair(s.X_test, s.y_test))
    from sklearn.model_selection import train_test_split

    assert data.X is not None and data.y is not None  # neither given splits nor a named dataset
    strat = data.y if data.classes is not None else None
    idx = np.arange(len(data.y))
    try:
        rest, test = train_test_split(idx, test_size=test_fraction, random_state=seed, stratify=strat)
        train, val = train_test_split(rest, test_size=val_fraction / (1 - test_fraction), random_state=seed,
                                      stratify=None if strat is None else strat[rest])
    except ValueError as e:
        raise CompareInputError(f"data: {len(idx)} rows cannot be split into train / validation / test "
                                f"({val_fraction:g} / {test_fraction:g}): {e}") from None
    return Splits(pair(data.X[train], data.y[train]), pair(data.X[val], data.y[val]),
                  pair(data.X[test], data.y[test]))
