"""parity where Python, shell and CI users look for it: ``parity.<subpackage>`` without an
import, ``python -m parity``, click's shell completion, and every deciding command's Markdown
summary appended to ``$GITHUB_STEP_SUMMARY``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

import parity
from parity.cli.main import cli
from parity.examples.agent_runs import example_path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("scipy.stats", "matplotlib", "pydantic", "torch", "sklearn", "sentence_transformers")


def python(*args: str, env: dict | None = None, cwd: Path | None = None):
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


# --------------------------------------------------------------------------------------------
# parity.<subpackage>


PROBE = """
import importlib, json, sys
import parity
light = [m for m in {heavy!r} if m in sys.modules]
found = {{name: getattr(parity, name).__name__ for name in parity.SUBMODULES}}
print(json.dumps({{"light": light, "found": found}}))
"""


def test_every_subpackage_is_an_attribute_and_import_parity_stays_light(tmp_path):
    proc = python("-c", PROBE.format(heavy=HEAVY), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.splitlines()[-1])
    assert report["light"] == []
    assert report["found"] == {name: f"parity.{name}" for name in parity.SUBMODULES}
    packages = {
        p.name for p in (ROOT / "src" / "parity").iterdir() if (p / "__init__.py").is_file()
    }
    modules = {p.stem for p in (ROOT / "src" / "parity").glob("*.py") if not p.stem.startswith("_")}
    assert set(parity.SUBMODULES) == packages | modules  # a new subpackage cannot be forgotten
    assert set(parity.SUBMODULES) <= set(dir(parity)) | set(parity.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = parity.nope


# --------------------------------------------------------------------------------------------
# python -m parity and shell completion


def test_python_m_parity_is_the_cli(tmp_path):
    proc = python("-m", "parity", "--version", cwd=tmp_path)
    assert (proc.returncode, proc.stdout.strip()) == (0, f"parity, version {parity.__version__}")
    proc = python("-m", "parity", "compare", "a.npy", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.startswith("error: ")


def test_click_shell_completion(tmp_path):
    source = python("-m", "parity", env={"_PARITY_COMPLETE": "bash_source"}, cwd=tmp_path)
    assert source.returncode == 0
    assert "_parity_completion()" in source.stdout and "complete -o nosort -F" in source.stdout
    env = {"_PARITY_COMPLETE": "bash_complete", "COMP_WORDS": "parity su", "COMP_CWORD": "1"}
    assert python("-m", "parity", env=env, cwd=tmp_path).stdout.split() == ["plain,suite"]
    env.update(COMP_WORDS="parity equivalence --marg", COMP_CWORD="2")
    assert python("-m", "parity", env=env, cwd=tmp_path).stdout.split() == ["plain,--margin"]
    zsh = python("-m", "parity", env={"_PARITY_COMPLETE": "zsh_source"}, cwd=tmp_path)
    assert "#compdef parity" in zsh.stdout


# --------------------------------------------------------------------------------------------
# $GITHUB_STEP_SUMMARY


def run_in_ci(summary: Path, *args) -> tuple[int, str]:
    """Run ``parity ARGS`` as in a GitHub Actions step; return the exit code and the summary."""
    result = CliRunner().invoke(
        cli, [str(a) for a in args], env={"GITHUB_STEP_SUMMARY": str(summary)}
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, summary.read_text(encoding="utf-8") if summary.exists() else ""


@pytest.fixture
def arrays(tmp_path) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    out = {}
    for name, shift in (("ref", 0.0), ("shift", 1.0)):
        out[name] = tmp_path / f"{name}.npy"
        np.save(out[name], rng.normal(shift, 1.0, size=(40, 2)))
    return out


def test_compare_appends_its_summary_md(tmp_path, arrays):
    summary = tmp_path / "job-summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    args = ("compare", arrays["ref"], arrays["shift"], "--resamples", "199", "--quiet")
    code, text = run_in_ci(summary, *args, "--out", tmp_path / "r1")
    assert code == 1
    report = (tmp_path / "r1" / "summary.md").read_text(encoding="utf-8")
    assert report.startswith("# Parity comparison: FAIL")
    assert text == "earlier step\n" + report.rstrip("\n") + "\n\n"
    # a second deciding command appends, it does not replace
    code, text = run_in_ci(summary, *args, "--out", tmp_path / "r2")
    assert text.count("# Parity comparison: FAIL") == 2 and text.startswith("earlier step\n")


def test_no_variable_no_summary(tmp_path, arrays, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["compare", str(arrays["ref"]), str(arrays["ref"]), "--resamples", "199"]
    result = CliRunner().invoke(cli, [*args, "--quiet", "--out", "r"])
    assert result.exit_code in (0, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r", "ref.npy", "shift.npy"]


def test_unwritable_summary_warns_and_keeps_the_verdicts_exit_code(tmp_path, arrays):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    args = ("compare", arrays["ref"], arrays["shift"], "--resamples", "199", "--quiet")
    result = CliRunner().invoke(
        cli,
        [*map(str, args), "--out", str(tmp_path / "r")],
        env={"GITHUB_STEP_SUMMARY": str(folder)},
    )
    assert result.exit_code == 1
    assert result.stderr.startswith(f"warning: GITHUB_STEP_SUMMARY={folder}: cannot append")


def test_equivalence_appends_its_summary(tmp_path):
    ex = ROOT / "examples" / "equivalence"
    summary = tmp_path / "s.md"
    code, text = run_in_ci(
        summary,
        "equivalence",
        f"{ex / 'official.csv'}:episode_return",
        f"{ex / 'reimplementation.csv'}:episode_return",
        "--margin",
        "0.05",
        "--relative",
        "--quiet",
    )
    assert code == 0
    assert text.startswith("## parity equivalence: EQUIVALENT\n")
    assert "(0.95, 1.05)" in text and "90% CI" in text  # the relative band and the interval


def test_gate_appends_its_summary(tmp_path):
    ex = ROOT / "examples" / "gates"
    summary = tmp_path / "s.md"
    files = (ex / "incumbent.jsonl", ex / "candidate.jsonl")
    code, text = run_in_ci(summary, "gate", *files, "--quiet")
    assert code == 1 and text.startswith("## parity gate: REJECT\n")
    assert "| current |" in text
    code, text = run_in_ci(summary, "gate", *files, "--metric", "soft", "--paired", "--quiet")
    assert code == 3 and "## parity gate: INCONCLUSIVE\n" in text and "two-sided" in text


def test_suite_report_appends_its_equivalence_report_md(tmp_path):
    spec = {
        "name": "toy",
        "tasks": ["a", "b"],
        "seeds": list(range(6)),
        "systems": {"reference": {"command": "r {out}"}, "candidate": {"command": "c {out}"}},
        "metrics": {"return": {"margin": {"relative": 0.05}}},
    }
    from parity.suite.manifest import parse_manifest
    from parity.suite.records import RunRecord
    from parity.suite.store import Store

    manifest = tmp_path / "suite.yaml"
    manifest.write_text(yaml.safe_dump(spec), encoding="utf-8")
    rng = np.random.default_rng(0)
    with Store(tmp_path / "suite.parity.sqlite") as store:
        for key in parse_manifest(spec).expected_keys():
            store.record(RunRecord(key, "ok", {"return": float(rng.normal(100, 1))}))
    summary = tmp_path / "s.md"
    code, text = run_in_ci(summary, "suite", "report", manifest, "--out", tmp_path / "r", "--quiet")
    assert code == 0
    report = (tmp_path / "r" / "equivalence_report.md").read_text(encoding="utf-8")
    assert text == report.rstrip("\n") + "\n\n"


def test_agents_compare_appends_its_summary(tmp_path):
    pytest.importorskip("sklearn", reason="parity agents needs the agents extra (scikit-learn)")
    summary = tmp_path / "s.md"
    code, text = run_in_ci(
        summary,
        "agents",
        "compare",
        example_path("runs"),
        example_path("runs_new"),
        "--out",
        tmp_path / "diff",
        "--resamples",
        "199",
        "--quiet",
    )
    payload = json.loads((tmp_path / "diff" / "compare.json").read_text(encoding="utf-8"))
    verdict = payload["verdict"]
    assert text.startswith(f"## parity agents compare: {verdict.upper()}\n")
    assert code == {"unchanged": 0, "changed": 1, "inconclusive": 3}[verdict]
    assert all(f"| {m['description']} |" in text for m in payload["metrics"])
