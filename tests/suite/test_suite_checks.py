"""Tests of ``parity.suite.checks``: judge() on constructed run records.

Coverage, validity and the shortcut checks, the Holm family of per-task tests, the aggregates'
joint bootstrap (on the Atari 100k per-run scores of rliable), stability across reruns and
halves, component matching, the verdict's exit codes and its reasons.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps

from parity.errors import ParityInputError
from parity.stats import holm, same_seed_matches_test, tost
from parity.suite.checks import (
    EMPTY_SHA256,
    check_components,
    check_coverage,
    check_equivalence,
    check_stability,
    check_validity,
    judge,
    load_samples_npz,
)
from parity.suite.manifest import parse_manifest
from parity.suite.records import RunKey, RunRecord

SYSTEMS = ("reference", "candidate")
# ../shared beside the repository (as in CI and on the developers' machines)
ATARI = Path(
    os.environ.get(
        "PARITY_ATARI100K",
        Path(__file__).resolve().parents[3] / "shared" / "rliable_atari100k",
    )
)


def make_manifest(**changes):
    spec = {
        "name": "toy",
        "tasks": ["a", "b"],
        "seeds": list(range(10)),
        "systems": {"reference": {"command": "r {out}"}, "candidate": {"command": "c {out}"}},
        "metrics": {"return": {"margin": {"relative": 0.05}}},
    }
    spec.update(changes)
    return parse_manifest(spec)


def make_runs(manifest, value, *, reruns=None, files=None, status=None, **extra):
    """One ok run per expected key; ``value(system, task, seed, rerun)`` gives its metrics."""
    out = []
    for key in manifest.expected_keys():
        if reruns is not None and key.rerun not in reruns:
            continue
        metrics = value(key.system, key.task, key.seed, key.rerun)
        out.append(
            RunRecord(
                key,
                (status or {}).get(key, "ok"),
                metrics,
                files=(files(key) if files else {}),
                **extra,
            )
        )
    return out


def normal_value(mean_shift=None, sd=1.0, metric="return"):
    """Metrics drawn from N(100, sd), seeded by the key; the candidate's mean times ``shift``."""

    def value(system, task, seed, rerun):
        g = np.random.default_rng([SYSTEMS.index(system), ord(task[0]), seed, rerun])
        factor = 1.0 if system == "reference" or mean_shift is None else mean_shift(task, rerun)
        return {metric: float(100.0 * factor + g.normal(0.0, sd))}

    return value


def assert_strict_json(obj):
    def refuse(name):
        raise ValueError(name)

    json.loads(json.dumps(obj, allow_nan=False), parse_constant=refuse)


# --------------------------------------------------------------------------------------------
# a passing suite, and the three kinds of failure that are not about the metrics


def test_passing_suite_has_every_flag_set():
    m = make_manifest()
    v = judge(m, make_runs(m, normal_value()))
    assert (v.verdict, v.exit_code, v.parity_pass_final) == ("pass", 0, True)
    assert v.parity_pass_all_metrics and v.validity_pass and v.missing_pairs == 0
    assert v.component_match_pass is None and v.components is None
    assert v.reasons == ("all 2 per-task tests show equivalence (Holm-adjusted p ≤ α = 0.05).",)
    assert_strict_json(v.to_dict())


def test_missing_pair_fails_the_final_verdict_and_is_named():
    m = make_manifest()
    runs = make_runs(m, normal_value())
    gone = RunKey("candidate", "b", 3, 0)
    failed = RunKey("reference", "a", 7, 0)
    runs = [r for r in runs if r.key != gone]
    runs = [
        RunRecord(r.key, "failed", {}, exit_code=2, stderr_tail="boom\nKeyError: 'x'\n")
        if r.key == failed
        else r
        for r in runs
    ]
    v = judge(m, runs)
    assert not v.parity_pass_final and v.verdict == "fail" and v.exit_code == 1
    assert v.missing_pairs == 2 and v.coverage.expected == 40 and v.coverage.present == 38
    labels = [(x.label, x.status) for x in v.coverage.missing]
    assert labels == [
        ("candidate/b/seed=3/rerun=0", "absent"),
        ("reference/a/seed=7/rerun=0", "failed"),
    ]
    assert v.coverage.failed_runs[0].detail == (
        "failed with exit code 2 after 1 attempt: KeyError: 'x'"
    )
    assert v.reasons[0] == (
        "2 of 40 expected runs are missing: candidate/b/seed=3/rerun=0 (absent), "
        "reference/a/seed=7/rerun=0 (failed)."
    )
    # the metrics themselves still pass on the 9 seeds left
    assert v.parity_pass_all_metrics


def test_unexpected_runs_are_counted_and_ignored():
    m = make_manifest()
    runs = make_runs(m, normal_value())
    runs.append(RunRecord(RunKey("candidate", "zzz", 0), "ok", {"return": 1.0}))
    cov = check_coverage(m, runs)
    assert cov.coverage_pass and cov.unexpected_runs == 1


def test_invalid_run_fails_with_the_rule_named():
    m = make_manifest(validity={"bounds": ["steps >= 100000"]})

    def value(system, task, seed, rerun):
        out = normal_value()(system, task, seed, rerun)
        out["steps"] = 5_000 if (system, task, seed) == ("candidate", "a", 4) else 100_000 + seed
        return out

    v = judge(m, make_runs(m, value))
    assert not v.parity_pass_final and not v.validity_pass and v.exit_code == 1
    (f,) = v.validity.findings
    assert (f.check, f.rule, f.system, f.task, f.seed, f.rerun) == (
        "bound",
        "steps >= 100000",
        "candidate",
        "a",
        4,
        0,
    )
    assert "candidate/a/seed=4/rerun=0: steps = 5000 breaks `steps >= 100000`" in v.reasons[1]


def test_required_metrics_present_and_finite():
    m = make_manifest(
        metrics={"return": {"margin": {"relative": 0.05}}, "len": {"margin": {"absolute": 1}}}
    )

    def value(system, task, seed, rerun):
        out = {"return": 100.0 + seed, "len": 10.0 + seed}
        if (system, task, seed) == ("candidate", "a", 0):
            del out["len"]
        if (system, task, seed) == ("candidate", "a", 1):
            out["return"] = float("nan")
        if (system, task, seed) == ("candidate", "a", 2):
            out["return"] = "12"
        return out

    res = check_validity(m, make_runs(m, value))
    got = [(f.check, f.seed, f.message) for f in res.findings]
    assert got == [
        ("required_metric", 0, "candidate/a/seed=0/rerun=0: required metric `len` is missing"),
        (
            "required_metric",
            1,
            "candidate/a/seed=1/rerun=0: required metric `return` is nan, not a finite number",
        ),
        (
            "required_metric",
            2,
            "candidate/a/seed=2/rerun=0: required metric `return` is '12', not a finite number",
        ),
    ]
    # only `len` required: the bad `return` values pass validity (and are left out of the tests)
    m2 = make_manifest(
        metrics={"return": {"margin": {"relative": 0.05}}, "len": {"margin": {"absolute": 1}}},
        validity={"required_metrics": ["len"]},
    )
    res2 = check_validity(m2, make_runs(m2, value))
    assert [f.seed for f in res2.findings] == [0]
    eq = check_equivalence(m2, make_runs(m2, value))
    assert eq.tests[0].n_candidate == 8  # two of candidate/a's returns are not numbers


def _digest(text):
    return hashlib.sha256(text.encode()).hexdigest()


def test_copied_result_files_beyond_chance_are_shortcuts():
    """3 of 50 seeds copied on a task with continuous metrics: P = 47!/50! by chance."""
    m = make_manifest(seeds=list(range(50)))
    copied = {("b", 5), ("b", 17), ("b", 40)}

    def files(key):
        source = "reference" if (key.task, key.seed) in copied else key.system
        return {"metrics.json": _digest(f"{source}-{key.task}-{key.seed}"), "log.txt": EMPTY_SHA256}

    v = judge(m, make_runs(m, normal_value(), files=files))
    assert not v.parity_pass_final and v.parity_pass_all_metrics
    assert [(f.check, f.system, f.task, f.seed) for f in v.validity.findings] == [
        ("identical_file", "candidate", "b", s) for s in (5, 17, 40)
    ]
    assert "`metrics.json` is byte-identical" in v.validity.findings[0].message
    assert any("identical_file" in r for r in v.reasons)
    tests = {(c.task, c.file): c for c in v.validity.file_coincidences}
    assert set(tests) == {("a", "metrics.json"), ("b", "metrics.json")}  # empty files skipped
    b = tests["b", "metrics.json"]
    assert (b.matches, b.matched_seeds, b.cross_matches, b.chance_rate) == (3, (5, 17, 40), 0, 0)
    assert b.pvalue == pytest.approx(1 / (50 * 49 * 48), rel=1e-12)
    # task a has no coincidence at all: it cannot reach α and stays out of the Holm family
    a = tests["a", "metrics.json"]
    assert (a.matches, a.min_pvalue, a.adjusted_pvalue, a.flagged) == (0, 1.0, None, False)
    assert b.adjusted_pvalue == pytest.approx(b.pvalue) and b.flagged and b.decidable
    assert v.validity.warnings == ()
    # quick mode does not run the shortcut checks (nor does shortcut_checks: false)
    for quick in (
        make_manifest(mode="quick", seeds=list(range(50))),
        make_manifest(validity={"shortcut_checks": False}, seeds=list(range(50))),
    ):
        res = judge(quick, make_runs(quick, normal_value(), files=files)).validity
        assert res.validity_pass and res.file_coincidences == ()


def test_one_copy_among_few_seeds_is_a_note_not_a_finding():
    """One same-seed match among 10 seeds: a random pairing gives one with p = 1/10."""
    m = make_manifest()

    def files(key):
        source = "reference" if (key.task, key.seed) == ("b", 5) else key.system
        return {"metrics.json": _digest(f"{source}-{key.task}-{key.seed}")}

    res = check_validity(m, make_runs(m, normal_value(), files=files))
    assert res.validity_pass and not res.findings
    (b,) = [c for c in res.file_coincidences if c.task == "b"]
    # one coincidence among distinct results: no pairing could give p ≤ α, so not in the family
    assert (b.matches, b.pvalue, b.min_pvalue, b.adjusted_pvalue) == (1, 0.1, 0.1, None)
    assert not b.flagged and b.decidable  # a copy of all 10 would be: 1/10! ≤ α
    (note,) = res.warnings
    assert note.startswith(
        "identical_file on b: 1 of 10 seeds have a candidate `metrics.json` byte-identical to "
        "the reference's, no more than chance explains:"
    )
    assert note.endswith(
        "cross-seed pairs (0); results neither system reports on another seed match on 1 "
        "seeds against 0.1 expected from their 0 cross-seed matches: p = 0.1 (it cannot reach "
        "α = 0.05 whatever the pairing); not evidence of copying."
    )


def _small_integer_suite(n=50):
    """Task `zero`: every run of both systems scores 0 (a game neither agent ever scores in);
    task `freeway`: independent Poisson(25) scores (Freeway-like small integers); task `alien`:
    continuous scores. Result files are the metrics as JSON, so equal scores give equal files."""
    m = make_manifest(
        tasks=["zero", "freeway", "alien"],
        seeds=list(range(n)),
        metrics={"score": {"margin": {"absolute": 1.0}}},
    )

    def value(system, task, seed, rerun):
        g = np.random.default_rng([SYSTEMS.index(system), len(task), seed])
        score = {
            "zero": 0.0,
            "freeway": float(g.poisson(25)),
            "alien": float(g.normal(800, 100)),
        }[task]
        return {"score": score}

    def files(key):
        return {"metrics.json": _digest(json.dumps(value(key.system, key.task, key.seed, 0)))}

    return m, make_runs(m, value, files=files)


def test_chance_coincidences_of_small_integer_scores_are_notes_not_findings():
    m, runs = _small_integer_suite()
    res = check_validity(m, runs)
    assert res.validity_pass and res.findings == ()
    tests = {c.task: c for c in res.file_coincidences}
    zero, freeway, alien = tests["zero"], tests["freeway"], tests["alien"]
    # every run scores 0: all 50 seeds match, as do all 2,450 cross-seed pairs
    assert (zero.matches, zero.cross_matches, zero.chance_rate) == (50, 2450, 1.0)
    assert (zero.pvalue, zero.min_pvalue, zero.full_copy_pvalue) == (1.0, 1.0, 1.0)
    assert not zero.flagged and not zero.decidable and zero.adjusted_pvalue is None
    # Poisson(25): about 8 % of independent pairs coincide, and so do the same-seed pairs
    assert 0.04 < freeway.chance_rate < 0.12 and freeway.matches >= 1
    # the test leaves out the scores a system gets on several seeds: few are left
    assert freeway.tested_matches <= freeway.matches
    assert freeway.expected == pytest.approx(
        (freeway.tested_matches + freeway.tested_cross_matches) / 50
    )
    assert freeway.pvalue > 0.05 and not freeway.flagged and freeway.decidable
    assert alien.matches == alien.cross_matches == 0
    notes = "\n".join(res.warnings)
    assert "identical_file on zero: 50 of 50 seeds have a candidate `metrics.json`" in notes
    assert "in 2450 of 2450 cross-seed pairs (1)" in notes
    assert "identical_file: copies of `metrics.json` cannot be told from chance on zero:" in notes
    assert f"identical_file on freeway: {freeway.matches} of 50 seeds" in notes
    # both systems always score 0 on `zero`: identical across seeds, as chance gives
    seeds = [c for c in res.seed_coincidences if c.all_identical]
    assert [(c.system, c.task, c.pvalue, c.flagged) for c in seeds] == [
        ("candidate", "zero", 1.0, False),
        ("reference", "zero", 1.0, False),
    ]
    assert "identical_across_seeds on zero: all 50 seeds of candidate (rerun 0)" in notes
    assert "the reference reports the same on 50 of 50 seeds" in notes
    # a copy of 3 continuous results in the same suite is still flagged
    copied = [
        dataclasses.replace(
            r,
            files=next(
                q for q in runs if q.key == dataclasses.replace(r.key, system="reference")
            ).files,
        )
        if r.key.system == "candidate" and r.key.task == "alien" and r.key.seed < 3
        else r
        for r in runs
    ]
    res = check_validity(m, copied)
    assert [(f.check, f.task, f.seed) for f in res.findings] == [
        ("identical_file", "alien", s) for s in range(3)
    ]


def test_copies_are_found_across_reruns_and_in_ingested_results_files():
    """Each candidate rerun is tested against each reference rerun; a results file read alone
    (`official/{task}_{seed}.json`) is the run's metrics.json."""
    m = make_manifest(seeds=list(range(20)), reruns=2)

    def files(key):
        if key.system == "candidate" and key.rerun == 1 and key.task == "a" and key.seed < 3:
            return {"metrics.json": _digest(f"reference-a-{key.seed}-0")}
        return {"metrics.json": _digest(f"{key.system}-{key.task}-{key.seed}-{key.rerun}")}

    res = check_validity(m, make_runs(m, normal_value(), files=files))
    assert [(f.task, f.seed, f.rerun) for f in res.findings] == [("a", s, 1) for s in range(3)]
    assert all("(rerun 0)" in f.message for f in res.findings)
    assert len(res.file_coincidences) == 2 * 2 * 2  # tasks × candidate reruns × reference reruns
    ingested = [
        dataclasses.replace(
            r,
            files={f"{r.key.task}_{r.key.seed}.json": r.files["metrics.json"]},
            source="ingest",
        )
        if r.key.system == "reference"
        else r
        for r in make_runs(m, normal_value(), files=files)
    ]
    res2 = check_validity(m, ingested)
    assert [(f.task, f.seed, f.rerun) for f in res2.findings] == [("a", s, 1) for s in range(3)]


def test_atari_disjoint_runs_have_no_copy_finding():
    """DrQ(ε) runs 0–49 against runs 50–99: 13 same-seed scores coincide by chance (Asterix 1,
    Freeway 3, PrivateEye 9), as many as the cross-seed pairs predict: no finding."""
    games, _, scores = _atari()
    x = scores("DrQ(eps)")
    m = make_manifest(
        tasks=games, seeds=list(range(50)), metrics={"score": {"margin": {"relative": 0.1}}}
    )

    def value(system, task, seed, rerun):
        return {"score": float(x[seed + (50 if system == "candidate" else 0), games.index(task)])}

    def files(key):
        return {"metrics.json": _digest(json.dumps(value(key.system, key.task, key.seed, 0)))}

    res = check_validity(m, make_runs(m, value, files=files))
    assert res.validity_pass and res.findings == ()
    same = {c.task: c.matches for c in res.file_coincidences if c.matches}
    assert same == {"Asterix": 1, "Freeway": 3, "PrivateEye": 9}
    rates = {c.task: c.chance_rate for c in res.file_coincidences}
    assert rates["Freeway"] == pytest.approx(169 / 2450) and rates["PrivateEye"] == pytest.approx(
        391 / 2450
    )
    assert all(not c.flagged and c.decidable for c in res.file_coincidences)
    assert len(res.warnings) == 3
    # DrQ against DrQ(ε), runs 0–49 of each: each scores 0 on Freeway in 10 runs, and 6 of
    # those share the run index (the seed steers both agents to fail), 2 expected by chance.
    # Scores a system repeats are left out of the test: no finding.
    y = scores("DrQ")

    def value2(system, task, seed, rerun):
        return {"score": float((y if system == "candidate" else x)[seed, games.index(task)])}

    def files2(key):
        return {"metrics.json": _digest(json.dumps(value2(key.system, key.task, key.seed, 0)))}

    res = check_validity(m, make_runs(m, value2, files=files2))
    assert res.validity_pass
    freeway = next(c for c in res.file_coincidences if c.task == "Freeway")
    assert (freeway.matches, freeway.cross_matches, freeway.tested_matches) == (6, 94, 0)
    assert freeway.pvalue == 1.0 and not freeway.flagged
    everything = same_seed_matches_test(
        [_digest(json.dumps({"score": float(v)})) for v in y[:50, games.index("Freeway")]],
        [_digest(json.dumps({"score": float(v)})) for v in x[:50, games.index("Freeway")]],
    )
    assert everything.pvalue < 0.01  # counted whole, the seed-linked zeros look like copies


def test_constant_and_nonfinite_samples_are_shortcuts(tmp_path):
    m = make_manifest()
    arrays = {}
    g = np.random.default_rng(0)
    for key in m.expected_keys():
        arrays[key] = {"actions": g.normal(size=(20, 2))}
    arrays[RunKey("candidate", "a", 1, 0)] = {"actions": np.zeros((20, 2))}
    bad = g.normal(size=(20, 2))
    bad[3, 1] = np.nan
    bad[4, 0] = np.inf
    arrays[RunKey("candidate", "b", 2, 0)] = {"actions": bad}
    res = check_validity(m, make_runs(m, normal_value()), load_arrays=lambda r: arrays[r.key])
    got = [(f.check, f.task, f.seed, f.message) for f in res.findings]
    assert got == [
        (
            "constant_samples",
            "a",
            1,
            "candidate/a/seed=1/rerun=0: samples.npz array `actions` is constant (40 values all "
            "equal 0)",
        ),
        (
            "nonfinite_samples",
            "b",
            2,
            "candidate/b/seed=2/rerun=0: samples.npz array `actions` has 2 NaN/inf of 40 values",
        ),
    ]


def test_samples_npz_is_read_from_the_run_folder_and_checked_against_its_hash(tmp_path):
    import hashlib

    folder = tmp_path / "runs" / "x"
    folder.mkdir(parents=True)
    np.savez(folder / "samples.npz", a=np.arange(4.0))
    digest = hashlib.sha256((folder / "samples.npz").read_bytes()).hexdigest()
    run = RunRecord(
        RunKey("candidate", "a", 0), "ok", files={"samples.npz": digest}, out_dir="runs/x"
    )
    assert load_samples_npz(run, root=tmp_path)["a"].tolist() == [0, 1, 2, 3]
    assert load_samples_npz(RunRecord(RunKey("candidate", "a", 0), "ok")) is None
    np.savez(folder / "samples.npz", a=np.arange(5.0))  # changed after the run
    with pytest.raises(ParityInputError, match=r"differs from the .* recorded with the run"):
        load_samples_npz(run, root=tmp_path)
    m = make_manifest(tasks=["a"], seeds=[0, 1])
    runs = [
        RunRecord(
            k, "ok", {"return": 1.0 + k.seed}, files={"samples.npz": digest}, out_dir="runs/x"
        )
        for k in m.expected_keys()
    ]
    res = check_validity(m, runs, root=tmp_path)
    unreadable = [f for f in res.findings if f.check == "samples_unreadable"]
    assert len(unreadable) == 4  # every run points at the changed file
    assert "recorded with the run (changed after the run)" in unreadable[0].message


# --------------------------------------------------------------------------------------------
# the Holm family


def test_holm_adjustment_turns_raw_passes_into_failures():
    """Four tasks, each with a TOST p-value of 0.03: every raw test passes, no Holm-adjusted one."""
    n = 12
    base = np.linspace(90.0, 110.0, n)
    se = np.std(base, ddof=1) * math.sqrt(2.0 / n)
    margin = se * sps.t.ppf(1 - 0.03, 2 * n - 2)  # TOST p = 0.03 at a zero difference
    tasks = ["t0", "t1", "t2", "t3"]
    m = make_manifest(
        tasks=tasks,
        seeds=list(range(n)),
        metrics={"return": {"margin": {"absolute": float(margin)}}},
        validity={"shortcut_checks": False},
    )
    runs = make_runs(m, lambda s, t, seed, r: {"return": float(base[seed] + tasks.index(t))})
    res = check_equivalence(m, runs)
    raw = [t.pvalue for t in res.tests]
    assert raw == pytest.approx([0.03] * 4, rel=1e-6)
    assert raw[0] == pytest.approx(tost(base, base, margin=margin).pvalue)
    assert all(t.passed_unadjusted for t in res.tests)
    assert [t.adjusted_pvalue for t in res.tests] == pytest.approx(holm(raw).tolist())
    assert [t.adjusted_pvalue for t in res.tests] == pytest.approx([0.12] * 4, rel=1e-6)
    assert not any(t.passed for t in res.tests) and not res.parity_pass_all_metrics
    v = judge(m, runs)
    assert v.verdict == "fail" and v.exit_code == 1
    assert v.reasons[0] == "0 of 4 per-task tests show equivalence after Holm adjustment."
    assert "Holm-adjusted p = 0.12 > α = 0.05" in v.reasons[1]
    # with a single task the same data pass
    single = make_manifest(
        tasks=["t0"],
        seeds=list(range(n)),
        metrics={"return": {"margin": {"absolute": float(margin)}}},
        validity={"shortcut_checks": False},
    )
    runs1 = make_runs(single, lambda s, t, seed, r: {"return": float(base[seed])})
    assert judge(single, runs1).verdict == "pass"


def test_holm_matches_statsmodels_on_a_mixed_family():
    multipletests = pytest.importorskip("statsmodels.stats.multitest").multipletests

    m = make_manifest(
        tasks=["a", "b", "c", "d", "e"],
        metrics={"return": {"margin": {"relative": 0.02}}, "cost": {"margin": {"absolute": 1.0}}},
    )

    def value(system, task, seed, rerun):
        g = np.random.default_rng([SYSTEMS.index(system), ord(task), seed])
        shift = 1.0 + (0.01 * "abcde".index(task) if system == "candidate" else 0.0)
        return {"return": float(100 * shift + g.normal(0, 1.5)), "cost": float(g.normal(5, 1))}

    res = check_equivalence(m, make_runs(m, value))
    raw = [t.pvalue for t in res.tests]
    expected = multipletests(raw, alpha=0.05, method="holm")[1]
    assert [t.adjusted_pvalue for t in res.tests] == pytest.approx(expected.tolist())
    assert [(t.task, t.metric) for t in res.tests][:3] == [
        ("a", "return"),
        ("a", "cost"),
        ("b", "return"),
    ]


def test_paired_metric_uses_shared_seeds():
    m = make_manifest(
        tasks=["a"], metrics={"return": {"margin": {"relative": 0.05}, "paired": True}}
    )
    runs = [
        r
        for r in make_runs(m, normal_value())
        if r.key not in (RunKey("candidate", "a", 0), RunKey("reference", "a", 9))
    ]
    (t,) = check_equivalence(m, runs).tests
    assert t.paired and t.n_reference == t.n_candidate == 8
    assert "paired" in t.method


def test_quick_mode_tests_noninferiority_in_the_metric_direction():
    m = make_manifest(
        mode="quick",
        tasks=["a"],
        metrics={
            "return": {"margin": {"relative": [-0.05, 0.1]}},
            "latency": {"margin": {"relative": [-0.1, 0.05]}, "higher_is_better": False},
        },
    )

    def value(system, task, seed, rerun):
        g = np.random.default_rng([SYSTEMS.index(system), seed])
        better = 1.2 if system == "candidate" else 1.0  # far better return, far worse latency
        return {
            "return": float(100 * better + g.normal()),
            "latency": float(10 * better + g.normal(0, 0.1)),
        }

    ret, lat = check_equivalence(m, make_runs(m, value)).tests
    assert ret.test == lat.test == "non-inferiority"
    assert ret.margin == (-0.05, math.inf) and ret.passed
    assert lat.margin == (-math.inf, 0.05) and not lat.passed


def test_untestable_relative_margin_is_reported_not_raised():
    m = make_manifest(tasks=["a"])
    runs = make_runs(m, lambda s, t, seed, r: {"return": -5.0 + seed})
    v = judge(m, runs)
    (t,) = v.equivalence.tests
    assert t.error and "reference mean > 0" in t.error and t.pvalue == 1.0
    assert v.verdict == "fail" and v.exit_code == 1
    assert "not tested" in v.reasons[1]


def test_too_few_seeds_is_inconclusive_exit_3():
    m = make_manifest(tasks=["a"], seeds=[0, 1, 2])
    v = judge(m, make_runs(m, normal_value(sd=20.0)))
    (t,) = v.equivalence.tests
    assert not t.attainable and not t.passed
    assert (v.verdict, v.exit_code) == ("inconclusive", 3)
    assert "could not succeed" in v.reasons[-1]
    # a clearly different candidate is a failure even at this n: its interval lies outside
    far = judge(m, make_runs(m, normal_value(lambda task, rerun: 2.0, sd=1.0)))
    assert (far.verdict, far.exit_code) == ("fail", 1)


def test_noninferiority_with_few_seeds_fails_with_the_seeds_needed_never_exit_3():
    # quick mode tests non-inferiority, which a candidate observed better by enough always
    # passes: too few seeds is a "not shown" (exit 1) with the seeds that would make it likely
    m = make_manifest(mode="quick", tasks=["a"], seeds=[0, 1, 2])
    v = judge(m, make_runs(m, normal_value(sd=20.0)))
    (t,) = v.equivalence.tests
    assert t.test == "non-inferiority" and t.attainable and not t.passed
    assert (v.verdict, v.exit_code) == ("fail", 1)
    assert t.n_for_power is not None and t.n_for_power > 3
    text = " ".join(v.reasons)
    assert f"about {t.n_for_power} seeds per system would give 80% power" in text
    assert "cannot succeed" not in text


# --------------------------------------------------------------------------------------------
# aggregates


def _atari():
    if not (ATARI / "DER.json").is_file():
        pytest.skip(f"Atari 100k scores not found at {ATARI} (set PARITY_ATARI100K)")
    human = json.loads((ATARI / "HUMAN.json").read_text())
    random = json.loads((ATARI / "RANDOM.json").read_text())
    games = sorted(human)

    def scores(agent):
        data = json.loads((ATARI / f"{agent}.json").read_text())
        return np.array([data[g] for g in games], dtype=float).T  # runs × games

    norm = {g: (float(random[g][0]), float(human[g][0])) for g in games}
    return games, norm, scores


def test_iqm_aggregate_decides_where_per_task_tests_cannot():
    """DER's 100 runs split in halves (reference / faithful candidate); OTRainbow is "broken".

    Per game, 50 vs 50 runs of Atari scores are far too noisy for ±10 %: few tests pass. The
    IQM of human-normalized scores over 26 games × 50 runs decides: equivalent for the other
    half of DER, not for OTRainbow (IQM 0.117 vs 0.183).
    """
    games, norm, scores = _atari()
    der, otr = scores("DER"), scores("OTRainbow")
    m = make_manifest(
        tasks=games,
        seeds=list(range(50)),
        metrics={"score": {"margin": {"relative": 0.1}}},
        aggregates=[
            {
                "name": "iqm_hns",
                "metric": "score",
                "statistic": "iqm",
                "normalization": norm,
                "margin": {"ratio": 0.1},
                "n_resamples": 2000,
            }
        ],
        decide_on="aggregate",
    )

    def runs_for(candidate):
        def value(system, task, seed, rerun):
            x = der if system == "reference" else candidate
            return {"score": float(x[seed, games.index(task)])}

        return make_runs(m, value)

    faithful = judge(m, runs_for(der[50:]))
    broken = judge(m, runs_for(otr[:50]))
    for v in (faithful, broken):
        assert not v.equivalence.per_task_pass
        assert sum(t.passed for t in v.equivalence.tests) <= 3  # per task: inconclusive
        assert sum(t.error is not None for t in v.equivalence.tests) == 2  # Boxing, Pong < 0
    (fa,) = faithful.equivalence.aggregates
    (ba,) = broken.equivalence.aggregates
    assert fa.reference == pytest.approx(0.18211488, abs=1e-6)  # DER runs 0–49
    assert fa.passed and fa.estimate == pytest.approx(fa.candidate / fa.reference)
    assert 0.9 < fa.confidence_interval[0] < fa.estimate < fa.confidence_interval[1] < 1.1
    assert fa.confidence_level == pytest.approx(0.9) and fa.alpha_share == 0.05
    assert not ba.passed and ba.confidence_interval[1] < 0.9
    assert ba.estimate == pytest.approx(0.6248, abs=1e-3)
    assert (faithful.verdict, faithful.exit_code) == ("pass", 0)
    assert (broken.verdict, broken.exit_code) == ("fail", 1)
    assert any("per-task tests are reported but do not decide" in r for r in faithful.reasons)
    # the aggregate's own bootstrap p-value agrees with the interval decision
    assert fa.pvalue < 0.05 < ba.pvalue


def test_aggregate_joint_bootstrap_is_the_ratio_of_the_two_stratified_bootstraps():
    from parity.stats import aggregate_ci

    m = make_manifest(
        tasks=["a", "b", "c"],
        aggregates=[
            {
                "name": "m",
                "metric": "return",
                "statistic": "mean",
                "margin": {"ratio": 0.05},
                "n_resamples": 500,
            }
        ],
    )
    runs = make_runs(m, normal_value(sd=3.0))
    (agg,) = check_equivalence(m, runs, rng=7).aggregates

    def matrix(system):
        return np.array(
            [
                [r.metrics["return"] for r in runs if r.key.system == system and r.key.seed == s]
                for s in range(10)
            ]
        )

    gen = np.random.default_rng([7, 1, 0, 0, 0])
    ref = aggregate_ci(matrix("reference"), "mean", n_resamples=500, confidence_level=0.9, rng=gen)
    cand = aggregate_ci(matrix("candidate"), "mean", n_resamples=500, confidence_level=0.9, rng=gen)
    ratio = cand.bootstrap_distribution / ref.bootstrap_distribution
    assert agg.confidence_interval == pytest.approx(tuple(np.quantile(ratio, [0.05, 0.95])))
    assert agg.estimate == pytest.approx(cand.statistic / ref.statistic)
    # another seed: other draws; the same seed: the same numbers
    assert (
        check_equivalence(m, runs, rng=8).aggregates[0].confidence_interval
        != agg.confidence_interval
    )
    assert check_equivalence(m, runs, rng=7).aggregates[0] == agg


def test_aggregate_difference_margin_and_bonferroni_share():
    m = make_manifest(
        tasks=["a", "b"],
        aggregates=[
            {"name": "d", "metric": "return", "statistic": "median", "margin": {"difference": 2.0}},
            {
                "name": "g",
                "metric": "return",
                "statistic": "optimality_gap",
                "normalization": {"a": [0, 200], "b": [0, 200]},
                "margin": {"difference": 0.05},
            },
        ],
        decide_on="both",
    )
    eq = check_equivalence(m, make_runs(m, normal_value()))
    d, g = eq.aggregates
    assert d.alpha_share == g.alpha_share == 0.025
    assert d.confidence_level == pytest.approx(0.95)
    assert d.margin_kind == "difference" and d.bounds == (-2.0, 2.0) and d.passed
    assert not g.higher_is_better and g.normalized and g.passed  # a gap: lower is better
    assert "Bonferroni share α/2 = 0.025" in eq.multiple_testing


def test_aggregate_noninferiority_in_quick_mode():
    m = make_manifest(
        mode="quick",
        tasks=["a", "b"],
        aggregates=[{"name": "iqm", "metric": "return", "margin": {"ratio": 0.05}}],
        decide_on="aggregate",
    )
    better = check_equivalence(m, make_runs(m, normal_value(lambda t, r: 1.2))).aggregates[0]
    worse = check_equivalence(m, make_runs(m, normal_value(lambda t, r: 0.8))).aggregates[0]
    assert better.test == "non-inferiority" and better.bounds == (0.95, math.inf)
    assert (
        better.confidence_level == pytest.approx(0.95) and better.confidence_interval[1] == math.inf
    )
    assert better.passed and better.confidence_interval[0] > 1.1
    assert not worse.passed and worse.confidence_interval[0] < 0.85
    gap = make_manifest(
        mode="quick",
        tasks=["a", "b"],
        aggregates=[
            {
                "name": "gap",
                "metric": "return",
                "statistic": "optimality_gap",
                "normalization": {"a": [0, 200], "b": [0, 200]},
                "margin": {"difference": 0.02},
            }
        ],
    )
    g = check_equivalence(gap, make_runs(gap, normal_value(lambda t, r: 1.2))).aggregates[0]
    assert not g.higher_is_better and g.bounds == (-math.inf, 0.02)
    assert g.confidence_interval[0] == -math.inf and g.passed  # a smaller gap is better


def test_aggregate_with_a_nonpositive_reference_ratio_is_not_tested():
    m = make_manifest(
        tasks=["a"],
        aggregates=[
            {"name": "m", "metric": "return", "statistic": "mean", "margin": {"ratio": 0.1}}
        ],
        decide_on="aggregate",
    )
    v = judge(m, make_runs(m, lambda s, t, seed, r: {"return": -10.0 + seed}))
    (agg,) = v.equivalence.aggregates
    assert agg.error and "ratio is not defined" in agg.error and not agg.passed
    assert v.verdict == "fail"


# --------------------------------------------------------------------------------------------
# stability


def test_stable_across_reruns():
    m = make_manifest(reruns=3)
    s = check_stability(m, make_runs(m, normal_value()))
    assert s.status == "stable" and s.method == "reruns"
    assert [g.label for g in s.groups] == ["rerun 0", "rerun 1", "rerun 2"]
    assert all(g.parity_pass_all_metrics for g in s.groups)
    assert not (s.verdict_flip_detected or s.pairwise_metric_sign_flip_detected)
    assert not s.bayesian_frequentist_mismatch_detected and s.posteriors_computed == 6


def test_verdict_flip_between_reruns_is_detected():
    m = make_manifest(reruns=2)
    shift = lambda task, rerun: 0.9 if (task, rerun) == ("b", 1) else 1.0  # noqa: E731
    v = judge(m, make_runs(m, normal_value(shift)))
    s = v.stability
    assert v.verdict == "pass"  # rerun 0 decides
    assert s.status == "unstable" and s.verdict_flip_detected
    assert [g.parity_pass_all_metrics for g in s.groups] == [True, False]
    (flip,) = s.decision_flips
    assert (flip.task, flip.metric, flip.passed) == ("b", "return", (True, False))
    # rerun 0's estimate is below 1 too: a verdict flip without a sign flip
    assert s.groups[0].tests_passed == 2 and s.groups[1].tests_passed == 1


def test_sign_flip_without_a_verdict_flip():
    m = make_manifest(reruns=2, tasks=["a"])
    shift = lambda task, rerun: 1.02 if rerun == 0 else 0.98  # noqa: E731
    s = check_stability(m, make_runs(m, normal_value(shift, sd=0.5)))
    assert not s.verdict_flip_detected and s.pairwise_metric_sign_flip_detected
    (flip,) = s.sign_flips
    assert flip.labels == ("rerun 0", "rerun 1") and flip.null_effect == 1.0
    assert flip.estimates[0] > 1 > flip.estimates[1]
    assert flip.intervals[0][0] > 1 and flip.intervals[1][1] < 1
    assert s.status == "unstable"


def test_bayesian_frequentist_mismatch_is_flagged():
    """Paired, absolute margin: P(below) equals the lower one-sided p-value, so TOST p = 0.04 on
    a centred estimate leaves a posterior probability of 1 − 2·0.04 = 0.92 < 0.95."""
    n = 10
    d = np.linspace(-1.0, 1.0, n)  # paired differences, mean 0
    se = np.std(d, ddof=1) / math.sqrt(n)
    margin = float(se * sps.t.ppf(1 - 0.04, n - 1))
    m = make_manifest(
        tasks=["a"],
        seeds=list(range(n)),
        metrics={"return": {"margin": {"absolute": margin}, "paired": True}},
    )
    runs = make_runs(
        m,
        lambda s, t, seed, r: {"return": 50.0 + seed + (d[seed] if s == "candidate" else 0.0)},
    )
    s = check_stability(m, runs)
    (mm,) = s.mismatches
    assert mm.tost_equivalent and mm.tost_pvalue == pytest.approx(0.04)
    assert mm.posterior_probability == pytest.approx(0.92, abs=1e-9)
    assert mm.threshold == 0.95 and mm.label == "all seeds"
    assert s.bayesian_frequentist_mismatch_detected and s.status == "unstable"


def test_a_missing_rerun_is_insufficient_not_a_flip():
    m = make_manifest(reruns=2)
    v = judge(m, make_runs(m, normal_value(), reruns={0}))
    assert v.missing_pairs == 40 and v.verdict == "fail"
    s = v.stability
    assert s.status == "insufficient" and not s.verdict_flip_detected and not s.decision_flips
    assert "nothing could be computed on rerun 1" in s.warnings[0]


def test_split_half_with_one_rerun_and_insufficient_seeds():
    m = make_manifest()
    s = check_stability(m, make_runs(m, normal_value()))
    assert s.method == "split-half" and s.status == "stable"
    assert [g.seeds for g in s.groups] == [(0, 1, 2, 3, 4), (5, 6, 7, 8, 9)]
    few = make_manifest(seeds=[0, 1, 2])
    s3 = check_stability(few, make_runs(few, normal_value()))
    assert s3.status == "insufficient" and not s3.groups and "at least 4 seeds" in s3.warnings[0]


# --------------------------------------------------------------------------------------------
# components


def _component_arrays(m, offset, shape=None, drop=None):
    g = np.random.default_rng(0)
    base = {(t, s): g.uniform(0.5, 1.5, size=(8, 3)) for t in m.tasks for s in m.seeds}
    out = {}
    for key in m.expected_keys():
        arr = base[(key.task, key.seed)]
        if key.system == "candidate":
            arr = arr + offset(key)
            if shape is not None and shape(key):
                arr = arr[:-1]
        out[key] = {} if drop is not None and drop(key) else {"probs": arr}
    return out


def test_components_allclose_pass_with_deviations():
    m = make_manifest(components={"policy": {"array": "probs", "rtol": 1e-6, "atol": 1e-9}})
    arrays = _component_arrays(m, lambda k: 1e-10)
    v = judge(m, make_runs(m, normal_value()), load_arrays=lambda r: arrays[r.key])
    (c,) = v.components.components
    assert c.passed and c.pairs_compared == 20 and c.pairs_failed == 0
    assert c.max_abs_deviation == pytest.approx(1e-10, rel=1e-3)
    assert 1e-10 / 1.5 * 0.99 < c.max_rel_deviation < 1e-10 / 0.5 * 1.01
    assert v.component_match_pass and v.verdict == "pass"


def test_components_allclose_fail_names_pairs_and_deviations():
    m = make_manifest(components={"policy": {"array": "probs", "rtol": 1e-6, "atol": 1e-9}})
    bump = lambda k: 1e-3 if (k.task, k.seed) == ("b", 4) else 0.0  # noqa: E731
    arrays = _component_arrays(
        m,
        bump,
        shape=lambda k: (k.task, k.seed) == ("a", 1),
        drop=lambda k: k == RunKey("candidate", "a", 2),
    )
    v = judge(m, make_runs(m, normal_value()), load_arrays=lambda r: arrays[r.key])
    (c,) = v.components.components
    assert not c.passed and c.pairs_failed == 3
    bad = {(p.task, p.seed): p for p in c.pairs if not p.passed}
    assert bad[("b", 4)].max_abs_deviation == pytest.approx(1e-3)
    assert bad[("b", 4)].n_mismatched == 24
    assert bad[("a", 1)].detail == "shapes differ: (8, 3) vs (7, 3)"
    assert "candidate run wrote no array `probs`" in bad[("a", 2)].detail
    assert c.max_abs_deviation == pytest.approx(1e-3)
    assert not v.parity_pass_final and v.parity_pass_all_metrics and v.verdict == "fail"
    assert any("component `policy` differs on 3 of 20" in r for r in v.reasons)
    # not required: reported, but the final verdict passes
    m2 = make_manifest(components={"policy": {"array": "probs", "required": False}})
    v2 = judge(m2, make_runs(m2, normal_value()), load_arrays=lambda r: arrays[r.key])
    assert v2.parity_pass_final and v2.component_match_pass and not v2.components.required


def test_components_two_sample():
    m = make_manifest(tasks=["a"], seeds=[0, 1], components={"acts": {"test": "two_sample"}})
    g = np.random.default_rng(1)
    same = {k: {"acts": g.normal(size=(60, 2))} for k in m.expected_keys()}
    shifted = {
        k: {"acts": g.normal(size=(60, 2)) + (1.5 if k.system == "candidate" else 0)}
        for k in m.expected_keys()
    }
    runs = make_runs(m, normal_value())
    ok = check_components(m, runs, load_arrays=lambda r: same[r.key]).components[0]
    bad = check_components(m, runs, load_arrays=lambda r: shifted[r.key]).components[0]
    assert ok.passed and all(p.pvalue is not None for p in ok.pairs)
    assert not bad.passed and all(p.adjusted_pvalue <= 0.05 for p in bad.pairs)
    again = check_components(m, runs, load_arrays=lambda r: same[r.key]).components[0]
    assert again == ok  # seeded permutations


# --------------------------------------------------------------------------------------------
# determinism and input checks


def test_judge_is_deterministic_and_order_free():
    m = make_manifest(
        reruns=2,
        aggregates=[
            {"name": "iqm", "metric": "return", "margin": {"ratio": 0.05}, "n_resamples": 300}
        ],
    )
    runs = make_runs(m, normal_value())
    a = judge(m, runs, rng=3)
    b = judge(m, list(reversed(runs)), rng=3)
    assert json.dumps(a.to_dict(), sort_keys=True) == json.dumps(b.to_dict(), sort_keys=True)
    assert a.seed == 3
    g1 = judge(m, runs, rng=np.random.default_rng(3))
    g2 = judge(m, runs, rng=np.random.default_rng(3))
    assert g1.seed is None and g1.to_dict()["seed"] is None
    assert json.dumps(g1.to_dict(), sort_keys=True) == json.dumps(g2.to_dict(), sort_keys=True)


def test_bad_inputs():
    m = make_manifest()
    with pytest.raises(
        ParityInputError,
        match=r"`rng` must be None, an integer seed ≥ 0 .*; got -1",
    ):
        judge(m, [], rng=-1)
    with pytest.raises(ParityInputError, match="item 0 is dict"):
        judge(m, [{"key": 1}])
    with pytest.raises(ParityInputError, match="`manifest` must be a Manifest"):
        judge({"name": "x"}, [])


def test_nothing_recorded_fails_cleanly():
    m = make_manifest()
    v = judge(m, [])
    assert v.verdict == "fail" and v.missing_pairs == 40
    assert all(t.error for t in v.equivalence.tests)
    assert v.stability.status == "insufficient"
    assert_strict_json(v.to_dict())
