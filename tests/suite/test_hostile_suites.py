"""Hostile suites: YAML bombs and 1.1 traps, quoted placeholders, foreign stores, runners that
share a manifest, children that escape the process group, symlinks and special files in run
folders. Each test that could hang or blow up memory runs under a timeout (and, where memory is
the point, a memory cap in a subprocess: ``tests/capped.py``) so a regression fails instead."""

from __future__ import annotations

import json
import os
import shlex
import sqlite3
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from capped import run_parity
from parity.errors import ParityInputError
from parity.suite.manifest import (
    MAX_MANIFEST_BYTES,
    MAX_YAML_DEPTH,
    MAX_YAML_NODES,
    load_manifest,
    quoted_placeholders,
    read_yaml,
)
from processes import alive, wait_dead

VALID = """\
name: toy
tasks: [a]
seeds: [0]
systems:
  reference: {results: "r/{task}/{seed}"}
  candidate: {results: "c/{task}/{seed}"}
metrics:
  score: {margin: {absolute: 1}}
"""


def write(folder: Path, text: str | bytes, name: str = "suite.yaml") -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def one_error_line(done) -> str:
    """The single ``error:`` line of a finished CLI call that must exit 2."""
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert "Traceback" not in done.stderr
    return lines[0]


# --------------------------------------------------------------------------------------------
# class: the manifest's YAML loader


@pytest.mark.timeout(120)
def test_alias_bombs_are_refused_quickly_within_a_memory_cap(tmp_path):
    # the classic billion laughs: 9 levels of 9 aliases each (314 bytes, ~387 million nodes)
    lines = ['a0: &a0 ["lol"]']
    lines += [f"a{i}: &a{i} [{', '.join(['*a' + str(i - 1)] * 9)}]" for i in range(1, 10)]
    bomb = write(tmp_path, "\n".join(lines) + "\n")
    t0 = time.monotonic()
    done = run_parity("suite", "status", bomb, memory_mib=600, timeout=60)
    line = one_error_line(done)
    assert time.monotonic() - t0 < 30
    assert f"expands to more than {MAX_YAML_NODES} nodes" in line and "line 7" in line
    # aliases nesting ever deeper, and an alias inside its own anchor
    deep = "\n".join(["l0: &l0 [1]"] + [f"l{i}: &l{i} [*l{i - 1}]" for i in range(1, 40)])
    with pytest.raises(
        ParityInputError, match=rf"line 31 invalid YAML .*more than {MAX_YAML_DEPTH} deep"
    ):
        read_yaml(write(tmp_path, deep, "deep.yaml"))
    with pytest.raises(ParityInputError, match=r"alias \*a is inside its own anchor"):
        read_yaml(write(tmp_path, "a: &a [1, *a]\n", "cycle.yaml"))


def test_aliases_within_the_limits_load_as_yaml_safe_dump_writes_them(tmp_path):
    system = {"results": "r/{task}/{seed}"}
    spec = yaml.safe_load(VALID)
    spec["systems"] = {"reference": system, "candidate": system}  # dumped as &id001 / *id001
    text = yaml.safe_dump(spec)
    assert "&id001" in text and "*id001" in text
    m = load_manifest(write(tmp_path, text))
    assert m.systems["reference"] == m.systems["candidate"]
    # YAML 1.2 has no merge key: `<<` is an ordinary key (here an unknown field)
    merged = VALID + "base: &b {x: 1}\nother: {<<: *b}\n"
    assert read_yaml(write(tmp_path, merged, "m.yaml"))["other"] == {"<<": {"x": 1}}


def test_yaml_1_2_core_schema():
    loaded = yaml.load(
        "[010, 0o17, 0x1f, -3, 1:20, 1_000, yes, on, NO, true, False, 5e-2, .inf, -.inf, ~, "
        "2024-01-01, 0b11, +7]",
        Loader=__import__("parity.suite.manifest", fromlist=["_yaml_loader"])._yaml_loader(),
    )
    assert loaded[:4] == [10, 15, 31, -3]
    assert loaded[4:9] == ["1:20", "1_000", "yes", "on", "NO"]
    assert loaded[9:11] == [True, False] and all(type(v) is bool for v in loaded[9:11])
    assert loaded[11:14] == [0.05, float("inf"), float("-inf")]
    assert loaded[14] is None and loaded[15:] == ["2024-01-01", "0b11", 7]


def test_seeds_and_tasks_keep_their_yaml_1_2_meaning(tmp_path):
    text = VALID.replace("tasks: [a]", "tasks: [1:20, on, 2024-01-01]").replace(
        "seeds: [0]", "seeds: [010, 0o10]"
    )
    m = load_manifest(write(tmp_path, text))
    assert m.tasks == ["1:20", "on", "2024-01-01"]
    assert m.seeds == [10, 8]


def test_duplicate_keys_are_an_error_naming_the_key_and_line(tmp_path):
    text = VALID + "name: other\n"
    with pytest.raises(ParityInputError) as info:
        load_manifest(write(tmp_path, text))
    message = str(info.value)
    assert "\n" not in message
    assert "line 9" in message and "duplicate key 'name' (first at line 1)" in message
    nested = VALID.replace(
        "score: {margin: {absolute: 1}}", "score: {margin: {absolute: 1}}\n  score: {}"
    )
    with pytest.raises(
        ParityInputError, match=r"line 9 .*duplicate key 'score' \(first at line 8\)"
    ):
        load_manifest(write(tmp_path, nested))


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        (b"name: \xff\xfe toy\n", r"suite\.yaml: not UTF-8 text \(invalid start byte at byte 6\)$"),
        (b"name: toy\x00\n", r"suite\.yaml: invalid YAML \(unacceptable character #x0000"),
        (b"x: " + b"[" * 500 + b"]" * 500 + b"\n", rf"nest more than {MAX_YAML_DEPTH} deep"),
        (b"x: " + b"[" * 100_000 + b"]" * 100_000 + b"\n", r"deep|maximum nesting depth"),
        (b"x: " + b"{a: " * 50_000 + b"1" + b"}" * 50_000, r"deep|maximum nesting depth"),
        (b"seeds: [" + b"9" * 5000 + b"]\n", r"an integer of 5000 digits \(at most 100\)"),
        (b"name: [\n", r"suite\.yaml: line \d+ invalid YAML"),
        (b"a: !!binary aGVsbG8=\n", r"could not determine a constructor for the tag"),
        (b"a: !!python/object:os.system {}\n", r"could not determine a constructor"),
    ],
)
def test_bad_manifest_files_give_one_error_line_and_exit_2(tmp_path, content, pattern):
    import re

    path = write(tmp_path, content)
    line = one_error_line(run_parity("suite", "status", path, memory_mib=600, timeout=60))
    assert re.search(pattern, line), line


@pytest.mark.timeout(60)
def test_size_cap_and_special_files(tmp_path):
    big = write(tmp_path, "# pad\n" * (MAX_MANIFEST_BYTES // 6 + 1))
    with pytest.raises(ParityInputError, match=rf"at most {MAX_MANIFEST_BYTES} bytes"):
        read_yaml(big)
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)  # reading it would block forever
    with pytest.raises(ParityInputError, match=r"fifo\.yaml: not a regular file"):
        read_yaml(fifo)
    with pytest.raises(ParityInputError, match=r"is a directory"):
        read_yaml(tmp_path)
    if Path("/dev/zero").exists():
        with pytest.raises(ParityInputError, match=r"not a regular file"):
            read_yaml("/dev/zero")


def test_counts_and_seeds_are_bounded(tmp_path):
    text = VALID.replace("seeds: [0]", f"seeds: [0, {2**63}]")
    with pytest.raises(
        ParityInputError, match=r"seeds\.1: .*less than or equal to 9223372036854775807"
    ):
        load_manifest(write(tmp_path, text))
    done = run_parity("suite", "status", write(tmp_path, text), memory_mib=600)
    assert "seeds.1" in one_error_line(done)
    text = VALID.replace("seeds: [0]", "seeds: [0]\nreruns: 100000")
    with pytest.raises(ParityInputError, match=r"reruns: .*less than or equal to 1000"):
        load_manifest(write(tmp_path, text))
    many = VALID.replace("seeds: [0]", f"seeds: [{', '.join(map(str, range(1001)))}]\nreruns: 1000")
    with pytest.raises(ParityInputError, match=r"at most 1000000 runs; got 2002000"):
        load_manifest(write(tmp_path, many))


# --------------------------------------------------------------------------------------------
# class: placeholders in commands


@pytest.mark.parametrize(
    ("command", "where"),
    [
        ('echo "{task}"', "double quotes"),
        ("echo '{task}'", "single quotes"),
        ("echo `cat {out}`", "backticks"),
        ('sh -c "run --seed {seed}"', "double quotes"),
        ('# a "comment"\necho "{rerun}"', "double quotes"),
    ],
)
def test_a_placeholder_the_manifest_quotes_itself_is_refused(tmp_path, command, where):
    text = VALID.replace('candidate: {results: "c/{task}/{seed}"}', "candidate: {command: %s}")
    text = text % json.dumps(command)
    with pytest.raises(ParityInputError) as info:
        load_manifest(write(tmp_path, text))
    message = str(info.value)
    assert "\n" not in message
    assert "systems.candidate: command: {" in message and f"is inside {where}" in message
    assert "write {" in message and "bare" in message


def test_bare_and_escaped_placeholders_are_fine():
    assert quoted_placeholders("python run.py --env={task} {seed} > {out}/log # '") == []
    assert quoted_placeholders('echo \\"{task}\\" "literal"') == []


@pytest.mark.timeout(120)
@pytest.mark.parametrize("task", ["$(touch pwned)", "`touch pwned`", "x; touch pwned", "a'b\"c"])
def test_a_task_name_executes_nothing(tmp_path, task):
    from parity.suite.runner import run_suite

    script = "import json,sys; json.dump({'task': sys.argv[1], 'score': 1}, open(sys.argv[2], 'w'))"
    (tmp_path / "echo_task.py").write_text(script)
    cmd = f"{shlex.quote(sys.executable)} echo_task.py {{task}} {{out}}/metrics.json"
    spec = yaml.safe_load(VALID)
    spec["tasks"] = [task]
    spec["systems"] = {"reference": {"command": cmd}, "candidate": {"command": cmd}}
    manifest = tmp_path / "suite.yaml"
    manifest.write_text(yaml.safe_dump(spec))
    result = run_suite(manifest, workers=1, handle_signals=False)
    assert result.counts()["ok"] == 2, result.final
    assert not list(tmp_path.rglob("pwned"))
    assert {r.metrics["task"] for r in result.final.values()} == {task}


# --------------------------------------------------------------------------------------------
# class: symlinks and special files in run folders


def results_suite(folder: Path, pattern_ref: str = "r/{task}/{seed}") -> Path:
    text = VALID.replace('"r/{task}/{seed}"', json.dumps(pattern_ref)).replace(
        "seeds: [0]", "seeds: [0, 1]"
    )
    for system in ("r", "c"):
        for seed in (0, 1):
            run = folder / system / "a" / str(seed)
            run.mkdir(parents=True, exist_ok=True)
            (run / "metrics.json").write_text('{"score": 1.0}')
    return write(folder, text)


@pytest.mark.timeout(60)
def test_links_and_special_files_in_a_results_folder_are_refused_and_named(tmp_path):
    from parity.suite.runner import ingest_suite

    manifest = results_suite(tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("root:$6$hash\n")
    (tmp_path / "r/a/0/notes.txt").symlink_to(secret)
    os.mkfifo(tmp_path / "r/a/1/pipe")  # hashing it would block forever
    (tmp_path / "c/a/0/linked").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "c/a/1/metrics.json").unlink()
    (tmp_path / "c/a/1/metrics.json").symlink_to(tmp_path / "c/a/0/metrics.json")
    result = ingest_suite(manifest)
    records = {(k.system, k.seed): r for k, r in result.final.items()}
    assert all(r.status == "failed" for r in records.values())
    expected = {
        ("reference", 0): f"notes.txt: a symlink (to {secret})",
        ("reference", 1): "pipe: a named pipe",
        ("candidate", 0): f"linked: a symlink (to {tmp_path})",
        ("candidate", 1): "metrics.json: a symlink (to ",
    }
    for key, text in expected.items():
        assert text in records[key].stderr_tail, (key, records[key].stderr_tail)
        assert "regular files and folders only" in records[key].stderr_tail
    assert "notes.txt" not in records["reference", 0].files  # never hashed, so never bundled
    assert records["candidate", 1].stderr_tail.count("parity: ") == 1  # named once
    assert records["candidate", 1].metrics == {}


@pytest.mark.timeout(60)
def test_a_results_file_that_is_a_link_or_pipe_is_refused(tmp_path):
    from parity.suite.runner import ingest_suite

    manifest = results_suite(tmp_path, "ref_{task}_{seed}.json")
    (tmp_path / "ref_a_0.json").symlink_to(tmp_path / "r/a/0/metrics.json")
    os.mkfifo(tmp_path / "ref_a_1.json")
    result = ingest_suite(manifest)
    tails = {k.seed: r.stderr_tail for k, r in result.final.items() if k.system == "reference"}
    assert "ref_a_0.json: a symlink (to " in tails[0]
    assert "ref_a_1.json: a named pipe" in tails[1]


@pytest.mark.timeout(120)
def test_a_command_that_leaves_a_symlink_in_its_out_folder_fails(tmp_path):
    from parity.suite.runner import run_suite

    script = (
        "import json, os, sys; out = sys.argv[1]; "
        "json.dump({'score': 1}, open(os.path.join(out, 'metrics.json'), 'w')); "
        "os.symlink('/etc/passwd', os.path.join(out, 'passwd'))"
    )
    (tmp_path / "linker.py").write_text(script)
    cmd = f"{shlex.quote(sys.executable)} linker.py {{out}}"
    spec = yaml.safe_load(VALID)
    spec["systems"] = {"reference": {"command": cmd}, "candidate": {"command": cmd}}
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(spec))
    result = run_suite(tmp_path / "suite.yaml", workers=1, handle_signals=False)
    for record in result.final.values():
        assert record.status == "failed"
        assert "passwd: a symlink (to /etc/passwd)" in record.stderr_tail
        assert set(record.files) == {"metrics.json"}


def test_many_problems_are_listed_up_to_a_count(tmp_path):
    from parity.suite.manifest import MAX_ERROR_LINES

    text = VALID.replace("tasks: [a]", "tasks: [" + ", ".join(["[x]"] * 50) + "]")
    with pytest.raises(ParityInputError) as info:
        load_manifest(write(tmp_path, text))
    lines = str(info.value).splitlines()
    assert len(lines) == MAX_ERROR_LINES + 1
    assert lines[-1].endswith(f"… and {50 - MAX_ERROR_LINES} more problems like these")


# --------------------------------------------------------------------------------------------
# class: the store and the runner


def command_suite(folder: Path, script: str, *, tasks=("a",), seeds=(0,), **extra) -> Path:
    """A manifest whose two systems run ``script`` (argv: task seed out)."""
    (folder / "system.py").write_text(textwrap.dedent(script))
    cmd = f"{shlex.quote(sys.executable)} system.py {{task}} {{seed}} {{out}}"
    spec = yaml.safe_load(VALID)
    spec.update(tasks=list(tasks), seeds=list(seeds), **extra)
    spec["systems"] = {"reference": {"command": cmd}, "candidate": {"command": cmd}}
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def foreign_sqlite(path: Path) -> str:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO customers VALUES (1, 'Ada')")
    conn.commit()
    conn.close()
    return __import__("hashlib").sha256(path.read_bytes()).hexdigest()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("command", ["report", "status", "run"])
def test_a_foreign_sqlite_file_is_refused_before_anything_is_written(tmp_path, command):
    import hashlib

    manifest = command_suite(tmp_path, "import sys; sys.exit(1)")
    foreign = tmp_path / "customers.db"
    digest = foreign_sqlite(foreign)
    args = ["suite", command, manifest, "--store", foreign]
    if command == "report":
        args += ["--out", tmp_path / "out"]
    line = one_error_line(run_parity(*args, memory_mib=1500, timeout=90))
    assert "customers.db: not a parity store (an SQLite file with tables customers)" in line
    assert hashlib.sha256(foreign.read_bytes()).hexdigest() == digest
    conn = sqlite3.connect(foreign)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert tables == {"customers"}
    finally:
        conn.close()
    assert not (tmp_path / "runs").exists()


def test_store_ownership_marks(tmp_path):
    from parity.suite.records import RunKey, RunRecord
    from parity.suite.store import APPLICATION_ID, Store

    path = tmp_path / "s.parity.sqlite"
    with Store(path) as store:
        store.record(RunRecord(RunKey("reference", "a", 2**63 - 1), "ok", {"m": 1.0}))
        with pytest.raises(ParityInputError, match=r"seed must be an integer in \[-2\*\*63"):
            store.record(RunRecord(RunKey("reference", "a", 2**63), "ok", {"m": 1.0}))
        first_id = store.store_id()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    conn.close()
    with Store(path, create=False) as store:  # reads: no new id, the same runs
        assert len(store) == 1 and store.meta()["store_id"] == first_id
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    with pytest.raises(ParityInputError, match="not a parity store"):
        Store(empty, create=False)
    assert empty.read_bytes() == b""
    other = sqlite3.connect(tmp_path / "app.sqlite")
    other.execute("PRAGMA application_id = 1234")
    other.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    other.commit()
    other.close()
    with pytest.raises(ParityInputError, match=r"application_id 0x4d2, not parity's"):
        Store(tmp_path / "app.sqlite")
    # a store written before application_id was set (tables meta + runs, a schema_version)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 0")
    conn.commit()
    conn.close()
    with Store(path, create=False) as store:
        assert len(store) == 1
    with Store(path) as store:  # a writer marks it
        assert store.store_id() == first_id
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    conn.close()


SLEEPER = """
import json, os, sys, time
task, seed, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
open(os.path.join(out, "pid"), "w").write(str(os.getpid()))
time.sleep(float(os.environ.get("SLEEP", "0")))
json.dump({"score": 1.0}, open(os.path.join(out, "metrics.json"), "w"))
"""


@pytest.mark.timeout(180)
def test_two_runners_with_different_stores_do_not_share_run_folders(tmp_path):
    import subprocess

    manifest = command_suite(tmp_path, SLEEPER)
    env = {
        **os.environ,
        "SLEEP": "4",
        "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).resolve().parents[2] / "src"), os.environ.get("PYTHONPATH", "")]
        ),
    }
    first = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from parity.cli.main import run; run()",
            "suite",
            "run",
            str(manifest),
            "--workers",
            "2",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        pids = []
        deadline = time.monotonic() + 60
        while len(pids) < 2 and time.monotonic() < deadline:
            pids = [int(p.read_text()) for p in (tmp_path / "runs").rglob("pid") if p.read_text()]
            time.sleep(0.05)
        assert len(pids) == 2, first.communicate()
        second = run_parity(
            "suite",
            "run",
            manifest,
            "--store",
            tmp_path / "other.sqlite",
            memory_mib=1500,
            timeout=60,
        )
        line = one_error_line(second)
        assert "runs: holds the run folders of another store" in line and "--runs-dir" in line
        assert all(alive(pid) for pid in pids)  # the first runner's commands were left alone
        _, err = first.communicate(timeout=60)
        assert first.returncode == 0, err
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    # with its own runs folder the second store runs fine, beside the first
    done = run_parity(
        "suite",
        "run",
        manifest,
        "--store",
        tmp_path / "other.sqlite",
        "--runs-dir",
        tmp_path / "other-runs",
        memory_mib=1500,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.timeout(120)
def test_a_live_runners_lock_is_left_alone(tmp_path):
    """A run lock held by a live runner (pid and start time match): the key is skipped and
    its command is not killed; the same lock naming a runner that is gone is a leftover."""
    import fcntl
    import socket
    import subprocess

    from parity.suite.records import RunKey
    from parity.suite.runner import process_start, run_folder, run_suite

    manifest = command_suite(tmp_path, SLEEPER)
    lock = tmp_path / run_folder("runs", RunKey("candidate", "a", 0)).with_name("rerun0.lock")
    lock.parent.mkdir(parents=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"],
        start_new_session=True,
        pass_fds=(fd,),
    )
    os.close(fd)
    try:
        with open(lock, "r+") as fh:  # the holder plays the runner: alive, same start time
            fh.write(
                f"{socket.gethostname()} {holder.pid} {holder.pid} "
                f"{process_start(holder.pid)} token\n"
            )
        result = run_suite(manifest, workers=2, handle_signals=False)
        assert holder.poll() is None, "a live runner's command was killed"
        note = result.notes[RunKey("candidate", "a", 0)]
        assert "being executed by another live runner" in note
        assert result.counts()["ok"] == 1
        with open(lock, "r+") as fh:  # now the same lock names a runner that started earlier
            fh.write(f"{socket.gethostname()} {holder.pid} {holder.pid} 1 token\n")
        again = run_suite(manifest, workers=2, handle_signals=False)
        assert holder.wait(timeout=10) == -9
        assert again.counts()["ok"] == 2
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


ESCAPER = """
import json, os, sys, time
task, seed, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if os.fork() == 0:               # child: a new session, then a grandchild re-parented to init
    os.setsid()
    if os.fork() == 0:
        open(os.path.join(out, "escaped_pid"), "w").write(str(os.getpid()))
        import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(120)
    os._exit(0)
if task == "quick":
    time.sleep(0.5)
    json.dump({"score": 1.0}, open(os.path.join(out, "metrics.json"), "w"))
    sys.exit(0)
time.sleep(120)
"""


@pytest.mark.timeout(120)
def test_children_that_start_their_own_session_do_not_outlive_the_run(tmp_path):
    from parity.suite.runner import run_suite

    manifest = command_suite(tmp_path, ESCAPER, tasks=("slow", "quick"), run={"timeout": 1.5})
    t0 = time.monotonic()
    result = run_suite(manifest, workers=4, handle_signals=False)
    assert time.monotonic() - t0 < 30
    statuses = {(k.system, k.task): r.status for k, r in result.final.items()}
    assert statuses == {
        (s, t): ("timeout" if t == "slow" else "ok")
        for s in ("reference", "candidate")
        for t in ("slow", "quick")
    }
    escaped = [int(p.read_text()) for p in (tmp_path / "runs").rglob("escaped_pid")]
    assert len(escaped) == 4
    assert all(wait_dead(pid) for pid in escaped), "a setsid() descendant survived the run"
