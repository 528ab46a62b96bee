"""The HTML report of a suite, rendered from its JSON record (``SuiteVerdict.to_dict()``).

The page holds the verdict with its reasons and the flags behind it; a forest plot per metric
of every (task, metric) effect with its interval against the equivalence margin, and the
Holm-adjusted p-values; the aggregates; coverage as a task × seed grid naming missing and
failed runs; the validity findings; stability across reruns (or halves of the seeds); the
component matches. Fields the page does not know are shown as key/value tables.

Examples
--------
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
>>> text = suite_html(judge(m, runs).to_dict())
>>> text.startswith("<!DOCTYPE html>") and "Coverage" in text
True
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from parity._format import interval, number, to_float
from parity.report.html import (
    CELL_COLOURS,
    VERDICT_COLOURS,
    Raw,
    badge,
    bullets,
    escape,
    figure,
    grid,
    key_values,
    legend,
    page,
    paragraph,
    section,
    table,
    verdict_banner,
)
from parity.report.svg import Canvas

__all__ = ["REPORT_NAME", "forest_figure", "suite_html", "write_suite_html"]

#: The page's file name in the reports folder and the evidence bundle.
REPORT_NAME = "report.html"
HEADLINES = {
    "pass": "the candidate is equivalent to the reference: every run present and valid, every "
    "hypothesis of the decision basis shown",
    "fail": "parity is not shown",
    "inconclusive": "too few seeds to decide: the failing tests could not have passed at this n",
}
#: Result word → the verdict whose colour it takes.
RESULT_COLOURS = {"pass": "pass", "fail": "fail", "not tested": "none"}
GREY = "#8c959f"
_SHORT = {"reference": "ref.", "candidate": "cand."}
_KNOWN_KEYS = {
    "suite",
    "mode",
    "alpha",
    "seed",
    "manifest_digest",
    "decision_basis",
    "coverage",
    "validity",
    "equivalence",
    "stability",
    "components",
    "parity_pass_all_metrics",
    "missing_pairs",
    "validity_pass",
    "component_match_pass",
    "parity_pass_final",
    "verdict",
    "exit_code",
    "reasons",
    "version",
}


def _flag(passed: bool | None, yes: str = "pass", no: str = "fail") -> Raw:
    if passed is None:
        return Raw(badge("none", "not configured"))
    return Raw(badge("pass" if passed else "fail", yes if passed else no))


def _result(item: Mapping[str, Any]) -> str:
    if item["passed"]:
        return "pass"
    return "not tested" if item.get("error") else "fail"


# --------------------------------------------------------------------------------------------
# figures


def forest_figure(rows: Sequence[Mapping[str, Any]], labels: Sequence[str], xlabel: str) -> Canvas:
    """Effects with their intervals against the margin, one row each, adjusted p on the right.

    Parameters
    ----------
    rows : sequence of mapping
        Per row ``estimate``, ``confidence_interval``, ``bounds``, ``passed``, ``error`` and
        ``null`` (the effect of no difference: 1 for a ratio, 0 for a difference) and ``p``
        (the text on the right).
    labels : sequence of str
        Row labels, top to bottom.
    xlabel : str
        The axis label.
    """
    n = len(rows)
    finite = []
    for r in rows:
        finite += [to_float(v) for v in (*r["confidence_interval"], *r["bounds"], r["estimate"])]
        finite.append(r["null"])
    finite = [v for v in finite if math.isfinite(v)]
    low, high = min(finite), max(finite)
    pad = 0.06 * ((high - low) or abs(high) or 1.0)
    low, high = low - pad, high + pad
    canvas = Canvas(4.6, 0.6 + 0.24 * n)
    ax = canvas.panel()
    for i, r in enumerate(rows):
        y = n - 1 - i
        blo, bhi = (min(max(to_float(b), low), high) for b in r["bounds"])
        ax.rect(blo, bhi, y - 0.42, y + 0.42, VERDICT_COLOURS["pass"], 0.12)
        colour = VERDICT_COLOURS.get(RESULT_COLOURS[_result(r)], GREY)
        lo, hi = (to_float(v) for v in r["confidence_interval"])
        if not (math.isnan(lo) or math.isnan(hi)):
            ax.line([max(lo, low), min(hi, high)], [y, y], colour, width=2)
        estimate = to_float(r["estimate"])
        if math.isfinite(estimate):
            ax.line([estimate], [y], colour, width=0, marker=2.2)
    ax.vline(rows[0]["null"], "#59636e", width=0.8, style="dotted")
    ax.limits(x=(low, high), y=(-0.6, n - 0.4))
    ax.yticks = [(n - 1 - i, label) for i, label in enumerate(labels)]
    ax.right_labels = [(n - 1 - i, r["p"]) for i, r in enumerate(rows)]
    ax.xlabel = xlabel
    return canvas


def _test_rows(tests: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            **t,
            "null": 1.0 if t["relative"] else 0.0,
            "p": "not tested" if t.get("error") else f"p = {number(t['adjusted_pvalue'], 2)}",
        }
        for t in tests
    ]


# --------------------------------------------------------------------------------------------
# sections


def _banner(record: Mapping[str, Any]) -> str:
    verdict = record["verdict"]
    facts = (
        f"suite {record['suite']}; {record['mode']} mode; α = {number(record['alpha'])}; "
        f"decision basis: {record['decision_basis']}; seed {record['seed']}; exit code "
        f"{record['exit_code']}"
    )
    return verdict_banner(verdict, HEADLINES.get(verdict, ""), record["reasons"]) + paragraph(
        facts, muted=True
    )


def _keys_section(record: Mapping[str, Any]) -> str:
    """The HTML table of the suite's keys: metrics, coverage, validity, stability and components,
    each with its flag."""
    eq, cov, val = record["equivalence"], record["coverage"], record["validity"]
    stab, comps = record["stability"], record.get("components")
    tests, aggs = eq["tests"], eq["aggregates"]
    rows = [
        [
            f"metrics (decision basis: {eq['decision_basis']})",
            _flag(record["parity_pass_all_metrics"]),
            f"{sum(t['passed'] for t in tests)} of {len(tests)} per-task tests and "
            f"{sum(a['passed'] for a in aggs)} of {len(aggs)} aggregates pass",
        ],
        [
            "coverage",
            _flag(record["missing_pairs"] == 0),
            f"{cov['present']} of {cov['expected']} expected runs ok; {cov['missing_pairs']} "
            f"missing, of which {len(cov['failed_runs'])} failed",
        ],
        [
            "validity",
            _flag(record["validity_pass"]),
            f"{len(val['findings'])} findings in {val['runs_checked']} runs",
        ],
        [
            "components",
            _flag(record.get("component_match_pass")),
            "—"
            if comps is None
            else f"{sum(c['passed'] for c in comps['components'])} of "
            f"{len(comps['components'])} match" + ("" if comps["required"] else "; none required"),
        ],
        [
            "final (parity_pass_final)",
            _flag(record["parity_pass_final"]),
            "all of the above hold" if record["parity_pass_final"] else "not all of them hold",
        ],
        [
            f"stability ({stab['method']})",
            Raw(
                badge(
                    {"stable": "pass", "unstable": "fail"}.get(stab["status"], "none"),
                    stab["status"],
                )
            ),
            "reported, not part of the verdict",
        ],
    ]
    return section("What the verdict rests on", table(("check", "result", "detail"), rows))


def _tests_section(record: Mapping[str, Any]) -> str:
    """The HTML section of the per-task tests: one table and one interval figure per metric."""
    eq = record["equivalence"]
    tests = eq["tests"]
    title = f"Per-task tests (rerun {eq['rerun']}, Holm over {len(tests)})"
    if not tests:
        return section(title, paragraph("No per-task tests.", muted=True))
    figures = []
    for metric in dict.fromkeys(t["metric"] for t in tests):
        rows = _test_rows([t for t in tests if t["metric"] == metric])
        first = rows[0]
        scale = "candidate / reference mean" if first["relative"] else "candidate − reference mean"
        level = f"{100 * to_float(first['confidence_level']):.3g}%"
        figures.append(
            figure(
                forest_figure(rows, [r["task"] for r in rows], f"{metric}: {scale}"),
                f"{metric}: estimate and {level} interval per task; shaded: the margin "
                f"{interval(first['bounds'])}; right: Holm-adjusted p-value",
            )
        )
    rows = []
    for t in tests:
        kind = {"equivalence": "TOST", "noninferiority": "non-inferiority"}.get(
            t["test"], t["test"]
        )
        note = t.get("error") or "; ".join(t.get("warnings") or [])
        rows.append(
            [
                t["task"],
                t["metric"],
                kind + (" (paired)" if t["paired"] else ""),
                number(t["reference_mean"]),
                number(t["candidate_mean"]),
                number(t["estimate"]),
                interval(t["confidence_interval"]),
                interval(t["bounds"]),
                number(t["pvalue"], 3),
                number(t["adjusted_pvalue"], 3),
                Raw(badge(RESULT_COLOURS[_result(t)], _result(t))),
                note,
            ]
        )
    headers = [
        "task",
        "metric",
        "test",
        "ref. mean",
        "cand. mean",
        "estimate",
        "CI",
        "bounds",
        "p",
        "Holm p",
        "result",
        "note",
    ]
    if not any(row[-1] for row in rows):
        headers, rows = headers[:-1], [row[:-1] for row in rows]
    keys = legend(
        {
            "passes (Holm-adjusted)": VERDICT_COLOURS["pass"],
            "fails": VERDICT_COLOURS["fail"],
            "not tested": GREY,
        }
    )
    return section(
        title,
        paragraph(eq["multiple_testing"] + "."),
        keys,
        grid(*figures, min_width=440),
        table(headers, rows, (3, 4, 5, 6, 7, 8, 9)),
        bullets(eq.get("warnings") or []),
    )


def _aggregates_section(record: Mapping[str, Any]) -> str:
    """The HTML section of the cross-task aggregates: their intervals against the margins, as a
    table and a figure."""
    aggs = record["equivalence"]["aggregates"]
    if not aggs:
        return ""
    plot_rows = [
        {
            **a,
            "null": 1.0 if a["margin_kind"] == "ratio" else 0.0,
            "p": f"p = {number(a['pvalue'], 2)}",
        }
        for a in aggs
    ]
    parts = []
    for kind in dict.fromkeys(a["margin_kind"] for a in aggs):
        rows = [r for r in plot_rows if r["margin_kind"] == kind]
        scale = "candidate / reference" if kind == "ratio" else "candidate − reference"
        parts.append(
            figure(
                forest_figure(rows, [r["name"] for r in rows], f"aggregate: {scale}"),
                "estimate and bootstrap interval per aggregate; shaded: the margin; right: "
                "bootstrap p-value (for information)",
            )
        )
    rows = [
        [
            a["name"],
            f"{a['statistic']} of {a['metric']}",
            number(a["reference"]),
            number(a["candidate"]),
            f"{a['margin_kind']} {number(a['estimate'])}",
            f"{100 * to_float(a['confidence_level']):.3g}% {interval(a['confidence_interval'])}",
            interval(a["bounds"]),
            number(a["pvalue"], 3),
            Raw(badge(RESULT_COLOURS[_result(a)], _result(a))),
        ]
        for a in aggs
    ]
    headers = ("aggregate", "of", "reference", "candidate", "estimate", "CI", "bounds", "p")
    notes = [f"{a['name']}: {n}" for a in aggs for n in a.get("warnings") or []]
    return section(
        "Aggregates",
        *parts,
        table((*headers, "result"), rows, (2, 3, 4, 5, 6, 7)),
        paragraph("; ".join(sorted({a["method"] for a in aggs})) + ".", muted=True),
        bullets(notes),
    )


def _seeds_and_tasks(record: Mapping[str, Any], tasks, seeds) -> tuple[list[str], list[int]]:
    """The grid's rows and columns: as given, else every task and seed the record names."""
    cov = record["coverage"]
    named = [(t["task"], None) for t in record["equivalence"]["tests"]]  # in manifest order
    for comp in (record.get("components") or {}).get("components", []):
        named += [(p["task"], p["seed"]) for p in comp["pairs"]]
    named += [(m["task"], m["seed"]) for m in cov["missing"]]
    if tasks is None:
        tasks = list(dict.fromkeys(task for task, _ in named))
    if seeds is None:
        found = {seed for _, seed in named if seed is not None}
        for group in record["stability"].get("groups", []):
            found.update(group.get("seeds") or [])
        seeds = sorted(found)
    return list(tasks), list(seeds)


def _cell_line(missing: Mapping[str, Any], with_reruns: bool) -> str:
    """``cand. failed`` (``cand. r1 failed`` when there are reruns) for a coverage cell."""
    system = _SHORT.get(missing["system"], missing["system"])
    rerun = f" r{missing['rerun']}" if with_reruns else ""
    return f"{system}{rerun} {missing['status']}"


def _coverage_section(record: Mapping[str, Any], tasks, seeds) -> str:
    """The HTML section of coverage: a task × seed grid marking the missing or failed runs."""
    cov = record["coverage"]
    tasks, seeds = _seeds_and_tasks(record, tasks, seeds)
    cells: dict[tuple[str, int], list[Mapping[str, Any]]] = {}
    for m in cov["missing"]:
        cells.setdefault((m["task"], m["seed"]), []).append(m)
    with_reruns = any(m["rerun"] for m in cov["missing"])
    body = []
    for task in tasks:
        tds = []
        for seed in seeds:
            gone = cells.get((task, seed), [])
            if not gone:
                tds.append('<td class="good" title="all runs ok">✓</td>')
                continue
            failed = any(m["status"] != "absent" for m in gone)
            lines = [_cell_line(m, with_reruns) for m in gone]
            tip = "; ".join(
                f"{m['system']}/rerun {m['rerun']}: {m['status']} ({m['detail']})" for m in gone
            )
            tds.append(
                f'<td class="{"bad" if failed else "warn"}" title="{escape(tip)}">'
                + "<br>".join(escape(line) for line in lines)
                + "</td>"
            )
        body.append(f"<tr><th>{escape(task)}</th>{''.join(tds)}</tr>")
    head = "".join(f"<th>{escape(s)}</th>" for s in seeds)
    grid = (
        '<div class="scroll"><table class="coverage"><thead><tr><th>task \\ seed</th>'
        f"{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )
    keys = legend(
        {
            "all runs ok": CELL_COLOURS["good"],
            "missing (never recorded)": CELL_COLOURS["warn"],
            "failed or timed out": CELL_COLOURS["bad"],
        }
    )
    failed_rows = [
        [m["system"], m["task"], m["seed"], m["rerun"], m["status"], m["detail"]]
        for m in cov["failed_runs"]
    ]
    parts = [
        paragraph(
            f"{cov['present']} of {cov['expected']} expected runs are ok; "
            f"{cov['missing_pairs']} missing ({len(cov['failed_runs'])} of them failed); "
            f"{cov['unexpected_runs']} recorded runs the manifest does not ask for (ignored). "
            "Each cell covers both systems and every rerun of that task and seed."
        ),
        keys,
        grid,
    ]
    if failed_rows:
        parts.append(
            section(
                "Failed runs",
                table(("system", "task", "seed", "rerun", "status", "detail"), failed_rows),
                level=3,
            )
        )
    return section("Coverage", *parts)


def _validity_section(record: Mapping[str, Any]) -> str:
    val = record["validity"]
    rules = [
        f"required metrics: {', '.join(val['required_metrics']) or 'none'}",
        f"bounds: {', '.join(val['bounds']) or 'none'}",
        f"shortcut checks: {'on' if val['shortcut_checks'] else 'off'}",
        f"checks run: {', '.join(val['checks'])}",
    ]
    findings = [
        [f["check"], f["rule"], f["system"], f["task"], number(f["seed"]), f["rerun"], f["message"]]
        for f in val["findings"]
    ]
    return section(
        "Validity",
        paragraph(
            f"{len(val['findings'])} findings in {val['runs_checked']} ok runs.",
        ),
        table(("check", "rule", "system", "task", "seed", "rerun", "message"), findings)
        if findings
        else paragraph("No findings: every run reports its metrics and meets the bounds.", True),
        paragraph("Notes (coincidences that chance explains; not findings):")
        if val.get("warnings")
        else "",
        bullets(val.get("warnings", ())),
        bullets(rules),
    )


def _stability_section(record: Mapping[str, Any]) -> str:
    """The HTML section of stability: the three flags and the groups compared."""
    stab = record["stability"]
    flags = [
        [label, _flag(not stab[key], "no", "raised")]
        for label, key in (
            ("verdict flip between groups", "verdict_flip_detected"),
            ("effect sign flip", "pairwise_metric_sign_flip_detected"),
            ("Bayesian / frequentist mismatch", "bayesian_frequentist_mismatch_detected"),
        )
    ]
    groups = [
        [
            g["label"],
            ", ".join(str(s) for s in g["seeds"]),
            _flag(g["parity_pass_all_metrics"]),
            f"{g['tests_passed']} / {g['tests']}",
            f"{g['aggregates_passed']} / {g['aggregates']}",
        ]
        for g in stab["groups"]
    ]
    parts = [
        paragraph(
            f"Status {stab['status']} (compared on {stab['method']}); reported, not part of "
            "the verdict."
        ),
        table(("flag", "state"), flags),
    ]
    if groups:
        parts.append(
            table(("group", "seeds", "metrics", "tests passed", "aggregates passed"), groups)
        )
    detail = {k: stab[k] for k in ("decision_flips", "sign_flips", "mismatches") if stab.get(k)}
    if detail:
        parts.append(key_values(detail))
    parts.append(bullets(stab.get("warnings") or []))
    return section("Stability", *parts)


def _components_section(record: Mapping[str, Any]) -> str:
    """The HTML section of the component checks: each component's test, tolerances and result."""
    comps = record.get("components")
    if comps is None:
        return section("Components", paragraph("None configured in the manifest.", True))
    rows = [
        [
            c["name"] + ("" if c["required"] else " (optional)"),
            c["test"],
            f"rtol {number(c['rtol'])}, atol {number(c['atol'])}",
            c["pairs_compared"],
            c["pairs_failed"],
            number(c["max_abs_deviation"]),
            number(c["max_rel_deviation"]),
            _flag(c["passed"], "match", "differ"),
        ]
        for c in comps["components"]
    ]
    failing = [
        [
            c["name"],
            p["task"],
            p["seed"],
            number(p.get("max_abs_deviation")),
            number(p.get("adjusted_pvalue"), 3),
            p.get("detail", ""),
        ]
        for c in comps["components"]
        for p in c["pairs"]
        if not p["passed"]
    ]
    parts = [
        table(
            (
                "component",
                "test",
                "tolerance",
                "pairs",
                "failed",
                "max abs dev",
                "max rel dev",
                "result",
            ),
            rows,
            (3, 4, 5, 6),
        )
    ]
    if failing:
        parts.append(
            section(
                "Pairs that differ",
                table(("component", "task", "seed", "max abs dev", "adj. p", "detail"), failing),
                level=3,
            )
        )
    notes = [f"{c['name']}: {n}" for c in comps["components"] for n in c.get("warnings") or []]
    return section("Components", *parts, bullets(notes))


def _provenance_section(record: Mapping[str, Any]) -> str:
    facts = {
        "suite": record["suite"],
        "mode": record["mode"],
        "alpha": record["alpha"],
        "seed": record["seed"],
        "decision basis": record["decision_basis"],
        "manifest sha256": record["manifest_digest"],
    }
    if "version" in record:
        facts["parity version"] = record["version"]
    return section("Settings", key_values(facts, headers=("setting", "value")))


# --------------------------------------------------------------------------------------------
# the page


def suite_html(
    record: Mapping[str, Any],
    *,
    tasks: Sequence[str] | None = None,
    seeds: Sequence[int] | None = None,
    title: str | None = None,
) -> str:
    """A self-contained HTML page for a suite's verdict record.

    Parameters
    ----------
    record : mapping
        ``SuiteVerdict.to_dict()``: the data of record.
    tasks, seeds : sequence, optional
        Rows and columns of the coverage grid (the manifest's); by default every task and seed
        the record names.
    title : str, optional
        Heading of the page; by default ``Suite <name>``.

    Returns
    -------
    str
        The page; the same record gives the same bytes.
    """
    other = {k: v for k, v in record.items() if k not in _KNOWN_KEYS}
    extra = [section("Other record fields", key_values(other))] if other else []
    footer = paragraph(
        "Rendered from the suite's JSON record (equivalence_report.json and the other JSON "
        "reports are the data of record).",
        muted=True,
    )
    return page(
        title or f"Suite {record['suite']}",
        _banner(record),
        _keys_section(record),
        _tests_section(record),
        _aggregates_section(record),
        _coverage_section(record, tasks, seeds),
        _validity_section(record),
        _stability_section(record),
        _components_section(record),
        *extra,
        _provenance_section(record),
        footer,
    )


def write_suite_html(
    record: Mapping[str, Any],
    out_dir: str | os.PathLike[str],
    *,
    tasks: Sequence[str] | None = None,
    seeds: Sequence[int] | None = None,
) -> Path:
    """Write :func:`suite_html` to ``out_dir/report.html`` (folder created); return the path."""
    folder = Path(out_dir)
    from parity.io import write_atomic

    return write_atomic(folder / REPORT_NAME, suite_html(record, tasks=tasks, seeds=seeds))
