"""The networks the page shows: S seeds of one configuration trained as one batched program.

Weights are (S, out, in) tensors and a layer is one `baddbmm` for all seeds: the inputs are (S, F, N)
(F input features, N points), each hidden layer's output (S, width, N), so a per-channel activation sees
one channel per neuron. The loss is the sum over seeds of each seed's mean loss, so each seed receives
exactly its own gradient, and torch.optim's rules are elementwise: a seed trains the same alone or among
others (its own initial weights and its own minibatch order, both drawn from its seed).

An epoch is one pass over the training points in minibatches of `batch`, as in TensorFlow Playground.
Squared error is Playground's: tanh output against labels ±1, ½(out − y)²; cross-entropy is the logistic
loss on the same output unit. The heat map shows the output in [−1, 1] for both (tanh(z) or 2σ(z) − 1).
L1 / L2 penalise the weights (not the biases). Activation parameters are fixed (not trained), as in the
planar study; stochastic activations draw noise while training and show their expectation in the maps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from actlab.app.playground.config import PlaygroundConfig, activation, edge_of_chaos
from actlab.data.planar import make
from actlab.engine.gradient import make_optimizer
from actlab.engine.mlp import uniform_layer

THUMB = 24
"""Side of a neuron's thumbnail map (first seed only)."""
SEED_GRID = 40
"""Side of each seed's map in many-seeds mode (at most the configured grid)."""


def features(X: Tensor, names: list[str]) -> Tensor:
    """(F, N) input features of points X (N, 2)."""
    x1, x2 = X[:, 0], X[:, 1]
    table = {"x1": lambda: x1, "x2": lambda: x2, "x1^2": lambda: x1 * x1, "x2^2": lambda: x2 * x2,
             "x1*x2": lambda: x1 * x2, "sin_x1": lambda: torch.sin(x1), "sin_x2": lambda: torch.sin(x2)}
    return torch.stack([table[n]() for n in names])


def grid_points(cfg: PlaygroundConfig, side: int) -> Tensor:
    """(side², 2) points of the map, row by row from the top (x2 high) to the bottom, x1 left to right."""
    hx, hy = cfg.extent
    xs = torch.linspace(-hx, hx, side)
    ys = torch.linspace(hy, -hy, side)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)


def init_scales(cfg: PlaygroundConfig) -> tuple[list[tuple[float, float]], list[str]]:
    """(σw, σb) per layer (the output layer last) for W ~ N(0, σw²/fan_in), b ~ N(0, σb²), and notes: He
    (√2, 0), LeCun (1, 0), or each hidden layer on the edge of chaos of the activation it feeds."""
    if cfg.init != "chaos":
        gain = math.sqrt(2.0) if cfg.init == "he" else 1.0
        return [(gain, 0.0)] * (len(cfg.widths) + 1), []
    points = [edge_of_chaos(a) for a in cfg.activations]
    return [(w, b) for w, b, _ in points] + [(1.0, 0.0)], [note for _, _, note in points]


def init_params(cfg: PlaygroundConfig, n_features: int) -> list[Tensor]:
    """[W1, b1, …, W_out, b_out] with W (S, out, in) and b (S, out, 1), one draw per seed."""
    sizes = [n_features, *cfg.widths, 1]
    scales, _ = init_scales(cfg) if cfg.init != "torch" else ([], [])
    per_seed: list[list[Tensor]] = []
    for s in range(cfg.seed, cfg.seed + cfg.seeds):
        g = torch.Generator().manual_seed(s)
        layer: list[Tensor] = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            if cfg.init == "torch":  # nn.Linear's default: W and b from U(±1/√fan_in)
                W, b = uniform_layer(g, fan_in, fan_out, 1 / math.sqrt(fan_in))
            else:  # W from N(0, σw²/fan_in), b from N(0, σb²)
                sw, sb = scales[i]
                W = torch.randn(fan_out, fan_in, generator=g, dtype=torch.float64) * (sw / math.sqrt(fan_in))
                b = torch.randn(fan_out, generator=g, dtype=torch.float64) * sb
            layer += [W, b[:, None]]
        per_seed.append(layer)
    return [torch.stack([p[i] for p in per_seed]).float().requires_grad_(True) for i in range(len(per_seed[0]))]


@dataclass
class Data:
    X: np.ndarray
    """(N, 2) points; the first `n_train` are the training points."""
    y: np.ndarray
    n_train: int


def make_data(cfg: PlaygroundConfig) -> Data:
    X, y = make(cfg.dataset, cfg.points, cfg.noise, cfg.data_seed)
    order = np.random.default_rng(cfg.data_seed).permutation(len(y))
    n_train = min(len(y) - 1, max(1, round(cfg.train_share * len(y))))
    return Data(X[order], y[order], n_train)


class Trainer:
    """One configuration, S seeds: `epoch()` trains one pass, `frame()` says what the page draws."""

    def __init__(self, cfg: PlaygroundConfig, data: Data | None = None) -> None:
        self.cfg = cfg
        self.data = data or make_data(cfg)
        self.acts = nn.ModuleList([activation(a) for a in cfg.activations])
        X = torch.tensor(self.data.X, dtype=torch.float32)
        y = torch.tensor(self.data.y, dtype=torch.float32)
        n = self.data.n_train
        feats = features(X, cfg.features)  # (F, N)
        self.X_train, self.y_train = feats[:, :n], y[:n]
        self.X_test, self.y_test = feats[:, n:], y[n:]
        self.X_all = feats
        self.X_train_rows = self.X_train.T.contiguous()  # (N, F): minibatches are rows gathered per seed
        self.map_side = cfg.grid if cfg.seeds == 1 else min(cfg.grid, SEED_GRID)
        self.G = features(grid_points(cfg, self.map_side), cfg.features)
        self.G_thumb = features(grid_points(cfg, THUMB), cfg.features)
        self.reset()

    def reset(self) -> None:
        self.params = init_params(self.cfg, self.X_train.shape[0])
        self.gens = [torch.Generator().manual_seed(s) for s in range(self.cfg.seed, self.cfg.seed + self.cfg.seeds)]
        self.opt = make_optimizer(self.cfg.optimizer, self.params, self.cfg.lr)
        self.epoch_count = 0

    def set_live(self, cfg: PlaygroundConfig) -> None:
        """Take the settings that change in place (learning rate, regularisation, batch, target)."""
        self.cfg = cfg
        for group in self.opt.param_groups:
            group["lr"] = cfg.lr

    def forward(self, X: Tensor, thumbs: bool = False) -> tuple[Tensor, list[Tensor]]:
        """Logits (S, N) for features X (F, N) shared by all seeds, or per seed (S, F, N); and the hidden
        layers' outputs when `thumbs`."""
        S = self.cfg.seeds
        h = X.expand(S, *X.shape) if X.dim() == 2 else X
        hidden = []
        for i, act in enumerate(self.acts):
            h = act(torch.baddbmm(self.params[2 * i + 1], self.params[2 * i], h))
            if thumbs:
                hidden.append(h)
        return torch.baddbmm(self.params[-1], self.params[-2], h)[:, 0], hidden

    def output(self, z: Tensor) -> Tensor:
        """The output unit's value in [−1, 1]."""
        return torch.tanh(z) if self.cfg.loss == "squared" else torch.tanh(z / 2)

    def losses(self, z: Tensor, y: Tensor) -> Tensor:
        """Each seed's mean loss (S,) for logits z (S, N) and labels y (N,) or (S, N) in {0, 1}."""
        y = y.expand_as(z)
        if self.cfg.loss == "squared":
            return 0.5 * (torch.tanh(z) - (2 * y - 1)).square().mean(1)
        return F.binary_cross_entropy_with_logits(z, y, reduction="none").mean(1)

    def penalty(self) -> Tensor:
        weights = self.params[0::2]
        if self.cfg.reg == "l1":
            return self.cfg.reg_rate * sum(W.abs().sum((1, 2)) for W in weights)  # type: ignore[return-value]
        return self.cfg.reg_rate * sum(W.square().sum((1, 2)) for W in weights)  # type: ignore[return-value]

    def epoch(self) -> None:
        """One pass over the training points; each seed draws its own order."""
        n = self.X_train.shape[1]
        batch = min(self.cfg.batch, n)
        order = torch.stack([torch.randperm(n, generator=g) for g in self.gens])  # (S, n)
        self.acts.train()
        for start in range(0, n, batch):
            idx = order[:, start:start + batch]
            Xb = self.X_train_rows[idx].transpose(1, 2)  # (S, F, B)
            z, _ = self.forward(Xb)
            loss = self.losses(z, self.y_train[idx])
            if self.cfg.reg != "none" and self.cfg.reg_rate > 0:
                loss = loss + self.penalty()
            self.opt.zero_grad(set_to_none=True)
            loss.sum().backward()  # the sum: each seed receives its own gradient
            self.opt.step()
        self.epoch_count += 1

    @torch.no_grad()
    def frame(self) -> tuple[dict[str, object], dict[str, np.ndarray]]:
        """(header, arrays) of what the page draws now: per-seed losses and accuracies, the output maps, and for
        one seed the hidden neurons' thumbnails and the weights."""
        self.acts.eval()
        z_train, _ = self.forward(self.X_train)
        z_test, _ = self.forward(self.X_test)
        single = self.cfg.seeds == 1
        z_map, _ = self.forward(self.G)
        arrays = {
            "train_loss": self.losses(z_train, self.y_train), "test_loss": self.losses(z_test, self.y_test),
            "train_acc": ((z_train > 0) == (self.y_train > 0.5)).float().mean(1),
            "test_acc": ((z_test > 0) == (self.y_test > 0.5)).float().mean(1),
            "map": self.output(z_map).reshape(-1, self.map_side, self.map_side),
        }
        header: dict[str, object] = {"epoch": self.epoch_count, "seeds": self.cfg.seeds, "side": self.map_side}
        if single and self.cfg.widths and self.cfg.widths[-1] in (2, 3):  # the feature space: as the last layer sees it
            _, seen = self.forward(self.X_all, thumbs=True)
            arrays["space"] = seen[-1][0].T  # (N, 2 or 3), the points in the data message's order
            line = torch.cat([self.params[-2][0, 0], self.params[-1][0, 0]]).nan_to_num(0.0, 1e3, -1e3)
            header["space_line"] = line.tolist()  # JSON has no NaN: a diverged network's line is drawn at 0
        if single:
            _, hidden = self.forward(self.G_thumb, thumbs=True)
            arrays["neurons"] = torch.cat([h[0] for h in hidden]).reshape(-1, THUMB, THUMB) if hidden \
                else torch.zeros(0, THUMB, THUMB)
            header["weights"] = [np.nan_to_num(W[0].numpy(), posinf=1e3, neginf=-1e3).round(4).tolist()
                                 for W in self.params[0::2]]
        self.acts.train()
        return header, {k: v.detach().float().numpy() for k, v in arrays.items()}

    def state_dict(self, seed: int | None = None) -> dict[str, Tensor]:
        """One seed's network (the first by default) as the state_dict of
        `nn.Sequential(nn.Linear(F, w1), act1, nn.Linear(w1, w2), act2, …, nn.Linear(w_last, 1))`."""
        k = 0 if seed is None else seed - self.cfg.seed
        out: dict[str, Tensor] = {}
        for i in range(len(self.params) // 2):
            out[f"{2 * i}.weight"] = self.params[2 * i][k].detach().clone()
            out[f"{2 * i}.bias"] = self.params[2 * i + 1][k, :, 0].detach().clone()
            if i < len(self.acts):
                out.update({f"{2 * i + 1}.{name}": v.detach().clone() for name, v in self.acts[i].state_dict().items()})
        return out

    def data_message(self) -> dict[str, object]:
        """The points, once per dataset: the page draws them over the map."""
        d = self.data
        return {"type": "data", "x": d.X.round(4).tolist(), "y": d.y.astype(int).tolist(), "n_train": d.n_train,
                "extent": list(self.cfg.extent)}
