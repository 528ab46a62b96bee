"""Reports of ``parity agents``: CSV and JSON tables, the summary, a self-contained HTML page.

``analyze`` writes ``runs.csv``/``runs.json`` (one row per run), ``tasks.csv``/``tasks.json``
(one row per task), ``pairs.json`` (every compared pair of runs), ``summary.json`` (the
weighted summary, the reweighting diagnostics, the definitions and inputs) and
``report.html``. ``compare`` writes ``compare.json``, ``compare.csv`` (one row per metric) and
``report.html``. Every file is a pure function of the inputs and options: the same inputs give
byte-identical files (JSON by :func:`parity.io.json_dumps`, floats to 12 significant digits;
CSV floats as Python's shortest repr; figures written by :mod:`parity.report.svg`; no
dates). A missing value (None) is an empty CSV cell and JSON ``null``; a non-finite number is
``nan``, ``inf`` or ``-inf`` in CSV and the string ``"nan"``, ``"inf"`` or ``"-inf"`` in JSON;
text is kept as it is (a task named ``nan`` stays ``"nan"``). Numbers on the page follow
:mod:`parity._format`.

This room may import ``parity.agents`` (the results it renders), ``parity.stats``,
``parity.io`` and the rest of ``parity.report``; nothing imports it but the CLI.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from parity._format import cell, interval, number
from parity.agents.analysis import AgentAnalysis
from parity.agents.compare import AgentComparison
from parity.agents.metrics import RATE_METRICS, RUN_METRICS, VALUE_METRICS
from parity.io import json_dumps, json_text, write_atomic
from parity.report.escape import csv_cell
from parity.report.svg import Canvas

__all__ = [
    "agent_comparison_html",
    "analysis_html",
    "analysis_payloads",
    "comparison_payloads",
    "csv_text",
    "write_analysis",
    "write_comparison",
]

MAX_MATRICES = 4
MAX_TABLE_ROWS = 500
OLD_NEW = {"old": "#0969da", "new": "#e16f24"}
TASK_LABELS = {
    "constraint_index": "constraint index C(q)",
    "divergence_trial": "divergence rate λ̂ (trials)",
    "divergence_perturbation": "divergence rate λ̂ (perturbed prompt)",
}


# --------------------------------------------------------------------------------------------
# serialisation


def _csv_value(value: Any) -> Any:
    """A CSV cell: None empty, numbers as Python writes them (``nan``, ``inf``, ``-inf`` for
    the non-finite), text guarded against formulas and otherwise as it is."""
    if value is None:
        return ""
    if isinstance(value, str):
        return csv_cell(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple | dict):
        return csv_cell(json_dumps(value, indent=None))
    return value


def csv_text(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """A CSV table of ``rows``: missing values (None) as empty cells, non-finite numbers as
    ``nan``, ``inf``, ``-inf`` (as in the JSON files), text as it is (``"nan"`` included).

    Examples
    --------
    >>> csv_text([{"a": 1, "b": None}, {"a": float("nan"), "b": "nan"}], ["a", "b"])
    'a,b\\n1,\\nnan,nan\\n'
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([csv_cell(c) for c in columns])
    for row in rows:
        writer.writerow([_csv_value(row.get(c)) for c in columns])
    return buf.getvalue()


def _columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    cols: dict[str, None] = {}
    for row in rows:
        cols.update(dict.fromkeys(row))
    return list(cols)


def _write(out_dir: Path, texts: dict[str, str]) -> list[Path]:
    return [write_atomic(out_dir / name, text) for name, text in texts.items()]


# --------------------------------------------------------------------------------------------
# analyze


def _summary(analysis: AgentAnalysis, inputs: dict[str, Any], options: dict[str, Any]) -> dict:
    """The ``summary.json`` record of an analysis: the weighting without its per-run arrays, the
    degenerate-run counts, the inputs and the options."""
    record = analysis.to_dict()
    weighting = dict(record["weighting"])
    weighting.pop("weights")
    weighting.pop("run_cluster")
    runs = analysis.runs
    reasons: dict[str, int] = {}
    for r in runs:
        if r["degenerate_reason"]:
            key = r["degenerate_reason"]
            key = "all steps identical" if key.startswith("all ") else key
            reasons[key] = reasons.get(key, 0) + 1
    return {
        "command": "parity agents analyze",
        "inputs": inputs,
        "options": options,
        "format": analysis.format,
        "n_runs": analysis.n_runs,
        "n_tasks": analysis.n_tasks,
        "skipped": record["skipped"],
        "counts": {
            "loops": sum(bool(r["loop"]) for r in runs),
            "stalls": sum(bool(r["stall"]) for r in runs),
            "degenerate": sum(bool(r["degenerate"]) for r in runs),
            "degenerate_reasons": dict(sorted(reasons.items())),
            "successes": sum(bool(r["success"]) for r in runs),
            "unknown_outcome": sum(r["success"] is None for r in runs),
        },
        "embedder": record["embedder"],
        "definitions": record["definitions"],
        "estimates": record["estimates"],
        "pass_k": record["pass_k"],
        "weighting": weighting,
        "seed": analysis.seed,
        "n_resamples": analysis.n_resamples,
        "confidence_level": analysis.confidence_level,
    }


def analysis_payloads(
    analysis: AgentAnalysis, inputs: dict[str, Any], options: dict[str, Any]
) -> dict[str, str]:
    """File name → text of every file ``parity agents analyze`` writes."""
    runs, tasks = list(analysis.runs), list(analysis.tasks)
    pairs = [p.to_dict() for p in analysis.pairs]
    return {
        "summary.json": json_text(_summary(analysis, inputs, options)),
        "runs.csv": csv_text(runs, _columns(runs)),
        "runs.json": json_text(runs),
        "tasks.csv": csv_text(tasks, _columns(tasks)),
        "tasks.json": json_text(tasks),
        "pairs.json": json_text(pairs),
        "report.html": analysis_html(analysis, inputs),
    }


def write_analysis(
    analysis: AgentAnalysis,
    out_dir: str | Path,
    inputs: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
) -> list[Path]:
    """Write the analysis files to ``out_dir``; return their paths."""
    return _write(Path(out_dir), analysis_payloads(analysis, inputs or {}, options or {}))


def _scroll(html: str) -> str:
    """A wide table in its own horizontally scrolling box (the page itself never scrolls)."""
    return f'<div style="overflow-x:auto">{html}</div>'


def _scroll_table(headers: Sequence[str], rows: Any, numeric: Any = ()) -> str:
    from parity.report.html import table

    return _scroll(table(headers, rows, numeric=numeric))


def _label(metric: str) -> str:
    return RUN_METRICS.get(metric) or TASK_LABELS.get(metric) or metric


def _estimates_table(analysis: AgentAnalysis) -> str:
    from parity.report.html import table

    weighted = analysis.weighting.kind != "none"
    level = f"{analysis.confidence_level:.0%}"
    headers = ["metric", "per", "n", "benchmark", f"{level} CI"]
    if weighted:
        headers += ["target usage", f"{level} CI"]
    rows = []
    for e in analysis.estimates:
        row = [_label(e.metric), e.level, e.n, number(e.benchmark, 3), interval(e.benchmark_ci, 3)]
        if weighted:
            row += [number(e.target, 3), interval(e.target_ci, 3)]
        rows.append(row)
    return _scroll(table(headers, rows, numeric=range(2, len(headers))))


def _weighting_part(analysis: AgentAnalysis) -> str:
    """The HTML of the weighting: no target profile, or the clusters, their shares and the effective
    sample size."""
    from parity.report.html import paragraph, table

    w = analysis.weighting
    if w.kind == "none":
        return paragraph(
            "No target profile was given (--target): the estimates are the benchmark's own "
            "(every run weighted 1), with task-level bootstrap intervals.",
            muted=True,
        )
    facts = [
        ("target profile", f"{w.kind} (groups: {w.by})"),
        ("groups", f"{w.k} ({w.k_selection})"),
        ("Kish effective sample size (runs)", f"{number(w.ess, 3)} of {w.n_runs}"),
        ("Kish effective sample size (tasks)", f"{number(w.ess_tasks, 3)} of {w.n_tasks}"),
        ("largest weight share of one run", number(w.max_weight_share, 3)),
        ("largest weight share of one task", number(w.max_task_weight_share, 3)),
        ("target mass no benchmark task covers", number(w.uncovered_mass, 3)),
        ("weight cap (clip)", "none" if w.clip is None else f"{w.clip:g} ({w.n_clipped} runs)"),
    ]
    if w.min_similarity is not None:
        facts.append(("coverage threshold (cosine to nearest centroid)", f"{w.min_similarity:g}"))
    parts = [table(["", ""], facts)]
    rows = [
        [
            c.cluster,
            c.n_tasks,
            c.n_runs,
            number(c.benchmark_share, 3),
            number(c.target_share, 3),
            number(c.weight, 3),
            ", ".join(c.example_tasks),
            (c.example_text or "")[:90],
        ]
        for c in w.clusters
    ]
    parts.append(
        _scroll_table(
            [
                "group",
                "tasks",
                "runs",
                "Q (benchmark)",
                "P (target)",
                "weight P̃/Q",
                "tasks (first 3)",
                "first task text",
            ],
            rows,
            numeric=range(1, 6),
        )
    )
    if w.uncovered_texts:
        shown = "; ".join(w.uncovered_texts[:10])
        parts.append(paragraph(f"Uncovered target texts: {shown}", muted=True))
    return "".join(parts)


def _rates_panel(canvas: Canvas, labels: Sequence[str], series: Sequence[tuple]) -> None:
    """Bars of rates in [0, 1] per category with their intervals: ``series`` holds ``(name,
    colour, values, intervals)``, side by side within a category; a non-finite value or bound
    is left out."""
    ax = canvas.panel()
    width = 0.76 / len(series) if len(series) > 1 else 0.6
    for k, (_, colour, values, cis) in enumerate(series):
        offset = (k - (len(series) - 1) / 2) * width
        for x, (value, ci) in enumerate(zip(values, cis, strict=True)):
            if not _finite(value):
                continue
            centre = x + offset
            ax.rect(centre - width / 2, centre + width / 2, 0, value, colour, 1.0)
            low, high = ci if ci else (value, value)
            if _finite(low) and _finite(high):
                ax.line([centre, centre], [min(low, value), max(high, value)], "#1f2328", 1.5)
    ax.xticks = list(enumerate(labels))
    ax.limits(x=(-0.5, len(labels) - 0.5), y=(0, 1))
    ax.ylabel = "share of runs"
    ax.legend({name: colour for name, colour, _, _ in series})


def _rate_figure(analysis: AgentAnalysis) -> Canvas:
    from parity.report.html import PALETTE

    ests = [e for e in analysis.estimates if e.metric in RATE_METRICS]
    series = [
        ("benchmark", PALETTE["reference"], [e.benchmark for e in ests],
         [e.benchmark_ci for e in ests]),
    ]  # fmt: skip
    if analysis.weighting.kind != "none":
        series.append(
            ("target usage", PALETTE["candidate"], [e.target for e in ests],
             [e.target_ci for e in ests])
        )  # fmt: skip
    canvas = Canvas(6.4, 2.4)
    _rates_panel(canvas, [RATE_METRICS[e.metric] for e in ests], series)
    return canvas


def _distribution_figure(series: dict[str, list[dict[str, Any]]], colours: dict[str, str]):
    """Step histograms of each run-level metric (12 bins over the pooled range), one panel per
    metric, five to a row, one outline per series."""
    metrics = [m for m in VALUE_METRICS if m not in ("n_tool_calls",)]
    cols = 5
    canvas = Canvas(10.0, 1.9 * math.ceil(len(metrics) / cols), cols=cols)
    for metric in metrics:
        ax = canvas.panel()
        data = {
            name: np.array([r[metric] for r in rows if _finite(r.get(metric))], dtype=float)
            for name, rows in series.items()
        }
        pooled = np.concatenate(list(data.values()))
        lo, hi = (float(pooled.min()), float(pooled.max())) if pooled.size else (0.0, 1.0)
        bins = np.linspace(lo, hi if hi > lo else lo + 1.0, 13)
        top = 0.0
        for name, values in data.items():
            counts, _ = np.histogram(values, bins=bins)
            ax.stairs(counts, bins, colours[name], width=1.4)
            top = max(top, float(counts.max()))
        ax.title(VALUE_METRICS[metric])
        ax.limits(y=(0, top * 1.05 or 1))
    return canvas


def _finite(value: Any) -> bool:
    return value is not None and not isinstance(value, bool) and math.isfinite(float(value))


def _matrix_figure(analysis: AgentAnalysis, picks: list[int]) -> Canvas:
    """The step-similarity matrix of each picked run (cosine similarity, 0 to 1), with red
    lines where a loop starts, and one colour bar."""
    from parity.report.html import PALETTE
    from parity.trajectory.dynamics import similarity_matrix

    canvas = Canvas(2.5 * len(picks) + 0.9, 2.7)
    for i in picks:
        row = analysis.runs[i]
        ax = canvas.panel()
        ax.image(similarity_matrix(analysis.embeddings.trajectory(i)), 0.0, 1.0)
        if row["loop"]:
            note = f"loop p = {row['loop_period']} from step {row['loop_start']}"
            ax.vline(row["loop_start"] - 0.5, PALETTE["observed"], width=1.0)
            ax.hline(row["loop_start"] - 0.5, PALETTE["observed"], width=1.0)
        else:
            note = f"stall of {row['longest_stall']} steps"
        ax.title(f"{row['run_id']}\n{note}")
        ax.xlabel = "step"
    canvas.colour_bar("cosine similarity", 0.0, 1.0)
    return canvas


#: The divergence figure's key (HTML, under it).
DIVERGENCE_KEY = {"one pair of runs": "#8c959f", "mean over pairs": "#cf222e"}


def _divergence_figure(analysis: AgentAnalysis) -> Canvas:
    """Log distance of step-aligned pairs of runs (grey, one line per pair) and their mean per
    step (red), one panel per kind of pair (trials, perturbed prompts)."""
    from parity.report.html import PALETTE

    kinds = [k for k in ("trial", "perturbation") if any(p.kind == k for p in analysis.pairs)]
    canvas = Canvas(3.2 * max(1, len(kinds)), 2.4)
    for kind in kinds:
        ax = canvas.panel()
        curves = [np.array(p.log_distance, dtype=float) for p in analysis.pairs if p.kind == kind]
        for c in curves:
            ax.line(np.arange(c.size), c, DIVERGENCE_KEY["one pair of runs"], 0.6, opacity=0.6)
        longest = max(c.size for c in curves)
        mean = [float(np.mean([c[t] for c in curves if c.size > t])) for t in range(longest)]
        ax.line(np.arange(longest), mean, PALETTE["observed"], 2.0)
        ax.title(f"{kind} pairs ({len(curves)})")
        ax.xlabel, ax.ylabel = "aligned step", "log distance"
        ax.integer = True
    if not kinds:
        canvas.panel()
    return canvas


def _matrix_picks(analysis: AgentAnalysis) -> list[int]:
    loops = [i for i, r in enumerate(analysis.runs) if r["loop"]]
    stalls = [i for i, r in enumerate(analysis.runs) if r["stall"] and not r["loop"]]
    return (loops + stalls)[:MAX_MATRICES]


def _table_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> list[list[str]]:
    return [
        [cell(r.get(c), 3) if c not in _TEXT else str(r.get(c) or "") for c in columns]
        for r in rows[:MAX_TABLE_ROWS]
    ]


_TEXT = {"run_id", "task_id", "variant", "degenerate_reason", "cluster"}


def analysis_html(analysis: AgentAnalysis, inputs: dict[str, Any] | None = None) -> str:
    """The self-contained HTML report of an analysis."""
    from parity.report.html import PALETTE, figure, legend, page, paragraph, section, table

    runs = analysis.runs
    n_loops = sum(bool(r["loop"]) for r in runs)
    n_stalls = sum(bool(r["stall"]) for r in runs)
    n_degenerate = sum(bool(r["degenerate"]) for r in runs)
    source = (inputs or {}).get("runs", {}).get("path", analysis.label)
    intro = paragraph(
        f"{analysis.n_runs} runs of {analysis.n_tasks} tasks from {source} ({analysis.format}); "
        f"{n_loops} end in a loop, {n_stalls} stall, {n_degenerate} "
        f"{'is' if n_degenerate == 1 else 'are'} degenerate. "
        f"Steps embedded with {analysis.embedder['name']}; two steps are the same behaviour "
        f"from cosine similarity {analysis.definitions['threshold']:g}."
    )
    skipped = ""
    if analysis.skipped:
        items = "; ".join(f"{s.source}: {s.error}" for s in analysis.skipped[:20])
        skipped = paragraph(f"Skipped as invalid ({len(analysis.skipped)}): {items}", muted=True)
    parts = [intro, skipped]
    parts.append(
        section(
            "What a user would see" if analysis.weighting.kind != "none" else "Summary",
            _estimates_table(analysis),
            figure(_rate_figure(analysis), "Rates with task-level bootstrap intervals."),
        )
    )
    parts.append(section("Reweighting to the target usage", _weighting_part(analysis)))
    figs = [
        figure(
            _distribution_figure({"runs": list(runs)}, {"runs": PALETTE["reference"]}),
            "Distributions of the run-level metrics (non-degenerate runs).",
        )
    ]
    picks = _matrix_picks(analysis)
    if picks:
        figs.append(
            figure(
                _matrix_figure(analysis, picks),
                "Step-similarity matrices of looping (then stalling) runs: a loop of period p "
                "shows as diagonal stripes p apart, a stall as a bright square block.",
            )
        )
    if analysis.pairs and any(len(p.log_distance) for p in analysis.pairs):
        figs.append(legend(DIVERGENCE_KEY))
        figs.append(
            figure(
                _divergence_figure(analysis),
                "Divergence curves: log distance of step-aligned runs of the same task; "
                "λ̂ is the slope of each curve.",
            )
        )
    parts.append(section("Figures", *figs))
    task_cols = [c for c in _columns(analysis.tasks) if c not in ("n_trial_pairs",)]
    parts.append(
        section(
            "Tasks",
            paragraph(
                "pass^k = C(c, k)/C(n, k); task set: "
                + ", ".join(f"{k} = {number(v, 3)}" for k, v in analysis.pass_k.items())
            ),
            _scroll(table(task_cols, _table_rows(analysis.tasks, task_cols), numeric=range(1, 99))),
        )
    )
    run_cols = [c for c in _columns(runs) if c not in ("reward", "exact_repeats")]
    note = (
        paragraph(f"First {MAX_TABLE_ROWS} of {len(runs)} runs; all are in runs.csv.", True)
        if len(runs) > MAX_TABLE_ROWS
        else ""
    )
    parts.append(section("Runs", note, _scroll(table(run_cols, _table_rows(runs, run_cols)))))
    definitions = table(["", "definition"], list(analysis.definitions.items()))
    parts.append(section("Definitions", definitions))
    return page("Agent dynamics", *parts)


# --------------------------------------------------------------------------------------------
# compare


def comparison_payloads(comparison: AgentComparison, inputs: dict[str, Any]) -> dict[str, str]:
    """File name → text of every file ``parity agents compare`` writes."""
    record = {"command": "parity agents compare", "inputs": inputs, **comparison.to_dict()}
    rows = [m.to_dict() for m in comparison.metrics]
    for row in rows:
        for key in ("old_ci", "new_ci"):
            ci = row.pop(key)
            row[f"{key}_low"], row[f"{key}_high"] = ci if ci else (None, None)
    return {
        "compare.json": json_text(record),
        "compare.csv": csv_text(rows, _columns(rows)),
        "report.html": agent_comparison_html(comparison, inputs),
    }


def write_comparison(
    comparison: AgentComparison, out_dir: str | Path, inputs: dict[str, Any] | None = None
) -> list[Path]:
    """Write the comparison files to ``out_dir``; return their paths."""
    return _write(Path(out_dir), comparison_payloads(comparison, inputs or {}))


def _compare_rate_figure(comparison: AgentComparison) -> Canvas:
    rates = [m for m in comparison.metrics if m.kind == "rate" and m.old is not None]
    series = [
        (side, OLD_NEW[side], [getattr(m, side) for m in rates],
         [getattr(m, f"{side}_ci") for m in rates])
        for side in ("old", "new")
    ]  # fmt: skip
    canvas = Canvas(6.4, 2.4)
    _rates_panel(canvas, [m.description + (" *" if m.changed else "") for m in rates], series)
    return canvas


def agent_comparison_html(comparison: AgentComparison, inputs: dict[str, Any] | None = None) -> str:
    """The self-contained HTML report of a comparison."""
    from parity.report.html import figure, legend, page, paragraph, section, table, verdict_banner

    tone = {"changed": "fail", "unchanged": "pass", "inconclusive": "inconclusive"}
    n_changed = len(comparison.changed)
    headline = (
        f"{n_changed} of {sum(m.pvalue is not None for m in comparison.metrics)} behaviours "
        f"changed (Holm-adjusted p ≤ {comparison.alpha:g})"
        if comparison.verdict != "inconclusive"
        else "no metric could be tested"
    )
    # the result's own word (as the CLI and compare.json say it), in the colour of its meaning
    banner = verdict_banner(
        comparison.verdict, headline, comparison.reasons, tone=tone[comparison.verdict]
    )
    intro = paragraph(
        f"old: {comparison.old_label} ({comparison.n_old_runs} runs); new: "
        f"{comparison.new_label} ({comparison.n_new_runs} runs). Steps of both agents embedded "
        f"together with {comparison.embedder['name']}."
    )
    rows = [
        [
            m.description,
            m.kind,
            f"{m.n_old} / {m.n_new}",
            number(m.old, 3),
            number(m.new, 3),
            number(m.difference, 3),
            number(m.effect, 2),
            m.test or (m.note or "—"),
            number(m.pvalue, 3),
            number(m.pvalue_holm, 3),
            "CHANGED" if m.changed else "",
        ]
        for m in comparison.metrics
    ]
    metrics_table = _scroll_table(
        [
            "metric",
            "kind",
            "runs old / new",
            "old",
            "new",
            "new − old",
            "P(new > old)",
            "test",
            "p",
            "Holm p",
            "",
        ],
        rows,
        numeric=(3, 4, 5, 6, 8, 9),
    )
    pass_k = table(
        ["", *comparison.old_pass_k],
        [
            ["old", *(number(v, 3) for v in comparison.old_pass_k.values())],
            ["new", *(number(comparison.new_pass_k.get(k), 3) for k in comparison.old_pass_k)],
        ],
        numeric=range(1, 1 + len(comparison.old_pass_k)),
    )
    figs = [figure(_compare_rate_figure(comparison), "Rates with Wilson 95% intervals; * changed.")]
    if comparison.old_analysis is not None and comparison.new_analysis is not None:
        series = {
            "old": list(comparison.old_analysis.runs),
            "new": list(comparison.new_analysis.runs),
        }
        figs.append(legend(OLD_NEW))
        figs.append(
            figure(
                _distribution_figure(series, OLD_NEW),
                "Distributions of the run-level metrics of the two agents.",
            )
        )
    return page(
        "Agent dynamics: old vs new",
        banner,
        intro,
        section("Run-level behaviours", metrics_table),
        section("pass^k (descriptive)", pass_k),
        section("Figures", *figs),
    )
