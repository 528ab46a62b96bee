"""Components: each component's arrays compared between the systems, per task and seed.

``allclose`` elementwise, or a permutation two-sample test (MMD and energy) with Holm over the
task × seed pairs of the component. A room of :mod:`parity.suite.checks`: it may import
:mod:`parity.stats`, :mod:`parity.suite.checks._common`,
:mod:`~parity.suite.checks.samples`, :mod:`parity.suite.manifest` and
:mod:`parity.suite.records`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from parity.errors import ParityInputError, ParityWarning
from parity.stats._common import ResultMixin
from parity.suite.checks._common import _index, _judge_seed, _replace, _Table
from parity.suite.checks.samples import ArrayLoader, _Arrays, _arrays
from parity.suite.manifest import ComponentSpec, Manifest
from parity.suite.records import RunKey, RunRecord

__all__ = [
    "COMPONENT_PERMUTATIONS",
    "ComponentMatchResult",
    "ComponentPair",
    "ComponentResult",
    "check_components",
]


COMPONENT_PERMUTATIONS = 999


@dataclass(frozen=True, slots=True)
class ComponentPair(ResultMixin):
    """One task/seed comparison of a component's arrays."""

    task: str
    seed: int
    passed: bool
    shape_reference: tuple[int, ...] | None
    shape_candidate: tuple[int, ...] | None
    max_abs_deviation: float | None = None
    max_rel_deviation: float | None = None
    n_mismatched: int | None = None
    pvalue: float | None = None
    adjusted_pvalue: float | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ComponentResult(ResultMixin):
    """All task/seed comparisons of one component."""

    name: str
    array: str
    test: str
    rtol: float
    atol: float
    required: bool
    passed: bool
    pairs_compared: int
    pairs_failed: int
    max_abs_deviation: float | None
    max_rel_deviation: float | None
    pairs: tuple[ComponentPair, ...]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ComponentMatchResult(ResultMixin):
    """Every configured component; ``component_match_pass`` over the required ones."""

    component_match_pass: bool
    required: bool
    components: tuple[ComponentResult, ...]


def check_components(
    manifest: Manifest,
    runs: Sequence[RunRecord],
    *,
    rng: Any = 0,
    root: str | Path | None = None,
    load_arrays: ArrayLoader | None = None,
) -> ComponentMatchResult | None:
    """Compare each component's arrays between the systems, per task and seed (rerun 0).

    Returns None when the manifest configures no component. ``rng``, ``root`` and
    ``load_arrays`` as in :func:`judge`.
    """
    seed = _judge_seed(rng)[0]
    return _components(manifest, _index(runs), _arrays(root, load_arrays), seed)


def _components(
    manifest: Manifest, table: _Table, arrays: _Arrays, seed: int
) -> ComponentMatchResult | None:
    """Every configured component compared between the systems (rerun 0).

    Parameters
    ----------
    manifest : Manifest
        The suite; ``manifest.components`` maps names to :class:`ComponentSpec`.
    table : _Table
        The recorded runs: a task/seed without an ok run of both systems is skipped (coverage
        reports it).
    arrays : _Arrays
        The runs' ``samples.npz`` arrays.
    seed : int
        The judge's seed: the permutations of component ``ci`` on task ``ti`` and seed ``si``
        draw from ``default_rng([seed, 2, ci, ti, si])``.

    Returns
    -------
    ComponentMatchResult or None
        None when the manifest configures no component; ``component_match_pass`` over the
        required ones.
    """
    if not manifest.components:
        return None
    results = [
        _component(manifest, table, arrays, seed, ci, name, spec)
        for ci, (name, spec) in enumerate(manifest.components.items())
    ]
    required = [r for r in results if r.required]
    return ComponentMatchResult(
        component_match_pass=all(r.passed for r in required),
        required=bool(required),
        components=tuple(results),
    )


def _component(
    manifest: Manifest,
    table: _Table,
    arrays: _Arrays,
    seed: int,
    ci: int,
    name: str,
    spec: ComponentSpec,
) -> ComponentResult:
    """One component (number ``ci``) on every task and seed, with its summary."""
    array = spec.array or name
    pairs: list[ComponentPair] = []
    for ti, task in enumerate(manifest.tasks):
        for si, s in enumerate(manifest.seeds):
            runs = [table.ok.get(RunKey(sys_, task, s, 0)) for sys_ in ("reference", "candidate")]
            if any(r is None for r in runs):
                continue  # coverage reports it
            got, problems = _component_arrays(runs, arrays, array)
            shapes = tuple(None if a is None else tuple(int(n) for n in np.shape(a)) for a in got)
            if problems:
                pairs.append(ComponentPair(task, s, False, *shapes, detail="; ".join(problems)))
            elif spec.test == "allclose":
                pairs.append(_allclose(task, s, got[0], got[1], spec.rtol, spec.atol))
            else:
                rng = np.random.default_rng([seed, 2, ci, ti, si])
                pairs.append(_two_sample(task, s, got[0], got[1], rng))
    notes = []
    if spec.test == "two_sample":
        pairs = _holm_pairs(pairs, manifest.alpha)
        notes.append(
            f"permutation two-sample tests (MMD and energy, {COMPONENT_PERMUTATIONS} splits) "
            f"Holm-adjusted over the task × seed pairs at α = {manifest.alpha:g}; a pass "
            "means no pair was shown to differ"
        )
    if not pairs:
        notes.append("no task/seed has an ok run of both systems: nothing was compared")
    failed = sum(not p.passed for p in pairs)
    abs_dev = [p.max_abs_deviation for p in pairs if p.max_abs_deviation is not None]
    rel_dev = [p.max_rel_deviation for p in pairs if p.max_rel_deviation is not None]
    return ComponentResult(
        name=name,
        array=array,
        test=spec.test,
        rtol=spec.rtol,
        atol=spec.atol,
        required=spec.required,
        passed=bool(pairs) and failed == 0,
        pairs_compared=len(pairs),
        pairs_failed=failed,
        max_abs_deviation=_nanmax(abs_dev),
        max_rel_deviation=_nanmax(rel_dev),
        pairs=tuple(pairs),
        warnings=tuple(notes),
    )


def _component_arrays(
    runs: list[RunRecord], arrays: _Arrays, array: str
) -> tuple[list[Any], list[str]]:
    """The array ``array`` of each run (None where absent), and what kept it from being read."""
    got, problems = [], []
    for run in runs:
        data, error = arrays.get(run)
        if error is not None:
            problems.append(f"{run.key.system}: {error}")
        elif data is None or array not in data:
            where = "no samples.npz" if data is None else "samples.npz"
            problems.append(f"{run.key.system} run wrote no array `{array}` ({where})")
        got.append(None if data is None else data.get(array))
    return got, problems


def _nanmax(values: list[float]) -> float | None:
    """The largest value (NaN if any is NaN), or None for no value."""
    if not values:
        return None
    arr = np.asarray(values, dtype=float)
    return math.nan if np.isnan(arr).any() else float(arr.max())


def _allclose(task: str, s: int, ref: Any, cand: Any, rtol: float, atol: float) -> ComponentPair:
    """``|c − r| ≤ atol + rtol·|r|`` elementwise, with the largest deviations."""
    r = np.asarray(ref)
    c = np.asarray(cand)
    shapes = (tuple(int(n) for n in r.shape), tuple(int(n) for n in c.shape))
    if r.shape != c.shape:
        return ComponentPair(
            task, s, False, *shapes, detail=f"shapes differ: {shapes[0]} vs {shapes[1]}"
        )
    try:
        r = r.astype(np.float64)
        c = c.astype(np.float64)
    except (TypeError, ValueError):
        return ComponentPair(task, s, False, *shapes, detail="arrays are not numeric")
    if r.size == 0:
        return ComponentPair(task, s, True, *shapes, 0.0, 0.0, 0, detail="empty arrays")
    close = np.isclose(c, r, rtol=rtol, atol=atol, equal_nan=False)
    with np.errstate(invalid="ignore", divide="ignore"):
        diff = np.abs(c - r)
        rel = np.where(diff == 0, 0.0, diff / np.abs(r))
    mismatched = int(r.size - np.count_nonzero(close))
    max_abs = float(np.max(diff)) if not np.isnan(diff).any() else math.nan
    max_rel = float(np.max(rel)) if not np.isnan(rel).any() else math.nan
    detail = (
        ""
        if mismatched == 0
        else (f"{mismatched} of {r.size} values outside |c − r| ≤ {atol:g} + {rtol:g}·|r|")
    )
    return ComponentPair(
        task, s, mismatched == 0, *shapes, max_abs, max_rel, mismatched, detail=detail
    )


def _two_sample(task: str, s: int, ref: Any, cand: Any, rng: np.random.Generator) -> ComponentPair:
    """A permutation two-sample test (MMD and energy) of one task/seed's arrays."""
    from parity.stats import two_sample_test

    shapes = (tuple(int(n) for n in np.shape(ref)), tuple(int(n) for n in np.shape(cand)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ParityWarning)
            res = two_sample_test(
                ref, cand, ("mmd", "energy"), n_resamples=COMPONENT_PERMUTATIONS, rng=rng
            )
    except ParityInputError as exc:
        return ComponentPair(task, s, False, *shapes, detail=str(exc))
    return ComponentPair(task, s, True, *shapes, pvalue=float(res.pvalue))


def _holm_pairs(pairs: list[ComponentPair], alpha: float) -> list[ComponentPair]:
    """The two-sample pairs with Holm-adjusted p-values; a pair fails when shown to differ."""
    from parity.stats import holm

    tested = [i for i, p in enumerate(pairs) if p.pvalue is not None]
    adjusted = holm([pairs[i].pvalue for i in tested]) if tested else []
    out = list(pairs)
    for i, a in zip(tested, adjusted, strict=True):
        differ = bool(a <= alpha)
        out[i] = _replace(
            pairs[i],
            adjusted_pvalue=float(a),
            passed=not differ,
            detail=f"shown to differ (Holm-adjusted p = {a:.3g} ≤ α)" if differ else "",
        )
    return out
