"""Export: the page's configuration as a planar preset TOML that `actlab run FILE.toml` takes.

The planar study trains full batch, every hidden layer of one width and one activation, on the inputs
x1, x2, with the logistic loss, from the "torch" or "glorot" initialisation. What the page has that the
study has not is said in the file's comments, and the closest study setting is written.
"""

from __future__ import annotations

import datetime
import json

from actlab._version import __version__
from actlab.app.playground.config import PlaygroundConfig

STEPS = 1000
"""Full-batch steps written when the page has trained for no epoch yet."""


def planar_preset(cfg: PlaygroundConfig, epochs: int = 0) -> str:
    """The TOML text; `epochs` the page has trained becomes the same number of optimizer steps' worth of
    full-batch steps (epochs × minibatches per epoch), or `STEPS`."""
    n_train = max(1, round(cfg.train_share * cfg.points))
    steps = epochs * -(-n_train // cfg.batch) if epochs > 0 else STEPS
    notes = []
    if len(set(cfg.widths)) > 1 or not cfg.widths:
        notes.append(f"the page's widths {cfg.widths} (the study: one width for every layer; the first is written)")
    if len(set(cfg.activations)) > 1:
        notes.append(f"the page's activations per layer {cfg.activations} (the study: one for all; the first)")
    if cfg.features != ["x1", "x2"]:
        notes.append(f"the page's input features {cfg.features} (the study: x1, x2)")
    if cfg.loss != "cross_entropy":
        notes.append("the page's squared error (the study: cross-entropy)")
    if cfg.init != "torch":
        notes.append(f"the page's {cfg.init} initialisation (the study: torch's default)")
    if cfg.reg != "none" and cfg.reg_rate > 0:
        notes.append(f"the page's {cfg.reg} regularisation at {cfg.reg_rate} (the study: none)")
    notes.append(f"minibatches of {cfg.batch} (the study trains full batch: {steps} steps)")
    activations = [cfg.activations[0] if cfg.activations else "identity"]
    if cfg.versus and cfg.versus != activations[0]:
        activations.append(cfg.versus)  # side by side: both, as the study's axis
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# actlab {__version__}, exported by `actlab playground` on {when}; run: actlab run FILE.toml",
             "# Not carried over:", *[f"#   {n}" for n in notes],
             'study = "planar"',
             f"datasets = [{json.dumps(cfg.dataset)}]",
             f"activations = [{', '.join(json.dumps(a) for a in activations)}]",
             f"widths = [{cfg.widths[0] if cfg.widths else 1}]",
             f"layers = {max(1, len(cfg.widths))}",
             f"optimizers = [{json.dumps(cfg.optimizer)}]",
             f"lr = {cfg.lr!r}",
             f"seeds = {list(range(cfg.seed, cfg.seed + cfg.seeds))}",
             f"steps = {max(1, steps)}",
             f"n = {cfg.points}",
             f"test_fraction = {round(1 - cfg.train_share, 6)!r}",
             f"noise = {cfg.noise!r}",
             'init = "torch"']
    return "\n".join(lines) + "\n"
