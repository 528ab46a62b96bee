"""Tests of the suite runner: tiny Python scripts as systems, results patterns, timeouts that
kill the process group, retries, failure reasons, resume, clean stops, local and Dask executors,
and the status of a suite."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import pickle
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from parity.errors import ParityInputError
from parity.suite.executors import DaskExecutor, DaskStopFlag, LocalExecutor, make_executor
from parity.suite.ingest import read_results_path
from parity.suite.records import RunKey, RunRecord
from parity.suite.runner import (
    NullReporter,
    RunJob,
    ingest_suite,
    render_command,
    run_folder,
    run_suite,
    safe_name,
    store_lock,
    suite_status,
)
from parity.suite.store import Store, default_store_path
from processes import wait_dead

# A system: behaves according to the task name. argv: task seed rerun out
SYSTEM = r"""
import json, os, signal, subprocess, sys, time
task, seed, rerun, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def metrics(**values):
    with open(os.path.join(out, "metrics.json"), "w") as fh:
        json.dump(values, fh)
with open(os.path.join(out, "pid"), "w") as fh:
    fh.write(str(os.getpid()))
if task == "fail":
    print("boom: something broke", file=sys.stderr)
    sys.exit(3)
elif task == "nometrics":
    print("forgot the metrics", file=sys.stderr)
elif task == "badjson":
    open(os.path.join(out, "metrics.json"), "w").write("{not json")
elif task == "list":
    open(os.path.join(out, "metrics.json"), "w").write("[1, 2]")
elif task == "segv":
    os.kill(os.getpid(), signal.SIGSEGV)
elif task == "badnpz":
    metrics(score=1.0)
    open(os.path.join(out, "samples.npz"), "wb").write(b"not a zip")
elif task == "sleep":
    time.sleep(float(os.environ.get("SLEEP", "30")))
    metrics(score=1.0)
elif task == "spawn":
    child = subprocess.Popen([sys.executable, "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"])
    open(os.path.join(out, "child_pid"), "w").write(str(child.pid))
    time.sleep(60)
elif task == "flaky":
    mark = os.path.join(os.getcwd(), f"flaky-{os.environ['PARITY_SYSTEM']}-{seed}")
    if not os.path.exists(mark):
        open(mark, "w").close()
        sys.exit(1)
    metrics(score=2.0)
elif task == "broken-if-flag":
    if os.path.exists("BROKEN"):
        sys.exit(5)
    metrics(score=3.0)
elif task == "env":
    metrics(myvar=float(os.environ["MYVAR"]), seed=float(os.environ["PARITY_SEED"]))
else:
    import numpy as np
    np.savez(os.path.join(out, "samples.npz"), actions=np.full((4, 2), seed, dtype=float))
    os.makedirs(os.path.join(out, "extra"), exist_ok=True)
    open(os.path.join(out, "extra", "task.txt"), "w").write(task)
    metrics(score=seed + rerun / 10, steps=100)
"""


def command() -> str:
    return f"{shlex.quote(sys.executable)} system.py {{task}} {{seed}} {{rerun}} {{out}}"


def write_suite(folder: Path, tasks, seeds=(0,), *, systems=None, **extra) -> Path:
    """A manifest in ``folder`` whose systems run the SYSTEM script."""
    (folder / "system.py").write_text(SYSTEM)
    spec = {
        "name": "test-suite",
        "tasks": list(tasks),
        "seeds": list(seeds),
        "systems": systems
        or {"reference": {"command": command()}, "candidate": {"command": command()}},
        "metrics": {"score": {"margin": {"absolute": 1.0}}},
        **extra,
    }
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------------
# command systems


def test_command_runs_end_to_end_and_resume_does_nothing_more(tmp_path):
    manifest = write_suite(tmp_path, ["ok", "with space"], seeds=[0, 1], reruns=2)
    result = run_suite(manifest, workers=4)
    assert result.exit_code == 0
    assert result.counts() == {"ok": 16, "failed": 0, "timeout": 0, "missing": 0}
    assert len(result.new) == 16 and result.already == 0 and not result.interrupted

    with Store(default_store_path(manifest)) as store:
        records = {r.key: r for r in store.runs()}
        assert store.journal_mode == "wal"
    assert set(records) == set(result.expected)
    rec = records[RunKey("candidate", "ok", 1, 1)]
    assert rec.status == "ok" and rec.exit_code == 0 and rec.attempts == 1
    assert rec.source == "run" and rec.duration > 0 and abs(rec.started - time.time()) < 120
    assert rec.metrics == {"score": 1.1, "steps": 100}
    assert rec.out_dir == "runs/candidate/ok/seed1/rerun1"
    out = tmp_path / rec.out_dir
    assert set(rec.files) == {"metrics.json", "samples.npz", "extra/task.txt", "pid"}
    assert all(rec.files[name] == sha256(out / name) for name in rec.files)
    assert rec.samples == {"actions": [4, 2]}
    # the task name with a space reached the command as one argument
    spaced = records[RunKey("reference", "with space", 0, 0)]
    assert (tmp_path / spaced.out_dir / "extra" / "task.txt").read_text() == "with space"
    assert spaced.out_dir == run_folder("runs", spaced.key).as_posix()
    assert "with_space-" in spaced.out_dir  # a file-safe folder name
    # stdout/stderr logs and the lock live beside the run folder, not in it
    assert (out.parent / "rerun1.stderr.txt").is_file()

    again = run_suite(manifest, workers=4)
    assert again.new == [] and again.already == 16 and again.exit_code == 0
    with Store(default_store_path(manifest)) as store:
        assert len(store) == 16


def test_failures_are_recorded_with_their_reason(tmp_path):
    manifest = write_suite(
        tmp_path,
        ["fail", "nometrics", "badjson", "list", "badnpz", "segv"],
        systems={"reference": {"command": command()}, "candidate": {"command": command()}},
    )
    result = run_suite(manifest, workers=4)
    assert result.exit_code == 1
    by_task = {r.key.task: r for r in result.new if r.key.system == "candidate"}
    assert all(r.status == "failed" for r in result.new)
    fail = by_task["fail"]
    assert fail.exit_code == 3
    assert fail.stderr_tail.splitlines() == [
        "boom: something broke",
        "parity: the command exited with code 3",
    ]
    assert by_task["nometrics"].exit_code == 0
    assert by_task["nometrics"].stderr_tail.startswith("forgot the metrics")
    assert "metrics.json: file not found" in by_task["nometrics"].stderr_tail
    assert "metrics.json: not valid JSON" in by_task["badjson"].stderr_tail
    assert "must be a JSON object of metric name → number; got list" in (
        by_task["list"].stderr_tail
    )
    assert "samples.npz: not a readable .npz file" in by_task["badnpz"].stderr_tail
    segv = by_task["segv"]
    assert segv.exit_code is not None and segv.exit_code != 0
    assert "killed by SIGSEGV" in segv.stderr_tail or "exited with code" in segv.stderr_tail
    # the files that were there are still hashed
    assert "samples.npz" in by_task["badnpz"].files


def test_timeout_kills_the_whole_process_group(tmp_path):
    manifest = write_suite(
        tmp_path,
        ["spawn"],
        systems={
            "reference": {"command": command(), "timeout": 1.0},
            "candidate": {"command": command(), "timeout": 1.0},
        },
        run={"timeout": 100},  # the system's own timeout wins
    )
    t0 = time.monotonic()
    result = run_suite(manifest, workers=2)
    assert time.monotonic() - t0 < 10
    assert result.exit_code == 1
    for rec in result.new:
        assert rec.status == "timeout" and rec.exit_code is None
        assert rec.stderr_tail.endswith("parity: timed out after 1 s; its process group was killed")
        out = tmp_path / rec.out_dir
        # the grandchild ignored SIGTERM: only the group's SIGKILL ends it
        assert wait_dead(int((out / "child_pid").read_text()))
        assert wait_dead(int((out / "pid").read_text()))


def test_bounded_retries(tmp_path):
    manifest = write_suite(tmp_path, ["flaky", "fail"], run={"retries": 2})
    result = run_suite(manifest, workers=4)
    records = {(r.key.system, r.key.task): r for r in result.new}
    assert records["candidate", "flaky"].status == "ok"
    assert records["candidate", "flaky"].attempts == 2
    failed = records["reference", "fail"]
    assert failed.status == "failed" and failed.attempts == 3
    assert failed.stderr_tail.endswith("parity: not ok on any of 3 attempts")


def test_retry_failed_redoes_only_failed_runs(tmp_path):
    manifest = write_suite(tmp_path, ["broken-if-flag", "ok"])
    (tmp_path / "BROKEN").touch()
    first = run_suite(manifest, workers=2)
    assert first.counts() == {"ok": 2, "failed": 2, "timeout": 0, "missing": 0}
    (tmp_path / "BROKEN").unlink()
    # without --retry-failed a failed run stays failed
    assert run_suite(manifest).new == []
    started = {r.key: r.started for r in first.new if r.status == "ok"}
    second = run_suite(manifest, retry_failed=True)
    assert {r.key.task for r in second.new} == {"broken-if-flag"}
    assert second.exit_code == 0
    with Store(default_store_path(manifest)) as store:
        assert [r.status for r, _ in store.replaced()] == ["failed", "failed"]
        assert all(store.get(k).started == s for k, s in started.items())
        assert len(store) == 4


def test_env_cwd_and_parity_variables(tmp_path):
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "system.py").write_text(SYSTEM)
    system = {"command": command(), "cwd": "work", "env": {"MYVAR": "2.5"}}
    manifest = write_suite(
        tmp_path, ["env"], seeds=[7], systems={"reference": system, "candidate": system}
    )
    result = run_suite(manifest)
    assert [r.metrics for r in result.new] == [{"myvar": 2.5, "seed": 7.0}] * 2


def test_missing_cwd_is_an_input_error(tmp_path):
    system = {"command": command(), "cwd": "nowhere"}
    manifest = write_suite(tmp_path, ["ok"], systems={"reference": system, "candidate": system})
    with pytest.raises(ParityInputError, match=r"systems\.\w+\.cwd: folder not found"):
        run_suite(manifest)


def test_custom_runs_dir_and_store(tmp_path):
    manifest = write_suite(tmp_path, ["ok"])
    result = run_suite(manifest, store=tmp_path / "x" / "s.sqlite", runs_dir=tmp_path.parent / "r")
    assert result.exit_code == 0 and result.store == tmp_path / "x" / "s.sqlite"
    rec = result.new[0]
    assert Path(rec.out_dir).is_absolute()  # outside the manifest's folder: absolute
    assert (tmp_path / rec.out_dir / "metrics.json").is_file()  # still joins correctly
    assert not default_store_path(manifest).exists()


# --------------------------------------------------------------------------------------------
# results systems


def write_results(folder: Path, metrics, samples: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps(metrics))
    if samples:
        np.savez(folder / "samples.npz", x=np.zeros((3, 1)))


def test_results_patterns_folder_metrics_file_and_lone_file(tmp_path):
    systems = {
        "reference": {"results": "ref/{task}/seed{seed}"},
        "candidate": {"results": "data/{task}_{seed}.json", "cwd": "cand"},
        "baseline": {"results": "base/{task}/{seed}/metrics.json"},
    }
    manifest = write_suite(tmp_path, ["a", "b"], seeds=[0, 1], systems=systems, reruns=3)
    for task in "ab":
        for seed in (0, 1):
            write_results(tmp_path / f"ref/{task}/seed{seed}", {"score": 1.0}, samples=True)
            write_results(tmp_path / f"base/{task}/{seed}", {"score": 0.5})
    (tmp_path / "cand/data").mkdir(parents=True)
    (tmp_path / "cand/data/a_0.json").write_text('{"score": 1.25}')
    (tmp_path / "cand/data/a_1.json").write_text('{"score": 1.5}')
    (tmp_path / "cand/data/b_0.json").write_text("{oops")
    # b_1 is missing

    result = ingest_suite(manifest)
    # no {rerun} in a results pattern: one rerun per (task, seed)
    assert len(result.expected) == 3 * 2 * 2
    assert result.counts() == {"ok": 10, "failed": 1, "timeout": 0, "missing": 1}
    assert result.exit_code == 1
    assert result.notes[RunKey("candidate", "b", 1)] == "results not found: cand/data/b_1.json"
    recs = result.final
    ref = recs[RunKey("reference", "a", 1)]
    assert ref.source == "ingest" and ref.out_dir == "ref/a/seed1"
    assert ref.samples == {"x": [3, 1]} and set(ref.files) == {"metrics.json", "samples.npz"}
    cand = recs[RunKey("candidate", "a", 0)]
    assert cand.files == {"a_0.json": sha256(tmp_path / "cand/data/a_0.json")}
    assert cand.out_dir == "cand/data" and cand.metrics == {"score": 1.25}
    assert recs[RunKey("baseline", "b", 0)].out_dir == "base/b/0"
    bad = recs[RunKey("candidate", "b", 0)]
    assert bad.status == "failed" and "not valid JSON" in bad.stderr_tail

    # the missing file appears, the bad one is fixed
    (tmp_path / "cand/data/b_1.json").write_text('{"score": 2}')
    (tmp_path / "cand/data/b_0.json").write_text('{"score": 2}')
    assert [r.key for r in ingest_suite(manifest).new] == [RunKey("candidate", "b", 1)]
    fixed = ingest_suite(manifest, retry_failed=True)
    assert [r.key for r in fixed.new] == [RunKey("candidate", "b", 0)] and fixed.exit_code == 0


def test_run_ingests_results_and_executes_commands(tmp_path):
    systems = {"reference": {"results": "ref/{task}/{seed}"}, "candidate": {"command": command()}}
    manifest = write_suite(tmp_path, ["ok"], seeds=[0, 1], systems=systems)
    for seed in (0, 1):
        write_results(tmp_path / f"ref/ok/{seed}", {"score": seed})
    result = run_suite(manifest)
    assert result.exit_code == 0
    assert {(r.key.system, r.source) for r in result.new} == {
        ("reference", "ingest"),
        ("candidate", "run"),
    }
    # ingest alone judges only the results systems
    assert ingest_suite(manifest).expected == [RunKey("reference", "ok", s) for s in (0, 1)]


def _walk_reference(top: str) -> tuple[dict[str, str], list[str]]:
    """The folder scan as written with ``os.walk`` and an ``lstat`` of every entry (the
    independent reference of :func:`parity.suite.ingest.scan_folder`): hashes, and the names of
    the entries that are not regular files or folders, in walk order."""
    import stat

    files, odd = {}, []
    for root, dirs, names in os.walk(top):
        dirs.sort()
        below = os.path.relpath(root, top).replace(os.sep, "/")
        below = "" if below == "." else below + "/"
        for name in sorted(dirs + names):
            mode = os.lstat(os.path.join(root, name)).st_mode
            if stat.S_ISREG(mode):
                files[below + name] = sha256(Path(root, name))
            elif not stat.S_ISDIR(mode):
                odd.append(below + name)
    return dict(sorted(files.items())), odd


def test_folder_scan_matches_a_walk_and_reads_metrics_once(tmp_path, monkeypatch):
    from parity.suite import ingest

    top = tmp_path / "run"
    for rel, text in [
        ("metrics.json", '{"score": 1}\r\n'),
        ("b/x.txt", "x"),
        ("a/deeper/y.bin", "y" * 5000),
        ("a/z.txt", ""),
        ("a b/é.txt", "u"),
    ]:
        (top / rel).parent.mkdir(parents=True, exist_ok=True)
        (top / rel).write_text(text, encoding="utf-8")
    (top / "a/link").symlink_to("/etc/hostname")
    (top / "c_dir_link").symlink_to(top / "a")  # never descended into
    os.mkfifo(top / "a/deeper/pipe")  # never opened: it would block
    files, problems = ingest.scan_folder(top)
    ref_files, odd = _walk_reference(str(top))
    assert files == ref_files and len(files) == 5
    assert [p.split(":")[0] for p in problems] == odd == ["c_dir_link", "a/link", "a/deeper/pipe"]

    opened = []
    real_open = open

    def counting_open(f, *args, **kwargs):
        opened.append(os.fspath(f))
        return real_open(f, *args, **kwargs)

    for name in ("builtins.open", "io.open"):  # (pathlib opens with io.open)
        monkeypatch.setattr(name, counting_open)
    result = ingest.read_run_folder(top)
    assert result.files == files and result.metrics == {"score": 1}
    assert opened.count(str(top / "metrics.json")) == 1  # hashed and parsed from one read
    assert ingest.read_metrics(top / "metrics.json") == ({"score": 1}, None)


def test_read_results_path_absent_is_none(tmp_path):
    assert read_results_path(tmp_path / "nope.json") is None


# --------------------------------------------------------------------------------------------
# executors, stopping, locks


@pytest.mark.extra("dask")
def test_dask_local_cluster_runs_the_suite_and_stops_cleanly(tmp_path):
    manifest = write_suite(tmp_path, ["ok", "fail", "sleep"], seeds=[0, 1])
    executor = DaskExecutor(workers=12)
    assert executor.capacity == 12
    stop = threading.Event()
    t0 = time.monotonic()
    result = run_suite(manifest, executor=executor, stop=stop, reporter=StopAfter(8, stop.set))
    assert time.monotonic() - t0 < 15
    assert result.counts() == {"ok": 4, "failed": 4, "timeout": 0, "missing": 4}
    assert {r.key.task for r in result.new if r.status == "ok"} == {"ok"}
    # the stop reached the commands running on the Dask workers through the scheduler
    assert result.interrupted and {k.task for k in result.missing} == {"sleep"}
    for key in result.missing:
        assert wait_dead(int((tmp_path / run_folder("runs", key) / "pid").read_text()))


@pytest.mark.extra("dask")
def test_dask_scheduler_address(tmp_path):
    import logging

    from distributed import LocalCluster

    manifest = write_suite(tmp_path, ["ok"], seeds=[0, 1])
    with LocalCluster(
        n_workers=1,
        threads_per_worker=3,
        processes=False,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as cluster:
        result = run_suite(manifest, executor="dask", scheduler=cluster.scheduler_address)
    assert result.exit_code == 0 and len(result.new) == 4


def test_jobs_records_and_stop_flags_pickle(tmp_path):
    key = RunKey("candidate", "t", 1)
    job = RunJob(key, "true", "/", {}, "/o", "o", None, 0, "/a", "/b", "/c")
    record = RunRecord(key, "ok", metrics={"m": 1.0}, samples={"a": [2]})
    flag = DaskStopFlag("parity-stop-x")
    assert pickle.loads(pickle.dumps(job)) == job
    assert pickle.loads(pickle.dumps(record)) == record
    assert pickle.loads(pickle.dumps(flag)).name == "parity-stop-x"


def test_executor_choices_are_checked():
    with pytest.raises(ParityInputError, match="--executor must be one of dask, local"):
        make_executor("ray")
    with pytest.raises(ParityInputError, match="--scheduler needs --executor dask"):
        make_executor("local", scheduler="tcp://x:1")
    with pytest.raises(ParityInputError, match="--workers must be >= 1"):
        make_executor("local", workers=0)
    with LocalExecutor(2) as ex:
        assert ex.submit(sum, [1, 2]).result() == 3


class StopAfter(NullReporter):
    """A reporter that calls ``trigger()`` once ``n`` runs are recorded (deterministic stops)."""

    def __init__(self, n: int, trigger) -> None:
        self.n, self.trigger, self.seen = n, trigger, 0

    def advance(self, key, record, note=""):
        self.seen += record is not None
        if self.seen == self.n:
            self.trigger()


@pytest.mark.parametrize("how", ["event", "sigint"])
def test_stop_terminates_running_commands_and_keeps_what_finished(tmp_path, how):
    manifest = write_suite(tmp_path, ["ok", "sleep"])
    stop = threading.Event()
    before = signal.getsignal(signal.SIGINT)
    if how == "event":
        reporter = StopAfter(2, stop.set)
    else:
        reporter = StopAfter(2, lambda: os.kill(os.getpid(), signal.SIGINT))
    t0 = time.monotonic()
    result = run_suite(manifest, workers=4, stop=stop, reporter=reporter)
    elapsed = time.monotonic() - t0
    assert signal.getsignal(signal.SIGINT) is before  # the handler is restored
    assert result.interrupted and elapsed < 10
    assert {r.key.task for r in result.new} == {"ok"}  # finished before the stop: kept
    assert {k.task for k in result.missing} == {"sleep"}  # interrupted: not recorded
    assert all(result.notes[k] == "interrupted" for k in result.missing)
    for key in result.missing:
        assert wait_dead(int((tmp_path / run_folder("runs", key) / "pid").read_text()))
    with Store(default_store_path(manifest)) as store:
        assert {r.key.task for r in store.runs()} == {"ok"}
    # the next run completes what is missing
    os.environ["SLEEP"] = "0"
    try:
        resumed = run_suite(manifest, workers=4)
    finally:
        del os.environ["SLEEP"]
    assert {r.key.task for r in resumed.new} == {"sleep"} and resumed.exit_code == 0


def hold_lock_in_orphan(lock_path: Path) -> subprocess.Popen:
    """A process in its own session holding the run lock, as a killed runner leaves behind."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"],
        start_new_session=True,
        pass_fds=(fd,),
    )
    os.pwrite(fd, f"{socket.gethostname()} {proc.pid}\n".encode(), 0)
    os.close(fd)  # only the orphan holds the lock now
    return proc


def test_leftover_processes_of_a_killed_run_are_stopped_then_rerun(tmp_path):
    manifest = write_suite(tmp_path, ["ok"])
    key = RunKey("candidate", "ok", 0)
    folder = tmp_path / run_folder("runs", key)
    orphan = hold_lock_in_orphan(folder.with_name("rerun0.lock"))
    folder.mkdir(parents=True)
    (folder / "stale.txt").write_text("half-written by the killed run")
    try:
        status = suite_status(manifest)
        assert status.running == [key] and status.writer_pid is None
        result = run_suite(manifest, workers=2)
        assert orphan.wait(timeout=5) == -signal.SIGKILL
    finally:
        if orphan.poll() is None:
            orphan.kill()
            orphan.wait()
    assert result.exit_code == 0
    assert "stale.txt" not in result.final[key].files  # the folder was emptied first
    assert suite_status(manifest).running == []


def test_one_runner_per_store(tmp_path):
    manifest = write_suite(tmp_path, ["ok"])
    assert run_suite(manifest).exit_code == 0
    assert suite_status(manifest).writer_pid is None
    with store_lock(default_store_path(manifest)):
        with pytest.raises(ParityInputError, match=r"another `parity suite run` \(pid \d+\)"):
            run_suite(manifest, retry_failed=True)
        assert suite_status(manifest).writer_pid == os.getpid()


# --------------------------------------------------------------------------------------------
# status


def test_status_reports_done_failed_missing_leftover_and_changes(tmp_path):
    manifest = write_suite(tmp_path, ["ok", "fail"], seeds=[0, 1])
    empty = suite_status(manifest)
    assert not empty.store_exists and len(empty.missing) == 8
    assert not default_store_path(manifest).exists()  # status does not create the store

    run_suite(manifest, workers=4)
    with Store(default_store_path(manifest)) as store:
        store.delete(RunKey("reference", "ok", 1))
        store.record(RunRecord(RunKey("old-system", "ok", 0), "ok"))
    status = suite_status(manifest)
    assert status.store_exists and not status.manifest_changed
    assert status.missing == [RunKey("reference", "ok", 1)]
    assert status.leftover == {RunKey("reference", "ok", 1): "runs/reference/ok/seed1/rerun0"}
    assert status.unexpected == [RunKey("old-system", "ok", 0)]
    assert status.by_system()["candidate"] == {
        "ok": 2,
        "failed": 2,
        "timeout": 0,
        "missing": 0,
        "expected": 4,
    }
    payload = json.loads(json.dumps(status.to_dict(), allow_nan=False))
    assert payload["counts"] == {"ok": 3, "failed": 4, "timeout": 0, "missing": 1, "expected": 8}
    assert {f["task"] for f in payload["failed"]} == {"fail"}
    assert "boom: something broke" in payload["failed"][0]["stderr_tail"]

    # a changed manifest is noticed
    spec = yaml.safe_load(manifest.read_text())
    spec["seeds"] = [0, 1, 2]
    manifest.write_text(yaml.safe_dump(spec))
    changed = suite_status(manifest)
    assert changed.manifest_changed and changed.other_manifest_runs == 7
    assert len(changed.missing) == 5


def test_render_command_and_safe_names():
    key = RunKey("candidate", "it's", 2, 1)
    rendered = render_command("python x.py {task} {seed} {rerun} {out}", key, "/o dir")
    assert shlex.split(rendered) == ["python", "x.py", "it's", "2", "1", "/o dir"]
    assert safe_name("..") != ".." and "/" not in safe_name("../../etc")
    assert safe_name("a/b") != safe_name("a_b")  # no collisions from cleaning


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_run_processes_since_skips_older_processes_and_finds_new_ones():
    """The scan after a run passes over processes older than the run's first one (seen again
    by their cached /proc inode) and still finds a new process holding the run's token."""
    from parity.suite import runner

    older = subprocess.Popen(
        ["sleep", "30"], env={**os.environ, "PARITY_RUN_TOKEN": "tok-old"}, start_new_session=True
    )
    try:
        runner.run_processes(-1, "warm", since=0)  # fills the cache with every process
        time.sleep(0.05)  # start times are in clock ticks (10 ms)
        newer = subprocess.Popen(
            ["sleep", "30"],
            env={**os.environ, "PARITY_RUN_TOKEN": "tok-new"},
            start_new_session=True,
        )
        try:
            since = runner._proc_stat(newer.pid)[3]
            assert runner._proc_stat(older.pid)[3] < since
            time.sleep(0.2)  # /proc/<pid>/environ reads empty while the exec completes
            for _ in range(2):  # cold, then with the cache warm
                assert runner.run_processes(-1, "tok-new", since) == [newer.pid]
                assert runner.run_processes(-1, "tok-old", since) == []
            assert runner.run_processes(-1, "tok-old") == [older.pid]  # no `since`: all of them
        finally:
            newer.kill()
            newer.wait()
    finally:
        older.kill()
        older.wait()


def test_pid_window_is_the_pids_allocated_between_readings_and_refuses_what_it_cannot_vouch_for():
    from parity.suite.runner import PidMark, pid_window

    def mark(t, last, tasks=100):
        return PidMark(t, t + 1e-5, last, tasks)

    assert pid_window([mark(0, 1000), mark(1e-3, 1002), mark(2e-3, 1005)], 32768, 2) == range(
        1001, 1006
    )
    assert pid_window([mark(0, 1000), mark(1e-3, 1000)], 32768, 2) == range(1001, 1001)
    assert pid_window([mark(0, 32700), mark(1e-3, 310)], 32768, 2) is None  # wrapped round
    assert pid_window([mark(0, 1000), mark(1e-3, 990), mark(2e-3, 1001)], 32768, 2) is None
    assert pid_window([mark(0, 1000), mark(1e-3, 1000 + 5000)], 32768, 2) is None  # too wide
    assert pid_window([mark(0, 1000)], 32768, 2) is None  # one reading tells nothing
    # two readings far enough apart for the allocator to have gone all the way round
    assert pid_window([mark(0, 1000), mark(0.01, 1001)], 32768, 2) is None
    assert pid_window([mark(0, 1000), mark(0.01, 1001)], 4194304, 2) == range(1001, 1002)
    assert pid_window([mark(0, 1000), mark(1e-3, 1001, tasks=8000)], 32768, 2) is None
    assert pid_window([mark(1e-3, 1000), mark(0, 1001)], 32768, 2) is None  # clock went back


def test_a_pid_trail_checks_its_readings_pair_by_pair_and_stays_broken(monkeypatch):
    from parity.suite import runner

    readings = iter([(0.0, 1000), (0.001, 1001), (0.002, 1003), (0.003, 1004), (0.1, 1005)])

    def fake_mark():
        t, last = next(readings)
        return runner.PidMark(t, t, last, 100)

    monkeypatch.setattr(runner, "pid_mark", fake_mark)
    monkeypatch.setattr(runner, "_pid_space", lambda: (32768, 2))
    trail = runner.PidTrail.begin()
    trail.mark()
    assert trail.window() == range(1001, 1004)  # the readings so far: 1000, 1001, 1003
    assert trail.window() == range(1001, 1005)
    assert trail.window() is None  # 97 ms after the reading before: it may have gone round
    assert trail.window() is None  # and it stays broken (no reading is made any more)
    monkeypatch.setattr(runner, "_pid_space", lambda: None)
    assert runner.PidTrail.begin() is None


@pytest.mark.skipif(not Path("/proc/loadavg").exists(), reason="needs Linux /proc")
def test_a_setsid_daemon_is_killed_by_the_scan_of_the_pids_made_during_the_run(
    tmp_path, monkeypatch
):
    """The scan after a run looks at the pids allocated since the run began (pid_window); a
    daemon that left the run's session and group, carrying its token, is among them."""
    from parity.suite import runner

    monkeypatch.setattr(runner, "PIDS_PER_CPU_SECOND", 1)  # trust every window: no full scan
    windows = []
    scan = runner.run_processes

    def spy(group, token, since=None, window=None):
        windows.append(window)
        return scan(group, token, since, window)

    monkeypatch.setattr(runner, "run_processes", spy)
    pid_file = tmp_path / "daemon.pid"
    out = tmp_path / "out"
    command = (
        f"setsid sh -c 'echo $$ > {pid_file}; exec sleep 60' & "
        f"while [ ! -s {pid_file} ]; do sleep 0.01; done; "
        f"echo '{{\"x\": 1}}' > {out}/metrics.json"
    )
    job = runner.RunJob(
        key=RunKey("s", "t", 0),
        command=command,
        cwd=str(tmp_path),
        env={},
        out_dir=str(out),
        record_out_dir="out",
        timeout=30,
        retries=0,
        stdout_path=str(tmp_path / "out.stdout.txt"),
        stderr_path=str(tmp_path / "out.stderr.txt"),
        lock_path=str(tmp_path / "out.lock"),
    )
    record = runner.execute_run(job)
    assert record.status == "ok", record.stderr_tail
    daemon = int(pid_file.read_text())
    assert wait_dead(daemon), "a setsid() daemon carrying the run's token survived the run"
    assert windows and all(w is not None for w in windows)
    assert daemon in windows[0]


# --------------------------------------------------------------------------------------------
# commits in batches


class StoreChecker(NullReporter):
    """A reporter that checks that every run reported done is in the store already."""

    def __init__(self, path: Path) -> None:
        self.path, self.seen = path, []

    def advance(self, key, record, note=""):
        if record is not None:
            with Store(self.path, create=False) as store:  # another connection: committed only
                assert store.get(key) == record
            self.seen.append(key)


def test_runs_are_committed_together_and_reported_done_only_once_committed(tmp_path, monkeypatch):
    from parity.suite import runner

    manifest = write_suite(tmp_path, ["ok", "fail"], seeds=(0, 1, 2))
    monkeypatch.setattr(runner, "COMMIT_EVERY", 3600.0)  # one batch: committed at the end
    batches = []
    record_many = Store.record_many

    def spy(self, runs, **kwargs):
        runs = list(runs)
        batches.append(len(runs))
        return record_many(self, runs, **kwargs)

    monkeypatch.setattr(Store, "record_many", spy)
    checker = StoreChecker(default_store_path(manifest))
    result = run_suite(manifest, workers=3, reporter=checker)
    assert batches == [12] and len(result.new) == 12
    assert set(checker.seen) == set(result.expected) and len(checker.seen) == 12
    assert result.counts() == {"ok": 6, "failed": 6, "timeout": 0, "missing": 0}


KILLED_RUNNER = """
import sys
from parity.suite import runner
runner.COMMIT_EVERY = 3600.0  # the finished runs wait for the sleeping ones: never committed
runner.run_suite(sys.argv[1], workers=4, handle_signals=False)
"""


def test_a_killed_runner_loses_only_uncommitted_runs_and_the_next_run_redoes_them(tmp_path):
    from parity.suite.runner import lock_is_held

    manifest = write_suite(tmp_path, ["ok", "sleep"])
    keys = [RunKey(s, t, 0) for s in ("candidate", "reference") for t in ("ok", "sleep")]
    folders = {k: tmp_path / run_folder("runs", k) for k in keys}
    locks = {k: f.with_name("rerun0.lock") for k, f in folders.items()}
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUNNER, str(manifest)], env={**os.environ, "SLEEP": "60"}
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the ok runs done and read, the sleeping ones running
            done = all(
                (folders[k] / "metrics.json").exists() and not lock_is_held(locks[k])
                for k in keys
                if k.task == "ok"
            )
            if done and all(lock_is_held(locks[k]) for k in keys if k.task == "sleep"):
                break
            time.sleep(0.05)
        else:
            pytest.fail("the runner did not get there in 60 s")
        time.sleep(0.5)  # the runner's loop takes the finished runs (it wakes every 0.2 s)
        proc.kill()
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with Store(default_store_path(manifest)) as store:
        assert len(store) == 0  # nothing was reported done, nothing is recorded
    os.environ["SLEEP"] = "0"
    try:
        again = run_suite(manifest, workers=4)
    finally:
        del os.environ["SLEEP"]
    assert again.exit_code == 0 and {r.key for r in again.new} == set(keys)
    for key in keys:
        assert wait_dead(int((folders[key] / "pid").read_text()))


def test_exit_waiter_waits_on_the_process_and_closes_its_descriptor():
    from parity.suite.runner import _ExitWaiter

    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    waiter = _ExitWaiter(proc)
    try:
        assert waiter(0.05) is False and proc.returncode is None
        proc.stdin.close()  # now it exits
        deadline = time.monotonic() + 30
        while not waiter(0.05):
            assert time.monotonic() < deadline
        assert proc.returncode == 0
        assert waiter(0.05) is True  # and stays exited
    finally:
        fd = waiter.fd
        waiter.close()
        waiter.close()  # twice is fine
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if fd is not None:
        with pytest.raises(OSError):
            os.fstat(fd)
