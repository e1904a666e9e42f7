"""The benchmark's cells for the MNIST-1D paper's CNN and GRU (`actlab.nn.mnist1d`): each cell's seeds × learning
rates trained as one vmapped ensemble (`engine.ensemble`), with the MLP cells' split, minibatch and selection:
the epoch of the best validation accuracy, the test split evaluated once on its weights."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from actlab.data.realdata import split
from actlab.engine import ensemble
from actlab.results.store import TrialRecord
from actlab.studies.plan import Batch


def model_of(kind: str, spec: str) -> nn.Module:
    """The paper's CNN with `spec` where it has ReLU, or its GRU with `spec` as the candidate activation (gates
    stay sigmoid) through actlab.nn.GRU."""
    from actlab.nn import mnist1d

    return mnist1d.cnn(spec) if kind == "cnn" else mnist1d.gru(gate="sigmoid", candidate=spec)


def run_paper_batch(batch: Batch, device: str = "cpu") -> list[TrialRecord]:
    c0 = batch.trials[0].config
    seeds = list(dict.fromkeys(t.config["seed"] for t in batch.trials))
    parts = {s: split("mnist1d", s, val_fraction=c0["val_fraction"], test_fraction=c0["test_fraction"]) for s in seeds}
    splits = {s: ensemble.Splits(*((torch.as_tensor(getattr(p, f"X_{k}"), device=device),
                                    torch.as_tensor(getattr(p, f"y_{k}"), device=device))
                                   for k in ("train", "val", "test"))) for s, p in parts.items()}

    def build(seed: int) -> nn.Module:
        torch.manual_seed(seed)
        return model_of(c0["model"], c0["activation"]).to(device)

    run = ensemble.train(build, splits, ensemble.classification(), seeds, [], optimizer=c0["optimizer"],
                         epochs=c0["epochs"], batch_size=c0["minibatch"], vectorize="auto",
                         pairs=[(t.config["seed"], t.config["lr"]) for t in batch.trials])
    records = []
    for t, m in zip(batch.trials, run.members):
        c = t.config
        hit = next((i + 1 for i, v in enumerate(m.val_curve) if v >= c["target"]), None)
        metrics: dict[str, Any] = {
            "test_accuracy": m.test_metric, "test_loss": None, "best_epoch": m.best_epoch,
            "val_accuracy": m.val_metric, "epochs_to_target": hit, "time": m.seconds_per_epoch * c["epochs"],
            "train_loss": m.train_loss, "dead": [_finite(layer["dead"]) for layer in m.layers],
            "saturated": [_finite(layer["saturated"]) for layer in m.layers], "trained_as": run.mode}
        records.append(TrialRecord("benchmark", t.task, c["activation"], c["optimizer"], c["seed"], c, metrics,
                                   curve=[(i + 1, v) for i, v in enumerate(m.val_curve)]))
    return records


def _finite(v: Any) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)
