"""Tests of ``parity equivalence``: click's CliRunner and the installed console script; exit
codes 0/1/3/2, ``--json -``, one-line errors, the inputs it reads (.npy, CSV column, JSONL
field)."""

from __future__ import annotations

import json
import subprocess
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from parity.io import round_floats
from parity.stats.equivalence import noninferiority, tost
from processes import PARITY, one_error_line, strict_loads
from processes import invoke as invoke_cli

invoke = partial(invoke_cli, "equivalence")


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("eq")
    rng = np.random.default_rng(0)
    ref = rng.normal(0.80, 0.02, 30)
    arrays = {
        "ref.npy": ref,
        "same.npy": ref + rng.normal(0.0, 0.005, 30),  # paired, equivalent at ±0.01
        "worse.npy": ref - 0.05 + rng.normal(0.0, 0.005, 30),
        "few.npy": np.array([0.80, 0.85, 0.75]),
        "short.npy": ref[:10],
        "two.npy": rng.normal(size=(10, 2)),
        "nan.npy": np.array([0.8, np.nan, 0.7]),
    }
    for name, arr in arrays.items():
        np.save(d / name, arr)
    lines = "".join(f"{i},{float(v)!r},{2 * float(v)!r}\n" for i, v in enumerate(ref))
    (d / "runs.csv").write_text("seed,success,reward\n" + lines)
    (d / "runs.jsonl").write_text(
        "".join(json.dumps({"seed": i, "success": float(v)}) + "\n" for i, v in enumerate(ref))
    )
    return {name: d / name for name in [*arrays, "runs.csv", "runs.jsonl"]}


# --------------------------------------------------------------------------------------------
# exit codes through CliRunner


def test_equivalent_exits_0_and_prints_both_tests(files):
    result = invoke(files["ref.npy"], files["same.npy"], "--margin", "0.01", "--paired")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    err = result.stderr
    assert "EQUIVALENT" in err and "μc − μr ≤ -0.01" in err and "μc − μr ≥ 0.01" in err
    assert "90% CI" in err and "TOST (max p)" in err


def test_not_equivalent_exits_1(files):
    result = invoke(files["ref.npy"], files["worse.npy"], "--margin", "0.01", "--paired")
    assert result.exit_code == 1, result.output
    assert "NOT EQUIVALENT" in result.stderr


def test_too_few_runs_exits_3_and_says_so(files):
    # TOST whose 90% interval is wider than the ±0.01 band at any observed means: truly undecidable
    result = invoke(files["ref.npy"], files["few.npy"], "--margin", "0.01", "--json", "-")
    assert result.exit_code == 3, result.output
    assert "INCONCLUSIVE" in result.stderr
    assert "cannot be shown with these data whatever the observed means" in result.stderr
    assert "would be needed" in result.stderr and "would give 80% power" in result.stderr
    payload = strict_loads(result.stdout)
    assert payload["result"]["attainable"] is False
    assert payload["attainability"]["attainable"] is False


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "equivalence"


def test_noninferiority_on_the_shipped_example_is_not_shown_not_inconclusive(tmp_path):
    # the case: exit 3 claimed "n is too small … whatever the observed means", yet the
    # same n with the candidate 12 higher is non-inferior (p = 0.041)
    official = f"{EXAMPLE / 'official.csv'}:episode_return"
    reimpl = f"{EXAMPLE / 'reimplementation.csv'}:episode_return"
    result = invoke(official, reimpl, "--margin", "5", "--noninferiority", "--json", "-")
    assert result.exit_code == 1, result.output
    assert "NON-INFERIORITY NOT SHOWN" in result.stderr
    assert "whatever the observed means" not in result.stderr
    payload = strict_loads(result.stdout)
    assert payload["verdict"] == "non-inferiority not shown"
    assert payload["attainability"]["attainable"] is True
    n = payload["result"]["n_for_power"]
    assert f"about {n} runs per system would give 80% power" in " ".join(result.stderr.split())
    table = np.genfromtxt(EXAMPLE / "reimplementation.csv", delimiter=",", names=True)
    better = tmp_path / "better.npy"
    np.save(better, table["episode_return"] + 12)
    shown = invoke(official, better, "--margin", "5", "--noninferiority", "--json", "-")
    assert shown.exit_code == 0, shown.output
    assert strict_loads(shown.stdout)["result"]["pvalue"] == pytest.approx(0.041, abs=5e-4)


def test_equivalence_that_a_better_result_could_show_exits_1_with_the_runs_needed(files):
    result = invoke(files["ref.npy"], files["worse.npy"], "--margin", "0.03", "--json", "-")
    payload = strict_loads(result.stdout)
    assert payload["result"]["attainable"] is True and not payload["result"]["equivalent"]
    assert result.exit_code == 1, result.output
    assert "would give 80% power to show equivalence" in " ".join(result.stderr.split())


def test_noninferiority_never_exits_3_even_with_three_runs(files):
    result = invoke(files["ref.npy"], files["few.npy"], "--margin", "0.001", "--noninferiority")
    assert result.exit_code == 1, result.output
    assert "INCONCLUSIVE" not in result.stderr


def test_relative_margin(files):
    result = invoke(files["ref.npy"], files["same.npy"], "--margin", "0.02", "--relative",
                    "--paired", "--json", "-")  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = strict_loads(result.stdout)
    assert payload["result"]["relative"] is True
    assert payload["result"]["bounds"] == pytest.approx([0.98, 1.02])


def test_asymmetric_margin_with_equals_sign(files):
    result = invoke(files["ref.npy"], files["same.npy"], "--margin=-0.005,0.02", "--paired")
    assert result.exit_code == 0, result.output
    assert "μc − μr ≤ -0.005" in result.stderr


@pytest.mark.parametrize(
    "cand, flags, code",
    [
        ("worse.npy", ["--margin", "0.1"], 0),
        ("worse.npy", ["--margin", "0.01"], 1),
        ("worse.npy", ["--margin", "0.01", "--lower-is-better"], 0),
        ("same.npy", ["--margin", "0.01", "--higher-is-better", "--paired"], 0),
    ],
)
def test_noninferiority(files, cand, flags, code):
    result = invoke(files["ref.npy"], files[cand], "--noninferiority", *flags)
    assert result.exit_code == code, result.output
    assert "non-inferiority" in result.stderr


def test_json_stdout_matches_the_api(files):
    result = invoke(files["ref.npy"], files["same.npy"], "--margin", "0.01", "--paired",
                    "--json", "-", "--quiet")  # fmt: skip
    assert result.exit_code == 0 and result.stderr == ""
    payload = strict_loads(result.stdout)
    ref, cand = np.load(files["ref.npy"]), np.load(files["same.npy"])
    expected = tost(ref, cand, margin=0.01, paired=True).to_dict()
    assert payload["result"] == round_floats(expected)  # JSON floats: 12 significant digits
    assert payload["verdict"] == "equivalent" and payload["exit_code"] == 0
    assert payload["test"] == "equivalence"
    assert payload["inputs"]["reference"]["n"] == 30
    assert len(payload["inputs"]["candidate"]["file_sha256"]) == 64
    assert payload["attainability"]["attainable"] is True


def test_json_file_noninferiority(files, tmp_path):
    out = tmp_path / "sub" / "ni.json"
    result = invoke(files["ref.npy"], files["worse.npy"], "--noninferiority", "--margin", "0.1",
                    "--json", out)  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = strict_loads(out.read_text())
    ref, cand = np.load(files["ref.npy"]), np.load(files["worse.npy"])
    assert payload["result"] == round_floats(noninferiority(ref, cand, margin=0.1).to_dict())
    assert payload["verdict"] == "non-inferior"
    assert payload["result"]["confidence_interval"][1] == "inf"


def test_table_inputs(files):
    ok = invoke(f"{files['runs.csv']}:success", f"{files['runs.jsonl']}:success",
                "--margin", "0.001", "--paired", "--json", "-", "--quiet")  # fmt: skip
    # the same numbers from both files: every paired difference is 0, a contrast without
    # variance, which bounds nothing: inconclusive (exit 3), not a confident "equivalent"
    assert ok.exit_code == 3, ok.output
    payload = strict_loads(ok.stdout)
    assert payload["result"]["estimate"] == 0.0 and payload["verdict"] == "inconclusive"
    assert "zero variance" in payload["degenerate"]


# --------------------------------------------------------------------------------------------
# input errors: exit 2, one line


@pytest.mark.parametrize(
    "args, pattern",
    [
        (["two.npy", "ref.npy", "--margin", "0.1"], r"two\.npy: expected one column"),
        (["runs.csv", "ref.npy", "--margin", "0.1"], r"runs\.csv: expected one column"),
        (["ref.npy", "short.npy", "--margin", "0.1", "--paired"], r"--paired needs .* 30 and 10"),
        (["ref.npy", "same.npy", "--margin", "0"], r"`margin` must be a finite number > 0"),
        (["ref.npy", "same.npy", "--margin", "abc"], r"`--margin` must be a number or LOW,HIGH"),
        (["ref.npy", "same.npy", "--margin", "-0.1,0.1", "--noninferiority"], r"single number"),
        (
            ["ref.npy", "same.npy", "--margin", "0.1", "--alpha", "0.6"],
            r"Invalid value for '--alpha': 0.6 is not in the range 0<x<0.5",
        ),
        (["ref.npy", "same.npy", "--margin", "0.1", "--lower-is-better"], r"--noninferiority"),
        (["ref.npy", "nan.npy", "--margin", "0.1"], r"nan\.npy.*NaN"),
        (["missing.npy", "ref.npy", "--margin", "0.1"], r"missing\.npy"),
        (["ref.npy", "same.npy"], r"--margin"),
        (["ref.npy", "same.npy", "--margin", "0.1", "--paired", "--equal-var"], r"equal_var"),
    ],
)
def test_input_errors_exit_2_with_one_line(files, args, pattern):
    d = files["ref.npy"].parent
    resolved = [str(d / a) if a.endswith(".npy") or a.endswith(".csv") else a for a in args]
    result = invoke(*resolved)
    assert result.exit_code == 2, result.output
    one_error_line(result.stderr, pattern)


def test_relative_with_nonpositive_reference_mean(files, tmp_path):
    np.save(tmp_path / "neg.npy", np.array([-1.0, -2.0, -1.5]))
    result = invoke(tmp_path / "neg.npy", files["ref.npy"], "--margin", "0.1", "--relative")
    assert result.exit_code == 2
    one_error_line(result.stderr, r"reference mean > 0")


# --------------------------------------------------------------------------------------------
# the installed console script


def run_script(*args):
    return subprocess.run(
        [str(PARITY), "equivalence", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_console_script_exit_codes_and_json(files):
    proc = run_script(files["ref.npy"], files["same.npy"], "--margin", "0.01", "--paired",
                      "--json", "-")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert strict_loads(proc.stdout)["verdict"] == "equivalent"
    assert "EQUIVALENT" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_script(files["ref.npy"], files["few.npy"], "--margin", "0.01", "--quiet")
    assert proc.returncode == 3 and proc.stderr == ""
    proc = run_script(files["ref.npy"], files["worse.npy"], "--margin", "0.01", "--quiet")
    assert proc.returncode == 1


def test_console_script_error_line(files):
    proc = run_script(files["two.npy"], files["ref.npy"], "--margin", "0.1")
    assert proc.returncode == 2
    one_error_line(proc.stderr, r"two\.npy: expected one column of scalar results")
