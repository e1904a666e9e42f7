"""The results store: one SQLite file (WAL mode), written by the driver process only.

Each batch of finished trials is written in one transaction, so a run killed at any instant
(kill -9 included) leaves a valid database holding whole batches only: no partial trial, no
trial without its curve, no duplicate. A trial's id is a hash of its fully resolved config,
so re-running a study finds what is already stored and skips it. The schema is documented in
docs/results.md; its version is stored in the `meta` table and checked on every open.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
APPLICATION = "actlab-results"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
    trial_id     TEXT PRIMARY KEY,
    study        TEXT NOT NULL,
    task         TEXT NOT NULL,
    activation   TEXT NOT NULL,
    optimizer    TEXT NOT NULL,
    seed         INTEGER NOT NULL,
    status       TEXT NOT NULL,
    config_json  TEXT NOT NULL,
    metrics_json TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS trials_by_cell ON trials (study, task, activation, optimizer);
CREATE TABLE IF NOT EXISTS curves (
    trial_id TEXT NOT NULL REFERENCES trials (trial_id),
    step     INTEGER NOT NULL,
    value    REAL NOT NULL,
    PRIMARY KEY (trial_id, step)
) WITHOUT ROWID;
"""

COLUMNS = ("trial_id", "study", "task", "activation", "optimizer", "seed", "status", "config_json",
           "metrics_json", "created_at")


class StoreError(ValueError):
    """An unreadable, foreign or incompatible store file, or a bad export request (bad input: CLI exit 2).

    Defined here rather than in core.errors because results sits below core in the layers."""


def trial_id(config: dict[str, Any]) -> str:
    """A stable id from the fully resolved trial config: sha256 of its canonical JSON, 32 hex digits."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), allow_nan=False, default=_reject)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _reject(value: object) -> Any:
    raise TypeError(f"a trial config holds only JSON values; got {type(value).__name__} {value!r}")


@dataclass
class TrialRecord:
    """One finished trial: its resolved config, its metrics and (optionally) a downsampled curve."""

    study: str
    task: str
    activation: str
    optimizer: str
    seed: int
    config: dict[str, Any]
    metrics: dict[str, Any]
    curve: Sequence[tuple[int, float]] = field(default_factory=list)
    status: str = "ok"

    @property
    def trial_id(self) -> str:
        return trial_id(self.config)


class Store:
    """Open (or create) a results store. Use as a context manager, or call `close()`."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if not self.path.exists() and not create:
            raise StoreError(f"no results store at {self.path}")
        if self.path.exists() and not self.path.is_file():
            raise StoreError(f"{self.path} is not a file")
        if self.path.exists() and self.path.stat().st_size > 0 and not _is_sqlite(self.path):
            raise StoreError(f"{self.path} is not an actlab results store (not an SQLite file)")
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        if fresh:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            if fresh:
                self._initialise()
            else:
                self._check()
        except sqlite3.DatabaseError as e:
            raise StoreError(f"cannot read {self.path} as a results store: {e}") from None

    # --- lifecycle ----------------------------------------------------------------
    def _initialise(self) -> None:
        with self._transaction():  # executescript would commit early: one statement at a time
            for statement in filter(str.strip, _SCHEMA.split(";")):
                self._db.execute(statement)
            self._db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [
                ("application", APPLICATION), ("schema_version", str(SCHEMA_VERSION)),
                ("created_at", _now()),
            ])

    def _check(self) -> None:
        tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"meta", "trials", "curves"} <= tables:
            raise StoreError(f"{self.path} is an SQLite file but not an actlab results store")
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("application") != APPLICATION:
            raise StoreError(f"{self.path} is an SQLite file but not an actlab results store")
        version = meta.get("schema_version")
        if version != str(SCHEMA_VERSION):
            raise StoreError(f"{self.path} has results schema version {version}; this actlab reads version "
                             f"{SCHEMA_VERSION} (export it with the actlab that wrote it, or use a new store)")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing -------------------------------------------------------------------
    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    def write(self, records: Iterable[TrialRecord]) -> int:
        """Store one batch atomically; trials already stored are left as they are. Returns the count added."""
        rows: list[tuple[Any, ...]] = []
        curves: list[tuple[str, int, float]] = []
        now = _now()
        for r in records:
            tid = r.trial_id
            rows.append((tid, r.study, r.task, r.activation, r.optimizer, int(r.seed), r.status,
                         json.dumps(r.config, sort_keys=True), json.dumps(r.metrics, sort_keys=True), now))
            curves.extend((tid, int(step), float(value)) for step, value in r.curve)
        with self._transaction():
            before = self._db.total_changes
            self._db.executemany(f"INSERT OR IGNORE INTO trials ({', '.join(COLUMNS)}) VALUES "
                                 f"({', '.join('?' * len(COLUMNS))})", rows)
            added = self._db.total_changes - before
            self._db.executemany("INSERT OR IGNORE INTO curves (trial_id, step, value) VALUES (?, ?, ?)", curves)
        return added

    def add_run(self, command: str, study: str) -> None:
        """Record a run (actlab version, command, study, date) in `meta`, for reports' headers."""
        from actlab._version import __version__

        with self._transaction():
            row = self._db.execute("SELECT value FROM meta WHERE key = 'runs'").fetchone()
            runs = json.loads(row[0]) if row else []
            runs.append({"actlab": __version__, "command": command, "study": study, "date": _now()})
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('runs', ?)", (json.dumps(runs),))

    # --- reading -------------------------------------------------------------------
    def runs(self) -> list[dict[str, Any]]:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'runs'").fetchone()
        return list(json.loads(row[0])) if row else []

    def done(self, ids: Iterable[str]) -> set[str]:
        """The ids among `ids` already stored with status 'ok' (what a resumed run skips)."""
        wanted = list(ids)
        found: set[str] = set()
        for i in range(0, len(wanted), 900):
            chunk = wanted[i:i + 900]
            q = f"SELECT trial_id FROM trials WHERE status = 'ok' AND trial_id IN ({', '.join('?' * len(chunk))})"
            found.update(r[0] for r in self._db.execute(q, chunk))
        return found

    def count(self, study: str | None = None) -> int:
        q, args = ("SELECT COUNT(*) FROM trials", ()) if study is None else (
            "SELECT COUNT(*) FROM trials WHERE study = ?", (study,))
        return int(self._db.execute(q, args).fetchone()[0])

    def trials(self, study: str | None = None) -> Iterator[dict[str, Any]]:
        """Every trial as a dict (config and metrics decoded), in insertion order."""
        q = f"SELECT {', '.join(COLUMNS)} FROM trials" + (" WHERE study = ?" if study else "") + " ORDER BY rowid"
        for row in self._db.execute(q, (study,) if study else ()):
            d = dict(zip(COLUMNS, row))
            d["config"], d["metrics"] = json.loads(d.pop("config_json")), json.loads(d.pop("metrics_json"))
            yield d

    def curve(self, tid: str) -> list[tuple[int, float]]:
        return self.curves([tid]).get(tid, [])

    def curves(self, ids: Iterable[str]) -> dict[str, list[tuple[int, float]]]:
        """The curves of many trials, read in a few queries (not one per trial)."""
        wanted = list(ids)
        out: dict[str, list[tuple[int, float]]] = {}
        for i in range(0, len(wanted), 900):
            chunk = wanted[i:i + 900]
            q = (f"SELECT trial_id, step, value FROM curves WHERE trial_id IN ({', '.join('?' * len(chunk))}) "
                 "ORDER BY trial_id, step")
            for tid, s, v in self._db.execute(q, chunk):
                out.setdefault(tid, []).append((int(s), float(v)))
        return out

    def distinct(self, column: str, study: str | None = None) -> list[str]:
        """The distinct values of a trials column, in order of first appearance."""
        if column not in COLUMNS:
            raise ValueError(f"unknown trials column {column!r}; allowed: {', '.join(COLUMNS)}")
        where = " WHERE study = ?" if study else ""
        q = f"SELECT {column} FROM trials{where} GROUP BY {column} ORDER BY MIN(rowid)"
        return [r[0] for r in self._db.execute(q, (study,) if study else ())]

    def integrity(self) -> str:
        return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, rolled back on any error."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(16) == b"SQLite format 3\x00"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
