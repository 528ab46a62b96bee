"""Parity assertions for a user's own test suite: each one decides, and fails with its numbers.

``assert_same_distribution`` (two policies' actions, :func:`parity.compare`),
``assert_equivalent`` (TOST, :func:`parity.stats.tost`), ``assert_noninferior``
(:func:`parity.stats.noninferiority`) and ``assert_no_regression`` (embodied metrics of
rollouts, :func:`parity.trajectory.compare_embodied`) return the result when the claim is shown
and otherwise raise :class:`ParityAssertionError` (an ``AssertionError``, so every test runner
reports it as a failed test) whose message holds the verdict's reasons and numbers.

*Inconclusive fails.* A test too small to show anything is a failure unless the call says
``allow_inconclusive=True``; then it passes with a :class:`~parity.errors.ParityWarning`, so a
guard that cannot see never passes in silence. Every random draw has a fixed default seed (0),
so a test gives the same answer on every run; pass ``rng=`` (an int seed or a
``numpy.random.Generator``) to change it.

Each assertion made is recorded; the pytest plugin (:mod:`parity.testing.plugin`, registered
under the ``pytest11`` entry point ``parity``) lists them in a "parity" section of the terminal
summary and, with ``--parity-reports DIR``, writes the JSON and Markdown reports of the failed
ones there.

Examples
--------
>>> import numpy as np
>>> from parity.testing import assert_equivalent
>>> rng = np.random.default_rng(0)
>>> reference = rng.normal(0.80, 0.01, size=20)
>>> result = assert_equivalent(reference, reference + 0.001, margin=0.02)
>>> bool(result.equivalent)
True
>>> assert_equivalent(reference, reference - 0.05, margin=0.02)
Traceback (most recent call last):
...
parity.testing.ParityAssertionError: assert_equivalent: FAIL (TOST p = 1 ≥ α = 0.05)...
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from parity._format import number

if TYPE_CHECKING:  # results, named in the annotations only: importing this module stays light
    from parity.stats import OneSidedResult, TOSTResult
    from parity.trajectory import EmbodiedResult
    from parity.verdict import ParityVerdict

__all__ = [
    "AssertionRecord",
    "ParityAssertionError",
    "assert_equivalent",
    "assert_no_regression",
    "assert_noninferior",
    "assert_same_distribution",
    "recording",
]


class ParityAssertionError(AssertionError):
    """A parity assertion that did not hold; ``result`` is what the check returned."""

    def __init__(self, message: str, result: Any) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True, slots=True)
class AssertionRecord:
    """One parity assertion made: what was checked, the outcome and its reports.

    Attributes
    ----------
    assertion : str
        The function called, e.g. ``"assert_equivalent"``.
    name : str or None
        The ``name=`` given to it.
    test : str or None
        The pytest node id of the test that made it (``None`` outside pytest).
    outcome : {"pass", "fail", "inconclusive"}
        What the check decided.
    passed : bool
        Whether the assertion held (an allowed inconclusive holds).
    pvalue : float or None
        The deciding p-value (family p, TOST p, one-sided p); ``None`` for the embodied metrics,
        which decide by intervals.
    message : str
        The assertion's message: the outcome's line, reasons and numbers.
    json : str
        The full result as JSON.
    markdown : str
        The report as Markdown.
    """

    assertion: str
    name: str | None
    test: str | None
    outcome: str
    passed: bool
    pvalue: float | None
    message: str
    json: str
    markdown: str


_RECORDERS: list[list[AssertionRecord]] = []


@contextmanager
def recording() -> Iterator[list[AssertionRecord]]:
    """Collect every parity assertion made inside the block (nested blocks each get theirs).

    Examples
    --------
    >>> reference, candidate = [0.90, 0.91, 0.92, 0.90, 0.91], [0.91, 0.92, 0.91, 0.90, 0.92]
    >>> with recording() as records:
    ...     _ = assert_noninferior(reference, candidate, margin=0.05)
    >>> [(r.assertion, r.outcome) for r in records]
    [('assert_noninferior', 'pass')]
    """
    records: list[AssertionRecord] = []
    _RECORDERS.append(records)
    try:
        yield records
    finally:
        _RECORDERS.remove(records)


def _current_test() -> str | None:
    """The running pytest node id (pytest sets ``PYTEST_CURRENT_TEST``), or None."""
    current = os.environ.get("PYTEST_CURRENT_TEST")
    return current.rsplit(" (", 1)[0] if current else None


def _num(x: Any, digits: int = 4) -> str:
    return number(None if x is None else float(x), digits)


def _settle(
    assertion: str,
    outcome: str,
    lines: list[str],
    result: Any,
    *,
    pvalue: float | None,
    record_json: str,
    markdown: str | None = None,
    name: str | None = None,
    allow_inconclusive: bool = False,
) -> Any:
    """Record the assertion, then return ``result`` or raise with the message."""
    from parity.errors import ParityWarning

    passed = outcome == "pass" or (outcome == "inconclusive" and allow_inconclusive)
    label = f"{assertion}[{name}]" if name else assertion
    head = f"{label}: {outcome.upper()} {lines[0]}"
    if outcome == "inconclusive" and not allow_inconclusive:
        head += " — counted as a failure (allow_inconclusive=True accepts it)"
    message = "\n".join([head, *(f"  {line}" for line in lines[1:])])
    if markdown is None:
        markdown = _markdown(label, outcome, lines)
    record = AssertionRecord(
        assertion, name, _current_test(), outcome, passed, pvalue, message, record_json, markdown
    )
    for records in _RECORDERS:
        records.append(record)
    if not passed:
        raise ParityAssertionError(message, result)
    if outcome == "inconclusive":
        warnings.warn(message, ParityWarning, stacklevel=3)
    return result


def _markdown(label: str, outcome: str, lines: list[str]) -> str:
    body = "\n".join(f"- {line}" for line in lines[1:])
    return f"# {label}: {outcome.upper()}\n\n{lines[0].strip('()')}\n\n{body}\n"


def assert_same_distribution(
    reference: Any,
    candidate: Any,
    *,
    allow_inconclusive: bool = False,
    name: str | None = None,
    **options: Any,
) -> ParityVerdict:
    """Assert that the candidate's actions (and rollouts) match the reference's.

    Runs :func:`parity.compare` and passes on its ``pass``; a ``fail`` raises, and so does an
    ``inconclusive`` (too few samples, or a test too insensitive for ``max_detectable_shift``)
    unless ``allow_inconclusive``.

    Parameters
    ----------
    reference, candidate : array_like, shape (n, d) and (m, d)
        Action samples of the original and of the changed system.
    allow_inconclusive : bool, default False
        Let an inconclusive verdict pass (with a :class:`~parity.errors.ParityWarning`).
    name : str, optional
        A label for the message and the pytest summary.
    **options
        Passed to :func:`parity.compare` (``alpha``, ``n_resamples``, ``reference_episodes``
        and ``candidate_episodes``, ``max_detectable_shift``, ``rng``, ...). Its ``rng``
        defaults to 0.

    Returns
    -------
    ParityVerdict
        The verdict, when it is ``pass`` (or an allowed ``inconclusive``).

    Raises
    ------
    ParityAssertionError
        On ``fail``, or ``inconclusive`` without ``allow_inconclusive``; its message holds the
        verdict's reasons, the family p-value and the smallest detectable shift.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> reference = rng.normal(size=(60, 2))
    >>> _ = assert_same_distribution(reference, reference + 1.0, n_resamples=199)
    Traceback (most recent call last):
    ...
    parity.testing.ParityAssertionError: assert_same_distribution: FAIL (family p = 0.005...
    """
    from parity.report.markdown import verdict_markdown
    from parity.verdict import compare

    verdict = compare(reference, candidate, **options)
    sign = "<" if verdict.family_pvalue < verdict.alpha else "≥"
    n = verdict.two_sample
    lines = [
        f"(family p = {_num(verdict.family_pvalue)} {sign} α = {verdict.alpha:g}, "
        f"n = {n.n_x} vs {n.n_y})",
        *verdict.reasons,
    ]
    shift = _detectable_shift(verdict)
    if shift is not None:
        lines.append(f"smallest shift detected with 80% power: {_num(shift, 3)} σ")
    lines += [f"warning: {w}" for w in verdict.warnings]
    return _settle(
        "assert_same_distribution",
        verdict.verdict,
        lines,
        verdict,
        pvalue=verdict.family_pvalue,
        record_json=verdict.to_json(),
        markdown=verdict_markdown(verdict.to_dict()),
        name=name,
        allow_inconclusive=allow_inconclusive,
    )


def _detectable_shift(verdict: Any) -> float | None:
    sens = verdict.sensitivity
    effect = None if sens is None else sens.effects.get("shift")
    return None if effect is None else effect.value


def _test_lines(result: Any, what: str) -> list[str]:
    """The estimate, its interval and the sample sizes of a TOST or one-sided result."""
    scale = "ratio of means" if result.relative else "difference of means (candidate − reference)"
    lo, hi = result.confidence_interval
    lo_b, hi_b = result.bounds
    return [
        f"{scale} = {_num(result.estimate)}, {100 * result.confidence_level:.3g}% CI "
        f"[{_num(lo)}, {_num(hi)}]; {what} region ({_num(lo_b)}, {_num(hi_b)})",
        f"means {_num(result.reference_mean)} / {_num(result.candidate_mean)}, "
        f"sd {_num(result.reference_sd)} / {_num(result.candidate_sd)}, "
        f"n = {result.n_reference} / {result.n_candidate}",
        *(f"note: {note}" for note in dict.fromkeys(result.warnings)),
    ]


def _json(result: Any) -> str:
    from parity.io import json_dumps
    from parity.stats._common import to_jsonable

    return json_dumps(to_jsonable(result))


def assert_equivalent(
    reference: Any,
    candidate: Any,
    *,
    margin: float | tuple[float, float],
    allow_inconclusive: bool = False,
    name: str | None = None,
    **options: Any,
) -> TOSTResult:
    """Assert that the candidate's mean is within ``margin`` of the reference's (TOST).

    Runs :func:`parity.stats.tost` on scalar results (one per seed or run). Equivalence shown
    passes; otherwise the assertion fails, and the outcome is ``inconclusive`` when no observed
    means could have shown equivalence at these sample sizes and spreads (``attainable`` is
    false), which also fails unless ``allow_inconclusive``.

    Parameters
    ----------
    reference, candidate : array_like, 1-D
        Scalar results, at least 2 each.
    margin : float or (float, float)
        As for :func:`parity.stats.tost`: ``m`` for ``(-m, m)``, or ``(low, high)``.
    allow_inconclusive : bool, default False
        Let an unattainable test pass (with a :class:`~parity.errors.ParityWarning`).
    name : str, optional
        A label for the message and the pytest summary.
    **options
        Passed to :func:`parity.stats.tost` (``relative``, ``paired``, ``equal_var``,
        ``alpha``).

    Returns
    -------
    TOSTResult
        When equivalence is shown (or an allowed inconclusive).

    Examples
    --------
    >>> reference = [0.70, 0.72, 0.71, 0.69, 0.71, 0.70]
    >>> _ = assert_equivalent(reference, [0.71, 0.70, 0.72, 0.70, 0.69, 0.71], margin=0.05)
    >>> assert_equivalent(reference, [0.71, 0.70, 0.72, 0.70, 0.69, 0.71], margin=0.005)
    Traceback (most recent call last):
    ...
    parity.testing.ParityAssertionError: assert_equivalent: INCONCLUSIVE (TOST p = 0.21...
    """
    from parity.stats.equivalence import tost

    result = tost(reference, candidate, margin=margin, **options)
    if result.equivalent:
        outcome = "pass"
    else:
        outcome = "fail" if result.attainable else "inconclusive"
    sign = "<" if result.equivalent else "≥"
    lines = [
        f"(TOST p = {_num(result.pvalue, 2)} {sign} α = {result.alpha:g})",
        *_test_lines(result, "equivalence"),
    ]
    return _settle(
        "assert_equivalent",
        outcome,
        lines,
        result,
        pvalue=result.pvalue,
        record_json=_json(result),
        name=name,
        allow_inconclusive=allow_inconclusive,
    )


def assert_noninferior(
    reference: Any,
    candidate: Any,
    *,
    margin: float,
    name: str | None = None,
    **options: Any,
) -> OneSidedResult:
    """Assert that the candidate is not worse than the reference by ``margin`` or more.

    Runs :func:`parity.stats.noninferiority` (one-sided t-test; higher is better unless
    ``higher_is_better=False``). Such a test can always be passed by a candidate observed
    better by enough, so there is no inconclusive outcome: not shown fails.

    Parameters
    ----------
    reference, candidate : array_like, 1-D
        Scalar results, at least 2 each.
    margin : float
        ``m > 0``: the largest loss still called "not worse" (a fraction of the reference mean
        with ``relative=True``).
    name : str, optional
        A label for the message and the pytest summary.
    **options
        Passed to :func:`parity.stats.noninferiority` (``higher_is_better``, ``relative``,
        ``paired``, ``equal_var``, ``alpha``).

    Returns
    -------
    OneSidedResult
        When non-inferiority is shown.

    Examples
    --------
    >>> reference = [0.90, 0.91, 0.92, 0.90, 0.91]
    >>> _ = assert_noninferior(reference, [0.91, 0.92, 0.91, 0.92, 0.90], margin=0.05)
    >>> assert_noninferior(reference, [0.80, 0.81, 0.80, 0.82, 0.81], margin=0.05)
    Traceback (most recent call last):
    ...
    parity.testing.ParityAssertionError: assert_noninferior: FAIL (one-sided p = 1 ≥ α = 0.05)...
    """
    from parity.stats.equivalence import noninferiority

    result = noninferiority(reference, candidate, margin=margin, **options)
    shown = bool(result.noninferior)
    lines = [
        f"(one-sided p = {_num(result.pvalue, 2)} {'<' if shown else '≥'} α = {result.alpha:g})",
        *_test_lines(result, "non-inferiority"),
    ]
    return _settle(
        "assert_noninferior",
        "pass" if shown else "fail",
        lines,
        result,
        pvalue=result.pvalue,
        record_json=_json(result),
        name=name,
    )


def assert_no_regression(
    reference_episodes: Any,
    candidate_episodes: Any,
    *,
    dt: float,
    rng: Any = 0,
    allow_inconclusive: bool = False,
    name: str | None = None,
    **options: Any,
) -> dict[str, EmbodiedResult]:
    """Assert that no embodied metric (jerk, motion energy, path length) of the rollouts rose.

    Runs :func:`parity.trajectory.compare_embodied`: a metric ``regressed`` (its ratio CI above
    ``1 + tolerance``) fails; one whose interval straddles ``1 + tolerance`` is
    ``inconclusive`` and fails unless ``allow_inconclusive``; ``ok`` and ``changed`` (fell)
    pass.

    Parameters
    ----------
    reference_episodes, candidate_episodes : array_like (E × T × d) or sequence of (T_e × d)
        Rollouts of the original and of the changed system.
    dt : float
        Seconds between steps.
    rng : int, Generator or None, default 0
        Seed of the bootstrap (fixed by default: the same episodes give the same answer).
    allow_inconclusive : bool, default False
        Let an inconclusive metric pass (with a :class:`~parity.errors.ParityWarning`).
    name : str, optional
        A label for the message and the pytest summary.
    **options
        Passed to :func:`parity.trajectory.compare_embodied` (``tolerance``, ``alpha``,
        ``metrics``, ``n_resamples``, ``rule``).

    Returns
    -------
    dict of str to EmbodiedResult
        When no metric regressed (nor, unless allowed, is inconclusive).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> reference = np.cumsum(rng.normal(size=(20, 50, 2)), axis=1)
    >>> _ = assert_no_regression(reference, reference * 0.99, dt=0.1, n_resamples=999)
    >>> assert_no_regression(reference, reference * 1.5, dt=0.1, n_resamples=999)
    Traceback (most recent call last):
    ...
    parity.testing.ParityAssertionError: assert_no_regression: FAIL (3 of 3 metrics regressed...
    """
    from parity.trajectory.embodied import compare_embodied

    results = compare_embodied(reference_episodes, candidate_episodes, dt=dt, rng=rng, **options)
    statuses = [r.status for r in results.values()]
    regressed, unsure = statuses.count("regressed"), statuses.count("inconclusive")
    outcome = "fail" if regressed else ("inconclusive" if unsure else "pass")
    counts = f"{regressed} of {len(statuses)} metrics regressed, {unsure} inconclusive"
    lines = [f"({counts})"]
    for metric, r in results.items():
        lo, hi = r.confidence_interval
        lines.append(
            f"{metric}: {r.status}, ratio {_num(r.ratio)}, {100 * r.confidence_level:.3g}% CI "
            f"[{_num(lo)}, {_num(hi)}] vs 1 + tolerance = {_num(r.band[1])} — {r.reason}"
        )
        lines += [f"warning: {metric}: {w}" for w in r.warnings]
    return _settle(
        "assert_no_regression",
        outcome,
        lines,
        results,
        pvalue=None,
        record_json=_json(results),
        name=name,
        allow_inconclusive=allow_inconclusive,
    )
