"""parity.testing: each assertion decides as the check it wraps does, fails loudly with its
numbers (inconclusive too, unless allowed), is reproducible; and the pytest plugin (pytester).

Oracles: statsmodels' ``ttost_ind`` / ``ttest_ind`` for the TOST and one-sided p-values; the
wrapped functions themselves (parity.compare, compare_embodied) for the verdicts, since an
assertion must never pass what its check does not.
"""

from __future__ import annotations

import importlib.metadata
import json
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pytest

import parity
from parity.errors import ParityWarning
from parity.testing import (
    ParityAssertionError,
    assert_equivalent,
    assert_no_regression,
    assert_noninferior,
    assert_same_distribution,
    recording,
)
from parity.trajectory import compare_embodied

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
FAST = {"n_resamples": 199, "statistics": ("energy",), "sensitivity": False}


def walks(seed: int, episodes: int, t: int = 40, scale: float = 1.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return scale * np.cumsum(rng.normal(size=(episodes, t, 2)), axis=1)


# --------------------------------------------------------------------------------------------
# assert_same_distribution


def test_same_distribution_fails_a_shift_with_the_verdicts_reasons():
    rng = np.random.default_rng(0)
    ref, cand = rng.normal(size=(30, 2)), rng.normal(0.8, 1.0, size=(30, 2))
    verdict = parity.compare(ref, cand, **FAST)
    assert verdict.verdict == "fail"
    with pytest.raises(ParityAssertionError) as info:
        assert_same_distribution(ref, cand, **FAST)
    message = str(info.value)
    assert isinstance(info.value, AssertionError)
    assert message.startswith("assert_same_distribution: FAIL (family p = ")
    assert all(reason in message for reason in verdict.reasons)
    # seeds fixed by default: the result carried is the same verdict, byte for byte
    assert info.value.result.to_json() == verdict.to_json()


def test_same_distribution_passes_what_compare_passes_and_returns_it():
    rng = np.random.default_rng(1)
    ref, cand = rng.normal(size=(30, 2)), rng.normal(size=(30, 2))
    options = {**FAST, "min_samples": 20}
    assert parity.compare(ref, cand, **options).verdict == "pass"
    assert assert_same_distribution(ref, cand, **options).verdict == "pass"


def test_same_distribution_inconclusive_fails_unless_allowed():
    rng = np.random.default_rng(2)
    ref, cand = rng.normal(size=(12, 2)), rng.normal(size=(12, 2))
    assert parity.compare(ref, cand, **FAST).verdict == "inconclusive"
    with pytest.raises(ParityAssertionError, match=r"INCONCLUSIVE.*counted as a failure"):
        assert_same_distribution(ref, cand, **FAST)
    with pytest.warns(ParityWarning, match="too little data"):
        verdict = assert_same_distribution(ref, cand, allow_inconclusive=True, **FAST)
    assert verdict.verdict == "inconclusive"


def test_same_distribution_reports_the_detectable_shift():
    rng = np.random.default_rng(3)
    ref, cand = rng.normal(size=(12, 2)), rng.normal(size=(12, 2))
    options = {"n_resamples": 199, "statistics": ("energy",)}
    verdict = parity.compare(ref, cand, **options)
    shift = verdict.sensitivity.effects["shift"].value
    with pytest.raises(ParityAssertionError, match=f"80% power: {shift:.3g} σ"):
        assert_same_distribution(ref, cand, **options)


# --------------------------------------------------------------------------------------------
# assert_equivalent / assert_noninferior against statsmodels


def test_equivalent_matches_statsmodels_tost():
    sm_ws = pytest.importorskip("statsmodels.stats.weightstats")
    rng = np.random.default_rng(4)
    ref = rng.normal(0.80, 0.02, size=12)
    for shift, expected in ((0.0, True), (0.03, False)):
        cand = rng.normal(0.80 + shift, 0.02, size=12)
        p_sm = sm_ws.ttost_ind(cand, ref, -0.02, 0.02, usevar="unequal")[0]
        assert bool(p_sm < 0.05) is expected
        if expected:
            assert assert_equivalent(ref, cand, margin=0.02).pvalue == pytest.approx(p_sm)
        else:
            with pytest.raises(ParityAssertionError) as info:
                assert_equivalent(ref, cand, margin=0.02)
            assert f"TOST p = {p_sm:.2g} ≥ α = 0.05" in str(info.value)
            assert "FAIL" in str(info.value).splitlines()[0]


def test_equivalent_unattainable_is_inconclusive_and_fails_unless_allowed():
    ref = [0.70, 0.72, 0.71, 0.69, 0.71, 0.70]
    cand = [0.71, 0.70, 0.72, 0.70, 0.69, 0.71]
    with pytest.raises(ParityAssertionError, match="INCONCLUSIVE") as info:
        assert_equivalent(ref, cand, margin=0.005)
    assert not info.value.result.attainable
    with pytest.warns(ParityWarning, match="INCONCLUSIVE"):
        assert_equivalent(ref, cand, margin=0.005, allow_inconclusive=True)


def test_noninferior_matches_statsmodels_one_sided_test():
    sm_ws = pytest.importorskip("statsmodels.stats.weightstats")
    rng = np.random.default_rng(5)
    ref = rng.normal(0.80, 0.02, size=10)
    for cand, expected in ((ref + 0.001, True), (ref - 0.04, False)):
        # H0 μc − μr ≤ −m: Welch t-test of (cand + m) against ref, alternative "larger"
        p_sm = sm_ws.ttest_ind(cand + 0.02, ref, alternative="larger", usevar="unequal")[1]
        assert bool(p_sm < 0.05) is expected
        if expected:
            assert assert_noninferior(ref, cand, margin=0.02).pvalue == pytest.approx(p_sm)
        else:
            with pytest.raises(ParityAssertionError, match="assert_noninferior: FAIL"):
                assert_noninferior(ref, cand, margin=0.02)
    # lower is better: a candidate that rose by twice the margin is inferior
    with pytest.raises(ParityAssertionError):
        assert_noninferior(ref, ref + 0.04, margin=0.02, higher_is_better=False)


# --------------------------------------------------------------------------------------------
# assert_no_regression


def test_no_regression_fails_a_regressed_metric_and_passes_a_smoother_candidate():
    ref = walks(0, 20)
    with pytest.raises(ParityAssertionError, match="3 of 3 metrics regressed") as info:
        assert_no_regression(ref, ref * 1.5, dt=0.1, n_resamples=999)
    assert "jerk_rms: regressed" in str(info.value)
    results = assert_no_regression(ref, ref * 0.99, dt=0.1, n_resamples=999)
    assert {r.status for r in results.values()} == {"ok"}


def test_no_regression_inconclusive_fails_unless_allowed_and_is_reproducible():
    ref, cand = walks(3, 8), walks(4, 8, scale=1.1)
    expected = compare_embodied(ref, cand, dt=0.1, tolerance=0.2, rng=0, n_resamples=999)
    statuses = {r.status for r in expected.values()}
    assert "inconclusive" in statuses and "regressed" not in statuses  # the case is what it says
    with pytest.raises(ParityAssertionError, match="INCONCLUSIVE") as info:
        assert_no_regression(ref, cand, dt=0.1, tolerance=0.2, n_resamples=999)
    assert info.value.result == expected  # rng=0 by default: the same bootstrap
    with warnings.catch_warnings():
        warnings.simplefilter("error", ParityWarning)
        with pytest.raises(ParityWarning, match="INCONCLUSIVE"):
            assert_no_regression(
                ref, cand, dt=0.1, tolerance=0.2, n_resamples=999, allow_inconclusive=True
            )


# --------------------------------------------------------------------------------------------
# recording


def test_recording_collects_each_assertion_in_every_open_block():
    ref = [0.90, 0.91, 0.92, 0.90, 0.91]
    with recording() as outer:
        assert_noninferior(ref, ref, margin=0.05, name="same")
        with recording() as inner, pytest.raises(AssertionError):
            assert_noninferior(ref, [0.5, 0.6, 0.55, 0.5, 0.6], margin=0.05)
    assert [(r.name, r.outcome, r.passed) for r in outer] == [
        ("same", "pass", True),
        (None, "fail", False),
    ]
    assert inner == outer[1:]
    assert outer[1].test.endswith("test_recording_collects_each_assertion_in_every_open_block")
    assert json.loads(outer[1].json)["pvalue"] == pytest.approx(outer[1].pvalue)
    assert outer[0].message.startswith("assert_noninferior[same]: PASS")


# --------------------------------------------------------------------------------------------
# the pytest plugin


def plugin_args() -> list[str]:
    """``-p parity.testing.plugin`` unless an installed parity already registers it."""
    installed = importlib.metadata.entry_points(group="pytest11")
    return (
        []
        if any(ep.value == "parity.testing.plugin" for ep in installed)
        else [
            "-p",
            "parity.testing.plugin",
        ]
    )


USER_TESTS = """
from parity.testing import assert_equivalent, assert_noninferior

REF = [0.80, 0.82, 0.81, 0.79, 0.80, 0.81]

def test_equivalent():
    assert_equivalent(REF, [0.81, 0.80, 0.82, 0.80, 0.79, 0.81], margin=0.05, name="accuracy")

def test_worse():
    assert_noninferior(REF, [0.60, 0.61, 0.62, 0.60, 0.61, 0.60], margin=0.05)

def test_plain():
    assert 1 + 1 == 2
"""


def test_pyproject_registers_the_plugin_entry_point():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["pytest11"] == {"parity": "parity.testing.plugin"}


def test_plugin_lists_every_assertion_in_a_parity_section(pytester):
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest(*plugin_args())
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.re_match_lines(
        [
            r"=+ parity =+",
            r"test_user.py::test_equivalent: assert_equivalent\[accuracy\]: PASS \(TOST p = \S+ <",
            r"test_user.py::test_worse: assert_noninferior: FAIL \(one-sided p = 1 ≥ α = 0.05\)",
            r"2 parity assertions, 1 did not hold",
        ]
    )
    assert "reports of the failed" not in result.stdout.str()


def test_plugin_writes_the_reports_of_failed_assertions(pytester):
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest(*plugin_args(), "--parity-reports", "parity-out")
    result.assert_outcomes(passed=2, failed=1)
    folder = pytester.path / "parity-out"
    names = sorted(p.name for p in folder.iterdir())
    stem = "test_user.py__test_worse.assert_noninferior-1"
    assert names == [f"{stem}.json", f"{stem}.md"]
    record = json.loads((folder / f"{stem}.json").read_text())
    assert record["noninferior"] is False and record["pvalue"] == pytest.approx(1.0)
    assert (folder / f"{stem}.md").read_text().startswith("# assert_noninferior: FAIL")
    result.stdout.fnmatch_lines(["reports of the failed assertions: parity-out/ (2 files)"])


def test_plugin_is_silent_without_parity_assertions(pytester):
    pytester.makepyfile(test_other="def test_a():\n    assert True\n")
    result = pytester.runpytest(*plugin_args(), "--parity-reports", "out")
    result.assert_outcomes(passed=1)
    assert not any(line.strip("= ") == "parity" for line in result.stdout.lines)
    assert "parity assertions" not in result.stdout.str()
    assert not (pytester.path / "out").exists()


def readme_block(after: str, language: str) -> str:
    """The first fenced ``language`` block of the README after the line containing ``after``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"```{language}\n", text.index(after)) + len(language) + 4
    return text[start : text.index("```\n", start)]


def test_readme_worked_example_runs_as_documented(pytester):
    """The README's quantized-model test passes, and prints the summary the README shows."""
    pytester.makepyfile(test_quantized=readme_block("guards a quantized model", "python"))
    result = pytester.runpytest(*plugin_args(), "--parity-reports", "parity-reports")
    result.assert_outcomes(passed=2)
    shown = readme_block("pytest --parity-reports parity-reports", "text").splitlines()
    result.stdout.fnmatch_lines(shown, consecutive=True)
    written = sorted(p.suffix for p in (pytester.path / "parity-reports").iterdir())
    assert written == [".json", ".md"]
