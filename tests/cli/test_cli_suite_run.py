"""Tests of ``parity suite`` run / status / ingest / schema through click's CliRunner and the
installed console script: exit codes, error lines, resume after ``kill -9``, Ctrl-C."""

from __future__ import annotations

import json
import os
import shlex
import signal
import sqlite3
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from parity.cli import suite as suite_cli
from parity.cli.main import cli
from processes import PARITY, alive
from processes import invoke as invoke_cli

invoke = partial(invoke_cli, "suite")


SYSTEM = r"""
import json, os, sys, time
task, seed, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
open(os.path.join(out, "pid"), "w").write(str(os.getpid()))
time.sleep(float(os.environ.get("SLEEP", "0")))
if task == "fail":
    print("boom", file=sys.stderr)
    sys.exit(3)
if task == "oom":
    print("step 1 of 3", file=sys.stderr)
    print("RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB", file=sys.stderr)
    sys.exit(3)
json.dump({"score": seed + 0.5}, open(os.path.join(out, "metrics.json"), "w"))
"""


def write_suite(folder: Path, tasks=("a",), seeds=(0, 1), *, sleep=0.0, systems=None) -> Path:
    (folder / "system.py").write_text(SYSTEM)
    cmd = f"{shlex.quote(sys.executable)} system.py {{task}} {{seed}} {{out}}"
    system = {"command": cmd, "env": {"SLEEP": str(sleep)}}
    spec = {
        "name": "cli-suite",
        "tasks": list(tasks),
        "seeds": list(seeds),
        "systems": systems or {"reference": system, "candidate": system},
        "metrics": {"score": {"margin": {"absolute": 1.0}}},
    }
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def store_rows(path: Path) -> list[tuple]:
    conn = sqlite3.connect(path, timeout=30)
    try:
        return conn.execute(
            "SELECT system, task, seed, rerun, status, started, duration FROM runs"
        ).fetchall()
    except sqlite3.OperationalError:  # not created yet
        return []
    finally:
        conn.close()


def assert_dead(pids, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in pids if alive(p)], "a run's process outlived parity"


def run_pids(folder: Path) -> list[int]:
    return [int(p.read_text()) for p in (folder / "runs").rglob("pid") if p.read_text()]


# --------------------------------------------------------------------------------------------
# CliRunner


def test_run_exit_0_then_status_and_json(tmp_path):
    manifest = write_suite(tmp_path)
    result = invoke("run", manifest, "--workers", 2)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("suite cli-suite: 4 ok, 0 failed, 0 timeout, 0 missing of 4")
    assert (tmp_path / "suite.parity.sqlite").is_file()

    status = invoke("status", manifest, "--json", "-")
    assert status.exit_code == 0, status.stderr
    payload = json.loads(status.stdout)
    assert payload["counts"] == {"ok": 4, "failed": 0, "timeout": 0, "missing": 0, "expected": 4}
    assert "suite cli-suite" in status.stderr and "candidate" in status.stderr

    again = invoke("run", manifest)
    assert again.exit_code == 0 and "(0 recorded now, 4 before)" in again.stderr


def test_run_exit_1_when_some_fail_and_status_shows_the_tail(tmp_path):
    manifest = write_suite(tmp_path, tasks=("a", "fail"), seeds=(0,))
    result = invoke("run", manifest, "--workers", 4)
    assert result.exit_code == 1, result.stderr
    assert "failed candidate fail seed 0 rerun 0: boom (the command exited with code 3)" in (
        result.stderr
    )
    status = invoke("status", manifest)
    assert status.exit_code == 0
    assert "| boom" in status.stderr and "failed or timed out (2)" in status.stderr


def test_a_failed_runs_own_last_stderr_line_reaches_the_summary_and_the_coverage(tmp_path):
    # docs/suites.md: failed runs are listed "with their exit code and the last line of their
    # stderr" — the command's own line, not only parity's "the command exited with code 3"
    oom = "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB"
    manifest = write_suite(tmp_path, tasks=("a", "oom"), seeds=(0,))
    result = invoke("run", manifest)
    assert result.exit_code == 1, result.stderr
    assert f"failed candidate oom seed 0 rerun 0: {oom} (the command exited with code 3)" in (
        " ".join(result.stderr.split())
    )
    report = invoke("report", manifest, "--out", tmp_path / "reports")
    assert report.exit_code == 1, report.stderr
    coverage = json.loads((tmp_path / "reports" / "coverage_report.json").read_text())
    details = {(m["system"], m["task"]): m["detail"] for m in coverage["missing"]}
    assert details[("candidate", "oom")] == f"failed with exit code 3 after 1 attempt: {oom}"
    assert details[("reference", "oom")] == f"failed with exit code 3 after 1 attempt: {oom}"


def test_bad_manifest_prints_every_error_on_its_own_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump(
            {
                "tasks": ["a"],
                "seeds": [1, 1],
                "systems": {"reference": {"command": "run {nope}"}},
                "metrics": {"m": {"margin": {"absolute": 1}}},
            }
        )
    )
    for command in ("run", "status", "ingest"):
        result = invoke(command, bad)
        assert result.exit_code == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) >= 3 and all(line.startswith("error: ") for line in lines), lines
        assert "Traceback" not in result.stderr
        text = result.stderr
        assert "name: Field required" in text and "seeds: must be unique" in text
        assert "unknown template field(s) {nope}" in text


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        (["run", "missing.yaml"], r"^error: missing\.yaml: file not found$"),
        (["run", "{m}", "--executor", "local", "--scheduler", "tcp://h:1"], "--scheduler needs"),
        (["run", "{m}", "--workers", "0"], "--workers"),
        (["status", "{m}", "--store", "{junk}"], "not a parity store"),
    ],
)
def test_input_errors_exit_2_with_one_line(tmp_path, monkeypatch, args, pattern):
    import re

    monkeypatch.chdir(tmp_path)
    manifest = write_suite(tmp_path)
    junk = tmp_path / "junk.sqlite"
    junk.write_text("x" * 200)
    result = invoke(*[a.format(m=manifest, junk=junk) for a in args])
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and re.search(pattern, lines[0])


def test_schema_prints_the_manifest_json_schema(tmp_path):
    result = invoke("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "Manifest" and "systems" in schema["properties"]
    out = tmp_path / "schema.json"
    assert invoke("schema", "--json", out).exit_code == 0
    assert json.loads(out.read_text()) == schema


def test_ingest_exit_codes(tmp_path):
    systems = {
        "reference": {"results": "ref/{task}/{seed}.json"},
        "candidate": {"command": "false"},  # never run by ingest
    }
    manifest = write_suite(tmp_path, systems=systems)
    (tmp_path / "ref" / "a").mkdir(parents=True)
    (tmp_path / "ref" / "a" / "0.json").write_text('{"score": 1}')
    result = invoke("ingest", manifest)
    assert result.exit_code == 1
    assert "missing reference a seed 1 rerun 0: results not found: ref/a/1.json" in result.stderr
    (tmp_path / "ref" / "a" / "1.json").write_text('{"score": 2}')
    result = invoke("ingest", manifest)
    assert result.exit_code == 0, result.stderr
    assert "2 ok, 0 failed, 0 timeout, 0 missing of 2" in result.stderr


@pytest.mark.extra("dask")
def test_dask_executor_from_the_cli(tmp_path):
    manifest = write_suite(tmp_path)
    result = invoke("run", manifest, "--executor", "dask", "--workers", 2, "--quiet")
    assert result.exit_code == 0, result.stderr
    assert len(store_rows(tmp_path / "suite.parity.sqlite")) == 4


def test_help_lists_the_subcommands_and_a_missing_report_module_breaks_nothing(
    tmp_path, monkeypatch
):
    top = CliRunner().invoke(cli, ["--help"])
    assert "suite" in top.stdout and "Proof-grade parity suites" in top.stdout
    monkeypatch.setitem(
        suite_cli.SUBCOMMANDS, "report", ("parity.cli._no_such_module", "report_command", "x")
    )
    helptext = invoke("--help")
    assert helptext.exit_code == 0
    for name in ("run", "status", "ingest", "schema"):
        assert f"  {name} " in helptext.stdout
    assert "  report " not in helptext.stdout
    missing = invoke("report", "x.yaml")
    assert missing.exit_code == 2 and "No such command 'report'" in missing.stderr
    manifest = write_suite(tmp_path)
    assert invoke("run", manifest).exit_code == 0  # the others still work


def test_report_subcommand_is_delegated_when_present(monkeypatch):
    import types

    import click

    fake = types.ModuleType("parity_fake_report")

    @click.command("report")
    def report_command():
        click.echo("reported")

    fake.report_command = report_command
    monkeypatch.setitem(sys.modules, "parity_fake_report", fake)
    monkeypatch.setattr(suite_cli, "_available", lambda module: True)
    monkeypatch.setitem(
        suite_cli.SUBCOMMANDS, "report", ("parity_fake_report", "report_command", "x")
    )
    result = invoke("report")
    assert result.exit_code == 0 and result.stdout == "reported\n"
    assert "report" not in suite_cli.suite_group.commands  # nothing cached across tests


LAZY_PROBE = """
import json, sys
HEAVY = ("pydantic", "distributed", "dask", "rich", "yaml", "sqlite3")
import parity.cli.suite
after_import = [m for m in HEAVY if m in sys.modules]
from parity.cli.main import main
codes = [main(["--help"]), main(["suite", "--help"])]
after_help = [m for m in HEAVY if m in sys.modules]
print(json.dumps({"import": after_import, "help": after_help, "codes": codes}))
"""


def test_suite_cli_imports_nothing_heavy_until_a_command_runs():
    proc = subprocess.run(
        [sys.executable, "-c", LAZY_PROBE], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report == {"import": [], "help": [], "codes": [0, 0]}


# --------------------------------------------------------------------------------------------
# the console script as a subprocess: kill -9 and resume, Ctrl-C


def start_run(manifest: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(PARITY), "suite", "run", str(manifest), *extra],
        cwd=manifest.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, to kill as a whole
    )


def wait_rows(store: Path, at_least: int, proc: subprocess.Popen, seconds: float = 30) -> list:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        rows = store_rows(store) if store.exists() else []
        if len(rows) >= at_least:
            return rows
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError(f"fewer than {at_least} runs recorded in {seconds} s")


def test_kill_9_of_the_process_group_then_resume_loses_and_duplicates_nothing(tmp_path):
    manifest = write_suite(tmp_path, tasks=("a", "b", "c"), seeds=(0, 1), sleep=0.4)
    store = tmp_path / "suite.parity.sqlite"
    proc = start_run(manifest, "--workers", "3")
    before = wait_rows(store, 3, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    recorded = store_rows(store)  # what was committed when it died
    assert len(before) <= len(recorded) < 12
    assert len({r[:4] for r in recorded}) == len(recorded)
    assert all(r[4] == "ok" for r in recorded)

    status = invoke("status", manifest, "--json", "-")
    assert status.exit_code == 0
    assert json.loads(status.stdout)["counts"]["ok"] == len(recorded)

    again = subprocess.run(
        [str(PARITY), "suite", "run", str(manifest), "--workers", "3"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0, again.stderr
    rows = store_rows(store)
    keys = [r[:4] for r in rows]
    expected = {
        (s, t, seed, 0) for s in ("candidate", "reference") for t in "abc" for seed in (0, 1)
    }
    assert len(keys) == 12 and set(keys) == expected  # every key once: none lost, none doubled
    assert set(recorded) <= set(rows)  # what was recorded before the kill is untouched
    assert f"({12 - len(recorded)} recorded now, {len(recorded)} before)" in again.stderr
    assert_dead(run_pids(tmp_path))


def test_ctrl_c_stops_cleanly_and_keeps_what_finished(tmp_path):
    manifest = write_suite(tmp_path, tasks=("a", "b", "c"), seeds=(0, 1), sleep=0.5)
    store = tmp_path / "suite.parity.sqlite"
    proc = start_run(manifest, "--workers", "2")
    wait_rows(store, 1, proc)
    os.kill(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 2, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("error: interrupted; ")
    rows = store_rows(store)
    assert 1 <= len(rows) < 12 and all(r[4] == "ok" for r in rows)
    assert_dead(run_pids(tmp_path))
    status = invoke("status", manifest, "--json", "-")
    payload = json.loads(status.stdout)
    assert payload["counts"]["missing"] == 12 - len(rows) and payload["running"] == []
