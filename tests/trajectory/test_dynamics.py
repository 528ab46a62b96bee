"""Tests of parity.trajectory.dynamics: recurrence quantification, loops, stalls, drift,
divergence and constraint on synthetic trajectories with known answers, short trajectories
included (real agent runs have 10-20 steps)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parity.errors import ParityInputError
from parity.trajectory import (
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

DIM = 64


def random_states(seed: int, n: int, dim: int = DIM) -> np.ndarray:
    """``n`` independent Gaussian states: pairwise cosines near 0 (|cos| < 0.6 here)."""
    return np.random.default_rng(seed).normal(size=(n, dim))


def with_loop(seed: int, start: int, period: int, total: int) -> np.ndarray:
    """Random steps until ``start``, then a cycle of ``period`` random states to ``total``."""
    head = random_states(seed, start)
    cycle = random_states(seed + 1000, period)
    return np.vstack([head, cycle[np.arange(total - start) % period]])


def with_stall(seed: int, start: int, length: int, total: int) -> np.ndarray:
    """Random steps with one state held for ``length`` steps from ``start``."""
    x = random_states(seed, total)
    x[start : start + length] = x[start]
    return x


# --------------------------------------------------------------------------------------------
# loops


def test_period_3_loop_from_step_15_is_found_with_its_period():
    x = with_loop(0, start=15, period=3, total=30)
    res = find_loop(x)
    assert (res.found, res.start, res.period, res.span, res.repeats) == (True, 15, 3, 15, 5.0)


@pytest.mark.parametrize(("start", "period", "total"), [(2, 1, 12), (4, 2, 14), (3, 4, 20)])
def test_loops_of_other_periods_and_starts(start, period, total):
    res = find_loop(with_loop(1, start, period, total))
    assert (res.found, res.start, res.period) == (True, start, period)


def test_smallest_period_is_reported():
    # a period-2 cycle is also periodic with period 4 and 6
    res = find_loop(with_loop(2, start=5, period=2, total=20))
    assert res.period == 2


def test_loop_needs_three_passes_and_four_steps():
    # two passes of a period-3 cycle: not a loop
    assert not find_loop(with_loop(3, start=14, period=3, total=20)).found
    # three passes: a loop
    assert find_loop(with_loop(3, start=11, period=3, total=20)).found
    # three identical final steps (period 1) are a stall, not yet a loop
    x = random_states(4, 12)
    x[-3:] = x[-3]
    assert not find_loop(x).found
    x[-4:] = x[-4]
    assert find_loop(x).period == 1


def test_stall_in_the_middle_is_no_loop():
    x = with_stall(5, start=4, length=6, total=16)
    assert not find_loop(x).found
    assert longest_stall(x) == 6


def test_random_trajectory_has_no_loop():
    assert not find_loop(random_states(6, 20)).found


def test_loop_tolerates_near_repeats_above_the_threshold():
    x = with_loop(7, start=5, period=2, total=17)
    noisy = x + 0.05 * np.random.default_rng(8).normal(size=x.shape)
    assert find_loop(noisy).period == 2
    assert not find_loop(noisy, threshold=0.99999).found


# --------------------------------------------------------------------------------------------
# recurrence quantification


def test_stall_raises_laminarity_not_determinism():
    base = rqa(random_states(10, 20))
    stalled = rqa(with_stall(10, start=6, length=6, total=20))
    assert base.laminarity == 0.0
    assert stalled.laminarity == pytest.approx(1 - 2 / 30)  # 2 of the block's 30 points isolated
    assert stalled.determinism == base.determinism == 0.0
    assert stalled.n_segments == 20 - 5


def test_cycle_raises_determinism_not_laminarity():
    res = rqa(with_loop(11, start=5, period=3, total=20))
    assert res.determinism > 0.95
    assert res.laminarity == 0.0


def test_random_walk_has_near_zero_determinism():
    walk = np.cumsum(np.random.default_rng(12).normal(size=(30, DIM)), axis=0)
    assert rqa(walk).determinism < 0.05
    assert rqa(random_states(13, 30)).determinism == 0.0


def test_rqa_hand_computed():
    # A B A B C: recurrent pairs (0,2), (1,3) and symmetric = 4 of 20 points
    x = np.eye(3)[[0, 1, 0, 1, 2]]
    res = rqa(x)
    assert res.recurrence_rate == pytest.approx(4 / 20)
    # (0,2)-(1,3) is one diagonal line of length 2 (and its mirror): determinism 1
    assert res.determinism == 1.0
    # no two vertically adjacent recurrent points
    assert res.laminarity == 0.0
    assert (res.threshold, res.l_min, res.n_steps) == (0.9, 2, 5)


def test_main_diagonal_is_excluded():
    r = recurrence_matrix(np.eye(4))
    assert not r.any()
    assert rqa(np.eye(4)).recurrence_rate == 0.0


def test_l_min_three_drops_short_lines():
    x = np.eye(3)[[0, 1, 0, 1, 2]]
    assert rqa(x, l_min=3).determinism == 0.0


@pytest.mark.parametrize("t", [0, 1])
def test_rqa_of_zero_or_one_step_is_nan(t):
    res = rqa(np.ones((t, 3)))
    assert math.isnan(res.recurrence_rate) and math.isnan(res.determinism)
    assert math.isnan(res.laminarity)


@pytest.mark.parametrize("t", [2, 3, 4, 5, 8])
def test_short_trajectories_give_finite_bounded_values(t):
    x = random_states(20 + t, t)
    res = rqa(x)
    for v in (res.recurrence_rate, res.determinism, res.laminarity):
        assert 0.0 <= v <= 1.0
    d = drift(x)
    assert np.isfinite([d.step_distance, d.late_drift, d.straightness]).all()
    assert not find_loop(x).found
    assert longest_stall(x) == 1


# --------------------------------------------------------------------------------------------
# drift


def test_drift_of_a_straight_path_and_of_a_stall():
    # unit states moving along a great circle in equal steps: straightness < 1 (chords)
    angles = np.linspace(0, np.pi / 2, 5)
    arc = np.column_stack([np.cos(angles), np.sin(angles)])
    d = drift(arc)
    assert d.straightness == pytest.approx(math.sqrt(2) / (4 * 2 * math.sin(np.pi / 16)))
    assert d.window == 2
    assert d.late_drift == pytest.approx(
        (np.linalg.norm(arc[3] - arc[0]) + np.linalg.norm(arc[4] - arc[0])) / 2
    )
    still = drift(np.ones((5, 3)))
    assert still.step_distance == 0.0 and math.isnan(still.straightness)


def test_drift_is_scale_free():
    x = random_states(30, 10)
    a, b = drift(x), drift(7.5 * x)
    assert a.step_distance == pytest.approx(b.step_distance)
    assert a.straightness == pytest.approx(b.straightness)


# --------------------------------------------------------------------------------------------
# between trajectories


def test_identical_runs_have_constraint_one_and_no_divergence():
    x = random_states(40, 15)
    assert constraint_index([x, x.copy(), x * 3.0]) == pytest.approx(1.0, abs=1e-12)
    res = divergence_rate(x, x.copy())
    assert res.rate == 0.0
    assert np.all(res.log_distance == math.log(1e-3))


def test_diverging_runs_have_positive_rate():
    a = random_states(41, 12)
    b = a.copy()
    g = np.random.default_rng(42)
    for t in range(12):  # exponentially growing perturbation
        b[t] = a[t] + 1e-3 * np.exp(0.6 * t) * g.normal(size=DIM) / math.sqrt(DIM)
    res = divergence_rate(a, b)
    assert 0.3 < res.rate < 0.8
    assert res.n_aligned == 12


def test_divergence_aligns_by_step_and_cuts_to_the_shorter_run():
    a, b = random_states(43, 10), random_states(44, 6)
    res = divergence_rate(a, b)
    assert res.n_aligned == 6 and res.log_distance.shape == (6,)
    assert math.isnan(divergence_rate(a[:2], b[:2]).rate)


def test_constraint_index_of_unrelated_runs_is_small():
    runs = [np.eye(30)[10 * i : 10 * i + 10] for i in range(3)]  # mutually orthogonal steps
    assert constraint_index(runs) == 0.0


def test_trajectory_similarity_counts_missing_steps_as_zero():
    x = random_states(60, 8)
    assert trajectory_similarity(x, x[:6]) == pytest.approx(6 / 8)
    assert trajectory_similarity(np.zeros((0, 3)), np.zeros((0, 3))) == 1.0
    assert math.isnan(constraint_index([x]))


# --------------------------------------------------------------------------------------------
# entropy, similarity, inputs


def test_action_entropy():
    assert action_entropy(["a", "b", "c", "d"]) == 2.0
    assert action_entropy(["a"] * 5) == 0.0
    assert math.isnan(action_entropy([]))


def test_zero_rows_are_similar_to_each_other_only():
    s = similarity_matrix([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
    assert s.tolist() == [[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: rqa(np.ones(5)), r"`states` must be 2-D"),
        (lambda: rqa([[1.0, np.nan]]), r"`states` must be finite"),
        (lambda: find_loop(np.eye(3), threshold=1.5), r"`threshold` must be a cosine"),
        (lambda: rqa(np.eye(3), l_min=1), r"`l_min` must be an integer >= 2"),
        (lambda: divergence_rate(np.eye(3), np.eye(4)), r"same number of features"),
        (lambda: divergence_rate(np.eye(3), np.eye(3), epsilon=0), r"`epsilon` must be"),
    ],
)
def test_bad_inputs_raise_one_line_errors(call, match):
    with pytest.raises(ParityInputError, match=match):
        call()


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 25))
def test_rqa_properties(seed, t):
    g = np.random.default_rng(seed)
    x = g.integers(0, 4, size=t)  # 4 distinct states: many recurrences
    states = np.eye(4)[x]
    res = rqa(states)
    for v in (res.recurrence_rate, res.determinism, res.laminarity):
        assert 0.0 <= v <= 1.0
    # invariant to scaling the states
    assert rqa(3.0 * states) == res
    loop = find_loop(states)
    if loop.found:
        tail = x[loop.start :]
        assert np.all(tail[loop.period :] == tail[: -loop.period])
