"""The shortcut checks of validity (proof mode): copied result files, degenerate samples.

``identical_file`` and ``identical_across_seeds`` test coincidences against chance (one Holm
family each, over the tests that can reach α); ``nonfinite_samples``, ``constant_samples`` and
``samples_unreadable`` look at each run's ``samples.npz``. Findings go to the ``add`` callback
of :func:`parity.suite.checks.validity._validity`; coincidences that chance explains become
notes. A room of :mod:`parity.suite.checks`: it may import :mod:`parity.stats`,
:mod:`parity.suite.checks._common`, :mod:`~parity.suite.checks.samples`,
:mod:`parity.suite.ingest` (lazily), :mod:`parity.suite.manifest` and
:mod:`parity.suite.records`.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np

from parity._format import number
from parity.stats._common import ResultMixin
from parity.suite.checks._common import _run_label, _Table
from parity.suite.checks.samples import _Arrays
from parity.suite.manifest import Manifest
from parity.suite.records import RunKey, RunRecord

__all__ = ["EMPTY_SHA256", "FileCoincidence", "SeedCoincidence"]


EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True, slots=True)
class FileCoincidence(ResultMixin):
    """The ``identical_file`` test of one result file on one task, against chance.

    The candidate's rerun ``rerun`` against the reference's rerun ``reference_rerun``, over the
    ``seeds`` both have. ``matches`` same-seed pairs are byte-identical (``matched_seeds``) and
    ``cross_matches`` of the ``seeds·(seeds − 1)`` pairs of different seeds (their share is
    ``chance_rate``). The test (:func:`~parity.stats.same_seed_matches_test` with
    ``ignore_repeated``) leaves out the files a system wrote identically on several seeds (a
    score it often gets): ``tested_matches`` same-seed matches remain (``tested_seeds``),
    ``tested_cross_matches`` cross-seed ones; ``expected``, ``pvalue``, ``min_pvalue`` and
    ``full_copy_pvalue`` are the test's. A test whose ``min_pvalue`` is above α cannot reach it
    and stays out of the Holm family (``adjusted_pvalue`` None); ``flagged`` when the
    Holm-adjusted p-value is ≤ α. ``decidable``: a copy of every reference file would be
    flagged (``full_copy_pvalue`` ≤ α/m, Holm's strictest threshold, m the family's size with
    this test in it).
    """

    task: str
    file: str
    rerun: int
    reference_rerun: int
    seeds: int
    matches: int
    matched_seeds: tuple[int, ...]
    cross_matches: int
    chance_rate: float
    tested_matches: int
    tested_seeds: tuple[int, ...]
    tested_cross_matches: int
    expected: float
    pvalue: float
    min_pvalue: float
    full_copy_pvalue: float
    adjusted_pvalue: float | None
    flagged: bool
    decidable: bool


@dataclass(frozen=True, slots=True)
class SeedCoincidence(ResultMixin):
    """The ``identical_across_seeds`` test of one system on one task and rerun, against chance.

    ``all_identical``: the system's ``seeds`` runs report the same metrics; ``other_matches`` of
    the other system's ``other_seeds`` runs (its rerun ``other_rerun``) report them too.
    ``pvalue`` and ``min_pvalue`` are those of :func:`~parity.stats.identical_runs_test`; a
    test whose ``min_pvalue`` is above α stays out of the Holm family (``adjusted_pvalue``
    None); ``flagged`` when the Holm-adjusted p-value is ≤ α.
    """

    system: str
    task: str
    rerun: int
    other_rerun: int
    seeds: int
    other_seeds: int
    all_identical: bool
    other_matches: int
    pvalue: float
    min_pvalue: float
    adjusted_pvalue: float | None
    flagged: bool


def _file_roles(run: RunRecord) -> dict[str, str]:
    """A run's non-empty result files, name → sha256; a results file read alone (``ingest``)
    is the run's ``metrics.json``, whatever its name."""
    from parity.suite.ingest import METRICS_FILE

    files = {name: d for name, d in run.files.items() if d != EMPTY_SHA256}
    if run.source == "ingest" and len(run.files) == 1 and METRICS_FILE not in run.files:
        files = {METRICS_FILE: digest for digest in files.values()}  # noqa: B035 (one file)
    return files


def _holm_family(min_pvalues: list[float], pvalues: list[float], alpha: float):
    """Holm-adjusted p-values of the tests that can reach α (``min_pvalue ≤ α``), else None.

    Which tests enter depends only on their smallest attainable p-values, functions of what each
    exact test conditions on, so leaving out the others (which could never be rejected) keeps
    the family-wise error ≤ α (Tarone's argument). Returns the adjusted values and the family's
    size.
    """
    from parity.stats import holm

    family = [i for i, p in enumerate(min_pvalues) if p <= alpha]
    adjusted: list[float | None] = [None] * len(pvalues)
    if family:
        for i, q in zip(family, holm([pvalues[i] for i in family]), strict=True):
            adjusted[i] = float(q)
    return adjusted, len(family)


def _rerun_text(manifest: Manifest, rerun: int, other: int) -> str:
    """`` (rerun R vs the reference's rerun S)``, or nothing with one rerun."""
    if manifest.reruns == 1:
        return ""
    return f" (rerun {rerun} vs the reference's rerun {other})"


def _identical_files(
    manifest: Manifest, table: _Table, add, notes: list[str]
) -> list[FileCoincidence]:
    """The ``identical_file`` check: result files the candidate shares with the reference.

    Parameters
    ----------
    manifest : Manifest
        The suite (tasks, seeds, reruns of each system, α).
    table : _Table
        The recorded runs.
    add : callable
        ``add(check, rule, key, seed, message)`` records a finding.
    notes : list of str
        Receives the coincidences chance explains and the tasks where copies cannot be told
        from chance.

    Returns
    -------
    list of FileCoincidence
        One test per task, file name and pair of reruns, in that order.

    Notes
    -----
    Per (task, file, candidate rerun, reference rerun), the same-seed matches against the
    cross-seed ones (:func:`~parity.stats.same_seed_matches_test` with ``ignore_repeated``);
    the tests whose smallest attainable p-value reaches α form one Holm family, and each
    tested same-seed match of a test with adjusted p-value ≤ α is a finding.
    """
    from parity.stats import same_seed_matches_test

    alpha = manifest.alpha
    raw = _file_pairs(manifest, table)
    tests = [same_seed_matches_test(c, r, ignore_repeated=True) for *_, c, r in raw]
    adjusted, m = _holm_family([t.min_pvalue for t in tests], [t.pvalue for t in tests], alpha)
    out = [
        _file_coincidence(item, t, adj, m, alpha)
        for item, t, adj in zip(raw, tests, adjusted, strict=True)
    ]
    undecidable: dict[tuple[str, int, int], list[tuple[FileCoincidence, float]]] = {}
    for c in out:
        tested = _tested_text(c, alpha)
        if c.flagged:
            _file_findings(c, table, tested, alpha, add)
            continue
        if not c.decidable:
            threshold = alpha / (m if c.adjusted_pvalue is not None else m + 1)
            undecidable.setdefault((c.file, c.rerun, c.reference_rerun), []).append((c, threshold))
        if c.matches:
            notes.append(_chance_note(manifest, c, tested))
    for (name, rerun, ref_rerun), items in undecidable.items():
        worst, threshold = min((c.full_copy_pvalue, t) for c, t in items)
        notes.append(
            f"identical_file: copies of `{name}`{_rerun_text(manifest, rerun, ref_rerun)} cannot "
            f"be told from chance on {', '.join(c.task for c, _ in items)}: the reference "
            "repeats its results there so often, or the seeds are so few, that a copy of every "
            f"seed would give p ≥ {number(worst, 3)}, above Holm's strictest threshold "
            f"α/m = {number(threshold, 3)}."
        )
    return out


def _file_pairs(manifest: Manifest, table: _Table) -> list[tuple]:
    """``(task, file, rerun, reference rerun, seeds, candidate digests, reference digests)``
    for every result file name both systems wrote on a task and pair of reruns."""
    raw = []
    for task in manifest.tasks:
        for rerun in range(manifest.system_reruns("candidate")):
            for ref_rerun in range(manifest.system_reruns("reference")):
                pairs = []
                for seed in manifest.seeds:
                    cand = table.ok.get(RunKey("candidate", task, seed, rerun))
                    ref = table.ok.get(RunKey("reference", task, seed, ref_rerun))
                    if cand is not None and ref is not None:
                        pairs.append((seed, _file_roles(cand), _file_roles(ref)))
                names = set().union(*(c for _, c, _ in pairs)) & set().union(
                    *(r for _, _, r in pairs)
                )
                for name in sorted(names):
                    cand_d = [c.get(name) for _, c, _ in pairs]
                    ref_d = [r.get(name) for _, _, r in pairs]
                    seeds = [seed for seed, _, _ in pairs]
                    raw.append((task, name, rerun, ref_rerun, seeds, cand_d, ref_d))
    return raw


def _file_coincidence(
    item: tuple, t: Any, adj: float | None, m: int, alpha: float
) -> FileCoincidence:
    """The :class:`FileCoincidence` of one file: its test ``t`` (repeated results left out),
    the same test over every match, and its Holm-adjusted p-value in a family of ``m``."""
    from parity.stats import same_seed_matches_test

    task, name, rerun, ref_rerun, seeds, cand_d, ref_d = item
    everything = same_seed_matches_test(cand_d, ref_d)
    matched = [s for s, c, r in zip(seeds, cand_d, ref_d, strict=True) if c and c == r]
    once = Counter(cand_d), Counter(ref_d)
    tested = [
        s
        for s, c, r in zip(seeds, cand_d, ref_d, strict=True)
        if c and c == r and once[0][c] == 1 and once[1][r] == 1
    ]
    size = m if adj is not None else m + 1
    return FileCoincidence(
        task=task,
        file=name,
        rerun=rerun,
        reference_rerun=ref_rerun,
        seeds=t.n,
        matches=everything.matches,
        matched_seeds=tuple(matched),
        cross_matches=everything.cross_matches,
        chance_rate=everything.chance_rate,
        tested_matches=t.matches,
        tested_seeds=tuple(tested),
        tested_cross_matches=t.cross_matches,
        expected=t.expected,
        pvalue=t.pvalue,
        min_pvalue=t.min_pvalue,
        full_copy_pvalue=t.full_copy_pvalue,
        adjusted_pvalue=adj,
        flagged=adj is not None and adj <= alpha,
        decidable=t.full_copy_pvalue <= alpha / size,
    )


def _tested_text(c: FileCoincidence, alpha: float) -> str:
    """The test of a file coincidence in words: matches, expected, p-value (and adjusted)."""
    adjusted_text = (
        f"Holm-adjusted {number(c.adjusted_pvalue, 3)}"
        if c.adjusted_pvalue is not None
        else f"it cannot reach α = {number(alpha)} whatever the pairing"
    )
    return (
        f"results neither system reports on another seed match on {c.tested_matches} seeds "
        f"against {number(c.expected, 3)} expected from their {c.tested_cross_matches} "
        f"cross-seed matches: p = {number(c.pvalue, 3)} ({adjusted_text})"
    )


def _file_findings(c: FileCoincidence, table: _Table, tested: str, alpha: float, add) -> None:
    """A finding for each tested same-seed match of a flagged file."""
    for seed in c.tested_seeds:
        key = RunKey("candidate", c.task, seed, c.rerun)
        digest = _file_roles(table.ok[key])[c.file]
        add(
            "identical_file",
            "shortcut: result files identical to the reference's beyond chance",
            key,
            seed,
            f"{_run_label(key)}: `{c.file}` is byte-identical (sha256 {digest[:12]}…) "
            f"to the reference's for the same task and seed (rerun "
            f"{c.reference_rerun}); on {c.task}, {tested} ≤ α = {number(alpha)}",
        )


def _chance_note(manifest: Manifest, c: FileCoincidence, tested: str) -> str:
    """The note of a file coincidence that chance explains."""
    repeated = c.matches - c.tested_matches
    repeated_text = (
        f"{repeated} of them are results a system repeats on other seeds (as a score it "
        "often gets), which the seed can steer both systems to; "
        if repeated
        else ""
    )
    return (
        f"identical_file on {c.task}: {c.matches} of {c.seeds} seeds have a candidate "
        f"`{c.file}` byte-identical to the reference's"
        f"{_rerun_text(manifest, c.rerun, c.reference_rerun)}, no more than chance "
        f"explains: independent runs coincide in {c.cross_matches} of "
        f"{c.seeds * (c.seeds - 1)} cross-seed pairs ({number(c.chance_rate, 3)}); "
        f"{repeated_text}{tested}; not evidence of copying."
    )


def _sample_findings(run: RunRecord, arrays: _Arrays, add) -> None:
    """Findings on the run's ``samples.npz``: unreadable or changed, NaN/inf, or constant."""
    key, label = run.key, _run_label(run.key)
    data, error = arrays.get(run)
    if error is not None:
        add(
            "samples_unreadable",
            "shortcut: samples.npz readable and unchanged",
            key,
            key.seed,
            f"{label}: {error}",
        )
        return
    for name, arr in sorted((data or {}).items()):
        a = np.asarray(arr)
        if not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.complexfloating):
            continue
        finite = np.isfinite(a)
        if not finite.all():
            bad = int(a.size - np.count_nonzero(finite))
            add(
                "nonfinite_samples",
                "shortcut: finite samples",
                key,
                key.seed,
                f"{label}: samples.npz array `{name}` has {bad} NaN/inf of {a.size} values",
            )
        elif a.size >= 2 and bool(np.all(a == a.flat[0])):
            add(
                "constant_samples",
                "shortcut: non-constant samples",
                key,
                key.seed,
                f"{label}: samples.npz array `{name}` is constant ({a.size} values all equal "
                f"{number(float(a.flat[0]))})",
            )


def _task_runs(table: _Table, system: str, task: str, rerun: int, seeds) -> list[RunRecord]:
    """The ok runs of a system on a task and rerun, in seed order."""
    keys = (RunKey(system, task, seed, rerun) for seed in seeds)
    return [table.ok[k] for k in keys if k in table.ok]


def _metrics_label(run: RunRecord, metrics: list[str]):
    """A run's metrics as one hashable label (None: none of the metrics reported)."""
    row = tuple(run.metrics.get(m) for m in metrics)
    if all(v is None for v in row):
        return None
    return tuple(v if isinstance(v, Hashable) else repr(v) for v in row)


def _identical_across_seeds(
    manifest: Manifest, table: _Table, add, notes: list[str]
) -> list[SeedCoincidence]:
    """The ``identical_across_seeds`` check: a system whose seeds all report the same metrics.

    Parameters
    ----------
    manifest : Manifest
        The suite (systems, tasks, seeds, reruns, metrics, α).
    table : _Table
        The recorded runs.
    add : callable
        ``add(check, rule, key, seed, message)`` records a finding (``seed`` None: all seeds).
    notes : list of str
        Receives the runs all identical that chance explains.

    Returns
    -------
    list of SeedCoincidence
        One test per system, task and rerun with at least two ok runs.

    Notes
    -----
    Against ``n`` runs drawn from both systems' runs on the task
    (:func:`~parity.stats.identical_runs_test`); the tests that can reach α form one Holm
    family over systems, tasks and reruns.
    """
    alpha = manifest.alpha
    metrics = list(manifest.metrics)
    raw = _seed_tests(manifest, table, metrics)
    adjusted, _ = _holm_family([r[5].min_pvalue for r in raw], [r[5].pvalue for r in raw], alpha)
    out: list[SeedCoincidence] = []
    for (system, other, task, rerun, other_rerun, t, first), adj in zip(raw, adjusted, strict=True):
        c = SeedCoincidence(
            system=system,
            task=task,
            rerun=rerun,
            other_rerun=other_rerun,
            seeds=t.n,
            other_seeds=t.n_other,
            all_identical=t.all_identical,
            other_matches=t.other_matches,
            pvalue=t.pvalue,
            min_pvalue=t.min_pvalue,
            adjusted_pvalue=adj,
            flagged=t.all_identical and adj is not None and adj <= alpha,
        )
        out.append(c)
        if c.all_identical:
            _seed_message(c, other, first, metrics, alpha, add, notes)
    return out


def _seed_tests(manifest: Manifest, table: _Table, metrics: list[str]) -> list[tuple]:
    """``(system, other, task, rerun, other rerun, test, first run)`` per system, task and
    rerun with at least two ok runs; the other system's rerun is the same or its last."""
    from parity.stats import identical_runs_test

    raw = []
    for system in sorted(manifest.systems):
        other = "reference" if system == "candidate" else "candidate"
        for task in manifest.tasks:
            for rerun in range(manifest.system_reruns(system)):
                other_rerun = min(rerun, manifest.system_reruns(other) - 1)
                own = _task_runs(table, system, task, rerun, manifest.seeds)
                theirs = _task_runs(table, other, task, other_rerun, manifest.seeds)
                if len(own) < 2:
                    continue
                test = identical_runs_test(
                    [_metrics_label(r, metrics) for r in own],
                    [_metrics_label(r, metrics) for r in theirs],
                )
                raw.append((system, other, task, rerun, other_rerun, test, own[0]))
    return raw


def _seed_message(
    c: SeedCoincidence,
    other: str,
    first: RunRecord,
    metrics: list[str],
    alpha: float,
    add,
    notes: list[str],
) -> None:
    """A finding for a flagged system whose seeds all agree, else a note that chance explains it."""
    system, task, rerun, adj = c.system, c.task, c.rerun, c.adjusted_pvalue
    shown = ", ".join(
        f"{m} = {first.metrics[m]!r}" for m in metrics if first.metrics.get(m) is not None
    )
    chance = (
        f"the {other} reports the same on {c.other_matches} of {c.other_seeds} seeds, so "
        f"{c.seeds} runs drawn from both systems' runs are all equal with p = {number(c.pvalue, 3)}"
    )
    if c.flagged:
        add(
            "identical_across_seeds",
            "shortcut: metrics vary across seeds beyond chance",
            RunKey(system, task, -1, rerun),
            None,
            f"{system}/{task}/rerun={rerun}: all {c.seeds} seeds report identical metrics "
            f"({shown}); {chance} (Holm-adjusted {number(adj, 3)} ≤ α = {number(alpha)})",
        )
        return
    adjusted_text = (
        f"Holm-adjusted {number(adj, 3)}"
        if adj is not None
        else f"it cannot reach α = {number(alpha)}"
    )
    notes.append(
        f"identical_across_seeds on {task}: all {c.seeds} seeds of {system} (rerun "
        f"{rerun}) report identical metrics ({shown}), no more than chance explains: "
        f"{chance} "
        f"({adjusted_text}); a system that ignores its seed cannot be told from chance "
        "on this task."
    )
