"""Tests of the suite reports (``parity.report.suite``) and ``parity suite report``.

Byte-identical reports for the same inputs, strict JSON, a short Markdown summary; the CLI on a
store written with :class:`~parity.suite.store.Store` (exit codes 0, 1, 3 and 2, one-line errors);
and the example suite end to end: ``parity suite run`` then ``parity suite report`` on a copy of
``examples/suite`` (faithful: exit 0; broken: exit 1).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest

from parity.cli._output import MARKER
from parity.report.suite import MAX_TABLE_ROWS, suite_markdown, write_suite_reports
from parity.suite.checks import judge
from parity.suite.manifest import parse_manifest
from parity.suite.records import RunKey, RunRecord
from processes import invoke as invoke_cli
from processes import strict_loads
from suites import arrays, manifest_dict, runs_for, write_store

invoke = partial(invoke_cli, "suite", "report")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "suite"
DOCS = ROOT / "docs" / "suites.md"
BIN = Path(sys.executable).parent
PARITY = BIN / "parity"
JSON_REPORTS = {
    "coverage_report.json",
    "validity_report.json",
    "equivalence_report.json",
    "stability_report.json",
}


# --------------------------------------------------------------------------------------------
# the report files


def test_reports_are_byte_identical_and_strict_json(tmp_path):
    m = parse_manifest(manifest_dict())
    runs = runs_for(m)
    paths_a = write_suite_reports(judge(m, runs, rng=1, load_arrays=arrays), tmp_path / "a")
    paths_b = write_suite_reports(
        judge(m, list(reversed(runs)), rng=1, load_arrays=arrays), tmp_path / "b"
    )
    names = [p.name for p in paths_a]
    assert names == [
        "coverage_report.json",
        "validity_report.json",
        "equivalence_report.json",
        "equivalence_report.md",
        "stability_report.json",
        "component_match_report.json",
    ]
    for pa, pb in zip(paths_a, paths_b, strict=True):
        assert pa.read_bytes() == pb.read_bytes(), pa.name
        if pa.suffix == ".json":
            data = strict_loads(pa.read_text(encoding="utf-8"))
            assert data["report"] == pa.name.removesuffix("_report.json")
            assert data["suite"] == "toy" and data["seed"] == 1
            assert "time" not in json.dumps(data).lower().replace("timeout", "")
            assert (
                pa.read_text(encoding="utf-8")
                == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
            )
    eq = strict_loads((tmp_path / "a" / "equivalence_report.json").read_text(encoding="utf-8"))
    assert eq["final"]["verdict"] == "pass" and eq["final"]["exit_code"] == 0
    assert eq["final"]["parity_pass_final"] is True and eq["final"]["missing_pairs"] == 0
    assert len(eq["tests"]) == 6 and eq["aggregates"][0]["name"] == "iqm_return"
    stab = strict_loads((tmp_path / "a" / "stability_report.json").read_text(encoding="utf-8"))
    assert stab["method"] == "reruns" and len(stab["groups"]) == 2
    # another seed changes the bootstrap numbers, hence the bytes
    write_suite_reports(judge(m, runs, rng=2, load_arrays=arrays), tmp_path / "c")
    assert (tmp_path / "c" / "equivalence_report.json").read_bytes() != (
        tmp_path / "a" / "equivalence_report.json"
    ).read_bytes()


def test_no_component_report_without_components(tmp_path):
    (tmp_path / "component_match_report.json").write_text("{}")  # from an earlier manifest
    m = parse_manifest(manifest_dict(components={}))
    paths = write_suite_reports(judge(m, runs_for(m)), tmp_path)
    assert {p.name for p in paths} == JSON_REPORTS | {"equivalence_report.md"}
    assert {p.name for p in tmp_path.iterdir()} == JSON_REPORTS | {"equivalence_report.md"}


def test_markdown_is_short_and_lists_what_fails(tmp_path):
    tasks = [f"task{i:02d}" for i in range(40)]
    m = parse_manifest(manifest_dict(tasks=tasks, reruns=1, components={}))
    runs = [
        RunRecord(
            r.key,
            "ok",
            {
                **r.metrics,
                "return": r.metrics["return"]
                * (0.8 if r.key == RunKey("candidate", "task07", r.key.seed) else 1.0),
            },
        )
        for r in runs_for(m)
    ]
    v = judge(m, runs)
    text = suite_markdown(v.to_dict())
    assert text.startswith("# Suite `toy`: FAIL\n")
    assert len(text.splitlines()) < 45 and len(text) < 6000
    assert "| task07 | return |" in text and "| task08 | return |" not in text
    assert f"{2 * len(tasks) - 1} passing tests not shown" in text
    assert 2 * len(tasks) > MAX_TABLE_ROWS
    # everything failing: still at most MAX_TABLE_ROWS rows
    worse = judge(
        m,
        [
            RunRecord(
                r.key,
                "ok",
                {
                    **r.metrics,
                    "cost": r.metrics["cost"] + (5 if r.key.system == "candidate" else 0),
                },
            )
            for r in runs
        ],
    )
    text = suite_markdown(worse.to_dict())
    rows = [line for line in text.splitlines() if re.match(r"\| task\d\d \|", line)]
    assert len(rows) == MAX_TABLE_ROWS
    n_fail = sum(not t.passed for t in worse.equivalence.tests)
    assert n_fail == len(tasks) + 1  # every cost, and task07's return
    hidden = f"{2 * len(tasks) - n_fail} passing and {n_fail - MAX_TABLE_ROWS} more failing"
    assert f"{hidden} tests not shown" in text
    assert len(text.splitlines()) < 70 and len(text) < 10_000
    small = suite_markdown(
        judge(
            parse_manifest(manifest_dict(components={})),
            runs_for(parse_manifest(manifest_dict(components={}))),
        ).to_dict()
    )
    assert small.count("| pass |") >= 6 and len(small.splitlines()) < 40


# --------------------------------------------------------------------------------------------
# the command


def test_cli_pass_writes_the_reports(tmp_path):
    spec = manifest_dict(components={})
    path = write_store(tmp_path, spec, runs_for(parse_manifest(spec)))
    res = invoke(path, "--out", tmp_path / "out")
    assert res.exit_code == 0, res.output
    assert "suite toy: PASS" in res.stderr
    assert {p.name for p in (tmp_path / "out").iterdir()} == JSON_REPORTS | {
        MARKER,
        "equivalence_report.md",
        "report.html",
        "evidence_bundle.zip",
    }
    quiet = invoke(path, "--out", tmp_path / "out2", "--quiet")
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout == ""
    for name in JSON_REPORTS:
        assert (tmp_path / "out" / name).read_bytes() == (tmp_path / "out2" / name).read_bytes()


def test_cli_fail_and_inconclusive_exit_codes(tmp_path):
    spec = manifest_dict(components={}, aggregates=[])
    m = parse_manifest(spec)
    bad = write_store(tmp_path / "bad", spec, runs_for(m, shift=0.8))
    res = invoke(bad, "--out", tmp_path / "bad" / "out")
    assert res.exit_code == 1 and "FAIL" in res.stderr
    few = dict(spec, seeds=[0, 1], reruns=1, metrics={"return": spec["metrics"]["return"]})
    few["validity"] = {}
    noisy = write_store(tmp_path / "few", few, runs_for(parse_manifest(few), sd=40.0))
    res = invoke(noisy, "--out", tmp_path / "few" / "out")
    assert res.exit_code == 3 and "INCONCLUSIVE" in res.stderr


def test_cli_store_option_and_errors(tmp_path):
    spec = manifest_dict(components={})
    path = write_store(tmp_path, spec, runs_for(parse_manifest(spec)))
    moved = tmp_path / "elsewhere.sqlite"
    shutil.move(tmp_path / "suite.parity.sqlite", moved)
    res = invoke(path, "--out", tmp_path / "out")
    assert res.exit_code == 2
    assert res.stderr.startswith("error: ") and "no store" in res.stderr
    assert len(res.stderr.splitlines()) == 1 and "Traceback" not in res.stderr
    assert invoke(path, "--out", tmp_path / "out", "--store", moved).exit_code == 0
    res = invoke(tmp_path / "nope.yaml")
    assert res.exit_code == 2 and "nope.yaml: file not found" in res.stderr
    res = invoke(path, "--seed", "-1")
    assert res.exit_code == 2


# --------------------------------------------------------------------------------------------
# the example suite, end to end


def _run(args, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(PARITY), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize(
    ("manifest", "code", "verdict"),
    [("suite.yaml", 0, "PASS"), ("broken/suite_broken.yaml", 1, "FAIL")],
)
def test_example_suite_end_to_end(tmp_path, manifest, code, verdict):
    """The faithful suite as shipped (docs/suites.md); the broken one on 4 of its 10 seeds
    (to keep the test short: the bug is 15 % on one task, far outside the 5 % margin)."""
    pytest.importorskip("parity.suite.store", reason="parity.suite.store is not there yet")
    pytest.importorskip("parity.suite.runner", reason="parity.suite.runner is not there yet")
    work = tmp_path / "suite"
    shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns("runs", "reports", "*.sqlite*"))
    if code == 1:
        path = work / manifest
        text = path.read_text(encoding="utf-8")
        assert "seeds: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]" in text
        path.write_text(
            text.replace("seeds: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]", "seeds: [0, 1, 2, 3]")
        )
    # the manifests run `python3 agent.py`: the venv's python3 (with numpy) must come first
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "COLUMNS": "80"}
    ran = _run(["suite", "run", manifest, "--quiet"], work, env)
    assert ran.returncode == 0, ran.stderr
    out = work / Path(manifest).parent / "reports"
    rep = _run(["suite", "report", manifest, "--out", str(out)], work, env)
    assert rep.returncode == code, rep.stderr
    assert f": {verdict}" in rep.stderr.splitlines()[0]
    final = strict_loads((out / "equivalence_report.json").read_text(encoding="utf-8"))["final"]
    assert final["missing_pairs"] == 0 and final["validity_pass"] is True
    assert final["component_match_pass"] is True
    if code == 1:
        failing = [
            (t["task"], t["metric"])
            for t in strict_loads((out / "equivalence_report.json").read_text())["tests"]
            if not t["passed"]
        ]
        assert failing == [("reacher", "return")]
    if code == 0:  # docs/suites.md shows this run's summary and Markdown as they are
        docs = DOCS.read_text(encoding="utf-8")
        markdown = docs.split("```markdown\n", 1)[1].split("\n```\n", 1)[0] + "\n"
        assert (out / "equivalence_report.md").read_text(encoding="utf-8") == markdown
        summary = rep.stderr.splitlines()[:-1]  # the last line names the reports folder
        assert "\n".join(summary) in docs
    again = _run(["suite", "report", manifest, "--out", str(out) + "2", "--quiet"], work, env)
    assert again.returncode == code
    for name in JSON_REPORTS | {"equivalence_report.md", "component_match_report.json"}:
        assert (out / name).read_bytes() == (Path(str(out) + "2") / name).read_bytes()
