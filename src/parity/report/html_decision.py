"""The HTML page of a decision that has no page of its own: ``equivalence`` and ``gate``.

:func:`decision_html` is the generic page, built from the pieces of :mod:`parity.report.html`:
the verdict banner (the result's word in the colour of its exit code, a headline, the
reasons), the warnings, the command's own tables, and the whole JSON record as a field/value
table, so nothing the ``--json`` record says is missing from the page. :func:`equivalence_html`
and :func:`gate_html` feed it from their commands' JSON records. The page is self-contained
(inline CSS, no scripts) and a pure function of the record: the same record gives the same
bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from parity._format import interval, number

__all__ = ["TONES", "decision_html", "equivalence_html", "gate_html"]

#: Exit code → the verdict colour of :data:`parity.report.html.VERDICT_COLOURS`.
TONES = {0: "pass", 1: "fail", 3: "inconclusive"}


def decision_html(
    title: str,
    record: Mapping[str, Any],
    *,
    verdict: str,
    headline: str,
    reasons: Iterable[str] = (),
    warnings: Iterable[str] = (),
    parts: Sequence[str] = (),
) -> str:
    """A self-contained page of one decision: banner, warnings, ``parts``, then the record.

    Parameters
    ----------
    title : str
        The page's title (``<title>`` and heading).
    record : mapping
        The command's JSON record (its ``--json`` output); its ``exit_code`` chooses the
        banner's colour (:data:`TONES`), and every field is listed at the end.
    verdict : str
        The result's own word (``equivalent``, ``reject`` …), shown as it is.
    headline, reasons, warnings
        What the banner says, and the warnings under it.
    parts : sequence of str
        Rendered HTML sections between the banner and the record.

    Examples
    --------
    >>> html = decision_html("t", {"exit_code": 1, "x": 1.5}, verdict="reject", headline="h")
    >>> html.startswith("<!DOCTYPE html>") and ">reject</span>" in html and "<script" not in html
    True
    """
    from parity.report.html import bullets, key_values, page, section, verdict_banner

    tone = TONES.get(record.get("exit_code"), "none")
    shown = [f"warning: {w}" for w in dict.fromkeys(warnings)]
    return page(
        title,
        verdict_banner(verdict, headline, reasons, tone=tone),
        bullets(shown),
        *parts,
        section("Record", key_values(dict(record))),
    )


def equivalence_html(payload: Mapping[str, Any], title: str) -> str:
    """The page of a ``parity equivalence`` payload (its ``--json`` record).

    Examples
    --------
    >>> from parity.stats import tost
    >>> r = tost([1.0, 1.1, 0.9, 1.0, 1.05], [1.0, 1.05, 0.95, 1.0, 1.1], margin=0.5)
    >>> payload = {"test": "equivalence", "verdict": "equivalent", "exit_code": 0,
    ...            "result": r.to_dict()}
    >>> "One-sided t-tests" in equivalence_html(payload, "a.csv vs b.csv")
    True
    """
    from parity.report.html import paragraph, section, table

    r = payload["result"]
    effect = "μc/μr" if r["relative"] else "μc − μr"
    level = f"{100 * r['confidence_level']:.3g}%"
    headline = (
        f"{title}: {payload['test']} test, {effect} = {number(r['estimate'])}, {level} CI "
        f"{interval(r['confidence_interval'])}, region ({number(r['bounds'][0])}, "
        f"{number(r['bounds'][1])}), α = {number(r['alpha'])}, n = {r['n_reference']} / "
        f"{r['n_candidate']}"
    )
    tests = [r[k] for k in ("lower", "upper") if isinstance(r.get(k), Mapping)]
    if not tests and isinstance(r.get("test_result"), Mapping):
        tests = [r["test_result"]]
    rows = [
        (
            f"{effect} {'≤' if t['alternative'] == 'greater' else '≥'} {number(t['bound'])}",
            number(t["statistic"]),
            number(t["df"]),
            number(t["pvalue"]),
            "yes" if t["rejected"] else "no",
        )
        for t in tests
    ]
    reasons = [payload["degenerate"]] if payload.get("degenerate") else []
    parts = [
        section(
            "One-sided t-tests",
            paragraph(r["method"]),
            table(("H0", "t", "df", "p-value", "rejected"), rows, numeric=(1, 2, 3)),
        )
    ]
    notes = [n for n in r.get("warnings", r.get("notes", ())) if n]
    return decision_html(
        f"parity equivalence: {title}",
        payload,
        verdict=payload["verdict"],
        headline=headline,
        reasons=reasons,
        warnings=notes,
        parts=parts,
    )


def gate_html(payload: Mapping[str, Any], title: str) -> str:
    """The page of a ``parity gate`` payload (its ``--json`` record), threshold or paired.

    Examples
    --------
    >>> from parity.gate import evaluate_gate
    >>> r = evaluate_gate(0.8, (0.7, None), (0.7, None))
    >>> payload = {"gate": "threshold", "action": "accept_new_best", "exit_code": 0,
    ...            "result": r.to_dict()}
    >>> ">accept_new_best</span>" in gate_html(payload, "gate (hard) on 10 items")
    True
    """
    from parity.report.html import section, table

    r = payload["result"]

    def row(label: str, who: str, delta: str | None = None) -> list[str]:
        cells = [label, *(number(r.get(f"{who}_{k}")) for k in ("hard", "soft", "score"))]
        return cells if delta is None else [*cells, number(r.get(delta))]

    if payload.get("gate") == "paired":
        rows = [row("candidate", "candidate"), row("incumbent", "incumbent")]
        scores = table(("", "hard", "soft", "score"), rows, numeric=(1, 2, 3))
        level = f"{100 * r['confidence_level']:.3g}%"
        headline = (
            f"{title}: mean difference {number(r['statistic'])}, p = {number(r['pvalue'])} "
            f"(two-sided), {level} CI {interval(r['confidence_interval'])}, n = "
            f"{r['n_items']}, α = {number(r['alpha'])}"
        )
    else:
        rows = [
            [*row("candidate", "candidate"), ""],
            row("current", "current", "delta_current"),
            row("best", "best", "delta_best"),
        ]
        headers = ("", "hard", "soft", "score", "candidate − this")
        scores = table(headers, rows, numeric=(1, 2, 3, 4))
        headline = title
    return decision_html(
        f"parity gate: {title}",
        payload,
        verdict=payload["action"],
        headline=headline,
        reasons=r.get("reasons", ()),
        warnings=r.get("warnings", ()),
        parts=[section(f"Scores ({r['metric']})", scores)],
    )
