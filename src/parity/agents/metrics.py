"""Per-run metrics of agent transcripts: one row per run (see :data:`RUN_METRICS`).

A run is **degenerate** when it has 0 or 1 steps, when all its steps are the same text, or
when it makes no tool call although its format records tool calls; the reason is recorded and
its dynamics metrics (entropy, recurrence, loop, stall, drift, repeats) are left undefined
(None / NaN), so they take no part in the averages of those metrics. Otherwise the metrics of
:mod:`parity.trajectory.dynamics` are computed on the run's step embeddings with the cosine
threshold ``θ`` (default 0.9), and:

* ``stall`` is True when the longest stall spans at least 4 steps (:data:`STALL_MIN_STEPS`);
* ``exact_repeats`` counts the tool calls identical (same name, same canonical arguments) to an
  earlier call of the run; ``exact_repeat_rate`` divides by the number of tool calls.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from parity.agents.loading import AgentRun
from parity.trajectory.dynamics import (
    DEFAULT_THRESHOLD,
    action_entropy,
    drift,
    find_loop,
    longest_stall,
    rqa,
)

__all__ = [
    "RATE_METRICS",
    "RUN_COLUMNS",
    "RUN_METRICS",
    "STALL_MIN_STEPS",
    "VALUE_METRICS",
    "degenerate_reason",
    "exact_repeats",
    "metric_values",
    "run_metrics",
]

#: A stall flag needs a stretch of at least this many similar consecutive steps.
STALL_MIN_STEPS = 4

#: Binary run-level metrics (rates): name → label.
RATE_METRICS = {
    "success": "success rate",
    "degenerate": "degenerate-run rate",
    "loop": "loop rate",
    "stall": "stall rate",
}
#: Continuous run-level metrics: name → label.
VALUE_METRICS = {
    "n_steps": "steps per run",
    "n_tool_calls": "tool calls per run",
    "action_entropy": "tool-name entropy (bits)",
    "recurrence_rate": "recurrence rate",
    "determinism": "determinism (cycles)",
    "laminarity": "laminarity (stalls)",
    "longest_stall": "longest stall (steps)",
    "step_distance": "mean step distance",
    "late_drift": "late drift",
    "straightness": "straightness",
    "exact_repeat_rate": "exact-repeat rate",
}
#: Every run-level metric: name → label.
RUN_METRICS = {**RATE_METRICS, **VALUE_METRICS}

RUN_COLUMNS = (
    "run_id",
    "task_id",
    "trial",
    "variant",
    "success",
    "reward",
    "n_steps",
    "n_tool_calls",
    "degenerate",
    "degenerate_reason",
    "action_entropy",
    "recurrence_rate",
    "determinism",
    "laminarity",
    "loop",
    "loop_start",
    "loop_period",
    "stall",
    "longest_stall",
    "step_distance",
    "late_drift",
    "straightness",
    "exact_repeats",
    "exact_repeat_rate",
)


def degenerate_reason(run: AgentRun) -> str | None:
    """Why the run is degenerate, or None.

    Examples
    --------
    >>> from parity.agents.loading import AgentRun, Step
    >>> run = AgentRun("r", "t", 0, "original", None, None, None, None,
    ...                (Step("hello"),) * 3, True, "run 0")
    >>> degenerate_reason(run)
    'all 3 steps identical'
    """
    n = len(run.steps)
    if n <= 1:
        return f"{n} step" + ("" if n == 1 else "s")
    if len({s.text for s in run.steps}) == 1:
        return f"all {n} steps identical"
    if run.tool_calls_recorded and not run.tool_calls:
        return "no tool calls"
    return None


def exact_repeats(run: AgentRun) -> int:
    """Tool calls identical (name and canonical arguments) to an earlier call of the run.

    Examples
    --------
    >>> from parity.agents.loading import AgentRun, Step, ToolCall
    >>> a, b = ToolCall("open", '"a"'), ToolCall("open", '"b"')
    >>> steps = tuple(Step(c.render(), (c,)) for c in (a, b, a, a))
    >>> exact_repeats(AgentRun("r", "t", 0, "original", None, None, None, None, steps, True, ""))
    2
    """
    calls = run.tool_calls
    return len(calls) - len(set(calls))


def run_metrics(
    run: AgentRun, states: np.ndarray, threshold: float = DEFAULT_THRESHOLD
) -> dict[str, Any]:
    """The row of :data:`RUN_COLUMNS` for one run and its (T × d) step embeddings.

    Examples
    --------
    >>> from parity.agents.loading import AgentRun, Step, ToolCall
    >>> calls = [ToolCall(n, "") for n in ["plan", "search", "read", "search", "read",
    ...                                    "search", "read", "search", "read"]]
    >>> run = AgentRun("r", "t", 0, "original", False, 0.0, None, None,
    ...                tuple(Step(c.render(), (c,)) for c in calls), True, "")
    >>> states = np.eye(3)[[0, 1, 2, 1, 2, 1, 2, 1, 2]]
    >>> row = run_metrics(run, states)
    >>> row["loop"], row["loop_start"], row["loop_period"], row["exact_repeats"]
    (True, 1, 2, 6)
    """
    calls = run.tool_calls
    reason = degenerate_reason(run)
    row: dict[str, Any] = {
        "run_id": run.run_id,
        "task_id": run.task_id,
        "trial": run.trial,
        "variant": run.variant,
        "success": run.success,
        "reward": run.reward,
        "n_steps": len(run.steps),
        "n_tool_calls": len(calls),
        "degenerate": reason is not None,
        "degenerate_reason": reason,
    }
    undefined = {c: None for c in RUN_COLUMNS if c not in row}
    if reason is not None:
        return {c: row.get(c, undefined.get(c)) for c in RUN_COLUMNS}
    rq = rqa(states, threshold)
    loop = find_loop(states, threshold)
    stall_len = longest_stall(states, threshold)
    dr = drift(states)
    repeats = exact_repeats(run)
    row.update(
        action_entropy=action_entropy(c.name for c in calls) if calls else math.nan,
        recurrence_rate=rq.recurrence_rate,
        determinism=rq.determinism,
        laminarity=rq.laminarity,
        loop=loop.found,
        loop_start=loop.start,
        loop_period=loop.period,
        stall=stall_len >= STALL_MIN_STEPS,
        longest_stall=stall_len,
        step_distance=dr.step_distance,
        late_drift=dr.late_drift,
        straightness=dr.straightness,
        exact_repeats=repeats,
        exact_repeat_rate=repeats / len(calls) if calls else math.nan,
    )
    return {c: row[c] for c in RUN_COLUMNS}


def metric_values(rows: Sequence[dict[str, Any]], metric: str) -> np.ndarray:
    """One float per run for ``metric`` (booleans as 0/1, undefined as NaN).

    Examples
    --------
    >>> metric_values([{"loop": True}, {"loop": None}, {"loop": False}], "loop").tolist()
    [1.0, nan, 0.0]
    """
    out = np.full(len(rows), np.nan)
    for i, row in enumerate(rows):
        value = row.get(metric)
        if value is None:
            continue
        value = float(value)
        if math.isfinite(value):
            out[i] = value
    return out
