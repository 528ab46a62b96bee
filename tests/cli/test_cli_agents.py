"""Tests of ``parity agents``: analyze and compare end to end on the shipped example (through
CliRunner and the installed console script, byte-identical reports), exit codes 0/1/2,
one-line errors naming file, run and field, --skip-invalid, step events, and the MiniLM
install hint."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from functools import partial

import pytest
from click.testing import CliRunner

from parity._install import checkout_root, install_hint
from parity.cli._output import MARKER
from parity.cli.main import cli
from parity.examples.agent_runs import EXAMPLE_FILES, example_path
from processes import PARITY, one_error_line
from processes import invoke as invoke_cli
from suites import chat_run, small_runs

invoke = partial(invoke_cli, "agents")

RUNS, RUNS_NEW, TARGET = (str(example_path(k)) for k in ("runs", "runs_new", "target"))
ANALYZE_FILES = [
    "pairs.json",
    "report.html",
    "runs.csv",
    "runs.json",
    "summary.json",
    "tasks.csv",
    "tasks.json",
]


# --------------------------------------------------------------------------------------------
# analyze


@pytest.mark.extra("agents")
def test_analyze_the_shipped_example_is_deterministic(tmp_path):
    out_a, out_b = tmp_path / "a", tmp_path / "b"
    args = ["agents", "analyze", RUNS, "--target", TARGET, "--out"]
    res = CliRunner().invoke(cli, [*args, str(out_a)])
    assert res.exit_code == 0, res.output
    proc = subprocess.run(
        [str(PARITY), *args, str(out_b), "--quiet"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert sorted(p.name for p in out_a.iterdir()) == sorted([MARKER, *ANALYZE_FILES])
    for name in ANALYZE_FILES:
        assert (out_a / name).read_bytes() == (out_b / name).read_bytes(), name
    summary = json.loads((out_a / "summary.json").read_text())
    assert summary["counts"]["loops"] == 4 and summary["counts"]["degenerate"] == 1
    assert summary["weighting"]["uncovered_mass"] == pytest.approx(0.125)
    assert summary["inputs"]["runs"]["path"] == RUNS
    loop = next(e for e in summary["estimates"] if e["metric"] == "loop")
    assert loop["benchmark"] == pytest.approx(4 / 35) and loop["target"] > loop["benchmark"]
    assert "agents analyze: 36 runs of 12 tasks" in res.stderr
    assert "uncovered target mass 0.125" in res.stderr


@pytest.mark.extra("agents")
def test_analyze_json_to_stdout_without_target(tmp_path):
    res = invoke("analyze", RUNS, "--out", tmp_path, "--json", "-", "--quiet", "--bootstrap", 200)
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["weighting"]["kind"] == "none" and summary["n_resamples"] == 200
    assert res.stderr == ""


@pytest.mark.extra("agents")
def test_analyze_step_events(tmp_path):
    events = [
        {"run_id": f"r{r}", "task_id": "t", "step": s, "action": f"tool{(s + r) % 3}(a)"}
        for r in range(2)
        for s in range(9)
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    res = invoke("analyze", path, "--out", tmp_path / "o", "--quiet", "--bootstrap", 100)
    assert res.exit_code == 0, res.output
    runs = json.loads((tmp_path / "o" / "runs.json").read_text())
    assert [r["loop_period"] for r in runs] == [3, 3]


def test_broken_run_exits_2_naming_run_and_field(tmp_path):
    bad = chat_run("t2", 0, ["a", "b"])
    bad["messages"][1]["tool_calls"][0]["function"].pop("name")
    path = small_runs(tmp_path, [chat_run("t1", 0, ["a", "b", "c"]), bad])
    res = invoke("analyze", path, "--out", tmp_path / "o")
    assert res.exit_code == 2
    one_error_line(
        res.stderr, r"runs\.json: run 1: `messages\[1\]\.tool_calls\[0\]\.function\.name`"
    )
    assert not (tmp_path / "o").exists()


@pytest.mark.extra("agents")
def test_skip_invalid_skips_and_reports(tmp_path):
    bad = {"task_id": "t9", "messages": "oops"}
    good = [chat_run(f"t{i}", j, ["a", "b", "c", "d"][: 2 + i]) for i in range(2) for j in range(2)]
    path = small_runs(tmp_path, [*good, bad])
    res = invoke("analyze", path, "--out", tmp_path / "o", "--skip-invalid", "--bootstrap", 100)
    assert res.exit_code == 0, res.output
    assert re.search(r"skipped .*runs\.json: run 4: `messages` must be a list", res.stderr)
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["n_runs"] == 4
    assert summary["skipped"] == [
        {"source": "run 4", "error": '`messages` must be a list of messages; got "oops"'}
    ]


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        (["--target", "missing.json"], r"missing\.json: file not found"),
        (["--clusters", "0"], r"Invalid value for '--clusters': 0 is not in the range x>=1"),
        pytest.param(
            ["--clip", "-1"],
            r"`clip` must be a positive number; got -1",
            marks=pytest.mark.extra("agents"),
        ),
        pytest.param(
            ["--threshold", "2"],
            r"`threshold` must be a cosine in \[-1, 1\]; got 2",
            marks=pytest.mark.extra("agents"),
        ),
        (["--embedder", "bert"], r"Invalid value for '--embedder'"),
    ],
)
def test_bad_options_exit_2_with_one_line(tmp_path, args, pattern):
    path = small_runs(tmp_path, [chat_run("t", i, ["a", "b", "c"]) for i in range(2)])
    if "--clusters" in args or "--clip" in args:
        target = tmp_path / "target.json"
        target.write_text(json.dumps({"texts": ["please do t"]}), encoding="utf-8")
        args = [*args, "--target", str(target)]
    res = invoke("analyze", path, "--out", tmp_path / "o", *args)
    assert res.exit_code == 2, res.output
    one_error_line(res.stderr, pattern)


def test_minilm_without_the_package_gives_the_install_hint(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    path = small_runs(tmp_path, [chat_run("t", 0, ["a", "b"])])
    res = invoke("analyze", path, "--embedder", "minilm", "--out", tmp_path / "o")
    assert res.exit_code == 2
    line = one_error_line(res.stderr, r"--embedder minilm needs the sentence-transformers")
    assert install_hint("embed") in line and "never downloads" in line


# --------------------------------------------------------------------------------------------
# compare


@pytest.mark.extra("agents")
def test_compare_the_example_agents_exits_1_and_names_the_changes(tmp_path):
    res = invoke("compare", RUNS, RUNS_NEW, "--out", tmp_path, "--bootstrap", 200)
    assert res.exit_code == 1, res.output
    assert "CHANGED" in res.stderr
    assert "loop rate rose from 11% (4/35 runs) to 54% (19/35)" in res.stderr
    record = json.loads((tmp_path / "compare.json").read_text())
    assert record["verdict"] == "changed" and record["exit_code"] == 1
    assert "loop" in record["changed"] and "degenerate" not in record["changed"]
    # the HTML headline says the result's own word, as the CLI and compare.json do
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    word = re.search(r'<span class="word"[^>]*>([^<]*)</span>', page).group(1)
    assert word == "changed"
    assert ">fail<" not in page
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        MARKER,
        "compare.csv",
        "compare.json",
        "report.html",
    ]


@pytest.mark.extra("agents")
def test_compare_identical_agents_exits_0(tmp_path):
    records = [chat_run(f"t{i}", j, ["a", "b", "c", "b", "c"][: 3 + i]) for i in range(3)
               for j in range(3)]  # fmt: skip
    path = small_runs(tmp_path, records)
    res = invoke("compare", path, path, "--out", tmp_path / "o", "--json", "-", "--quiet",
                 "--bootstrap", 50, "--resamples", 99)  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["verdict"] == "unchanged"
    page = (tmp_path / "o" / "report.html").read_text(encoding="utf-8")
    assert re.search(r'<span class="word"[^>]*>unchanged</span>', page)


def test_compare_bad_input_exits_2(tmp_path):
    res = invoke("compare", RUNS, tmp_path / "nope.json", "--out", tmp_path / "o")
    assert res.exit_code == 2
    one_error_line(res.stderr, r"nope\.json: file not found")


# --------------------------------------------------------------------------------------------
# example and help


def test_example_writes_the_shipped_files(tmp_path):
    res = invoke("example", "--out", tmp_path)
    assert res.exit_code == 0, res.output
    for key, name in EXAMPLE_FILES.items():
        assert (tmp_path / name).read_bytes() == example_path(key).read_bytes()


def test_help_lists_agents():
    res = CliRunner().invoke(cli, ["--help"])
    assert res.exit_code == 0 and "agents" in res.output
    res = invoke("--help")
    assert res.exit_code == 0
    assert all(word in res.output for word in ("analyze", "compare", "example"))


def test_missing_scikit_learn_gives_the_install_hint(monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "sklearn", None)  # import sklearn raises ImportError
    runner = CliRunner()
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(cli, ["agents", "example", "--out", "ex"]).exit_code == 0
    result = runner.invoke(cli, ["agents", "analyze", "ex/agent_runs.json", "--out", "r"])
    assert result.exit_code == 2
    # from this checkout: `pip install -e '<checkout>[agents]'`, which works where
    # `pip install 'parity[agents]'` would fetch from an index
    assert install_hint("agents") in result.output
    assert ("pip install -e" in result.output) == (checkout_root() is not None)
