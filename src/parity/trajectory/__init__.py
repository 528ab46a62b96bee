"""Trajectory metrics: embodied metrics of rollouts (jerk, motion energy, path length) and state
dynamics of any trajectory of states (recurrence, loops, stalls, drift, divergence, constraint).

Pure numerics on episodes shaped (episodes × T × d) or lists of (T_e × d) arrays; no I/O.
"""

from __future__ import annotations

from parity.trajectory.dynamics import (
    DivergenceResult,
    DriftResult,
    LoopResult,
    RQAResult,
    action_entropy,
    constraint_index,
    divergence_rate,
    drift,
    find_loop,
    longest_stall,
    recurrence_matrix,
    rqa,
    similarity_matrix,
    trajectory_similarity,
)
from parity.trajectory.embodied import (
    EMBODIED_METRICS,
    EmbodiedMetric,
    EmbodiedResult,
    compare_embodied,
    jerk_rms,
    motion_energy,
    path_length,
)

__all__ = [
    "EMBODIED_METRICS",
    "DivergenceResult",
    "DriftResult",
    "EmbodiedMetric",
    "EmbodiedResult",
    "LoopResult",
    "RQAResult",
    "action_entropy",
    "compare_embodied",
    "constraint_index",
    "divergence_rate",
    "drift",
    "find_loop",
    "jerk_rms",
    "longest_stall",
    "motion_energy",
    "path_length",
    "recurrence_matrix",
    "rqa",
    "similarity_matrix",
    "trajectory_similarity",
]
