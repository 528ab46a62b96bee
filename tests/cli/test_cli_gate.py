"""Tests of ``parity gate``: CliRunner and the installed console script; exit codes 0/1/3/2,
``--json -``, ``--log``, one-line errors naming files, ids and fields, and the worked example of
docs/gates.md, whose commands, outputs and Python are run as written."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from parity.cli.main import cli
from parity.gate import GateAction, load_gate_log

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "gates"
DOCS = ROOT / "docs" / "gates.md"
PARITY = Path(sys.executable).parent / "parity"

CAND, INC = str(EXAMPLES / "candidate.jsonl"), str(EXAMPLES / "incumbent.jsonl")
CAND12, INC12 = str(EXAMPLES / "candidate_12.jsonl"), str(EXAMPLES / "incumbent_12.jsonl")


def invoke(*args):
    return CliRunner().invoke(cli, ["gate", *map(str, args)])


def strict_loads(text: str):
    def refuse(name: str):
        raise ValueError(f"non-strict JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def one_error_line(stderr: str, pattern: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ") and re.search(pattern, lines[0]), lines[0]
    return lines[0]


def write_items(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------
# exit codes


@pytest.mark.parametrize(
    ("args", "code", "action"),
    [
        ((), 1, "reject"),
        (("--metric", "hard"), 1, "reject"),
        (("--metric", "soft"), 0, "accept_new_best"),
        (("--metric", "mixed", "--mixed-weight", "0.3"), 0, "accept_new_best"),
        (("--metric", "mixed", "--mixed-weight", "0"), 1, "reject"),  # w = 0 is hard
        (("--metric", "mixed", "--mixed-weight", "1"), 0, "accept_new_best"),  # w = 1 is soft
        (("--metric", "soft", "--min-delta", "0.2"), 1, "reject"),
        (("--metric", "soft", "--best-hard", "0.5", "--best-soft", "0.9"), 0, "accept"),
        (("--metric", "soft", "--paired"), 3, "inconclusive"),
        (("--metric", "MIXED", "--paired", "--alpha", "0.2"), 0, "accept"),  # 2/16 ≤ 0.2
    ],
)
def test_exit_codes_on_the_worked_example(args, code, action):
    res = invoke(INC, CAND, "--json", "-", "--quiet", *args)
    assert res.exit_code == code, res.output
    payload = strict_loads(res.stdout)
    assert payload["action"] == action and payload["exit_code"] == code
    assert res.stderr == ""


def test_paired_decides_on_twelve_items():
    res = invoke(INC12, CAND12, "--paired", "--metric", "soft")
    assert res.exit_code == 0
    assert "paired gate (soft) on 12 items: ACCEPT" in res.stderr
    res = invoke(INC12, CAND12, "--paired", "--quiet")
    assert res.exit_code == 1 and res.stderr == ""


def test_paired_not_shown_on_twelve_items_is_a_reject_not_inconclusive(tmp_path):
    # an improvement that more wins on these 12 items could show: exit 1 with the items needed
    rng = np.random.default_rng(3)
    inc = rng.uniform(0.2, 0.7, 12)
    cand = np.clip(inc + 0.03 + rng.normal(0, 0.1, 12), 0, 1)
    for name, scores in (("c.jsonl", cand), ("i.jsonl", inc)):
        rows = [
            json.dumps({"id": f"q{i}", "hard": 1, "soft": float(v)}) for i, v in enumerate(scores)
        ]
        (tmp_path / name).write_text("\n".join(rows) + "\n")
    res = invoke(tmp_path / "i.jsonl", tmp_path / "c.jsonl",
                 "--paired", "--metric", "soft", "--json", "-")  # fmt: skip
    assert res.exit_code == 1, res.output
    payload = strict_loads(res.stdout)
    assert payload["action"] == "reject" and payload["result"]["pvalue"] > 0.05
    need = payload["result"]["items_for_power"]
    assert need > 12
    assert f"about {need} items (now 12) would give 80% power" in " ".join(res.stderr.split())


def test_summary_explains_why_four_items_cannot_decide():
    res = invoke(INC, CAND, "--metric", "soft", "--paired")
    assert res.exit_code == 3
    assert "INCONCLUSIVE" in res.stderr
    assert "4 items are too few to ever decide at α = 0.05" in res.stderr
    assert "2/2^4 = 0.125 > 0.05" in res.stderr
    assert "warning: the paired differences have only 4 values" in res.stderr


def test_json_payload():
    res = invoke(
        INC, CAND, "--metric", "soft", "--paired",
        "--seed", "3", "--json", "-", "--quiet",
    )  # fmt: skip
    payload = strict_loads(res.stdout)
    assert payload["command"] == "gate" and payload["gate"] == "paired"
    assert payload["seed"] == 3
    assert payload["inputs"]["candidate"]["path"] == CAND
    assert len(payload["inputs"]["incumbent"]["file_sha256"]) == 64
    assert payload["inputs"]["candidate"]["n_items"] == 4
    result = payload["result"]
    assert result["pvalue"] == 0.125 and result["too_small"] is True
    assert result["ids"] == ["q1", "q2", "q3", "q4"] and result["reasons"]
    again = invoke(
        INC, CAND, "--metric", "soft", "--paired",
        "--seed", "3", "--json", "-", "--quiet",
    )  # fmt: skip
    assert again.stdout == res.stdout  # deterministic for a seed


def test_json_to_file_and_threshold_payload(tmp_path):
    out = tmp_path / "deep" / "gate.json"
    res = invoke(INC, CAND, "--metric", "mixed", "--json", out)
    assert res.exit_code == 0 and res.stdout == ""
    payload = strict_loads(out.read_text())
    assert payload["gate"] == "threshold"
    r = payload["result"]
    assert (r["candidate_hard"], r["candidate_soft"]) == (0.5, 0.8125)
    assert (r["current_hard"], r["current_soft"], r["best_soft"]) == (0.5, 0.625, 0.625)
    assert r["candidate_score"] == pytest.approx(0.5 * 0.5 + 0.5 * 0.8125)


def test_log_appends(tmp_path):
    log = tmp_path / "gates.jsonl"
    invoke(INC, CAND, "--log", log, "--quiet")
    invoke(INC, CAND, "--metric", "soft", "--paired", "--log", log)
    res = invoke(INC, CAND, "--log", log, "--step", "7", "--json", "-")
    assert strict_loads(res.stdout)["log"] == {"path": str(log), "step": 7}
    recs = load_gate_log(log)
    assert [r.step for r in recs] == [0, 1, 7]
    assert [r.action for r in recs] == [
        GateAction.REJECT,
        GateAction.INCONCLUSIVE,
        GateAction.REJECT,
    ]
    assert recs[1].gate == "paired" and recs[1].pvalue == 0.125 and recs[1].alpha == 0.05
    assert recs[0].extra["candidate_file"] == CAND
    assert (recs[0].candidate_hard, recs[0].candidate_soft) == (0.5, 0.8125)


def test_items_without_soft_work_for_hard(tmp_path):
    c = write_items(tmp_path / "c.jsonl", [{"id": i, "hard": 1} for i in range(6)])
    i = write_items(tmp_path / "i.jsonl", [{"id": i, "hard": 0} for i in range(6)])
    res = invoke(i, c, "--json", "-", "--quiet")
    assert res.exit_code == 0
    assert strict_loads(res.stdout)["result"]["candidate_soft"] is None
    res = invoke(i, c, "--paired", "--quiet")
    assert res.exit_code == 0  # 6 wins of 6: p = 2/64 ≤ 0.05
    res = invoke(c, i, "--paired", "--quiet")
    assert res.exit_code == 1  # significantly worse


# --------------------------------------------------------------------------------------------
# errors: exit 2, one line


@pytest.fixture
def bad_files(tmp_path) -> dict[str, Path]:
    good = [{"id": "a", "hard": 1, "soft": 0.5}, {"id": "b", "hard": 0, "soft": 0.2}]
    files = {
        "good": write_items(tmp_path / "good.jsonl", good),
        "other_ids": write_items(
            tmp_path / "other.jsonl",
            [{"id": "a", "hard": 1, "soft": 0.5}, {"id": "z", "hard": 0, "soft": 0.2}],
        ),
        "nan": write_items(
            tmp_path / "nan.jsonl", [good[0], {"id": "b", "hard": 0, "soft": float("nan")}]
        ),
        "no_soft": write_items(tmp_path / "nosoft.jsonl", [good[0], {"id": "b", "hard": 0}]),
        "dup": write_items(tmp_path / "dup.jsonl", [good[0], good[0]]),
    }
    (tmp_path / "broken.jsonl").write_text('{"id": "a", "hard": 1\n', encoding="utf-8")
    files["broken"] = tmp_path / "broken.jsonl"
    return files


@pytest.mark.parametrize(
    ("cand", "inc", "extra", "pattern"),
    [
        ("good", "other_ids", (), r"items must match by `id`: only in .*good.jsonl: 'b'; only in "
         r".*other.jsonl: 'z'"),
        ("nan", "good", (), r"nan.jsonl line 2 \(id 'b'\): `soft` must be a number in \[0, 1\]; "
         r"got NaN"),
        ("no_soft", "good", ("--metric", "soft"), r"`soft` is required by metric 'soft'.*'b'"),
        ("no_soft", "good", ("--metric", "mixed", "--paired"), r"no `soft` for 1 item\(s\): 'b'"),
        ("dup", "good", (), r"dup.jsonl: item ids must be unique; duplicated: 'a'"),
        ("broken", "good", (), r"broken.jsonl: line 1 is not valid JSON"),
        ("missing", "good", (), r"missing.jsonl: file not found"),
        ("good", "good", ("--metric", "f1"), r"Invalid value for '--metric'"),
        ("good", "good", ("--mixed-weight", "1.5"), r"`mixed_weight` must be a number in \[0, 1\]"),
        ("good", "good", ("--min-delta", "-0.1"), r"`min_delta` must be a finite number >= 0"),
        ("good", "good", ("--alpha", "0.1"), r"--alpha is only used with --paired"),
        ("good", "good", ("--paired", "--alpha", "0.7"), r"'--alpha': 0.7 is not in the range"),
        ("good", "good", ("--paired", "--best-hard", "1"), r"not used with --paired"),
        ("good", "good", ("--best-soft", "1"), r"--best-soft needs --best-hard"),
        ("good", "good", ("--metric", "soft", "--best-hard", "1"), r"needs --best-soft"),
        ("good", "good", ("--best-hard", "2"), r"`best_score` hard score must be .* got 2"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_one_line(bad_files, tmp_path, cand, inc, extra, pattern):
    paths = {k: str(v) for k, v in bad_files.items()}
    paths["missing"] = str(tmp_path / "missing.jsonl")
    res = invoke(paths[inc], paths[cand], *extra)
    assert res.exit_code == 2, res.output
    one_error_line(res.stderr, pattern)


def test_missing_required_argument():
    res = invoke(INC)
    assert res.exit_code == 2
    one_error_line(res.stderr, r"Missing argument 'CANDIDATE'")


def test_help_lists_the_command():
    res = CliRunner().invoke(cli, ["--help"])
    assert res.exit_code == 0 and "gate" in res.output
    res = invoke("--help")
    assert res.exit_code == 0 and "--paired" in res.output and "Exit codes: 0 pass" in res.output


# --------------------------------------------------------------------------------------------
# the installed console script


def run_script(args, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1"}
    env.pop("FORCE_COLOR", None)
    return subprocess.run(
        [str(PARITY), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def test_console_script_exit_codes(tmp_path):
    ex = ["gate", INC, CAND]
    assert run_script([*ex, "--quiet"], tmp_path).returncode == 1
    assert run_script([*ex, "--metric", "mixed", "--mixed-weight", "0.3"], tmp_path).returncode == 0
    proc = run_script([*ex, "--metric", "soft", "--paired", "--json", "-"], tmp_path)
    assert proc.returncode == 3 and strict_loads(proc.stdout)["action"] == "inconclusive"
    assert "4 items are too few" in proc.stderr
    proc = run_script(["gate", CAND12, CAND], tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    one_error_line(proc.stderr, r"only in .*candidate_12.jsonl: 'q5', 'q6', 'q7'")


# --------------------------------------------------------------------------------------------
# the worked example in docs/gates.md runs as written


def _doc_blocks(lang: str) -> list[str]:
    text = DOCS.read_text(encoding="utf-8")
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def _console_steps() -> list[tuple[str, list[str], int]]:
    """(command, expected output lines, expected exit code) for each ``$ parity`` command."""
    steps = []
    for block in _doc_blocks("console"):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            assert lines[i].startswith("$ parity "), lines[i]
            command = lines[i][2:]
            i += 1
            output = []
            while not lines[i].startswith("$ "):
                output.append(lines[i])
                i += 1
            assert lines[i] == "$ echo $?", lines[i]
            steps.append((command, output, int(lines[i + 1])))
            i += 2
    return steps


@pytest.fixture(scope="module")
def doc_cwd(tmp_path_factory) -> Path:
    cwd = tmp_path_factory.mktemp("docs")
    shutil.copytree(EXAMPLES, cwd / "examples" / "gates")
    return cwd


def test_docs_have_the_worked_example():
    steps = _console_steps()
    assert len(steps) >= 6
    codes = {tuple(shlex.split(c)[1:]): code for c, _, code in steps}
    base = ("gate", "examples/gates/incumbent.jsonl", "examples/gates/candidate.jsonl")
    assert codes[base] == 1  # the hard gate rejects
    assert codes[(*base, "--metric", "soft")] == 0  # the soft gate accepts
    assert codes[(*base, "--metric", "mixed", "--mixed-weight", "0.3")] == 0
    assert codes[(*base, "--metric", "soft", "--paired")] == 3  # 4 items cannot decide


@pytest.mark.parametrize("step", _console_steps(), ids=lambda s: s[0][12:80])
def test_docs_console_output_is_verbatim(step, doc_cwd):
    command, expected, code = step
    args = shlex.split(command)
    assert args[0] == "parity"
    proc = run_script(args[1:], doc_cwd)
    assert proc.returncode == code, proc.stderr
    got = [line.rstrip() for line in (proc.stdout + proc.stderr).splitlines()]
    assert got == [line.rstrip() for line in expected]


def test_docs_python_runs(doc_cwd, monkeypatch, capsys):
    monkeypatch.chdir(doc_cwd)
    (blocks,) = _doc_blocks("python")
    exec(compile(blocks, str(DOCS), "exec"), {"__name__": "docs_gates"})
    assert "4 items are too few to ever decide" in capsys.readouterr().out
    assert len(load_gate_log(doc_cwd / "gates.jsonl")) >= 1
