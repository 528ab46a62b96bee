"""The one output-path check and writer (parity.cli._output): inputs are never overwritten,
foreign files only with --force, folders and files where they are meant, atomic writes, and a
closed stdout pipe that does not change the verdict's exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from parity.cli._output import MARKER, check_outputs
from parity.errors import ParityInputError
from parity.io import write_atomic
from processes import invoke

pytestmark = pytest.mark.timeout(120)

FAST = ["--resamples", "99", "--no-sensitivity", "--quiet"]


def one_error_line(res, pattern: str) -> str:
    assert res.exit_code == 2, res.output
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert "Traceback" not in res.stderr and pattern in lines[0], lines[0]
    return lines[0]


@pytest.fixture()
def data(tmp_path):
    rng = np.random.default_rng(0)
    a, b = tmp_path / "a.npy", tmp_path / "b.npy"
    np.save(a, rng.normal(size=(40, 2)))
    np.save(b, rng.normal(size=(40, 2)))
    return a, b


@pytest.mark.parametrize("option", ["--bundle", "--json", "--markdown", "--html"])
def test_an_output_equal_to_an_input_is_refused_and_the_input_kept(data, tmp_path, option):
    a, b = data
    before = a.read_bytes()
    res = invoke("compare", a, b, *FAST, "--out", tmp_path / "o", option, a, "--force")
    one_error_line(res, f"{option}: {a} is also an input of this call")
    assert a.read_bytes() == before
    assert not (tmp_path / "o").exists()  # refused before any work or write


def test_an_output_linked_to_an_input_is_refused(data, tmp_path):
    a, b = data
    link = tmp_path / "link.npy"
    link.symlink_to(a)
    res = invoke("compare", a, b, *FAST, "--out", tmp_path / "o", "--json", link, "--force")
    one_error_line(res, "is also an input of this call")
    hard = tmp_path / "hard.json"
    os.link(b, hard)
    res = invoke("compare", a, b, *FAST, "--out", tmp_path / "o", "--json", hard, "--force")
    one_error_line(res, "is also an input of this call")


def test_an_out_folder_holding_an_input_is_refused(data, tmp_path):
    a, b = data
    victim = tmp_path / "verdict.json"
    os.replace(a, victim)
    res = invoke("compare", f"{victim}", b, *FAST, "--out", tmp_path, "--force")
    one_error_line(res, "an input of this call")


def test_foreign_files_need_force_and_parity_folders_do_not(data, tmp_path):
    a, b = data
    mine = tmp_path / "notes.json"
    mine.write_text("my notes")
    res = invoke("compare", a, b, *FAST, "--out", tmp_path / "o", "--json", mine)
    one_error_line(res, "already exists and parity did not write it here; pass --force")
    assert mine.read_text() == "my notes"
    res = invoke("compare", a, b, *FAST, "--out", tmp_path / "o", "--json", mine, "--force")
    assert res.exit_code == 0, res.output
    assert json.loads(mine.read_text())["verdict"] == "pass"
    # the --out folder is marked as parity's: a second run replaces its files without --force
    assert (tmp_path / "o" / MARKER).is_file()
    res = invoke("compare", a, b, *FAST, "--out", tmp_path / "o")
    assert res.exit_code == 0, res.output
    # a folder of someone else's files that parity would replace is refused
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "summary.md").write_text("my summary")
    (foreign / "other.txt").write_text("kept")
    res = invoke("compare", a, b, *FAST, "--out", foreign)
    one_error_line(res, "holds summary.md, which parity did not write")
    assert (foreign / "summary.md").read_text() == "my summary"


def test_a_folder_where_a_file_is_meant_and_the_reverse(data, tmp_path):
    a, b = data
    res = invoke("compare", a, b, *FAST, "--out", tmp_path / "o", "--json", tmp_path)
    one_error_line(res, "is a folder; a file is meant")
    res = invoke("compare", a, b, *FAST, "--out", a)
    assert res.exit_code == 2 and "Traceback" not in res.stderr  # a file, not a folder
    plain = tmp_path / "plain"
    plain.write_text("x")
    res = invoke("compare", a, b, *FAST, "--out", tmp_path / "o", "--json", plain / "v.json")
    one_error_line(res, "is a file; a folder is meant there")
    res = invoke("equivalence", a, b, "--margin", "1", "--json", "/dev/null", "--quiet")
    one_error_line(res, "is not a regular file")


def test_two_options_naming_one_file_are_refused(data, tmp_path):
    a, b = data
    same = tmp_path / "x.out"
    res = invoke("compare", a, b, *FAST, "--json", same, "--markdown", same)
    one_error_line(res, "--json and --markdown both write")


def test_an_unwritable_place_is_one_error_line(data, tmp_path):
    a, b = data
    res = invoke("compare", a, b, *FAST, "--out", tmp_path / "o", "--json", "/proc/parity/v.json")
    one_error_line(res, "/proc/parity/v.json")


def test_every_writing_command_checks_its_outputs(data, tmp_path):
    a, b = data
    res = invoke("equivalence", a, b, "--margin", "1", "--json", a, "--quiet")
    assert one_error_line(res, "input").startswith("error: --json:")
    items = tmp_path / "items.jsonl"
    items.write_text('{"id": "q1", "hard": 1}\n{"id": "q2", "hard": 0}\n')
    for option in ("--json", "--log"):
        res = invoke("gate", items, items, option, items)
        one_error_line(res, f"{option}: {items} is also an input")
    foreign = tmp_path / "schema.json"
    foreign.write_text("{}")
    one_error_line(invoke("suite", "schema", "--json", foreign), "pass --force")
    assert invoke("suite", "schema", "--json", foreign, "--force").exit_code == 0
    assert "properties" in json.loads(foreign.read_text())


def test_write_atomic_replaces_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "f.txt"
    target.write_text("old")
    inode = target.stat().st_ino
    write_atomic(target, "new")
    assert target.read_text() == "new" and target.stat().st_ino != inode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]
    with pytest.raises(ParityInputError, match="cannot write file"):
        write_atomic(target / "below.txt", "x")  # a file where a folder is meant


def test_check_outputs_library_call(tmp_path):
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "a.txt").write_text("x")
    with pytest.raises(ParityInputError, match=r"--out: .* holds a\.txt"):
        check_outputs(folders={"--out": (tmp_path / "o", ["a.txt"])})
    check_outputs(folders={"--out": (tmp_path / "o", ["a.txt"])}, force=True)
    (tmp_path / "o" / MARKER).write_text("")
    check_outputs(folders={"--out": (tmp_path / "o", ["a.txt"])})


def test_a_closed_stdout_pipe_keeps_the_verdict_exit_code(data, tmp_path):
    """`parity compare … --json - | head -c1`: the reader goes away; the PASS stays exit 0."""
    a, b = data
    code = "import sys; from parity.cli.main import run; sys.argv[0] = 'parity'; run()"
    args = [sys.executable, "-c", code, "compare", str(a), str(b), *FAST]
    args += ["--out", str(tmp_path / "o"), "--json", "-"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first byte: every write gets EPIPE
    proc = subprocess.run(args, stdout=write, stderr=subprocess.PIPE, env=env, timeout=120)
    os.close(write)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"Traceback" not in proc.stderr and b"BrokenPipe" not in proc.stderr


def test_keygen_checks_its_outputs(tmp_path):
    assert invoke("keygen", "--out", tmp_path).exit_code == 0
    one_error_line(invoke("keygen", "--out", tmp_path), "pass --force")
    res = invoke("keygen", "--private", tmp_path / "k.pem", "--public", tmp_path / "k.pem")
    one_error_line(res, "--private and --public both write")
