"""``analyze_runs``: per-run and per-task dynamics of agent transcripts, reweighted to a target.

The orchestrator behind ``parity agents analyze``: embed every step, compute the per-run
metrics (:mod:`parity.agents.metrics`), the between-run metrics of each task
(:mod:`parity.agents.between`), the weights to the target usage and the benchmark and target
estimates with task-level bootstrap intervals (:mod:`parity.agents.reweighting`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from parity.agents.between import PairResult, set_pass_hat_k, task_groups, task_rows
from parity.agents.embedding import StepEmbeddings, embed_steps, make_embedder
from parity.agents.loading import AgentRun, LoadedRuns, SkippedRun
from parity.agents.metrics import STALL_MIN_STEPS, run_metrics
from parity.agents.reweighting import (
    MIN_SIMILARITY,
    Estimate,
    TargetProfile,
    Weighting,
    compute_weighting,
    weighted_estimates,
)
from parity.errors import ParityInputError, check_positive_int
from parity.stats._common import ResultMixin, RngLike, check_rng, recorded_seed, to_jsonable
from parity.trajectory.dynamics import (
    DEFAULT_THRESHOLD,
    DIVERGENCE_EPSILON,
    DIVERGENCE_MIN_STEPS,
    L_MIN,
    LOOP_MIN_REPEATS,
    LOOP_MIN_SPAN,
)

__all__ = ["AgentAnalysis", "analyze_runs", "definitions", "run_table"]


def definitions(threshold: float = DEFAULT_THRESHOLD) -> dict[str, Any]:
    """The thresholds and rules behind the metrics, as recorded in every report.

    Examples
    --------
    >>> definitions()["loop"][:40]
    'smallest period p with S[t, t+p] >= 0.9 '
    """
    return {
        "similarity": "cosine of step embeddings",
        "threshold": threshold,
        "l_min": L_MIN,
        "recurrence": "R[i, j] = S[i, j] >= threshold for i != j (main diagonal excluded)",
        "determinism": "share of recurrent points on diagonal lines of length >= l_min, "
        "computed with stalls merged (consecutive similar steps count as one)",
        "laminarity": "share of recurrent points on vertical lines of length >= l_min",
        "loop": f"smallest period p with S[t, t+p] >= {threshold:g} for every t from t0 to the "
        f"end, over >= max({LOOP_MIN_REPEATS}p, {LOOP_MIN_SPAN}) steps",
        "stall": f"longest stretch of consecutive steps with S[t-1, t] >= {threshold:g}; "
        f"flagged from {STALL_MIN_STEPS} steps",
        "drift": "distances between unit-normalised step embeddings; late window = last "
        "ceil(T/4) steps, measured from the first step",
        "divergence": f"slope of log max(distance, {DIVERGENCE_EPSILON:g}) against the step, steps "
        f"aligned by index and cut to the shorter run, from {DIVERGENCE_MIN_STEPS} aligned steps",
        "constraint_index": "mean over same-variant pairs of sum_t max(0, cos) / max(T_a, T_b)",
        "pass^k": "C(c, k) / C(n, k) per task, averaged over tasks with >= k runs",
        "degenerate": "0-1 steps, all steps identical, or no tool call where tool calls are "
        "recorded; dynamics metrics left undefined",
    }


@dataclasses.dataclass(frozen=True)
class AgentAnalysis(ResultMixin):
    """Everything ``parity agents analyze`` reports (``to_dict`` gives the JSON record).

    ``runs`` and ``tasks`` are the rows of the per-run and per-task tables; ``pairs`` every
    compared pair of runs; ``pass_k`` the task set's ``pass^k``; ``estimates`` the benchmark
    (unweighted) and target (Hajek) estimates with their intervals; ``weighting`` the weights
    and their diagnostics. ``embeddings`` (the step embeddings) and ``agent_runs`` are kept for
    the figures and left out of :meth:`to_dict`.
    """

    label: str
    format: str
    n_runs: int
    n_tasks: int
    skipped: tuple[SkippedRun, ...]
    embedder: dict[str, Any]
    definitions: dict[str, Any]
    runs: tuple[dict[str, Any], ...]
    tasks: tuple[dict[str, Any], ...]
    pairs: tuple[PairResult, ...]
    pass_k: dict[str, float | None]
    weighting: Weighting
    estimates: tuple[Estimate, ...]
    seed: int | None
    n_resamples: int
    confidence_level: float
    embeddings: StepEmbeddings | None = dataclasses.field(default=None, repr=False, compare=False)
    agent_runs: tuple[AgentRun, ...] = dataclasses.field(default=(), repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe record (embeddings and transcripts left out)."""
        skip = {"embeddings", "agent_runs"}
        return {
            f.name: to_jsonable(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if f.name not in skip
        }


def run_table(
    runs: Sequence[AgentRun], embeddings: StepEmbeddings, threshold: float = DEFAULT_THRESHOLD
) -> list[dict[str, Any]]:
    """The per-run rows of :func:`parity.agents.metrics.run_metrics` for every run."""
    return [run_metrics(run, embeddings.trajectory(i), threshold) for i, run in enumerate(runs)]


def _as_runs(data: LoadedRuns | Sequence[AgentRun]) -> tuple[str, str, tuple, tuple]:
    if isinstance(data, LoadedRuns):
        return data.label, data.format, data.runs, data.skipped
    runs = tuple(data)
    if not runs or not all(isinstance(r, AgentRun) for r in runs):
        raise ParityInputError("`runs` must be a LoadedRuns or a non-empty sequence of AgentRun")
    return "runs", "records", runs, ()


def analyze_runs(
    data: LoadedRuns | Sequence[AgentRun],
    *,
    embedder: str = "hashing",
    embedder_model: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    target: TargetProfile | None = None,
    clusters: int | None = None,
    clip: float | None = None,
    min_similarity: float = MIN_SIMILARITY,
    n_resamples: int = 2000,
    confidence_level: float = 0.95,
    rng: RngLike = 0,
    embeddings: StepEmbeddings | None = None,
) -> AgentAnalysis:
    """Dynamics of every run and task, and the estimates under the target usage.

    Parameters
    ----------
    data : LoadedRuns or sequence of AgentRun
        The runs (e.g. from :func:`parity.agents.load_runs`).
    embedder : {"hashing", "minilm"}, default "hashing"
        Step (and task) embedder.
    embedder_model : str, optional
        MiniLM model name or local folder.
    threshold : float, default 0.9
        Cosine similarity from which two steps count as the same behaviour.
    target : TargetProfile, optional
        Target usage; without it the estimates are unweighted.
    clusters : int, optional
        Number of task clusters (default: chosen by silhouette).
    clip : float, optional
        Cap on the weights.
    min_similarity : float, default 0.1
        Target texts less similar than this to every cluster centroid are uncovered.
    n_resamples : int, default 2000
        Task-level bootstrap resamples.
    confidence_level : float, default 0.95
        Coverage of the percentile intervals.
    rng : None, int or numpy.random.Generator, default 0
        Source of the k-means initialisation and of the bootstrap (the result's ``seed``
        records an int seed, ``None`` otherwise).
    embeddings : StepEmbeddings, optional
        Precomputed step embeddings of these runs (e.g. fitted on two agents together).

    Returns
    -------
    AgentAnalysis

    Examples
    --------
    >>> from parity.examples.agent_runs import generate_runs
    >>> from parity.agents.loading import runs_from_records
    >>> res = analyze_runs(runs_from_records(generate_runs()), n_resamples=200)
    >>> res.n_runs, res.n_tasks, sum(bool(r["loop"]) for r in res.runs)
    (36, 12, 4)
    """
    label, fmt, runs, skipped = _as_runs(data)
    n_resamples = check_positive_int("n_resamples", n_resamples)
    rng = check_rng(rng)
    step_embedder = None
    if embeddings is None:
        step_embedder = make_embedder(embedder, embedder_model)
        embeddings = embed_steps([[s.text for s in r.steps] for r in runs], step_embedder)
    rows = run_table(runs, embeddings, threshold)
    tasks, pairs = task_rows(runs, rows, embeddings)
    task_embedder = None
    if target is not None and embedder == "minilm":
        task_embedder = step_embedder or make_embedder(embedder, embedder_model)
    weighting = compute_weighting(
        runs,
        target,
        embedder=task_embedder,
        k=clusters,
        clip=clip,
        min_similarity=min_similarity,
        rng=rng,
        label=label,
    )
    groups = task_groups(runs)
    task_of_run = np.empty(len(runs), dtype=int)
    for q, ix in enumerate(groups.values()):
        task_of_run[ix] = q
    if weighting.kind != "none":
        for row, cluster, w in zip(rows, weighting.run_cluster, weighting.weights, strict=True):
            row["cluster"], row["weight"] = cluster, float(w)
        for task in tasks:
            ix = groups[task["task_id"]]
            task["cluster"] = weighting.run_cluster[ix[0]]
            task["weight"] = float(np.sum(weighting.weights[ix]))
    estimates = weighted_estimates(
        rows,
        tasks,
        weighting,
        task_of_run,
        n_resamples=n_resamples,
        confidence_level=confidence_level,
        rng=rng,
    )
    return AgentAnalysis(
        label=label,
        format=fmt,
        n_runs=len(runs),
        n_tasks=len(tasks),
        skipped=tuple(skipped),
        embedder=embeddings.embedder,
        definitions=definitions(threshold),
        runs=tuple(rows),
        tasks=tuple(tasks),
        pairs=tuple(pairs),
        pass_k=set_pass_hat_k(tasks),
        weighting=weighting,
        estimates=estimates,
        seed=recorded_seed(rng),
        n_resamples=n_resamples,
        confidence_level=confidence_level,
        embeddings=embeddings,
        agent_runs=tuple(runs),
    )
