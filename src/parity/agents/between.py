"""Between runs of the same task: divergence rate, constraint index and pass^k.

For each task, every unordered pair of its runs (in trial order) is compared step by step
(:func:`parity.trajectory.dynamics.divergence_rate`, steps aligned by index and cut to the
shorter run, ``ε = 10⁻³``, at least 3 aligned steps). A pair of runs with the same prompt
``variant`` is a **trial** pair; a pair with different variants (original vs perturbed prompt)
is a **perturbation** pair. Per task:

* ``divergence_trial`` / ``divergence_perturbation``: the mean ``λ̂`` over its trial /
  perturbation pairs (None when there is none with enough aligned steps);
* ``constraint_index`` ``C(q)``: the mean step-aligned similarity
  (:func:`parity.trajectory.dynamics.trajectory_similarity`) over its trial pairs, in [0, 1]
  (None with fewer than two runs of one variant);
* ``pass^k`` for ``k = 1 … n``: ``C(c, k) / C(n, k)`` for ``c`` successes in ``n`` runs, the
  unbiased estimate of the probability that ``k`` independent trials all succeed; the task
  set's ``pass^k`` is its mean over the tasks with at least ``k`` runs of known outcome.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from parity.agents.embedding import StepEmbeddings
from parity.agents.loading import AgentRun
from parity.stats._common import ResultMixin
from parity.trajectory.dynamics import divergence_rate, trajectory_similarity

__all__ = [
    "TASK_COLUMNS",
    "PairResult",
    "pairs_of_task",
    "pass_hat_k",
    "set_pass_hat_k",
    "task_groups",
    "task_rows",
]

TASK_COLUMNS = (
    "task_id",
    "n_runs",
    "n_success",
    "success_rate",
    "constraint_index",
    "divergence_trial",
    "divergence_perturbation",
    "n_trial_pairs",
    "n_perturbation_pairs",
    "loop_rate",
    "stall_rate",
)


@dataclasses.dataclass(frozen=True, slots=True)
class PairResult(ResultMixin):
    """Two runs of one task compared step by step."""

    task_id: str
    run_a: str
    run_b: str
    kind: str
    n_aligned: int
    divergence_rate: float
    similarity: float
    log_distance: tuple[float, ...]


def pass_hat_k(n: int, c: int, k: int) -> float:
    """``C(c, k) / C(n, k)``: unbiased estimate that ``k`` of ``n`` trials all succeed.

    Examples
    --------
    >>> pass_hat_k(3, 2, 1), pass_hat_k(3, 2, 2), pass_hat_k(3, 2, 3)
    (0.6666666666666666, 0.3333333333333333, 0.0)
    """
    if not 1 <= k <= n or not 0 <= c <= n:
        return math.nan
    return math.comb(c, k) / math.comb(n, k)


def task_groups(runs: Sequence[AgentRun]) -> dict[str, list[int]]:
    """Run indices of each task, tasks in order of first appearance, runs in trial order."""
    groups: dict[str, list[int]] = {}
    for i, run in enumerate(runs):
        groups.setdefault(run.task_id, []).append(i)
    return {t: sorted(ix, key=lambda i: runs[i].trial) for t, ix in groups.items()}


def pairs_of_task(
    runs: Sequence[AgentRun], indices: Sequence[int], embeddings: StepEmbeddings
) -> list[PairResult]:
    """Every pair of the task's runs, compared step by step.

    Examples
    --------
    >>> from parity.agents.embedding import HashingEmbedder, embed_steps
    >>> from parity.agents.loading import AgentRun, Step
    >>> steps = tuple(Step(t) for t in ["plan a", "search b", "read c", "answer d"])
    >>> runs = [AgentRun(f"r{i}", "t", i, "original", True, 1.0, None, None, steps, False, "")
    ...         for i in range(2)]
    >>> emb = embed_steps([[s.text for s in r.steps] for r in runs], HashingEmbedder())
    >>> pairs = pairs_of_task(runs, [0, 1], emb)
    >>> [(p.kind, p.divergence_rate, round(p.similarity, 12)) for p in pairs]
    [('trial', 0.0, 1.0)]
    """
    out = []
    for a_pos, a in enumerate(indices):
        for b in indices[a_pos + 1 :]:
            ra, rb = runs[a], runs[b]
            xa, xb = embeddings.trajectory(a), embeddings.trajectory(b)
            div = divergence_rate(xa, xb)
            out.append(
                PairResult(
                    task_id=ra.task_id,
                    run_a=ra.run_id,
                    run_b=rb.run_id,
                    kind="trial" if ra.variant == rb.variant else "perturbation",
                    n_aligned=div.n_aligned,
                    divergence_rate=div.rate,
                    similarity=trajectory_similarity(xa, xb),
                    log_distance=tuple(float(v) for v in div.log_distance),
                )
            )
    return out


def _mean_or_none(values: Sequence[float]) -> float | None:
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else None


def _rate(rows: Sequence[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return float(np.mean(values)) if values else None


def task_rows(
    runs: Sequence[AgentRun],
    run_rows: Sequence[dict[str, Any]],
    embeddings: StepEmbeddings,
) -> tuple[list[dict[str, Any]], list[PairResult]]:
    """One row per task (:data:`TASK_COLUMNS` plus ``pass^k`` columns) and every pair.

    ``pass^k`` columns run from 1 to the largest number of runs of a task; a task with fewer
    runs, or with a run of unknown outcome, has None there.
    """
    groups = task_groups(runs)
    k_max = max(len(ix) for ix in groups.values())
    rows, pairs = [], []
    for task, ix in groups.items():
        task_pairs = pairs_of_task(runs, ix, embeddings)
        pairs.extend(task_pairs)
        trial = [p for p in task_pairs if p.kind == "trial"]
        perturb = [p for p in task_pairs if p.kind == "perturbation"]
        outcomes = [runs[i].success for i in ix]
        known = None not in outcomes
        n_success = sum(bool(o) for o in outcomes) if known else None
        row: dict[str, Any] = {
            "task_id": task,
            "n_runs": len(ix),
            "n_success": n_success,
            "success_rate": n_success / len(ix) if known else None,
            "constraint_index": _mean_or_none([p.similarity for p in trial]),
            "divergence_trial": _mean_or_none([p.divergence_rate for p in trial]),
            "divergence_perturbation": _mean_or_none([p.divergence_rate for p in perturb]),
            "n_trial_pairs": len(trial),
            "n_perturbation_pairs": len(perturb),
            "loop_rate": _rate([run_rows[i] for i in ix], "loop"),
            "stall_rate": _rate([run_rows[i] for i in ix], "stall"),
        }
        for k in range(1, k_max + 1):
            value = pass_hat_k(len(ix), n_success, k) if known and k <= len(ix) else None
            row[f"pass^{k}"] = value
        rows.append(row)
    return rows, pairs


def set_pass_hat_k(rows: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    """The task set's ``pass^k``: the mean over tasks that have it.

    Examples
    --------
    >>> set_pass_hat_k([{"pass^1": 1.0, "pass^2": 1.0}, {"pass^1": 0.5, "pass^2": 0.0}])
    {'pass^1': 0.75, 'pass^2': 0.5}
    """
    keys = [k for k in (rows[0] if rows else {}) if k.startswith("pass^")]
    return {k: _mean_or_none([r[k] for r in rows if r[k] is not None]) for k in keys}
