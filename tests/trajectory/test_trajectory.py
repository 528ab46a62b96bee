"""Tests of parity.trajectory: embodied metrics and their comparison."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parity._format import number
from parity.errors import DegenerateDataWarning, ParityInputError
from parity.trajectory import (
    EMBODIED_METRICS,
    EmbodiedResult,
    compare_embodied,
    jerk_rms,
    motion_energy,
    path_length,
)
from parity.trajectory.embodied import classify

# Any parity warning that a test does not expect with pytest.warns is a failure.
pytestmark = pytest.mark.filterwarnings("error::parity.errors.ParityWarning")


def random_walks(seed: int, episodes: int = 40, steps: int = 60, dim: int = 3, scale=1.0):
    g = np.random.default_rng(seed)
    return scale * np.cumsum(g.normal(size=(episodes, steps, dim)), axis=1)


def all_metrics(episodes, dt):
    return jerk_rms(episodes, dt), motion_energy(episodes, dt), path_length(episodes)


# --------------------------------------------------------------------------------------------
# hand-computed cases


@pytest.mark.parametrize("dt", [1.0, 0.5, 0.25])
def test_cubic_has_jerk_exactly_six(dt):
    t = np.arange(12) * dt
    x = np.stack([t**3, np.zeros_like(t)], axis=1)  # d = 2, second coordinate still
    assert jerk_rms([x], dt).tolist() == [6.0]


def test_cubic_jerk_with_inexact_dt_and_scaled_cubic():
    dt = 0.1
    t = np.arange(30) * dt
    x = np.stack([t**3, 2 * t**3], axis=1)  # jerk vector (6, 12): norm 6·√5
    np.testing.assert_allclose(jerk_rms(x[None], dt), [6 * math.sqrt(5)], rtol=1e-6)


def test_polynomials_below_cubic_have_zero_jerk():
    t = np.arange(10, dtype=float)[:, None]
    np.testing.assert_allclose(jerk_rms([1 + 2 * t, 3 * t**2 - t], 0.5), [0.0, 0.0], atol=1e-9)


def test_straight_line_at_constant_speed():
    dt, speed, steps = 0.1, 2.0, 51  # duration (steps - 1)·dt = 5 s
    direction = np.array([3.0, 0.0, 4.0]) / 5.0
    t = np.arange(steps) * dt
    x = 1.5 + speed * t[:, None] * direction
    duration = (steps - 1) * dt
    np.testing.assert_allclose(path_length(x[None]), [speed * duration], rtol=1e-12)
    np.testing.assert_allclose(motion_energy(x[None], dt), [speed**2 * duration], rtol=1e-12)
    np.testing.assert_allclose(jerk_rms(x[None], dt), [0.0], atol=1e-6)


def test_right_angle_path_and_energy():
    x = np.array([[0.0, 0.0], [3.0, 4.0], [3.0, 0.0]])
    assert path_length([x]).tolist() == [9.0]
    assert motion_energy([x], dt=0.5).tolist() == [(25.0 + 16.0) / 0.5]


def test_ragged_episodes():
    t5, t9 = np.arange(5.0)[:, None], np.arange(9.0)[:, None]
    episodes = [t5**3, 2 * t9, (t5**3).tolist()]  # lists of rows are accepted too
    np.testing.assert_allclose(jerk_rms(episodes, 1.0), [6.0, 0.0, 6.0], atol=1e-12)
    assert path_length(episodes).tolist() == [64.0, 16.0, 64.0]
    assert motion_energy(episodes, 1.0).tolist() == [1 + 49 + 361 + 1369, 32.0, 1780.0]


def test_array_and_list_of_episodes_agree():
    x = random_walks(0, episodes=5, steps=20)
    for a, b in zip(all_metrics(x, 0.1), all_metrics(list(x), 0.1), strict=True):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == np.float64 and a.shape == (5,)


def test_registry_holds_the_three_metrics():
    x = random_walks(1, episodes=4, steps=10)
    assert list(EMBODIED_METRICS) == ["jerk_rms", "motion_energy", "path_length"]
    np.testing.assert_array_equal(EMBODIED_METRICS["jerk_rms"](x, 0.1), jerk_rms(x, 0.1))
    np.testing.assert_array_equal(EMBODIED_METRICS["path_length"](x), path_length(x))
    assert not EMBODIED_METRICS["path_length"].uses_dt


# --------------------------------------------------------------------------------------------
# invariances


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    shift=st.lists(st.floats(-100, 100), min_size=2, max_size=2),
    c=st.floats(0.01, 100.0),
    dt=st.floats(0.001, 10.0),
)
def test_translation_and_scaling(seed, shift, c, dt):
    x = random_walks(seed, episodes=3, steps=12, dim=2)
    jerk, energy, length = all_metrics(x, dt)
    moved = all_metrics(x + np.asarray(shift), dt)
    for before, after in zip((jerk, energy, length), moved, strict=True):
        np.testing.assert_allclose(after, before, rtol=1e-6, atol=1e-6 * np.max(before))
    scaled = all_metrics(c * x, dt)
    np.testing.assert_allclose(scaled[0], c * jerk, rtol=1e-9)
    np.testing.assert_allclose(scaled[1], c**2 * energy, rtol=1e-9)
    np.testing.assert_allclose(scaled[2], c * length, rtol=1e-9)


def test_rotation_invariance_and_dt_scaling():
    x = random_walks(2, episodes=4, steps=15, dim=3)
    q, _ = np.linalg.qr(np.random.default_rng(3).normal(size=(3, 3)))
    for a, b in zip(all_metrics(x, 0.2), all_metrics(x @ q.T, 0.2), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10)
    np.testing.assert_allclose(jerk_rms(x, 0.1), 8 * jerk_rms(x, 0.2), rtol=1e-12)
    np.testing.assert_allclose(motion_energy(x, 0.1), 2 * motion_energy(x, 0.2), rtol=1e-12)


def test_episode_order_is_kept():
    x = random_walks(4, episodes=6, steps=10)
    perm = np.array([3, 0, 5, 1, 4, 2])
    for a, b in zip(all_metrics(x, 0.1), all_metrics(x[perm], 0.1), strict=True):
        np.testing.assert_array_equal(a[perm], b)


# --------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(
    ("episodes", "pattern"),
    [
        (np.zeros((10, 2)), r"`episodes` .* 2-D array of shape \(10, 2\): add the episode axis"),
        (np.zeros(10), r"`episodes` must be 3-D .*; got shape \(10,\)"),
        ("abc", r"`episodes` must be a 3-D array .*; got str"),
        ([], r"`episodes` must hold at least 1 episode\(s\); got 0"),
        ([np.zeros((5, 2)), np.zeros(5)], r"episode 1 must be 2-D \(T × d\).*got shape \(5,\)"),
        ([np.zeros((5, 2)), np.zeros((5, 3))], r"episode 1 has d = 3 but episode 0 has d = 2"),
        ([np.zeros((5, 0))], r"episode 0 must be 2-D \(T × d\) with d ≥ 1"),
        ([[[1.0, 2.0], [3.0]]], r"episode 0 must be a numeric \(T × d\) array"),
    ],
)
def test_bad_episodes(episodes, pattern):
    with pytest.raises(ParityInputError, match=pattern):
        motion_energy(episodes, 0.1)


def test_non_finite_values_name_the_episode_and_steps():
    x = random_walks(5, episodes=3, steps=10)
    x[2, 4, 0] = np.nan
    x[2, 7, 1] = np.inf
    with pytest.raises(ParityInputError, match=r"episode 2 must have finite values; got 2 NaN/inf"):
        path_length(x)
    with pytest.raises(ParityInputError, match=r"time steps 4, 7"):
        path_length(x)


def test_too_short_episodes_name_index_and_length():
    episodes = [np.zeros((6, 2)), np.zeros((3, 2))]
    with pytest.raises(ParityInputError, match=r"episode 1 has 3 time steps; jerk_rms needs at"):
        jerk_rms(episodes, 0.1)
    assert motion_energy(episodes, 0.1).shape == (2,)
    with pytest.raises(ParityInputError, match=r"episode 0 has 1 time steps; path_length needs"):
        path_length([np.zeros((1, 2))])


@pytest.mark.parametrize("dt", [0.0, -0.1, math.nan, math.inf, None, "fast"])
def test_bad_dt(dt):
    with pytest.raises(ParityInputError, match=r"`dt` must be a finite number > 0"):
        jerk_rms(random_walks(0, 2, 10), dt)


def test_overflow_is_an_input_error():
    x = np.zeros((1, 6, 1))
    x[0, 3, 0] = 1e300
    with pytest.raises(ParityInputError, match=r"jerk_rms overflowed in episode 0"):
        jerk_rms(x, 1e-3)


# --------------------------------------------------------------------------------------------
# comparison: each classification outcome


def test_identical_episodes_are_ok():
    ref = random_walks(10)
    out = compare_embodied(ref, ref, dt=0.05, n_resamples=1999, rng=0)
    assert list(out) == ["jerk_rms", "motion_energy", "path_length"]
    for name, res in out.items():
        assert isinstance(res, EmbodiedResult)
        assert res.metric == name
        assert res.status == "ok", res.reason
        assert res.ratio == 1.0
        assert res.band == pytest.approx((1 / 1.1, 1.1))
        assert res.band[0] <= res.confidence_interval[0] <= 1.0 <= res.confidence_interval[1]
        assert res.confidence_level == pytest.approx(0.90)
        assert res.method == "bootstrap BCa"
        assert res.rule == "regression"
        assert "at or below the 1.1× tolerance: no regression" in res.reason


def test_doubled_jerk_is_regressed():
    ref, cand = random_walks(11), random_walks(12, scale=2.0)
    res = compare_embodied(ref, cand, dt=0.05, metrics="jerk_rms", n_resamples=1999, rng=0)
    (only,) = res.values()
    assert only.status == "regressed"
    assert only.ratio == pytest.approx(2.0, rel=0.1)
    assert only.confidence_interval[0] > 1.1
    assert only.reason.startswith(f"jerk_rms rose {number(only.ratio, 3)}× (90% CI ")
    assert "above the 1.1× tolerance: the candidate moves less smoothly" in only.reason


def test_halved_jerk_is_changed():
    ref, cand = random_walks(13), random_walks(14, scale=0.5)
    out = compare_embodied(ref, cand, dt=0.05, n_resamples=1999, rng=0)
    assert {r.status for r in out.values()} == {"changed"}
    assert out["motion_energy"].ratio == pytest.approx(0.25, rel=0.1)
    assert "below 0.909×" in out["jerk_rms"].reason
    assert "not a regression (it does not block a pass)" in out["jerk_rms"].reason
    strict = compare_embodied(ref, cand, dt=0.05, n_resamples=1999, rng=0, rule="equivalence")
    assert {r.status for r in strict.values()} == {"changed"}
    assert "below the 0.909× tolerance" in strict["jerk_rms"].reason
    assert "check that this change is intended" in strict["jerk_rms"].reason


@pytest.mark.parametrize(
    ("ci", "regression", "equivalence"),
    [
        ((0.89, 1.03), "ok", "inconclusive"),  # the real SAC case: nothing changed
        ((0.95, 1.05), "ok", "ok"),
        ((0.95, 1.1), "ok", "ok"),  # the upper end on 1 + tol still shows no regression
        ((1.05, 1.2), "inconclusive", "inconclusive"),
        ((0.8, 1.2), "inconclusive", "inconclusive"),
        ((1.1000001, 1.3), "regressed", "regressed"),
        ((0.5, 0.8), "changed", "changed"),
        ((0.5, 0.95), "ok", "inconclusive"),
        ((math.nan, 1.0), "inconclusive", "inconclusive"),
    ],
)
def test_classify_under_both_rules(ci, regression, equivalence):
    band = (1 / 1.1, 1.1)
    assert classify(ci, band, "regression") == regression
    assert classify(ci, band, "equivalence") == equivalence


def _slightly_lower_energy():
    """12 episodes a side whose motion-energy CI reaches below 1/1.1 but stays under 1.1."""
    g = np.random.default_rng(16)
    ref = random_walks(116, episodes=12, steps=40, dim=2) * g.lognormal(0, 0.15, (12, 1, 1))
    cand = random_walks(216, episodes=12, steps=40, dim=2, scale=0.96)
    return ref, cand * g.lognormal(0, 0.15, (12, 1, 1))


def test_a_ci_below_the_lower_edge_is_ok_under_regression_and_unsure_under_equivalence():
    ref, cand = _slightly_lower_energy()
    options = dict(dt=0.05, metrics="motion_energy", n_resamples=999, rng=0)
    gate = compare_embodied(ref, cand, **options)["motion_energy"]
    lo, hi = gate.confidence_interval
    assert lo < 1 / 1.1 < hi < 1.1  # the case of the issue: less evidence of lower energy
    assert (gate.rule, gate.status) == ("regression", "ok")
    assert "stays at or below the 1.1× tolerance: no regression" in gate.reason
    strict = compare_embodied(ref, cand, **options, rule="equivalence")["motion_energy"]
    assert strict.confidence_interval == gate.confidence_interval  # same draws, other rule
    assert (strict.rule, strict.status) == ("equivalence", "inconclusive")
    assert "neither inside the 0.909×–1.1× tolerance band" in strict.reason


def test_a_ci_across_the_upper_edge_is_inconclusive_under_regression():
    ref, cand = _slightly_lower_energy()
    res = compare_embodied(cand, ref, dt=0.05, metrics="motion_energy", n_resamples=999, rng=0)
    lo, hi = res["motion_energy"].confidence_interval
    assert lo < 1.1 < hi
    assert res["motion_energy"].status == "inconclusive"
    assert "straddles the 1.1× tolerance" in res["motion_energy"].reason


def test_unknown_rule_is_refused():
    with pytest.raises(ParityInputError, match=r"`embodied` rule must be one of .*got 'both'"):
        compare_embodied(random_walks(1), random_walks(2), dt=0.1, rule="both")


def test_tiny_noisy_samples_are_inconclusive():
    g = np.random.default_rng(15)
    base = random_walks(16, episodes=3, steps=30)
    ref = base * g.lognormal(0.0, 0.5, (3, 1, 1))  # episode-level spread of ±50%
    cand = base[::-1] * g.lognormal(0.0, 0.5, (3, 1, 1))
    with pytest.warns(DegenerateDataWarning) as caught:
        out = compare_embodied(ref, cand, dt=0.05, metrics=["path_length"], rng=0)
    res = out["path_length"]
    assert res.status == "inconclusive", res.reason
    assert "record more episodes (now 3 reference, 3 candidate)" in res.reason
    assert any("reference has only 3 values" in w for w in res.warnings)
    assert all(str(w.message).startswith("path_length: ") for w in caught)


def test_tolerance_and_alpha_change_the_band_and_level():
    ref, cand = random_walks(17), random_walks(18, scale=1.15)
    default = compare_embodied(ref, cand, dt=0.05, metrics=["path_length"], rng=0)
    wide = compare_embodied(
        ref, cand, dt=0.05, metrics=["path_length"], tolerance=0.5, alpha=0.025, rng=0
    )
    assert default["path_length"].status in {"regressed", "inconclusive"}
    assert wide["path_length"].status == "ok"
    assert wide["path_length"].band == pytest.approx((1 / 1.5, 1.5))
    assert wide["path_length"].confidence_level == pytest.approx(0.95)
    assert "(95% CI " in wide["path_length"].reason


def test_stationary_reference_and_moving_candidate():
    still = np.ones((6, 10, 2))
    moving = random_walks(19, episodes=6, steps=10, dim=2)
    with pytest.warns(DegenerateDataWarning):
        out = compare_embodied(still, moving, dt=0.1, rng=0)
    for res in out.values():
        assert res.ratio == math.inf
        assert res.status == "regressed"
        assert "averages 0 over the reference episodes" in res.reason
    with pytest.warns(DegenerateDataWarning):
        same = compare_embodied(still, 2 * still, dt=0.1, metrics="path_length", rng=0)
    assert same["path_length"].status == "ok"
    assert same["path_length"].confidence_interval == (1.0, 1.0)
    assert json.loads(json.dumps(out["jerk_rms"].to_dict()))["ratio"] == "inf"


def test_episode_counts_and_values_are_recorded():
    ref = list(random_walks(20, episodes=7, steps=25))
    cand = [ep[: 10 + i] for i, ep in enumerate(random_walks(21, episodes=9, steps=25))]
    res = compare_embodied(ref, cand, dt=0.1, metrics=["motion_energy"], n_resamples=499, rng=0)
    r = res["motion_energy"]
    assert (r.n_reference, r.n_candidate, r.n_resamples) == (7, 9, 499)
    np.testing.assert_allclose(r.candidate_values, motion_energy(cand, 0.1))
    assert r.reference_mean == pytest.approx(np.mean(motion_energy(ref, 0.1)))
    assert r.ratio == pytest.approx(r.candidate_mean / r.reference_mean)


# --------------------------------------------------------------------------------------------
# comparison: errors, determinism, serialisation


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"tolerance": 0.0}, r"`tolerance` must be a finite number > 0 .*; got 0.0"),
        ({"tolerance": -0.1}, r"`tolerance` must be a finite number > 0"),
        ({"alpha": 0.5}, r"`alpha` must be in \(0, 0.5\) .*; got 0.5"),
        ({"alpha": 0.0}, r"`alpha` must be in \(0, 1\); got 0.0"),
        ({"metrics": ["jerk"]}, r"`metrics` must be among .*; got unknown \['jerk'\]"),
        ({"metrics": []}, r"`metrics` must name at least one metric"),
        ({"n_resamples": 0}, r"`n_resamples` must be an integer >= 1; got 0"),
        ({"dt": 0.0}, r"`dt` must be a finite number > 0"),
        ({"reference_episodes": np.zeros((1, 10, 3))}, r"`reference_episodes` must hold at"),
        ({"candidate_episodes": np.zeros((10, 3))}, r"`candidate_episodes` .* add the episode"),
        ({"candidate_episodes": np.zeros((4, 10, 2))}, r"same dimension d; got 3 and 2"),
        ({"candidate_episodes": np.zeros((4, 3, 3))}, r"`candidate_episodes`: episode 0 has 3"),
    ],
)
def test_compare_bad_input(kwargs, pattern):
    args = {
        "reference_episodes": random_walks(0, episodes=4, steps=10),
        "candidate_episodes": random_walks(1, episodes=4, steps=10),
        "dt": 0.1,
        "n_resamples": 99,
        "rng": 0,
    }
    args.update(kwargs)
    with pytest.raises(ParityInputError, match=pattern) as info:
        compare_embodied(**args)
    assert "\n" not in str(info.value)


def test_same_seed_same_results_and_one_generator_for_all_metrics():
    ref, cand = random_walks(22, episodes=12), random_walks(23, episodes=15)
    a = compare_embodied(ref, cand, dt=0.05, n_resamples=999, rng=7)
    b = compare_embodied(ref, cand, dt=0.05, n_resamples=999, rng=np.random.default_rng(7))
    c = compare_embodied(ref, cand, dt=0.05, n_resamples=999, rng=8)
    assert a == b
    dumps = {k: json.dumps(v.to_dict()) for k, v in a.items()}
    assert dumps == {k: json.dumps(v.to_dict()) for k, v in b.items()}
    assert a["jerk_rms"].confidence_interval != c["jerk_rms"].confidence_interval
    # one generator serves the metrics in order: the second metric's resamples follow the first
    only_second = compare_embodied(
        ref, cand, dt=0.05, metrics=["motion_energy"], n_resamples=999, rng=7
    )
    assert only_second["motion_energy"].ratio == a["motion_energy"].ratio
    assert (
        only_second["motion_energy"].confidence_interval != a["motion_energy"].confidence_interval
    )


def test_to_dict_json_round_trip():
    ref, cand = random_walks(24, episodes=10), random_walks(25, episodes=10)
    out = compare_embodied(ref, cand, dt=0.05, n_resamples=499, rng=0)
    for res in out.values():
        data = res.to_dict()
        assert json.loads(json.dumps(data)) == data
        assert data["status"] in {"ok", "regressed", "changed", "inconclusive"}
        assert isinstance(data["reason"], str) and data["reason"].endswith(".")
        assert len(data["reference_values"]) == 10
