"""Suite reports: the JSON records of a :class:`~parity.suite.checks.SuiteVerdict`, and Markdown.

:func:`write_suite_reports` writes, into one folder,

=============================== ==================================================================
``coverage_report.json``        expected against present runs, missing and failed runs by name
``validity_report.json``        the findings of the validity rules and shortcut checks
``equivalence_report.json``     per-task tests, aggregates, and the final verdict with reasons
``equivalence_report.md``       a short Markdown summary (fits a CI step summary)
``stability_report.json``       the verdict per rerun (or half of the seeds) and the three flags
``component_match_report.json`` per component and task/seed: deviations or p-values (only when
                                the manifest configures components)
=============================== ==================================================================

The JSON files are the data of record; the Markdown is rendered from the same dictionaries. Every
file is a function of the verdict alone: keys sorted, no timestamps, strict JSON (non-finite
numbers as the strings ``"nan"``, ``"inf"``, ``"-inf"``), ``\\n`` line ends. The same manifest,
runs and seed give byte-identical files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from parity._format import interval, number
from parity.report.escape import md, md_code, md_prose

__all__ = ["MAX_TABLE_ROWS", "suite_markdown", "suite_report_payloads", "write_suite_reports"]

#: Per-task rows shown in the Markdown before only the failing ones are listed.
MAX_TABLE_ROWS = 30

REPORT_FILES = (
    "coverage_report.json",
    "validity_report.json",
    "equivalence_report.json",
    "equivalence_report.md",
    "stability_report.json",
    "component_match_report.json",
)


def _header(record: dict[str, Any], report: str) -> dict[str, Any]:
    from parity import __version__

    return {
        "report": report,
        "suite": record["suite"],
        "mode": record["mode"],
        "alpha": record["alpha"],
        "seed": record["seed"],
        "manifest_digest": record["manifest_digest"],
        "parity_version": __version__,
    }


def _final(record: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "verdict",
        "exit_code",
        "parity_pass_final",
        "parity_pass_all_metrics",
        "missing_pairs",
        "validity_pass",
        "component_match_pass",
        "decision_basis",
        "reasons",
    )
    out = {k: record[k] for k in keys}
    out["stability_status"] = record["stability"]["status"]
    return out


def suite_report_payloads(verdict: Any) -> dict[str, Any]:
    """The report files' contents: file name → JSON-safe dict (or Markdown text).

    Parameters
    ----------
    verdict : SuiteVerdict
        From :func:`parity.suite.checks.judge`.

    Returns
    -------
    dict
        In the order of :data:`REPORT_FILES`; ``component_match_report.json`` only when the
        manifest configures components.
    """
    record = verdict.to_dict()
    out: dict[str, Any] = {
        "coverage_report.json": {**_header(record, "coverage"), **record["coverage"]},
        "validity_report.json": {**_header(record, "validity"), **record["validity"]},
        "equivalence_report.json": {
            **_header(record, "equivalence"),
            **record["equivalence"],
            "final": _final(record),
        },
        "equivalence_report.md": suite_markdown(record),
        "stability_report.json": {**_header(record, "stability"), **record["stability"]},
    }
    if record["components"] is not None:
        out["component_match_report.json"] = {
            **_header(record, "component_match"),
            **record["components"],
        }
    return out


def write_suite_reports(verdict: Any, out_dir: str | Path) -> list[Path]:
    """Write the suite's reports into ``out_dir`` (created); return the paths written.

    Parameters
    ----------
    verdict : SuiteVerdict
        From :func:`parity.suite.checks.judge`.
    out_dir : str or path
        Folder for the reports; existing report files are overwritten, and a
        ``component_match_report.json`` is removed when the manifest has no components.

    Returns
    -------
    list of pathlib.Path
        In the order of :data:`REPORT_FILES`.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from parity.suite.checks import judge
    >>> from parity.suite.manifest import parse_manifest
    >>> from parity.suite.records import RunKey, RunRecord
    >>> m = parse_manifest({"name": "demo", "tasks": ["a"], "seeds": list(range(6)),
    ...     "systems": {"reference": {"command": "r {out}"}, "candidate": {"command": "c {out}"}},
    ...     "metrics": {"return": {"margin": {"relative": 0.05}}}})
    >>> g = np.random.default_rng(0)
    >>> runs = [RunRecord(RunKey(s, "a", i), "ok", {"return": float(g.normal(100, 1))})
    ...         for s in ("reference", "candidate") for i in range(6)]
    >>> with tempfile.TemporaryDirectory() as d:
    ...     names = [p.name for p in write_suite_reports(judge(m, runs), d)]
    >>> names[:3]
    ['coverage_report.json', 'validity_report.json', 'equivalence_report.json']
    >>> names[3:]
    ['equivalence_report.md', 'stability_report.json']
    """
    from parity.io import json_text, write_atomic

    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    payloads = suite_report_payloads(verdict)
    for name in REPORT_FILES:  # a report left from an earlier manifest would mislead
        if name not in payloads and (folder / name).is_file():
            (folder / name).unlink()
    written = []
    for name, payload in payloads.items():
        text = payload if isinstance(payload, str) else json_text(payload, sort_keys=True)
        written.append(write_atomic(folder / name, text))
    return written


# --------------------------------------------------------------------------------------------
# Markdown


def _level(value: float) -> str:
    return f"{100 * value:.3g}%"


def _ok(flag: bool | None) -> str:
    return {True: "pass", False: "**fail**", None: "—"}[flag]


def suite_markdown(record: dict[str, Any]) -> str:
    """A short Markdown summary of a suite verdict record (``SuiteVerdict.to_dict()``).

    At most :data:`MAX_TABLE_ROWS` per-task rows are shown: all tests when there are no more,
    else the first of those that do not pass (the JSON report has them all).
    """
    eq = record["equivalence"]
    cov = record["coverage"]
    val = record["validity"]
    stab = record["stability"]
    comps = record["components"]
    lines = [
        f"# Suite {md_code(record['suite'])}: {record['verdict'].upper()}",
        "",
        *[f"- {md_prose(reason)}" for reason in record["reasons"]],
        "",
        "| check | result | detail |",
        "|---|---|---|",
        f"| coverage | {_ok(cov['coverage_pass'])} | {cov['present']} of {cov['expected']} "
        f"expected runs ok; {cov['missing_pairs']} missing ({len(cov['failed_runs'])} failed) |",
        f"| validity | {_ok(val['validity_pass'])} | {len(val['findings'])} findings in "
        f"{val['runs_checked']} runs; shortcut checks "
        f"{'on' if val['shortcut_checks'] else 'off'}"
        + (f"; {len(val.get('warnings', ()))} notes below" if val.get("warnings") else "")
        + " |",
        f"| metrics (decide on: {eq['decision_basis']}) | {_ok(eq['parity_pass_all_metrics'])} "
        f"| {sum(t['passed'] for t in eq['tests'])} of {len(eq['tests'])} per-task tests, "
        f"{sum(a['passed'] for a in eq['aggregates'])} of {len(eq['aggregates'])} aggregates "
        "pass |",
    ]
    if comps is not None:
        n_pass = sum(c["passed"] for c in comps["components"])
        lines.append(
            f"| components | {_ok(comps['component_match_pass'])} | {n_pass} of "
            f"{len(comps['components'])} match"
            + ("" if comps["required"] else "; none required")
            + " |"
        )
    flags = [
        name
        for name, key in (
            ("verdict flip", "verdict_flip_detected"),
            ("sign flip", "pairwise_metric_sign_flip_detected"),
            ("Bayesian/frequentist mismatch", "bayesian_frequentist_mismatch_detected"),
        )
        if stab[key]
    ]
    groups = "; ".join(
        f"{md(g['label'])}: {'pass' if g['parity_pass_all_metrics'] else 'fail'}"
        for g in stab["groups"]
    )
    lines.append(
        f"| stability ({stab['method']}) | {stab['status']} | "
        + (", ".join(flags) if flags else "no flag raised")
        + (f" ({groups})" if groups else "")
        + "; reported, not part of the verdict |"
    )
    lines += [
        "",
        f"Final: **{'pass' if record['parity_pass_final'] else 'fail'}** "
        f"(exit code {record['exit_code']}). {eq['multiple_testing']}.",
    ]

    if val.get("warnings"):
        lines += ["", "## Validity notes", "", *[f"- {note}" for note in val["warnings"]]]
    tests = eq["tests"]
    if tests:
        failing = [t for t in tests if not t["passed"]]
        shown = tests if len(tests) <= MAX_TABLE_ROWS else failing[:MAX_TABLE_ROWS]
        level = _level(tests[0]["confidence_level"]) if tests else ""
        lines += [
            "",
            f"## Per-task tests (rerun {eq['rerun']}, Holm over {len(tests)})",
            "",
            f"| task | metric | test | estimate | {level} CI | bounds | adj. p | result |",
            "|---|---|---|---:|---|---|---:|---|",
        ]
        for t in shown:
            result = "pass" if t["passed"] else ("not tested" if t["error"] else "**fail**")
            lines.append(
                f"| {md(t['task'])} | {md(t['metric'])} | {md(t['test'])}"
                f"{' (paired)' if t['paired'] else ''} "
                f"| {number(t['estimate'])} | {interval(t['confidence_interval'])} "
                f"| {interval(t['bounds'])} | {number(t['adjusted_pvalue'], 3)} | {result} |"
            )
        if len(shown) < len(tests):
            hidden_fail = len(failing) - len([t for t in shown if not t["passed"]])
            hidden_pass = len(tests) - len(failing) - len([t for t in shown if t["passed"]])
            parts = [f"{hidden_pass} passing"] if hidden_pass else []
            parts += [f"{hidden_fail} more failing"] if hidden_fail else []
            lines.append(
                f"\n{' and '.join(parts)} tests not shown (all in equivalence_report.json)."
            )
    if eq["aggregates"]:
        lines += [
            "",
            "## Aggregates",
            "",
            "| aggregate | reference | candidate | estimate | CI | bounds | result |",
            "|---|---:|---:|---:|---|---|---|",
        ]
        for a in eq["aggregates"]:
            lines.append(
                f"| {md(a['name'])} ({md(a['statistic'])} of {md(a['metric'])}) "
                f"| {number(a['reference'])} "
                f"| {number(a['candidate'])} | {a['margin_kind']} {number(a['estimate'])} "
                f"| {_level(a['confidence_level'])} {interval(a['confidence_interval'])} "
                f"| {interval(a['bounds'])} | {'pass' if a['passed'] else '**fail**'} |"
            )
    if comps is not None and comps["components"]:
        lines += [
            "",
            "## Components",
            "",
            "| component | test | pairs | failed | max abs dev | max rel dev | result |",
            "|---|---|---:|---:|---:|---:|---|",
        ]
        for c in comps["components"]:
            lines.append(
                f"| {md(c['name'])}{'' if c['required'] else ' (optional)'} | {md(c['test'])} "
                f"| {c['pairs_compared']} | {c['pairs_failed']} | {number(c['max_abs_deviation'])} "
                f"| {number(c['max_rel_deviation'])} | {'pass' if c['passed'] else '**fail**'} |"
            )
    return "\n".join(lines) + "\n"
