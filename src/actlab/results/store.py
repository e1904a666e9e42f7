"""The results store: one SQLite file (WAL mode), written by the driver process only.

Each batch of finished trials is written in one transaction, so a run killed at any instant
(kill -9 included) leaves a valid database holding whole batches only: no partial trial, no
trial without its curve, no duplicate. A trial's id is a hash of its fully resolved config,
so re-running a study finds what is already stored and skips it. The schema is documented in
docs/results.md; its version is stored in the `meta` table and checked on every open.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import math
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
APPLICATION = "actlab-results"
BUSY_TIMEOUT = 60.0
"""Seconds a writer waits for another process's transaction (two runs may share one store)."""

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

    @functools.cached_property
    def trial_id(self) -> str:
        """The config's id (computed once: a record's config is not changed after it is made)."""
        return trial_id(self.config)


class Store:
    """Open (or create) a results store. Use as a context manager, or call `close()`.

    `create=False` opens an existing store for reading: a store in a directory this process may not
    write (where SQLite cannot make its WAL index) is read as it is on disk. Every problem with the
    file itself — missing, foreign, damaged or truncated, another schema version, not writable,
    locked for longer than BUSY_TIMEOUT — is a StoreError with one line saying which; nothing is
    written to a file that is refused."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        self.read_only = False
        if self.path.exists():
            if not self.path.is_file():
                raise StoreError(f"{self.path} is not a file")
            problem = _file_problem(self.path, empty_ok=create)
            if problem:
                raise StoreError(f"{self.path} {problem}")
        elif not create:
            raise StoreError(f"no results store at {self.path}")
        else:
            _make_parent(self.path)
        with self._errors("open"):
            self._db = self._connect(create)
            try:
                if create:
                    self._initialise()
                self._check()
                if create:
                    self._db.execute("PRAGMA journal_mode=WAL")  # after the checks: a refused file stays as it was
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute("PRAGMA foreign_keys=ON")
            except BaseException:
                self._db.close()
                raise

    def _connect(self, create: bool) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT)
        if create:
            return db
        try:
            db.execute("SELECT name FROM sqlite_master LIMIT 1").fetchall()
            return db
        except sqlite3.OperationalError as e:
            db.close()
            if _kind(e) != "readonly":
                raise
        # a WAL store in a directory we cannot write: no writer can change it either, so read it as it is
        self.read_only = True
        return sqlite3.connect(self.path.resolve().as_uri() + "?mode=ro&immutable=1", uri=True,
                               isolation_level=None)

    @contextlib.contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """SQLite's complaints about the file (damaged, not writable, locked, disk) as one-line StoreErrors;
        anything else (an SQL mistake in this module) stays the bug it is."""
        try:
            yield
        except sqlite3.DatabaseError as e:
            kind = _kind(e)
            if kind is None:
                raise
            raise StoreError(f"cannot {doing} {self.path}: {_WHY[kind]} (sqlite: {e})") from None
        except json.JSONDecodeError as e:
            raise StoreError(f"cannot {doing} {self.path}: a row holds text that is not JSON ({e})") from None

    # --- lifecycle ----------------------------------------------------------------
    def _tables(self) -> set[str]:
        return {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def _initialise(self) -> None:
        """Create the schema in a file with no tables; under the write lock, so two processes creating
        one store at once make it once."""
        if self._tables():
            return
        with self._transaction():  # executescript would commit early: one statement at a time
            if self._tables():
                return  # another process created it while we waited for the lock
            for statement in filter(str.strip, _SCHEMA.split(";")):
                self._db.execute(statement)
            self._db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [
                ("application", APPLICATION), ("schema_version", str(SCHEMA_VERSION)),
                ("created_at", _now()),
            ])

    def _check(self) -> None:
        if not {"meta", "trials", "curves"} <= self._tables():
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
        """Store one batch atomically; trials already stored are left as they are. Returns the count added.

        The rows are built first, then written by two `executemany` calls in one transaction: a trial
        another run stored meanwhile is ignored (INSERT OR IGNORE), with its curve."""
        rows: list[tuple[Any, ...]] = []
        curves: list[tuple[str, int, float]] = []
        now = _now()
        by_id = []
        for r in records:
            tid = r.trial_id
            rows.append((tid, r.study, r.task, r.activation, r.optimizer, int(r.seed), r.status,
                         _json(r.config), _json(r.metrics), now))
            by_id.append((tid, r.curve))
        by_id.sort(key=itemgetter(0))  # curves in key order: SQLite's B-tree fills pages in sequence (~20 % faster)
        for tid, curve in by_id:
            curves += [(tid, int(step), float(value)) for step, value in curve]
        # every curve row belongs to a trial row inserted (or already stored) in the same transaction, so the
        # foreign-key lookup per curve point (~15 % of the write) is skipped here; SQLite cannot switch it inside
        # a transaction, so it is switched around it
        self._db.execute("PRAGMA foreign_keys=OFF")
        try:
            with self._errors("write to"), self._transaction():
                before = self._db.total_changes
                self._db.executemany(f"INSERT OR IGNORE INTO trials ({', '.join(COLUMNS)}) VALUES "
                                     f"({', '.join('?' * len(COLUMNS))})", rows)
                added = self._db.total_changes - before
                self._db.executemany("INSERT OR IGNORE INTO curves (trial_id, step, value) VALUES (?, ?, ?)", curves)
        finally:
            self._db.execute("PRAGMA foreign_keys=ON")
        return added

    def add_run(self, command: str, study: str) -> None:
        """Record a run (actlab version, command, study, date) in `meta`, for reports' headers."""
        from actlab._version import __version__

        with self._errors("write to"), self._transaction():
            row = self._db.execute("SELECT value FROM meta WHERE key = 'runs'").fetchone()
            runs = json.loads(row[0]) if row else []
            runs.append({"actlab": __version__, "command": command, "study": study, "date": _now()})
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('runs', ?)", (json.dumps(runs),))

    # --- reading -------------------------------------------------------------------
    def runs(self) -> list[dict[str, Any]]:
        with self._errors("read"):
            row = self._db.execute("SELECT value FROM meta WHERE key = 'runs'").fetchone()
            return list(json.loads(row[0])) if row else []

    def done(self, ids: Iterable[str]) -> set[str]:
        """The ids among `ids` already stored with status 'ok' (what a resumed run skips)."""
        wanted = list(ids)
        found: set[str] = set()
        with self._errors("read"):
            for i in range(0, len(wanted), 900):
                chunk = wanted[i:i + 900]
                q = f"SELECT trial_id FROM trials WHERE status = 'ok' AND trial_id IN ({', '.join('?' * len(chunk))})"
                found.update(r[0] for r in self._db.execute(q, chunk))
        return found

    def count(self, study: str | None = None) -> int:
        q, args = ("SELECT COUNT(*) FROM trials", ()) if study is None else (
            "SELECT COUNT(*) FROM trials WHERE study = ?", (study,))
        with self._errors("read"):
            return int(self._db.execute(q, args).fetchone()[0])

    def trials(self, study: str | None = None) -> Iterator[dict[str, Any]]:
        """Every trial as a dict (config and metrics decoded), in insertion order."""
        q = f"SELECT {', '.join(COLUMNS)} FROM trials" + (" WHERE study = ?" if study else "") + " ORDER BY rowid"
        with self._errors("read"):
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
        with self._errors("read"):
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
        with self._errors("read"):
            return [r[0] for r in self._db.execute(q, (study,) if study else ())]

    def integrity(self) -> str:
        """SQLite's `PRAGMA integrity_check`: 'ok', or what is wrong."""
        with self._errors("read"):
            return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, rolled back on any error."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


_WHY = {
    "damaged": "the file is damaged (truncated or overwritten?); restore it from a copy or use a new store",
    "readonly": "it cannot be written here (check the permissions of the file and of its directory)",
    "locked": f"another process kept it locked for more than {BUSY_TIMEOUT:g} s",
    "disk": "a disk error (is the disk full?)",
}
_CODES = {"SQLITE_IOERR_SHORT_READ": "damaged", "SQLITE_CORRUPT": "damaged", "SQLITE_NOTADB": "damaged",
          "SQLITE_READONLY": "readonly", "SQLITE_CANTOPEN": "readonly", "SQLITE_PERM": "readonly",
          "SQLITE_AUTH": "readonly", "SQLITE_BUSY": "locked", "SQLITE_LOCKED": "locked", "SQLITE_FULL": "disk",
          "SQLITE_IOERR": "disk"}
"""SQLite's error names (and their extended forms, SQLITE_READONLY_DBMOVED ...) → a key of _WHY."""
_MESSAGES = {"malformed": "damaged", "not a database": "damaged", "readonly": "readonly",
             "unable to open": "readonly", "locked": "locked", "disk": "disk"}


def _kind(e: sqlite3.Error) -> str | None:
    """Which problem with the file an SQLite error is (a key of _WHY), or None for any other error."""
    name = getattr(e, "sqlite_errorname", None)  # Python ≥ 3.11: SQLITE_READONLY_DBMOVED, ...
    if name:
        return next((kind for code, kind in _CODES.items() if name == code or name.startswith(code + "_")), None)
    return next((kind for text, kind in _MESSAGES.items() if text in str(e)), None)


def _file_problem(path: Path, *, empty_ok: bool) -> str | None:
    """What is wrong with an existing store file before SQLite sees it, from its 100-byte header.

    A truncated copy is caught here (file shorter than the pages its header declares); with a
    `-wal` file beside it another process may be mid-checkpoint, so SQLite's own checks decide."""
    size = path.stat().st_size
    if size == 0:
        return None if empty_ok else "is empty: not an actlab results store"
    with path.open("rb") as f:
        head = f.read(100)
    if not head.startswith(b"SQLite format 3\x00"):
        return "is not an actlab results store (not an SQLite file)"
    if len(head) < 100:
        return "is damaged: truncated inside its 100-byte header"
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    if page < 512 or page & (page - 1):
        return "is damaged: its header holds no valid page size"
    pages, counter, valid_for = (int.from_bytes(head[i:i + 4], "big") for i in (28, 24, 92))
    wal = path.with_name(path.name + "-wal")
    if pages and counter == valid_for and size < pages * page and not wal.exists():
        return (f"is truncated: {size:,} bytes of the {pages * page:,} its header declares "
                "(restore it from a copy or use a new store)")
    return None


def _make_parent(path: Path) -> None:
    """The directory of a new store, created if missing; a StoreError if it cannot be."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise StoreError(f"cannot create {path}: {path.parent} is not a directory") from None
    except OSError as e:
        raise StoreError(f"cannot create {path}: {e.strerror} ({path.parent})") from None


def _json(value: dict[str, Any]) -> str:
    """Standard JSON for the store (SQL's json_extract reads it): a non-finite number is null. Most values
    hold none, and are written as they are; only one that does is walked (`_finite`)."""
    try:
        return json.dumps(value, sort_keys=True, allow_nan=False)
    except ValueError:
        return json.dumps(_finite(value), sort_keys=True, allow_nan=False)


def _finite(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _finite(u) for k, u in v.items()}
    if isinstance(v, (list, tuple)):
        return [_finite(u) for u in v]
    return v


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
