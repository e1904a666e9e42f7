"""The noise study: its task generators by hand, config checks (library and CLI), a tiny run of every
experiment through the runner (paired arms, resumable), the verdict rules on synthetic numbers, the results
object (one setup per experiment), the report section, the terminal summary and the claims from the tiny
store and from the store written before the studies became packages."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.optimize
import scipy.stats
import torch

from actlab.data import tasks
from actlab.results import Store
from actlab.studies.config import ConfigError, build, load_preset
from actlab.studies.noise import STUDY
from actlab.studies.noise.claims import MIN_PAIRS, SPECS, judge, judged, numbers
from actlab.studies.noise.results import NoiseResults, results
from actlab.studies.noise.study import NoiseConfig, plan
from actlab.studies.protocol import Stored
from actlab.studies.runner import execute

TINY = {k: v for k, v in load_preset(STUDY.presets / "noise-tiny.toml").items() if k != "study"}
"""The tiny preset (22 trials): the fixture's run, and what the conformance suite runs."""
FIXTURES = Path(__file__).parent / "fixtures"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "actlab", *args], capture_output=True, text=True, timeout=300)


# --- the tasks, by hand ------------------------------------------------------------------------
def test_adding_problem_by_hand() -> None:
    x, y = tasks.adding(np.random.default_rng(3), 200, 9)
    assert x.shape == (200, 9, 2) and y.shape == (200,)
    for row, target in zip(x, y):
        marked = [t for t in range(9) if row[t, 1] == 1.0]
        assert len(marked) == 2 and sum(row[:, 1]) == 2.0  # exactly two markers, everything else 0
        assert marked[0] < 4 <= marked[1]  # one in each half (half = 9 // 2 = 4)
        assert target == pytest.approx(float(row[marked[0], 0]) + float(row[marked[1], 0]), abs=1e-6)
    _, y = tasks.adding(np.random.default_rng(0), 200_000, 50)
    assert np.mean((y - 1.0) ** 2) == pytest.approx(2 / 12, abs=0.002)  # "predict 1": Var(U + U) = 1/6
    with pytest.raises(ValueError, match="length ≥ 2"):
        tasks.adding(np.random.default_rng(0), 4, 1)


def test_distinct_values_by_hand() -> None:
    x, y = tasks.distinct(np.random.default_rng(1), 100, 10, 10)
    assert x.shape == (100, 10, 10) and np.all(x.sum(-1) == 1)
    for row, label in zip(x, y):
        assert label == len({int(np.argmax(v)) for v in row}) - 1
    assert tasks.distinct_classes(10, 10) == 10 and tasks.distinct_classes(4, 8) == 4


def test_one_d_objective_global_minimum_and_basin() -> None:
    grid = np.linspace(-8, 8, 160_001)
    f = grid**2 / 10 - np.cos(3 * grid)  # written out, not the module's function
    assert grid[np.argmin(f)] == pytest.approx(0.0, abs=1e-4) and f.min() == pytest.approx(-1.0)
    edge = scipy.optimize.brentq(lambda x: x / 5 + 3 * math.sin(3 * x), 1.0, 1.2)
    assert tasks.BASIN == pytest.approx(edge, abs=1e-9)
    assert 1 / 5 + 9 * math.cos(3 * edge) < 0  # f'' < 0: a local maximum bounds the basin


# --- config --------------------------------------------------------------------------------
def test_config_rejects_bad_values() -> None:
    for bad, match in (({"colour": 1}, "unknown config key 'colour'"), ({"gru_arms": ["soft", "spiky"]}, "gru_arms"),
                       ({"adding_length": 0}, "adding_length"), ({"experiments": ["escape", "xor"]}, "experiments"),
                       ({"anneal_kind": "exponential", "anneal_end": 0.0}, "start > 0 and end > 0"),
                       ({"mlp_optimizer": "lbfgs"}, "mlp_optimizer")):
        with pytest.raises(ConfigError, match=match):
            build(NoiseConfig, dict(bad))


def test_cli_bad_config_exits_2_with_one_line(tmp_path: Path) -> None:
    store = tmp_path / "x.db"
    for sets, words in ((["colour=1"], "unknown config key 'colour'"), (['escape_arms=["relu"]'], "escape_arms"),
                        (["adding_length=0"], "adding_length")):
        r = cli("run", "noise", "--quick", *[a for s in sets for a in ("--set", s)], "--store", str(store))
        assert r.returncode == 2 and words in r.stderr and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and not store.exists()
    r = cli("run", "noise", "--dry-run", "--store", str(store))  # the full preset's plan
    assert r.returncode == 0 and "study noise: 210 trials" in r.stdout and "in 21 batches" in r.stdout


def test_plan_pairs_arms_on_seeds() -> None:
    batches = plan(build(NoiseConfig, dict(TINY)))
    assert len(batches) == 2 + 2 + 2 + 2 + 3 and all(len(b) == 2 for b in batches)
    for b in batches:
        assert len({t.config["arm"] for t in b.trials}) == 1 and [t.config["seed"] for t in b.trials] == [0, 1]
    nan = next(b for b in batches if b.trials[0].config["arm"] == "nan").trials[0].config
    assert "num_parameters=8" in nan["activation"] and nan["weight_scale"] == 8.0
    annealed = [b for b in batches if b.trials[0].config["arm"] == "annealed"]
    assert all("anneal_kind" in b.trials[0].config for b in annealed)


# --- a tiny run, the report ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("noise") / "tiny.db"
    first = execute(plan(build(NoiseConfig, dict(TINY))), store)
    assert first.ran == first.planned == 22
    return store


def test_tiny_run_is_paired_complete_and_resumable(tiny_store: Path) -> None:
    again = execute(plan(build(NoiseConfig, dict(TINY))), tiny_store)
    assert again.ran == 0 and again.stored_before == 22
    with Store(tiny_store, create=False) as s:
        trials = list(s.trials("noise"))
        curves = s.curves(t["trial_id"] for t in trials)
    assert {t["task"] for t in trials} == {"escape", "ordinary", "gru_adding", "lstm_unique", "one_d"}
    pairing: dict[tuple[str, int], set[str]] = {}
    for t in trials:
        m = t["metrics"]
        assert len(curves[t["trial_id"]]) >= 2 and math.isfinite(m["final_loss"])
        if t["task"] != "one_d":
            pairing.setdefault((t["task"], t["seed"]), set()).add(str(m["pairing"]))
            assert m["saturated"] and all(0 <= v <= 1 for series in m["saturated"].values() for _, v in series)
    assert all(len(v) == 1 for v in pairing.values())  # every arm of a seed: same data, same initial weights
    sat0 = {(t["task"], t["config"]["arm"], t["seed"]): t["metrics"]["saturated"]["1"][0][1]
            for t in trials if t["task"] in ("escape", "ordinary")}
    assert sat0[("escape", "hard_tanh", 0)] > 0.5 > sat0[("ordinary", "nan", 0)]  # the escape init saturates


def _comparable(store: Path) -> dict[str, dict]:
    with Store(store, create=False) as s:
        return {t["trial_id"]: {k: v for k, v in t["metrics"].items() if k != "time"} for t in s.trials()}


def _alone(tmp_path: Path, tiny_store: Path, **backend: Any) -> None:
    small = {**TINY, "experiments": ["escape", "one_d"], "seeds": [1]}
    alone = execute(plan(build(NoiseConfig, dict(small))), tmp_path / "alone.db", **backend)
    assert alone.ran == 5
    both = _comparable(tiny_store)
    for tid, metrics in _comparable(tmp_path / "alone.db").items():
        assert metrics == both[tid]  # same trial id, same numbers: noise, data and init come from the seed


def test_a_trial_does_not_depend_on_its_batch(tmp_path: Path, tiny_store: Path) -> None:
    _alone(tmp_path, tiny_store)


@pytest.mark.slow
def test_a_trial_does_not_depend_on_its_backend(tmp_path: Path, tiny_store: Path) -> None:
    _alone(tmp_path, tiny_store, backend="process", workers=2)


JUDGED_TINY = {"escape-nan", "ordinary-vs-tanh", "gru-noisy-vs-hard", "gru-noisy-faster", "lstm-anneal-vs-constant",
               "one-d-anneal-vs-none", "one-d-anneal-vs-constant"}
"""The claims whose two arms the tiny preset runs."""


def _results(store: Path) -> NoiseResults:
    return results(Stored.load(store, "noise"))


def test_report_section_renders_from_the_tiny_store(tiny_store: Path) -> None:
    from actlab.report import kit, render

    r = _results(tiny_store)
    assert list(r.experiments) == ["escape", "ordinary", "gru_adding", "lstm_unique", "one_d"] and r.trials == 22
    assert set(r.verdicts) == JUDGED_TINY
    assert all(v.verdict == "inconclusive" and v.n == 2 for v in r.verdicts.values())  # two seeds say nothing
    sec = STUDY.section(r)
    assert isinstance(sec, kit.Section) and sec.title == "Noise and saturation" and sec.figure is not None
    assert sec.question and len(sec.answer) == 2
    assert sec.answer[1] == ("Of the 7 claims this store can judge: 7 inconclusive; 2 paired seeds are too few to "
                             "decide (a test needs at least 6).")
    assert sec.answer[0].startswith("In the deep MLP started in saturation, hard_tanh ends at a median final "
                                    "training loss of ")
    html = render.section(sec)
    assert html.count("<img") == 5  # one figure per experiment (the answer's figure opens the report)
    assert "noisy tanh, normal" in html and 'title="noisy_hard_tanh(' in html  # display name, full spec on hover
    assert "Nothing is tuned" in html and "success rate" not in html
    tables = [b for b in sec.blocks if isinstance(b, kit.Table)]
    claims_table = tables[0]
    assert [row[0].text for row in claims_table.rows] == [s.id for s in SPECS]  # type: ignore[union-attr]


def test_claims_read_the_results(tiny_store: Path) -> None:
    from actlab.studies.claims import NOT_RUN, Claim, Evidence

    cs = STUDY.claims()
    assert len(cs) == 12 and all(isinstance(c, Claim) and c.article == "003" and c.section == "noise" for c in cs)
    got = {c.id: c.check(Evidence(results={"noise": _results(tiny_store)})) for c in cs}
    assert {i for i, m in got.items() if m.verdict == "inconclusive"} == JUDGED_TINY
    assert all(m.verdict == NOT_RUN and "lacks the arm" in m.numbers for i, m in got.items() if i not in JUDGED_TINY)
    nan = got["escape-nan"].numbers
    assert nan.startswith("noisy tanh, normal ") and " vs hard_tanh " in nan and nan.endswith(", 2 seeds")
    assert all(c.check(Evidence()).verdict == NOT_RUN for c in cs)  # a store without noise trials


def test_summary_prints_each_experiment_with_its_verdicts(tiny_store: Path) -> None:
    from rich.console import Console

    tables = STUDY.summary(_results(tiny_store))
    assert len(tables) == 5
    console = Console(width=220, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    for t in tables:
        console.print(t)
    text = console.export_text()
    console.file.close()
    assert "success rate" not in text and "0%" not in text  # the single-sample table is gone
    assert "escape-nan: inconclusive — noisy tanh, normal" in text and "final training loss" in text
    assert "one-d-anneal-vs-constant: inconclusive — annealed noise" in text


def test_the_store_written_before_the_packages_still_reports(tiny_store: Path) -> None:
    """store_v0.db ran the tiny preset's configs (same trial ids) with the code before the restructuring: it still
    reports, and today's code gives the same numbers (the data, the initialisation and the noise unchanged)."""
    old, new = _results(FIXTURES / "store_v0.db"), _results(tiny_store)
    assert list(old.experiments) == list(new.experiments) and set(old.verdicts) == JUDGED_TINY
    assert STUDY.section(old) is not None and len(STUDY.summary(old)) == 5
    for exp, e in old.experiments.items():
        for arm, by_seed in e.values["final_loss"].items():
            assert by_seed == pytest.approx(new.experiments[exp].values["final_loss"][arm], rel=1e-5)


def _trial(arm: str, seed: int, steps: int, value: float) -> dict[str, Any]:
    c = {"experiment": "one_d", "arm": arm, "seed": seed, "steps": steps, "noise_on": "parameter",
         "noise_c": 0.0 if arm == "none" else 8.0}
    return {"trial_id": f"{arm}-{seed}-{steps}", "seed": seed, "status": "ok", "created_at": "2026-01-01T00:00:00",
            "config": c, "metrics": {"share_global": value}}


def test_one_setup_per_experiment_is_shown_and_judged() -> None:
    """A store with a short and a longer run of one experiment: the setup with the most trials is shown and judged,
    the other counted; the claim's numbers by hand (means, difference) and by scipy (Wilcoxon)."""
    short = [_trial(arm, s, 100, 0.0) for arm in ("none", "annealed") for s in range(2)]
    long = [_trial("none", s, 1000, 0.2 + 0.01 * s) for s in range(8)]
    long += [_trial("annealed", s, 1000, 0.5 + 0.012 * s) for s in range(8)]
    r = results(Stored("noise", short + long))
    e = r.experiments["one_d"]
    assert e.setting["steps"] == 1000 and e.not_shown == 4 and e.seeds == list(range(8)) and e.arms == ["none",
                                                                                                       "annealed"]
    j = r.verdicts["one-d-anneal-vs-none"]
    d = np.array([0.3 + 0.002 * s for s in range(8)])
    assert j.verdict == "reproduced" and j.n == 8 and j.p_value == pytest.approx(scipy.stats.wilcoxon(d).pvalue)
    assert j.mean_arm == pytest.approx(0.542) and j.mean_reference == pytest.approx(0.235)
    text = numbers(j, e.labels)
    assert text.startswith("annealed noise 0.542 vs no noise 0.235, +0.307 [CI +0.30") and text.endswith(
        f", p = {scipy.stats.wilcoxon(d).pvalue:.2g}, 8 seeds")
    assert "one-d-anneal-vs-constant" not in r.verdicts  # no constant arm stored


# --- the verdict rules on synthetic numbers -------------------------------------------------------
def _values(arms: dict[str, Any]) -> dict[str, dict[int, float]]:
    return {arm: {s: float(v) for s, v in enumerate(values)} for arm, values in arms.items()}


def test_verdict_rules_on_synthetic_numbers() -> None:
    claim = next(c for c in SPECS if c.id == "lstm-anneal-vs-constant")
    rng = np.random.default_rng(0)
    base = rng.uniform(0.5, 0.6, 10)
    v = judged(claim, _values({"annealed": base - 0.05, "constant": base}))
    assert v is not None and v.verdict == "not reproduced"  # the opposite of the claim, every seed
    assert v.p_value == pytest.approx(scipy.stats.wilcoxon(base - 0.05, base).pvalue)
    assert v.diff == pytest.approx(-0.05) and v.ci[0] <= -0.05 <= v.ci[1]
    better = _values({"annealed": base + rng.uniform(0.02, 0.08, 10), "constant": base})
    assert judged(claim, better).verdict == "reproduced"  # type: ignore[union-attr]
    few = _values({"annealed": base[:MIN_PAIRS - 1] + 0.1, "constant": base[:5]})
    assert judged(claim, few).verdict == "inconclusive"  # type: ignore[union-attr]
    # a loss: lower is better, so a lower noisy loss is the claimed direction (the difference keeps its sign)
    loss = next(c for c in SPECS if c.id == "escape-nan")
    lower = judged(loss, _values({"nan": base - 0.2, "hard_tanh": base}))
    assert lower is not None and lower.verdict == "reproduced" and lower.diff == pytest.approx(-0.2)
    assert lower.ci[0] <= -0.2 <= lower.ci[1]
    assert judged(loss, _values({"nan": [1.0]})) is None  # no reference arm stored


def test_noninferiority_and_equivalence_rules() -> None:
    tiny = np.array([0.001, -0.001, 0.0005, -0.0005, 0.0, 0.001, -0.001, 0.0002])
    assert judge("non-inferiority", tiny, 0.01)[0] == "reproduced"
    assert judge("equivalence", tiny, 0.01)[0] == "reproduced"
    assert judge("non-inferiority", tiny - 0.1, 0.01)[0] == "not reproduced"
    assert judge("equivalence", tiny + 0.1, 0.01)[0] == "not reproduced"
    spread = np.array([0.2, -0.3, 0.25, -0.15, 0.1, -0.2, 0.3, -0.25])  # wide: neither side shown
    assert judge("equivalence", spread, 0.01)[0] == "inconclusive"
    assert judge("superiority", np.full(10, 0.001), 0.01)[0] == "reproduced"  # significance is checked first
    assert judge("superiority", np.zeros(10), 0.01)[0] == "not reproduced"  # no advantage beyond the margin


# --- the units against the paper's formulas (written out here, not taken from noisy.py) ---------------
def _paper(x: torch.Tensor, p: torch.Tensor, eps: torch.Tensor, kind: str, alpha: float, c: float,
           mode: str, clip: bool = False) -> torch.Tensor:
    h = (lambda z: z.clamp(-1, 1)) if kind == "tanh" else (lambda z: (0.25 * z + 0.5).clamp(0, 1))
    u = x if kind == "tanh" else 0.25 * x + 0.5
    delta = h(x) - u
    if mode == "output":  # NAN: α·h + (1 − α)·u + d·σ·ε, d = −sgn(x)·sgn(1 − α), σ = c·(sigmoid(p·δ) − 1/2)²
        d = -torch.sign(x) * math.copysign(1.0, 1 - alpha)
        phi = alpha * h(x) + (1 - alpha) * u + d * c * (torch.sigmoid(p * delta) - 0.5) ** 2 * eps
        return phi.clamp(-1 if kind == "tanh" else 0, 1) if clip else phi  # clip: to h's range
    if mode == "input":  # NANI: h(x + σ·ε)
        return h(x + c * (torch.sigmoid(p * delta) - 0.5) ** 2 * eps)
    return h(x + c * torch.nn.functional.softplus(p * delta.abs()) * eps)  # NANIL: σ = c·softplus(p·|δ|)


@pytest.mark.parametrize("kind", ["tanh", "sigmoid"])
@pytest.mark.parametrize("mode", ["output", "input", "input_learned"])
def test_noisy_units_follow_the_paper(kind: str, mode: str) -> None:
    """clip=False is the paper's formula exactly, clip=True (the default) the same clamped to h's range
    (the input modes ignore clip); |x| up to 40 so that α·h + (1 − α)·u leaves that range."""
    import actlab

    x = torch.linspace(-40, 40, 97, dtype=torch.float64)
    gen = torch.Generator().manual_seed(1)
    eps = torch.randn(97, generator=gen, dtype=torch.float64)
    for alpha in (1.15, 0.9):
        for clip in (False, True):
            act = actlab.create(f"noisy_hard_{kind}(alpha={alpha}, c=0.7, noise='normal', mode='{mode}', "
                                f"num_parameters=97, clip={clip})").double()
            p = act.get_parameter("p").detach()
            want = _paper(x, p, eps, kind, alpha, 0.7, mode, clip)
            assert torch.allclose(act.f(x[None], p, eps[None])[0], want, atol=1e-12)
            if mode != "output":
                continue
            # eval with half-normal noise: E|ε| = √(2/π) in the formula (E[φ] itself when clip=False)
            half = actlab.create(f"noisy_hard_{kind}(alpha={alpha}, c=0.7, noise='half_normal', "
                                 f"num_parameters=97, clip={clip})").double().eval()
            hp = half.get_parameter("p").detach()
            mean = torch.full_like(x, math.sqrt(2 / math.pi))
            assert torch.allclose(half(x[None])[0], _paper(x, hp, mean, kind, alpha, 0.7, mode, clip), atol=1e-12)
        if mode == "output":  # the clip changes something here, so the two checks above differ
            assert not torch.allclose(_paper(x, p, eps, kind, alpha, 0.7, mode, True),
                                      _paper(x, p, eps, kind, alpha, 0.7, mode, False))
