"""Stores nobody expected: truncated, random bytes, a newer schema, a read-only directory, two runs
writing at once, Ctrl-C during a report. Each ends in one clear line and exit 2 (or works), and
nothing is written to a file that is refused, and nothing stored is lost."""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from actlab.results import Store, StoreError, TrialRecord
from actlab.studies.registry import resolve

TINY = ["--set", 'activations=["tanh"]', "--set", "seeds=2", "--set", "steps=10", "--quiet"]
"""A real single-sample run of 56 trials in about a second (plus the start of Python)."""


def actlab(*args: str, user: list[str] | None = None, env: dict[str, str] | None = None,
           cwd: str | None = None) -> subprocess.CompletedProcess:
    """`actlab ARGS` in a subprocess (as `user`, a privilege-dropping prefix, if given)."""
    return subprocess.run([*(user or []), sys.executable, "-m", "actlab", *args], capture_output=True, text=True,
                          timeout=300, env=env, cwd=cwd)


def one_line_error(r: subprocess.CompletedProcess, *words: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("actlab: error: ") and "Traceback" not in r.stderr, r.stderr
    for w in words:
        assert w in lines[0], lines[0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


@pytest.fixture(scope="module")
def real_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store written by a real `actlab run` (closed cleanly: no -wal beside it)."""
    path = tmp_path_factory.mktemp("real") / "results.db"
    r = actlab("run", "single-sample", "--quick", *TINY, "--store", str(path))
    assert r.returncode == 0, r.stderr
    return path


def copy_of(store: Path, folder: Path, name: str = "results.db") -> Path:
    out = folder / name
    shutil.copyfile(store, out)
    return out


# --- damaged files ---------------------------------------------------------------------------------
@pytest.mark.parametrize("keep", [0.5, 0.9, 50 / 122880])
def test_truncated_store(real_store: Path, tmp_path: Path, keep: float) -> None:
    path = copy_of(real_store, tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: max(1, int(len(data) * keep))])
    before, files = digest(path), siblings(path)
    for create in (False, True):
        with pytest.raises(StoreError, match="truncated"):
            Store(path, create=create)
    if keep == 0.5:  # the command line once (each is a new Python)
        one_line_error(actlab("report", "--store", str(path), "-o", str(tmp_path / "out.html")), "truncated")
        one_line_error(actlab("run", "single-sample", "--quick", *TINY, "--store", str(path)), "truncated")
        one_line_error(actlab("export", "--store", str(path), "-o", str(tmp_path / "t.csv")), "truncated")
    assert digest(path) == before and siblings(path) == files  # nothing written, nothing beside it


def test_overwritten_pages_are_a_damaged_store(real_store: Path, tmp_path: Path) -> None:
    path = copy_of(real_store, tmp_path)
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[page:] = os.urandom(len(data) - page)  # every page but the first (the schema survives)
    path.write_bytes(bytes(data))
    before = digest(path)
    r = actlab("report", "--store", str(path), "-o", str(tmp_path / "out.html"))
    one_line_error(r, "damaged")
    assert digest(path) == before and not (tmp_path / "out.html").exists()


@pytest.mark.parametrize("head", [b"", b"SQLite format 3\x00"])
def test_random_bytes(tmp_path: Path, head: bytes) -> None:
    path = tmp_path / "results.db"
    path.write_bytes(head + os.urandom(5000))
    before = digest(path)
    for create in (False, True):
        with pytest.raises(StoreError, match="not an actlab results store|damaged"):
            Store(path, create=create)
    if not head:
        one_line_error(actlab("run", "single-sample", "--quick", *TINY, "--store", str(path)), "not an SQLite file")
        one_line_error(actlab("report", "--store", str(path)), "not an SQLite file")
    assert digest(path) == before and siblings(path) == ["results.db"]


def test_a_store_from_a_newer_schema_is_refused_untouched(real_store: Path, tmp_path: Path) -> None:
    path = copy_of(real_store, tmp_path)
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    db.commit()
    db.execute("PRAGMA journal_mode=DELETE")  # a foreign journal mode: switching it back would be a write
    db.close()
    before = digest(path)
    with pytest.raises(StoreError, match="schema version 2"):
        Store(path)
    one_line_error(actlab("run", "single-sample", "--quick", *TINY, "--store", str(path)), "schema version 2")
    one_line_error(actlab("report", "--store", str(path)), "schema version 2")
    assert digest(path) == before and siblings(path) == ["results.db"]
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_an_empty_file_is_a_new_store_only_for_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "results.db"
    path.touch()
    with pytest.raises(StoreError, match="is empty"):
        Store(path, create=False)
    assert path.stat().st_size == 0
    with Store(path) as s:
        assert s.count() == 0


def test_a_plan_reads_an_empty_file_as_a_store_being_created(tmp_path: Path) -> None:
    """The window in which another `actlab run` has created the file but not yet its tables."""
    from actlab.studies.runner import plan_summary
    path = tmp_path / "results.db"
    path.touch()
    study, cfg = resolve("single-sample", [], quick=True)
    batches = study.plan(cfg)
    summary = plan_summary(batches, path)
    assert summary.stored == 0 and summary.todo == summary.trials > 0
    assert path.stat().st_size == 0  # a plan writes nothing


def test_a_store_path_under_a_file(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    r = actlab("run", "single-sample", "--quick", *TINY, "--store", str(tmp_path / "notes.txt" / "results.db"))
    one_line_error(r, "is not a directory")
    assert (tmp_path / "notes.txt").read_text() == "x"


# --- permissions -------------------------------------------------------------------------------------
def _other_user() -> list[str] | None:
    """How to run a command as someone who cannot write a folder we chmod: nothing when we are not
    root; as root (where chmod does not block writes) `setpriv` to nobody; None if neither works."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    user = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    probe = subprocess.run([*user, sys.executable, "-c", "import actlab"], capture_output=True, timeout=120,
                           cwd="/")
    return user if probe.returncode == 0 else None


@pytest.fixture
def read_only_dir(real_store: Path) -> Iterator[tuple[Path, Path, list[str]]]:
    """(a folder nobody may write holding a copy of the store, a folder anyone may write, how to run as
    someone bound by the permissions). Under /tmp: pytest's own folders are private to root."""
    user = _other_user()
    if user is None:
        pytest.skip("running as root, where chmod does not stop writes, and no `setpriv` to run as nobody")
    top = Path(tempfile.mkdtemp(prefix="actlab-ro-"))
    try:
        ro, rw = top / "ro", top / "rw"
        ro.mkdir()
        rw.mkdir()
        copy_of(real_store, ro)
        ro.chmod(0o555)
        rw.chmod(0o777)
        top.chmod(0o755)
        yield ro, rw, user
    finally:
        (top / "ro").chmod(0o755)
        shutil.rmtree(top)


def test_read_only_directory(read_only_dir: tuple[Path, Path, list[str]]) -> None:
    ro, rw, user = read_only_dir
    store = ro / "results.db"
    before = digest(store)
    env = {**os.environ, "HOME": str(rw), "MPLCONFIGDIR": str(rw / "mpl")}  # nobody's home is not /root
    as_user = functools.partial(actlab, user=user, env=env, cwd="/")

    # a new store there: refused, nothing created
    r = as_user("run", "single-sample", "--quick", *TINY, "--store", str(ro / "new.db"))
    one_line_error(r, "cannot be written here")
    # resuming the stored run with more seeds: refused, the store as it was
    r = as_user("run", "single-sample", "--quick", *TINY, "--set", "seeds=3", "--store", str(store))
    one_line_error(r, "cannot be written here")
    # the report next to the store: refused; elsewhere: the store is read as it is on disk
    one_line_error(as_user("report", "--store", str(store)), "cannot write the report")
    r = as_user("report", "--store", str(store), "-o", str(rw / "report.html"))
    assert r.returncode == 0, r.stderr
    assert (rw / "report.html").stat().st_size > 10_000
    r = as_user("run", "single-sample", "--quick", *TINY, "--dry-run", "--store", str(store))
    assert r.returncode == 0 and "56 already in" in r.stdout, r.stderr
    assert digest(store) == before and siblings(store) == ["results.db"]


# --- two writers --------------------------------------------------------------------------------------
def test_two_runs_on_one_store_at_once(tmp_path: Path) -> None:
    """Two real `actlab run` processes on a new store: created once, no duplicate, no lost batch."""
    path = tmp_path / "shared.db"
    sets = ["--set", 'activations=["tanh", "relu"]', "--set", 'optimizers=["adam", "sgd"]', "--set", "seeds=3",
            "--set", "steps=20", "--set", "batch_size=2", "--quiet"]
    for round_ in range(2):  # a new store, then both resuming it with more seeds
        extra = ["--set", "seeds=5"] if round_ else []
        cmd = [sys.executable, "-m", "actlab", "run", "single-sample", "--quick", *sets, *extra, "--store", str(path)]
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        errs = [p.communicate(timeout=600)[1] for p in procs]
        for p, err in zip(procs, errs):
            assert p.returncode == 0, err
        study, cfg = resolve("single-sample", [v for v in sets + extra if v not in ("--set", "--quiet")], quick=True)
        planned = {t.id for b in study.plan(cfg) for t in b.trials}
        with Store(path, create=False) as s:
            assert s.integrity() == "ok"
            ids = [t["trial_id"] for t in s.trials()]
            assert len(ids) == len(set(ids)) == len(planned) and set(ids) == planned  # none twice, none lost
            curves = s.curves(ids)
            assert all(len(curves[i]) == len(curves[ids[0]]) > 0 for i in ids)  # every trial with its whole curve
            assert len(s.runs()) == 2 * (round_ + 1)  # both runs recorded: no lost update of `meta`


# --- Ctrl-C -------------------------------------------------------------------------------------------
def test_ctrl_c_during_report_leaves_no_partial_file(real_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "site" / "report.html"
    out.parent.mkdir()
    out.write_text("the old report")
    p = subprocess.Popen([sys.executable, "-m", "actlab", "report", "--store", str(real_store), "-o", str(out)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not any(q.name.startswith(".actlab-report-") for q in out.parent.iterdir()):  # rendering has begun
        assert p.poll() is None and time.monotonic() < deadline, p.communicate()
        time.sleep(0.02)
    time.sleep(0.3)
    p.send_signal(signal.SIGINT)
    stdout, stderr = p.communicate(timeout=120)
    assert p.returncode == 130, (p.returncode, stderr)
    assert stderr.strip().splitlines() == ["actlab: interrupted"] and stdout == ""
    assert siblings(out) == ["report.html"] and out.read_text() == "the old report"  # no partial file, old kept


def test_ctrl_c_exits_130_even_after_an_interrupt_escaped_embedded_code(tmp_path: Path) -> None:
    """Under `python -m`, CPython ends a process by SIGINT (status −2) when a KeyboardInterrupt once escaped code
    run through PyRun_String (a Ctrl-C inside a library's embedded call during an import), whatever status it
    chose: 10 of 60 interrupted reports ended −2 before actlab cleared that flag. Here the flag is set on
    purpose, then a command is interrupted."""
    (tmp_path / "interrupted_cli.py").write_text(
        "import ctypes\n"
        "import actlab.cli.main as cli\n"
        "ctypes.pythonapi.PyRun_SimpleString(b'raise KeyboardInterrupt')  # the flag, as an embedded call leaves it\n"
        "def app(**kwargs):\n"
        "    raise KeyboardInterrupt\n"
        "cli.app = app\n"
        "cli.main()\n")
    r = subprocess.run([sys.executable, "-m", "interrupted_cli"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 130, (r.returncode, r.stderr)
    assert r.stderr.strip().splitlines()[-1] == "actlab: interrupted"


def test_an_error_after_a_swallowed_ctrl_c_is_still_an_interruption(real_store: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A Ctrl-C caught inside some library's import leaves a half-imported module that fails later
    (seen: sympy's `module 'sympy' has no attribute 'core'`): exit 130, the old report kept."""
    from actlab.cli import main as cli_main
    from actlab.cli import report_cmd

    def render(*args: object, **kwargs: object) -> Path:
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
        except KeyboardInterrupt:
            pass  # what a guarded import does with it
        raise AttributeError("module 'halfway' has no attribute 'core'")

    monkeypatch.setattr(report_cmd, "write_report", render)
    out = tmp_path / "report.html"
    out.write_text("the old report")
    monkeypatch.setattr(sys, "argv", ["actlab", "report", "--store", str(real_store), "-o", str(out)])
    with pytest.raises(SystemExit) as exit_:
        cli_main.main()
    assert exit_.value.code == 130
    assert siblings(out) == ["report.html"] and out.read_text() == "the old report"


# --- library level ------------------------------------------------------------------------------------
def test_non_finite_metrics_are_stored_as_standard_json(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    config = {"study": "demo", "seed": 0}
    with Store(path) as s:
        s.write([TrialRecord("demo", "t", "tanh", "adam", 0, config, {"loss": float("nan"), "w": [float("inf"), 1.0]})])
        (t,) = s.trials()
        assert t["metrics"] == {"loss": None, "w": [None, 1.0]}
    # SQLite's own JSON functions read it (they refuse NaN and Infinity)
    assert sqlite3.connect(path).execute("SELECT json_extract(metrics_json, '$.w[1]') FROM trials").fetchone() == (1.0,)


def test_a_writer_waits_for_another_writers_transaction(tmp_path: Path) -> None:
    """Not 'database is locked': the second writer waits (busy timeout) and then writes."""
    import threading

    path = tmp_path / "r.db"
    Store(path).close()
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another run in the middle of storing a batch
    threading.Timer(1.0, lambda: other.execute("COMMIT")).start()
    config = {"study": "demo", "seed": 1}
    start = time.monotonic()
    with Store(path) as s:
        assert s.write([TrialRecord("demo", "t", "tanh", "adam", 1, config, {"loss": 0.5})]) == 1
    assert time.monotonic() - start >= 0.9
    other.close()
