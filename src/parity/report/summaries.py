"""Markdown summaries of the commands that had none: ``equivalence``, ``gate`` and
``agents compare`` (``compare`` and ``suite report`` write theirs as report files).

Each returns one Markdown section, headed by the command and its outcome, with the reasons and
the deciding numbers: what a CI job summary (``GITHUB_STEP_SUMMARY``) shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def _num(x: Any, digits: int = 4) -> str:
    if x is None:
        return "—"
    if isinstance(x, str):  # a non-finite float of a JSON record: "inf", "-inf", "nan"
        return x
    return f"{float(x):.{digits}g}"


def _interval(pair: Iterable[Any]) -> str:
    lo, hi = pair
    return f"[{_num(lo)}, {_num(hi)}]"


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
        f"**{title}**: {payload['test']} test ({r['method']}), α = {_num(r['alpha'])}",
        "",
        f"| estimate | {level} CI | region | p-value | n (reference / candidate) |",
        "|---:|---|---|---:|---|",
        f"| {_num(r['estimate'])} | {_interval(r['confidence_interval'])} | "
        f"({_num(r['bounds'][0])}, {_num(r['bounds'][1])}) | {_num(r['pvalue'])} | "
        f"{r['n_reference']} / {r['n_candidate']} |",
        "",
        f"Estimate: {scale}.",
        *([""] if r["notes"] else []),
        *_bullets(dict.fromkeys(r["notes"]), "note: "),
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
            f"| candidate | {_num(result.candidate_hard)} | {_num(result.candidate_soft)} | "
            f"{_num(result.candidate_score)} |",
            f"| incumbent | {_num(result.incumbent_hard)} | {_num(result.incumbent_soft)} | "
            f"{_num(result.incumbent_score)} |",
            "",
            f"Mean difference {_num(result.statistic)}, p = {_num(result.pvalue)} (two-sided), "
            f"{100 * result.confidence_level:.3g}% CI {_interval(result.confidence_interval)}, "
            f"n = {result.n_items}, α = {_num(result.alpha)}.",
        ]
    else:
        lines += [
            "| | hard | soft | score | candidate − this |",
            "|---|---:|---:|---:|---:|",
            f"| candidate | {_num(result.candidate_hard)} | {_num(result.candidate_soft)} | "
            f"{_num(result.candidate_score)} | |",
            f"| current | {_num(result.current_hard)} | {_num(result.current_soft)} | "
            f"{_num(result.current_score)} | {_num(result.delta_current)} |",
            f"| best | {_num(result.best_hard)} | {_num(result.best_soft)} | "
            f"{_num(result.best_score)} | {_num(result.delta_best)} |",
        ]
    return "\n".join(lines) + "\n"


def agents_comparison_markdown(result: Any) -> str:
    """The summary of ``parity agents compare`` (an :class:`~parity.agents.AgentComparison`)."""
    lines = [
        f"## parity agents compare: {result.verdict.upper()}",
        "",
        f"**{result.old_label}** ({result.n_old_runs} runs) vs **{result.new_label}** "
        f"({result.n_new_runs} runs), Holm over the metrics at α = {_num(result.alpha)}",
        "",
        *_bullets(result.reasons),
        "",
        "| metric | old | new | p | Holm p | |",
        "|---|---:|---:|---:|---:|---|",
        *(
            f"| {m.description} | {_num(m.old, 3)} | {_num(m.new, 3)} | {_num(m.pvalue, 3)} | "
            f"{_num(m.pvalue_holm, 3)} | {'changed' if m.changed else (m.note or '')} |"
            for m in result.metrics
        ),
    ]
    return "\n".join(lines) + "\n"
