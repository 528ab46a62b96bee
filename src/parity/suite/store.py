"""The suite store: one SQLite file (WAL mode) recording each run once.

One row per (system, task, seed, rerun) holds the whole :class:`~parity.suite.records.RunRecord`
(status, timing, exit code, stderr tail, metrics, the sha256 of every result file, the arrays of
``samples.npz``) and the hash of the manifest it was run under. The default file is
``<manifest stem>.parity.sqlite`` beside the manifest (:func:`default_store_path`).

Contracts
---------
* **Whole or nothing.** :meth:`Store.record` writes a run in one transaction (``BEGIN IMMEDIATE``
  … ``COMMIT``), :meth:`Store.record_many` several runs in one; a crash or an error before the
  commit leaves the store as it was, and a committed run survives a ``kill -9`` of the writer
  and a power cut (``synchronous=FULL``: the commit returns once the log is on disk).
* **Once per key.** ``UNIQUE(system, task, seed, rerun)``: recording a key that is already there
  raises :class:`RunExistsError`, unless ``replace=True`` is passed; then the old row is moved to
  the ``replaced`` table (kept for audit: :meth:`Store.replaced`) and the new one takes its place
  in the same transaction. The runner replaces only runs that did not succeed, and only when
  asked (``parity suite run --retry-failed``); an ``ok`` run is never re-run (delete it with
  :meth:`Store.delete` to redo it).
* **Only its own files.** A new store gets SQLite's ``application_id`` ``PRTY``; an existing file
  is first opened read-only and must carry it (or, written by an older parity, hold its
  ``meta`` and ``runs`` tables with a ``schema_version``). Any other file, SQLite or not, is
  refused before anything is written to it: no table added, no journal mode switched.
* **Many writers.** One :class:`Store` may be shared by threads (its connection is guarded by a
  lock); several stores (threads or processes) on one file queue on SQLite's write lock
  (``busy_timeout``). WAL needs a local file system (not NFS).

Examples
--------
>>> import tempfile
>>> from parity.suite.records import RunKey, RunRecord
>>> with tempfile.TemporaryDirectory() as d, Store(f"{d}/suite.parity.sqlite") as store:
...     store.record(RunRecord(RunKey("reference", "cartpole", 0), "ok", metrics={"return": 1.5}))
...     [(r.key.task, r.metrics) for r in store.runs()], store.journal_mode
([('cartpole', {'return': 1.5})], 'wal')
"""

from __future__ import annotations

import json
import operator
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from parity.errors import ParityInputError
from parity.suite.records import RUN_STATUSES, RunKey, RunRecord

SCHEMA_VERSION = 1
STORE_SUFFIX = ".parity.sqlite"
#: SQLite ``application_id`` of a parity store (the bytes ``PRTY``): set when the store is
#: created, checked (read-only) before anything is written to an existing file.
APPLICATION_ID = int.from_bytes(b"PRTY", "big")
_SQLITE_INT = (-(2**63), 2**63 - 1)

_COLUMNS = (
    "system",
    "task",
    "seed",
    "rerun",
    "status",
    "metrics",
    "files",
    "samples",
    "out_dir",
    "exit_code",
    "started",
    "duration",
    "stderr_tail",
    "attempts",
    "source",
    "manifest_sha256",
    "recorded_at",
)
_ROW = """
    system TEXT NOT NULL,
    task TEXT NOT NULL,
    seed INTEGER NOT NULL,
    rerun INTEGER NOT NULL,
    status TEXT NOT NULL,
    metrics TEXT NOT NULL,
    files TEXT NOT NULL,
    samples TEXT NOT NULL,
    out_dir TEXT NOT NULL,
    exit_code INTEGER,
    started REAL,
    duration REAL,
    stderr_tail TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    source TEXT NOT NULL,
    manifest_sha256 TEXT,
    recorded_at REAL NOT NULL
"""
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs ({_ROW},
    UNIQUE (system, task, seed, rerun),
    CHECK (status IN ({", ".join(repr(s) for s in RUN_STATUSES)})));
CREATE TABLE IF NOT EXISTS replaced ({_ROW}, replaced_at REAL NOT NULL);
"""
_KEY_WHERE = "system = ? AND task = ? AND seed = ? AND rerun = ?"


class RunExistsError(ParityInputError):
    """The run's key is already recorded and ``replace`` was not asked for."""


def default_store_path(manifest_path: str | os.PathLike) -> Path:
    """The store beside a manifest: ``<folder>/<manifest stem>.parity.sqlite``.

    Examples
    --------
    >>> default_store_path("suites/atari.yaml").as_posix()
    'suites/atari.parity.sqlite'
    """
    path = Path(manifest_path)
    return path.with_name(path.stem + STORE_SUFFIX)


def _key_tuple(key: RunKey) -> tuple[str, str, int, int]:
    return (key.system, key.task, int(key.seed), int(key.rerun))


def _json(value: Any) -> str:
    # allow_nan: a non-finite metric is kept as found so that validity checks can report it.
    return json.dumps(value, sort_keys=True, allow_nan=True, ensure_ascii=False)


def _retry_while_locked(operation, timeout: float, pause: float = 0.01):
    """Run ``operation``, again while SQLite says the database is locked, up to ``timeout`` s.

    Switching a new file to WAL and creating the schema can fail at once with "database is
    locked" when several processes open the same new store together (the busy handler does not
    cover a journal-mode change); it succeeds once the first opener is done.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            return operation()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)


class Store:
    """A suite's SQLite record of runs; a context manager that closes its connection.

    Parameters
    ----------
    path : str or path-like
        The SQLite file; created (with its folder) when absent.
    timeout : float
        Seconds a writer waits for another writer's transaction before giving up.

    Raises
    ------
    ParityInputError
        When ``path`` is not a parity store (not SQLite, or written by a newer parity).
    """

    def __init__(
        self, path: str | os.PathLike, *, timeout: float = 60.0, create: bool = True
    ) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        exists = self.path.exists()
        if exists or not create:
            self._check_owner(timeout)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise ParityInputError(f"{self.path}: cannot open the store ({exc})") from None
        try:
            if create:
                _retry_while_locked(lambda: self._setup(timeout), timeout)
            else:
                self._conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
                self._check_version()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise ParityInputError(
                f"{self.path}: not a parity store ({exc}); "
                "pass another --store or move this file away"
            ) from None
        except BaseException:
            self._conn.close()
            raise

    def _check_owner(self, timeout: float) -> None:
        """Refuse a file that is not a parity store, reading it only (``mode=ro``)."""
        import stat
        from urllib.parse import quote

        def refuse(why: object) -> str:
            return f"{self.path}: not a parity store ({why}); pass another --store or move it away"

        try:
            info = self.path.stat()
        except FileNotFoundError:
            raise ParityInputError(f"{self.path}: no store here") from None
        except OSError as exc:
            raise ParityInputError(f"{self.path}: cannot open the store ({exc})") from None
        if not stat.S_ISREG(info.st_mode):
            raise ParityInputError(refuse("not a regular file"))
        if info.st_size == 0:
            return  # an empty file: a store being created by another opener, or to create
        uri = f"file:{quote(str(self.path.absolute()))}?mode=ro"
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=timeout)
        except sqlite3.Error as exc:
            raise ParityInputError(f"{self.path}: cannot open the store ({exc})") from None
        try:
            app = conn.execute("PRAGMA application_id").fetchone()[0]
            if app == APPLICATION_ID:
                return
            if app != 0:
                raise ParityInputError(
                    refuse(f"SQLite application_id {app:#x}, not parity's {APPLICATION_ID:#x}")
                )
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if not tables:
                return  # nothing in it yet
            legacy = {"meta", "runs"} <= tables and conn.execute(
                "SELECT 1 FROM meta WHERE key = 'schema_version'"
            ).fetchone()
            if not legacy:
                shown = ", ".join(sorted(tables)[:5]) + (", …" if len(tables) > 5 else "")
                raise ParityInputError(refuse(f"an SQLite file with tables {shown}"))
        except sqlite3.DatabaseError as exc:
            raise ParityInputError(refuse(exc)) from None
        finally:
            conn.close()

    def _setup(self, timeout: float) -> None:
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")  # first: marks it ours
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise sqlite3.DatabaseError(f"cannot switch to WAL mode (got {mode})")
        conn.execute("PRAGMA synchronous = FULL")
        with self._transaction():
            for statement in filter(str.strip, _SCHEMA.split(";")):
                conn.execute(statement)
            found = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if found is None:
                conn.execute(
                    "INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                )
                conn.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('store_id', ?)", (uuid.uuid4().hex,)
                )
            elif int(found[0]) > SCHEMA_VERSION:
                raise ParityInputError(
                    f"{self.path}: store schema version {found[0]} is newer than this parity "
                    f"understands ({SCHEMA_VERSION}); upgrade parity"
                )

    def _check_version(self) -> None:
        found = self._conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if found is None:
            raise sqlite3.DatabaseError("no schema_version in its meta table")
        if int(found[0]) > SCHEMA_VERSION:
            raise ParityInputError(
                f"{self.path}: store schema version {found[0]} is newer than this parity "
                f"understands ({SCHEMA_VERSION}); upgrade parity"
            )

    # ------------------------------------------------------------------ context and plumbing

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (committed runs are already on disk)."""
        with self._lock:
            self._conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``; any exception rolls everything back."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._commit()
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    def _commit(self) -> None:
        self._conn.execute("COMMIT")

    @property
    def journal_mode(self) -> str:
        """SQLite's journal mode of the file (``'wal'``)."""
        with self._lock:
            return str(self._conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()

    # ------------------------------------------------------------------ writing

    def record(
        self, run: RunRecord, *, replace: bool = False, manifest_sha256: str | None = None
    ) -> None:
        """Record a finished run whole, in one transaction.

        Parameters
        ----------
        run : RunRecord
            The run; its ``status`` must be one of ``ok``, ``failed``, ``timeout``.
        replace : bool
            Replace a run already recorded under the same key (the old row is kept in the
            ``replaced`` table). Without it, an existing key raises :class:`RunExistsError`.
        manifest_sha256 : str, optional
            Hash of the manifest the run was made under (see :func:`manifest_digest`); it is
            stored with the row and as the store's current manifest hash.

        Raises
        ------
        RunExistsError
            When the key is recorded already and ``replace`` is false.
        ParityInputError
            When the record is malformed (unknown status, metrics not JSON-serialisable).
        """
        self.record_many(
            [run], replace={run.key} if replace else (), manifest_sha256=manifest_sha256
        )

    def record_many(
        self,
        runs: Iterable[RunRecord],
        *,
        replace: Collection[RunKey] = (),
        manifest_sha256: str | None = None,
    ) -> None:
        """Record several finished runs in one transaction: all of them, or none.

        One commit (one ``fsync``) for all: the runner records the runs that finish close
        together this way. Each run is written as :meth:`record` writes it.

        Parameters
        ----------
        runs : iterable of RunRecord
            The runs, with distinct keys.
        replace : collection of RunKey
            Keys whose recorded run may be replaced (kept in the ``replaced`` table); any other
            key already recorded raises :class:`RunExistsError`, and nothing is written.
        manifest_sha256 : str, optional
            As for :meth:`record`.

        Raises
        ------
        RunExistsError, ParityInputError
            As for :meth:`record`; the transaction is rolled back, so no run is recorded.

        Examples
        --------
        >>> import tempfile
        >>> from parity.suite.records import RunKey, RunRecord
        >>> with tempfile.TemporaryDirectory() as d, Store(f"{d}/s.parity.sqlite") as store:
        ...     store.record_many([RunRecord(RunKey("reference", "t", s), "ok") for s in (0, 1)])
        ...     len(store)
        2
        """
        rows = [(run, self._row(run, manifest_sha256)) for run in runs]
        if not rows:
            return
        with self._transaction() as conn:
            for run, row in rows:
                self._insert(conn, run, row, run.key in replace)
            if manifest_sha256 is not None:
                conn.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('manifest_sha256', ?)", (manifest_sha256,)
                )

    def _insert(self, conn: sqlite3.Connection, run: RunRecord, row: tuple, replace: bool) -> None:
        key = _key_tuple(run.key)
        if replace:
            conn.execute(
                f"INSERT INTO replaced SELECT *, ? FROM runs WHERE {_KEY_WHERE}",
                (time.time(), *key),
            )
            conn.execute(f"DELETE FROM runs WHERE {_KEY_WHERE}", key)
        try:
            conn.execute(
                f"INSERT INTO runs ({', '.join(_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(_COLUMNS))})",
                row,
            )
        except sqlite3.IntegrityError:
            old = conn.execute(f"SELECT status FROM runs WHERE {_KEY_WHERE}", key).fetchone()
            raise RunExistsError(
                f"{self.path}: run {_describe(run.key)} is already recorded "
                f"(status {old[0] if old else '?'}); pass replace=True to replace it"
            ) from None

    def _row(self, run: RunRecord, manifest_sha256: str | None) -> tuple:
        """The SQLite row of ``run``; a seed or rerun outside SQLite's integer range is an input
        error."""
        for name in ("seed", "rerun"):
            value = getattr(run.key, name)
            try:
                number = operator.index(value)
            except TypeError:
                number = None
            if number is None or not _SQLITE_INT[0] <= number <= _SQLITE_INT[1]:
                raise ParityInputError(
                    f"{self.path}: run {_describe(run.key)}: {name} must be an integer in "
                    f"[-2**63, 2**63 - 1] (an SQLite INTEGER); got {value!r}"
                )
        if run.status not in RUN_STATUSES:
            raise ParityInputError(
                f"{self.path}: run {_describe(run.key)}: status must be one of "
                f"{', '.join(RUN_STATUSES)}; got {run.status!r}"
            )
        try:
            payload = [_json(dict(run.metrics)), _json(dict(run.files)), _json(dict(run.samples))]
        except (TypeError, ValueError) as exc:
            raise ParityInputError(
                f"{self.path}: run {_describe(run.key)}: metrics, files and samples must be "
                f"JSON values ({exc})"
            ) from None
        return (
            *_key_tuple(run.key),
            run.status,
            *payload,
            str(run.out_dir),
            run.exit_code,
            run.started,
            run.duration,
            run.stderr_tail,
            int(run.attempts),
            run.source,
            manifest_sha256,
            time.time(),
        )

    def delete(self, key: RunKey) -> bool:
        """Forget a run (so that the next ``parity suite run`` redoes it); True if it was there."""
        with self._transaction() as conn:
            cursor = conn.execute(f"DELETE FROM runs WHERE {_KEY_WHERE}", _key_tuple(key))
            return cursor.rowcount > 0

    def set_meta(self, name: str, value: str) -> None:
        """Set one ``meta`` entry (for example ``manifest_sha256``)."""
        with self._transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (name, str(value)))

    # ------------------------------------------------------------------ reading

    def _select(self, table: str, where: str = "", args: tuple = ()) -> list[sqlite3.Row]:
        extra = ", replaced_at" if table == "replaced" else ""
        with self._lock:
            cur = self._conn.execute(
                f"SELECT {', '.join(_COLUMNS)}{extra} FROM {table} {where} "
                "ORDER BY system, task, seed, rerun" + (", replaced_at" if extra else ""),
                args,
            )
            return cur.fetchall()

    @staticmethod
    def _record(row: tuple) -> RunRecord:
        values = dict(zip(_COLUMNS, row, strict=False))
        return RunRecord(
            key=RunKey(values["system"], values["task"], values["seed"], values["rerun"]),
            status=values["status"],
            metrics=json.loads(values["metrics"]),
            files=json.loads(values["files"]),
            samples=json.loads(values["samples"]),
            out_dir=values["out_dir"],
            exit_code=values["exit_code"],
            started=values["started"],
            duration=values["duration"],
            stderr_tail=values["stderr_tail"],
            attempts=values["attempts"],
            source=values["source"],
        )

    def runs(self) -> list[RunRecord]:
        """Every recorded run, sorted by key (system, task, seed, rerun)."""
        return [self._record(row) for row in self._select("runs")]

    def keys(self) -> list[RunKey]:
        """The recorded keys, sorted."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT system, task, seed, rerun FROM runs ORDER BY system, task, seed, rerun"
            ).fetchall()
        return [RunKey(*row) for row in rows]

    def get(self, key: RunKey) -> RunRecord | None:
        """The run recorded under ``key``, or None."""
        rows = self._select("runs", f"WHERE {_KEY_WHERE}", _key_tuple(key))
        return self._record(rows[0]) if rows else None

    def __contains__(self, key: object) -> bool:
        return isinstance(key, RunKey) and self.get(key) is not None

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0])

    def replaced(self) -> list[tuple[RunRecord, float]]:
        """Runs that were replaced (``--retry-failed``), each with the time it was replaced."""
        return [(self._record(row[:-1]), row[-1]) for row in self._select("replaced")]

    def manifest_hashes(self) -> dict[RunKey, str | None]:
        """The manifest hash each recorded run was made under."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT system, task, seed, rerun, manifest_sha256 FROM runs"
            ).fetchall()
        return {RunKey(*row[:4]): row[4] for row in rows}

    def meta(self) -> dict[str, str]:
        """The store's ``meta`` entries (``schema_version``, ``manifest_sha256``)."""
        with self._lock:
            return dict(self._conn.execute("SELECT key, value FROM meta").fetchall())

    def store_id(self) -> str:
        """The store's identity (a random hex id made with it; kept when the file moves).

        A store written by an older parity gets one now."""
        found = self.meta().get("store_id")
        if found is None:
            with self._transaction() as conn:
                conn.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('store_id', ?)", (uuid.uuid4().hex,)
                )
            found = self.meta()["store_id"]
        return found

    @property
    def manifest_sha256(self) -> str | None:
        """Hash of the manifest the store was last written under, or None."""
        return self.meta().get("manifest_sha256")


def manifest_digest(manifest: Any) -> str:
    """sha256 of a validated manifest's canonical JSON: formatting and comments do not count.

    Examples
    --------
    >>> from parity.suite.manifest import parse_manifest
    >>> spec = {"name": "demo", "tasks": ["a"], "seeds": [0],
    ...         "systems": {"reference": {"results": "r/{task}/{seed}"},
    ...                     "candidate": {"results": "c/{task}/{seed}"}},
    ...         "metrics": {"m": {"margin": {"absolute": 1}}}}
    >>> len(manifest_digest(parse_manifest(spec)))
    64
    """
    import hashlib

    text = json.dumps(manifest.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _describe(key: RunKey) -> str:
    return f"(system={key.system}, task={key.task}, seed={key.seed}, rerun={key.rerun})"
