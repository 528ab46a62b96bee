"""Agent dynamics: loops, stalls, drift and divergence of long-running agents, reweighted.

Each transcript is a trajectory of step embeddings (one step per assistant turn). The generic
trajectory metrics live in :mod:`parity.trajectory.dynamics`; this package adds what is
specific to agents:

* :mod:`~parity.agents.loading` — chat transcripts (JSON / JSONL) and step events;
* :mod:`~parity.agents.embedding` — hashing TF-IDF (default) or a local MiniLM model;
* :mod:`~parity.agents.metrics` — the per-run table (degenerate runs, entropy, RQA, loops,
  stalls, drift, exact repeats);
* :mod:`~parity.agents.between` — divergence rate, constraint index and pass^k per task;
* :mod:`~parity.agents.reweighting` — task clusters, target profile, Hajek estimates, Kish ESS,
  task-level bootstrap;
* :mod:`~parity.agents.analysis` and :mod:`~parity.agents.compare` — the orchestrators behind
  ``parity agents analyze`` and ``parity agents compare``;
* (reports: :mod:`parity.report.agents` — CSV, JSON and HTML reports).

Heavy libraries (scikit-learn, scipy.stats, sentence-transformers) are imported
only inside the functions that use them.

Examples
--------
>>> from parity.agents import analyze_runs, runs_from_records
>>> from parity.examples.agent_runs import generate_runs
>>> res = analyze_runs(runs_from_records(generate_runs()), n_resamples=200)
>>> [(e.metric, round(e.benchmark, 3)) for e in res.estimates if e.metric == "loop"]
[('loop', 0.114)]
"""

from __future__ import annotations

from parity.agents.analysis import AgentAnalysis, analyze_runs, run_table
from parity.agents.between import PairResult
from parity.agents.compare import AgentComparison, MetricComparison, compare_agents
from parity.agents.embedding import StepEmbeddings, embed_steps, make_embedder
from parity.agents.loading import (
    AgentRun,
    LoadedRuns,
    SkippedRun,
    Step,
    ToolCall,
    load_runs,
    runs_from_records,
)
from parity.agents.metrics import RATE_METRICS, RUN_METRICS, VALUE_METRICS, run_metrics
from parity.agents.reweighting import (
    ClusterInfo,
    Estimate,
    TargetProfile,
    Weighting,
    compute_weighting,
    hajek,
    kish_ess,
    load_target_profile,
    target_profile_from,
    weighted_estimates,
)

__all__ = [
    "RATE_METRICS",
    "RUN_METRICS",
    "VALUE_METRICS",
    "AgentAnalysis",
    "AgentComparison",
    "AgentRun",
    "ClusterInfo",
    "Estimate",
    "LoadedRuns",
    "MetricComparison",
    "PairResult",
    "SkippedRun",
    "Step",
    "StepEmbeddings",
    "TargetProfile",
    "ToolCall",
    "Weighting",
    "analyze_runs",
    "compare_agents",
    "compute_weighting",
    "embed_steps",
    "hajek",
    "kish_ess",
    "load_runs",
    "load_target_profile",
    "make_embedder",
    "run_metrics",
    "run_table",
    "runs_from_records",
    "target_profile_from",
    "weighted_estimates",
]
