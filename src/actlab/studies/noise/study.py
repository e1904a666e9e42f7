"""The noise study: do noisy activations (Gulcehre et al., ICML 2016) train where hard saturation freezes?

Five experiments, each a set of arms run on the same seeds (paired: one seed is one dataset draw
and one initialisation, shared by every arm):

  escape       a deep MLP on scikit-learn's digits, initialised saturated (weights × weight_scale,
               biases + bias_shift); arms tanh, hard_tanh, NAN (normal / half-normal), NANI, NANIL
  ordinary     the same MLP at nn.Linear's default initialisation
  gru_adding   actlab.nn.GRU on the adding problem; soft, hard, noisy (output / input noise) gates
  lstm_unique  actlab.nn.LSTM counting distinct values; hard gates, constant noise, annealed noise,
               learned input noise
  one_d        gradient descent on f(x) = x²/10 − cos(3x) from many starts, with and without noise

A trial is one arm × one seed; a batch is one arm of one experiment over all seeds, its trials run
one after the other on one thread (train.py). docs/noise.md states every choice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import actlab
from actlab.core.errors import ActlabInputError
from actlab.results.store import TrialRecord
from actlab.studies.config import ConfigError, seed_list
from actlab.studies.plan import Batch, Trial
from actlab.studies.protocol import Cost

NAME = "noise"
QUESTION = "Does noise injected into hard-saturating units help them train?"
EXPERIMENTS = ("escape", "ordinary", "gru_adding", "lstm_unique", "one_d")
MLP_ARMS = ("tanh", "hard_tanh", "nan", "nan_half_normal", "nani", "nanil")
GRU_ARMS = ("soft", "hard", "noisy_output", "noisy_input")
LSTM_ARMS = ("hard", "constant", "annealed", "learned")
ONE_D_ARMS = ("none", "constant", "annealed")
ARMS = {"escape": MLP_ARMS, "ordinary": MLP_ARMS, "gru_adding": GRU_ARMS, "lstm_unique": LSTM_ARMS,
        "one_d": ONE_D_ARMS}
_MLP_SPECS = {"tanh": "tanh", "hard_tanh": "hard_tanh", "nan": "noisy_hard_tanh(noise='normal')",
              "nan_half_normal": "noisy_hard_tanh(noise='half_normal')", "nani": "noisy_hard_tanh(mode='input')",
              "nanil": "noisy_hard_tanh(mode='input_learned')"}
_GATES = {"soft": ("sigmoid", "tanh"), "hard": ("hard_sigmoid", "hard_tanh"),
          "noisy_output": ("noisy_hard_sigmoid()", "noisy_hard_tanh()"),
          "noisy_input": ("noisy_hard_sigmoid(mode='input')", "noisy_hard_tanh(mode='input')"),
          "constant": ("noisy_hard_sigmoid()", "noisy_hard_tanh()"),
          "annealed": ("noisy_hard_sigmoid()", "noisy_hard_tanh()"),
          "learned": ("noisy_hard_sigmoid(mode='input_learned')", "noisy_hard_tanh(mode='input_learned')")}

_INT_LIMITS = {"monitor_every": 10**6, "mlp_width": 4096, "mlp_layers": 64, "mlp_steps": 10**7, "mlp_batch": 10**5,
               "rnn_hidden": 4096, "rnn_batch": 10**5, "test_size": 10**6, "gru_steps": 10**7, "lstm_steps": 10**7,
               "one_d_starts": 10**7, "one_d_steps": 10**7}
"""The largest value of each size key (a model or tensor past these does not fit in memory)."""


@dataclass
class NoiseConfig:
    experiments: list[str] = field(default_factory=lambda: list(EXPERIMENTS))
    seeds: int | list[int] = 10
    monitor_every: int = 50
    """Steps between monitor records and curve points."""
    saturation_eps: float = 0.2
    """The monitor's eps: a unit is saturated where |f'| < eps·max|f'| (0.2: hard units beyond their kinks)."""
    noise_c: float | None = None
    """c of every noisy unit (None: the unit's default, 0.5 for tanh and 0.15 for sigmoid shapes)."""
    rnn_noise: str = "default"
    """Noise of the recurrent noisy units: default (sigmoid half_normal, tanh normal), normal or half_normal."""
    escape_arms: list[str] = field(default_factory=lambda: list(MLP_ARMS))
    ordinary_arms: list[str] = field(default_factory=lambda: ["tanh", "hard_tanh", "nan", "nani"])
    mlp_width: int = 64
    mlp_layers: int = 4
    mlp_steps: int = 3000
    mlp_batch: int = 64
    mlp_optimizer: str = "sgd"
    mlp_lr: float = 0.05
    mlp_target: float = 0.1
    """Training cross-entropy that counts as reached (steps_to_target)."""
    test_fraction: float = 0.3
    escape_scale: float = 8.0
    """escape: hidden weights × this (nn.Linear's init), biases + escape_shift: ~84 % of hard units saturated."""
    escape_shift: float = 2.0
    gru_arms: list[str] = field(default_factory=lambda: list(GRU_ARMS))
    lstm_arms: list[str] = field(default_factory=lambda: list(LSTM_ARMS))
    rnn_hidden: int = 32
    rnn_batch: int = 32
    rnn_optimizer: str = "adam"
    rnn_clip: float = 1.0
    """Gradient-norm clipping of the recurrent nets (0: none)."""
    test_size: int = 1000
    adding_length: int = 50
    gru_steps: int = 3000
    gru_lr: float = 0.01
    adding_target: float = 0.02
    unique_length: int = 6
    unique_values: int = 6
    """6 of 6: a plateau at the majority class, then (soft LSTM, 32 units, Adam 0.01) a jump near step 2000-2500."""
    lstm_steps: int = 3000
    lstm_lr: float = 0.01
    unique_target: float = 0.5
    anneal_start: float = 1.0
    anneal_end: float = 0.0
    anneal_kind: str = "linear"
    anneal_fraction: float = 0.75
    """Annealing runs over this share of the steps, then holds anneal_end."""
    one_d_arms: list[str] = field(default_factory=lambda: list(ONE_D_ARMS))
    one_d_starts: int = 256
    one_d_steps: int = 1000
    one_d_lr: float = 0.02
    one_d_c: float = 8.0
    """Noise scale of the constant arm and the start of the annealed one."""
    one_d_noise_on: str = "parameter"
    """parameter: x ← x − lr·f′(x + s·ε) (noise where a noisy unit puts it); gradient: x ← x − lr·(f′(x) + s·ε)."""
    one_d_span: float = 6.0
    one_d_target: float = 0.5
    """Share of the starts at the global minimum that counts as success."""

    def __post_init__(self) -> None:
        self.seed_list = seed_list(self.seeds)
        for exp, key in (("escape", "escape_arms"), ("ordinary", "ordinary_arms"), ("gru_adding", "gru_arms"),
                         ("lstm_unique", "lstm_arms"), ("one_d", "one_d_arms")):
            arms = getattr(self, key)
            if not arms or any(a not in ARMS[exp] for a in arms):
                raise ConfigError(f"{key}: expected a non-empty list of {', '.join(ARMS[exp])}, got {arms!r}")
        for ok, key, allowed in self._checks():
            if not ok:
                raise ConfigError(f"{key}: expected {allowed}, got {getattr(self, key)!r}")
        try:  # the schedule's own checks (an exponential one needs start, end > 0)
            from actlab.nn.anneal import Schedule

            Schedule([], "c", self.anneal_start, self.anneal_end, 1, self.anneal_kind)  # the LSTM's
            Schedule([], "c", self.one_d_c, self.anneal_end, 1, self.anneal_kind)  # the 1-D runs' (from one_d_c)
        except ActlabInputError as e:
            raise ConfigError(f"anneal_start / one_d_c, anneal_end, anneal_kind: {e}") from None

    def _checks(self) -> list[tuple[bool, str, str]]:
        pos_int = "an integer ≥ 1"
        checks = [(bool(self.experiments) and all(e in EXPERIMENTS for e in self.experiments), "experiments",
                   f"a non-empty list of {', '.join(EXPERIMENTS)}"),
                  (self.adding_length >= 2, "adding_length", "an integer ≥ 2 (two markers)"),
                  (self.unique_length >= 1, "unique_length", pos_int),
                  (self.unique_values >= 2, "unique_values", "an integer ≥ 2"),
                  (0 < self.saturation_eps < 1, "saturation_eps", "a number in (0, 1)"),
                  (self.noise_c is None or self.noise_c >= 0, "noise_c", "a number ≥ 0"),
                  (self.rnn_noise in ("default", "normal", "half_normal"), "rnn_noise",
                   "one of default, normal, half_normal"),
                  (self.mlp_optimizer in ("sgd", "adam"), "mlp_optimizer", "sgd or adam"),
                  (self.rnn_optimizer in ("sgd", "adam"), "rnn_optimizer", "sgd or adam"),
                  (0 < self.test_fraction < 1, "test_fraction", "a number in (0, 1)"),
                  (self.escape_scale > 0, "escape_scale", "a number > 0"),
                  (self.rnn_clip >= 0, "rnn_clip", "a number ≥ 0 (0: no clipping)"),
                  (self.anneal_kind in ("constant", "linear", "exponential", "cosine"), "anneal_kind",
                   "one of constant, linear, exponential, cosine"),
                  (self.anneal_start >= 0 and self.anneal_end >= 0, "anneal_start", "noise scales ≥ 0"),
                  (0 < self.anneal_fraction <= 1, "anneal_fraction", "a number in (0, 1]"),
                  (self.one_d_c >= 0, "one_d_c", "a number ≥ 0"),
                  (self.one_d_noise_on in ("gradient", "parameter"), "one_d_noise_on", "gradient or parameter"),
                  (self.one_d_span > 0, "one_d_span", "a number > 0"),
                  (0 < self.one_d_target <= 1, "one_d_target", "a number in (0, 1]")]
        for key, most in _INT_LIMITS.items():
            checks.append((1 <= getattr(self, key) <= most, key, f"an integer from 1 to {most:,}"))
        checks += [(self.adding_length <= 10_000, "adding_length", "at most 10,000"),
                   (self.unique_length <= 10_000 and self.unique_values <= 1000, "unique_length",
                    "a length up to 10,000 over up to 1,000 values (unique_values)")]
        for key in ("mlp_lr", "gru_lr", "lstm_lr", "one_d_lr", "mlp_target", "adding_target", "unique_target"):
            checks.append((getattr(self, key) > 0, key, "a number > 0"))
        return checks



def _noisy(spec: str, c: float | None, noise: str, units: int) -> str:
    """A unit's spec with the study's c, noise kind and one p per unit; resolved (every argument written)."""
    if not spec.startswith("noisy"):
        return actlab.create(spec).spec
    args = [a for a in spec[spec.index("(") + 1:-1].split(", ") if a] if "(" in spec else []
    if c is not None:
        args.append(f"c={c!r}")
    if noise != "default" and not any(a.startswith("noise=") for a in args):
        args.append(f"noise={noise!r}")
    args.append(f"num_parameters={units}")
    return actlab.create(f"{spec.split('(')[0]}({', '.join(args)})").spec


def trial_configs(cfg: NoiseConfig, exp: str, arm: str) -> list[dict[str, Any]]:
    """The fully resolved config of each seed's trial of one arm."""
    common: dict[str, Any] = {"study": NAME, "experiment": exp, "arm": arm, "monitor_every": cfg.monitor_every,
                              "saturation_eps": cfg.saturation_eps, "dtype": "float32"}
    if exp in ("escape", "ordinary"):
        saturated = exp == "escape"
        common |= {"dataset": "digits", "activation": _noisy(_MLP_SPECS[arm], cfg.noise_c, "default", cfg.mlp_width),
                   "width": cfg.mlp_width, "layers": cfg.mlp_layers, "steps": cfg.mlp_steps, "batch": cfg.mlp_batch,
                   "optimizer": cfg.mlp_optimizer, "lr": cfg.mlp_lr, "target": cfg.mlp_target,
                   "test_fraction": cfg.test_fraction, "weight_scale": cfg.escape_scale if saturated else 1.0,
                   "bias_shift": cfg.escape_shift if saturated else 0.0}
    elif exp in ("gru_adding", "lstm_unique"):
        gru = exp == "gru_adding"
        gate, cand = (_noisy(s, cfg.noise_c, cfg.rnn_noise, cfg.rnn_hidden) for s in _GATES[arm])
        common |= {"gate": gate, "candidate": cand, "hidden": cfg.rnn_hidden, "batch": cfg.rnn_batch,
                   "optimizer": cfg.rnn_optimizer, "clip": cfg.rnn_clip, "test_size": cfg.test_size,
                   "steps": cfg.gru_steps if gru else cfg.lstm_steps, "lr": cfg.gru_lr if gru else cfg.lstm_lr,
                   "target": cfg.adding_target if gru else cfg.unique_target}
        if gru:
            common |= {"adding_length": cfg.adding_length}
        else:
            common |= {"cell": cand, "unique_length": cfg.unique_length, "unique_values": cfg.unique_values}
        if arm == "annealed":
            common |= {"anneal_start": cfg.anneal_start, "anneal_end": cfg.anneal_end,
                       "anneal_kind": cfg.anneal_kind, "anneal_fraction": cfg.anneal_fraction}
    else:
        common |= {"objective": "x**2/10 - cos(3*x)", "optimizer": "gd", "steps": cfg.one_d_steps,
                   "lr": cfg.one_d_lr, "starts": cfg.one_d_starts, "span": cfg.one_d_span,
                   "noise_on": cfg.one_d_noise_on, "target": cfg.one_d_target,
                   "noise_c": 0.0 if arm == "none" else cfg.one_d_c}
        if arm == "annealed":
            common |= {"anneal_end": cfg.anneal_end, "anneal_kind": cfg.anneal_kind,
                       "anneal_fraction": cfg.anneal_fraction}
    return [{**common, "seed": int(s)} for s in cfg.seed_list]


def plan(cfg: NoiseConfig) -> list[Batch]:
    batches = []
    for exp in cfg.experiments:
        key = {"escape": "escape_arms", "ordinary": "ordinary_arms", "gru_adding": "gru_arms",
               "lstm_unique": "lstm_arms", "one_d": "one_d_arms"}[exp]
        for arm in getattr(cfg, key):
            batches.append(Batch(NAME, [Trial(c, task=exp) for c in trial_configs(cfg, exp, arm)]))
    return batches


def run_batch(batch: Batch, device: str = "cpu") -> list[TrialRecord]:
    """Each trial of the batch in turn, on the CPU (the models are small and sequential; `device` is not used)."""
    from actlab.studies.noise import train

    runners = {"escape": train.mlp_trial, "ordinary": train.mlp_trial, "gru_adding": train.adding_trial,
               "lstm_unique": train.distinct_trial, "one_d": train.one_d_trial}
    records = []
    for t in batch.trials:
        c = t.config
        metrics, curve = runners[c["experiment"]](c)
        records.append(TrialRecord(NAME, c["experiment"], _unit(c), c["optimizer"], c["seed"], c, metrics, curve))
    return records


def _unit(c: dict[str, Any]) -> str:
    """The store's activation column: the unit under study (the MLP's activation, the recurrent net's gate);
    the 1-D experiment has none and stores its arm's label (the arm itself is in the config)."""
    return c.get("activation") or c.get("gate") or f"one_d/{c['arm']}"


PER_BATCH = 0.05
"""Seconds per batch: the runner's bookkeeping and the store write. Every constant here is a warm process on the
idle reference CPU (a run's one-time start — torch.optim imports torch._dynamo, ~1.5 s — is not a batch's): the
tiny preset 1.5 s estimated, 1.24–1.43 s measured by the conformance suite; quick 25 s estimated, 34 s measured
from a cold start."""
PER_TRIAL = (0.02, 0.033)
"""Seconds per trial: the model, its monitor, the test evaluation (a noisy unit's trial: the second)."""
PER_STEP = {"mlp": 0.8e-4, "gru": 2.0e-4, "lstm": 4.2e-4}
"""Seconds per training step and MLP layer, or per step and time step of a recurrent net, with soft or hard
units: the Python-level overhead of small tensors dominates these nets."""
NOISY = {"mlp": 4.0, "gru": 5.0, "lstm": 3.3}
"""How much slower a step is with noisy units (their noise, their p, their exact-gradient backward)."""
PER_MAC = 0.65e-9
"""MLP: seconds per multiply-accumulate of a step (batch × weights), beyond the overhead."""
PER_START_STEP = 6.1e-8
"""1-D: seconds per start and step (one numpy vector)."""
# CPU seconds of one thread measured per batch (`actlab run`'s runner: auto-fusion off) at the tiny and quick
# sizes; the model gives 0.04 / 0.06 s for the tiny MLP trials (measured 0.04 / 0.08), 0.19 / 0.46 s for the
# quick ones (0.15 / 0.5), 0.6 / 3.2 s for the quick GRU's (0.5–0.7 / 2.8–3.3), 0.6 / 2.0 s for its LSTM's
# (0.6 / 1.9–2.1).


def _noisy_unit(c: dict[str, Any]) -> bool:
    return any(str(c.get(k, "")).startswith("noisy") for k in ("activation", "gate", "candidate"))


def trial_seconds(c: dict[str, Any]) -> float:
    """One trial's estimated run time on one thread of the reference CPU."""
    exp, noisy = c["experiment"], _noisy_unit(c)
    fixed = PER_TRIAL[noisy]
    if exp in ("escape", "ordinary"):
        w, layers = c["width"], c["layers"]
        macs = c["batch"] * (64 * w + (layers - 1) * w * w + 10 * w)
        return fixed + c["steps"] * (layers * PER_STEP["mlp"] * (NOISY["mlp"] if noisy else 1.0) + PER_MAC * macs)
    if exp in ("gru_adding", "lstm_unique"):
        kind = "gru" if exp == "gru_adding" else "lstm"
        length = c["adding_length"] if kind == "gru" else c["unique_length"]
        size = 1 + c["batch"] * c["hidden"] / 4096  # the tensors' own work, small next to the overhead
        return fixed + c["steps"] * length * PER_STEP[kind] * (NOISY[kind] if noisy else 1.0) * size
    return PER_START_STEP * c["steps"] * c["starts"]


def seconds(batch: Batch) -> float:
    """The batch's estimated run time (±50 %): its trials run one after another."""
    return PER_BATCH + sum(trial_seconds(t.config) for t in batch.trials)


def cost(batch: Batch) -> Cost:
    """Seconds (`seconds`), per-step elements (the largest trial's batch × width) and peak memory (the largest
    trial: its activations over every layer or time step kept for backward, and its parameters with their
    optimizer state, float32); the trials of a batch run one after another."""
    elements, memory = 1, 0
    for t in batch.trials:
        c = t.config
        exp = c["experiment"]
        if exp in ("escape", "ordinary"):
            w, layers = c["width"], c["layers"]
            e, params = c["batch"] * w, 64 * w + (layers - 1) * w * w + 10 * w
            m = 4 * (8 * e * layers + 4 * params + 4 * 1797 * w * layers)  # + the evaluation on every digit
        elif exp in ("gru_adding", "lstm_unique"):
            length = c.get("adding_length") or c.get("unique_length")
            h = c["hidden"]
            e = c["batch"] * h
            m = 4 * (16 * e * length + 4 * 8 * h * h + c.get("test_size", 0) * length * h * 4)
        else:
            e = c["starts"]
            m = 64 * e
        elements, memory = max(elements, e), max(memory, m)
    return Cost(seconds(batch), elements, memory)
