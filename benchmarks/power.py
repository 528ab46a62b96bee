"""Power benchmark: parity's two-sample tests on the published benchmarks of MMDAgg and MMD-FUSE.

Run it with ``make bench`` or directly::

    python benchmarks/power.py                         # every setting, R = 200, B = 1000
    python benchmarks/power.py --quick                 # R = 50, the n = m = 500 settings only
    python benchmarks/power.py --methods sum           # today's test only (no `aggregation=`)
    python benchmarks/power.py --settings mix-std2.0 unif-d2-s1.0 -R 500 -B 2000 --jobs 8

Samplers (re-implemented here from the papers' definitions; see :func:`perturbed_uniform_pair`
and :func:`mixture_pair`):

* **perturbed uniform** (Schrab et al., "MMD Aggregated Two-Sample Test", JMLR 2023, Sec. 5;
  the same sampler as MMD-FUSE's "perturbations" experiment): x has the density
  ``1 + scale·e^d·Σ_j θ_j Π_r G(p·x_r − j_r)`` on [0, 1]^d (p perturbations per axis, random
  signs θ ∈ {±1}^(p^d) drawn afresh for every replicate, G a smooth bump of mass zero on
  (−1, 0)); y is uniform on [0, 1]^d. ``scale`` ∈ [0, 1] is the amplitude as a fraction of the
  largest one that keeps the density non-negative (MMD-FUSE's parameter); MMDAgg's
  ``c_d`` (``perturbation_multiplier``) with s = 1 is ``scale = c_d / (p·e^d)``.
* **Gaussian mixture** (Biggs, Schrab & Gretton, "MMD-FUSE", NeurIPS 2023, Sec. 5): four
  equally likely Gaussians with means (±μ, ±μ, 0, …), μ = 20, std 1; in y the component at
  (−μ, −μ) has std ``std_changed`` instead.

For every setting the script draws R replicate pairs (x, y) with seeded
``numpy.random.default_rng`` streams, runs every selected parity method on the *same* pair
(paired comparison) with B random permutations, and reports the rejection rate at level α with
its Monte Carlo standard error ``sqrt(p̂(1 − p̂)/R)``, next to the published MMD-Median, MMDAgg
and MMD-FUSE rejection rates read from the papers' own result files (cited below, with the
repository, path and commit of each number). Null settings (scale 0, equal components) print
the level with a 95 % Clopper–Pearson interval. Then, on one n = m = 500 data set, the time per
test of each method and its permutation phase per kernel.

Methods (``--methods``; ``sum``, ``agg``, ``fuse`` select every method of that aggregation):

==============  ======================================================================
sum·mmd         ``two_sample_test(x, y, statistics=("mmd",), aggregation="sum")``: the
                old test, sum of RBF kernels at median × ¼ … 4
sum·family      ``aggregation="sum"`` with the default statistics: the old default
default         ``two_sample_test(x, y)``: whatever the library's defaults are
agg·mmd         ``statistics=("mmd",), aggregation="agg"``: each kernel its own statistic,
                min-p over kernels on the shared permutations (MMDAgg-style)
agg·family      ``aggregation="agg"`` with the default statistics
fuse·mmd        ``statistics=("mmd",), aggregation="fuse"``: normalized MMDs combined by
                log-sum-exp (MMD-FUSE-style)
fuse·family     ``aggregation="fuse"`` with the default statistics
==============  ======================================================================

When the installed ``two_sample_test`` has no ``aggregation`` keyword (parity before the
adaptive kernel collection), the sum methods run without it (that engine *is* the sum) and the
agg/fuse methods are skipped with a note. A method whose resolved call equals another's (e.g.
``default`` = ``agg·family``) is run once and shown in both columns.

Each replicate's seeds come from ``numpy.random.SeedSequence([seed, crc32(setting), r])``, so a
setting's numbers do not depend on which other settings run, nor on ``--jobs``. It is a report,
not a test: it always exits 0.
"""

from __future__ import annotations

import argparse
import inspect
import math
import os
import platform
import statistics
import sys
import time
import warnings
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

ALPHA = 0.05
FUSE_REPO = "antoninschrab/mmdfuse-paper"
FUSE_COMMIT = "558e3999db1a2f6e3668b7539b48ef5ee3f09538"
AGG_REPO = "antoninschrab/mmdagg-paper"
AGG_COMMIT = "3412315f13784dfb085b44398f3a052393572369"


# --------------------------------------------------------------------------- samplers


def bump(t: np.ndarray) -> np.ndarray:
    """The perturbation profile G of MMDAgg (Sec. 5): a smooth bump of mass zero on (−1, 0).

    ``G(t) = exp(−1 / (1 − (4t + 3)²))`` on (−1, −½), ``−exp(−1 / (1 − (4t + 1)²))`` on
    (−½, 0) and 0 elsewhere: a positive and a negative copy of the same bump, so ∫G = 0 and
    |G| ≤ e⁻¹ (reached at t = −¾ and t = −¼).

    Parameters
    ----------
    t : array_like
        Points.

    Returns
    -------
    numpy.ndarray
        G at ``t`` (float64, the shape of ``t``).

    Examples
    --------
    >>> bump(np.array([-0.75, -0.25, 0.3])).round(4).tolist()
    [0.3679, -0.3679, 0.0]
    """
    t = np.asarray(t, dtype=np.float64)
    out = np.zeros_like(t)
    left = (t > -1.0) & (t < -0.5)
    right = (t > -0.5) & (t < 0.0)
    out[left] = np.exp(-1.0 / (1.0 - (4.0 * t[left] + 3.0) ** 2))
    out[right] = -np.exp(-1.0 / (1.0 - (4.0 * t[right] + 1.0) ** 2))
    return out


def perturbed_uniform_density(
    x: np.ndarray, signs: np.ndarray, n_perturbations: int, scale: float
) -> np.ndarray:
    """Density of the perturbed uniform law on [0, 1]^d at the rows of ``x``.

    ``f(x) = 1 + scale·e^d·Σ_j θ_j Π_r G(p·x_r − j_r)`` for x in [0, 1]^d (0 outside), the sum
    over the p^d cells j ∈ {1, …, p}^d, θ = ``signs``. Only the cell holding x contributes
    (``j_r = ⌈p·x_r⌉``), so |f − 1| ≤ scale: the density is non-negative for scale ≤ 1. This is
    MMDAgg's f_θ with smoothness s = 1 and ``c_d = scale·e^d·p``.

    Parameters
    ----------
    x : array_like, shape (n, d)
        Points.
    signs : array_like of ±1, shape (p^d,)
        θ, cell j = (j_1, …, j_d) at flat index Σ_r (j_r − 1)·p^(d − 1 − r).
    n_perturbations : int
        p, the number of bumps per axis.
    scale : float
        Amplitude in [0, 1].

    Returns
    -------
    numpy.ndarray, shape (n,)

    Examples
    --------
    >>> f = perturbed_uniform_density(np.array([[0.125], [0.375], [0.6], [1.5]]),
    ...                               np.array([1, -1]), 2, 1.0)
    >>> f.round(4).tolist()  # bump peak, trough of the same cell, 2nd cell, outside
    [2.0, 0.0, 0.0408, 0.0]
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    p, d = int(n_perturbations), x.shape[1]
    inside = np.all((x >= 0.0) & (x <= 1.0), axis=1)
    cell = np.clip(np.ceil(p * x), 1, p).astype(np.int64)  # j_r ∈ {1, …, p}
    profile = np.prod(bump(p * x - cell), axis=1)
    flat = np.ravel_multi_index(tuple((cell - 1).T), (p,) * d)
    value = 1.0 + scale * math.e**d * np.asarray(signs, dtype=np.float64)[flat] * profile
    return np.where(inside, value, 0.0)


def perturbed_uniform_sample(
    n: int,
    rng: np.random.Generator,
    *,
    d: int,
    n_perturbations: int,
    scale: float,
    signs: np.ndarray,
) -> np.ndarray:
    """n points from the perturbed uniform density, by rejection from the uniform on [0, 1]^d.

    A proposal u is kept when ``U(0, 1 + scale) ≤ f(u)``; the density is at most 1 + scale, so
    the kept points have density f exactly, and about one proposal in 1 + scale is kept.

    Parameters
    ----------
    n : int
        Number of points.
    rng : numpy.random.Generator
        Source of the proposals.
    d, n_perturbations, scale, signs
        As in :func:`perturbed_uniform_density`.

    Returns
    -------
    numpy.ndarray, shape (n, d)

    Examples
    --------
    >>> x = perturbed_uniform_sample(100, np.random.default_rng(0), d=2, n_perturbations=2,
    ...                              scale=1.0, signs=np.array([1, -1, -1, 1]))
    >>> x.shape, bool(((0 <= x) & (x <= 1)).all())
    ((100, 2), True)
    """
    if not 0.0 <= scale <= 1.0:
        raise ValueError(f"scale must be in [0, 1] (a non-negative density); got {scale}")
    kept: list[np.ndarray] = []
    count = 0
    while count < n:
        batch = max(64, int(1.2 * (n - count) * (1.0 + scale)))
        u = rng.random((batch, d))
        accept = rng.random(batch) * (1.0 + scale) <= perturbed_uniform_density(
            u, signs, n_perturbations, scale
        )
        kept.append(u[accept])
        count += int(accept.sum())
    return np.concatenate(kept)[:n]


def perturbed_uniform_pair(
    n: int,
    rng: np.random.Generator,
    *,
    d: int,
    n_perturbations: int = 2,
    scale: float,
) -> tuple[np.ndarray, np.ndarray]:
    """One replicate of the perturbed-uniform benchmark: (x perturbed, y uniform), n rows each.

    The signs θ ∈ {±1}^(p^d) are drawn afresh (equally likely), as both papers do per replicate.
    ``scale = 0`` gives two uniform samples (the null).

    Parameters
    ----------
    n : int
        Rows of x and of y.
    rng : numpy.random.Generator
        Source of the signs and both samples.
    d : int
        Dimension.
    n_perturbations : int
        p, bumps per axis (2 in MMD-FUSE's experiments, 1–4 in MMDAgg's).
    scale : float
        Amplitude in [0, 1] (see :func:`perturbed_uniform_density`).

    Returns
    -------
    x, y : numpy.ndarray, shape (n, d)

    Examples
    --------
    >>> x, y = perturbed_uniform_pair(50, np.random.default_rng(0), d=1, scale=0.5)
    >>> x.shape, y.shape
    ((50, 1), (50, 1))
    """
    signs = rng.choice(np.array([-1.0, 1.0]), size=n_perturbations**d)
    x = perturbed_uniform_sample(
        n, rng, d=d, n_perturbations=n_perturbations, scale=scale, signs=signs
    )
    return x, rng.random((n, d))


def mixture_means(d: int, mu: float) -> np.ndarray:
    """The four component means (μ, μ), (−μ, μ), (μ, −μ), (−μ, −μ), zero beyond axis 2.

    Examples
    --------
    >>> mixture_means(3, 20.0).tolist()[3]
    [-20.0, -20.0, 0.0]
    """
    means = np.zeros((4, d))
    means[:, :2] = mu * np.array([[1, 1], [-1, 1], [1, -1], [-1, -1]], dtype=np.float64)
    return means


def mixture_sample(
    n: int, rng: np.random.Generator, *, d: int, mu: float, stds: Sequence[float]
) -> np.ndarray:
    """n points from the equal-weight mixture of N(mean_k, stds[k]² I_d), k = 0…3.

    Parameters
    ----------
    n : int
        Number of points.
    rng : numpy.random.Generator
        Source of the component labels and the noise.
    d : int
        Dimension (≥ 2).
    mu : float
        Mean offset (see :func:`mixture_means`).
    stds : sequence of 4 floats
        Each component's standard deviation.

    Returns
    -------
    numpy.ndarray, shape (n, d)

    Examples
    --------
    >>> mixture_sample(10, np.random.default_rng(0), d=2, mu=20.0, stds=[1, 1, 1, 1]).shape
    (10, 2)
    """
    if d < 2:
        raise ValueError(f"the mixture needs d >= 2; got {d}")
    labels = rng.integers(4, size=n)
    noise = rng.standard_normal((n, d))
    return mixture_means(d, mu)[labels] + np.asarray(stds, dtype=np.float64)[labels, None] * noise


def mixture_pair(
    n: int,
    rng: np.random.Generator,
    *,
    d: int = 2,
    mu: float = 20.0,
    std_changed: float,
) -> tuple[np.ndarray, np.ndarray]:
    """One replicate of MMD-FUSE's mixture benchmark: x all stds 1; y's (−μ, −μ) component has
    std ``std_changed`` (1 gives the null).

    Parameters
    ----------
    n : int
        Rows of x and of y.
    rng : numpy.random.Generator
        Source of both samples.
    d : int
        Dimension (2 in the paper).
    mu : float
        Mean offset (20 in the paper).
    std_changed : float
        Standard deviation of y's fourth component.

    Returns
    -------
    x, y : numpy.ndarray, shape (n, d)

    Examples
    --------
    >>> x, y = mixture_pair(8, np.random.default_rng(0), std_changed=2.0)
    >>> x.shape, y.shape
    ((8, 2), (8, 2))
    """
    x = mixture_sample(n, rng, d=d, mu=mu, stds=(1.0, 1.0, 1.0, 1.0))
    y = mixture_sample(n, rng, d=d, mu=mu, stds=(1.0, 1.0, 1.0, std_changed))
    return x, y


def mmdagg_scale(multiplier: float, n_perturbations: int, d: int) -> float:
    """MMDAgg's perturbation multiplier c_d (smoothness s = 1) as this script's ``scale``.

    Examples
    --------
    >>> round(mmdagg_scale(2.7, 3, 1), 4)
    0.3311
    """
    return multiplier / (n_perturbations * math.e**d)


# --------------------------------------------------------------------------- published numbers


@dataclass(frozen=True)
class Published:
    """Published rejection rates of one setting (None: not reported) and their provenance."""

    median: float | None
    mmdagg: float | None
    fuse: float | None
    repetitions: int
    source: str


# MMD-FUSE repository, commit FUSE_COMMIT. Each results/*.npy holds one row per test in the
# order of the `tests` tuple of the notebook that wrote it (experiment_mixture.ipynb,
# experiment_perturbations.ipynb): row 0 = mmdfuse_test, row 1 = mmd_median_test (Gaussian
# kernel, median bandwidth), row 3 = mmdagg_test (the `mmdagg` package: Laplace + Gaussian
# kernels, 10 bandwidths each); columns = the matching *_x_axis.npy. 200 repetitions, α = 0.05,
# 2000 permutations; perturbations: p = 2, n = m = 500; mixture: d = 2, μ = 20.
def _fuse(path: str, column: str, median: float, mmdagg: float, fuse: float) -> Published:
    """Published numbers of one column of an MMD-FUSE result file."""
    return Published(median, mmdagg, fuse, 200, f"{FUSE_REPO}@{FUSE_COMMIT[:10]}:{path} [{column}]")


# MMDAgg repository, commit AGG_COMMIT. MMDAgg: results/exp1bis_0.npy (d = 1, n = m = 500,
# c_d = 2.7, p = 1…4) and results/exp1bis_4.npy (d = 2, n = m = 2000, c_d = 7.3, p = 1…3),
# computations_mmdagg.ipynb, experiment 1 bis: the updated MMDAgg, Laplace + Gaussian kernels,
# 10 bandwidths, permutations, B1 = B2 = 2000, 500 repetitions; nulls results/exp5bis_0.npy and
# exp5bis_4.npy (5000 repetitions). MMD-Median: paper/raw/results.csv, experiment
# "3: uniform alternative" (rows 322–325 for d = 1, 334–336 for d = 2; Gaussian kernel,
# permutation, B1 = 500, 500 repetitions) and "5: uniform null" rows 397 and 404 (5000
# repetitions). The MMDAgg paper does not run MMD-FUSE.
def _agg(npy: str, index: int, csv_row: int, median: float, mmdagg: float, reps=500):
    """Published numbers of one entry of an MMDAgg result file and its MMD-Median csv row."""
    where = f"{AGG_REPO}@{AGG_COMMIT[:10]}:results/{npy} [{index}], paper/raw/results.csv row "
    return Published(median, mmdagg, None, reps, where + str(csv_row))


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Setting:
    """One benchmark setting: a sampler with its parameters, n = m, and what was published."""

    name: str
    label: str
    sampler: Callable[..., tuple[np.ndarray, np.ndarray]]
    params: dict[str, Any]
    n: int
    published: Published
    null: bool = False

    @property
    def key(self) -> int:
        """A stable integer for this setting's seeds."""
        return zlib.crc32(self.name.encode())


def _unif(name, d, scale, pub, *, n=500, p=2, label=None):
    """A perturbed-uniform setting (scale 0: the null)."""
    if label is None:
        label = (
            f"uniform d={d} (scale 0)"
            if scale == 0
            else f"perturbed unif d={d} p={p} scale {scale:.1f}"
        )
    params = {"d": d, "n_perturbations": p, "scale": scale}
    return Setting(name, label, perturbed_uniform_pair, params, n, pub, null=scale == 0)


def _mix(name, std, pub, *, n=500):
    """A Gaussian-mixture setting (std 1: the null)."""
    label = f"mixture d=2 std {std:.1f}"
    return Setting(name, label, mixture_pair, {"std_changed": std}, n, pub, null=std == 1.0)


MIX_DIF = "results/mixture_vary_dif.npy"
MIX_N = "results/mixture_vary_n.npy"
PERT_D1 = "results/perturbations_vary_dif_d1.npy"
PERT_D2 = "results/perturbations_vary_dif_d2.npy"

SETTINGS: tuple[Setting, ...] = (
    # MMD-FUSE paper, Gaussian mixture (Fig. "mixture"): vary std at n = 500, vary n at 1.3.
    _mix("mix-std2.0", 2.0, _fuse(MIX_DIF, "std 2.0", 0.05, 0.945, 0.905)),
    _mix("mix-std1.6", 1.6, _fuse(MIX_DIF, "std 1.6", 0.03, 0.675, 0.635)),
    _mix("mix-std1.3-n3000", 1.3, _fuse(MIX_N, "n 3000", 0.04, 0.99, 0.97), n=3000),
    # MMD-FUSE paper, perturbed uniform, p = 2, n = m = 500.
    _unif("unif-d1-s0.5", 1, 0.5, _fuse(PERT_D1, "scale 0.5", 0.675, 0.985, 0.975)),
    _unif("unif-d1-s0.3", 1, 0.3, _fuse(PERT_D1, "scale 0.3", 0.29, 0.605, 0.505)),
    _unif("unif-d2-s1.0", 2, 1.0, _fuse(PERT_D2, "scale 1.0", 0.075, 0.99, 0.995)),
    _unif("unif-d2-s0.6", 2, 0.6, _fuse(PERT_D2, "scale 0.6", 0.05, 0.395, 0.485)),
    # MMDAgg paper (Fig. 5a/5b, permutations): c_1 = 2.7 at n = 500, c_2 = 7.3 at n = 2000.
    _unif(
        "agg-d1-p3",
        1,
        mmdagg_scale(2.7, 3, 1),
        _agg("exp1bis_0.npy", 2, 324, 0.082, 0.62),
        p=3,
        label="perturbed unif d=1 p=3 c=2.7",
    ),
    _unif(
        "agg-d1-p4",
        1,
        mmdagg_scale(2.7, 4, 1),
        _agg("exp1bis_0.npy", 3, 325, 0.02, 0.23),
        p=4,
        label="perturbed unif d=1 p=4 c=2.7",
    ),
    _unif(
        "agg-d2-p2-n2000",
        2,
        mmdagg_scale(7.3, 2, 2),
        _agg("exp1bis_4.npy", 1, 335, 0.138, 0.984),
        n=2000,
        label="perturbed unif d=2 p=2 c=7.3",
    ),
    _unif(
        "agg-d2-p3-n2000",
        2,
        mmdagg_scale(7.3, 3, 2),
        _agg("exp1bis_4.npy", 2, 336, 0.012, 0.262),
        n=2000,
        p=3,
        label="perturbed unif d=2 p=3 c=7.3",
    ),
    # Nulls.
    _mix("null-mix", 1.0, _fuse(MIX_DIF, "std 1.0", 0.035, 0.05, 0.035)),
    _unif("null-unif-d1", 1, 0.0, _fuse(PERT_D1, "scale 0", 0.04, 0.035, 0.045)),
    _unif("null-unif-d2", 2, 0.0, _fuse(PERT_D2, "scale 0", 0.05, 0.045, 0.045)),
    _unif(
        "null-unif-d2-n2000",
        2,
        0.0,
        _agg("exp5bis_4.npy", 0, 404, 0.0466, 0.0438, reps=5000),
        n=2000,
    ),
)
SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}


# --------------------------------------------------------------------------- parity methods


@dataclass(frozen=True)
class Method:
    """A parity call: ``statistics`` None = the library's default family; ``aggregation`` None
    = the library's default aggregation."""

    name: str
    statistics: tuple[str, ...] | None
    aggregation: str | None
    description: str


METHODS: tuple[Method, ...] = (
    Method("sum·mmd", ("mmd",), "sum", "old test: sum of RBF kernels at median × ¼…4"),
    Method("sum·family", None, "sum", "old default: the family, MMD as the sum"),
    Method("default", None, None, "two_sample_test(x, y): the library's defaults"),
    Method("agg·mmd", ("mmd",), "agg", "each kernel its own statistic, min-p (MMDAgg-style)"),
    Method("agg·family", None, "agg", "the family, MMD kernels aggregated by min-p"),
    Method("fuse·mmd", ("mmd",), "fuse", "normalized MMDs by log-sum-exp (FUSE-style)"),
    Method("fuse·family", None, "fuse", "the family, MMD kernels fused"),
)
METHODS_BY_NAME = {m.name: m for m in METHODS}
ASCII_NAMES = {m.name.replace("·", "-"): m.name for m in METHODS}  # sum-mmd etc. on the CLI


@dataclass(frozen=True)
class Engine:
    """What the installed ``two_sample_test`` accepts and defaults to."""

    has_aggregation: bool
    default_statistics: tuple[str, ...]
    default_aggregation: str

    @classmethod
    def inspect(cls) -> Engine:
        """Read the keyword and defaults off ``parity.stats.two_sample_test``'s signature."""
        from parity.stats import two_sample_test

        params = inspect.signature(two_sample_test).parameters
        stats = params["statistics"].default
        stats = (stats,) if isinstance(stats, str) else tuple(stats)
        if "aggregation" in params:
            return cls(True, stats, str(params["aggregation"].default))
        return cls(False, stats, "sum")

    def resolve(self, method: Method) -> tuple[tuple[str, ...], str]:
        """The (statistics, aggregation) a method runs: two methods with equal ones are one."""
        return (
            method.statistics or self.default_statistics,
            method.aggregation or self.default_aggregation,
        )

    def kwargs(self, method: Method) -> dict[str, Any] | None:
        """Keyword arguments of the call (None: this parity cannot run the method)."""
        kwargs: dict[str, Any] = {}
        if method.statistics is not None:
            kwargs["statistics"] = method.statistics
        if method.aggregation is not None:
            if self.has_aggregation:
                kwargs["aggregation"] = method.aggregation
            elif method.aggregation != "sum":
                return None
        return kwargs


def select_methods(names: Sequence[str]) -> list[Method]:
    """Methods named on the command line; ``sum``/``agg``/``fuse`` select an aggregation's.

    Examples
    --------
    >>> [m.name for m in select_methods(["sum", "default"])]
    ['sum·mmd', 'sum·family', 'default']
    """
    chosen: list[str] = []
    for name in names:
        name = ASCII_NAMES.get(name, name)
        if name == "all":
            group = [m.name for m in METHODS]
        elif name in ("sum", "agg", "fuse"):
            group = [m.name for m in METHODS if m.aggregation == name]
        elif name in METHODS_BY_NAME:
            group = [name]
        else:
            choices = ", ".join(["all", "sum", "agg", "fuse", *ASCII_NAMES])
            fail(f"--methods: unknown method {name!r}; choose from {choices}")
        chosen += [g for g in group if g not in chosen]
    return [m for m in METHODS if m.name in chosen]


# --------------------------------------------------------------------------- simulation


def replicate_seeds(seed: int, setting: Setting, replicate: int) -> tuple[np.random.Generator, int]:
    """The data generator and the permutation seed of one replicate of one setting."""
    data_seq, test_seq = np.random.SeedSequence([seed, setting.key, replicate]).spawn(2)
    return np.random.default_rng(data_seq), int(test_seq.generate_state(1)[0])


def run_replicate(
    setting: Setting, replicate: int, calls: dict[tuple, dict[str, Any]], b: int, seed: int
) -> dict[tuple, float]:
    """p-values of every distinct call on one replicate pair (the same pair and splits seed)."""
    from parity.stats import two_sample_test

    data_rng, test_seed = replicate_seeds(seed, setting, replicate)
    x, y = setting.sampler(setting.n, data_rng, **setting.params)
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # few-samples / degenerate notes: not the point here
        for key, kwargs in calls.items():
            out[key] = two_sample_test(x, y, n_resamples=b, rng=test_seed, **kwargs).pvalue
    return out


def _replicate_job(job: tuple) -> dict[tuple, float]:
    """:func:`run_replicate` on a picklable job tuple (the setting by name), for the pool."""
    name, replicate, calls, b, seed = job
    return run_replicate(SETTINGS_BY_NAME[name], replicate, calls, b, seed)


def simulate(
    setting: Setting,
    calls: dict[tuple, dict[str, Any]],
    replicates: int,
    b: int,
    seed: int,
    pool: ProcessPoolExecutor | None,
) -> dict[tuple, np.ndarray]:
    """Each call's p-values over ``replicates`` replicates, shape (replicates,)."""
    jobs = [(setting.name, r, calls, b, seed) for r in range(replicates)]
    rows = list(pool.map(_replicate_job, jobs) if pool else map(_replicate_job, jobs))
    return {key: np.array([row[key] for row in rows]) for key in calls}


def rate_and_se(rejections: np.ndarray) -> tuple[float, float]:
    """Rejection rate and its Monte Carlo standard error sqrt(p̂(1 − p̂)/R).

    Examples
    --------
    >>> rate_and_se(np.array([1, 0, 1, 1]))
    (0.75, 0.21650635094610965)
    """
    r = len(rejections)
    p = float(np.mean(rejections))
    return p, math.sqrt(p * (1.0 - p) / r)


def clopper_pearson(k: int, r: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact binomial interval of a rate k/r (scipy's ``binomtest(...).proportion_ci``)."""
    from scipy.stats import binomtest

    ci = binomtest(k, r).proportion_ci(confidence, method="exact")
    return float(ci.low), float(ci.high)


# --------------------------------------------------------------------------- report


def fmt_rate(p: float, se: float) -> str:
    """``"0.905±0.021"``: a rate and its standard error."""
    return f"{p:.3f}±{se:.3f}"


def fmt_pub(p: float | None) -> str:
    """A published rate to 4 significant digits, or "—" when not reported."""
    return "—" if p is None else f"{p:.4g}"


def best_published(pub: Published) -> tuple[str, float] | None:
    """The better of MMDAgg and MMD-FUSE (the issue's target), with its name."""
    options = [(n, v) for n, v in (("MMDAgg", pub.mmdagg), ("FUSE", pub.fuse)) if v is not None]
    return max(options, key=lambda item: item[1]) if options else None


def print_power(rows: list[tuple[Setting, dict[str, tuple[float, float]]]], methods, alpha):
    """The power table, then the target check of the default against the best published."""
    width = max(len(s.label) for s, _ in rows)
    head = f"{'setting':<{width}} {'n=m':>5} │ {'Median':>6} {'MMDAgg':>6} {'FUSE':>6} │"
    head += "".join(f" {m.name:>11}" for m in methods)
    print(head)
    print("─" * len(head))
    for setting, cells in rows:
        pub = setting.published
        line = f"{setting.label:<{width}} {setting.n:>5} │ "
        line += " ".join(f"{fmt_pub(v):>6}" for v in (pub.median, pub.mmdagg, pub.fuse)) + " │"
        line += "".join(
            f" {fmt_rate(*cells[m.name]) if m.name in cells else '—':>11}" for m in methods
        )
        print(line)
    print()
    target = [m for m in methods if m.name == "default"]
    if not target:
        return
    print(
        f"Target (issue 12): the default within 2 MC standard errors of the better of MMDAgg and\n"
        f"FUSE, or above; SE of the difference = sqrt(SE_default² + SE_published²), each\n"
        f"sqrt(p(1 − p)/R) at its own R. 'ratio' = default ÷ best published. α = {alpha}."
    )
    print(f"{'setting':<{width}} {'best published':>16} {'default':>11} {'ratio':>6} {'Δ/SE':>6}")
    for setting, cells in rows:
        best = best_published(setting.published)
        if best is None or "default" not in cells:
            continue
        p, se = cells["default"]
        se_pub = math.sqrt(best[1] * (1 - best[1]) / setting.published.repetitions)
        se_diff = math.hypot(se, se_pub)
        z = (p - best[1]) / se_diff if se_diff > 0 else (0.0 if p >= best[1] else -math.inf)
        verdict = "PASS" if z >= -2 else "MISS"
        ratio = p / best[1] if best[1] > 0 else math.inf
        print(
            f"{setting.label:<{width}} {best[0] + ' ' + f'{best[1]:.3f}':>16} "
            f"{fmt_rate(p, se):>11} {ratio:>6.2f} {z:>+6.1f}  {verdict}"
        )
    print()


def print_level(rows, methods, alpha, replicates):
    """Level under the nulls with 95 % Clopper–Pearson intervals; ok when the interval's lower
    end is ≤ α (the level is not above α beyond binomial error)."""
    width = max(len(s.label) for s, _ in rows)
    print(
        f"Level under the nulls (R = {replicates}; 95 % Clopper–Pearson interval; 'ok' when its\n"
        f"lower end ≤ α = {alpha}, i.e. no evidence that the level exceeds α). Published: as above."
    )
    head = f"{'null':<{width}} {'n=m':>5} │ {'Median':>6} {'MMDAgg':>6} {'FUSE':>6} │"
    head += "".join(f" {m.name:>20}" for m in methods)
    print(head)
    print("─" * len(head))
    for setting, counts in rows:
        pub = setting.published
        line = f"{setting.label:<{width}} {setting.n:>5} │ "
        line += " ".join(f"{fmt_pub(v):>6}" for v in (pub.median, pub.mmdagg, pub.fuse)) + " │"
        for m in methods:
            if m.name not in counts:
                line += f" {'—':>20}"
                continue
            k = counts[m.name]
            low, high = clopper_pearson(k, replicates)
            cell = f"{k / replicates:.3f} [{low:.3f},{high:.3f}]{'' if low <= alpha else '!'}"
            line += f" {cell:>20}"
        print(line)
    print("  ('!' after an interval: level above α beyond binomial error)\n")


def kernel_count(result) -> int | None:
    """Number of MMD kernels a result used: its MMD parameters' ``kernels`` list when it has
    one, else its ``bandwidths`` list (the sum's five RBF bandwidths)."""
    mmd = result.results.get("mmd")
    if mmd is None:
        return None
    for key in ("kernels", "bandwidths"):
        value = mmd.parameters.get(key)
        if isinstance(value, list | tuple):
            return len(value)
    return None


def print_timing(methods, engine: Engine, b: int, repeats: int, seed: int) -> None:
    """Time per test at n = m = 500 (mixture, std 2.0) for each method, and for the MMD-only
    methods the permutation phase per kernel: (time(B) − time(B = 1)) / K."""
    from parity.stats import two_sample_test

    x, y = mixture_pair(500, np.random.default_rng(seed), std_changed=2.0)
    print(
        f"Time per test at n = m = 500, d = 2 (mixture, std 2.0), B = {b}: median of {repeats}"
        " calls;\n'perm' = permutation phase, time(B) − time(B = 1); 'perm/kernel' = perm / K,\n"
        "K = MMD kernels (MMD-only methods). The sum adds its K kernels into one Gram matrix\n"
        "before permuting, so its phase is that of one matrix whatever K."
    )
    head = (
        f"{'method':<12} {'seconds':>8} {'÷ sum·mmd':>10} {'perm':>8} {'K':>4} {'perm/kernel':>12}"
    )
    print(head)
    base = None
    done: dict[tuple, tuple] = {}
    for m in methods:
        kwargs = engine.kwargs(m)
        if kwargs is None:
            continue
        key = engine.resolve(m)
        if key not in done:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                two_sample_test(x, y, n_resamples=b, rng=0, **kwargs)  # warm-up

                def seconds(n_perm: int, kwargs=kwargs) -> tuple[float, Any]:
                    runs, res = [], None
                    for _ in range(repeats):
                        start = time.perf_counter()
                        res = two_sample_test(x, y, n_resamples=n_perm, rng=0, **kwargs)
                        runs.append(time.perf_counter() - start)
                    return statistics.median(runs), res

                t_b, res = seconds(b)
                t_1, _ = seconds(1)
            done[key] = (t_b, t_1, kernel_count(res))
        t_b, t_1, k = done[key]
        base = t_b if m.name == "sum·mmd" else base
        ratio = f"{t_b / base:.2f}" if base else "—"
        per_kernel = "—"
        if m.statistics == ("mmd",) and k:
            per_kernel = f"{(t_b - t_1) / k * 1e3:.1f} ms"
        print(
            f"{m.name:<12} {t_b:>8.3f} {ratio:>10} {t_b - t_1:>8.3f} {k or '—':>4} {per_kernel:>12}"
        )
    print()


def environment(args, engine: Engine) -> str:
    """Header lines: versions, BLAS threads, the machine, and what the installed engine takes."""
    import scipy

    from _machine import machine_line

    threads = os.environ.get("OPENBLAS_NUM_THREADS", "unset")
    return (
        f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}"
        f", OPENBLAS_NUM_THREADS={threads}, --jobs {args.jobs}\nCPU {machine_line()}\n"
        f"parity two_sample_test: aggregation keyword "
        + ("present" if engine.has_aggregation else "ABSENT (today's engine: the sum)")
        + f"; defaults statistics={engine.default_statistics}, "
        f"aggregation={engine.default_aggregation!r}"
    )


def fail(message: str) -> None:
    """Bad command line: one ``error:`` line on stderr, exit status 2."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Power of parity's two-sample tests on the MMDAgg and MMD-FUSE benchmarks."
    )
    parser.add_argument("-R", "--replicates", type=int, default=200, help="replicates (200)")
    parser.add_argument("-B", "--permutations", type=int, default=1000, help="B (1000)")
    parser.add_argument("--alpha", type=float, default=ALPHA, help="test level (0.05)")
    parser.add_argument("--seed", type=int, default=0, help="master seed (0)")
    parser.add_argument(
        "--methods",
        nargs="+",
        default=["all"],
        help="methods: all (default), sum, agg, fuse, or names "
        + " ".join(ASCII_NAMES)
        + " (sum = today's test, no aggregation keyword needed)",
    )
    parser.add_argument(
        "--settings",
        nargs="+",
        default=None,
        help="setting names (default: all): " + " ".join(SETTINGS_BY_NAME),
    )
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (1)")
    parser.add_argument("--timing-repeats", type=int, default=3, help="timed calls (3)")
    parser.add_argument("--skip-timing", action="store_true", help="no timing section")
    parser.add_argument(
        "--quick", action="store_true", help="R = 50 and only the n = m = 500 settings"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.replicates = 50
    names = args.settings or [s.name for s in SETTINGS if not args.quick or s.n <= 500]
    unknown = [n for n in names if n not in SETTINGS_BY_NAME]
    if unknown:
        fail(f"--settings: unknown {', '.join(unknown)}; choose from {', '.join(SETTINGS_BY_NAME)}")
    args.settings = [SETTINGS_BY_NAME[n] for n in names]
    for name in ("replicates", "permutations", "jobs", "timing_repeats"):
        if getattr(args, name) < 1:
            fail(f"--{name.replace('_', '-')} must be an integer ≥ 1; got {getattr(args, name)}")
    if not 0.0 < args.alpha < 1.0:
        fail(f"--alpha must be in (0, 1); got {args.alpha}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    engine = Engine.inspect()
    methods = select_methods(args.methods)
    runnable = [m for m in methods if engine.kwargs(m) is not None]
    skipped = [m.name for m in methods if m not in runnable]

    print("parity power benchmark: MMDAgg (JMLR 2023) and MMD-FUSE (NeurIPS 2023) settings")
    print(environment(args, engine))
    print(
        f"R = {args.replicates} replicates per setting, B = {args.permutations} permutations, "
        f"α = {args.alpha}, seed {args.seed}; rates ± Monte Carlo SE sqrt(p(1 − p)/R)."
    )
    print("methods:")
    for m in runnable:
        same = [o.name for o in runnable if o is not m and engine.resolve(o) == engine.resolve(m)]
        stats, agg = engine.resolve(m)
        note = f" (= {', '.join(same)}: run once)" if same else ""
        print(f"  {m.name:<12} statistics={stats}, aggregation={agg!r}: {m.description}{note}")
    if skipped:
        print(f"  skipped (this parity has no `aggregation` keyword): {', '.join(skipped)}")
    print(
        "published: MMD-Median, MMDAgg, MMD-FUSE from the papers' repositories (each setting's\n"
        f"  source below); {FUSE_REPO} settings: 200 repetitions, B = 2000;\n"
        f"  {AGG_REPO} settings: 500 repetitions (nulls 5000), MMDAgg B1 = B2 = 2000.\n"
    )

    calls = {engine.resolve(m): engine.kwargs(m) for m in runnable}
    power_rows, level_rows = [], []
    pool = ProcessPoolExecutor(max_workers=args.jobs) if args.jobs > 1 else None
    try:
        for setting in args.settings:
            t0 = time.perf_counter()
            pvalues = simulate(setting, calls, args.replicates, args.permutations, args.seed, pool)
            rejections = {m.name: pvalues[engine.resolve(m)] <= args.alpha for m in runnable}
            if setting.null:
                level_rows.append((setting, {k: int(v.sum()) for k, v in rejections.items()}))
            else:
                power_rows.append((setting, {k: rate_and_se(v) for k, v in rejections.items()}))
            rates = ", ".join(f"{k} {v.mean():.3f}" for k, v in rejections.items())
            seconds = time.perf_counter() - t0
            print(f"  [{setting.name}: {seconds:.0f} s; {rates}]", file=sys.stderr, flush=True)
    finally:
        if pool:
            pool.shutdown()

    if power_rows:
        print_power(power_rows, runnable, args.alpha)
    if level_rows:
        print_level(level_rows, runnable, args.alpha, args.replicates)
    print("sources of the published numbers (repository@commit:path [column], npy row order:")
    print("  FUSE repo row 0 = MMD-FUSE, 1 = MMD-Median, 3 = MMDAgg):")
    for setting, _ in power_rows + level_rows:
        print(f"  {setting.name:<20} {setting.published.source}")
    print()
    if not args.skip_timing:
        print_timing(runnable, engine, args.permutations, args.timing_repeats, args.seed)
    print(f"total wall time {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except Exception as exc:  # exit 0 regardless: this is a report
        print(f"benchmark failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    sys.exit(0)
