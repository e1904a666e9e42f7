"""The results store: schema, atomic batches, resume by trial id, kill -9 safety, export, bad files."""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from actlab.results import SCHEMA_VERSION, Store, StoreError, TrialRecord, trial_id


def record(seed: int, act: str = "tanh", steps: int = 5) -> TrialRecord:
    config = {"study": "demo", "activation": act, "optimizer": "adam", "seed": seed, "lr": 0.01}
    return TrialRecord("demo", "one-sample", act, "adam", seed, config, {"final_loss": 1.0 / (seed + 1)},
                       curve=[(s, 1.0 / (s + 1)) for s in range(steps)])


def test_trial_id_is_a_stable_hash_of_the_resolved_config() -> None:
    a = {"b": 1, "a": [1.5, "x"], "c": {"z": None}}
    assert trial_id(a) == trial_id({"c": {"z": None}, "a": [1.5, "x"], "b": 1})  # key order does not matter
    assert trial_id(a) != trial_id({**a, "b": 2}) and len(trial_id(a)) == 32
    with pytest.raises(TypeError, match="JSON values"):
        trial_id({"x": object()})


def test_write_read_and_resume(tmp_path: Path) -> None:
    path = tmp_path / "results.db"
    with Store(path) as s:
        assert s.write([record(i) for i in range(3)]) == 3
        assert s.write([record(i) for i in range(5)]) == 2  # stored trials are skipped, not duplicated
        assert s.count() == 5 and s.count("demo") == 5
        ids = [record(i).trial_id for i in range(7)]
        assert s.done(ids) == set(ids[:5])
        t = next(s.trials("demo"))
        assert t["config"]["seed"] == 0 and t["metrics"]["final_loss"] == 1.0 and t["status"] == "ok"
        assert s.curve(t["trial_id"]) == [(k, 1.0 / (k + 1)) for k in range(5)]
        many = s.curves(ids)  # a few queries for many trials; unknown ids are simply absent
        assert set(many) == set(ids[:5]) and many[ids[3]] == [(k, 1.0 / (k + 1)) for k in range(5)]
        s.write([record(9, act="relu"), record(10, act="tanh")])
        assert s.distinct("activation") == ["tanh", "relu"] and s.distinct("optimizer", "demo") == ["adam"]
        with pytest.raises(ValueError, match="unknown trials column 'x; DROP'"):
            s.distinct("x; DROP")
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert dict(db.execute("SELECT key, value FROM meta"))["schema_version"] == str(SCHEMA_VERSION)


def test_a_failing_batch_leaves_nothing(tmp_path: Path) -> None:
    with Store(tmp_path / "r.db") as s:
        bad = record(1)
        bad.curve = [(0, "not a number")]  # type: ignore[list-item]
        with pytest.raises(ValueError):
            s.write([record(0), bad])
        assert s.count() == 0


WRITER = """
import sys
from actlab.results import Store, TrialRecord
path = sys.argv[1]
with Store(path) as s:
    for b in range(100000):
        recs = []
        for k in range(50):
            seed = b * 50 + k
            cfg = {"seed": seed}
            curve = [(i, float(i)) for i in range(20)]
            recs.append(TrialRecord("kill", "t", "tanh", "adam", seed, cfg, {"b": b}, curve=curve))
        s.write(recs)
        print(b, flush=True)
"""


def test_kill_minus_9_leaves_a_valid_store_of_whole_batches(tmp_path: Path) -> None:
    path = tmp_path / "kill.db"
    for attempt in range(3):
        with subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True) as p:
            assert p.stdout is not None
            p.stdout.readline()  # at least one batch written
            time.sleep(0.05 * (attempt + 1))
            os.kill(p.pid, signal.SIGKILL)  # at an arbitrary instant, usually inside a transaction
            p.wait()
        with Store(path) as s:
            assert s.integrity() == "ok"
            n = s.count()
            assert n % 50 == 0 and n > 0, n  # whole batches only
            for t in s.trials():
                assert len(s.curve(t["trial_id"])) == 20  # no trial without its curve
        path.unlink()  # next attempt starts fresh


def test_bad_store_files(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(StoreError, match="not an actlab results store"):
        Store(text)
    assert text.read_text() == "hello"  # nothing written
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE x (y)")
    with pytest.raises(StoreError, match="not an actlab results store"):
        Store(other)
    old = tmp_path / "old.db"
    Store(old).close()
    db = sqlite3.connect(old)
    db.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="schema version 999"):
        Store(old)
    with pytest.raises(StoreError, match="no results store"):
        Store(tmp_path / "missing.db", create=False)
    assert not (tmp_path / "missing.db").exists()


def test_export_csv_and_cli(tmp_path: Path) -> None:
    path = tmp_path / "results.db"
    with Store(path) as s:
        s.write([record(i, act) for i, act in enumerate(["tanh", "relu", "snake(a=0.5)"])])
    out = tmp_path / "trials.csv"
    r = subprocess.run([sys.executable, "-m", "actlab", "export", "--store", str(path), "-o", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = out.read_text().splitlines()
    assert lines[0].startswith("# generated by actlab") and "export" in lines[0]
    rows = list(csv.DictReader(lines[1:]))
    assert [row["activation"] for row in rows] == ["tanh", "relu", "snake(a=0.5)"]
    assert rows[2]["config.lr"] == "0.01" and float(rows[1]["metrics.final_loss"]) == 0.5
    for args, message in ((["-o", str(tmp_path / "x.xlsx")], ".csv or .parquet"),
                          (["--store", str(tmp_path / "nope.db"), "-o", str(tmp_path / "y.csv")], "no results store")):
        r = subprocess.run([sys.executable, "-m", "actlab", "export", "--store", str(path), *args],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "nope.db").exists() and not (tmp_path / "y.csv").exists()
