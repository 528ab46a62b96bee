"""Tests of the suite store: round trips, WAL, whole-or-nothing writes, concurrent writers."""

from __future__ import annotations

import math
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parity.errors import ParityInputError
from parity.suite.records import RunKey, RunRecord
from parity.suite.store import RunExistsError, Store, default_store_path


def full_record(key: RunKey, status: str = "ok", **overrides) -> RunRecord:
    values = dict(
        key=key,
        status=status,
        metrics={"return": 12.5, "steps": 100000, "nan_metric": math.nan, "label": "x"},
        files={"metrics.json": "a" * 64, "sub/samples.npz": "b" * 64},
        samples={"actions": [100, 3]},
        out_dir="runs/candidate/t/seed0/rerun0",
        exit_code=0 if status == "ok" else 3,
        started=1_700_000_000.25,
        duration=1.5,
        stderr_tail="line 1\nline 2 ünïcode",
        attempts=2,
        source="run",
    )
    values.update(overrides)
    return RunRecord(**values)


def same(a: RunRecord, b: RunRecord) -> bool:
    """Equality that treats NaN metrics as equal (to_dict writes them as 'nan')."""
    return a.to_dict() == b.to_dict()


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "suite.parity.sqlite") as s:
        yield s


def test_round_trip_keeps_every_field(store):
    record = full_record(RunKey("candidate", "cartpole", 3, 1))
    store.record(record)
    got = store.get(record.key)
    assert same(got, record)
    assert math.isnan(got.metrics["nan_metric"])
    assert got.metrics["steps"] == 100000 and isinstance(got.metrics["steps"], int)
    assert store.keys() == [record.key]
    assert record.key in store and len(store) == 1
    assert store.get(RunKey("candidate", "cartpole", 3, 0)) is None


def test_runs_are_sorted_by_key(store):
    keys = [
        RunKey(system, task, seed, rerun)
        for system in ("reference", "candidate")
        for task in ("walker", "ant")
        for seed in (10, 2)
        for rerun in (1, 0)
    ]
    for key in keys:
        store.record(full_record(key))
    expected = sorted(keys, key=lambda k: (k.system, k.task, k.seed, k.rerun))
    assert [r.key for r in store.runs()] == expected
    assert store.keys() == expected


def test_store_is_in_wal_mode(tmp_path):
    path = tmp_path / "s.parity.sqlite"
    with Store(path) as s:
        assert s.journal_mode == "wal"
    # the mode is persistent: a plain connection sees it too
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_duplicate_key_is_refused_and_replace_keeps_the_old_row(store):
    key = RunKey("candidate", "t", 0)
    store.record(full_record(key, "failed"))
    with pytest.raises(RunExistsError, match=r"already recorded \(status failed\)"):
        store.record(full_record(key, "ok"))
    assert isinstance(RunExistsError("x"), ParityInputError)
    assert store.get(key).status == "failed"
    store.record(full_record(key, "ok", attempts=1), replace=True)
    assert store.get(key).status == "ok" and len(store) == 1
    (old, when), *rest = store.replaced()
    assert not rest and old.status == "failed" and when > 0


def test_delete_and_meta(store):
    key = RunKey("reference", "t", 1)
    store.record(full_record(key), manifest_sha256="f" * 64)
    assert store.manifest_sha256 == "f" * 64
    assert store.manifest_hashes() == {key: "f" * 64}
    assert store.meta()["schema_version"] == "1"
    assert store.delete(key) is True
    assert store.delete(key) is False
    assert store.runs() == []


def test_bad_records_are_refused_whole(store):
    with pytest.raises(ParityInputError, match="status must be one of ok, failed, timeout"):
        store.record(full_record(RunKey("c", "t", 0), "running"))
    with pytest.raises(ParityInputError, match="must be JSON values"):
        store.record(full_record(RunKey("c", "t", 0), metrics={"x": object()}))
    assert len(store) == 0


def test_record_many_is_one_transaction_all_or_nothing(store):
    keys = [RunKey("candidate", "t", s) for s in range(3)]
    store.record(full_record(keys[0], "failed"))
    # a key already recorded and not to be replaced: nothing of the batch is written
    with pytest.raises(RunExistsError, match=r"seed=0.*already recorded \(status failed\)"):
        store.record_many([full_record(k) for k in reversed(keys)])
    assert store.keys() == [keys[0]] and store.get(keys[0]).status == "failed"
    # a malformed record anywhere in the batch: nothing written either
    with pytest.raises(ParityInputError, match="status must be one of"):
        store.record_many([full_record(keys[1]), full_record(keys[2], "running")])
    assert len(store) == 1
    store.record_many([full_record(k) for k in keys], replace={keys[0]}, manifest_sha256="e" * 64)
    assert [r.status for r in store.runs()] == ["ok"] * 3
    assert [old.key for old, _ in store.replaced()] == [keys[0]]
    assert store.manifest_hashes() == dict.fromkeys(keys, "e" * 64)
    store.record_many([])  # nothing to do
    assert len(store) == 3


class CrashBeforeCommit(Store):
    """A store whose commit fails, once armed, after every statement of the transaction ran."""

    armed = False

    def _commit(self):
        if self.armed:
            raise RuntimeError("simulated crash before COMMIT")
        super()._commit()


def test_an_error_before_commit_leaves_nothing_half_written(tmp_path):
    path = tmp_path / "s.parity.sqlite"
    key = RunKey("candidate", "t", 0)
    with Store(path) as s:
        s.record(full_record(key, "failed"))
    with CrashBeforeCommit(path) as s:
        s.armed = True
        with pytest.raises(RuntimeError, match="simulated crash"):
            s.record(full_record(RunKey("candidate", "t", 1)))
        # replacing moves the old row to `replaced`, deletes it and inserts: all or nothing
        with pytest.raises(RuntimeError, match="simulated crash"):
            s.record(full_record(key, "ok"), replace=True, manifest_sha256="e" * 64)
    with Store(path) as s:
        assert [(r.key, r.status) for r in s.runs()] == [(key, "failed")]
        assert s.replaced() == [] and s.manifest_sha256 is None
        s.record(full_record(RunKey("candidate", "t", 1)))  # the store is still usable
        assert len(s) == 2


CRASH_SCRIPT = textwrap.dedent(
    """
    import os, sys
    from parity.suite.records import RunKey, RunRecord
    from parity.suite.store import Store

    class Crash(Store):
        def _commit(self):
            if getattr(self, "armed", False):
                os._exit(9)  # the process dies between the INSERT and the COMMIT
            super()._commit()

    with Store(sys.argv[1]) as s:
        s.record(RunRecord(RunKey("reference", "t", 0), "ok", metrics={"m": 1.0}))
    s = Crash(sys.argv[1])
    s.armed = True
    s.record(RunRecord(RunKey("reference", "t", 0), "failed"), replace=True)
    """
)


def test_a_process_killed_mid_transaction_records_nothing(tmp_path):
    path = tmp_path / "s.parity.sqlite"
    proc = subprocess.run(
        [sys.executable, "-c", CRASH_SCRIPT, str(path)], capture_output=True, timeout=60
    )
    assert proc.returncode == 9, proc.stderr
    with Store(path) as s:
        assert [(r.key.seed, r.status, r.metrics) for r in s.runs()] == [(0, "ok", {"m": 1.0})]
        assert s.replaced() == []
        assert s._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_concurrent_writers_from_threads(tmp_path):
    path = tmp_path / "s.parity.sqlite"
    shared = Store(path)
    errors = []

    def write(worker: int, own_connection: bool) -> None:
        try:
            target = Store(path) if own_connection else shared
            for seed in range(20):
                target.record(full_record(RunKey(f"sys{worker}", "t", seed)))
            if own_connection:
                target.close()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w, w % 2 == 0)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    keys = shared.keys()
    assert len(keys) == 8 * 20 == len(set(keys))
    shared.close()


def test_racing_writers_of_one_key_record_it_once(tmp_path):
    path = tmp_path / "s.parity.sqlite"
    key = RunKey("candidate", "t", 0)
    outcomes = []
    barrier = threading.Barrier(6, timeout=60)  # a writer that dies breaks it: no hang

    def write(i: int) -> None:
        try:
            with Store(path) as s:
                barrier.wait()
                try:
                    s.record(full_record(key, attempts=i + 1))
                    outcomes.append("recorded")
                except RunExistsError:
                    outcomes.append("refused")
        except Exception as exc:
            outcomes.append(repr(exc))
            barrier.abort()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["recorded"] + ["refused"] * 5
    with Store(path) as s:
        assert len(s) == 1


def test_many_openers_of_a_new_store_all_succeed(tmp_path):
    """Opening one new store from several threads at once: the WAL switch and the schema are
    retried while SQLite reports the database locked (it failed about 1 time in 40 before)."""

    def open_it(path, errors) -> None:
        try:
            with Store(path):
                pass
        except Exception as exc:
            errors.append(repr(exc))

    for trial in range(40):
        path, errors = tmp_path / f"s{trial}.parity.sqlite", []
        threads = [threading.Thread(target=open_it, args=(path, errors)) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []


def test_not_a_store_is_an_input_error(tmp_path):
    bogus = tmp_path / "x.parity.sqlite"
    bogus.write_text("this is not sqlite " * 100)
    with pytest.raises(ParityInputError, match="not a parity store"):
        Store(bogus)


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "s.parity.sqlite"
    with Store(path) as s:
        s.set_meta("schema_version", "99")
    with pytest.raises(ParityInputError, match="schema version 99 is newer"):
        Store(path)


def test_default_store_path():
    assert default_store_path(Path("a/b/suite.yaml")) == Path("a/b/suite.parity.sqlite")
    assert default_store_path("x.yml").name == "x.parity.sqlite"


metric_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**53), 2**53),
    st.text(max_size=5),
    st.booleans(),
    st.none(),
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    metrics=st.dictionaries(st.text(min_size=1, max_size=8), metric_values, max_size=5),
    task=st.text(min_size=1, max_size=10),
    seed=st.integers(-(2**31), 2**31),
)
def test_property_round_trip(metrics, task, seed):
    record = RunRecord(RunKey("candidate", task, seed), "ok", metrics=metrics)
    with tempfile.TemporaryDirectory() as d, Store(Path(d) / "s.sqlite") as s:
        s.record(record)
        (got,) = s.runs()
    assert same(got, record)
    for name, value in metrics.items():
        if isinstance(value, float) and not math.isnan(value):
            assert got.metrics[name] == value  # floats come back bit for bit
