"""The playground's settings: one flat, typed, bounded configuration, validated on the server.

Every size that costs memory or time is bounded here (`BOUNDS`), so no request can exhaust the machine;
a value beyond a bound is refused with a message that names the setting, the bound and what was asked.
Activations are spec strings: a catalog name (`snake`, `leaky_relu(negative_slope=0.2)`) or a formula
`expr:x*tanh(softplus(x))`, parsed by the catalog's whitelist parser (never `eval`).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import torch

from actlab.core.errors import ActlabInputError
from actlab.core.registry import create
from actlab.data.planar import ARTICLE_DATASETS, DATASETS, extent

PLAYGROUND_DATASETS = ("circle", "xor", "gauss", "spiral", "periodic", "disc", "cos_wave", "moons", "square")
assert set(PLAYGROUND_DATASETS) <= set(DATASETS + ARTICLE_DATASETS)
FEATURES = ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin_x1", "sin_x2")
OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop")
LOSSES = ("cross_entropy", "squared")
REGULARIZATIONS = ("none", "l1", "l2")
INITS = ("torch", "he", "lecun", "chaos")
"""`chaos`: each hidden layer on the edge of chaos of the activation it feeds (`actlab.propagation`)."""
LIVE = frozenset({"lr", "reg", "reg_rate", "batch", "target"})
"""Settings that change a running network in place; any other change rebuilds it (epoch 0)."""

BOUNDS: dict[str, tuple[float, float]] = {
    "layers": (0, 6),
    "neurons": (1, 16),
    "seeds": (1, 64),
    "points": (20, 2000),
    "batch": (1, 2000),
    "grid": (10, 200),
    "noise": (0.0, 1.0),
    "train_share": (0.1, 0.9),
    "lr": (1e-6, 10.0),
    "reg_rate": (0.0, 1.0),
    "seed": (0, 2**31 - 1),
    "data_seed": (0, 2**31 - 1),
    "target": (0.0, 1.0),
}


class PlaygroundError(ActlabInputError):
    """A setting the playground refuses; `field` names it (the page shows the message beside it)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass
class PlaygroundConfig:
    dataset: str = "circle"
    noise: float = 0.0
    train_share: float = 0.5
    points: int = 500
    data_seed: int = 0
    features: list[str] = field(default_factory=lambda: ["x1", "x2"])
    widths: list[int] = field(default_factory=lambda: [4, 2])
    activations: list[str] = field(default_factory=lambda: ["tanh", "tanh"])
    optimizer: str = "sgd"
    lr: float = 0.03
    batch: int = 10
    loss: str = "squared"
    reg: str = "none"
    reg_rate: float = 0.0
    init: str = "torch"
    seed: int = 0
    seeds: int = 1
    """How many networks train at once: seeds seed, seed + 1, …, seed + seeds − 1 (one batched program)."""
    target: float = 0.9
    """The test accuracy whose share of seeds the many-seeds view reports."""
    grid: int = 100
    versus: str = ""
    """Side by side: a second network, this activation in every hidden layer, the same data, seed and minibatch
    order, trained in lockstep with the first ("" for none; one seed only)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def extent(self) -> tuple[float, float]:
        return extent(self.dataset)


def parse(raw: dict[str, Any], base: PlaygroundConfig | None = None) -> PlaygroundConfig:
    """The configuration `raw` asks for (missing keys from `base`), checked against types and `BOUNDS`."""
    if not isinstance(raw, dict):
        raise PlaygroundError("a configuration is a JSON object")
    known = {f.name: f for f in fields(PlaygroundConfig)}
    values = (base or PlaygroundConfig()).to_dict()
    for key, value in raw.items():
        if key not in known:
            raise PlaygroundError(f"unknown setting {key!r}; allowed: {', '.join(known)}", key)
        values[key] = _typed(key, value, values[key])
    cfg = PlaygroundConfig(**values)
    _check(cfg)
    return cfg


def _typed(key: str, value: Any, default: Any) -> Any:
    kind = type(default)
    if kind is list:
        if not isinstance(value, list):
            raise PlaygroundError(f"{key}: expected a list, got {value!r}", key)
        item = int if key == "widths" else str
        if not all(isinstance(v, item) and not isinstance(v, bool) for v in value):
            raise PlaygroundError(f"{key}: expected a list of {item.__name__}s, got {value!r}", key)
        return list(value)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise PlaygroundError(f"{key}: expected {kind.__name__}, got {value!r}", key)
    if kind is float and not math.isfinite(value):
        raise PlaygroundError(f"{key}: expected a finite number, got {value!r}", key)
    return value


def _bound(key: str, value: float, what: str = "") -> None:
    lo, hi = BOUNDS[key]
    if not lo <= value <= hi:
        raise PlaygroundError(f"{what or key}: {value} is out of bounds [{lo:g}, {hi:g}]", key)


def _choice(key: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise PlaygroundError(f"{key}: unknown {value!r}; allowed: {', '.join(allowed)}", key)


def _check(cfg: PlaygroundConfig) -> None:
    _choice("dataset", cfg.dataset, PLAYGROUND_DATASETS)
    _choice("optimizer", cfg.optimizer, OPTIMIZERS)
    _choice("loss", cfg.loss, LOSSES)
    _choice("reg", cfg.reg, REGULARIZATIONS)
    _choice("init", cfg.init, INITS)
    for key in ("noise", "train_share", "points", "batch", "grid", "lr", "reg_rate", "seed", "data_seed",
                "seeds", "target"):
        _bound(key, getattr(cfg, key))
    if cfg.seed + cfg.seeds - 1 > BOUNDS["seed"][1]:
        raise PlaygroundError(f"seed: seed + seeds − 1 must stay ≤ {BOUNDS['seed'][1]}", "seed")
    _bound("layers", len(cfg.widths), "layers (hidden layers)")
    if len(cfg.activations) != len(cfg.widths):
        raise PlaygroundError(f"activations: one per hidden layer ({len(cfg.widths)}), got {len(cfg.activations)}",
                              "activations")
    for w in cfg.widths:
        _bound("neurons", w, "widths (neurons per layer)")
    if not cfg.features:
        raise PlaygroundError("features: choose at least one input feature", "features")
    for f in cfg.features:
        _choice("features", f, FEATURES)
    if len(set(cfg.features)) != len(cfg.features):
        raise PlaygroundError("features: each feature once", "features")
    if cfg.versus:
        if cfg.seeds > 1:
            raise PlaygroundError("versus: side by side trains one seed per activation; set seeds to 1", "versus")
        if not cfg.widths:
            raise PlaygroundError("versus: side by side needs a hidden layer", "versus")
        try:
            activation(cfg.versus)
        except ActlabInputError as e:
            raise PlaygroundError(f"versus: {e}", "versus") from None
    for i, spec in enumerate(cfg.activations):
        try:
            activation(spec)
        except ActlabInputError as e:
            raise PlaygroundError(f"layer {i + 1}: {e}", f"activations.{i}") from None


def activation(spec: str) -> torch.nn.Module:
    """The activation `spec` names, checked to give one output per neuron (a gated unit that halves its
    input, or one that needs a channel layout of its own, cannot be a playground layer)."""
    if not isinstance(spec, str) or not spec.strip():
        raise PlaygroundError("an activation: a catalog name or a formula")
    if len(spec) > 500:
        raise PlaygroundError("an activation spec of at most 500 characters")
    if re.search(r"=\s*[+]?\d{5,}(?![\d.eEjJ])", spec.replace("_", "")):  # num_parameters=10**9 would allocate it
        raise PlaygroundError(f"{spec}: an integer argument of 5 digits or more (a layer has at most "
                              f"{BOUNDS['neurons'][1]} neurons); refused before anything is built")
    act = create(spec.strip())
    probe = torch.linspace(-2, 2, 24).reshape(2, 3, 4)
    try:
        with torch.no_grad():
            out = act.eval()(probe)
    except Exception as e:  # an activation that needs another layout: its own message
        raise PlaygroundError(f"{spec} cannot act on a layer of neurons: {e}") from None
    if tuple(out.shape) != tuple(probe.shape):
        raise PlaygroundError(f"{spec} maps {tuple(probe.shape)} to {tuple(out.shape)}: the playground needs "
                              "one output per neuron")
    return act.train()


@functools.lru_cache(maxsize=256)
def summary(spec: str) -> str:
    """The analyser's one line: range, saturation, monotonic (cached: the analysis takes about a second)."""
    from actlab.analysis import analyze

    r = analyze(spec.strip()).to_dict()
    lo, hi = r["range"]
    sat = r["saturation"]
    sides = [f"{side} {sat[side]['kind']}" for side in ("left", "right") if sat[side]["kind"] != "none"]
    return (f"range [{_num(lo)}, {_num(hi)}] · saturation: {', '.join(sides) or 'none'} · "
            f"{'monotonic' if r['monotonic'] else 'not monotonic'}")


def _num(v: float | None) -> str:
    if v is None:
        return "?"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    return f"{v:.3g}"


def check(spec: str) -> dict[str, Any]:
    """What the page shows under an activation box: {ok, spec, summary} or {ok: false, message}."""
    try:
        activation(spec)
    except ActlabInputError as e:
        return {"ok": False, "spec": spec, "message": str(e)}
    try:
        line = summary(spec.strip())
    except Exception as e:  # the analysis of an unusual activation: the network still runs
        line = f"analysis unavailable: {e}"
    return {"ok": True, "spec": spec, "summary": line}


@functools.lru_cache(maxsize=256)
def edge_of_chaos(spec: str) -> tuple[float, float, str]:
    """(σw, σb, note) of the depth analysis's recommended initialisation for `spec` (a few seconds, cached);
    LeCun's (1, 0) with the reason where it has none."""
    from actlab.analysis import propagation

    try:
        point = propagation(spec.strip()).recommended
    except ActlabInputError as e:
        return 1.0, 0.0, f"{spec}: not analysable ({e}); LeCun instead"
    if not point or point.get("sigma_w") is None:
        return 1.0, 0.0, f"{spec}: no edge of chaos; LeCun instead"
    sw, sb = float(point["sigma_w"]), float(point["sigma_b"])
    return sw, sb, f"{spec}: σw {sw:.3g}, σb {sb:.3g} ({point['note']})"


def catalog() -> dict[str, Any]:
    """What the page needs to build its controls: the choices, the bounds and the defaults."""
    from actlab.core.registry import names

    usable = []
    for name in names():
        try:
            activation(name)
            usable.append(name)
        except ActlabInputError:
            pass
    return {"activations": usable, "datasets": list(PLAYGROUND_DATASETS), "features": list(FEATURES),
            "optimizers": list(OPTIMIZERS), "losses": list(LOSSES), "regularizations": list(REGULARIZATIONS),
            "inits": list(INITS), "bounds": BOUNDS, "defaults": PlaygroundConfig().to_dict()}
