"""``compare_agents``: which run-level behaviours changed between two agents?

Both agents' steps are embedded together (one embedder fitted on the pooled steps, so that
the same step gets the same vector on both sides), and every run-level metric
(:data:`parity.agents.metrics.RUN_METRICS`) is tested, on the runs where it is defined:

* rates (``success``, ``degenerate``, ``loop``, ``stall``): Fisher's exact test of the 2 × 2
  table (two-sided), with Wilson 95% intervals of each rate;
* values (steps, entropy, recurrence, determinism, laminarity, drift, …): the permutation
  two-sample test of :func:`parity.stats.permutation.two_sample_test` with the energy
  distance on the 1-D values (sensitive to any change of distribution; ``B`` random splits,
  seeded per metric), with the probability of superiority ``P(new > old) + ½·P(new = old)``
  (the Mann–Whitney AUC, :func:`parity.stats.auc`) as the effect size.

A metric with fewer than 2 defined runs on a side is not tested. The p-values are adjusted by
Holm over the tested metrics; a behaviour **changed** when its adjusted p-value is ≤ ``alpha``.
Runs are taken as independent draws of each agent's behaviour (trials of a task are not
paired across agents).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any

import numpy as np

from parity.agents.analysis import AgentAnalysis, analyze_runs
from parity.agents.embedding import embed_steps, make_embedder
from parity.agents.loading import LoadedRuns
from parity.agents.metrics import RATE_METRICS, RUN_METRICS, metric_values
from parity.errors import (
    ExitCode,
    ParityWarning,
    check_positive_int,
    check_probability,
)
from parity.stats._common import (
    Interval,
    ResultMixin,
    RngLike,
    check_rng,
    recorded_seed,
    spawn_generators,
    to_jsonable,
)
from parity.trajectory.dynamics import DEFAULT_THRESHOLD

__all__ = ["AgentComparison", "MetricComparison", "compare_agents"]


@dataclasses.dataclass(frozen=True, slots=True)
class MetricComparison(ResultMixin):
    """One run-level metric of the two agents and its test.

    ``old``/``new`` are the rates or means over the runs where the metric is defined;
    ``effect`` is ``P(new > old) + ½·P(new = old)`` for values (None for rates);
    ``pvalue`` the raw p-value and ``pvalue_holm`` the Holm-adjusted one (None when untested,
    with the reason in ``note``).
    """

    metric: str
    kind: str
    description: str
    n_old: int
    n_new: int
    old: float | None
    new: float | None
    difference: float | None
    old_ci: Interval | None
    new_ci: Interval | None
    effect: float | None
    test: str | None
    pvalue: float | None
    pvalue_holm: float | None
    changed: bool
    note: str | None


@dataclasses.dataclass(frozen=True)
class AgentComparison(ResultMixin):
    """The comparison of two agents (``to_dict`` gives the JSON record).

    ``verdict`` is ``"changed"`` (exit code 1) when some behaviour changed, ``"unchanged"``
    (0) otherwise, ``"inconclusive"`` (3) when no metric could be tested. ``reasons`` says
    which behaviours changed, one sentence each. ``old_analysis``/``new_analysis`` (per-run and
    per-task tables of each side) are left out of :meth:`to_dict`.
    """

    old_label: str
    new_label: str
    n_old_runs: int
    n_new_runs: int
    alpha: float
    n_resamples: int
    seed: int | None
    embedder: dict[str, Any]
    metrics: tuple[MetricComparison, ...]
    changed: tuple[str, ...]
    verdict: str
    reasons: tuple[str, ...]
    old_pass_k: dict[str, float | None]
    new_pass_k: dict[str, float | None]
    old_analysis: AgentAnalysis | None = dataclasses.field(default=None, repr=False)
    new_analysis: AgentAnalysis | None = dataclasses.field(default=None, repr=False)

    @property
    def exit_code(self) -> int:
        """0 unchanged, 1 changed, 3 inconclusive."""
        return int(
            {
                "unchanged": ExitCode.PASS,
                "changed": ExitCode.FAIL,
                "inconclusive": ExitCode.INCONCLUSIVE,
            }[self.verdict]
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe record (without the two analyses)."""
        skip = {"old_analysis", "new_analysis"}
        out = {
            f.name: to_jsonable(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if f.name not in skip
        }
        out["exit_code"] = self.exit_code
        return out


def _rate_test(x: np.ndarray, y: np.ndarray) -> tuple[float, str, tuple, tuple]:
    from scipy.stats import fisher_exact

    from parity.stats.intervals import wilson

    kx, ky = int(x.sum()), int(y.sum())
    table = [[kx, x.size - kx], [ky, y.size - ky]]
    p = float(fisher_exact(table, alternative="two-sided").pvalue)
    return (
        min(1.0, p),
        "Fisher exact (two-sided)",
        wilson(kx, x.size).confidence_interval,
        wilson(ky, y.size).confidence_interval,
    )


def _value_test(x: np.ndarray, y: np.ndarray, n_resamples: int, rng) -> tuple[float, str, float]:
    from parity.stats.permutation import two_sample_test
    from parity.stats.ranking import auc

    res = two_sample_test(x, y, ("energy",), n_resamples=n_resamples, rng=rng)
    scores = np.concatenate([x, y])
    labels = np.concatenate([np.zeros(x.size, dtype=int), np.ones(y.size, dtype=int)])
    effect = auc(scores, labels).statistic
    return res.pvalue, f"energy-distance {res.results['energy'].method}", float(effect)


def _sentence(m: MetricComparison) -> str:
    """One plain sentence saying how a changed behaviour moved, with its test."""
    if m.kind == "rate":
        verb = "rose" if m.new > m.old else "fell"
        k_old, k_new = round(m.old * m.n_old), round(m.new * m.n_new)
        values = f"from {m.old:.0%} ({k_old}/{m.n_old} runs) to {m.new:.0%} ({k_new}/{m.n_new})"
        test = "Fisher exact"
    else:
        verb = (
            "increased" if m.effect > 0.5 else "decreased" if m.effect < 0.5 else "changed spread"
        )
        values = f"(mean {m.old:.3g} → {m.new:.3g}, P(new > old) = {m.effect:.2f})"
        test = "permutation test"
    return f"{m.description} {verb} {values}: {test} p = {m.pvalue:.2g}, Holm {m.pvalue_holm:.2g}"


def compare_agents(
    old: LoadedRuns,
    new: LoadedRuns,
    *,
    alpha: float = 0.05,
    n_resamples: int = 1999,
    rng: RngLike = 0,
    embedder: str = "hashing",
    embedder_model: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    n_bootstrap: int = 2000,
) -> AgentComparison:
    """Test every run-level metric between the ``old`` and ``new`` agent (module docstring).

    Parameters
    ----------
    old, new : LoadedRuns
        The two agents' runs.
    alpha : float, default 0.05
        Family-wise level (Holm over the tested metrics).
    n_resamples : int, default 1999
        Random splits of each permutation test.
    rng : None, int or numpy.random.Generator, default 0
        Source of the permutations (with an int seed, metric ``j`` uses
        ``default_rng([seed, j])``; a Generator spawns one child per metric) and of the
        bootstrap of each side's summary. The result's ``seed`` records an int seed, ``None``
        otherwise.
    embedder, embedder_model, threshold
        As in :func:`parity.agents.analyze_runs`.
    n_bootstrap : int, default 2000
        Bootstrap resamples of each side's summary estimates.

    Returns
    -------
    AgentComparison

    Examples
    --------
    >>> from parity.agents.loading import runs_from_records
    >>> from parity.examples.agent_runs import generate_runs
    >>> a = runs_from_records(generate_runs("baseline"))
    >>> res = compare_agents(a, a, n_resamples=99, n_bootstrap=100)
    >>> res.verdict, res.changed
    ('unchanged', ())
    """
    alpha = check_probability("alpha", alpha)
    n_resamples = check_positive_int("n_resamples", n_resamples)
    rng = check_rng(rng)
    step_embedder = make_embedder(embedder, embedder_model)
    texts = [[s.text for s in r.steps] for r in (*old.runs, *new.runs)]
    pooled = embed_steps(texts, step_embedder)
    n_old = len(old.runs)
    common = {
        "embedder": embedder,
        "threshold": threshold,
        "n_resamples": n_bootstrap,
        "rng": rng,
    }
    old_an = analyze_runs(old, embeddings=pooled.select(0, n_old), **common)
    new_an = analyze_runs(new, embeddings=pooled.select(n_old, len(texts)), **common)
    rows = []
    for metric, metric_rng in zip(RUN_METRICS, _metric_generators(rng), strict=True):
        x = metric_values(old_an.runs, metric)
        y = metric_values(new_an.runs, metric)
        x, y = x[np.isfinite(x)], y[np.isfinite(y)]
        rows.append(_compare_metric(metric, x, y, n_resamples, metric_rng))
    tested = [i for i, r in enumerate(rows) if r["pvalue"] is not None]
    if tested:
        from parity.stats.multiple import holm

        adjusted = holm([rows[i]["pvalue"] for i in tested])
        for i, p in zip(tested, adjusted.tolist(), strict=True):
            rows[i]["pvalue_holm"] = p
            rows[i]["changed"] = bool(p <= alpha)
    metrics = tuple(MetricComparison(**r) for r in rows)
    changed = tuple(m.metric for m in metrics if m.changed)
    verdict = "inconclusive" if not tested else "changed" if changed else "unchanged"
    return AgentComparison(
        old_label=old.label,
        new_label=new.label,
        n_old_runs=n_old,
        n_new_runs=len(new.runs),
        alpha=alpha,
        n_resamples=n_resamples,
        seed=recorded_seed(rng),
        embedder=pooled.embedder,
        metrics=metrics,
        changed=changed,
        verdict=verdict,
        reasons=tuple(_sentence(m) for m in metrics if m.changed),
        old_pass_k=old_an.pass_k,
        new_pass_k=new_an.pass_k,
        old_analysis=old_an,
        new_analysis=new_an,
    )


def _metric_generators(rng: RngLike) -> list[np.random.Generator]:
    """One generator per run metric: ``default_rng([seed, j])`` for an int seed (so a metric's
    draws do not depend on the others), a Generator's spawned children otherwise."""
    if isinstance(rng, int | np.integer):
        return [np.random.default_rng([int(rng), j]) for j in range(len(RUN_METRICS))]
    return list(spawn_generators(rng, len(RUN_METRICS)))


def _compare_metric(
    metric: str, x: np.ndarray, y: np.ndarray, n_resamples: int, rng: np.random.Generator
) -> dict[str, Any]:
    """One run metric's row of the comparison: the two means (or rates), their difference and its
    test, with the metric's description."""
    kind = "rate" if metric in RATE_METRICS else "value"
    row: dict[str, Any] = {
        "metric": metric,
        "kind": kind,
        "description": RUN_METRICS[metric],
        "n_old": int(x.size),
        "n_new": int(y.size),
        "old": float(x.mean()) if x.size else None,
        "new": float(y.mean()) if y.size else None,
        "difference": float(y.mean() - x.mean()) if x.size and y.size else None,
        "old_ci": None,
        "new_ci": None,
        "effect": None,
        "test": None,
        "pvalue": None,
        "pvalue_holm": None,
        "changed": False,
        "note": None,
    }
    if min(x.size, y.size) < 2:
        row["note"] = f"not tested: {min(x.size, y.size)} run(s) with a value on one side"
        return row
    with warnings.catch_warnings():  # small samples: recorded in the result, not printed
        warnings.simplefilter("ignore", ParityWarning)
        if kind == "rate":
            p, test, ci_old, ci_new = _rate_test(x, y)
            row.update(pvalue=p, test=test, old_ci=ci_old, new_ci=ci_new)
        else:
            p, test, effect = _value_test(x, y, n_resamples, rng)
            row.update(pvalue=p, test=test, effect=effect)
    if not math.isfinite(row["pvalue"]):
        row.update(pvalue=None, note="not tested: the p-value is undefined")
    return row
