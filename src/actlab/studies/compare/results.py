"""A comparison's trials arranged once: the learning rate chosen on validation per activation (`RULE`), the
paired tests with the baseline, the rank tests, and a plain-words answer computed from them.

The choice of learning rate and the pick of an activation read the validation metric only; the test metric
(evaluated once per trial, at the epoch of its best validation metric) is what the tests and ranks compare.
"""

from __future__ import annotations

import csv
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from actlab.analysis import stats
from actlab.studies.selection import Rule, select

ALPHA = 0.05
RULE = Rule("val", tuned=("lr",), pooled=("seed",),
            words="each activation keeps the learning rate with the highest mean validation metric over its seeds "
                  "(ties: the smaller rate), each trial at the epoch of its best validation metric; the test split "
                  "is read once per trial and never in a choice")


@dataclass
class Trial:
    activation: str
    seed: int
    lr: float
    val: float
    test: float
    best_epoch: int
    failed: str
    mode: str
    seconds_per_epoch: float
    val_curve: list[float] = field(default_factory=list, repr=False)
    train_loss: list[float] = field(default_factory=list, repr=False)
    layers: list[dict] = field(default_factory=list, repr=False)
    """The monitor at the selected epoch, per activation layer (engine.ensemble.monitor)."""
    peak_memory: int = 0
    """Bytes this trial adds to its activation's ensemble at its peak (engine.ensemble.peak_memory)."""


@dataclass
class Row:
    """One activation at its chosen learning rate."""

    activation: str
    lr: float
    val_mean: float
    test_mean: float
    ci: tuple[float, float]
    grid_mean: float
    """Mean test metric over the whole learning-rate grid (Eger et al. 2018: how much tuning matters)."""
    diff: float = math.nan
    p: float = math.nan
    p_holm: float = math.nan
    effect: float = math.nan
    rank: float = math.nan
    failed: int = 0
    mode: str = ""
    seconds_per_epoch: float = math.nan
    peak_memory: int = 0


@dataclass
class CompareResult:
    trials: list[Trial]
    task: str
    metric: str
    baseline: str
    runs: dict[str, tuple[str, str]]
    """activation → (mode: 'vmap' / 'sequential' / 'failed', why)."""
    data: str
    settings: dict[str, Any]
    rows: list[Row] = field(init=False)
    friedman_p: float = field(init=False, default=math.nan)
    cd: float = field(init=False, default=math.nan)
    variance: dict[str, float] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.rows = _rows(self)

    # --- what a user reads -------------------------------------------------------------
    def table(self) -> list[dict[str, Any]]:
        """The tidy per-trial table (one dict per trial)."""
        return [{k: v for k, v in asdict(t).items() if k not in ("val_curve", "train_loss", "layers")}
                for t in self.trials]

    def monitor(self) -> list[dict[str, Any]]:
        """Per activation (at its chosen learning rate) and layer: mean dead and saturated fractions and gradient
        RMS at the selected epoch, over the seeds."""
        out = []
        for row in self.rows:
            ts = [t for t in self.trials if t.activation == row.activation and t.lr == row.lr and t.layers]
            for i, layer in enumerate(ts[0].layers if ts else []):
                vals = {k: [t.layers[i][k] for t in ts if len(t.layers) > i and t.layers[i][k] is not None]
                        for k in ("dead", "saturated", "grad_rms")}
                out.append({"activation": row.activation, "layer": layer["layer"],
                            **{k: float(np.mean(v)) if v else math.nan for k, v in vals.items()}})
        return out

    def to_csv(self, path: str | Path) -> Path:
        rows = self.table()
        path = Path(path)
        with path.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
        return path

    def to_parquet(self, path: str | Path) -> Path:
        """Needs pyarrow (pip install pyarrow)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(self.table()), path)
        return Path(path)

    @property
    def rule(self) -> str:
        """The selection rule in words."""
        return RULE.words

    @property
    def best(self) -> Row | None:
        """The pick: the highest mean validation metric at its chosen learning rate (ties: the listed order)."""
        ok = [r for r in self.rows if math.isfinite(r.val_mean)]
        return max(ok, key=lambda r: r.val_mean) if ok else None

    def answer(self) -> str:
        """The plain-words answer, from the numbers by a fixed rule."""
        best = self.best
        if best is None:
            return "No activation trained: every trial failed (see the table's `failed` column)."
        n = len(self.settings["seeds"])
        words = (f"On {self.data}, {best.activation} has the highest mean validation {self.metric} "
                 f"({best.val_mean:.4g}, learning rate {best.lr:g}); on the test split it scores {best.test_mean:.4g} "
                 f"(95% CI {best.ci[0]:.4g} to {best.ci[1]:.4g}, {n} seeds).")
        if best.activation == self.baseline:
            beaten = [r.activation for r in self.rows if r.p_holm < ALPHA and r.diff > 0]
            return words + (f" It is the baseline; {', '.join(beaten)} beat it on test (Holm-adjusted p < {ALPHA})."
                            if beaten else " It is the baseline; no activation differs from it significantly on test "
                            f"(Holm-adjusted p < {ALPHA}).")
        if best.p_holm < ALPHA:
            side = "better" if best.diff > 0 else "worse"
            return words + (f" Against the baseline {self.baseline} it is significantly {side} on test by "
                            f"{best.diff:+.4g} (paired Wilcoxon, Holm-adjusted p = {best.p_holm:.3g}).")
        return words + (f" It does not differ significantly from the baseline {self.baseline} on test "
                        f"({best.diff:+.4g}, Holm-adjusted p = {best.p_holm:.3g}): with these seeds, either will do.")

    def __str__(self) -> str:
        head = f"{'activation':<28} {'lr':>8} {'val':>8} {'test':>8} {'95% CI':>19} {'vs base':>9} {'p(Holm)':>8} " \
               f"{'rank':>5} {'s/epoch':>8} {'MiB':>7}  mode"
        lines = [head]
        for r in self.rows:
            lines.append(f"{r.activation[:28]:<28} {r.lr:>8.2g} {r.val_mean:>8.4f} {r.test_mean:>8.4f} "
                         f"{r.ci[0]:>9.4f}–{r.ci[1]:<9.4f} {r.diff:>+9.4f} {r.p_holm:>8.3g} {r.rank:>5.2f} "
                         f"{r.seconds_per_epoch:>8.4f} {r.peak_memory / 2**20:>7.1f}  {r.mode}"
                         + (f" ({r.failed} failed)" if r.failed else ""))
        return "\n".join(lines) + "\n\n" + self.answer()

    def report(self, path: str | Path) -> Path:
        from actlab.studies.compare.report import write

        return write(self, Path(path))


SETUP = ("model", "data", "target", "data_id", "baseline", "optimizer", "epochs", "batch_size", "val_fraction",
         "test_fraction")
"""What makes one comparison: trials that share these are compared with each other."""


def results(stored: Any) -> list[CompareResult]:
    """The study's arrangement of a store's trials: one comparison per setup (the report's section reads it)."""
    return from_stored(stored.trials, stored.curves([t["trial_id"] for t in stored.trials]))


def from_stored(rows: list[dict[str, Any]], curves: dict[str, list] | None = None) -> list[CompareResult]:
    """Comparisons from store rows (`curves`: each trial's validation curve, by trial id)."""
    curves = curves or {}
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for t in rows:
        groups.setdefault(tuple(str(t["config"].get(k)) for k in SETUP), []).append(t)
    out = []
    for ts in groups.values():
        c, m = ts[0]["config"], ts[0]["metrics"]
        trials = [Trial(t["config"]["activation"], t["config"]["seed"], t["config"]["lr"], _float(t["metrics"]["val"]),
                        _float(t["metrics"]["test"]), int(t["metrics"]["best_epoch"]), t["metrics"]["failed"] or "",
                        t["metrics"]["mode"], _float(t["metrics"]["seconds_per_epoch"]),
                        [v for _, v in curves.get(t["trial_id"], [])], [], t["metrics"].get("layers") or [],
                        int(t["metrics"].get("peak_memory") or 0))
                  for t in ts]
        trials.sort(key=lambda t: (t.activation != c["baseline"], t.seed, t.lr))
        runs = {t["config"]["activation"]: (t["metrics"]["mode"], t["metrics"]["reason"]) for t in ts}
        seeds = sorted({t.seed for t in trials})
        settings = {"seeds": seeds, "lr": sorted({t.lr for t in trials}), "optimizer": c["optimizer"],
                    "epochs": c["epochs"], "batch_size": c["batch_size"], "val_fraction": c["val_fraction"],
                    "test_fraction": c["test_fraction"], "model": c["model"]}
        if all(sum(t.activation == a and t.lr == lr for t in trials) == len(seeds)
               for a in runs for lr in settings["lr"]):
            out.append(CompareResult(trials, m["task_kind"], m["metric"], c["baseline"], runs,
                                     f"{c['data']} with {c['model']}", settings))
    return out


def _float(v: Any) -> float:
    return math.nan if v is None else float(v)


def _rows(r: CompareResult) -> list[Row]:
    by_act: dict[str, list[Trial]] = {}
    for t in r.trials:
        by_act.setdefault(t.activation, []).append(t)
    dicts = [{"config": {"activation": t.activation, "lr": t.lr, "seed": t.seed},
              "metrics": {"val": t.val if not t.failed and math.isfinite(t.val) else math.nan}} for t in r.trials]
    chosen = {c.cell["activation"]: c.setting["lr"] for c in select(dicts, RULE)}
    seeds = r.settings["seeds"]
    rows, tests = [], {}
    for act, ts in by_act.items():
        lr = chosen[act]
        at = {t.seed: t for t in ts if t.lr == lr}
        test = np.array([at[s].test if not at[s].failed else math.nan for s in seeds])
        val = np.array([at[s].val if not at[s].failed else math.nan for s in seeds])
        grid = np.array([t.test for t in ts if not t.failed])
        ok = np.isfinite(test)
        ci = stats.bootstrap_ci(test[ok]) if ok.any() else (math.nan, math.nan)
        rows.append(Row(act, lr, float(np.mean(val)) if ok.all() else math.nan,
                        float(np.mean(test)) if ok.all() else math.nan, ci,
                        float(np.mean(grid)) if grid.size else math.nan, failed=sum(bool(t.failed) for t in ts),
                        mode=r.runs[act][0], seconds_per_epoch=ts[0].seconds_per_epoch,
                        peak_memory=_ensemble_memory(ts, r.runs[act][0])))
        tests[act] = test
    _paired(r, rows, tests)
    _ranks(r, rows, tests)
    complete = [t for t in r.trials if not t.failed and math.isfinite(t.test)]
    if len({t.activation for t in complete}) > 1 and len(complete) > 2:
        r.variance = stats.variance_split([asdict(t) for t in complete], ["activation", "seed", "lr"], "test")
    return rows


def _ensemble_memory(ts: list[Trial], mode: str) -> int:
    """The activation's peak: every trial's share at once in an ensemble, one trial's when they ran in turn."""
    per_trial = max(t.peak_memory for t in ts)
    return per_trial * len(ts) if mode == "vmap" else per_trial


def _paired(r: CompareResult, rows: list[Row], tests: dict[str, np.ndarray]) -> None:
    """Each activation against the baseline, paired by seed; Holm over the activations."""
    base = tests.get(r.baseline)
    if base is None or not np.isfinite(base).all():
        return
    others = [row for row in rows if row.activation != r.baseline and np.isfinite(tests[row.activation]).all()]
    for row in others:
        t = stats.paired_test(tests[row.activation], base)
        row.diff, row.p, row.effect = t.mean_diff, t.p_value, t.effect_size
    if others:
        for row, p in zip(others, stats.holm([row.p for row in others])):
            row.p_holm = float(p)


def _ranks(r: CompareResult, rows: list[Row], tests: dict[str, np.ndarray]) -> None:
    """Friedman's ranks over the seeds (blocks), and Nemenyi's critical difference."""
    complete = [row for row in rows if np.isfinite(tests[row.activation]).all()]
    if len(complete) < 2 or len(r.settings["seeds"]) < 2:
        return
    scores = np.stack([tests[row.activation] for row in complete], axis=1)  # seeds × activations
    f = stats.friedman(scores)
    for row, rank in zip(complete, f.average_ranks):
        row.rank = float(rank)
    r.friedman_p = f.p_value
    r.cd = stats.nemenyi_cd(len(complete), scores.shape[0], ALPHA)
