"""Markdown summaries of the commands that had none: ``equivalence``, ``gate`` and
``agents compare`` (``compare`` and ``suite report`` write theirs as report files).

Each returns one Markdown section, headed by the command and its outcome, with the reasons and
the deciding numbers: what a CI job summary (``GITHUB_STEP_SUMMARY``) shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from parity._format import interval, number


def _bullets(items: Iterable[str], prefix: str = "") -> list[str]:
    return [f"- {prefix}{item}" for item in items]


def equivalence_markdown(payload: dict[str, Any], title: str) -> str:
    """The summary of a ``parity equivalence`` payload (its ``--json`` record).

    Examples
    --------
    >>> from parity.stats import tost
    >>> r = tost([1.0, 1.1, 0.9, 1.0, 1.05], [1.0, 1.05, 0.95, 1.0, 1.1], margin=0.5)
    >>> payload = {"test": "equivalence", "verdict": "equivalent", "result": r.to_dict()}
    >>> equivalence_markdown(payload, "a.csv vs b.csv").splitlines()[0]
    '## parity equivalence: EQUIVALENT'
    """
    r = payload["result"]
    scale = "ratio of means" if r["relative"] else "difference of means (candidate − reference)"
    level = f"{100 * r['confidence_level']:.3g}%"
    lines = [
        f"## parity equivalence: {payload['verdict'].upper()}",
        "",
        f"**{title}**: {payload['test']} test ({r['method']}), α = {number(r['alpha'])}",
        "",
        f"| estimate | {level} CI | region | p-value | n (reference / candidate) |",
        "|---:|---|---|---:|---|",
        f"| {number(r['estimate'])} | {interval(r['confidence_interval'])} | "
        f"({number(r['bounds'][0])}, {number(r['bounds'][1])}) | {number(r['pvalue'])} | "
        f"{r['n_reference']} / {r['n_candidate']} |",
        "",
        f"Estimate: {scale}.",
        *([""] if r["warnings"] else []),
        *_bullets(dict.fromkeys(r["warnings"]), "note: "),
    ]
    return "\n".join(lines) + "\n"


def gate_markdown(result: Any, title: str, paired: bool) -> str:
    """The summary of a gate decision (:class:`~parity.gate.GateResult` or the paired one).

    Examples
    --------
    >>> from parity.gate import evaluate_gate
    >>> r = evaluate_gate(0.8, (0.7, None), (0.7, None))
    >>> gate_markdown(r, "gate (hard) on 10 items", paired=False).splitlines()[0]
    '## parity gate: ACCEPT_NEW_BEST'
    """
    lines = [
        f"## parity gate: {result.action.value.upper()}",
        "",
        f"**{title}**",
        "",
        *_bullets(result.reasons),
        *_bullets(getattr(result, "warnings", ()), "warning: "),
        "",
    ]
    if paired:
        lines += [
            "| | hard | soft | score |",
            "|---|---:|---:|---:|",
            f"| candidate | {number(result.candidate_hard)} | {number(result.candidate_soft)} | "
            f"{number(result.candidate_score)} |",
            f"| incumbent | {number(result.incumbent_hard)} | {number(result.incumbent_soft)} | "
            f"{number(result.incumbent_score)} |",
            "",
            f"Mean difference {number(result.statistic)}, p = {number(result.pvalue)} (two-sided), "
            f"{100 * result.confidence_level:.3g}% CI {interval(result.confidence_interval)}, "
            f"n = {result.n_items}, α = {number(result.alpha)}.",
        ]
    else:
        lines += [
            "| | hard | soft | score | candidate − this |",
            "|---|---:|---:|---:|---:|",
            f"| candidate | {number(result.candidate_hard)} | {number(result.candidate_soft)} | "
            f"{number(result.candidate_score)} | |",
            f"| current | {number(result.current_hard)} | {number(result.current_soft)} | "
            f"{number(result.current_score)} | {number(result.delta_current)} |",
            f"| best | {number(result.best_hard)} | {number(result.best_soft)} | "
            f"{number(result.best_score)} | {number(result.delta_best)} |",
        ]
    return "\n".join(lines) + "\n"


def agents_comparison_markdown(result: Any) -> str:
    """The summary of ``parity agents compare`` (an :class:`~parity.agents.AgentComparison`)."""
    lines = [
        f"## parity agents compare: {result.verdict.upper()}",
        "",
        f"**{result.old_label}** ({result.n_old_runs} runs) vs **{result.new_label}** "
        f"({result.n_new_runs} runs), Holm over the metrics at α = {number(result.alpha)}",
        "",
        *_bullets(result.reasons),
        "",
        "| metric | old | new | p | Holm p | |",
        "|---|---:|---:|---:|---:|---|",
        *(
            f"| {m.description} | {number(m.old, 3)} | {number(m.new, 3)} | "
            f"{number(m.pvalue, 3)} | {number(m.pvalue_holm, 3)} | "
            f"{'changed' if m.changed else (m.note or '')} |"
            for m in result.metrics
        ),
    ]
    return "\n".join(lines) + "\n"
