"""Markdown summary of a comparison, rendered from its JSON record (``ParityVerdict.to_dict()``)."""

from __future__ import annotations

from typing import Any

from parity.report.escape import md, md_prose
from parity.stats.permutation import STATISTIC_LABELS as LABELS


def _num(value: Any, digits: int = 4) -> str:
    return f"{value:.{digits}g}" if isinstance(value, int | float) else str(value)


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

    def smallest(key: str, unit: str) -> str:
        def size(value: Any) -> str:
            return f"{_num(value, 3)}σ" if unit == "σ" else f"×{_num(value, 3)}"

        if not sens[f"{key}_detectable"]:
            return f"none up to {size(sens[f'max_{key}'])}"
        return f"{size(sens[key])} (± {_num(sens[f'{key}_standard_error'], 2)})"

    def curve(key: str) -> str:
        c = sens[f"{key}_curve"]
        points = zip(c["values"], c["power"], strict=True)
        return ", ".join(f"{_num(v, 3)}: {_num(p, 2)}" for v, p in points) or "not simulated"

    asked = settings.get("max_detectable_shift")
    check = f" A pass needs shifts ≤ {_num(asked)}σ to be detectable." if asked else ""
    return [
        "",
        "## Sensitivity",
        "",
        f"Smallest effects this test detects with {_num(100 * sens['power'])}% power at "
        f"α = {_num(sens['alpha'])} (n = {sens['n_x']} vs {sens['n_y']}), estimated by "
        f"simulation from the reference ({sens['n_tests']} simulated tests).{check}",
        "",
        "| effect | smallest detectable | power curve (size: power) |",
        "|---|---|---|",
        f"| shift (σ, along the diagonal) | {smallest('shift', 'σ')} | {curve('shift')} |",
        f"| scale (× deviations from the mean) | {smallest('scale', '×')} | {curve('scale')} |",
        "",
        f"Method: {sens['method']}",
    ]


def verdict_markdown(record: dict[str, Any], title: str = "Parity comparison") -> str:
    """Markdown text for a comparison record (the dict of ``ParityVerdict.to_dict()``).

    Examples
    --------
    >>> import numpy as np, parity
    >>> rng = np.random.default_rng(0)
    >>> v = parity.compare(rng.normal(size=(200, 2)), rng.normal(size=(200, 2)), n_permutations=99)
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
        f"**{_num(test['pvalue'])}** at α = {_num(record['alpha'])}; "
        f"n = {test['n_x']} reference vs {test['n_y']} candidate samples, d = {test['dim']}.",
        "",
        "| statistic | value | p-value | method |",
        "|---|---:|---:|---|",
    ]
    for name, r in test["results"].items():
        lines.append(
            f"| {LABELS.get(name, name)} | {_num(r['statistic'])} | {_num(r['pvalue'])} "
            f"| {r['method']} |"
        )
    if record.get("sensitivity"):
        lines += sensitivity_markdown(record["sensitivity"], record["settings"])
    if record["embodied"]:
        lines += [
            "",
            "## Embodied metrics (candidate / reference)",
            "",
            "| metric | ratio | CI | band | status |",
            "|---|---:|---|---|---|",
        ]
        for name, r in record["embodied"].items():
            lo, hi = r["confidence_interval"]
            blo, bhi = r["band"]
            level = _num(100 * r["confidence_level"], 3)
            lines.append(
                f"| {md(name)} | {_num(r['ratio'])} | {level}%: {_num(lo)} – {_num(hi)} "
                f"| {_num(blo)} – {_num(bhi)} | {r['status']} |"
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
