"""Tests of parity.verdict (compare, decide, ParityVerdict) and of the Markdown summary."""

from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import pytest

import parity
from parity._format import number
from parity.errors import DegenerateDataWarning, ExitCode, ParityInputError
from parity.io import round_floats
from parity.report.markdown import verdict_markdown
from parity.stats.permutation import StatisticResult, TwoSampleTestResult
from parity.trajectory.embodied import EmbodiedResult
from parity.verdict import ParityVerdict, array_summary, compare, decide

B = 199  # permutations where the permutation count is not the point
NB = 999  # bootstrap resamples of the embodied CIs, likewise


# --------------------------------------------------------------------------------------------
# helpers


def samples(seed: int, n: int = 200, d: int = 2, shift: float = 0.0):
    """Reference and candidate action samples: N(0, I) and N(shift, I), n × d each."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(n, d)) + shift


def walks(rng: np.random.Generator, episodes: int, t: int = 50, d: int = 2) -> np.ndarray:
    """Random-walk rollouts, episodes × t × d."""
    return np.cumsum(rng.normal(size=(episodes, t, d)), axis=1)


def strict_loads(text: str):
    """json.loads that refuses NaN / Infinity (strict JSON)."""

    def refuse(name: str):
        raise ValueError(f"non-strict JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def pfmt(p: float) -> str:
    """How reasons print a p-value."""
    return f"{p:.3g}"


def assert_plain_sentences(reasons) -> None:
    assert isinstance(reasons, tuple)
    assert reasons, "a verdict always has at least one reason"
    for r in reasons:
        assert isinstance(r, str)
        assert len(r) > 20
        assert r == r.strip()
        assert "\n" not in r
        assert "nan" not in r.lower().split()
        assert not re.search(r"\[/?(bold|red|green|yellow)", r), "no rich markup in reasons"


# --------------------------------------------------------------------------------------------
# compare(): the three verdicts


def test_pass_on_same_distribution():
    ref, cand = samples(0)
    v = compare(ref, cand, n_resamples=B, rng=0)
    assert isinstance(v, ParityVerdict)
    assert v.verdict == "pass"
    assert v.exit_code == ExitCode.PASS == 0
    assert v.family_pvalue >= v.alpha == 0.05
    assert v.family_pvalue == v.two_sample.pvalue
    assert v.embodied == {}
    assert_plain_sentences(v.reasons)
    assert len(v.reasons) == 1
    assert "no statistic detects a difference" in v.reasons[0]
    assert f"family p = {pfmt(v.family_pvalue)}" in v.reasons[0]
    assert "n = 200 vs 200" in v.reasons[0]
    assert f"{B} permutations" in v.reasons[0]


def test_fail_on_clear_shift():
    ref, cand = samples(0, shift=1.0)
    v = compare(ref, cand, n_resamples=B, rng=0)
    assert v.verdict == "fail"
    assert v.exit_code == ExitCode.FAIL == 1
    # B random permutations: the smallest p-value is 1 / (B + 1), never 0
    assert v.family_pvalue == pytest.approx(1 / (B + 1))
    assert_plain_sentences(v.reasons)
    family = [r for r in v.reasons if "family test" in r]
    assert len(family) == 1
    assert f"p = {pfmt(v.family_pvalue)} < 0.05" in family[0]
    # one sentence per statistic that rejects, with its own p-value
    for name, r in v.two_sample.results.items():
        assert r.pvalue < 0.05, name
    per_stat = [r for r in v.reasons if "differs" in r]
    assert len(per_stat) == len(v.two_sample.results) == 3
    for reason, r in zip(per_stat, v.two_sample.results.values(), strict=True):
        assert f"p = {pfmt(r.pvalue)}" in reason


def test_single_statistic_settings_and_record():
    ref, cand = samples(0, shift=1.0)
    v = compare(ref, cand, statistics=("energy",), n_resamples=B, rng=0)
    assert v.verdict == "fail"
    assert list(v.two_sample.results) == ["energy"]
    assert v.settings["statistics"] == ["energy"]
    assert v.settings["n_resamples"] == B
    assert v.settings["min_samples"] == 20
    assert v.to_dict()["settings"]["standardize"] is True


def test_inconclusive_below_min_samples():
    ref, cand = samples(100, n=10)
    v = compare(ref, cand, n_resamples=B, rng=0)
    assert v.two_sample.pvalue >= 0.05
    # the permutations could have rejected: only the sample size is the problem
    assert v.two_sample.min_attainable_pvalue <= 0.05
    assert v.verdict == "inconclusive"
    assert v.exit_code == ExitCode.INCONCLUSIVE == 3
    assert_plain_sentences(v.reasons)
    unsure = [r for r in v.reasons if r.startswith("too little data")]
    assert len(unsure) == 1
    assert "10 reference and 10 candidate" in unsure[0]
    assert "at least 20" in unsure[0]
    # the non-rejection is still reported, with its p-value
    assert any(f"family p = {pfmt(v.family_pvalue)}" in r for r in v.reasons)


def test_min_samples_parameter_moves_the_threshold():
    ref, cand = samples(100, n=10)
    # 10 vs 10 samples cannot detect a 0.5σ shift: the sensitivity check is off to isolate
    # min_samples (with it on, this pass is inconclusive; see tests/test_sensitivity.py).
    kwargs = {"n_resamples": B, "rng": 0, "max_detectable_shift": None}
    assert compare(ref, cand, **kwargs, min_samples=10).verdict == "pass"
    assert compare(ref, cand, **kwargs, min_samples=11).verdict == "inconclusive"


def test_rejection_beats_small_sample():
    ref, cand = samples(100, n=10, shift=3.0)
    v = compare(ref, cand, n_resamples=B, rng=0)
    assert v.verdict == "fail"
    assert v.exit_code == 1


def test_inconclusive_when_smallest_attainable_pvalue_exceeds_alpha():
    # 3 vs 3: C(6, 3) = 20 splits, enumerated exactly; with n = m each value appears at least
    # twice (swapping the two groups), so the smallest p-value is 2/20 = 0.1 > 0.05, even for
    # samples that could not be further apart.
    with pytest.warns(DegenerateDataWarning, match="fewer than 5 samples"):
        v = compare([0.0, 1.0, 2.0], [10.0, 11.0, 12.0], n_resamples=B, rng=0, min_samples=2)
    t = v.two_sample
    assert t.exact is True
    assert t.n_resamples == 20
    assert t.min_attainable_pvalue == pytest.approx(0.1)
    assert v.family_pvalue == pytest.approx(0.1)
    assert v.verdict == "inconclusive"
    assert v.exit_code == 3
    assert_plain_sentences(v.reasons)
    unsure = [r for r in v.reasons if r.startswith("too little data")]
    assert len(unsure) == 1, "min_samples=2 is met: only the attainable p-value is the problem"
    assert "20 splits" in unsure[0]
    assert "0.1 ≥ 0.05" in unsure[0]
    assert any("20 splits" in r and "family p = 0.1" in r for r in v.reasons)
    # the degenerate-data warning is recorded in the verdict
    assert any("fewer than 5 samples" in w for w in v.warnings)


def test_min_attainable_equal_to_alpha_is_inconclusive_random_splits():
    ref, cand = samples(1, shift=2.0)
    v = compare(ref, cand, n_resamples=19, rng=0)
    assert v.two_sample.min_attainable_pvalue == pytest.approx(0.05)
    assert v.verdict == "inconclusive"


def test_min_attainable_equal_to_alpha_is_inconclusive_exact():
    with pytest.warns(DegenerateDataWarning):
        v = compare([0.0, 1.0, 2.0], [10.0, 11.0, 12.0], alpha=0.1, n_resamples=B, min_samples=2)
    assert v.two_sample.min_attainable_pvalue == pytest.approx(0.1)
    assert v.verdict == "inconclusive"


# --------------------------------------------------------------------------------------------
# compare(): embodied metrics


def test_fail_when_jerk_regresses_although_actions_match():
    ref, cand = samples(0)
    rng = np.random.default_rng(7)
    ref_eps, cand_eps = walks(rng, 20), 2.0 * walks(rng, 20)
    v = compare(
        ref,
        cand,
        reference_episodes=ref_eps,
        candidate_episodes=cand_eps,
        n_resamples=B,
        n_bootstrap=NB,
        dt=0.1,
        rng=0,
    )
    assert v.family_pvalue >= 0.05, "the action distributions match"
    assert v.verdict == "fail"
    assert v.exit_code == 1
    jerk = v.embodied["jerk_rms"]
    assert jerk.status == "regressed"
    assert jerk.ratio == pytest.approx(2.0, rel=0.1)
    assert jerk.confidence_interval[0] > 1.1
    assert_plain_sentences(v.reasons)
    # the failing embodied reasons come first, with the ratio in them
    assert v.reasons[0] == jerk.reason
    assert v.reasons[0].startswith("jerk_rms rose")
    assert f"{number(jerk.ratio, 3)}×" in v.reasons[0]
    assert any(f"family p = {pfmt(v.family_pvalue)}" in r for r in v.reasons)
    assert set(v.embodied) == {"jerk_rms", "motion_energy", "path_length"}
    assert v.inputs["reference_episodes"]["shape"] == [20, 50, 2]
    assert v.inputs["candidate_episodes"]["shape"] == [20, 50, 2]


def test_only_the_requested_embodied_metric_is_checked():
    ref, cand = samples(0)
    rng = np.random.default_rng(7)
    v = compare(
        ref,
        cand,
        reference_episodes=walks(rng, 20),
        candidate_episodes=2.0 * walks(rng, 20),
        embodied_metrics=["jerk_rms"],
        n_resamples=B,
        n_bootstrap=NB,
    )
    assert list(v.embodied) == ["jerk_rms"]
    assert v.verdict == "fail"


def test_inconclusive_when_embodied_ci_straddles_the_band():
    ref, cand = samples(2)  # a pair the family does not reject (seed 1 does, p = 0.025: chance)
    rng = np.random.default_rng(1)
    # every episode scaled by its own log-normal factor: a wide CI over 8 episodes
    ref_eps = rng.lognormal(0, 0.6, size=(8, 1, 1)) * walks(rng, 8)
    cand_eps = rng.lognormal(0, 0.6, size=(8, 1, 1)) * walks(rng, 8)
    v = compare(
        ref,
        cand,
        reference_episodes=ref_eps,
        candidate_episodes=cand_eps,
        embodied_metrics=("jerk_rms",),
        n_resamples=B,
        n_bootstrap=NB,
        dt=0.1,
        rng=0,
    )
    jerk = v.embodied["jerk_rms"]
    lo, hi = jerk.confidence_interval
    assert lo < jerk.band[1] < hi, "the CI straddles 1 + tol"
    assert jerk.status == "inconclusive"
    assert v.family_pvalue >= 0.05
    assert v.verdict == "inconclusive"
    assert v.exit_code == 3
    assert_plain_sentences(v.reasons)
    assert v.reasons[0] == jerk.reason
    assert f"{number(jerk.ratio, 3)}×" in v.reasons[0]
    assert "8 reference, 8 candidate" in v.reasons[0]


def test_pass_with_matching_embodied_metrics():
    ref, cand = samples(10)
    rng = np.random.default_rng(10)
    v = compare(
        ref,
        cand,
        reference_episodes=walks(rng, 30),
        candidate_episodes=walks(rng, 30),
        n_resamples=B,
        n_bootstrap=NB,
        rng=0,
    )
    assert {r.status for r in v.embodied.values()} == {"ok"}
    assert v.verdict == "pass"
    assert_plain_sentences(v.reasons)
    assert len(v.reasons) == 1 + 3
    for r in v.embodied.values():
        assert r.reason in v.reasons
        assert f"{number(r.ratio, 3)}×" in r.reason


def test_lower_motion_is_a_pass_under_regression_and_unsure_under_equivalence():
    # a candidate that may move a little less: its CIs reach below 1/(1 + tol), not above 1 + tol
    ref, cand = samples(10)
    rng = np.random.default_rng(2)
    ref_eps = rng.lognormal(0, 0.15, size=(12, 1, 1)) * walks(rng, 12)
    cand_eps = 0.96 * rng.lognormal(0, 0.15, size=(12, 1, 1)) * walks(rng, 12)
    options = dict(
        reference_episodes=ref_eps,
        candidate_episodes=cand_eps,
        n_resamples=B,
        n_bootstrap=NB,
        dt=0.1,
        rng=0,
        sensitivity=False,
    )
    gate = compare(ref, cand, **options)
    strict = compare(ref, cand, **options, embodied="equivalence")
    for r in gate.embodied.values():
        assert r.confidence_interval[0] < 1 / 1.1 < r.confidence_interval[1] <= 1.1
    assert gate.settings["embodied"] == "regression"
    assert {r.rule for r in gate.embodied.values()} == {"regression"}
    assert {r.status for r in gate.embodied.values()} == {"ok"}
    assert gate.verdict == "pass"
    assert strict.settings["embodied"] == "equivalence"
    assert json.loads(strict.to_json())["embodied"]["jerk_rms"]["rule"] == "equivalence"
    assert {r.status for r in strict.embodied.values()} == {"inconclusive"}
    assert strict.verdict == "inconclusive"
    assert [r.confidence_interval for r in strict.embodied.values()] == [
        r.confidence_interval for r in gate.embodied.values()
    ]


def test_unknown_embodied_rule_is_refused():
    ref, cand = samples(10)
    with pytest.raises(ParityInputError, match=r"`embodied` rule must be one of"):
        compare(ref, cand, n_resamples=B, embodied="two-sided")


def test_ragged_episode_lists_are_recorded_with_lengths():
    ref, cand = samples(10)
    rng = np.random.default_rng(3)
    ref_eps = [np.cumsum(rng.normal(size=(t, 2)), axis=0) for t in (30, 40, 50, 60, 45, 35)]
    cand_eps = [np.cumsum(rng.normal(size=(t, 2)), axis=0) for t in (50, 50, 40, 30, 35, 55)]
    v = compare(
        ref,
        cand,
        reference_episodes=ref_eps,
        candidate_episodes=cand_eps,
        n_resamples=B,
        n_bootstrap=NB,
    )
    rec = v.inputs["reference_episodes"]
    assert rec["episodes"] == 6
    assert rec["lengths"] == [30, 40, 50, 60, 45, 35]
    assert re.fullmatch(r"[0-9a-f]{64}", rec["sha256"])
    strict_loads(v.to_json())


# --------------------------------------------------------------------------------------------
# the record: JSON, determinism, inputs, version


def _embodied_verdict(seed: int = 0) -> ParityVerdict:
    ref, cand = samples(0)
    rng = np.random.default_rng(7)
    return compare(
        ref,
        cand,
        reference_episodes=walks(rng, 12),
        candidate_episodes=walks(rng, 12),
        n_resamples=B,
        n_bootstrap=NB,
        rng=seed,
    )


def test_to_json_is_strict_and_round_trips():
    v = _embodied_verdict()
    text = v.to_json()
    data = strict_loads(text)
    assert data == round_floats(v.to_dict())  # floats to 12 significant digits
    assert data["verdict"] == v.verdict
    assert data["family_pvalue"] == pytest.approx(v.family_pvalue, rel=1e-11)
    assert set(data["embodied"]) == {"jerk_rms", "motion_energy", "path_length"}
    # the numbers behind the verdict travel with it
    assert len(data["two_sample"]["results"]["energy"]["null_distribution"]) == B
    assert len(data["embodied"]["jerk_rms"]["reference_values"]) == 12
    # compact form is strict too
    assert strict_loads(v.to_json(indent=None)) == data


def test_to_json_strict_with_degenerate_data():
    # constant episodes: jerk 0 in every episode; ratio and CI may be non-finite
    ref, cand = samples(0, n=30)
    flat = np.zeros((6, 20, 2))
    with pytest.warns(DegenerateDataWarning):
        v = compare(
            ref,
            cand,
            reference_episodes=flat,
            candidate_episodes=flat + 1.0,
            n_resamples=B,
            n_bootstrap=NB,
        )
    data = strict_loads(v.to_json())
    assert data["warnings"], "degenerate data is recorded"
    assert_plain_sentences(v.reasons)


def test_same_inputs_and_seed_give_byte_identical_json():
    a = _embodied_verdict(seed=3).to_json()
    b = _embodied_verdict(seed=3).to_json()
    assert a == b
    # and the input's dtype / container does not change the record
    ref, cand = samples(0)
    x = compare(ref, cand, n_resamples=B, rng=5).to_json()
    y = compare(ref.tolist(), cand.tolist(), n_resamples=B, rng=5).to_json()
    assert x == y


def test_different_seed_gives_different_json_and_draws():
    a, b = _embodied_verdict(seed=3), _embodied_verdict(seed=4)
    assert a.to_json() != b.to_json()
    da, db = a.to_dict(), b.to_dict()
    assert da["seed"] == 3 and db["seed"] == 4
    null_a = da["two_sample"]["results"]["energy"]["null_distribution"]
    null_b = db["two_sample"]["results"]["energy"]["null_distribution"]
    assert null_a != null_b, "the permutations depend on the seed"
    ci_a = da["embodied"]["jerk_rms"]["confidence_interval"]
    ci_b = db["embodied"]["jerk_rms"]["confidence_interval"]
    assert ci_a != ci_b, "the bootstrap depends on the seed"
    # the observed statistic does not
    obs = "statistic"
    assert da["two_sample"]["results"]["energy"][obs] == db["two_sample"]["results"]["energy"][obs]


def test_seed_none_is_recorded_as_null():
    ref, cand = samples(0)
    data = strict_loads(compare(ref, cand, n_resamples=B, rng=None).to_json())
    assert data["seed"] is None


def test_inputs_carry_shapes_and_sha256():
    ref, cand = samples(0, n=50, d=3)
    v = compare(ref, cand, n_resamples=B, inputs={"reference": {"path": "ref.npy"}})
    for key, arr in (("reference", ref), ("candidate", cand)):
        rec = v.inputs[key]
        assert rec["shape"] == [50, 3]
        data = np.ascontiguousarray(arr, dtype=np.float64)
        expected = hashlib.sha256(repr(data.shape).encode() + data.tobytes()).hexdigest()
        assert rec["sha256"] == expected
        assert rec == {**array_summary(arr), **({"path": "ref.npy"} if key == "reference" else {})}
    assert v.inputs["reference"]["sha256"] != v.inputs["candidate"]["sha256"]
    # extra provenance is merged, not replacing the hash
    assert v.inputs["reference"]["path"] == "ref.npy"
    # a 1-D input is recorded as n × 1, and its hash changes with the data
    one = compare(ref[:, 0], cand[:, 0], n_resamples=B)
    assert one.inputs["reference"]["shape"] == [50, 1]
    other = compare(ref[:, 0] + 1e-9, cand[:, 0], n_resamples=B)
    assert other.inputs["reference"]["sha256"] != one.inputs["reference"]["sha256"]


def test_version_field():
    ref, cand = samples(0, n=30)
    v = compare(ref, cand, n_resamples=B)
    assert v.version == parity.__version__
    assert strict_loads(v.to_json())["version"] == parity.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", parity.__version__)


def test_verdict_is_frozen():
    ref, cand = samples(0, n=30)
    v = compare(ref, cand, n_resamples=B)
    with pytest.raises((AttributeError, TypeError)):
        v.verdict = "fail"  # type: ignore[misc]


def test_lazy_top_level_names():
    assert parity.compare is compare
    assert parity.ParityVerdict is ParityVerdict
    assert parity.ParityInputError is ParityInputError
    with pytest.raises(AttributeError):
        _ = parity.no_such_name


# --------------------------------------------------------------------------------------------
# compare(): bad input


def _episodes():
    rng = np.random.default_rng(0)
    return walks(rng, 5, t=10)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"alpha": 1.5}, r"`alpha` must be in \(0, 1\); got 1\.5"),
        ({"alpha": 0.0}, r"`alpha`.*got 0\.0"),
        ({"alpha": "x"}, r"`alpha`.*'x'"),
        ({"candidate": np.zeros((50, 3))}, r"`reference` and `candidate`.*got 2 and 3"),
        ({"reference_episodes": "EPS"}, r"reference_episodes"),
        ({"candidate_episodes": "EPS"}, r"candidate_episodes"),
        ({"embodied_metrics": ["jerk_rms", "wobble"]}, r"`embodied_metrics`.*'wobble'"),
        ({"embodied_metrics": "wobble"}, r"`embodied_metrics`.*'wobble'"),
        ({"min_samples": 1}, r"`min_samples`.*got 1"),
        ({"n_resamples": 0}, r"`n_resamples`.*got 0"),
        ({"statistics": ("energy", "t")}, r"statistic"),
        ({"reference": np.array([[0.0, np.nan]] * 3 + [[1.0, 2.0]] * 5)}, r"`reference`.*rows"),
        ({"reference": np.zeros((1, 2))}, r"`reference`.*at least 2"),
    ],
)
def test_bad_input_raises_parity_input_error_naming_the_parameter(kwargs, pattern):
    ref, cand = samples(0, n=50)
    args = {"reference": ref, "candidate": cand, "n_resamples": B}
    for key, value in kwargs.items():
        args[key] = _episodes() if isinstance(value, str) and value == "EPS" else value
    with pytest.raises(ParityInputError, match=pattern) as info:
        compare(**args)
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


def test_embodied_episodes_with_other_dimension_are_refused():
    ref, cand = samples(0, n=50)
    rng = np.random.default_rng(0)
    with pytest.raises(ParityInputError, match="episodes"):
        compare(
            ref,
            cand,
            reference_episodes=walks(rng, 5, d=2),
            candidate_episodes=walks(rng, 5, d=3),
            n_resamples=B,
        )


# --------------------------------------------------------------------------------------------
# decide(): hand-built results


def two_sample_result(
    pvalues: dict[str, float],
    family: float,
    *,
    n: int = 100,
    m: int = 100,
    min_attainable: float = 0.001,
    n_resamples: int = 999,
    exact: bool = False,
) -> TwoSampleTestResult:
    results = {
        name: StatisticResult(
            name=name,
            statistic=0.1,
            pvalue=p,
            null_distribution=np.zeros(3),
            n_resamples=n_resamples,
            method="hand-built",
            parameters={},
        )
        for name, p in pvalues.items()
    }
    return TwoSampleTestResult(
        results=results,
        statistic=min(pvalues.values()),
        pvalue=family,
        n_resamples=n_resamples,
        exact=exact,
        min_attainable_pvalue=min_attainable,
        n_x=n,
        n_y=m,
        dim=2,
        precision="float64",
        tie_rtol=1e-10,
        standardized=True,
        method="hand-built",
    )


def embodied_result(metric: str, status: str, reason: str | None = None) -> EmbodiedResult:
    return EmbodiedResult(
        metric=metric,
        status=status,  # type: ignore[arg-type]
        rule="regression",
        ratio=1.0,
        confidence_interval=(0.9, 1.1),
        confidence_level=0.9,
        tolerance=0.1,
        band=(1 / 1.1, 1.1),
        reference_mean=1.0,
        candidate_mean=1.0,
        n_reference=10,
        n_candidate=10,
        n_resamples=999,
        method="hand-built",
        standard_error=0.05,
        reference_values=(1.0,),
        candidate_values=(1.0,),
        warnings=(),
        reason=reason or f"{metric} is {status} (hand-built sentence).",
    )


NOT_REJECTED = {"mmd": 0.4, "energy": 0.5}


def test_decide_pass():
    verdict, reasons = decide(two_sample_result(NOT_REJECTED, 0.6), {}, 0.05)
    assert verdict == "pass"
    assert len(reasons) == 1
    assert "family p = 0.6 ≥ 0.05" in reasons[0]
    assert "n = 100 vs 100" in reasons[0]
    assert "999 permutations" in reasons[0]


def test_decide_exact_says_splits():
    res = two_sample_result(NOT_REJECTED, 0.6, n_resamples=252, exact=True, min_attainable=0.01)
    _, reasons = decide(res, {}, 0.05)
    assert "252 splits" in reasons[0]


def test_decide_fail_names_only_the_rejecting_statistics():
    res = two_sample_result({"mmd": 0.001, "energy": 0.2, "kl": 0.01}, 0.003)
    verdict, reasons = decide(res, {}, 0.05)
    assert verdict == "fail"
    assert len(reasons) == 3
    assert reasons[0].startswith("MMD² differs (p = 0.001 < 0.05)")
    assert reasons[1].startswith("binned KL differs (p = 0.01 < 0.05)")  # 3 × 0.01 < 0.05
    assert "energy distance" not in " ".join(reasons)
    assert "min-p adjusted p = 0.003 < 0.05" in reasons[2]
    assert "mmd, energy, kl" in reasons[2]


def test_decide_claims_a_statistic_only_after_the_family_adjustment():
    # kl's own p = 0.03 is below α, but its adjusted p may be up to 3 × 0.03: not claimed
    res = two_sample_result({"mmd": 0.001, "energy": 0.2, "kl": 0.03}, 0.003)
    verdict, reasons = decide(res, {}, 0.05)
    assert verdict == "fail" and len(reasons) == 2
    assert reasons[0].startswith("MMD² differs (p = 0.001 < 0.05)")
    assert "binned KL differs" not in " ".join(reasons)
    # a pass whose family p is 0.058 claims no statistic, whatever their unadjusted p-values
    verdict, reasons = decide(two_sample_result({"mmd": 0.043, "energy": 0.045}, 0.058), {}, 0.05)
    assert verdict == "pass" and "differs" not in " ".join(reasons)


def test_decide_respects_alpha():
    res = two_sample_result(NOT_REJECTED, 0.04)
    assert decide(res, {}, 0.05)[0] == "fail"
    assert decide(res, {}, 0.01)[0] == "pass"
    # p equal to alpha does not reject
    assert decide(two_sample_result(NOT_REJECTED, 0.05), {}, 0.05)[0] == "pass"


def test_decide_small_samples():
    res = two_sample_result(NOT_REJECTED, 0.6, n=19, m=40)
    verdict, reasons = decide(res, {}, 0.05)
    assert verdict == "inconclusive"
    assert reasons[0] == (
        "too little data: 19 reference and 40 candidate action samples; a pass needs at least "
        "20 per side"
    )
    assert decide(res, {}, 0.05, min_samples=19)[0] == "pass"


def test_decide_min_attainable_above_alpha():
    res = two_sample_result(NOT_REJECTED, 0.6, min_attainable=0.1, n_resamples=20, exact=True)
    verdict, reasons = decide(res, {}, 0.05)
    assert verdict == "inconclusive"
    assert "smallest p-value these 20 splits can give is 0.1 ≥ 0.05" in reasons[0]


def test_decide_both_unsure_reasons_before_the_note():
    res = two_sample_result(NOT_REJECTED, 0.6, n=3, m=3, min_attainable=0.1, n_resamples=20)
    verdict, reasons = decide(res, {}, 0.05)
    assert verdict == "inconclusive"
    assert [r.startswith("too little data") for r in reasons] == [True, True, False]


def test_decide_min_attainable_equal_to_alpha():
    res = two_sample_result(NOT_REJECTED, 0.6, min_attainable=0.05)
    assert decide(res, {}, 0.05)[0] == "inconclusive"


@pytest.mark.parametrize(
    ("status", "expected"),
    [("ok", "pass"), ("regressed", "fail"), ("inconclusive", "inconclusive"), ("changed", "pass")],
)
def test_decide_embodied_status(status, expected):
    emb = {"jerk_rms": embodied_result("jerk_rms", status)}
    verdict, reasons = decide(two_sample_result(NOT_REJECTED, 0.6), emb, 0.05)
    assert verdict == expected
    assert emb["jerk_rms"].reason in reasons
    if expected != "pass":
        assert reasons[0] == emb["jerk_rms"].reason


def test_decide_fail_lists_failures_then_doubts_then_notes():
    res = two_sample_result({"mmd": 0.001}, 0.001)
    emb = {
        "jerk_rms": embodied_result("jerk_rms", "ok", "jerk ok."),
        "motion_energy": embodied_result("motion_energy", "inconclusive", "energy unsure."),
        "path_length": embodied_result("path_length", "regressed", "path regressed."),
    }
    verdict, reasons = decide(res, emb, 0.05)
    assert verdict == "fail"
    assert reasons[-3:] == ("path regressed.", "energy unsure.", "jerk ok.")
    assert reasons[0].startswith("MMD² differs")


def test_decide_embodied_regression_with_small_samples_is_fail():
    res = two_sample_result(NOT_REJECTED, 0.6, n=5, m=5)
    emb = {"jerk_rms": embodied_result("jerk_rms", "regressed", "jerk regressed.")}
    verdict, reasons = decide(res, emb, 0.05)
    assert verdict == "fail"
    assert reasons[0] == "jerk regressed."
    assert any(r.startswith("too little data") for r in reasons)


# --------------------------------------------------------------------------------------------
# Markdown summary


@pytest.mark.parametrize(
    ("shift", "n", "header"),
    [(0.0, 200, "PASS"), (1.0, 200, "FAIL"), (0.0, 10, "INCONCLUSIVE")],
)
def test_markdown_header_table_and_hashes(shift, n, header):
    ref, cand = samples(100 if n == 10 else 0, n=n, shift=shift)
    v = compare(ref, cand, n_resamples=B, rng=0)
    text = verdict_markdown(v.to_dict())
    lines = text.splitlines()
    assert lines[0] == f"# Parity comparison: {header}"
    assert text.endswith("\n")
    for reason in v.reasons:
        assert f"- {reason}" in lines
    assert "| statistic | value | p-value | method |" in lines
    for label in ("MMD² over", "energy distance |", "binned KL |"):  # the MMD names its kernels
        assert any(line.startswith(f"| {label}") for line in lines)
    assert "## Inputs" in lines
    for key in ("reference", "candidate"):
        assert f"`{v.inputs[key]['sha256']}`" in text
        assert any(line.startswith(f"| {key} | [{n}, 2] |") for line in lines)
    assert f"seed = 0; parity {parity.__version__}." in text
    assert "Embodied" not in text


def test_markdown_embodied_section_and_paths():
    ref, cand = samples(0)
    rng = np.random.default_rng(7)
    v = compare(
        ref,
        cand,
        reference_episodes=walks(rng, 20),
        candidate_episodes=2.0 * walks(rng, 20),
        n_resamples=B,
        n_bootstrap=NB,
        inputs={"reference": {"path": "ref.npy"}},
    )
    text = verdict_markdown(v.to_dict(), title="Arm check")
    lines = text.splitlines()
    assert lines[0] == "# Arm check: FAIL"
    assert "## Embodied metrics (candidate / reference)" in lines
    assert "| metric | ratio | CI | ok when the CI is | status |" in lines
    assert any(line.startswith("Regression rule: a ratio CI above 1 + tol") for line in lines)
    jerk = [line for line in lines if line.startswith("| jerk_rms |")]
    assert len(jerk) == 1 and jerk[0].endswith("| ≤ 1.1 | regressed |")
    assert "| reference (ref.npy) | [200, 2] |" in text
    assert f"`{v.inputs['reference_episodes']['sha256']}`" in text


def test_markdown_lists_warnings():
    with pytest.warns(DegenerateDataWarning):
        v = compare([0.0, 1.0, 2.0], [10.0, 11.0, 12.0], n_resamples=B, min_samples=2)
    text = verdict_markdown(v.to_dict())
    assert text.startswith("# Parity comparison: INCONCLUSIVE\n")
    assert "## Warnings" in text
    assert "fewer than 5 samples" in text


def test_method_names_are_case_insensitive():
    rng = np.random.default_rng(3)
    ref, cand = rng.normal(size=(40, 2)), rng.normal(size=(40, 2)) + 0.3
    opts = {"statistics": ("energy",), "n_resamples": 99, "sensitivity": False}
    lower = compare(ref, cand, method="exact", **opts).to_dict()
    upper = compare(ref, cand, method="EXACT", **opts).to_dict()
    assert upper == lower and lower["settings"]["method"] == "exact"
    with pytest.raises(ParityInputError, match=r"`method` must be one of .*got 'fast'"):
        compare(ref, cand, method="fast", **opts)


def test_rng_takes_an_int_seed_or_a_generator():
    ref, cand = samples(0, n=40)
    opts = {"statistics": ("energy",), "n_resamples": 99, "sensitivity": False}
    by_int = compare(ref, cand, rng=5, **opts)
    assert by_int.seed == 5 and by_int.to_dict()["seed"] == 5
    first = compare(ref, cand, rng=np.random.default_rng(5), **opts)
    again = compare(ref, cand, rng=np.random.default_rng(5), **opts)
    assert first.seed is None and first.to_dict()["seed"] is None
    assert first.to_json() == again.to_json()
    with pytest.raises(ParityInputError, match=r"`rng` must be None, an int seed or a"):
        compare(ref, cand, rng="5", **opts)
