"""The study conformance suite: every registered study passes every check, on its tiny preset (as
scikit-learn's `parametrize_with_checks` does for estimators). A study that registers gets these tests.

Each check is one test, with the study's name in its id. The studies are those of `registry.studies()`
(built-in and entry points) and the tiny third-party study of `tests/tiny_study/` ("slope"), registered
in-process with `registry.registered` for its checks; subprocesses and process-pool workers find it
through a temporary `actlab.studies` entry point. The run-based checks share two tiny stores per study
(module-scoped), so the whole file takes a few seconds per study.

Every study runs here on its `presets/<name>-tiny.toml` (the smallest meaningful run: seconds).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import math
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.table import Table as RichTable

import tiny_study
from actlab.report import kit, render
from actlab.report.names import display
from actlab.results.store import Store
from actlab.studies import registry
from actlab.studies.plan import Batch
from actlab.studies.protocol import Stored, Study
from actlab.studies.runner import RunSummary, estimated_plan, execute, plan_summary, run_batch, run_study

TESTS = Path(__file__).parent
THIRD_PARTY = tiny_study.STUDY

WALL_CLOCK = re.compile(r"(^|_)(time|times|seconds|elapsed|wall)($|_)")
"""Metric keys that hold measured durations (not results): left out of every comparison."""
HONEST = 1.0
"""Seconds below which a run is too short to compare with its estimate (fixed costs dominate)."""
QUICK_BUDGET = 8.0
"""Seconds of the quick preset's batches run where the tiny run is too short to judge."""
ROUNDING = 1e-5
"""Where the same trial runs in a batch of another size or on another backend (another matmul kernel,
another thread count), its floats may round differently: equal within this, relative (and absolute).
The same batches in the same process must give the same bits."""
ABSURD = 10**9
PLAN_TIMEOUT = 30


# --- the study under test ---------------------------------------------------------------------------
@dataclass
class Case:
    study: Study
    preset: Path
    """Its tiny preset."""
    env: dict[str, str]
    """The environment of the study's subprocesses (the third-party study's entry point on PYTHONPATH)."""

    @property
    def name(self) -> str:
        return self.study.name

    def config(self, *sets: str) -> Any:
        return registry.resolve(str(self.preset), list(sets))[1]

    def batches(self, *sets: str) -> list[Batch]:
        return self.study.plan(self.config(*sets))

    def execute(self, store: Path, **how: Any) -> RunSummary:
        """The tiny preset run into `store`: its plan, and a staged study's every next stage."""
        return run_study(self.study, self.config(), store, **how)

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "actlab", *args], capture_output=True, text=True,
                              timeout=timeout, env=self.env)


def entry_point(folder: Path, study: Study = THIRD_PARTY) -> Path:
    """A temporary installed distribution whose `actlab.studies` entry point names `tiny_study:STUDY`."""
    info = folder / "actlab_slope_study-0.1.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: actlab-slope-study\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[actlab.studies]\n{study.name} = tiny_study:STUDY\n")
    return folder


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return entry_point(tmp_path_factory.mktemp("plugin"))


def _env(*paths: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*map(str, paths), *filter(None, [env.get("PYTHONPATH")])])
    return env


NAMES = [*registry.studies(), THIRD_PARTY.name]


@pytest.fixture(scope="module", params=NAMES)
def case(request: pytest.FixtureRequest, plugin_path: Path) -> Iterator[Case]:
    name = request.param
    third = name == THIRD_PARTY.name
    with registry.registered(THIRD_PARTY) if third else contextlib.nullcontext():
        s = registry.study(name)
        tiny = s.preset(f"{name}-tiny.toml")
        assert tiny.is_file(), f"study {name} ships no presets/{tiny.name} (the smallest meaningful run)"
        yield Case(s, tiny, _env(plugin_path, TESTS) if third else dict(os.environ))


@dataclass
class Runs:
    batches: list[Batch]
    first: Path
    second: Path
    estimate: float
    """plan_summary's seconds for the first run (an empty store)."""
    measured: float
    """execute's seconds for the second run: a warm process, as every batch of a long run but its first (the
    estimate leaves out a process's one-time imports, which depend on what ran before in it)."""


@pytest.fixture(scope="module")
def runs(case: Case, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """The tiny preset run twice, into two stores."""
    folder = tmp_path_factory.mktemp(case.name)
    estimate = plan_summary(estimated_plan(case.study, case.config()), folder / "first.db").seconds
    first = case.execute(folder / "first.db")
    assert first.ran == first.planned == sum(len(b) for b in first.plan)
    second = case.execute(folder / "second.db")
    return Runs(first.plan, folder / "first.db", folder / "second.db", estimate, second.seconds)


# --- helpers ------------------------------------------------------------------------------------------
def results_of(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metrics.items() if not WALL_CLOCK.search(k)}


def stored(path: Path, study: str) -> dict[str, dict[str, Any]]:
    """trial id → its metrics less wall-clock keys."""
    with Store(path, create=False) as s:
        return {t["trial_id"]: results_of(t["metrics"]) for t in s.trials(study)}


def same(a: Any, b: Any, rel: float = 0.0) -> bool:
    """Equal; floats bit for bit (nan equals nan), or within `rel` (relative, and as much absolute)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=rel, abs_tol=rel)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k], rel) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y, rel) for x, y in zip(a, b))
    return bool(a == b)


def differences(a: dict[str, dict[str, Any]], b: dict[str, dict[str, Any]], rel: float = 0.0) -> list[str]:
    out = [f"{tid}: only in one" for tid in a.keys() ^ b.keys()]
    for tid in a.keys() & b.keys():
        for key in a[tid].keys() | b[tid].keys():
            if not same(a[tid].get(key), b[tid].get(key), rel):
                out.append(f"{tid} {key}: {a[tid].get(key)!r} != {b[tid].get(key)!r}")
    return sorted(out)


def absurd(case: Case, key: str) -> str:
    """`key=10**9`, or `key=[10**9]` where the key holds a list."""
    value = getattr(case.config(), key)
    return f"{key}=[{ABSURD}]" if isinstance(value, (list, tuple)) else f"{key}={ABSURD}"


# --- results do not depend on how they are run ------------------------------------------------------
def test_same_seed_same_config_same_metrics(case: Case, runs: Runs) -> None:
    a, b = stored(runs.first, case.name), stored(runs.second, case.name)
    assert len(a) == sum(len(x) for x in runs.batches)
    assert differences(a, b) == []


def test_a_trial_alone_equals_the_trial_in_its_batch(case: Case, runs: Runs) -> None:
    """The last trial of each batch (of up to six batches spread over the plan) run as a batch of its own."""
    many = [b for b in runs.batches if len(b) > 1]
    assert many, f"{case.preset.name}: every batch holds one trial; batch independence cannot be checked"
    picked = many if len(many) <= 6 else [many[round(i * (len(many) - 1) / 5)] for i in range(6)]
    inside = stored(runs.first, case.name)
    for batch in picked:
        trial = batch.trials[-1]
        (record,) = run_batch(Batch(batch.study, [trial]))
        assert record.trial_id == trial.id
        alone = {trial.id: results_of(record.metrics)}
        assert differences(alone, {trial.id: inside[trial.id]}, ROUNDING) == [], f"trial {trial.id} ({trial.task})"


def test_process_backend_gives_the_local_results(case: Case, runs: Runs, tmp_path: Path,
                                                 plugin_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if case.study is THIRD_PARTY:  # a spawned worker finds a study by name: through the entry point
        monkeypatch.syspath_prepend(str(plugin_path))
    out = case.execute(tmp_path / "process.db", backend="process", workers=2)
    assert out.ran == out.planned
    assert differences(stored(tmp_path / "process.db", case.name), stored(runs.first, case.name), ROUNDING) == []


@pytest.fixture(scope="module")
def ray_cluster(plugin_path: Path) -> Iterator[Any]:
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'actlab[ray]')")
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                 runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(map(str, (plugin_path, TESTS)))}})
    yield ray
    ray.shutdown()


def test_ray_backend_gives_the_local_results(case: Case, runs: Runs, tmp_path: Path, ray_cluster: Any) -> None:
    out = case.execute(tmp_path / "ray.db", backend="ray")
    assert out.ran == out.planned
    assert differences(stored(tmp_path / "ray.db", case.name), stored(runs.first, case.name), ROUNDING) == []


# --- resume after a kill --------------------------------------------------------------------------------
SLOW_BATCHES = """
import sys, time
import actlab.studies.runner as runner
from actlab.cli.main import main
run = runner.run_batch
def slow(*a, **k):
    time.sleep(0.4)
    return run(*a, **k)
runner.run_batch = slow
sys.argv = ["actlab", *sys.argv[1:]]
main()
"""
"""The CLI with every batch 0.4 s slower, so that a kill lands between the first batch stored and the last."""


def count(path: Path) -> int:
    try:
        with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=1)) as db:
            return int(db.execute("SELECT COUNT(*) FROM trials").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_a_run_killed_midway_resumes_to_exactly_the_plan(case: Case, runs: Runs, tmp_path: Path) -> None:
    planned = sorted(t.id for b in runs.batches for t in b.trials)
    assert len(runs.batches) >= 2, f"{case.preset.name} plans one batch: no run can be killed between batches"
    store = tmp_path / "killed.db"
    log = tmp_path / "killed.log"
    with log.open("w") as err, subprocess.Popen([sys.executable, "-c", SLOW_BATCHES, "run", str(case.preset), "--store",
                                                 str(store), "-q"], stdout=subprocess.DEVNULL, stderr=err,
                                                env=case.env) as child:
        try:
            end = time.monotonic() + 120
            while child.poll() is None and count(store) == 0 and time.monotonic() < end:
                time.sleep(0.01)
            assert child.poll() is None, f"the run ended before it could be killed: {log.read_text()[-2000:]}"
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.kill()
    before = count(store)
    assert 0 < before < len(planned), "the kill did not land between the first batch stored and the last"
    again = case.run("run", str(case.preset), "--store", str(store), "-q")
    assert again.returncode == 0, again.stderr
    assert f"{len(planned) - before} trials run, {before} already stored" in again.stdout
    with Store(store, create=False) as s:
        ids = [t["trial_id"] for t in s.trials()]
        assert s.integrity() == "ok"
    assert sorted(ids) == planned  # exactly the planned trials, each once


# --- bad input: one line, exit 2, nothing written; absurd sizes refused before anything runs --------------
REFUSALS = """
import contextlib, io, json, resource, signal, sys
from pathlib import Path
limit = 4 << 30  # an absurd size that is allocated, not refused, fails here instead of filling the machine
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from actlab.cli.main import main
from actlab.studies.config import ConfigError
from actlab.studies.registry import resolve
from actlab.studies.runner import admit

def expired(signum, frame):
    raise TimeoutError
signal.signal(signal.SIGALRM, expired)

def cli(argv, store):
    err, std = io.StringIO(), io.StringIO()
    code = None
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
            sys.argv = ["actlab", *argv]
            main()
    except SystemExit as e:
        code = e.code
    return {"code": code, "stderr": err.getvalue(), "stdout": std.getvalue(), "store": Path(store).exists()}

def plan(preset, sets):
    study, cfg = resolve(preset, sets)
    try:
        batches = study.plan(cfg)
    except ConfigError as e:
        return {"refused": "plan", "message": str(e)}
    try:
        admit(study.name, cfg, batches)
    except ConfigError as e:
        return {"refused": "admit", "message": str(e)}
    return {"refused": None, "memory": max((study.cost(b).memory for b in batches), default=0)}

cases, seconds, out = json.loads(sys.argv[1]), int(sys.argv[2]), []
for kind, *args in cases:
    signal.alarm(seconds)
    try:
        out.append(cli(*args) if kind == "cli" else plan(*args))
    except ConfigError as e:
        out.append({"refused": "config", "message": str(e)})
    except TimeoutError:
        out.append({"timeout": True})
    except Exception as e:
        out.append({"error": f"{type(e).__name__}: {e}"[:500]})
    finally:
        signal.alarm(0)
print(json.dumps(out))
"""
"""Many command lines through the CLI's `main()` (what the `actlab` script calls) and many plans through
`resolve`, `plan` and `runner.admit`, in one process under a 4 GiB address-space limit; each case's exit
code, stderr and whether it wrote its store, or how its plan was refused; a case that does not finish
within PLAN_TIMEOUT s says so."""


@pytest.fixture(scope="module")
def refusals(case: Case, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    folder = tmp_path_factory.mktemp(f"{case.name}-refusals")
    lines = {"nonsense": ["--set", "nonsense=1"], "bad value": ["--set", "seeds=-3"],
             "bad type": ["--set", 'seeds="many"'], "dry run": ["--dry-run"]}
    lines |= {f"cli {key}": ["--set", absurd(case, key), "--dry-run"] for key in case.study.size_keys}
    todo: list[list[Any]] = [["cli", ["run", str(case.preset), *extra, "--store", str(folder / f"{i}.db")],
                              str(folder / f"{i}.db")] for i, extra in enumerate(lines.values())]
    todo += [["plan", str(case.preset), [absurd(case, key)]] for key in case.study.size_keys]
    names = [*lines, *(f"plan {key}" for key in case.study.size_keys)]
    r = subprocess.run([sys.executable, "-c", REFUSALS, json.dumps(todo), str(PLAN_TIMEOUT)], capture_output=True,
                       text=True, timeout=PLAN_TIMEOUT * len(todo) + 60, env=case.env)
    assert r.returncode == 0, f"exit {r.returncode}: {r.stderr[-3000:]}"
    return dict(zip(names, json.loads(r.stdout.splitlines()[-1])))


@pytest.mark.parametrize("line", ["nonsense", "bad value", "bad type"])
def test_bad_config_exits_2_with_one_line_naming_what_is_allowed(case: Case, refusals: dict[str, Any],
                                                                 line: str) -> None:
    r = refusals[line]
    assert r.get("code") == 2, r
    (message,) = r["stderr"].strip().splitlines()
    assert message.startswith("actlab: error: ") and "Traceback" not in r["stderr"]
    key = "nonsense" if line == "nonsense" else "seeds"
    assert key in message, message
    if line == "nonsense":
        assert "allowed" in message and "seeds" in message, message  # the allowed keys are listed
    else:
        assert "expected" in message or "allowed" in message, message
    assert not r["store"], "a refused run wrote a store"


def test_every_size_key_refuses_an_absurd_value_before_anything_runs(case: Case, refusals: dict[str, Any]) -> None:
    """`key=10**9` (or `[10**9]`): refused by the config, the plan or `runner.admit` (a ConfigError naming the
    key), and by `actlab run --dry-run` (exit 2, one line naming the key), within PLAN_TIMEOUT s each."""
    assert case.study.size_keys, f"study {case.name} names no size_keys"
    problems = []
    for key in case.study.size_keys:
        line, p, c = absurd(case, key), refusals[f"plan {key}"], refusals[f"cli {key}"]
        if not p.get("refused"):
            problems.append(f"{line}: {p}" if "memory" not in p else
                            f"{line}: planned and admitted (largest batch about {p['memory']:,} bytes)")
        elif key not in p["message"]:
            problems.append(f"{line}: refused by the {p['refused']} without naming {key}: {p['message']}")
        lines = c.get("stderr", "").strip().splitlines()
        if c.get("code") != 2 or len(lines) != 1 or key not in lines[0]:
            problems.append(f"actlab run ... --set {line} --dry-run: {c}")
    assert problems == [], "\n".join(problems)


def test_dry_run_prints_the_plan_and_writes_nothing(case: Case, refusals: dict[str, Any], runs: Runs) -> None:
    r = refusals["dry run"]
    trials = sum(len(b) for b in estimated_plan(case.study, case.config()))
    assert sum(len(b) for b in runs.batches) <= trials  # a staged study's later stages: at most their rules' sizes
    assert r.get("code") in (0, None), r
    assert f"study {case.name}: {trials} trials" in r["stdout"] and "estimated time about" in r["stdout"], r["stdout"]
    assert not r["store"]


def test_estimated_time_is_within_half_of_the_measured(case: Case, runs: Runs, tmp_path: Path) -> None:
    """plan_summary's seconds against execute's, ±50 %. A tiny run shorter than HONEST seconds is too short
    to judge (fixed costs dominate it): the quick preset's batches are run instead, one `execute` each, in
    plan order until QUICK_BUDGET seconds are spent, and the estimate of the batches run is compared."""
    estimate, measured, what = runs.estimate, runs.measured, case.preset.name
    if measured < HONEST:
        quick = case.study.plan(registry.resolve(case.name, [], quick=True)[1])
        estimate = measured = 0.0
        done = 0
        while done < len(quick) and measured < QUICK_BUDGET:
            estimate += plan_summary([quick[done]], tmp_path / "quick.db").seconds
            measured += execute([quick[done]], tmp_path / "quick.db").seconds
            done += 1
        what = f"{case.name}-quick.toml, its first {done} of {len(quick)} batches"
    assert 0.5 * measured <= estimate <= 1.5 * measured, \
        f"{what}: estimated {estimate:.2f} s, measured {measured:.2f} s"


# --- what the report and the terminal show --------------------------------------------------------------
@pytest.fixture(scope="module")
def results(case: Case, runs: Runs) -> Any:
    with Store(runs.first, create=False) as s:  # open while results() runs, closed for section and summary
        return case.study.results(Stored(case.name, list(s.trials(case.name)), s))


def test_section_has_a_title_a_question_and_a_computed_answer(case: Case, results: Any, runs: Runs) -> None:
    sec = case.study.section(results)
    assert isinstance(sec, kit.Section), f"section() returned {type(sec).__name__}, not a kit.Section"
    assert sec.title.strip() and sec.question.strip().endswith("?"), (sec.title, sec.question)
    assert sec.answer and all(a.strip() for a in sec.answer), sec.answer
    with Store(runs.first, create=False) as s:
        names = {display(a) for a in s.distinct("activation", case.name)} | set(s.distinct("activation", case.name))
    answer = " ".join(sec.answer)
    assert re.search(r"\d", answer) or any(n in answer for n in names), \
        f"the answer names no number and no activation of the store: {answer!r}"
    html = render.section(sec)
    assert html.startswith("<section") and render.text(sec.title) in html and render.text(sec.answer[0]) in html
    assert "<script" not in html


def test_summary_prints_through_rich(case: Case, results: Any) -> None:
    tables = case.study.summary(results)
    assert tables and all(isinstance(t, RichTable) for t in tables), tables
    out = io.StringIO()
    console = Console(file=out, width=160)
    for t in tables:
        console.print(t)
    assert out.getvalue().strip()


# --- the tiny third-party study, installed through an entry point -----------------------------------------
def test_a_study_installed_through_an_entry_point_runs_and_reports(tmp_path: Path) -> None:
    env = _env(entry_point(tmp_path / "site"), TESTS)
    store = tmp_path / "runs" / "results.db"

    def actlab(*args: str) -> subprocess.CompletedProcess:
        r = subprocess.run([sys.executable, "-m", "actlab", *args], capture_output=True, text=True, timeout=120,
                           env=env)
        assert r.returncode == 0, r.stderr
        return r

    planned = sum(len(b) for b in THIRD_PARTY.plan(registry.resolve(str(THIRD_PARTY.preset("slope-tiny.toml")),
                                                                    [])[1]))
    dry = actlab("run", "slope-tiny.toml", "--dry-run", "--store", str(store))
    assert f"study slope: {planned} trials" in dry.stdout and not store.exists()
    ran = actlab("run", "slope-tiny.toml", "--store", str(store), "-q")
    assert f"slope: {planned} trials run" in ran.stdout and "fits of y = a·x" in ran.stdout
    actlab("report", "--store", str(store), "-o", str(tmp_path / "report.html"))
    page = (tmp_path / "report.html").read_text()
    assert tiny_study.results.TITLE in page and "Which activation lets gradient descent fit a line fastest?" in page


def test_the_registry_lists_an_entry_point_study_once(plugin_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(plugin_path))
    assert registry.study("slope") is THIRD_PARTY
    with registry.registered(THIRD_PARTY):  # the same object twice is one study
        assert list(registry.studies()).count("slope") == 1
        other = dataclasses.replace(THIRD_PARTY, question="Another question?")
        with registry.registered(other), pytest.raises(ValueError, match="two studies are registered as 'slope'"):
            registry.studies()
