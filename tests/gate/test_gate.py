"""Tests of :mod:`parity.gate`: the metrics and their boundary weights, the threshold gate, the
exact sign-flip test (hand-computed cases and scipy as an oracle), the statistical gate (its
decisions, its calibration under the null, its explanation of too-small sets), the item files
and the append-only decision log (old records included)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parity.errors import DegenerateDataWarning, ExitCode, ParityInputError
from parity.gate import (
    SCHEMA_VERSION,
    GateAction,
    GateItem,
    GateMetric,
    GateRecord,
    GateResult,
    PairedGateResult,
    append_gate_log,
    evaluate_gate,
    evaluate_gate_items,
    evaluate_gate_paired,
    load_gate_items,
    load_gate_log,
    match_items,
    resume_state,
    select_gate_score,
    sign_flip_test,
)

quiet = pytest.mark.filterwarnings("ignore::parity.errors.DegenerateDataWarning")
unit = st.floats(0.0, 1.0, allow_nan=False)

# The worked example of docs/gates.md: 4 items, the same hard count, better partial credit.
INC4 = [(1, 0.90), (0, 0.40), (0, 0.30), (1, 0.90)]
CAND4 = [(1, 0.95), (0, 0.75), (0, 0.60), (1, 0.95)]


def items(rows, prefix="q"):
    return [{"id": f"{prefix}{i}", "hard": h, "soft": s} for i, (h, s) in enumerate(rows)]


def strict_loads(text: str):
    def refuse(name: str):
        raise ValueError(f"non-strict JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


# --------------------------------------------------------------------------------------------
# select_gate_score


class TestSelectGateScore:
    def test_three_metrics(self):
        assert select_gate_score(0.5, 0.8, "hard") == 0.5
        assert select_gate_score(0.5, 0.8, "soft") == 0.8
        assert select_gate_score(0.5, 0.8, "mixed") == pytest.approx(0.65)
        assert select_gate_score(0.5, 0.8, "mixed", mixed_weight=0.3) == pytest.approx(0.59)
        assert select_gate_score(0.5, 0.8, GateMetric.MIXED, 0.25) == pytest.approx(0.575)

    def test_hard_needs_no_soft(self):
        assert select_gate_score(1, None, "hard") == 1.0
        assert select_gate_score(True, None, "hard") == 1.0

    @given(hard=unit, soft=unit)
    def test_boundary_weights_reduce_exactly(self, hard, soft):
        assert select_gate_score(hard, soft, "mixed", mixed_weight=0.0) == hard
        assert select_gate_score(hard, soft, "mixed", mixed_weight=1.0) == soft
        assert select_gate_score(hard, soft, "mixed", mixed_weight=0) == hard
        assert select_gate_score(hard, soft, "mixed", mixed_weight=1) == soft

    @given(hard=unit, soft=unit, w=unit)
    def test_mixed_lies_between(self, hard, soft, w):
        value = select_gate_score(hard, soft, "mixed", mixed_weight=w)
        assert min(hard, soft) - 1e-15 <= value <= max(hard, soft) + 1e-15

    def test_arrays(self):
        hard, soft = np.array([1.0, 0.0, 1.0, 0.0]), np.array([0.9, 0.4, 0.3, 0.0])
        np.testing.assert_array_equal(select_gate_score(hard, soft, "mixed", 0.0), hard)
        np.testing.assert_array_equal(select_gate_score(hard, soft, "mixed", 1.0), soft)
        np.testing.assert_allclose(select_gate_score(hard, soft, "mixed", 0.5), (hard + soft) / 2)
        np.testing.assert_array_equal(select_gate_score(hard, None, "hard"), hard)
        with pytest.raises(ParityInputError, match=r"same shape"):
            select_gate_score([1, 0], [0.5, 0.5, 0.5], "mixed")
        with pytest.raises(ParityInputError, match=r"`soft` must be numbers in \[0, 1\]"):
            select_gate_score([1, 0], [0.5, np.nan], "soft")

    def test_case_insensitive_names(self):
        assert select_gate_score(0.5, 0.8, "SOFT") == 0.8
        assert select_gate_score(0.5, 0.8, " Mixed ", 1.0) == 0.8

    @pytest.mark.parametrize("metric", ["f1", "", "hardd", "soft_f1", "accuracy", None, 3, 0.5])
    def test_unknown_metric_rejected(self, metric):
        with pytest.raises(ParityInputError) as info:
            select_gate_score(0.5, 0.8, metric)
        msg = str(info.value)
        assert msg.startswith("`metric` must be one of 'hard', 'soft', 'mixed'; got ")
        assert repr(metric) in msg and "\n" not in msg

    @pytest.mark.parametrize("metric", ["soft", "mixed"])
    def test_missing_soft(self, metric):
        with pytest.raises(ParityInputError, match=rf"`soft` is required by metric '{metric}'"):
            select_gate_score(0.5, None, metric)
        with pytest.raises(ParityInputError, match=r"`soft` is required"):
            select_gate_score(0.5, None, metric, mixed_weight=0.0)

    @pytest.mark.parametrize("w", [-0.1, 1.0001, math.nan, math.inf, "x", None, True])
    def test_weight_outside_unit_interval(self, w):
        with pytest.raises(ParityInputError, match=r"`mixed_weight` must be a number in \[0, 1\]"):
            select_gate_score(0.5, 0.8, "mixed", mixed_weight=w)
        with pytest.raises(ParityInputError, match=r"`mixed_weight`"):
            select_gate_score(0.5, 0.8, "hard", mixed_weight=w)  # checked for every metric

    @pytest.mark.parametrize(
        ("hard", "soft", "pattern"),
        [
            (1.5, 0.5, r"`hard` must be a number in \[0, 1\]; got 1.5"),
            (math.nan, 0.5, r"`hard` must be a number in \[0, 1\]; got NaN"),
            (0.5, -0.2, r"`soft` must be a number in \[0, 1\]; got -0.2"),
            (0.5, math.nan, r"`soft` .* got NaN"),
            ("1", 0.5, r"`hard` must be a number"),
        ],
    )
    def test_bad_scores(self, hard, soft, pattern):
        with pytest.raises(ParityInputError, match=pattern):
            select_gate_score(hard, soft, "mixed")


# --------------------------------------------------------------------------------------------
# evaluate_gate


class TestEvaluateGate:
    def test_plain_hard_gate(self):
        res = evaluate_gate(0.6, 0.5, 0.55)
        assert res.action is GateAction.ACCEPT_NEW_BEST
        assert (res.metric, res.candidate_score, res.current_score, res.best_score) == (
            GateMetric.HARD,
            0.6,
            0.5,
            0.55,
        )
        assert res.delta_current == pytest.approx(0.1) and res.delta_best == pytest.approx(0.05)
        assert evaluate_gate(0.55, 0.5, 0.6).action is GateAction.ACCEPT
        assert evaluate_gate(0.45, 0.5, 0.6).action is GateAction.REJECT
        assert evaluate_gate(0.6, 0.5).action is GateAction.ACCEPT_NEW_BEST  # best = current

    def test_ties_are_rejected(self):
        res = evaluate_gate(0.5, 0.5, 0.5)
        assert res.action is GateAction.REJECT and "ties are rejected" in res.reasons[-1]
        # a tie with the best but a gain over the current: accept, not a new best
        assert evaluate_gate(0.6, 0.5, 0.6).action is GateAction.ACCEPT
        # rounding of a projected score is not a gain: 0.1 + 0.2 vs 0.3
        res = evaluate_gate(0.0, {"hard": 0.0, "soft": 0.3}, cand_soft=0.1 + 0.2, metric="soft")
        assert res.action is GateAction.REJECT

    def test_min_delta(self):
        assert evaluate_gate(0.6, 0.5, min_delta=0.1).action is GateAction.REJECT  # = margin
        assert evaluate_gate(0.61, 0.5, min_delta=0.1).action is GateAction.ACCEPT_NEW_BEST
        assert evaluate_gate(0.61, 0.5, 0.55, min_delta=0.1).action is GateAction.ACCEPT
        for bad in (-0.01, math.nan, math.inf, "a"):
            with pytest.raises(ParityInputError, match=r"`min_delta` must be a finite number"):
                evaluate_gate(0.6, 0.5, min_delta=bad)

    def test_hard_rejects_soft_and_mixed_accept(self):
        cur = (0.5, 0.625)
        hard = evaluate_gate(0.5, cur, cur, cand_soft=0.8125)
        soft = evaluate_gate(0.5, cur, cur, cand_soft=0.8125, metric="soft")
        mixed = evaluate_gate(0.5, cur, cur, cand_soft=0.8125, metric="mixed", mixed_weight=0.3)
        assert hard.action is GateAction.REJECT
        assert soft.action is mixed.action is GateAction.ACCEPT_NEW_BEST
        assert mixed.candidate_score == pytest.approx(0.7 * 0.5 + 0.3 * 0.8125)
        assert mixed.current_score == pytest.approx(0.7 * 0.5 + 0.3 * 0.625)
        assert (mixed.current_hard, mixed.current_soft) == cur
        assert any("0.7·hard 0.5 + 0.3·soft 0.8125" in r for r in mixed.reasons)

    @pytest.mark.parametrize("metric", ["hard", "soft", "mixed"])
    @pytest.mark.parametrize("w", [0.0, 1.0])
    def test_boundary_weights_match_hard_and_soft(self, metric, w):
        kwargs = {"cand_soft": 0.7}
        mixed = evaluate_gate(
            0.4, (0.5, 0.6), (0.5, 0.65), metric="mixed", mixed_weight=w, **kwargs
        )
        same = evaluate_gate(0.4, (0.5, 0.6), (0.5, 0.65), metric="soft" if w else "hard", **kwargs)
        assert mixed.candidate_score == same.candidate_score
        assert mixed.current_score == same.current_score
        assert mixed.best_score == same.best_score
        assert mixed.action is same.action

    def test_reference_forms(self):
        by_pair = evaluate_gate(0.5, (0.4, 0.6), (0.5, 0.7), cand_soft=0.9, metric="mixed")
        by_map = evaluate_gate(
            0.5,
            {"hard": 0.4, "soft": 0.6},
            {"soft": 0.7, "hard": 0.5},
            cand_soft=0.9,
            metric="mixed",
        )
        by_number = evaluate_gate(0.5, 0.5, 0.6, cand_soft=0.9, metric="mixed")
        assert by_pair.current_score == by_map.current_score == by_number.current_score == 0.5
        assert by_pair.best_score == by_number.best_score == pytest.approx(0.6)
        assert (
            by_number.current_hard is None and "given in the mixed metric" in by_number.reasons[0]
        )
        assert np.array_equal(by_pair.to_dict()["current_score"], by_map.to_dict()["current_score"])
        assert (
            evaluate_gate(0.5, np.array([0.4, 0.6]), cand_soft=0.9, metric="soft").current_score
            == 0.6
        )

    def test_metric_change_on_resume(self):
        """A best kept as (hard, soft) is re-projected; a number in the old metric is not."""
        best = (0.6, 0.5)  # best under hard, poor partial credit
        cur = (0.5, 0.7)
        res = evaluate_gate(0.5, cur, best, cand_soft=0.8, metric="soft")
        assert res.best_score == 0.5 and res.current_score == 0.7
        assert res.action is GateAction.ACCEPT_NEW_BEST
        assert any("below the current" in r for r in res.reasons)
        # a candidate above the projected best but below the current is never a new best
        res = evaluate_gate(0.5, cur, best, cand_soft=0.6, metric="soft")
        assert res.action is GateAction.REJECT

    @pytest.mark.parametrize(
        ("args", "kwargs", "pattern"),
        [
            ((0.5, 0.5), {"metric": "f1"}, r"`metric` must be one of"),
            ((0.5, (0.5, 0.6)), {"metric": "soft"}, r"`cand_soft` is required by metric 'soft'"),
            ((0.5, 0.5), {"cand_soft": 1.2, "metric": "soft"}, r"`cand_soft` must be .* 1.2"),
            ((1.5, 0.5), {}, r"`cand_hard` must be a number in \[0, 1\]; got 1.5"),
            ((0.5, (0.5, None)), {"cand_soft": 0.5, "metric": "mixed"}, r"`current_score` needs"),
            ((0.5, (0.5, 0.6, 0.7)), {}, r"`current_score` as a pair must be \(hard, soft\)"),
            ((0.5, {"soft": 0.5}), {}, r"`current_score` as a mapping needs the key 'hard'"),
            ((0.5, 0.5, "x"), {}, r"`best_score` must be a number .* got str"),
            ((0.5, math.nan), {}, r"`current_score` must be a number in \[0, 1\]; got NaN"),
            ((0.5, 0.5), {"mixed_weight": 2}, r"`mixed_weight` must be .* got 2"),
        ],
    )
    def test_errors(self, args, kwargs, pattern):
        with pytest.raises(ParityInputError, match=pattern) as info:
            evaluate_gate(*args, **kwargs)
        assert "\n" not in str(info.value)

    def test_result_round_trip_and_exit_codes(self):
        res = evaluate_gate(0.5, (0.5, 0.6), (0.5, 0.6), cand_soft=0.9, metric="mixed")
        data = strict_loads(json.dumps(res.to_dict(), allow_nan=False))
        assert data["action"] == "accept_new_best" and data["metric"] == "mixed"
        assert isinstance(data["reasons"], list) and data["reasons"]
        assert GateResult.from_dict(data) == res
        assert res.accepted and res.exit_code is ExitCode.PASS
        assert evaluate_gate(0.1, 0.5).exit_code is ExitCode.FAIL
        with pytest.raises(AttributeError):
            res.action = GateAction.REJECT  # frozen


# --------------------------------------------------------------------------------------------
# the sign-flip test


class TestSignFlip:
    @pytest.mark.parametrize(
        ("d", "p2", "pg", "pl"),
        [
            ([1, 1, 1], 2 / 8, 1 / 8, 1.0),  # the observed signs and their mirror of 8
            ([1, 1, 1, 1], 2 / 16, 1 / 16, 1.0),
            ([1, 1, 1, 1, 1], 2 / 32, 1 / 32, 1.0),
            ([-1, -1, -1, -1, -1, -1], 2 / 64, 1.0, 1 / 64),
            ([1, 2, 3], 2 / 8, 1 / 8, 1.0),  # ±1±2±3 = 6,4,2,0,0,-2,-4,-6
            ([3, 1, 1], 2 / 8, 1 / 8, 1.0),  # ±3±1±1 = 5,3,3,1,-1,-3,-3,-5
            ([2, 1, -1], 6 / 8, 3 / 8, 7 / 8),  # ±2±1±1 = 4,2,2,0,0,-2,-2,-4; T = 2
            ([1, 1, -1], 1.0, 4 / 8, 7 / 8),  # |T*| ≥ 1 always; T* ≥ 1: 4 of 8
            ([0, 0, 1, 1], 2 / 4, 1 / 4, 1.0),  # zeros carry nothing: 2 non-zero
            ([0, 0, 0], 1.0, 1.0, 1.0),
            # ±0.5±0.5 ∈ {1, 0, 0, −1} plus ±0.25±0.25 ∈ {0.5, 0, 0, −0.5}; T = 0.5:
            # 12 of the 16 sums have |T*| ≥ 0.5, 6 have T* ≥ 0.5, 13 have T* ≤ 0.5
            ([0.5, 0.25, 0.25, -0.5], 12 / 16, 6 / 16, 13 / 16),
        ],
    )
    def test_hand_computed(self, d, p2, pg, pl):
        res = sign_flip_test(d)
        assert (res.pvalue, res.pvalue_greater, res.pvalue_less) == (p2, pg, pl)
        assert res.exact and res.n == len(d) and res.statistic == pytest.approx(np.mean(d))

    def test_half_weights_by_enumeration(self):
        """The last hand case, counted by brute force over all 16 sign patterns."""
        d = np.array([0.5, 0.25, 0.25, -0.5])
        sums = [np.dot(s, d) for s in np.array(np.meshgrid(*[[1, -1]] * 4)).T.reshape(-1, 4)]
        assert sum(abs(s) >= abs(d.sum()) for s in sums) == 12

    def test_ties_counted_with_tolerance(self):
        # ±0.1±0.2±0.3 = 0.6, 0.4, 0.2, 0, 0, −0.2, −0.4, −0.6 and T = 0, but in floating point
        # T = 0.1 + 0.2 − 0.3 ≈ 1.9e-17 and its mirror ≈ −1.9e-17: both are ties with T
        d = [0.1, 0.2, -0.3]
        res = sign_flip_test(d)
        assert res.pvalue == 1.0 and res.pvalue_greater == 5 / 8 and res.pvalue_less == 5 / 8
        # the same ties at another scale
        assert sign_flip_test([1e-8, 2e-8, -3e-8]).pvalue == 1.0

    def test_without_tolerance_a_tie_would_be_missed(self, monkeypatch):
        import parity.gate

        monkeypatch.setattr(parity.stats.sign_flip, "TIE_RTOL", 0.0)
        assert sign_flip_test([0.1, 0.2, -0.3]).pvalue_greater == 4 / 8  # (−,−,+) lost

    def test_min_attainable_pvalue(self):
        for n in range(1, 12):
            res = sign_flip_test(np.ones(n))
            assert res.min_attainable_pvalue == min(1.0, 2 / 2**n) == res.pvalue
            assert res.pvalue_greater == 1 / 2**n

    @pytest.mark.parametrize("seed", range(6))
    def test_matches_scipy_permutation_test(self, seed):
        from scipy import stats

        rng = np.random.default_rng(seed)
        n = int(rng.integers(3, 11))
        x, y = rng.integers(0, 5, n) / 4, rng.integers(0, 5, n) / 4

        def mean_diff(a, b, axis=-1):
            return np.mean(a - b, axis=axis)

        res = sign_flip_test(x - y)
        for alt, ours in (
            ("two-sided", res.pvalue),
            ("greater", res.pvalue_greater),
            ("less", res.pvalue_less),
        ):
            ref = stats.permutation_test(
                (x, y),
                mean_diff,
                permutation_type="samples",
                n_resamples=np.inf,
                alternative=alt,
                vectorized=True,
            )
            assert ours == pytest.approx(ref.pvalue, abs=1e-12), alt

    def test_monte_carlo_agrees_with_exact(self):
        rng = np.random.default_rng(3)
        d = rng.normal(0.3, 1.0, 16)
        exact = sign_flip_test(d)
        mc = sign_flip_test(d, max_exact=5, n_resamples=20000, rng=1)
        assert exact.exact and not mc.exact and mc.n_resamples == 20000
        assert "Monte Carlo" in mc.method and "(1 + #)/(1 + B)" in mc.method
        assert mc.pvalue == pytest.approx(exact.pvalue, abs=4 * math.sqrt(0.25 / 20000))
        assert mc.min_attainable_pvalue == pytest.approx(1 / 20001)
        assert sign_flip_test(d, max_exact=5, rng=7) == sign_flip_test(d, max_exact=5, rng=7)

    def test_exact_up_to_twenty_nonzero(self):
        res = sign_flip_test(np.r_[np.ones(20), np.zeros(10)])
        assert res.exact and res.n_resamples == 2**20 and res.pvalue == 2 / 2**20
        assert not sign_flip_test(np.ones(21), rng=0).exact

    @settings(max_examples=40, deadline=None)
    @given(st.lists(st.integers(-3, 3), min_size=1, max_size=9), st.randoms())
    def test_properties(self, values, rnd):
        d = np.array(values, dtype=float) / 3
        res = sign_flip_test(d)
        assert 0 < res.pvalue <= 1 and 0 < res.pvalue_greater <= 1 and 0 < res.pvalue_less <= 1
        assert res.pvalue >= res.min_attainable_pvalue
        shuffled = d.copy()
        rnd.shuffle(shuffled)
        assert sign_flip_test(shuffled).pvalue == res.pvalue
        mirror = sign_flip_test(-d)
        assert (mirror.pvalue, mirror.pvalue_greater) == (res.pvalue, res.pvalue_less)
        if res.statistic != 0:  # symmetric null: two-sided = 2 × the one-sided of T's side
            side = res.pvalue_greater if res.statistic > 0 else res.pvalue_less
            assert res.pvalue == pytest.approx(min(1.0, 2 * side))

    def test_errors(self):
        with pytest.raises(ParityInputError, match=r"`differences` must be a 1-D array"):
            sign_flip_test([])
        with pytest.raises(ParityInputError, match=r"`differences` must be finite; got 1 NaN"):
            sign_flip_test([1.0, np.nan])
        with pytest.raises(ParityInputError, match=r"`n_resamples` must be an integer >= 1"):
            sign_flip_test([1.0] * 30, n_resamples=0)


# --------------------------------------------------------------------------------------------
# evaluate_gate_paired


@quiet
class TestPairedGate:
    def test_four_items_cannot_decide(self):
        res = evaluate_gate_paired(items(CAND4), items(INC4), metric="soft", rng=0)
        assert res.action is GateAction.INCONCLUSIVE and res.exit_code is ExitCode.INCONCLUSIVE
        assert res.pvalue == 2 / 16 and res.pvalue_greater == 1 / 16
        assert res.too_small and res.min_attainable_pvalue == 0.125
        assert res.n_better == 4 and res.statistic == pytest.approx(0.1875)
        text = " ".join(res.reasons)
        assert "4 items are too few to ever decide at α = 0.05" in text
        assert "2/2^4 = 0.125 > 0.05" in text and "1/2^4 = 0.0625" in text
        assert "at least 6 items are needed" in text
        assert res.confidence_interval[0] > 0  # every resample improves: not a reject either
        assert any("only 4 values" in w for w in res.warnings)

    def test_warns_degenerate(self):
        with pytest.warns(DegenerateDataWarning, match=r"paired differences have only 4 values"):
            evaluate_gate_paired(items(CAND4), items(INC4), metric="soft", rng=0)

    def test_items_needed_depends_on_alpha(self):
        cand = items(CAND4 + CAND4[:1])
        inc = items(INC4 + INC4[:1])
        res = evaluate_gate_paired(cand, inc, metric="soft", alpha=0.0625, rng=0)
        assert not res.too_small and res.pvalue == 2 / 32 and res.action is GateAction.ACCEPT
        res = evaluate_gate_paired(cand, inc, metric="soft", alpha=0.05, rng=0)
        assert res.too_small and "(a one-sided test could: 1/2^5 = 0.03125)" in res.reasons[3]

    def test_accepts_a_clear_improvement(self):
        rng = np.random.default_rng(0)
        inc_soft = rng.uniform(0.2, 0.7, 12)
        cand_soft = np.clip(inc_soft + 0.2, 0, 1)
        hard = rng.integers(0, 2, 12)
        res = evaluate_gate_paired(
            items(zip(hard, cand_soft, strict=True)),
            items(zip(hard, inc_soft, strict=True)),
            metric="mixed",
            mixed_weight=0.7,
            rng=0,
        )
        assert res.action is GateAction.ACCEPT and res.pvalue == 2 / 2**12
        assert res.confidence_interval[0] > 0 and res.statistic == pytest.approx(0.14)
        assert res.exact and res.n_resamples == 4096 and not res.too_small

    def test_rejects_a_significantly_worse_candidate(self):
        res = evaluate_gate_paired(
            items([(0, 0.2)] * 8), items([(1, 0.9)] * 8), metric="hard", rng=0
        )
        assert res.action is GateAction.REJECT and res.pvalue == 2 / 2**8
        assert "significantly worse" in res.reasons[-1]

    def test_rejects_when_the_ci_excludes_min_delta(self):
        rng = np.random.default_rng(1)
        inc = rng.uniform(0.2, 0.7, 16)
        cand = inc + 0.02 + rng.normal(0, 0.002, 16)  # real but small
        cand_items = items(zip([1] * 16, cand, strict=True))
        inc_items = items(zip([1] * 16, inc, strict=True))
        small = evaluate_gate_paired(cand_items, inc_items, metric="soft", rng=0)
        assert small.action is GateAction.ACCEPT
        res = evaluate_gate_paired(cand_items, inc_items, metric="soft", min_delta=0.05, rng=0)
        assert res.action is GateAction.REJECT and res.confidence_interval[1] < 0.05
        assert "excludes every improvement above min_delta = 0.05" in res.reasons[-1]
        assert "although the improvement itself is significant" in res.reasons[-1]
        # significant, mean below min_delta, CI reaching above it: not shown, though a better
        # result could be, so reject (exit 1), not inconclusive
        res = evaluate_gate_paired(cand_items, inc_items, metric="soft", min_delta=0.0205, rng=0)
        assert res.confidence_interval[1] > 0.0205 > res.statistic
        assert res.action is GateAction.REJECT and res.exit_code is ExitCode.FAIL
        assert "does not exceed min_delta = 0.0205" in res.reasons[-1]
        assert "no number of items makes an acceptance likely" in res.reasons[-1]
        assert res.items_for_power is None

    def test_identical_items_are_rejected(self):
        res = evaluate_gate_paired(items(INC4 * 3, "a"), items(INC4 * 3, "a")[::-1], rng=0)
        assert res.action is GateAction.REJECT and res.n_nonzero == 0 and res.pvalue == 1.0
        assert res.confidence_interval == (0.0, 0.0)
        assert "the same on all 12 items" in " ".join(res.reasons)

    def test_too_few_differing_items_explained(self):
        rows_c = [(1, 1.0)] * 9 + [(1, 1.0), (1, 1.0), (0, 0.0)]
        rows_i = [(1, 1.0)] * 9 + [(0, 0.0), (0, 0.0), (1, 1.0)]
        res = evaluate_gate_paired(items(rows_c), items(rows_i), rng=0)
        assert not res.too_small and res.n_nonzero == 3
        # more items differing could still give an acceptance: not shown (exit 1), not exit 3
        assert res.action is GateAction.REJECT and res.exit_code is ExitCode.FAIL
        assert "only 3 of the 12 items differ" in " ".join(res.reasons)
        assert res.reasons[-1].startswith("reject: the improvement is not significant")

    def test_not_significant_is_a_reject_with_the_items_that_would_decide(self):
        # 12 items, a modest noisy improvement: a better result on 12 items could be accepted
        rng = np.random.default_rng(3)
        inc = rng.uniform(0.2, 0.7, 12)
        cand = np.clip(inc + 0.03 + rng.normal(0, 0.1, 12), 0, 1)
        res = evaluate_gate_paired(
            items(zip([1] * 12, cand, strict=True)),
            items(zip([1] * 12, inc, strict=True)),
            metric="soft",
            rng=0,
        )
        assert res.pvalue > 0.05 and res.statistic > 0 and not res.too_small
        assert res.action is GateAction.REJECT and res.exit_code is ExitCode.FAIL
        need = res.items_for_power
        assert need is not None and need > 12
        assert f"about {need} items (now 12) would give 80% power to accept it" in res.reasons[-1]

    def test_items_for_power_by_simulation(self):
        # differences N(0.1, 0.2²): at the items said to give 80% power the sign-flip test
        # (two-sided, α = 0.05) with a positive mean accepts about 80% of the time
        from parity.gate import items_for_power

        pilot = np.tile([-1.0, 1.0], 10) * 0.2 * math.sqrt(19 / 20) + 0.1  # sd 0.2 exactly
        n = items_for_power(pilot, alpha=0.05)
        rng = np.random.default_rng(4)
        hits = 0
        for _ in range(300):
            d = rng.normal(0.1, 0.2, n)
            test = sign_flip_test(d, n_resamples=999, max_exact=12, rng=rng)
            hits += test.pvalue <= 0.05 and d.mean() > 0
        assert 0.8 - 0.08 <= hits / 300 <= 0.8 + 0.12
        assert items_for_power(pilot[:2] * 0 + 0.1, alpha=0.05) == 6  # no spread: 2/2^n ≤ α

    def test_matching_by_id_and_order(self):
        cand = items(CAND4)
        inc = items(INC4)[::-1]
        a = evaluate_gate_paired(cand, inc, metric="soft", rng=0)
        b = evaluate_gate_paired(cand, items(INC4), metric="soft", rng=0)
        assert a == b and a.ids == ("q0", "q1", "q2", "q3")

    @pytest.mark.parametrize(
        ("cand", "inc", "kwargs", "pattern"),
        [
            (items(CAND4), items(INC4)[:3], {}, r"only in candidate_items: 'q3'"),
            (items(CAND4), items(INC4, "p"), {}, r"only in candidate_items: 'q0', 'q1'.*"),
            (
                items(CAND4) + items(CAND4[:1]),
                items(INC4),
                {},
                r"`candidate_items`: item ids must be unique; duplicated: 'q0'",
            ),
            (
                [{"id": "a", "hard": 1, "soft": math.nan}, {"id": "b", "hard": 1}],
                [{"id": "a", "hard": 1}, {"id": "b", "hard": 1}],
                {},
                r"`candidate_items` item 0 \(id 'a'\): `soft` must be a number in \[0, 1\]; "
                r"got NaN",
            ),
            (
                [{"id": "a", "hard": 1, "soft": 0.5}, {"id": "b", "hard": 1}],
                [{"id": "a", "hard": 1, "soft": 0.5}, {"id": "b", "hard": 1, "soft": 0.5}],
                {"metric": "mixed"},
                r"`soft` is required by metric 'mixed'; the candidate has no `soft` for 1 .*'b'",
            ),
            ([{"id": "a", "hard": 2}], [{"id": "a", "hard": 1}], {}, r"id 'a'\): `hard` .* 2"),
            (
                [{"id": "a", "hard": 1}],
                [{"id": "a", "hard": 1}],
                {},
                r"needs at least 2 items on both sides; got 1",
            ),
            ([{"hard": 1}], [{"id": "a", "hard": 1}], {}, r"item 0: missing field `id`"),
            (items(CAND4), items(INC4), {"alpha": 1.5}, r"`alpha` must be in \(0, 1\); got 1.5"),
            (items(CAND4), items(INC4), {"alpha": 0.5}, r"`alpha` must be in \(0, 0.5\)"),
            (items(CAND4), items(INC4), {"metric": "f1"}, r"`metric` must be one of"),
            ("nope.jsonl", items(INC4), {}, r"nope.jsonl: file not found"),
        ],
    )
    def test_errors(self, cand, inc, kwargs, pattern):
        with pytest.raises(ParityInputError, match=pattern) as info:
            evaluate_gate_paired(cand, inc, rng=0, **kwargs)
        assert "\n" not in str(info.value)

    def test_item_forms(self):
        by_map = evaluate_gate_paired({"a": (1, 0.5), "b": 0}, {"b": 1, "a": {"hard": 0}}, rng=0)
        by_seq = evaluate_gate_paired([(1, 0.5), 0], [0, 1], rng=0)
        by_obj = evaluate_gate_paired(
            [GateItem("a", 1.0), GateItem("b", 0.0)],
            [GateItem("a", 0.0), GateItem("b", 1.0)],
            rng=0,
        )
        assert by_map.differences == by_seq.differences == by_obj.differences == (1.0, -1.0)
        assert by_seq.ids == ("0", "1")

    def test_round_trip_and_determinism(self):
        kwargs = {"metric": "mixed", "mixed_weight": 0.3, "rng": 5}
        res = evaluate_gate_paired(items(CAND4 * 2), items(INC4 * 2), **kwargs)
        again = evaluate_gate_paired(items(CAND4 * 2), items(INC4 * 2), **kwargs)
        assert res == again
        data = strict_loads(json.dumps(res.to_dict(), allow_nan=False))
        assert data["action"] == res.action.value and data["metric"] == "mixed"
        assert data["reasons"] and data["method"].startswith("exact sign-flip")
        assert PairedGateResult.from_dict(data) == res

    def test_monte_carlo_above_max_exact(self):
        rng = np.random.default_rng(2)
        inc = rng.uniform(0, 0.8, 30)
        res = evaluate_gate_paired(
            items(zip([0] * 30, inc + 0.15, strict=True)),
            items(zip([0] * 30, inc, strict=True)),
            metric="soft",
            rng=0,
            n_bootstrap=999,
        )
        assert not res.exact and res.n_resamples == 9999 and res.pvalue == 1 / 10000
        assert res.action is GateAction.ACCEPT
        few = evaluate_gate_paired(
            items(zip([0] * 30, inc + 0.15, strict=True)),
            items(zip([0] * 30, inc, strict=True)),
            metric="soft",
            rng=0,
            n_resamples=9,
            n_bootstrap=99,
        )
        assert few.too_small and few.min_attainable_pvalue == 0.1
        assert few.action is GateAction.INCONCLUSIVE
        assert "with 9 random sign patterns the smallest attainable p-value is 1/(1 + 9)" in (
            " ".join(few.reasons)
        )


def _null_replicate(rng: np.random.Generator, n: int) -> tuple[list, list]:
    """Candidate and incumbent exchangeable on each item: the same item-level distribution."""
    difficulty = rng.uniform(0.1, 0.9, n)
    rows = []
    for _ in range(2):
        hard = (rng.random(n) < difficulty).astype(float)
        soft = np.clip(0.6 * hard + 0.4 * rng.beta(2, 2, n) * difficulty, 0, 1)
        rows.append(items(zip(hard, soft, strict=True)))
    return rows[0], rows[1]


@quiet
@pytest.mark.parametrize("metric", ["hard", "mixed"])
def test_calibration_under_the_null(metric):
    """Accept at most α of the time (in fact ≤ α/2) when the candidate is no better."""
    from scipy import stats

    alpha, n, reps = 0.05, 12, 400
    rng = np.random.default_rng(12345)
    accepted = significant = 0
    for _ in range(reps):
        cand, inc = _null_replicate(rng, n)
        res = evaluate_gate_paired(cand, inc, metric=metric, alpha=alpha, rng=rng, n_bootstrap=499)
        accepted += res.action is GateAction.ACCEPT
        significant += res.pvalue <= alpha
    # a one-sided 99% binomial bound on the count for a true rate of α
    bound = stats.binom.ppf(0.99, reps, alpha)
    assert accepted <= bound, (accepted, bound)
    assert significant <= bound, (significant, bound)


@quiet
def test_power_against_a_real_improvement():
    rng = np.random.default_rng(7)
    accepted = 0
    for _ in range(60):
        base = rng.uniform(0.2, 0.7, 12)
        cand = np.clip(base + rng.normal(0.15, 0.1, 12), 0, 1)
        res = evaluate_gate_paired(
            items(zip([0] * 12, cand, strict=True)),
            items(zip([0] * 12, base, strict=True)),
            metric="soft",
            rng=rng,
            n_bootstrap=499,
        )
        accepted += res.accepted
    assert accepted >= 50


# --------------------------------------------------------------------------------------------
# the paired gate's decision table


def _documented_action(res) -> GateAction:
    """The decision of the docstring, in its order, from the numbers of a result."""
    significant, t, hi = res.pvalue <= res.alpha, res.statistic, res.confidence_interval[1]
    if significant and t < 0:
        return GateAction.REJECT
    if hi <= res.min_delta + 1e-12:
        return GateAction.REJECT
    if significant and t > res.min_delta + 1e-12:
        return GateAction.ACCEPT
    if res.too_small:
        return GateAction.INCONCLUSIVE
    return GateAction.REJECT


@quiet
def test_decision_table_matches_the_documented_order_on_random_item_sets():
    from parity.gate.paired import PAIRED_RULES

    assert [rule for rule, _ in PAIRED_RULES] == [
        "worse", "no_worthwhile_gain", "improved", "too_small", "not_shown",
    ]  # fmt: skip
    rng = np.random.default_rng(2024)
    seen = set()
    for _ in range(120):
        n = int(rng.integers(2, 14))
        base = rng.uniform(0, 1, n)
        cand = np.clip(base + rng.normal(rng.uniform(-0.3, 0.3), 0.15, n), 0, 1)
        md = float(rng.choice([0.0, 0.05, 0.2]))
        res = evaluate_gate_paired(
            items(zip([0] * n, cand, strict=True)),
            items(zip([0] * n, base, strict=True)),
            metric="soft",
            min_delta=md,
            rng=rng,
            n_bootstrap=199,
        )
        assert res.action is _documented_action(res)
        assert res.reasons[-1].startswith(res.action.value + ":")
        seen.add(res.action)
    assert seen == {GateAction.ACCEPT, GateAction.REJECT, GateAction.INCONCLUSIVE}


def test_paired_rule_takes_the_first_condition_that_holds():
    from parity.gate.paired import PAIRED_RULES, paired_rule

    names = [rule for rule, _ in PAIRED_RULES]
    for mask in range(2 ** (len(names) - 1)):
        conditions = {name: bool(mask >> i & 1) for i, name in enumerate(names[:-1])}
        conditions["not_shown"] = True
        expected = next(name for name in names if conditions[name])
        assert paired_rule(conditions) == expected


# --------------------------------------------------------------------------------------------
# the threshold gate on items


class TestEvaluateGateItems:
    def test_equals_the_threshold_gate_on_the_means(self):
        rng = np.random.default_rng(3)
        for metric in ("hard", "soft", "mixed"):
            c = rng.uniform(0, 1, (7, 2)).round(3)
            i = rng.uniform(0, 1, (7, 2)).round(3)
            c[:, 0], i[:, 0] = c[:, 0] > 0.5, i[:, 0] > 0.4
            got = evaluate_gate_items(
                items(c.tolist()), items(i.tolist()), metric=metric, mixed_weight=0.3
            )
            inc = (math.fsum(i[:, 0]) / 7, math.fsum(i[:, 1]) / 7)
            want = evaluate_gate(
                math.fsum(c[:, 0]) / 7,
                inc,
                inc,
                cand_soft=math.fsum(c[:, 1]) / 7,
                metric=metric,
                mixed_weight=0.3,
            )
            assert got == want

    def test_items_are_matched_by_id_and_best_is_passed_on(self):
        cand = {"a": (1, 0.9), "b": (0, 0.2)}
        inc = {"b": (0, 0.1), "a": (1, 0.5)}  # another order
        res = evaluate_gate_items(cand, inc, (0.5, 0.9), metric="soft")
        assert res.current_soft == pytest.approx(0.3) and res.best_soft == 0.9
        assert res.action is GateAction.ACCEPT  # 0.55 beats 0.3, not 0.9

    def test_missing_soft_names_the_side_and_the_ids(self):
        cand = [{"id": "a", "hard": 1, "soft": 0.5}, {"id": "b", "hard": 0}]
        inc = [{"id": "a", "hard": 1, "soft": 0.5}, {"id": "b", "hard": 0, "soft": 0.1}]
        assert evaluate_gate_items(cand, inc).candidate_soft is None  # hard needs no soft
        with pytest.raises(ParityInputError, match=r"the candidate has no `soft` for 1 .*'b'"):
            evaluate_gate_items(cand, inc, metric="mixed")
        with pytest.raises(ParityInputError, match=r"^`soft` is required .*; mine has no"):
            evaluate_gate_items(inc, cand, metric="soft", labels=("yours", "mine"))


# --------------------------------------------------------------------------------------------
# item files


class TestItemFiles:
    def write(self, tmp_path, text, name="items.jsonl"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    def test_load(self, tmp_path):
        path = self.write(
            tmp_path,
            '{"id": "a", "hard": 1, "soft": 0.5, "question": "?"}\n\n'
            '{"id": 7, "hard": false, "soft": null}\n{"id": "c", "hard": 0.5}\n',
        )
        assert load_gate_items(path) == [
            GateItem("a", 1.0, 0.5),
            GateItem("7", 0.0, None),
            GateItem("c", 0.5, None),
        ]

    @pytest.mark.parametrize(
        ("text", "pattern"),
        [
            ('{"id": "a", "hard": 1}\n{"id": "b", "hard": 1,}\n', r"line 2 is not valid JSON"),
            ('{"id": "a", "hard": 1}\n[1, 2]\n', r"line 2: expected an object .*; got a list"),
            ('{"hard": 1}\n', r"line 1: missing field `id`"),
            ('{"id": "a"}\n', r"line 1 \(id 'a'\): missing field `hard`"),
            ('{"id": "a", "hard": NaN}\n', r"line 1 \(id 'a'\): `hard` .* got NaN"),
            ('{"id": "a", "hard": 1, "soft": 1.2}\n', r"line 1 \(id 'a'\): `soft` .* got 1.2"),
            ('{"id": "a", "hard": "yes"}\n', r"`hard` must be a number in \[0, 1\]; got 'yes'"),
            ('{"id": 1.5, "hard": 1}\n', r"line 1: `id` must be a non-empty string or an integer"),
            ('{"id": "a", "hard": 1}\n{"id": "a", "hard": 0}\n', r"duplicated: 'a'"),
            ("\n\n", r"no items; expected one JSON object per line"),
        ],
    )
    def test_errors_name_file_line_and_field(self, tmp_path, text, pattern):
        path = self.write(tmp_path, text)
        with pytest.raises(ParityInputError, match=pattern) as info:
            load_gate_items(path)
        assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)

    def test_missing_file(self, tmp_path):
        with pytest.raises(ParityInputError, match=r"missing.jsonl: file not found"):
            load_gate_items(tmp_path / "missing.jsonl")

    def test_mismatch_names_the_ids(self):
        with pytest.raises(ParityInputError) as info:
            match_items({"a": 1, "b": 1, "c": 1}, {"a": 1, "d": 1}, names=("c.jsonl", "i.jsonl"))
        assert str(info.value) == (
            "items must match by `id`: only in c.jsonl: 'b', 'c'; only in i.jsonl: 'd'"
        )


# --------------------------------------------------------------------------------------------
# the decision log


class TestLog:
    def test_append_and_load(self, tmp_path):
        log = tmp_path / "sub" / "gates.jsonl"
        first = evaluate_gate(0.5, (0.4, 0.6), cand_soft=0.7, metric="mixed", mixed_weight=0.3)
        append_gate_log(log, first)
        paired = evaluate_gate_paired(items(CAND4 * 2), items(INC4 * 2), metric="soft", rng=0)
        append_gate_log(log, paired, extra={"candidate": "prompt-v3"})
        recs = load_gate_log(log)
        assert [r.step for r in recs] == [0, 1]
        assert recs[0].gate == "threshold" and recs[1].gate == "paired"
        assert recs[0].metric is GateMetric.MIXED and recs[0].mixed_weight == 0.3
        assert (recs[0].candidate_hard, recs[0].candidate_soft) == (0.5, 0.7)
        assert (recs[0].current_hard, recs[0].current_soft) == (0.4, 0.6)
        assert recs[0].pvalue is None and recs[1].pvalue == paired.pvalue
        assert recs[1].confidence_interval == paired.confidence_interval
        assert recs[1].extra == {"candidate": "prompt-v3"} and recs[1].time
        for line in log.read_text().splitlines():
            data = strict_loads(line)
            assert data["schema"] == SCHEMA_VERSION and "action" in data

    def test_extra_must_not_shadow_fields(self, tmp_path):
        with pytest.raises(ParityInputError, match=r"`extra` keys must not shadow .*'step'"):
            append_gate_log(tmp_path / "g.jsonl", evaluate_gate(0.6, 0.5), extra={"step": 3})
        assert not (tmp_path / "g.jsonl").exists()

    def test_append_never_rewrites(self, tmp_path):
        log = tmp_path / "gates.jsonl"
        append_gate_log(log, evaluate_gate(0.6, 0.5), timestamp=False)
        before = log.read_bytes()
        append_gate_log(log, evaluate_gate(0.4, 0.6), step=10, timestamp=False)
        after = log.read_bytes()
        assert after.startswith(before) and after.count(b"\n") == 2
        assert [r.step for r in load_gate_log(log)] == [0, 10]

    def test_interrupted_line_gets_its_own_line(self, tmp_path):
        log = tmp_path / "gates.jsonl"
        log.write_text('{"action": "reject", "step": 0}\n{"action": "acc')
        append_gate_log(log, evaluate_gate(0.6, 0.5), timestamp=False)
        lines = log.read_text().splitlines()
        assert lines[1] == '{"action": "acc' and strict_loads(lines[2])["step"] == 2
        with pytest.raises(ParityInputError, match=r"gates.jsonl: line 2 is not valid JSON"):
            load_gate_log(log)

    def test_old_records_load(self, tmp_path):
        """Records of older versions (no schema, no soft scores, no gate, no p-value) load."""
        log = tmp_path / "old.jsonl"
        old = [
            {"step": 0, "candidate_score": 0.6, "current_score": 0.5, "best_score": 0.5,
             "action": "accept_new_best"},
            {"step": 1, "metric": "hard", "candidate_score": 0.55, "current_score": 0.6,
             "best_score": 0.6, "action": "reject"},
            {"action": "accept", "metric": "soft", "candidate_score": 0.7, "current_score": 0.5},
        ]  # fmt: skip
        log.write_text("".join(json.dumps(r) + "\n" for r in old))
        recs = load_gate_log(log)
        assert [r.schema for r in recs] == [0, 0, 0]
        assert recs[0].metric is GateMetric.HARD and recs[0].mixed_weight == 0.5
        assert recs[0].candidate_hard == 0.6 and recs[0].candidate_soft is None
        assert recs[0].gate == "threshold" and recs[0].pvalue is None and recs[0].time is None
        assert recs[2].candidate_hard is None and recs[2].candidate_score == 0.7
        assert recs[2].step is None
        state = resume_state(recs[:2])
        assert state.current == (0.6, None) and state.best == (0.6, None)
        assert state.next_step == 2
        # appending a new record after old ones keeps them byte for byte
        before = log.read_bytes()
        append_gate_log(log, evaluate_gate(0.7, state.current, state.best), timestamp=False)
        assert log.read_bytes().startswith(before) and len(load_gate_log(log)) == 4

    def test_unknown_fields_are_kept(self):
        data = {"schema": 9, "action": "reject", "future_field": [1, 2], "extra": {"k": "v"}}
        rec = GateRecord.from_dict(data)
        assert rec.schema == 9 and rec.extra == {"k": "v", "future_field": [1, 2]}
        out = rec.to_dict()
        assert out["future_field"] == [1, 2] and out["k"] == "v"
        assert GateRecord.from_dict(json.loads(json.dumps(out))) == rec

    @pytest.mark.parametrize(
        ("data", "pattern"),
        [
            ({"step": 1}, r"rec: missing field `action`"),
            ({"action": "keep"}, r"rec: `action` must be one of 'accept_new_best', "),
            ({"action": "reject", "metric": "f1"}, r"rec: `metric` must be one of"),
            ([1], r"rec: expected a JSON object; got a list"),
        ],
    )
    def test_bad_records(self, data, pattern):
        with pytest.raises(ParityInputError, match=pattern):
            GateRecord.from_dict(data, where="rec")

    def test_round_trip(self):
        res = evaluate_gate(0.5, (0.4, 0.6), (0.5, 0.6), cand_soft=0.9, metric="soft")
        rec = GateRecord.from_result(res, step=4, time="2024-01-01T00:00:00+00:00")
        assert GateRecord.from_dict(strict_loads(json.dumps(rec.to_dict()))) == rec

    def test_metric_change_on_resume_is_non_destructive(self, tmp_path):
        log = tmp_path / "gates.jsonl"
        # steps under the hard metric: a candidate with more exact matches, less partial credit
        s0 = evaluate_gate(0.6, (0.5, 0.8), cand_soft=0.55)
        append_gate_log(log, s0)
        s1 = evaluate_gate(0.6, (0.6, 0.55), cand_soft=0.9)  # hard tie → reject
        append_gate_log(log, s1)
        state = resume_state(log)
        assert (state.current, state.best, state.metric) == ((0.6, 0.55), (0.6, 0.55), "hard")
        # resume under soft: the same candidate is now a clear new best
        res = evaluate_gate(0.6, state.current, state.best, cand_soft=0.9, metric="soft")
        assert res.action is GateAction.ACCEPT_NEW_BEST and res.current_score == 0.55
        append_gate_log(log, res)
        state = resume_state(log)
        assert state.current == state.best == (0.6, 0.9) and state.next_step == 3

    @quiet
    def test_resume_with_paired_records(self):
        paired = evaluate_gate_paired(
            items([(1, 0.9)] * 8), items([(0, 0.1)] * 8), metric="hard", rng=0
        )
        assert paired.action is GateAction.ACCEPT
        state = resume_state([GateRecord.from_result(paired, step=0)])
        assert state.current == state.best == (1.0, 0.9)
