"""The activation search as a staged study: screen → rungs of successive halving → final test (docs/search.md).

Stage 0 is one trial, the screen: the space enumerated (`space.one_unit`, and `two_unit` sampled two-unit
candidates), each candidate rejected for one reason or merged into a class of equal functions (`space.screen`),
and — with `sample` — a seeded sample of the classes kept; it stores the counts and the classes. Each later stage
is planned from the stored results of the stages before (`pipeline`), so a resumed run replans the same
promotions: rung k trains its candidates on the first `rung_tasks[k]` tasks for `rung_epochs[k]` epochs with
`rung_seeds[k]` seeds (one trial per candidate and task, its seeds one vmapped ensemble); a candidate's score is
the mean over those tasks of its mean best validation accuracy, and the best `keep` share goes on. The final test
trains the last rung's `top` candidates and the `baselines` (relu, silu, gelu) with `final_seeds` seeds on every
task (an MLP; on MNIST-1D also the MNIST-1D paper's CNN): one trial per seed and learning rate, the learning rate
chosen per cell on validation, the test split read once per trial, on the weights of its best validation epoch.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from actlab.results.store import TrialRecord
from actlab.studies.config import MAX_SEEDS, ConfigError, require, values
from actlab.studies.plan import Batch, Trial
from actlab.studies.protocol import Cost, Stored

HOLDOUT = 0
"""The seed of the search's one test cut, shared by every seed (`realdata.split`'s `test_seed`; stored in each
trial's config): no seed of a rung trains or selects on rows that another seed tests on in the final test.
(MNIST-1D has its own test set.)"""

NAME = "search"
QUESTION = "What does a search over Ramachandran et al.'s space find on real data, and does it rediscover Swish?"
TASKS = ("digits", "mnist1d", "breast_cancer", "wine")
MODELS = ("mlp", "cnn")
SIZES = {"mnist1d": (40, 10, 3200, 800), "digits": (64, 10, 1077, 270), "breast_cancer": (30, 2, 340, 86),
         "wine": (13, 3, 106, 27)}
"""(features, classes, training rows, validation rows) of each task at realdata's default fractions (what the cost
estimate reads; the benchmark's table, tested against `realdata.split`)."""


@dataclass
class SearchConfig:
    space: str = "one-unit"
    """one-unit (all 6 250 core units b(u1(x), u2(x))) or x-paired (the 490 with x as one argument of b)."""
    sample: int = 0
    """Classes drawn (seeded by `space_seed`) from those the screen keeps; 0: every class."""
    two_unit: int = 0
    """Two-unit candidates b(u1(c(x)), u2(x)) drawn (seeded by `space_seed`) and screened with the one-unit space."""
    space_seed: int = 0
    tasks: list[str] = field(default_factory=lambda: list(TASKS))
    """The real-data tasks, in the order the rungs take them (rung k uses the first `rung_tasks[k]`)."""
    rung_epochs: list[int] = field(default_factory=lambda: [2, 5, 15, 30])
    rung_seeds: list[int] = field(default_factory=lambda: [1, 2, 3, 5])
    rung_tasks: list[int] = field(default_factory=lambda: [1, 2, 4, 4])
    keep: float = 0.25
    """Share of a rung's candidates promoted to the next (Hyperband's 1/η with η = 4)."""
    per_batch: int = 20
    """Candidates per batch of a rung (a batch is one unit of work for a worker)."""
    width: int = 32
    depth: int = 2
    lr: float = 0.003
    """Adam's learning rate in the rungs."""
    minibatch: int = 64
    top: int = 10
    """Candidates of the last rung that go to the final test."""
    baselines: list[str] = field(default_factory=lambda: ["relu", "silu", "gelu"])
    final_models: list[str] = field(default_factory=lambda: ["mlp", "cnn"])
    """mlp on every task; cnn: the MNIST-1D paper's CNN (`actlab.nn.mnist1d`), on mnist1d only."""
    final_seeds: int = 10
    final_epochs: int = 30
    final_lr: float | list[float] = 0.003
    """Adam's learning rate(s) in the final test; several: chosen per cell on validation."""

    def __post_init__(self) -> None:
        from actlab.studies.search.space import SPACES

        self.final_lr_list = values("final_lr", self.final_lr)
        if len(set(self.final_lr_list)) < len(self.final_lr_list):
            raise ConfigError(f"final_lr: expected distinct learning rates, got {self.final_lr!r}")
        n = len(self.rung_epochs)
        require([
            (self.space in SPACES, "space", " or ".join(SPACES)),
            (0 <= self.sample <= 100_000, "sample", "0 (every class) or a count of classes up to 100 000"),
            (0 <= self.two_unit <= 100_000, "two_unit", "a count from 0 to 100 000"),
            (0 <= self.space_seed < 2**32, "space_seed", "an integer in [0, 2**32)"),
            (self.tasks and all(t in TASKS for t in self.tasks) and len(set(self.tasks)) == len(self.tasks), "tasks",
             f"a non-empty list of distinct {', '.join(TASKS)}"),
            (n >= 1 and all(1 <= e <= 10_000 for e in self.rung_epochs), "rung_epochs",
             "a non-empty list of epoch counts from 1 to 10 000"),
            (len(self.rung_seeds) == n and all(1 <= s <= 1000 for s in self.rung_seeds), "rung_seeds",
             f"one seed count from 1 to 1000 per rung ({n} rungs, as rung_epochs)"),
            (len(self.rung_tasks) == n and all(1 <= t <= len(self.tasks) for t in self.rung_tasks), "rung_tasks",
             f"one count of tasks from 1 to {len(self.tasks)} (the tasks listed) per rung ({n} rungs)"),
            (0 < self.keep < 1, "keep", "a share in (0, 1)"),
            (1 <= self.per_batch <= 10_000, "per_batch", "a count from 1 to 10 000"),
            (1 <= self.width <= 4096, "width", "an integer from 1 to 4096"),
            (1 <= self.depth <= 64, "depth", "an integer from 1 to 64"),
            (0 < self.lr, "lr", "a positive number"),
            (1 <= self.minibatch <= 100_000, "minibatch", "an integer from 1 to 100 000"),
            (1 <= self.top <= 1000, "top", "a count from 1 to 1000"),
            (len(set(self.baselines)) == len(self.baselines), "baselines", "distinct specs"),
            (self.final_models and all(m in MODELS for m in self.final_models)
             and len(set(self.final_models)) == len(self.final_models), "final_models",
             f"a non-empty list of distinct {', '.join(MODELS)}"),
            (self.final_models != ["cnn"] or "mnist1d" in self.tasks, "final_models",
             "mlp, or the task mnist1d for cnn (its input is MNIST-1D's 40-long signal)"),
            (1 <= self.final_seeds <= MAX_SEEDS, "final_seeds", f"a count from 1 to {MAX_SEEDS:,}"),
            (1 <= self.final_epochs <= 10_000, "final_epochs", "an epoch count from 1 to 10 000"),
        ], self)
        from actlab.core.registry import create

        for spec in self.baselines:
            act = create(spec)  # unknown names, bad arguments, formulas: the registry's message
            if not act.properties.elementwise:
                raise ConfigError(f"baselines: {spec!r} is not elementwise; an MLP needs one value per unit")

    def rungs(self) -> list[tuple[int, int, list[str]]]:
        """(epochs, seeds, tasks) of each rung."""
        return [(e, s, self.tasks[:t]) for e, s, t in zip(self.rung_epochs, self.rung_seeds, self.rung_tasks)]


# --- the plan: stage by stage, from what the store holds ----------------------------------------------------
def screen_trial(cfg: SearchConfig) -> Trial:
    search = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg)}
    return Trial({"study": NAME, "stage": "screen", "search": search}, task="screen")


def rung_trial(cfg: SearchConfig, k: int, spec: str, task: str) -> Trial:
    epochs, seeds, _ = cfg.rungs()[k]
    return Trial({"study": NAME, "stage": "rung", "rung": k, "activation": spec, "task": task, "epochs": epochs,
                  "seeds": seeds, "width": cfg.width, "depth": cfg.depth, "lr": cfg.lr, "minibatch": cfg.minibatch,
                  "holdout": HOLDOUT}, task=task)


def final_trial(cfg: SearchConfig, spec: str, task: str, model: str, seed: int, lr: float) -> Trial:
    return Trial({"study": NAME, "stage": "final", "activation": spec, "task": task, "model": model, "seed": seed,
                  "lr": lr, "epochs": cfg.final_epochs, "width": cfg.width, "depth": cfg.depth,
                  "minibatch": cfg.minibatch, "holdout": HOLDOUT}, task=task)


def cells(cfg: SearchConfig) -> list[tuple[str, str]]:
    """The final test's (task, model) cells: an MLP on every task, the CNN on mnist1d."""
    return [(t, m) for t in cfg.tasks for m in cfg.final_models if m == "mlp" or t == "mnist1d"]


@dataclass
class RungState:
    index: int
    epochs: int
    seeds: int
    tasks: list[str]
    candidates: list[str]
    trials: dict[tuple[str, str], Trial]
    scores: dict[str, float] = field(default_factory=dict)
    """Candidate → its score (once the rung is complete)."""
    promoted: list[str] = field(default_factory=list)


@dataclass
class Pipeline:
    """Where a search stands in a store: every stage the stored results decide (`batches`: the screen, each rung
    once the one before it is complete, the final test once the last rung is) and the batches of the first stage
    the store does not complete (`pending`; empty once the final test is stored)."""

    config: SearchConfig
    screen: Trial
    classes: list[dict[str, Any]] = field(default_factory=list)
    rungs: list[RungState] = field(default_factory=list)
    finalists: list[str] = field(default_factory=list)
    final: list[Trial] = field(default_factory=list)
    batches: list[Batch] = field(default_factory=list)
    pending: list[Batch] = field(default_factory=list)

    def stage(self, batches: list[Batch], found: dict[str, dict[str, Any]]) -> bool:
        """Add a stage; True if the store completes it."""
        self.batches += batches
        if any(t.id not in found for b in batches for t in b.trials):
            self.pending = batches
            return False
        return True


def pipeline(cfg: SearchConfig, found: dict[str, dict[str, Any]]) -> Pipeline:
    """The search's stages as far as the stored trials `found` (id → trial) decide them."""
    from actlab.studies.search.halving import best, promote

    p = Pipeline(cfg, screen_trial(cfg))
    if not p.stage([Batch(NAME, [p.screen])], found):
        return p
    p.classes = found[p.screen.id]["metrics"]["classes"]
    alive = [c["spec"] for c in p.classes]
    for k, (epochs, seeds, tasks) in enumerate(cfg.rungs()):
        r = RungState(k, epochs, seeds, tasks, alive,
                      {(spec, task): rung_trial(cfg, k, spec, task) for spec in alive for task in tasks})
        p.rungs.append(r)
        if not p.stage([Batch(NAME, [r.trials[(spec, task)] for spec in alive[i:i + cfg.per_batch] for task in tasks])
                        for i in range(0, len(alive), cfg.per_batch)], found):
            return p
        for spec in alive:
            scores = [found[r.trials[(spec, task)].id]["metrics"]["score"] for task in tasks]
            r.scores[spec] = math.nan if any(_nan(s) for s in scores) else float(np.mean(scores))
        r.promoted = promote(r.scores, cfg.keep) if k < len(cfg.rung_epochs) - 1 else best(r.scores, cfg.top)
        alive = r.promoted
        if not alive:
            return p
    p.finalists = list(dict.fromkeys([*alive, *cfg.baselines]))
    p.final = [final_trial(cfg, spec, task, model, seed, lr) for spec in p.finalists for task, model in cells(cfg)
               for seed in range(cfg.final_seeds) for lr in cfg.final_lr_list]
    groups: dict[tuple, list[Trial]] = {}
    for t in p.final:
        groups.setdefault((t.config["activation"], t.task, t.config["model"]), []).append(t)
    p.stage([Batch(NAME, ts) for ts in groups.values()], found)
    return p


def _nan(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def plan(cfg: SearchConfig) -> list[Batch]:
    """Stage 0: the screen (one trial)."""
    return [Batch(NAME, [screen_trial(cfg)])]


def next_stage(cfg: SearchConfig, stored: Stored) -> list[Batch]:
    """Every stage the stored results decide (the runner runs what it has not run yet)."""
    return pipeline(cfg, {t["trial_id"]: t for t in stored.trials}).batches


def stand_ins(cfg: SearchConfig, stored: Stored | None = None) -> list[Batch]:
    """The whole plan as far as the stored trials decide it (`pipeline`), then stand-ins at the sizes the rules give
    the stages not decided yet: the first candidates of the last stage decided stand in for those it will promote
    (the screen's classes where only the screen is planned; the screen runs here then: seconds for the whole
    space)."""
    import math as m

    p = pipeline(cfg, {t["trial_id"]: t for t in stored.trials} if stored else {})
    if p.final or (p.rungs and not p.pending):  # every stage decided, or a rung whose candidates all failed
        return p.batches
    out = list(p.batches)
    start, alive = (p.rungs[-1].index, p.rungs[-1].candidates) if p.rungs else \
        (-1, [c["spec"] for c in screened(cfg)["classes"]])
    for k, (_, _, tasks) in enumerate(cfg.rungs()):
        if k < start:
            continue
        if k > start:
            out += [Batch(NAME, [rung_trial(cfg, k, s, t) for s in alive[i:i + cfg.per_batch] for t in tasks])
                    for i in range(0, len(alive), cfg.per_batch)]
        last = k == len(cfg.rung_epochs) - 1
        alive = alive[:min(len(alive), cfg.top if last else max(1, m.ceil(cfg.keep * len(alive))))]
    finalists = list(dict.fromkeys([*alive, *cfg.baselines]))
    for spec in finalists:
        for task, model in cells(cfg):
            out.append(Batch(NAME, [final_trial(cfg, spec, task, model, seed, lr) for seed in range(cfg.final_seeds)
                                    for lr in cfg.final_lr_list]))
    return out


# --- the screen ---------------------------------------------------------------------------------------------
_SCREENS: dict[tuple[str, int, int, int], dict[str, Any]] = {}
"""The screens this process computed (the driver screens for `stand_ins`; a local run's screen trial reuses it)."""


def screened(cfg: SearchConfig) -> dict[str, Any]:
    """The screen of `cfg`'s space (cached per process)."""
    key = _screen_key(cfg)
    if key not in _SCREENS:
        _SCREENS[key] = _screened(*key)
    return _SCREENS[key]


def _screen_key(cfg: SearchConfig | dict[str, Any]) -> tuple[str, int, int, int]:
    v = cfg if isinstance(cfg, dict) else {k: getattr(cfg, k) for k in ("space", "sample", "two_unit", "space_seed")}
    return (str(v["space"]), int(v["sample"]), int(v["two_unit"]), int(v["space_seed"]))


def _screened(space_name: str, sample: int, two: int, seed: int) -> dict[str, Any]:
    from actlab.analysis import equivalence
    from actlab.studies.search import space

    candidates: list[space.Unit] = [*space.one_unit(space_name), *space.two_unit(two, seed)]
    s = space.screen(candidates)
    kept = s.kept
    if sample and sample < len(kept):
        rng = np.random.default_rng(seed)
        kept = [kept[i] for i in sorted(rng.choice(len(kept), size=sample, replace=False))]
    published = {}
    for label, spec in space.PUBLISHED.items():
        sig = equivalence.signature(spec)
        hit = next((i for i, k in enumerate(kept) if sig is not None and k.signature is not None
                    and sig.difference(k.signature) <= equivalence.TOL), None)
        whole = hit is not None or any(sig is not None and k.signature is not None
                                       and sig.difference(k.signature) <= equivalence.TOL for k in s.kept)
        published[label] = {"spec": spec, "class": hit,
                            "where": "searched" if hit is not None else "not sampled" if whole else "not in the space"}
    return {"enumerated": s.enumerated, "one_unit": sum(1 for c in candidates if c.units == 1),
            "two_unit": sum(1 for c in candidates if c.units == 2), "rejected": dict(s.rejected),
            "kept": len(s.kept), "searched": len(kept), "published": published,
            "classes": [{"spec": k.representative.spec, "label": k.representative.formula,
                         "template": k.representative.label, "catalog": k.catalog,
                         "members": len(k.members), "units": k.representative.units,
                         "uses_x": k.representative.uses_x, "binary": k.representative.b,
                         "unary": sorted({k.representative.u1, k.representative.u2})} for k in kept]}


# --- running a batch ----------------------------------------------------------------------------------------
def run_batch(batch: Batch, device: str = "cpu") -> list[TrialRecord]:
    stage = batch.trials[0].config["stage"]
    if stage == "screen":
        return [_screen(t) for t in batch.trials]
    if stage == "rung":
        return [_rung(t, device) for t in batch.trials]
    return _final(batch, device)


def _screen(t: Trial) -> TrialRecord:
    import time

    from actlab.studies.config import build

    start = time.perf_counter()
    cfg = build(SearchConfig, dict(t.config["search"]))
    metrics = dict(screened(cfg), seconds=time.perf_counter() - start)
    return TrialRecord(NAME, "screen", "", "", 0, t.config, metrics)


def _rung(t: Trial, device: str) -> TrialRecord:
    import time

    from actlab.studies.search.halving import score

    c = t.config
    start = time.perf_counter()
    value, vals, failed = score(c["activation"], c["task"], c["epochs"], c["seeds"], width=c["width"],
                                depth=c["depth"], lr=c["lr"], batch_size=c["minibatch"], device=device,
                                holdout=c["holdout"])
    metrics = {"score": value, "val_accuracy": vals, "failed": failed, "seconds": time.perf_counter() - start}
    return TrialRecord(NAME, c["task"], c["activation"], "adam", 0, c, metrics)


def _final(batch: Batch, device: str) -> list[TrialRecord]:
    from actlab.engine import ensemble
    from actlab.studies.search.halving import mlp, splits

    c0 = batch.trials[0].config
    seeds = list(dict.fromkeys(t.config["seed"] for t in batch.trials))
    parts = {s: splits(c0["task"], s, device, c0["holdout"]) for s in seeds}
    first = parts[seeds[0]]
    inputs, classes = first.train[0].shape[1], int(first.train[1].max()) + 1

    def build(seed: int) -> Any:
        if c0["model"] == "cnn":
            import torch

            from actlab.nn import mnist1d

            torch.manual_seed(seed)
            return mnist1d.cnn(c0["activation"]).to(device)
        return mlp(c0["activation"], inputs, classes, c0["width"], c0["depth"], seed).to(device)

    try:
        run = ensemble.train(build, parts, ensemble.classification(), seeds, [], epochs=c0["epochs"],
                             batch_size=c0["minibatch"], vectorize="auto",
                             pairs=[(t.config["seed"], t.config["lr"]) for t in batch.trials])
        members: list[Any] = run.members
        mode = run.mode
    except Exception as e:  # the activation breaks the model: every trial records why
        why = f"{type(e).__name__}: {' '.join(str(e).split())[:200]}"
        members = [ensemble.Member(t.config["seed"], t.config["lr"], failed=why) for t in batch.trials]
        mode = "failed"
    out = []
    for t, m in zip(batch.trials, members):
        metrics = {"val_accuracy": m.val_metric, "test_accuracy": m.test_metric, "best_epoch": m.best_epoch,
                   "failed": m.failed, "mode": mode, "seconds": m.seconds_per_epoch * c0["epochs"]}
        curve = [(i + 1, v) for i, v in enumerate(m.val_curve) if math.isfinite(v)]
        out.append(TrialRecord(NAME, t.task, c0["activation"], "adam", t.config["seed"], t.config, metrics, curve))
    return out


# --- what a batch costs ---------------------------------------------------------------------------------------
SCREEN_SECONDS = (1.2e-3, 2.3e-3)
"""Seconds per one-unit and per two-unit candidate screened (its signature on the grid, the class lookup, the catalog
match of a kept class): 490 one-unit candidates in 0.57 s, 100 two-unit in 0.23 s on the reference CPU. A screen
this process already computed costs nothing (a local run reuses the one `--dry-run`'s sizing computed)."""
TRIAL_SECONDS = 1.9e-3
"""A rung trial's fixed cost: its activation built, its models, the ensemble's set-up."""
EPOCH_SECONDS = 1.0e-3
"""An epoch's cost beyond its steps: the validation pass, the best epoch's bookkeeping."""
STEP_SECONDS = 1.0e-3
"""One minibatch step of a small MLP ensemble beyond its arithmetic (vmap and autograd launch costs)."""
SECONDS_PER_MAC = 2.5e-10
"""Seconds per multiply-accumulate of a row's forward pass through one member (backward counted as 2 more for a
training row). These four are fitted to the full preset's rung trials (5 144, with two workers) and small ones on
wine and breast_cancer: every group's median within ±10 % but one (3 epochs × 4 seeds on wine, 1.26)."""
FINAL_SECONDS = 0.06
"""A final-test batch's extra fixed cost: the test pass and the monitor at the selected epoch (which analyses the
activation once per process: 0.14 s more a batch where it has not, measured in the full preset's workers)."""
CNN_STEP_SECONDS = 0.0026
"""One minibatch step of one MNIST-1D CNN trial, trained one after another on the CPU (3.8 s for 30 epochs of 50
steps in the full preset, per trial)."""


def _mlp_macs(task: str, width: int, depth: int) -> int:
    inputs, classes, _, _ = SIZES[task]
    return inputs * width + (depth - 1) * width * width + width * classes


def seconds(batch: Batch) -> float:
    c0 = batch.trials[0].config
    if c0["stage"] == "screen":
        s = c0["search"]
        if _screen_key(s) in _SCREENS:
            return 0.001
        return (6250 if s["space"] == "one-unit" else 490) * SCREEN_SECONDS[0] + s["two_unit"] * SCREEN_SECONDS[1]
    total = 0.0
    if c0["stage"] == "rung":
        for t in batch.trials:
            c = t.config
            _, _, train, val = SIZES[c["task"]]
            steps = c["epochs"] * math.ceil(train / c["minibatch"])
            macs = _mlp_macs(c["task"], c["width"], c["depth"])
            total += TRIAL_SECONDS + c["epochs"] * EPOCH_SECONDS + steps * STEP_SECONDS + \
                c["epochs"] * (train * 3 + val) * c["seeds"] * macs * SECONDS_PER_MAC
        return total
    _, _, train, val = SIZES[c0["task"]]
    steps = c0["epochs"] * math.ceil(train / c0["minibatch"])
    if c0["model"] == "cnn":
        return FINAL_SECONDS + len(batch) * steps * CNN_STEP_SECONDS
    macs = _mlp_macs(c0["task"], c0["width"], c0["depth"])
    return TRIAL_SECONDS + FINAL_SECONDS + c0["epochs"] * EPOCH_SECONDS + steps * STEP_SECONDS + \
        c0["epochs"] * (train * 3 + val) * len(batch) * macs * SECONDS_PER_MAC


def cost(batch: Batch) -> Cost:
    """Seconds as above; elements: a step's activations (members × minibatch × width); memory: the members'
    parameters five times over (weights, gradients, two Adam moments, the best epoch's) and a minibatch's
    activations, in float32."""
    c0 = batch.trials[0].config
    if c0["stage"] == "screen":
        return Cost(seconds(batch), 1000, 64 << 20)
    members = c0["seeds"] if c0["stage"] == "rung" else len(batch)
    params = 5210 if c0.get("model") == "cnn" else _mlp_macs(c0["task"], c0["width"], c0["depth"])
    per_step = members * c0["minibatch"] * max(c0["width"], 25 * 20 if c0.get("model") == "cnn" else 0) * c0["depth"]
    return Cost(seconds(batch), per_step, (members * 5 * params + 4 * per_step) * 4)
