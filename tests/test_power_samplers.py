"""The power benchmark's samplers (benchmarks/power.py): the perturbed uniform of MMDAgg and the
Gaussian mixture of MMD-FUSE, checked against their definitions with fixed seeds."""

from __future__ import annotations

import dataclasses
import doctest
import importlib.util
import itertools
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "power.py"


def _load():
    spec = importlib.util.spec_from_file_location("parity_power_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


power = _load()


def brute_density(x: np.ndarray, signs: np.ndarray, p: int, scale: float) -> np.ndarray:
    """The paper's formula term by term: 1 + scale·e^d Σ_j θ_j Π_r G(p x_r − j_r) over every
    cell j ∈ {1..p}^d in itertools.product order, 0 outside [0, 1]^d."""
    d = x.shape[1]
    total = np.zeros(len(x))
    for flat, j in enumerate(itertools.product(range(1, p + 1), repeat=d)):
        term = np.ones(len(x))
        for r in range(d):
            term *= power.bump(p * x[:, r] - j[r])
        total += signs[flat] * term
    inside = np.all((x >= 0) & (x <= 1), axis=1)
    return np.where(inside, 1.0 + scale * math.e**d * total, 0.0)


def grid(d: int, k: int) -> np.ndarray:
    """Midpoints of a k^d grid on [0, 1]^d, shape (k^d, d)."""
    mids = (np.arange(k) + 0.5) / k
    return np.stack(np.meshgrid(*[mids] * d, indexing="ij"), axis=-1).reshape(-1, d)


# --------------------------------------------------------------------------- the bump G


def test_bump_support_extremes_and_zero_mass():
    t = np.linspace(-1.5, 0.5, 200_001)
    g = power.bump(t)
    assert np.all(g[(t <= -1) | (t >= 0)] == 0)
    assert g.max() == pytest.approx(math.exp(-1), rel=1e-6)
    assert g.min() == pytest.approx(-math.exp(-1), rel=1e-6)
    assert power.bump(np.array([-0.75]))[0] == pytest.approx(math.exp(-1))
    # negative half is the positive half shifted by ½: mass zero
    left = np.linspace(-0.999, -0.501, 101)
    np.testing.assert_allclose(power.bump(left + 0.5), -power.bump(left), atol=1e-15)
    assert np.sum(g) * (t[1] - t[0]) == pytest.approx(0.0, abs=1e-9)
    assert np.sum(np.abs(g)) * (t[1] - t[0]) > 0.2  # not identically zero


# --------------------------------------------------------------------------- the density


@pytest.mark.parametrize(("d", "p"), [(1, 1), (1, 2), (1, 4), (2, 2), (2, 3)])
def test_density_matches_the_formula_is_nonnegative_and_integrates_to_one(d, p):
    rng = np.random.default_rng(d * 10 + p)
    signs = rng.choice([-1.0, 1.0], size=p**d)
    points = rng.uniform(-0.2, 1.2, size=(5000, d))
    for scale in (0.3, 1.0):
        np.testing.assert_allclose(
            power.perturbed_uniform_density(points, signs, p, scale),
            brute_density(points, signs, p, scale),
            atol=1e-12,
        )
    mids = grid(d, 200_000 if d == 1 else 1000)
    f = power.perturbed_uniform_density(mids, signs, p, 1.0)
    assert f.min() >= 0.0
    assert f.max() <= 2.0 + 1e-12
    assert f.max() > 1.99 and f.min() < 0.01  # scale 1 touches 0 and 2
    assert f.mean() == pytest.approx(1.0, abs=1e-6)  # midpoint rule: ∫f = 1
    outside = np.array([[-0.1] * d, [1.1] * d])
    assert np.all(power.perturbed_uniform_density(outside, signs, p, 1.0) == 0)


def test_scale_above_one_is_refused():
    with pytest.raises(ValueError, match="scale must be in"):
        power.perturbed_uniform_pair(10, np.random.default_rng(0), d=1, scale=1.5)


def test_mmdagg_multipliers_keep_the_density_nonnegative():
    # the paper's c_1 = 2.7 and c_2 = 7.3 at p = 1 are just below e^d
    assert 0.99 < power.mmdagg_scale(2.7, 1, 1) <= 1
    assert 0.98 < power.mmdagg_scale(7.3, 1, 2) <= 1
    assert power.mmdagg_scale(2.7, 3, 1) == pytest.approx(2.7 / (3 * math.e))


# --------------------------------------------------------------------------- the samples


@pytest.mark.parametrize("d", [1, 2])
def test_perturbed_pair_shapes_and_range(d):
    x, y = power.perturbed_uniform_pair(300, np.random.default_rng(1), d=d, scale=0.7)
    assert x.shape == y.shape == (300, d)
    assert x.dtype == y.dtype == np.float64
    assert np.all((x >= 0) & (x <= 1)) and np.all((y >= 0) & (y <= 1))


@pytest.mark.parametrize("d", [1, 2])
def test_scale_zero_draws_both_samples_from_the_uniform(d):
    x, y = power.perturbed_uniform_pair(3000, np.random.default_rng(2), d=d, scale=0.0)
    for r in range(d):
        assert stats.ks_2samp(x[:, r], y[:, r]).pvalue > 0.01
        assert stats.kstest(x[:, r], "uniform").pvalue > 0.01
        assert stats.kstest(y[:, r], "uniform").pvalue > 0.01


def test_perturbed_sample_follows_its_density_in_one_dimension():
    signs = np.array([1.0, -1.0])
    x = power.perturbed_uniform_sample(
        20_000, np.random.default_rng(3), d=1, n_perturbations=2, scale=1.0, signs=signs
    )[:, 0]
    t = np.linspace(0, 1, 100_001)
    f = power.perturbed_uniform_density(t[:, None], signs, 2, 1.0)
    cdf_grid = np.concatenate([[0.0], np.cumsum((f[1:] + f[:-1]) / 2 * np.diff(t))])
    assert cdf_grid[-1] == pytest.approx(1.0, abs=1e-6)
    assert stats.kstest(x, lambda v: np.interp(v, t, cdf_grid)).pvalue > 0.01
    assert stats.kstest(x, "uniform").pvalue < 1e-10  # the perturbation is there


def test_perturbed_sample_follows_its_density_in_two_dimensions():
    signs = np.array([1.0, -1.0, -1.0, 1.0])
    n, bins = 40_000, 8
    x = power.perturbed_uniform_sample(
        n, np.random.default_rng(4), d=2, n_perturbations=2, scale=1.0, signs=signs
    )
    observed = np.histogram2d(x[:, 0], x[:, 1], bins=bins, range=[[0, 1], [0, 1]])[0].ravel()
    # expected bin masses: the density averaged over a fine grid inside each bin
    fine = 400
    f = power.perturbed_uniform_density(grid(2, fine), signs, 2, 1.0).reshape(fine, fine)
    k = fine // bins
    masses = f.reshape(bins, k, bins, k).mean(axis=(1, 3)).ravel() / bins**2
    assert masses.sum() == pytest.approx(1.0, abs=1e-6)
    assert stats.chisquare(observed, n * masses).pvalue > 0.01
    assert stats.chisquare(observed, np.full(bins**2, n / bins**2)).pvalue < 1e-10


def test_fresh_signs_per_replicate():
    # two replicates almost surely get different sign patterns over 3^2 cells: the bin counts
    # of the perturbed samples then differ beyond noise
    a, _ = power.perturbed_uniform_pair(
        20_000, np.random.default_rng(5), d=2, n_perturbations=3, scale=1.0
    )
    b, _ = power.perturbed_uniform_pair(
        20_000, np.random.default_rng(6), d=2, n_perturbations=3, scale=1.0
    )
    ha = np.histogram2d(a[:, 0], a[:, 1], bins=12, range=[[0, 1], [0, 1]])[0].ravel()
    hb = np.histogram2d(b[:, 0], b[:, 1], bins=12, range=[[0, 1], [0, 1]])[0].ravel()
    assert stats.chi2_contingency(np.vstack([ha, hb])).pvalue < 1e-6


def test_mixture_shapes_and_errors():
    x, y = power.mixture_pair(250, np.random.default_rng(0), std_changed=2.0)
    assert x.shape == y.shape == (250, 2)
    x3, _ = power.mixture_pair(250, np.random.default_rng(0), d=3, std_changed=2.0)
    assert x3.shape == (250, 3)
    with pytest.raises(ValueError, match="d >= 2"):
        power.mixture_sample(5, np.random.default_rng(0), d=1, mu=20.0, stds=[1, 1, 1, 1])


def test_mixture_component_weights_means_and_stds():
    n = 40_000
    x, y = power.mixture_pair(n, np.random.default_rng(7), d=3, std_changed=2.0)
    means = power.mixture_means(3, 20.0)
    for sample, stds in ((x, (1, 1, 1, 1)), (y, (1, 1, 1, 2))):
        # μ = 20 ≫ std: the quadrant of the first two coordinates names the component
        label = np.argmin(((sample[:, None, :2] - means[None, :, :2]) ** 2).sum(-1), axis=1)
        for k in range(4):
            part = sample[label == k]
            assert len(part) / n == pytest.approx(0.25, abs=0.015)
            np.testing.assert_allclose(part.mean(axis=0), means[k], atol=0.1)
            np.testing.assert_allclose(part.std(axis=0, ddof=1), stds[k], rtol=0.04)


def test_mixture_with_equal_components_draws_both_from_the_same_law():
    x, y = power.mixture_pair(4000, np.random.default_rng(8), std_changed=1.0)
    for r in range(2):
        assert stats.ks_2samp(x[:, r], y[:, r]).pvalue > 0.01
    far = power.mixture_pair(4000, np.random.default_rng(8), std_changed=2.0)
    radius = [np.linalg.norm(s - [-20, -20], axis=1) for s in far]
    assert stats.ks_2samp(*[r[r < 15] for r in radius]).pvalue < 1e-10


# --------------------------------------------------------------------------- the harness


def test_settings_are_consistent_with_their_published_numbers():
    names = [s.name for s in power.SETTINGS]
    assert len(set(names)) == len(names)
    assert len({s.key for s in power.SETTINGS}) == len(names)
    for s in power.SETTINGS:
        pub = s.published
        values = [v for v in (pub.median, pub.mmdagg, pub.fuse) if v is not None]
        assert values and all(0 <= v <= 1 for v in values)
        assert pub.repetitions >= 200
        assert power.FUSE_COMMIT[:10] in pub.source or power.AGG_COMMIT[:10] in pub.source
        assert all(v < 0.1 for v in values) == s.null  # nulls publish a level, not power


def test_replicates_are_reproducible_and_independent_of_other_settings():
    setting = power.SETTINGS_BY_NAME["unif-d2-s1.0"]
    a = power.replicate_seeds(0, setting, 3)
    b = power.replicate_seeds(0, setting, 3)
    c = power.replicate_seeds(0, setting, 4)
    xa = setting.sampler(20, a[0], **setting.params)[0]
    xb = setting.sampler(20, b[0], **setting.params)[0]
    xc = setting.sampler(20, c[0], **setting.params)[0]
    assert a[1] == b[1] != c[1]
    np.testing.assert_array_equal(xa, xb)
    assert not np.array_equal(xa, xc)


def test_engine_calls_with_and_without_the_aggregation_keyword():
    old = power.Engine(False, ("mmd", "energy", "kl"), "sum")
    new = power.Engine(True, ("mmd", "energy", "kl"), "agg")
    by = power.METHODS_BY_NAME
    assert old.kwargs(by["sum·mmd"]) == {"statistics": ("mmd",)}
    assert old.kwargs(by["agg·mmd"]) is None
    assert old.resolve(by["default"]) == old.resolve(by["sum·family"])
    assert new.kwargs(by["sum·mmd"]) == {"statistics": ("mmd",), "aggregation": "sum"}
    assert new.kwargs(by["default"]) == {}
    assert new.resolve(by["default"]) == new.resolve(by["agg·family"])
    names = [m.name for m in power.select_methods(["fuse", "sum-mmd"])]
    assert names == ["sum·mmd", "fuse·mmd", "fuse·family"]


def test_one_replicate_runs_the_installed_engine():
    engine = power.Engine.inspect()
    setting = dataclasses.replace(power.SETTINGS_BY_NAME["unif-d1-s0.5"], n=40)
    calls = {engine.resolve(m): engine.kwargs(m) for m in power.select_methods(["sum"])}
    pvalues = power.run_replicate(setting, 0, calls, 99, 0)
    assert set(pvalues) == set(calls)
    assert all(0.01 <= p <= 1 for p in pvalues.values())
    assert pvalues == power.run_replicate(setting, 0, calls, 99, 0)


def test_bad_command_line_is_one_error_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        power.parse_args(["--settings", "nope"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --settings: unknown nope")


def test_docstring_examples():
    result = doctest.testmod(power, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 5 and result.failed == 0
