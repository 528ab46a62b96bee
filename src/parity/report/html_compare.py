"""The HTML report of a comparison, rendered from its JSON record (``ParityVerdict.to_dict()``).

The page holds the verdict with its reasons; per statistic, the permutation null distribution
with the observed value and the p-value; per action dimension, the reference and candidate
marginals (only when the arrays are given: the record does not hold the samples); the embodied
ratios with their intervals against the tolerance band; the inputs with their hashes; the
settings, seed and warnings. Fields the page does not know (``sensitivity``,
``two_sample.details``, new top-level keys) are shown as key/value tables.

Examples
--------
>>> import numpy as np, parity
>>> rng = np.random.default_rng(0)
>>> ref, cand = rng.normal(size=(40, 2)), rng.normal(size=(40, 2))
>>> record = parity.compare(ref, cand, n_resamples=99).to_dict()
>>> text = comparison_html(record, ref, cand)
>>> text.startswith("<!DOCTYPE html>") and "Null distributions" in text
True
>>> text == comparison_html(record, ref, cand)
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from parity._format import number, to_float
from parity.errors import ParityInputError
from parity.report.html import (
    PALETTE,
    VERDICT_COLOURS,
    Raw,
    badge,
    bullets,
    escape,
    figure,
    flatten,
    grid,
    key_values,
    legend,
    page,
    paragraph,
    section,
    table,
    verdict_banner,
)
from parity.report.markdown import RULE_TEXT, embodied_rule
from parity.report.svg import Canvas
from parity.stats.permutation import statistic_label
from parity.stats.sensitivity import EFFECT_NOUNS, format_size, sizes_text

__all__ = ["MAX_MARGINALS", "comparison_html", "comparison_parts", "comparisons_html"]

#: Action dimensions drawn as marginal histograms; the others are listed in the table only.
MAX_MARGINALS = 12
#: Bars of a null-distribution or marginal histogram.
BINS = 30
#: Embodied status → the verdict whose colour it takes.
STATUS_COLOURS = {"ok": "pass", "regressed": "fail", "inconclusive": "inconclusive"}
HEADLINES = {
    "pass": "the candidate acts like the reference: no test detects a difference",
    "fail": "the candidate acts differently from the reference",
    "inconclusive": "the data cannot decide whether the candidate acts like the reference",
}
_KNOWN_KEYS = {
    "verdict",
    "alpha",
    "family_pvalue",
    "two_sample",
    "embodied",
    "reasons",
    "inputs",
    "settings",
    "seed",
    "version",
    "warnings",
    "sensitivity",
}
_TEST_KEYS = {
    "results",
    "statistic",
    "pvalue",
    "n_resamples",
    "exact",
    "min_attainable_pvalue",
    "n_x",
    "n_y",
    "dim",
    "precision",
    "tie_rtol",
    "standardized",
    "method",
    "warnings",
    "alternative",
    "details",
}


def _label(name: str) -> str:
    return statistic_label(name)


def _samples(name: str, values: Any, dim: int) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise ParityInputError(
            f"`{name}` must be an (n × {dim}) array, as the record's dimension d = {dim}; "
            f"got shape {arr.shape}"
        )
    return arr


# --------------------------------------------------------------------------------------------
# figures


def null_figure(
    name: str, result: Mapping[str, Any], alpha: float, differs: bool | None = None
) -> Canvas:
    """Histogram of one statistic's null distribution with the observed value marked.

    An observed value far outside the null (more than half the null's range beyond it) is
    shown as an arrow at the edge, so that the null's shape stays readable. The p-value is red
    when the statistic ``differs`` (after the family's adjustment; by default when p < α).
    """
    null = np.array([to_float(v) for v in result["null_distribution"]], dtype=np.float64)
    null = null[np.isfinite(null)]
    observed = to_float(result["statistic"])
    pvalue = to_float(result["pvalue"])
    low, high = float(null.min()), float(null.max())
    span = (high - low) or abs(high) or 1.0
    side = 1 if observed > high + span / 2 else (-1 if observed < low - span / 2 else 0)
    red = PALETTE["observed"]
    canvas = Canvas(3.1, 1.9)
    ax = canvas.panel()
    counts, edges = np.histogram(null, bins=BINS)
    ax.stairs(counts, edges, PALETTE["reference"], fill=0.4, width=0.8)
    if side == 0:
        ax.vline(observed, red, width=1.6)
        left = observed < (min(low, observed) + max(high, observed)) / 2
        ax.text(
            observed,
            1.0,
            f"observed {number(observed, 3)}",
            red,
            anchor="start" if left else "end",
            dx=3 if left else -3,
            dy=2,
            relative="y",
        )
    else:
        ax.text(
            0.8 if side > 0 else 0.2,
            0.55,
            f"observed {number(observed, 3)}\n(off the scale)",
            red,
            anchor="end" if side > 0 else "start",
            relative="xy",
            arrow=0.995 if side > 0 else 0.005,
        )
    differs = pvalue < alpha if differs is None else differs
    ax.title(_label(name))
    colour = VERDICT_COLOURS["fail" if differs else "pass"]
    ax.title(f"p = {number(pvalue, 3)}", side="right", colour=colour, bold=True)
    ax.xlabel, ax.ylabel = "statistic over permuted splits", "splits"
    ax.limits(y=(0, counts.max() * 1.15 if counts.size else 1))
    return canvas


def marginal_figure(j: int, reference: np.ndarray, candidate: np.ndarray) -> Canvas:
    """Reference and candidate histograms (densities) of one action dimension."""
    pooled = np.concatenate([reference, candidate])
    low, high = float(pooled.min()), float(pooled.max())
    if high <= low:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, BINS + 1)
    canvas = Canvas(3.3, 1.9)
    ax = canvas.panel()
    top = 0.0
    for role, values in (("reference", reference), ("candidate", candidate)):
        density, _ = np.histogram(values, bins=edges, density=True)
        fill = 0.25 if role == "reference" else None
        ax.stairs(density, edges, PALETTE[role], fill=fill, width=1.3)
        top = max(top, float(density.max()))
    ax.title(f"dimension {j}")
    ax.ylabel = "density"
    ax.limits(y=(0, top * 1.05 or 1))
    return canvas


def embodied_figure(embodied: Mapping[str, Mapping[str, Any]]) -> Canvas:
    """Each embodied ratio (candidate / reference) with its CI against the tolerance band."""
    names = list(embodied)
    canvas = Canvas(6.4, 0.5 + 0.42 * len(names))
    ax = canvas.panel()
    ax.margin = 0.08
    for i, name in enumerate(names):
        r = embodied[name]
        y = len(names) - 1 - i
        lo_band, hi_band = (to_float(v) for v in r["band"])
        one_sided = embodied_rule(r) == "regression"  # ok anywhere up to 1 + tol
        ax.rect(-math.inf if one_sided else lo_band, hi_band, y - 0.38, y + 0.38,
                VERDICT_COLOURS["pass"], 0.12)  # fmt: skip
        ax.line([lo_band, hi_band], [y, y], "none", width=0)  # the band is inside the limits
        lo, hi = (to_float(v) for v in r["confidence_interval"])
        colour = VERDICT_COLOURS[STATUS_COLOURS.get(r["status"], "inconclusive")]
        ax.line([lo, hi], [y, y], colour, width=2.2)
        ax.line([to_float(r["ratio"])], [y], colour, width=0, marker=2.5)
    ax.vline(1.0, "#59636e", width=0.8, style="dotted")
    ax.yticks = [(len(names) - 1 - i, name) for i, name in enumerate(names)]
    ax.limits(y=(-0.6, len(names) - 0.4))
    ax.xlabel = "candidate / reference (shaded: where the interval is ok; bar: its CI)"
    return canvas


# --------------------------------------------------------------------------------------------
# sections


def _banner(record: Mapping[str, Any]) -> str:
    test = record["two_sample"]
    verdict = record["verdict"]
    facts = (
        f"family p = {number(record['family_pvalue'], 3)} at α = {number(record['alpha'])}; "
        f"n = {test['n_x']} reference vs {test['n_y']} candidate "
        f"{'completions' if (test.get('details') or {}).get('kernel') else 'action samples'}, "
        f"d = {test['dim']}; {test['n_resamples']} "
        f"{'splits (exact)' if test.get('exact') else 'permutations'}; seed {record['seed']}"
    )
    paths = [
        f"{role}: {record['inputs'][role]['path']}"
        for role in ("reference", "candidate")
        if "path" in record["inputs"].get(role, {})
    ]
    if paths:
        facts = " · ".join(paths) + "; " + facts
    return verdict_banner(verdict, HEADLINES.get(verdict, ""), record["reasons"]) + paragraph(
        facts, muted=True
    )


def _tests_section(record: Mapping[str, Any], level: int) -> str:
    """The HTML section of the family test: one row per statistic (value, p-value, differs or not),
    the kernel table and the null-distribution figures."""
    from parity.verdict import differing_statistics

    test = record["two_sample"]
    alpha = to_float(record["alpha"])
    pvalues = {name: to_float(r["pvalue"]) for name, r in test["results"].items()}
    differing = differing_statistics(pvalues, to_float(test["pvalue"]), alpha)
    rows, figures = [], []
    for name, r in test["results"].items():
        p = pvalues[name]
        rows.append(
            [
                statistic_label(name, r.get("parameters")),
                number(r["statistic"]),
                number(p, 3),
                r.get("method", ""),
                Raw(_result_badge(name in differing, p < alpha)),
            ]
        )
        if r.get("null_distribution"):
            figures.append(
                figure(
                    null_figure(name, r, alpha, differs=name in differing),
                    f"{len(r['null_distribution'])} splits; observed {number(r['statistic'])}",
                )
            )
        else:
            figures.append(paragraph(f"{_label(name)}: no null distribution recorded.", True))
    intro = paragraph(
        f"{test.get('method', '')}: family p-value {number(test['pvalue'], 3)} at "
        f"α = {number(record['alpha'])}. Each statistic's p-value is the share of permuted splits "
        "at least as large as the observed value, (1 + #{null ≥ observed}) / (1 + B), before "
        "any adjustment; a statistic is marked “differs” only when the family test rejects and "
        "the statistic is significant after its Westfall–Young adjustment."
    )
    summary = table(("statistic", "observed", "p-value", "method", "result"), rows, (1, 2))
    kernels = _kernels_section(test["results"], level + 1)
    nulls = section("Null distributions", grid(*figures), level=level + 1)
    parts = (intro, summary, *((kernels,) if kernels else ()), nulls)
    return section("Action distributions: two-sample tests", *parts, level=level)


def _kernels_section(results: Mapping[str, Any], level: int) -> str:
    """Each kernel of an aggregated statistic: bandwidth, MMD², unadjusted p-value."""
    parts = []
    for name, r in results.items():
        kernels = (r.get("parameters") or {}).get("kernels")
        if not kernels:
            continue
        rows = [
            [
                k["kernel"],
                number(k["bandwidth"]),
                number(k["statistic"]),
                number(k["pvalue"], 3),
            ]
            for k in kernels
        ]
        rule = (r.get("parameters") or {}).get("bandwidth_rule", "")
        parts.append(paragraph(f"{statistic_label(name, r['parameters'])}; bandwidths: {rule}."))
        parts.append(
            table(("kernel", "bandwidth", "MMD²", "p-value (unadjusted)"), rows, (1, 2, 3))
        )
    return section("Kernels", *parts, level=level) if parts else ""


def _result_badge(differs: bool, raw_significant: bool) -> str:
    """``differs`` (after the family adjustment), ``p < α unadjusted`` or ``no difference``."""
    if differs:
        return badge("fail", "differs")
    if raw_significant:  # no claim: the family's adjustment does not support it
        return badge("inconclusive", "not significant after adjustment")
    return badge("pass", "no difference")


def _flat(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    return flatten(dict(data))


def _marginals_section(
    record: Mapping[str, Any], reference: Any, candidate: Any, level: int
) -> str:
    """The HTML section of the per-dimension action marginals, reference against candidate (only
    when the arrays are given)."""
    title = "Action marginals: reference vs candidate"
    if reference is None or candidate is None:
        return section(
            title,
            paragraph(
                "Not available: the JSON record does not hold the action samples. Render the "
                "report with the arrays (parity compare … --html) to see the marginals.",
                muted=True,
            ),
            level=level,
        )
    dim = int(record["two_sample"]["dim"])
    ref = _samples("reference", reference, dim)
    cand = _samples("candidate", candidate, dim)
    rows = []
    for j in range(dim):
        r, c = ref[:, j], cand[:, j]
        sd = float(np.sqrt((r.var() + c.var()) / 2))
        shift = (c.mean() - r.mean()) / sd if sd > 0 else 0.0
        rows.append(
            [
                j,
                number(float(r.mean())),
                number(float(c.mean())),
                number(float(r.std())),
                number(float(c.std())),
                number(float(shift), 3),
            ]
        )
    shown = min(dim, MAX_MARGINALS)
    figures = [figure(marginal_figure(j, ref[:, j], cand[:, j])) for j in range(shown)]
    note = (
        paragraph(f"Dimensions {shown}–{dim - 1} are in the table only.", muted=True)
        if dim > shown
        else ""
    )
    return section(
        title,
        paragraph(
            f"{ref.shape[0]} reference and {cand.shape[0]} candidate samples, per dimension, on "
            "the original scale (the tests standardize each dimension by its pooled standard "
            "deviation when `standardize` is on)."
        ),
        legend({role: PALETTE[role] for role in ("reference", "candidate")}),
        grid(*figures),
        note,
        table(
            ("dim", "ref. mean", "cand. mean", "ref. sd", "cand. sd", "mean shift / sd"),
            rows,
            (0, 1, 2, 3, 4, 5),
        ),
        level=level,
    )


def _embodied_section(record: Mapping[str, Any], level: int) -> str:
    """The HTML section of the embodied metrics: candidate / reference ratios with their intervals
    and the rule's decision."""
    title = "Embodied metrics: candidate / reference"
    embodied = record.get("embodied") or {}
    if not embodied:
        return section(
            title,
            paragraph(
                "Not computed: no rollouts were given (--ref-episodes / --cand-episodes).",
                muted=True,
            ),
            level=level,
        )
    rows = []
    for name, r in embodied.items():
        lo, hi = (to_float(v) for v in r["confidence_interval"])
        blo, bhi = (to_float(v) for v in r["band"])
        level_pct = f"{100 * to_float(r['confidence_level']):.3g}%"
        region = f"≤ {number(bhi, 3)}"
        if embodied_rule(r) == "equivalence":
            region = f"{number(blo, 3)} – {number(bhi, 3)}"
        rows.append(
            [
                name,
                number(r["ratio"]),
                f"{level_pct}: {number(lo)} – {number(hi)}",
                region,
                number(r["reference_mean"]),
                number(r["candidate_mean"]),
                f"{r['n_reference']} / {r['n_candidate']}",
                Raw(badge(STATUS_COLOURS.get(r["status"], "inconclusive"), r["status"])),
            ]
        )
    headers = (
        "metric",
        "ratio",
        "CI",
        "ok when the CI is",
        "ref. mean",
        "cand. mean",
        "episodes",
        "status",
    )
    method = sorted({r.get("method", "") for r in embodied.values()})
    rules = sorted({embodied_rule(r) for r in embodied.values()})
    return section(
        title,
        *[paragraph(RULE_TEXT[rule].replace("`", "")) for rule in rules],
        figure(
            embodied_figure(embodied),
            "ratio and confidence interval per metric; "
            "shaded: where the interval is ok; dotted: no change",
        ),
        table(headers, rows, (1, 4, 5)),
        paragraph(f"Intervals: {', '.join(method)}.", muted=True),
        level=level,
    )


def _inputs_section(record: Mapping[str, Any], level: int) -> str:
    """The HTML section of the inputs: each file's role, shape or episode lengths and sha256."""
    rows = []
    known = {"path", "shape", "lengths", "episodes", "sha256", "file_sha256"}
    for role, info in record["inputs"].items():
        if "shape" in info:
            shape = " × ".join(str(s) for s in info["shape"])
        elif "lengths" in info:
            lengths = info["lengths"]
            shape = f"{len(lengths)} episodes of {min(lengths)}–{max(lengths)} steps"
        else:
            shape = ""
        extra = "; ".join(
            f"{k} = {v}" for k, v in _flat({k: v for k, v in info.items() if k not in known})
        )
        rows.append(
            [
                role,
                info.get("path", "—"),
                shape,
                Raw(f"<code>{escape(info.get('file_sha256', '—'))}</code>"),
                Raw(f"<code>{escape(info.get('sha256', '—'))}</code>"),
                extra,
            ]
        )
    headers = ("input", "file", "shape", "file sha256", "array sha256", "other")
    if not any(row[-1] for row in rows):
        headers, rows = headers[:-1], [row[:-1] for row in rows]
    return section(
        "Inputs",
        table(headers, rows),
        paragraph(
            "file sha256: the bytes of the file; array sha256: the float64 array with its shape.",
            muted=True,
        ),
        level=level,
    )


def _settings_section(record: Mapping[str, Any], level: int) -> str:
    """The HTML section of the settings that decide the verdict: α, seed, engine, resamples and the
    smallest attainable p."""
    test = record["two_sample"]
    facts = {
        "alpha": record["alpha"],
        "seed": record["seed"],
        **record.get("settings", {}),
        "permutations run": test["n_resamples"],
        "exact enumeration": test.get("exact"),
        "smallest attainable p": test.get("min_attainable_pvalue"),
        "precision": test.get("precision"),
        "tie tolerance (relative)": test.get("tie_rtol"),
        "alternative": test.get("alternative"),
        "parity version": record.get("version"),
    }
    params = [
        [_label(name), "; ".join(f"{k} = {v}" for k, v in _flat(r.get("parameters") or {}))]
        for name, r in test["results"].items()
    ]
    warnings = record.get("warnings") or []
    return section(
        "Settings",
        key_values(facts, headers=("setting", "value")),
        section(
            "Statistic parameters",
            table(("statistic", "parameters"), params),
            level=level + 1,
        ),
        section(
            "Warnings",
            bullets(warnings) if warnings else paragraph("None.", muted=True),
            level=level + 1,
        ),
        level=level,
    )


def sensitivity_figure(sens: Mapping[str, Any]) -> Canvas:
    """Simulated power against effect size, one panel per effect (shift, scale change, bump;
    token changes, prompt swaps), the target power dashed and the minimum detectable effect
    marked."""
    target = to_float(sens["power"])
    effects = list(sens["effects"].values())
    canvas = Canvas(2.4 * len(effects) + 0.4, 2.1, sharey=True)
    for effect in effects:
        ax = canvas.panel()
        share = 100.0 if effect["unit"] == "share" else 1.0
        curve = effect["curve"]
        x = [share * to_float(v) for v in curve["values"]]
        y = [to_float(v) for v in curve["power"]]
        err = [to_float(v) for v in curve["standard_error"]]
        for xi, yi, ei in zip(x, y, err, strict=True):
            ax.line([xi, xi], [yi - ei, yi + ei], PALETTE["candidate"], width=1.2)
        ax.line(x, y, PALETTE["candidate"], width=1.2, marker=1.75)
        ax.hline(target, "#59636e", width=0.8, style="dashed")
        found = to_float(effect["value"])
        if effect["detectable"] and math.isfinite(found):
            ax.vline(share * found, VERDICT_COLOURS["pass"], width=1.0)
        ax.limits(y=(0, 1.02))
        ax.ytick_values = [0, 0.5, 1]
        unit = "%" if effect["unit"] == "share" else effect["unit"]
        ax.xlabel = f"{effect['effect']} ({unit})"
    canvas.panels[0].ylabel = "power"
    return canvas


def _sensitivity_section(sens: Mapping[str, Any], level: int) -> str:
    """The HTML section of the sensitivity: the smallest shift, scale change and local bump the test
    detects, with their standard errors."""

    def size(e: Mapping[str, Any]) -> str:
        unit = e["unit"]
        if not e["detectable"]:
            return f"none up to {format_size(to_float(e['max_value']), unit, 3)}"
        se = to_float(e["standard_error"])
        shown = number(se, 2) if unit == "×" else format_size(se, unit, 2)
        return f"{format_size(to_float(e['value']), unit, 3)} (s.e. {shown})"

    effects = sens["effects"]
    found = [f"{EFFECT_NOUNS[name]} of {size(e)}" for name, e in effects.items()]
    listed = ", ".join(found[:-1]) + " and " + found[-1] if len(found) > 1 else found[0]
    summary = (
        f"With {number(100 * to_float(sens['power']))}% power at α = {number(sens['alpha'])} and "
        f"{sizes_text(sens)}, this test detects {listed}. A pass does not rule out smaller "
        f"effects: below these sizes they are missed more than "
        f"{number(100 - 100 * to_float(sens['power']))}% of the time."
    )
    if "shift" not in effects:
        summary += (
            " No detectability threshold applies to this design; the verdict does not use it."
        )
    rows = [
        ("simulated tests", sens["n_tests"]),
        ("replicates", sens["n_simulations"]),
        ("samples per replicate", f"{sens['n_x_simulated']} vs {sens['n_y_simulated']}"),
        ("splits per test", sens["n_resamples"]),
        ("statistics", ", ".join(sens["statistics"])),
        *((e["effect"], e["label"]) for e in effects.values()),
    ]
    if sens["n_strata"] > 1:
        rows.insert(
            3, ("strata per replicate", f"{sens['n_strata_simulated']} of {sens['n_strata']}")
        )
    return section(
        "Sensitivity",
        paragraph(summary),
        figure(sensitivity_figure(sens), "simulated power (± 1 s.e.) by effect size"),
        table(("simulation", "value"), rows),
        paragraph(sens["method"], muted=True),
        *(paragraph(f"warning: {w}") for w in sens.get("warnings") or ()),
        level=level,
    )


def _extra_sections(record: Mapping[str, Any], level: int) -> list[str]:
    """Content the page has no special layout for, as key/value tables."""
    test = record["two_sample"]
    parts = []
    details = dict(test.get("details") or {})
    details.update({k: v for k, v in test.items() if k not in _TEST_KEYS})
    if details:
        parts.append(section("Test details", key_values(details), level=level))
    if record.get("sensitivity"):
        parts.append(_sensitivity_section(record["sensitivity"], level))
    other = {k: v for k, v in record.items() if k not in _KNOWN_KEYS}
    if other:
        parts.append(section("Other record fields", key_values(other), level=level))
    return parts


# --------------------------------------------------------------------------------------------
# the page


def comparison_parts(
    record: Mapping[str, Any],
    reference: Any = None,
    candidate: Any = None,
    *,
    level: int = 2,
) -> list[str]:
    """The report's pieces (banner and sections, headings at ``level``), to embed in a page.

    Parameters
    ----------
    record : mapping
        ``ParityVerdict.to_dict()`` (or the parsed ``verdict.json``).
    reference, candidate : array_like, shape (n, d), optional
        The action samples, for the marginal histograms; without them that section says so.
    level : int
        Heading level of the sections.

    Returns
    -------
    list of str

    Raises
    ------
    ParityInputError
        An array whose number of columns is not the record's dimension.
    """
    return [
        _banner(record),
        _tests_section(record, level),
        _marginals_section(record, reference, candidate, level),
        _embodied_section(record, level),
        *_extra_sections(record, level),
        _inputs_section(record, level),
        _settings_section(record, level),
    ]


def comparison_html(
    record: Mapping[str, Any],
    reference: Any = None,
    candidate: Any = None,
    *,
    title: str = "Parity comparison",
) -> str:
    """A self-contained HTML page for a comparison record.

    Parameters
    ----------
    record : mapping
        ``ParityVerdict.to_dict()`` (or the parsed ``verdict.json``): the data of record.
    reference, candidate : array_like, shape (n, d), optional
        The action samples behind the record, for the per-dimension marginals.
    title : str
        Heading and ``<title>`` of the page.

    Returns
    -------
    str
        The page; the same record and arrays give the same bytes.
    """
    footer = paragraph(
        f"Rendered by parity {record.get('version', '')} from the JSON record (verdict.json, "
        "the data of record); marginals from the input arrays.",
        muted=True,
    )
    return page(title, *comparison_parts(record, reference, candidate), footer)


def comparisons_html(
    comparisons: Mapping[str, Mapping[str, Any]],
    *,
    title: str = "Parity comparisons",
    intro: str = "",
) -> str:
    """One page for several comparisons: a summary table, then each report in its section.

    Parameters
    ----------
    comparisons : mapping of str to mapping
        Name → ``{"record": …, "reference": …, "candidate": …}`` (the arrays optional).
    title : str
        Heading and ``<title>`` of the page.
    intro : str
        A paragraph under the heading.

    Returns
    -------
    str
    """
    rows, parts = [], []
    for name, item in comparisons.items():
        record = item["record"]
        embodied = record.get("embodied") or {}
        statuses = ", ".join(f"{k} {v['status']}" for k, v in embodied.items()) or "—"
        rows.append(
            [
                name,
                Raw(badge(record["verdict"])),
                number(record["family_pvalue"], 3),
                statuses,
            ]
        )
        body = comparison_parts(record, item.get("reference"), item.get("candidate"), level=3)
        parts.append(section(name, *body))
    summary = table(("comparison", "verdict", "family p", "embodied metrics"), rows, (2,))
    return page(title, paragraph(intro) if intro else "", summary, *parts)
