"""Tests of the HTML reports (``parity.report.html_compare``, ``parity.report.html_suite``).

Byte-identical pages for the same inputs and seed; self-contained (no scripts, no remote
resources); every section there; hostile strings escaped; the marginals' "not available" case;
records with content the page does not know (new statistics, ``details``, ``sensitivity``);
``parity compare --html`` and the bundle's ``report.html``; ``parity suite report`` writing
``report.html`` into its folder and bundle; ``parity demo`` writing the page and the bundle.
The pages in a browser: tests/test_browser.py.
"""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

import parity
from parity.errors import ParityInputError
from parity.report.bundle import bundle_summary, read_bundle, verify_bundle
from parity.report.html import flatten
from parity.report.html_compare import comparison_html
from parity.report.html_suite import suite_html
from parity.suite.checks import judge
from parity.suite.manifest import parse_manifest
from parity.suite.records import RunKey, RunRecord
from processes import invoke
from suites import arrays, manifest_dict, runs_for, write_store

COMPARE_SECTIONS = (
    "Action distributions: two-sample tests",
    "Null distributions",
    "Action marginals: reference vs candidate",
    "Embodied metrics: candidate / reference",
    "Inputs",
    "Settings",
    "Warnings",
)
SUITE_SECTIONS = (
    "What the verdict rests on",
    "Per-task tests",
    "Aggregates",
    "Coverage",
    "Failed runs",
    "Validity",
    "Stability",
    "Components",
    "Settings",
)
SHIFT = np.array([0.6, 0.0, 0.0])
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def assert_self_contained(text: str) -> None:
    assert text.startswith("<!DOCTYPE html>")
    assert "<script" not in text.lower()
    assert "@import" not in text
    assert not re.search(r"url\(\s*['\"]?https?:", text, re.I)
    assert not re.search(r"\b(src|href)\s*=\s*['\"]?\s*(https?:)?//", text, re.I)
    assert not re.search(r"<(link|iframe|object|embed|img)\b", text, re.I)


def headings(text: str) -> list[str]:
    return re.findall(r"<h[1-6]>([^<]*)</h[1-6]>", text)


def svgs(text: str) -> list[str]:
    return re.findall(r"<svg.*?</svg>", text, re.S)


def _badges(text: str) -> list[str]:
    return re.findall(r'<span class="badge"[^>]*>([^<]*)</span>', text)


@pytest.mark.parametrize(
    ("family", "pvalues", "expected"),
    [
        # the case: a PASS with family p = 0.058, MMD² and energy at 0.043 and 0.045
        (0.058, (0.043, 0.045, 0.6), ["not significant after adjustment"] * 2 + ["no difference"]),
        # the family rejects: the smallest p differs; 0.03 is not significant after adjustment
        # (3 × 0.03 ≥ 0.05), 0.01 is (3 × 0.01 < 0.05)
        (0.004, (0.002, 0.03, 0.01), ["differs", "not significant after adjustment", "differs"]),
    ],
)
def test_statistic_badges_follow_the_family_decision(family, pvalues, expected):
    rng = np.random.default_rng(0)
    record = parity.compare(
        rng.normal(size=(40, 2)), rng.normal(size=(40, 2)), n_resamples=99
    ).to_dict()
    record["family_pvalue"] = record["two_sample"]["pvalue"] = family
    for r, p in zip(record["two_sample"]["results"].values(), pvalues, strict=True):
        r["pvalue"] = p
    text = comparison_html(record)
    assert _badges(text)[: len(expected)] == expected


@pytest.fixture(scope="module")
def episodes():
    g = np.random.default_rng(3)
    ref = np.cumsum(g.normal(size=(12, 40, 2)), axis=1)
    cand = 1.5 * np.cumsum(g.normal(size=(12, 40, 2)), axis=1)
    return ref, cand


@pytest.fixture(scope="module")
def comparison(episodes):
    """(record, reference, candidate) of a failing comparison with rollouts."""
    g = np.random.default_rng(0)
    ref, cand = g.normal(size=(120, 3)), g.normal(size=(120, 3)) + SHIFT
    verdict = parity.compare(
        ref,
        cand,
        reference_episodes=episodes[0],
        candidate_episodes=episodes[1],
        n_resamples=199,
        n_bootstrap=499,
    )
    return verdict.to_dict(), ref, cand


def suite_record(seed: int = 1, components: bool = True) -> dict:
    """A failing suite: one missing and one failed run, one task 10 % off."""
    spec = manifest_dict() if components else manifest_dict(components={})
    m = parse_manifest(spec)
    runs = []
    for run in runs_for(m):
        if run.key == RunKey("candidate", "b", 3, 0):
            continue
        if run.key == RunKey("reference", "c", 5, 1):
            run = RunRecord(run.key, "failed", {}, exit_code=1, stderr_tail="out of memory")
        elif run.key.system == "candidate" and run.key.task == "a":
            run = RunRecord(run.key, "ok", {**run.metrics, "return": 0.9 * run.metrics["return"]})
        runs.append(run)
    return judge(m, runs, rng=seed, load_arrays=arrays).to_dict()


# --------------------------------------------------------------------------------------------
# comparison page


def test_comparison_page_is_deterministic_self_contained_and_complete(comparison, episodes):
    record, ref, cand = comparison
    text = comparison_html(record, ref, cand)
    assert_self_contained(text)
    found = headings(text)
    for title in COMPARE_SECTIONS:
        assert title in found, title
    assert found[0] == "Parity comparison"
    # the verdict in words and colour at the top, with its reasons
    assert record["verdict"] == "fail"
    top = text.index('<div class="verdict"')
    banner = text[top : text.index("</div>", top)]
    assert top < text.index("<h2>") and "#cf222e" in banner and ">fail</span>" in banner
    for reason in record["reasons"]:
        assert html.escape(reason) in text
    # one null distribution per statistic, one marginal per dimension, the embodied forest
    assert len(svgs(text)) == 3 + 3 + 1 + 1  # nulls, marginals, embodied, sensitivity
    for name in ("MMD²", "energy distance", "binned KL", "dimension 2", "jerk_rms"):
        assert name in text
    # same record and arrays, recomputed: the same bytes
    g = np.random.default_rng(0)
    again = parity.compare(
        g.normal(size=(120, 3)),
        g.normal(size=(120, 3)) + SHIFT,
        reference_episodes=episodes[0],
        candidate_episodes=episodes[1],
        n_resamples=199,
        n_bootstrap=499,
    ).to_dict()
    assert comparison_html(again, ref, cand) == text
    other = parity.compare(ref, cand, n_resamples=199, rng=1).to_dict()
    assert comparison_html(other, ref, cand) != text


def test_comparison_figures_and_page_are_small(comparison):
    record, ref, cand = comparison
    text = comparison_html(record, ref, cand)
    assert len(text.encode()) < 150_000
    for s in svgs(text):
        assert len(s) < 12_000
        assert "<metadata" not in s and not re.search(r"\d\.\d{3,}", s.split("<text")[0])


def test_missing_marginals_say_not_available(comparison):
    record, ref, _ = comparison
    text = comparison_html(record)
    assert "Not available: the JSON record does not hold the action samples" in text
    assert "dimension 0" not in text and len(svgs(text)) == 3 + 1 + 1
    assert comparison_html(record, ref, None) == text
    with pytest.raises(ParityInputError, match=r"`candidate` must be an \(n × 3\) array"):
        comparison_html(record, ref, np.zeros((10, 2)))


def test_no_episodes_and_many_dimensions():
    g = np.random.default_rng(1)
    ref, cand = g.normal(size=(40, 15)), g.normal(size=(40, 15))
    record = parity.compare(ref, cand, statistics=("energy",), n_resamples=99).to_dict()
    text = comparison_html(record, ref, cand)
    assert "Not computed: no rollouts were given" in text
    assert "dimension 11" in text and "dimension 12" not in text
    assert "Dimensions 12–14 are in the table only." in text
    assert '<td class="num">14</td>' in text


def test_hostile_strings_are_escaped(comparison):
    record, ref, cand = comparison
    record = {
        **record,
        "reasons": [HOSTILE],
        "warnings": [HOSTILE],
        "inputs": {**record["inputs"], "reference": {"path": HOSTILE, "sha256": HOSTILE}},
        "settings": {**record["settings"], HOSTILE: HOSTILE},
    }
    text = comparison_html(record, ref, cand, title=HOSTILE)
    assert_self_contained(text)
    assert "<img" not in text and "&lt;script&gt;" in text
    assert text.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") >= 6


def test_unknown_content_is_shown_as_key_values(comparison):
    """A new statistic, ``details``, ``sensitivity`` and a new top-level field."""
    record, ref, cand = comparison
    test = dict(record["two_sample"])
    rff = {**test["results"]["energy"], "name": "rff", "method": "random Fourier features"}
    test["results"] = {**test["results"], "rff": rff, "asym": {**rff, "null_distribution": []}}
    test["details"] = {
        "method": "rff",
        "contributions": list(np.linspace(0, 1, 120)),
        "per_dimension": {"0": 0.5, "1": 0.25},
    }
    test["new_number"] = 7
    record = {
        **record,
        "two_sample": test,
        "provenance": {"runner": "ci"},
    }
    text = comparison_html(record, ref, cand)
    for title in ("Test details", "Other record fields"):
        assert title in headings(text)
    assert "rff" in text and "asym: no null distribution recorded." in text
    assert "120 values: min 0, median 0.5, max 1" in text
    assert "per_dimension.0" in text and "new_number" in text and "provenance.runner" in text


def test_sensitivity_section(comparison):
    record, ref, cand = comparison
    sens = record["sensitivity"]
    text = comparison_html(record, ref, cand)
    assert "Sensitivity" in headings(text)
    effects = sens["effects"]
    shift = f"{effects['shift']['value']:.3g}σ"
    assert f"this test detects a mean shift of {shift}" in text
    bump = f"and a bump of {100 * effects['bump']['value']:.3g}%"
    assert bump in text and "A pass does not rule out smaller effects" in text
    never = {**effects["shift"], "detectable": False, "value": "inf"}
    undetectable = {**record, "sensitivity": {**sens, "effects": {**effects, "shift": never}}}
    assert "a mean shift of none up to 8σ" in comparison_html(undetectable, ref, cand)


def test_flatten_shapes():
    rows = dict(flatten({"a": [{"x": 1}, {"x": 2}], "b": {}, "c": None, "d": ["u"] * 10}))
    assert rows["a[0].x"] == "1" and rows["a[1].x"] == "2"
    assert rows["b"] == "{}" and rows["c"] == "—"  # None: the one rule (parity._format)
    assert rows["d"].endswith("… and 2 more")


# --------------------------------------------------------------------------------------------
# suite page


def test_suite_page_is_deterministic_self_contained_and_complete():
    record = suite_record()
    text = suite_html(record, tasks=["a", "b", "c"], seeds=list(range(8)))
    assert_self_contained(text)
    found = headings(text)
    for title in SUITE_SECTIONS:
        assert any(h.startswith(title) for h in found), title
    assert record["verdict"] == "fail" and ">fail</span>" in text
    for reason in record["reasons"]:
        assert html.escape(reason) in text
    # a forest plot per metric and one for the aggregate; Holm-adjusted p on the right
    assert len(svgs(text)) == 3
    assert "right: Holm-adjusted p-value" in text
    # the coverage grid: 3 tasks × 8 seeds, the absent and the failed run in their cells
    grid = text[text.index('<table class="coverage">') :]
    grid = grid[: grid.index("</table>")]
    assert grid.count("<tr>") == 1 + 3 and grid.count('<td class="good"') == 3 * 8 - 2
    assert re.search(r'<td class="warn" title="[^"]*">cand\. r0 absent</td>', grid)
    assert re.search(r'<td class="bad" title="[^"]*out of memory[^"]*">ref\. r1 failed', grid)
    # the same record again (another run order): the same bytes; the grid without the
    # manifest's lists is the same here (every task and seed is named in the record)
    assert suite_html(suite_record()) == text
    assert len(text.encode()) < 150_000


def test_suite_page_without_components_and_with_hostile_names():
    record = suite_record(components=False)
    record = {**record, "suite": HOSTILE, "reasons": [HOSTILE], "extra_field": {"k": HOSTILE}}
    text = suite_html(record)
    assert_self_contained(text)
    assert "<img" not in text and "None configured in the manifest." in text
    assert "Other record fields" in headings(text) and "extra_field.k" in text


# --------------------------------------------------------------------------------------------
# the commands


def test_compare_html_option_and_bundle(tmp_path, episodes):
    g = np.random.default_rng(5)
    folder = tmp_path / HOSTILE.replace("/", "_")
    folder.mkdir()
    np.save(folder / "ref.npy", g.normal(size=(80, 2)))
    np.save(folder / "cand.npy", g.normal(size=(80, 2)))
    np.save(folder / "ref_eps.npy", episodes[0])
    np.save(folder / "cand_eps.npy", episodes[1])
    args = [
        "compare",
        folder / "ref.npy",
        folder / "cand.npy",
        "--ref-episodes",
        folder / "ref_eps.npy",
        "--cand-episodes",
        folder / "cand_eps.npy",
        "--resamples",
        "99",
        "--quiet",
    ]
    res = invoke(*args, "--out", tmp_path / "o1", "--html", tmp_path / "r1.html")
    assert res.exit_code in (0, 1, 3), res.output
    text = (tmp_path / "r1.html").read_text(encoding="utf-8")
    assert_self_contained(text)
    assert "<img" not in text and "dimension 1" in text
    assert html.escape(str(folder / "ref.npy")) in text
    # the bundle holds the same page; the same run again gives the same bytes
    res = invoke(*args, "--out", tmp_path / "o2", "--bundle", tmp_path / "b.zip")
    res2 = invoke(*args, "--out", tmp_path / "o3", "--bundle", tmp_path / "b2.zip")
    assert res.exit_code == res2.exit_code
    entries = read_bundle(tmp_path / "b.zip")
    assert entries["report.html"] == (tmp_path / "r1.html").read_bytes()
    assert (tmp_path / "b.zip").read_bytes() == (tmp_path / "b2.zip").read_bytes()
    assert verify_bundle(tmp_path / "b.zip").ok
    both = invoke(*args, "--json", "-", "--html", "-")
    assert both.exit_code == 2 and "only one of --json, --markdown and --html" in both.stderr


def test_suite_report_writes_the_page_and_bundles_it(tmp_path):
    spec = manifest_dict(components={}, tasks=["a", "b"])
    m = parse_manifest(spec)
    runs = [r for r in runs_for(m) if r.key != RunKey("reference", "b", 2, 1)]
    path = write_store(tmp_path, spec, runs)
    for out in ("out", "out2"):
        res = invoke("suite", "report", path, "--out", tmp_path / out, "--quiet")
        assert res.exit_code == 1, res.output
    page = (tmp_path / "out" / "report.html").read_bytes()
    assert page == (tmp_path / "out2" / "report.html").read_bytes()
    text = page.decode("utf-8")
    assert_self_contained(text)
    assert "ref. r1 absent" in text and "Suite toy" in headings(text)
    entries = read_bundle(tmp_path / "out" / "evidence_bundle.zip")
    assert entries["report.html"] == page


def test_demo_writes_the_page_and_the_bundle(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = invoke("demo", "--out", "demo", "--quiet")
    assert res.exit_code == 0, res.output
    assert "report: demo/report.html" in res.stdout
    page = (tmp_path / "demo" / "report.html").read_bytes()
    text = page.decode("utf-8")
    assert_self_contained(text)
    for name in ("faithful variant vs reference policy", "broken variant vs reference policy"):
        assert name in headings(text)
    assert text.count('<div class="verdict"') == 2 and len(page) < 300_000
    bundle = tmp_path / "demo" / "evidence_bundle.zip"
    assert verify_bundle(bundle).ok
    shown = bundle_summary(bundle)
    assert shown["kind"] == "comparisons" and shown["verdict"] == "fail"
    assert shown["reasons"] == ["broken: fail", "faithful: pass"]
    entries = read_bundle(bundle)
    assert entries["report.html"] == page
    for variant in ("faithful", "broken"):
        folder = tmp_path / "demo" / variant
        assert entries[f"{variant}/verdict.json"] == (folder / "verdict.json").read_bytes()
        assert f"{variant}/inputs.json" in entries and f"{variant}/arguments.json" in entries
