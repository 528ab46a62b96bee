"""Reweighting benchmark runs to a target usage profile: clusters, Hajek estimates, ESS.

**Clusters.** Task descriptions are embedded (hashing TF-IDF fitted on the benchmark's task
texts, or MiniLM) and clustered by k-means (``n_init=4``, seeded); ``k`` is given or chosen
among 2 … min(8, tasks − 1) by the largest mean silhouette (cosine distance; ties to the
smaller k; k = 1 with fewer than 3 tasks). Clusters are numbered by the first task in each.
A target profile given as shares may instead group tasks by ``category`` or ``task_id``.

**Target.** Either shares ``P(c)`` of the clusters (or of the categories, task ids), normalised
to sum 1, or a sample of target task texts: each text is embedded in the same space and
assigned to the nearest cluster centroid (the normalised mean of the cluster's task rows) by
cosine similarity; ``P(c)`` is the share of target texts assigned to ``c``. **Uncovered mass**
``U``: the target share that no benchmark task covers — texts whose nearest-centroid cosine
similarity is below ``min_similarity`` (default 0.1), or shares of categories/tasks absent
from the benchmark. ``P`` is renormalised over the covered clusters, ``P̃(c) = P(c)/(1 − U)``.

**Weights.** ``Q(c)`` is the share of benchmark *runs* in cluster ``c`` and run ``i`` gets
``w_i = P̃(c_i)/Q(c_i)`` (weights average 1 over runs; with ``clip`` each weight is capped at
``clip``, and the number of capped runs is recorded). The **Hajek** (self-normalised) estimate
of a run-level metric is ``ŷ = Σ w_i y_i / Σ w_i`` over the runs where it is defined, which for
unclipped weights and a metric defined on every run equals the post-stratified mean
``Σ_c P̃(c) ȳ_c``. Task-level metrics use task weights ``W_q = Σ_{i ∈ q} w_i``. Diagnostics:
Kish effective sample size ``(Σw)²/Σw²`` (runs, and tasks with ``W``), the largest share
``max w_i / Σ w`` of one run (and of one task).

**Intervals.** Trials are nested in tasks, so the bootstrap resamples *tasks* with replacement
(all their runs together), keeps the weights fixed, recomputes every estimate (one count
matrix per batch of resamples: ``estimate = (C @ num) / (C @ den)``) and takes percentile
intervals. Draws: ``rng.integers(0, n_tasks, (256, n_tasks))`` per batch of 256 resamples.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from parity.agents.between import task_groups
from parity.agents.embedding import require_sklearn
from parity.agents.loading import AgentRun
from parity.agents.metrics import RATE_METRICS, RUN_METRICS, metric_values
from parity.errors import ParityInputError, check_positive_int, check_probability
from parity.io import loads_json
from parity.stats._common import Interval, ResultMixin, RngLike, as_generator

__all__ = [
    "ClusterInfo",
    "Estimate",
    "TargetProfile",
    "Weighting",
    "cluster_tasks",
    "compute_weighting",
    "hajek",
    "kish_ess",
    "load_target_profile",
    "target_profile_from",
    "task_bootstrap",
    "weighted_estimates",
]

MIN_SIMILARITY = 0.1
K_MAX = 8
GROUPINGS = ("cluster", "category", "task_id")
TASK_METRICS = ("constraint_index", "divergence_trial", "divergence_perturbation")
_BATCH = 256


# --------------------------------------------------------------------------------------------
# small estimators


def kish_ess(weights: Any) -> float:
    """Kish effective sample size ``(Σw)² / Σw²`` (NaN when every weight is 0).

    Examples
    --------
    >>> kish_ess([1.0, 1.0, 1.0, 1.0])
    4.0
    >>> kish_ess([1.0, 0.0, 0.0, 0.0])
    1.0
    """
    w = np.asarray(weights, dtype=np.float64)
    total = float(np.sum(w * w))
    return float(np.sum(w)) ** 2 / total if total > 0 else math.nan


def hajek(values: Any, weights: Any) -> float:
    """Self-normalised weighted mean ``Σ w_i y_i / Σ w_i`` over the finite ``y_i``.

    Examples
    --------
    >>> hajek([1.0, 0.0, float("nan")], [3.0, 1.0, 5.0])
    0.75
    """
    y = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    ok = np.isfinite(y)
    den = float(np.sum(w[ok]))
    return float(np.sum(w[ok] * y[ok]) / den) if den > 0 else math.nan


def _task_sums(
    values: np.ndarray, weights: np.ndarray, task: np.ndarray, n_tasks: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-task weighted sums ``Σ w y`` and ``Σ w`` over defined values, shape (tasks × M)."""
    ok = np.isfinite(values)
    wy = np.where(ok, values * weights[:, None], 0.0)
    wd = np.where(ok, weights[:, None], 0.0)
    num = np.zeros((n_tasks, values.shape[1]))
    den = np.zeros((n_tasks, values.shape[1]))
    np.add.at(num, task, wy)
    np.add.at(den, task, wd)
    return num, den


def task_bootstrap(
    num: np.ndarray, den: np.ndarray, n_resamples: int, rng: RngLike = None
) -> np.ndarray:
    """Ratio estimates ``(C @ num) / (C @ den)`` for resamples of tasks, shape (B × M).

    ``num`` and ``den`` are per-task sums (tasks × M); each resample draws the tasks with
    replacement (``C`` counts how often each is drawn). A resample with a zero denominator
    gives NaN.

    Examples
    --------
    >>> num = np.array([[1.0], [0.0], [2.0]]); den = np.array([[1.0], [1.0], [2.0]])
    >>> est = task_bootstrap(num, den, 1000, rng=0)
    >>> est.shape, bool(np.all((est >= 0) & (est <= 1)))
    ((1000, 1), True)
    """
    b = check_positive_int("n_resamples", n_resamples)
    gen = as_generator(rng)
    k = num.shape[0]
    out = np.empty((b, num.shape[1]))
    for start in range(0, b, _BATCH):
        size = min(_BATCH, b - start)
        idx = gen.integers(0, k, size=(size, k))
        flat = (idx + k * np.arange(size)[:, None]).ravel()
        counts = np.bincount(flat, minlength=size * k).reshape(size, k).astype(np.float64)
        top, bottom = counts @ num, counts @ den
        out[start : start + size] = np.divide(
            top, bottom, out=np.full_like(top, np.nan), where=bottom > 0
        )
    return out


# --------------------------------------------------------------------------------------------
# target profile


@dataclasses.dataclass(frozen=True, slots=True)
class TargetProfile(ResultMixin):
    """A target usage profile: shares of groups, or a sample of target task texts.

    Attributes
    ----------
    kind : str
        ``"shares"`` or ``"texts"``.
    by : str
        What the shares are keyed by: ``"cluster"`` (cluster numbers), ``"category"`` or
        ``"task_id"``; ``"cluster"`` for texts.
    shares : dict
        Group → share, normalised to sum 1 (empty for texts).
    texts : tuple of str
        The target task texts (empty for shares).
    """

    kind: str
    by: str
    shares: dict[str, float]
    texts: tuple[str, ...]


def target_profile_from(obj: Any, label: str = "target") -> TargetProfile:
    """A :class:`TargetProfile` from parsed JSON.

    Accepted: ``{"texts": [...]}`` (or a bare list of strings), or ``{"shares": {group: share},
    "by": "cluster" | "category" | "task_id"}`` (``by`` defaults to ``"cluster"``; cluster
    numbers are ``"0"``, ``"1"``, … as in the report).

    Examples
    --------
    >>> target_profile_from({"shares": {"0": 3, "1": 1}}).shares
    {'0': 0.75, '1': 0.25}
    >>> target_profile_from(["book a flight to Rome"]).kind
    'texts'
    >>> target_profile_from({"shares": {"0": -1}})
    Traceback (most recent call last):
    ...
    parity.errors.ParityInputError: target: `shares["0"]` must be a finite number ≥ 0; got -1
    """
    if isinstance(obj, list):
        obj = {"texts": obj}
    if not isinstance(obj, dict) or ("texts" in obj) == ("shares" in obj):
        raise ParityInputError(
            f"{label}: a target profile must be an object with either `shares` (group → share) "
            f"or `texts` (a list of target task texts); got {_kind(obj)}"
        )
    if "texts" in obj:
        texts = obj["texts"]
        if not isinstance(texts, list) or not texts:
            raise ParityInputError(
                f"{label}: `texts` must be a non-empty list of strings; got {_kind(texts)}"
            )
        for i, t in enumerate(texts):
            if not isinstance(t, str) or not t.strip():
                raise ParityInputError(
                    f"{label}: `texts[{i}]` must be a non-empty string; got {_kind(t)}"
                )
        return TargetProfile("texts", "cluster", {}, tuple(texts))
    by = obj.get("by", "cluster")
    if by not in GROUPINGS:
        raise ParityInputError(
            f"{label}: `by` must be one of {', '.join(GROUPINGS)}; got {json.dumps(by)}"
        )
    shares = obj["shares"]
    if not isinstance(shares, dict) or not shares:
        raise ParityInputError(
            f"{label}: `shares` must be a non-empty object (group → share); got {_kind(shares)}"
        )
    clean = {}
    for key, value in shares.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            raise ParityInputError(
                f"{label}: `shares[{json.dumps(key)}]` must be a finite number ≥ 0; "
                f"got {json.dumps(value)}"
            )
        clean[str(key)] = float(value)
    total = math.fsum(clean.values())
    if total <= 0:
        raise ParityInputError(f"{label}: `shares` must not all be 0")
    return TargetProfile("shares", by, {k: v / total for k, v in clean.items()}, ())


def _kind(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if _jsonable(value) else repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def load_target_profile(path: str | os.PathLike[str]) -> TargetProfile:
    """Read a target profile JSON file (see :func:`target_profile_from`)."""
    from parity.io import read_text

    label = os.fspath(path)
    try:
        obj = loads_json(read_text(path, label))
    except json.JSONDecodeError as exc:
        raise ParityInputError(
            f"{label}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    return target_profile_from(obj, label)


# --------------------------------------------------------------------------------------------
# clusters


def _unit(matrix: Any) -> np.ndarray:
    dense = matrix.toarray() if hasattr(matrix, "toarray") else np.asarray(matrix, dtype=float)
    norms = np.linalg.norm(dense, axis=1, keepdims=True)
    return np.divide(dense, norms, out=np.zeros_like(dense), where=norms > 0)


def cluster_tasks(
    task_matrix: Any, k: int | None = None, rng: RngLike = 0, k_max: int = K_MAX
) -> tuple[np.ndarray, int, dict[int, float]]:
    """k-means labels of the tasks (numbered by first appearance), ``k`` and the silhouettes.

    Examples
    --------
    >>> x = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9], [0.05, 1.0]])
    >>> labels, k, sil = cluster_tasks(x)
    >>> labels.tolist(), k
    ([0, 0, 1, 1, 1], 2)
    """
    x = _unit(task_matrix)
    n = x.shape[0]
    seed = int(as_generator(rng).integers(2**31 - 1)) if not isinstance(rng, int) else rng
    if k is not None:
        k = check_positive_int("clusters", k)
        if k > n:
            raise ParityInputError(f"`clusters` must be at most the number of tasks ({n}); got {k}")
        labels = _canonical(_kmeans(x, k, seed))
        return (
            labels,
            int(labels.max()) + 1,
            {},
        )  # duplicate texts may leave fewer clusters
    candidates = range(2, min(k_max, n - 1) + 1)
    require_sklearn()
    if not candidates:
        return np.zeros(n, dtype=int), 1, {}
    from sklearn.metrics import silhouette_score

    silhouettes, fits = {}, {}
    for kk in candidates:
        labels = _kmeans(x, kk, seed)
        fits[kk] = labels
        n_used = np.unique(labels).size
        silhouettes[kk] = (
            float(silhouette_score(x, labels, metric="cosine")) if 1 < n_used < n else -1.0
        )
    best = max(candidates, key=lambda kk: (round(silhouettes[kk], 12), -kk))
    return _canonical(fits[best]), best, silhouettes


def _kmeans(x: np.ndarray, k: int, seed: int) -> np.ndarray:
    if k == 1:
        return np.zeros(x.shape[0], dtype=int)
    import warnings

    from sklearn.cluster import KMeans

    with warnings.catch_warnings():  # duplicate points: fewer distinct clusters than k
        warnings.simplefilter("ignore")
        model = KMeans(n_clusters=k, n_init=4, random_state=seed, algorithm="lloyd")
        return model.fit_predict(x)


def _canonical(labels: np.ndarray) -> np.ndarray:
    """Relabel clusters 0, 1, … in order of their first task."""
    mapping: dict[int, int] = {}
    for v in labels.tolist():
        mapping.setdefault(v, len(mapping))
    return np.array([mapping[v] for v in labels.tolist()], dtype=int)


def _centroids(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    cent = np.stack([x[labels == c].mean(axis=0) for c in range(k)])
    norms = np.linalg.norm(cent, axis=1, keepdims=True)
    return np.divide(cent, norms, out=np.zeros_like(cent), where=norms > 0)


# --------------------------------------------------------------------------------------------
# weighting


@dataclasses.dataclass(frozen=True, slots=True)
class ClusterInfo(ResultMixin):
    """One group of tasks (a cluster, category or task) and its weight."""

    cluster: str
    n_tasks: int
    n_runs: int
    benchmark_share: float
    target_share: float
    weight: float
    example_tasks: tuple[str, ...]
    example_text: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class Weighting(ResultMixin):
    """Per-run weights to a target profile, with the diagnostics of the reweighting.

    ``kind`` is ``"none"`` (every weight 1), ``"shares"`` or ``"texts"``. ``target_share`` of
    the clusters is ``P(c)`` before renormalising over the covered ones; ``uncovered_mass`` is
    ``U``; ``weights`` are the final (clipped) per-run weights.
    """

    kind: str
    by: str | None
    k: int | None
    k_selection: str | None
    silhouettes: dict[str, float]
    clusters: tuple[ClusterInfo, ...]
    run_cluster: tuple[str | None, ...]
    weights: np.ndarray
    ess: float
    ess_tasks: float
    max_weight_share: float
    max_task_weight_share: float
    uncovered_mass: float
    uncovered_texts: tuple[str, ...]
    min_similarity: float | None
    clip: float | None
    n_clipped: int
    n_runs: int
    n_tasks: int


def _task_texts(runs: Sequence[AgentRun], groups: dict[str, list[int]], label: str) -> list[str]:
    texts = []
    for task, ix in groups.items():
        original = [i for i in ix if runs[i].variant == "original"] or ix
        text = next((runs[i].task_text for i in original if runs[i].task_text), None)
        if text is None:
            raise ParityInputError(
                f"{label}: task {task!r} has no task text (no `task_text` field and no user "
                "message); clustering the tasks for --target needs one per task"
            )
        texts.append(text)
    return texts


def compute_weighting(
    runs: Sequence[AgentRun],
    profile: TargetProfile | None = None,
    *,
    embedder: Any = None,
    k: int | None = None,
    clip: float | None = None,
    min_similarity: float = MIN_SIMILARITY,
    rng: RngLike = 0,
    label: str = "runs",
) -> Weighting:
    """Weights of the runs to the target ``profile`` (all 1 without one); see the module doc.

    Parameters
    ----------
    runs : sequence of AgentRun
        The benchmark runs.
    profile : TargetProfile, optional
        The target usage.
    embedder : Embedder, optional
        Embeds task texts (default: a fresh hashing embedder, fitted on the task texts).
    k : int, optional
        Number of clusters (default: chosen by silhouette, or the largest cluster number in
        the shares + 1).
    clip : float, optional
        Cap on each weight (weights average 1 before capping).
    min_similarity : float, default 0.1
        Target texts less similar than this to every centroid are uncovered.
    rng : None, int or numpy.random.Generator
        Seed of k-means.
    label : str
        Name of the runs file, for messages.

    Returns
    -------
    Weighting

    Examples
    --------
    >>> from parity.agents.loading import AgentRun
    >>> runs = [AgentRun(f"r{i}", f"t{i}", 0, "original", None, None, None, c, (), True, "")
    ...         for i, c in enumerate("aab")]
    >>> w = compute_weighting(runs, target_profile_from({"by": "category",
    ...                                                  "shares": {"a": 0.5, "b": 0.5}}))
    >>> w.weights.tolist(), round(w.ess, 4)
    ([0.75, 0.75, 1.5], 2.6667)
    """
    groups = task_groups(runs)
    task_of_run = np.empty(len(runs), dtype=int)
    for q, ix in enumerate(groups.values()):
        task_of_run[ix] = q
    n = len(runs)
    if profile is None:
        return _finish(
            kind="none",
            by=None,
            k=None,
            selection=None,
            silhouettes={},
            clusters=(),
            run_group=(None,) * n,
            w=np.ones(n),
            uncovered=0.0,
            uncovered_texts=(),
            min_similarity=None,
            clip=None,
            n_clipped=0,
            task_of_run=task_of_run,
        )
    if clip is not None and not (
        isinstance(clip, int | float) and clip > 0 and math.isfinite(clip)
    ):
        raise ParityInputError(f"`clip` must be a positive number; got {clip!r}")
    if profile.by in ("category", "task_id"):
        grouping = _group_by_field(runs, groups, profile, label)
    else:
        if embedder is None:
            from parity.agents.embedding import HashingEmbedder

            embedder = HashingEmbedder()
        x = _unit(embedder.fit_transform(_task_texts(runs, groups, label)))
        if profile.kind == "shares":
            grouping = _group_by_shares(x, profile, k, rng)
        else:
            grouping = _group_by_texts(x, embedder, profile, k, rng, min_similarity)
    if grouping.uncovered >= 1.0 - 1e-12 or math.fsum(grouping.p_raw.values()) <= 0:
        raise ParityInputError(
            "the target profile puts no mass on any benchmark task (all of it is uncovered)"
        )
    run_group = tuple(grouping.task_group[q] for q in task_of_run.tolist())
    n_runs = {g: 0 for g in grouping.names}
    for g in run_group:
        n_runs[g] += 1
    covered_mass = math.fsum(grouping.p_raw.values())
    w, n_clipped = _run_weights(grouping.p_raw, covered_mass, n_runs, run_group, clip)
    return _finish(
        kind=profile.kind,
        by=profile.by,
        k=grouping.k,
        selection=grouping.selection,
        silhouettes={str(kk): v for kk, v in grouping.silhouettes.items()},
        clusters=_cluster_infos(runs, groups, grouping, n_runs, covered_mass),
        run_group=run_group,
        w=w,
        uncovered=float(grouping.uncovered),
        uncovered_texts=grouping.uncovered_texts,
        min_similarity=grouping.min_similarity,
        clip=None if clip is None else float(clip),
        n_clipped=n_clipped,
        task_of_run=task_of_run,
    )


@dataclasses.dataclass(frozen=True, slots=True)
class _Grouping:
    """The tasks in groups and the target's share of each group, before renormalising.

    ``task_group`` is the group of each task (in task order), ``names`` the groups in order,
    ``p_raw`` the target share ``P(c)`` of each group and ``uncovered`` the share ``U`` no
    task covers; ``k``, ``selection``, ``silhouettes``, ``uncovered_texts`` and
    ``min_similarity`` are reported in the :class:`Weighting`.
    """

    task_group: list[str]
    names: list[str]
    p_raw: dict[str, float]
    uncovered: float
    k: int
    selection: str
    silhouettes: dict[int, float] = dataclasses.field(default_factory=dict)
    uncovered_texts: tuple[str, ...] = ()
    min_similarity: float | None = None


def _group_by_field(
    runs: Sequence[AgentRun],
    groups: dict[str, list[int]],
    profile: TargetProfile,
    label: str,
) -> _Grouping:
    """Tasks grouped by their ``category`` or ``task_id``; shares of absent groups are
    uncovered."""
    task_group = []
    for task, ix in groups.items():
        value = task if profile.by == "task_id" else runs[ix[0]].category
        if value is None:
            raise ParityInputError(
                f"{label}: task {task!r} has no `category`; the target shares are by category"
            )
        task_group.append(str(value))
    names = list(dict.fromkeys(task_group))
    p_raw = {g: profile.shares.get(g, 0.0) for g in names}
    uncovered = math.fsum(v for g, v in profile.shares.items() if g not in p_raw)
    return _Grouping(
        task_group,
        names,
        p_raw,
        uncovered,
        len(names),
        f"tasks grouped by {profile.by}",
    )


def _group_by_shares(
    x: np.ndarray, profile: TargetProfile, k: int | None, rng: RngLike
) -> _Grouping:
    """Tasks clustered into ``k`` clusters (default: the largest cluster number in the shares
    + 1), the shares given per cluster number."""
    keys = _cluster_keys(profile.shares)
    n_tasks = x.shape[0]
    k_used = k if k is not None else max(keys) + 1
    if k_used > n_tasks:
        raise ParityInputError(
            f"the target shares name cluster {max(keys)}, but there are only "
            f"{n_tasks} tasks to cluster"
        )
    if max(keys) >= k_used:
        raise ParityInputError(
            f"the target shares name cluster {max(keys)}; with {k_used} clusters the "
            f"clusters are 0 … {k_used - 1}"
        )
    labels, k_used, _ = cluster_tasks(x, k_used, rng)
    if max(keys) >= k_used:
        raise ParityInputError(
            f"the target shares name cluster {max(keys)}, but the task texts form only "
            f"{k_used} distinct clusters (0 … {k_used - 1})"
        )
    return _Grouping(
        task_group=[str(c) for c in labels.tolist()],
        names=[str(c) for c in range(k_used)],
        p_raw={str(c): profile.shares.get(str(c), 0.0) for c in range(k_used)},
        uncovered=0.0,
        k=k_used,
        selection="given" if k is not None else "from the target shares",
    )


def _group_by_texts(
    x: np.ndarray,
    embedder: Any,
    profile: TargetProfile,
    k: int | None,
    rng: RngLike,
    min_similarity: float,
) -> _Grouping:
    """Tasks clustered (``k`` given or chosen by silhouette); each target text counts for the
    nearest centroid, or is uncovered when less similar than ``min_similarity`` to every one."""
    labels, k_used, silhouettes = cluster_tasks(x, k, rng)
    selection = (
        "given"
        if k is not None
        else ("largest silhouette (cosine)" if silhouettes else "one cluster (fewer than 3 tasks)")
    )
    sim_used = check_probability("min_similarity", min_similarity, open_interval=False)
    target = _unit(embedder.transform(list(profile.texts)))
    sims = target @ _centroids(x, labels, k_used).T
    nearest = np.argmax(sims, axis=1)
    covered = sims[np.arange(len(profile.texts)), nearest] >= sim_used
    counts = np.bincount(nearest[covered], minlength=k_used)
    return _Grouping(
        task_group=[str(c) for c in labels.tolist()],
        names=[str(c) for c in range(k_used)],
        p_raw={str(c): counts[c] / len(profile.texts) for c in range(k_used)},
        uncovered=float(np.mean(~covered)),
        k=k_used,
        selection=selection,
        silhouettes=silhouettes,
        uncovered_texts=tuple(t for t, ok in zip(profile.texts, covered, strict=True) if not ok),
        min_similarity=sim_used,
    )


def _run_weights(
    p_raw: dict[str, float],
    covered_mass: float,
    n_runs: dict[str, int],
    run_group: tuple[str, ...],
    clip: float | None,
) -> tuple[np.ndarray, int]:
    """``w_i = P̃(c_i)/Q(c_i)`` per run, capped at ``clip``, and the number of capped runs."""
    n = len(run_group)
    raw_w = np.array([(p_raw[g] / covered_mass) / (n_runs[g] / n) for g in run_group])
    w = raw_w if clip is None else np.minimum(raw_w, float(clip))
    n_clipped = 0 if clip is None else int(np.sum(raw_w > clip))
    return w, n_clipped


def _cluster_infos(
    runs: Sequence[AgentRun],
    groups: dict[str, list[int]],
    grouping: _Grouping,
    n_runs: dict[str, int],
    covered_mass: float,
) -> tuple[ClusterInfo, ...]:
    """One :class:`ClusterInfo` per group: its tasks, runs, shares and (unclipped) weight."""
    n = len(runs)
    infos = []
    for g in grouping.names:
        members = [t for t, tg in zip(groups, grouping.task_group, strict=True) if tg == g]
        first = groups[members[0]][0]
        infos.append(
            ClusterInfo(
                cluster=g,
                n_tasks=len(members),
                n_runs=n_runs[g],
                benchmark_share=n_runs[g] / n,
                target_share=float(grouping.p_raw[g]),
                weight=float((grouping.p_raw[g] / covered_mass) / (n_runs[g] / n)),
                example_tasks=tuple(members[:3]),
                example_text=runs[first].task_text,
            )
        )
    return tuple(infos)


def _cluster_keys(shares: dict[str, float]) -> list[int]:
    """The cluster numbers that key the target shares; names are refused."""
    keys = []
    for key in shares:
        if not key.isdigit():
            raise ParityInputError(
                f'target shares by cluster must be keyed by cluster numbers "0", "1", …; got '
                f'{json.dumps(key)} (use "by": "category" or "task_id" for names)'
            )
        keys.append(int(key))
    return keys


def _finish(
    *,
    kind: str,
    by: str | None,
    k: int | None,
    selection: str | None,
    silhouettes: dict[str, float],
    clusters: tuple[ClusterInfo, ...],
    run_group: tuple[str | None, ...],
    w: np.ndarray,
    uncovered: float,
    uncovered_texts: tuple[str, ...],
    min_similarity: float | None,
    clip: float | None,
    n_clipped: int,
    task_of_run: np.ndarray,
) -> Weighting:
    """The :class:`Weighting` with its diagnostics (Kish ESS of runs and tasks, largest shares)."""
    n_tasks = int(task_of_run.max()) + 1 if task_of_run.size else 0
    task_w = np.bincount(task_of_run, weights=w, minlength=n_tasks)
    total = float(w.sum())
    return Weighting(
        kind=kind,
        by=by,
        k=k,
        k_selection=selection,
        silhouettes=silhouettes,
        clusters=clusters,
        run_cluster=run_group,
        weights=w,
        ess=kish_ess(w),
        ess_tasks=kish_ess(task_w),
        max_weight_share=float(w.max() / total) if total > 0 else math.nan,
        max_task_weight_share=float(task_w.max() / total) if total > 0 else math.nan,
        uncovered_mass=uncovered,
        uncovered_texts=uncovered_texts,
        min_similarity=min_similarity,
        clip=clip,
        n_clipped=n_clipped,
        n_runs=int(w.size),
        n_tasks=n_tasks,
    )


# --------------------------------------------------------------------------------------------
# estimates


@dataclasses.dataclass(frozen=True, slots=True)
class Estimate(ResultMixin):
    """A metric estimated on the benchmark (unweighted) and under the target (Hajek).

    ``level`` is ``"run"`` or ``"task"``; ``n`` the runs (tasks) where the metric is defined;
    ``target`` and its interval are None without a target profile. Intervals are percentile
    intervals of the task-level bootstrap; ``n_undefined`` counts resamples where the
    estimate was undefined (no defined value drawn), left out of the quantiles.
    """

    metric: str
    level: str
    kind: str
    n: int
    benchmark: float
    benchmark_ci: Interval
    target: float | None
    target_ci: Interval | None
    n_undefined: int


def weighted_estimates(
    run_rows: Sequence[dict[str, Any]],
    task_rows: Sequence[dict[str, Any]],
    weighting: Weighting,
    task_of_run: Sequence[int],
    *,
    n_resamples: int = 2000,
    confidence_level: float = 0.95,
    rng: RngLike = 0,
) -> tuple[Estimate, ...]:
    """Benchmark and target (Hajek) estimates of every run- and task-level metric, with
    task-level bootstrap percentile intervals (the same resamples for every metric).

    Examples
    --------
    >>> rows = [{"loop": v} for v in (1, 0, 0, 1)]
    >>> from parity.agents.loading import AgentRun
    >>> runs = [AgentRun(f"r{i}", f"t{i // 2}", i % 2, "original", None, None, None, None,
    ...                  (), True, "") for i in range(4)]
    >>> est = weighted_estimates(rows, [{}, {}], compute_weighting(runs), [0, 0, 1, 1],
    ...                          n_resamples=200)
    >>> [(e.metric, e.benchmark) for e in est if e.metric == "loop"]
    [('loop', 0.5)]
    """
    level = check_probability("confidence_level", confidence_level)
    task = np.asarray(task_of_run, dtype=int)
    n_tasks = len(task_rows)
    run_names = [m for m in RUN_METRICS if np.isfinite(metric_values(run_rows, m)).any()]
    task_names = [
        m
        for m in (*TASK_METRICS, *(k for r in task_rows[:1] for k in r if "^" in k))
        if np.isfinite(metric_values(task_rows, m)).any()
    ]
    run_vals = np.column_stack([metric_values(run_rows, m) for m in run_names] or [np.zeros(0)])
    task_vals = np.column_stack(
        [metric_values(task_rows, m) for m in task_names] or [np.zeros(n_tasks)]
    )
    task_vals = task_vals[:, : len(task_names)]
    run_vals = run_vals[:, : len(run_names)]
    schemes = {"benchmark": np.ones(len(run_rows))}
    if weighting.kind != "none":
        schemes["target"] = np.asarray(weighting.weights, dtype=np.float64)
    results: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    alpha = (1.0 - level) / 2.0
    gen = as_generator(rng)
    state = gen.bit_generator.state
    for name, w in schemes.items():
        gen.bit_generator.state = state  # the same task resamples for both schemes
        num_r, den_r = _task_sums(run_vals, w, task, n_tasks)
        task_w = np.bincount(task, weights=w, minlength=n_tasks)
        ok = np.isfinite(task_vals)
        num_t = np.where(ok, task_vals * task_w[:, None], 0.0)
        den_t = np.where(ok, task_w[:, None], 0.0)
        num, den = np.hstack([num_r, num_t]), np.hstack([den_r, den_t])
        point = np.divide(
            num.sum(axis=0),
            den.sum(axis=0),
            out=np.full(num.shape[1], np.nan),
            where=den.sum(axis=0) > 0,
        )
        boot = task_bootstrap(num, den, n_resamples, gen)
        results[name] = (point, boot)
    out = []
    names = [(m, "run") for m in run_names] + [(m, "task") for m in task_names]
    defined = np.concatenate(
        [np.isfinite(run_vals).sum(axis=0), np.isfinite(task_vals).sum(axis=0)]
    )
    for j, (metric, lvl) in enumerate(names):
        cis = {}
        for name, (point, boot) in results.items():
            col = boot[:, j]
            good = col[np.isfinite(col)]
            ci = (
                (float(np.quantile(good, alpha)), float(np.quantile(good, 1 - alpha)))
                if good.size
                else (math.nan, math.nan)
            )
            cis[name] = (float(point[j]), ci, int(col.size - good.size))
        kind = "rate" if metric in RATE_METRICS or "^" in metric else "value"
        target = cis.get("target")
        out.append(
            Estimate(
                metric=metric,
                level=lvl,
                kind=kind,
                n=int(defined[j]),
                benchmark=cis["benchmark"][0],
                benchmark_ci=cis["benchmark"][1],
                target=None if target is None else target[0],
                target_ci=None if target is None else target[1],
                n_undefined=max(v[2] for v in cis.values()),
            )
        )
    return tuple(out)
