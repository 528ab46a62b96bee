"""Markdown summary of a comparison, rendered from its JSON record (``ParityVerdict.to_dict()``)."""

from __future__ import annotations

from typing import Any

from parity._format import number
from parity.report.escape import md, md_prose
from parity.stats.permutation import statistic_label
from parity.stats.sensitivity import format_size, sizes_text

#: One sentence per embodied rule, for the reports.
RULE_TEXT = {
    "regression": (
        "Regression rule: a ratio CI above 1 + tol is `regressed` (fails), one straddling "
        "1 + tol is `inconclusive`, one at most 1 + tol is `ok` (`changed` when it lies "
        "entirely below 1/(1 + tol): reported, not a failure)."
    ),
    "equivalence": (
        "Equivalence rule: a ratio CI inside [1/(1 + tol), 1 + tol] is `ok`, above it "
        "`regressed` (fails), below it `changed`, across an edge `inconclusive`."
    ),
}


def embodied_rule(result: dict[str, Any]) -> str:
    """The rule of an embodied result record (records before the rule existed: equivalence)."""
    return result.get("rule", "equivalence")


def ok_region(result: dict[str, Any]) -> str:
    """Where the CI must lie for ``ok``: ``≤ 1.1`` (regression) or ``0.9091 – 1.1``.

    Examples
    --------
    >>> ok_region({"rule": "regression", "band": [1 / 1.1, 1.1]})
    '≤ 1.1'
    >>> ok_region({"rule": "equivalence", "band": [1 / 1.1, 1.1]})
    '0.9091 – 1.1'
    """
    blo, bhi = result["band"]
    if embodied_rule(result) == "regression":
        return f"≤ {number(bhi)}"
    return f"{number(blo)} – {number(bhi)}"


def sensitivity_markdown(sens: dict[str, Any], settings: dict[str, Any]) -> list[str]:
    """Lines of the "Sensitivity" section from a ``SensitivityResult`` record.

    Examples
    --------
    >>> import numpy as np
    >>> from parity.stats.sensitivity import min_detectable_effect
    >>> ref = np.random.default_rng(0).normal(size=(40, 2))
    >>> lines = sensitivity_markdown(min_detectable_effect(ref, rng=0).to_dict(), {})
    >>> lines[1]
    '## Sensitivity'
    """

    def smallest(e: dict[str, Any]) -> str:
        if not e["detectable"]:
            return f"none up to {format_size(e['max_value'], e['unit'], 3)}"
        se = e["standard_error"]
        shown = number(se, 2) if e["unit"] == "×" else format_size(se, e["unit"], 2)
        return f"{format_size(e['value'], e['unit'], 3)} (± {shown})"

    def curve(e: dict[str, Any]) -> str:
        c = e["curve"]
        points = zip(c["values"], c["power"], strict=True)
        shown = (f"{format_size(v, e['unit'], 3)}: {number(p, 2)}" for v, p in points)
        return ", ".join(shown) or "not simulated"

    effects = sens["effects"]
    asked = settings.get("max_detectable_shift")
    if "shift" not in effects:
        check = (
            " No detectability threshold applies to this design: these sizes are reported, "
            "not gated on."
        )
    elif asked:
        check = f" A pass needs shifts ≤ {number(asked)}σ to be detectable."
    else:
        check = ""
    rows = [f"| {e['label']} | {smallest(e)} | {curve(e)} |" for e in effects.values()]
    return [
        "",
        "## Sensitivity",
        "",
        f"Smallest effects this test detects with {number(100 * sens['power'])}% power at "
        f"α = {number(sens['alpha'])} ({sizes_text(sens)}), estimated by simulation from the "
        f"reference ({sens['n_tests']} simulated tests).{check} A pass does not rule out "
        "smaller effects: below these sizes they are missed more than "
        f"{number(100 - 100 * sens['power'])}% of the time.",
        "",
        "| effect | smallest detectable | power curve (size: power) |",
        "|---|---|---|",
        *rows,
        "",
        f"Method: {sens['method']}",
    ]


def verdict_markdown(record: dict[str, Any], title: str = "Parity comparison") -> str:
    """Markdown text for a comparison record (the dict of ``ParityVerdict.to_dict()``).

    Examples
    --------
    >>> import numpy as np, parity
    >>> rng = np.random.default_rng(0)
    >>> v = parity.compare(rng.normal(size=(200, 2)), rng.normal(size=(200, 2)), n_resamples=99)
    >>> verdict_markdown(v.to_dict()).splitlines()[0]
    '# Parity comparison: PASS'
    """
    test = record["two_sample"]
    lines = [
        f"# {title}: {record['verdict'].upper()}",
        "",
        *[f"- {md_prose(reason)}" for reason in record["reasons"]],
        "",
        "## Action distributions",
        "",
        f"Family p-value (Westfall–Young min-p over {', '.join(test['results'])}): "
        f"**{number(test['pvalue'])}** at α = {number(record['alpha'])}; "
        f"n = {test['n_x']} reference vs {test['n_y']} candidate samples, d = {test['dim']}.",
        "",
        "| statistic | value | p-value | method |",
        "|---|---:|---:|---|",
    ]
    for name, r in test["results"].items():
        lines.append(
            f"| {statistic_label(name, r.get('parameters'))} | {number(r['statistic'])} "
            f"| {number(r['pvalue'])} "
            f"| {r['method']} |"
        )
    if record.get("sensitivity"):
        lines += sensitivity_markdown(record["sensitivity"], record["settings"])
    if record["embodied"]:
        rules = {embodied_rule(r) for r in record["embodied"].values()}
        lines += [
            "",
            "## Embodied metrics (candidate / reference)",
            "",
            *[RULE_TEXT[rule] for rule in sorted(rules)],
            "",
            "| metric | ratio | CI | ok when the CI is | status |",
            "|---|---:|---|---|---|",
        ]
        for name, r in record["embodied"].items():
            lo, hi = r["confidence_interval"]
            level = number(100 * r["confidence_level"], 3)
            lines.append(
                f"| {md(name)} | {number(r['ratio'])} | {level}%: {number(lo)} – {number(hi)} "
                f"| {ok_region(r)} | {r['status']} |"
            )
    lines += ["", "## Inputs", "", "| input | shape | sha256 |", "|---|---|---|"]
    for name, info in record["inputs"].items():
        shape = info.get("shape", info.get("lengths", ""))
        source = f" ({md(info['path'])})" if "path" in info else ""
        lines.append(f"| {md(name)}{source} | {shape} | `{info.get('sha256', '')}` |")
    settings = ", ".join(f"{k} = {v}" for k, v in record["settings"].items())
    lines += ["", f"Settings: {settings}; seed = {record['seed']}; parity {record['version']}."]
    if record.get("warnings"):
        lines += ["", "## Warnings", "", *[f"- {md_prose(w)}" for w in record["warnings"]]]
    return "\n".join(lines) + "\n"
