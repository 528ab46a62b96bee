"""``compare`` and ``parity compare`` across engines: exact, random features (auto switch and
forced), by observation, completions; and their inputs' errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import parity.verdict
from parity.cli.main import cli
from parity.errors import ParityInputError
from parity.stats.conditional import conditional_two_sample_test
from parity.stats.rff import rff_two_sample_test
from parity.stats.text import text_two_sample_test
from parity.verdict import choose_engine, compare, compare_text


def alternating(n_obs=60, k=8, offset=0.5, seed=0):
    """Observations far apart; the candidate adds a ± offset whose sign alternates by
    observation: invisible when pooled, plain within each observation."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=5.0, size=(n_obs, 1, 2))
    ref = centres + rng.normal(size=(n_obs, k, 2))
    sign = np.where(np.arange(n_obs) % 2 == 0, 1.0, -1.0)[:, None, None]
    cand = centres + rng.normal(size=(n_obs, k, 2)) + offset * sign
    return ref, cand


def test_by_observation_catches_what_pooling_misses():
    ref, cand = alternating(offset=0.5)
    pooled = compare(ref.reshape(-1, 2), cand.reshape(-1, 2), statistics=("mmd", "energy"))
    paired = compare(ref, cand, statistics=("mmd", "energy"), by_observation=True)
    assert pooled.verdict == "pass"
    assert paired.verdict == "fail"
    assert paired.settings["engine"] == "conditional"
    assert paired.two_sample.details["design"] == "conditional"
    assert paired.sensitivity.design == "conditional"  # simulated with the conditional engine
    assert "on the same observations" in paired.reasons[0]


def test_by_observation_equals_the_conditional_test():
    ref, cand = alternating(offset=0.3, seed=2)
    verdict = compare(ref, cand, statistics=("energy",), by_observation=True, rng=4)
    rng = np.random.default_rng(np.random.SeedSequence(4).spawn(3)[0])
    direct = conditional_two_sample_test(ref, cand, ("energy",), 1000, rng, standardize=True)
    assert verdict.family_pvalue == direct.pvalue
    assert verdict.two_sample.results["energy"].statistic == direct.results["energy"].statistic


def test_auto_switches_to_random_features_and_says_so(monkeypatch):
    monkeypatch.setattr(parity.verdict, "EXACT_MAX_POOLED", 150)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(100, 3)), rng.normal(size=(100, 3))
    verdict = compare(x, y, n_resamples=199, sensitivity=False)
    assert verdict.settings["engine"] == "rff"
    assert list(verdict.two_sample.results) == ["mmd"]
    assert "random Fourier features" in verdict.two_sample.results["mmd"].method
    note = verdict.reasons[-1]
    assert "exceeds 150" in note and "energy, kl need the exact engine" in note
    test_rng = np.random.default_rng(np.random.SeedSequence(0).spawn(3)[0])
    direct = rff_two_sample_test(x, y, 199, test_rng, standardize=True)
    assert verdict.family_pvalue == direct.pvalue


def test_engine_choice_rules():
    assert choose_engine("auto", 20_000, "mmd")[0] == "exact"
    assert choose_engine("auto", 20_001, "mmd") == (
        "rff",
        ("mmd",),
        choose_engine("auto", 20_001, "mmd")[2],
    )
    assert choose_engine("exact", 10**6, ("mmd", "kl")) == ("exact", ("mmd", "kl"), None)
    assert choose_engine("rff", 100, ("mmd",)) == ("rff", ("mmd",), None)
    with pytest.raises(ParityInputError, match="tests the MMD only"):
        choose_engine("rff", 100, ("mmd", "energy"))
    with pytest.raises(ParityInputError, match="by-observation test is exact"):
        choose_engine("rff", 100, ("mmd",), by_observation=True)
    with pytest.raises(ParityInputError, match="`method` must be one of"):
        compare(np.zeros((30, 1)), np.ones((30, 1)), method="fast")


def test_device_cpu_gives_the_numpy_p_values():
    pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(60, 2)), rng.normal(size=(60, 2)) + 0.4
    plain = compare(x, y, statistics=("mmd",), sensitivity=False)
    torch_cpu = compare(x, y, statistics=("mmd",), sensitivity=False, device="cpu")
    assert torch_cpu.family_pvalue == plain.family_pvalue
    assert torch_cpu.settings["device"] == "cpu"
    with pytest.raises(ParityInputError, match="by-observation test runs on numpy"):
        compare(*alternating(), by_observation=True, device="cpu")


def test_compare_text_matches_the_text_test_and_decides():
    rng = np.random.default_rng(0)
    prompts = [f"p{i}" for i in range(10) for _ in range(4)]
    ref = [" ".join(rng.choice(["a", "b", "c"], size=5)) for _ in prompts]
    same = [" ".join(rng.choice(["a", "b", "c"], size=5)) for _ in prompts]
    other = [" ".join(rng.choice(["a", "b", "d"], size=5)) for _ in prompts]
    kw = dict(reference_prompts=prompts, candidate_prompts=prompts, kernel="ngram")
    assert compare_text(ref, same, **kw).verdict == "pass"
    verdict = compare_text(ref, other, **kw)
    assert verdict.verdict == "fail"
    assert "completions are distributed differently" in verdict.reasons[0]
    rng = np.random.default_rng(np.random.SeedSequence(0).spawn(1)[0])
    direct = text_two_sample_test(ref, other, rng=rng, **kw)
    assert verdict.family_pvalue == direct.pvalue
    assert verdict.inputs["reference"]["prompts"] == 10
    few = compare_text(ref[:8], same[:8], kernel="ngram")
    assert (
        few.verdict == "inconclusive"
        and "8 reference and 8 candidate completion samples" in (few.reasons[0])
    )


# ----------------------------------------------------------------------------------------- CLI


def run(args, folder):
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        return CliRunner().invoke(cli, [str(a) for a in args])


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def test_cli_completions_files(tmp_path):
    rng = np.random.default_rng(5)  # H0 holds for ref vs cand; this seed's p-value is 0.23
    ref = [{"prompt_id": i % 6, "tokens": rng.integers(0, 4, 6).tolist()} for i in range(48)]
    cand = [{"prompt_id": i % 6, "tokens": rng.integers(0, 4, 6).tolist()} for i in range(48)]
    shifted = [{"prompt_id": i % 6, "tokens": rng.integers(2, 6, 6).tolist()} for i in range(48)]
    for name, records in (("ref", ref), ("cand", cand), ("shifted", shifted)):
        write_jsonl(tmp_path / f"{name}.jsonl", records)
    result = run(["compare", "ref.jsonl", "cand.jsonl", "--out", "same", "--quiet"], tmp_path)
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "same" / "verdict.json").read_text(encoding="utf-8"))
    assert record["settings"]["kernel"] == "hamming"
    assert list(record["two_sample"]["results"]) == ["mmd_hamming"]
    assert (tmp_path / "same" / "report.html").exists()
    result = run(["compare", "ref.jsonl", "shifted.jsonl", "--out", "diff", "--quiet"], tmp_path)
    assert result.exit_code == 1, result.output
    np.save(tmp_path / "a.npy", np.zeros((30, 2)))
    result = run(["compare", "ref.jsonl", "a.npy"], tmp_path)
    assert result.exit_code == 2
    assert "a.npy: the other file holds completions" in result.output


def test_cli_paired_by_observation_arrays_and_tables(tmp_path):
    ref, cand = alternating(offset=1.5)
    np.save(tmp_path / "ref.npy", ref)
    np.save(tmp_path / "cand.npy", cand)
    args = ["compare", "ref.npy", "cand.npy", "--paired-by-observation", "--quiet"]
    result = run([*args, "--out", "paired"], tmp_path)
    assert result.exit_code == 1, result.output
    record = json.loads((tmp_path / "paired" / "verdict.json").read_text(encoding="utf-8"))
    assert record["two_sample"]["details"]["design"] == "conditional"
    assert record["settings"]["by_observation"] is True

    def table(path, arr, order):
        lines = ["observation,u,v"]
        lines += [f"obs{i},{a},{b}" for i in order for a, b in arr[i]]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    n = ref.shape[0]
    table(tmp_path / "ref.csv", ref, range(n))
    table(tmp_path / "cand.csv", cand, reversed(range(n)))  # matched by id, not position
    result = run(["compare", "ref.csv", "cand.csv", "--paired-by-observation", "--quiet"], tmp_path)
    assert result.exit_code == 1, result.output
    table(tmp_path / "short.csv", cand, range(n - 1))
    result = run(["compare", "ref.csv", "short.csv", "--paired-by-observation"], tmp_path)
    assert result.exit_code == 2
    assert f"appear on one side only: ['obs{n - 1}']" in result.output
    np.save(tmp_path / "flat.npy", np.zeros(5))
    result = run(["compare", "flat.npy", "cand.npy", "--paired-by-observation"], tmp_path)
    assert result.exit_code == 2 and "samples by observation are 3-D" in result.output


def test_cli_method_rff_and_its_errors(tmp_path):
    rng = np.random.default_rng(2)
    np.save(tmp_path / "x.npy", rng.normal(size=(80, 2)))
    np.save(tmp_path / "y.npy", rng.normal(size=(80, 2)) + 1.0)
    args = ["compare", "x.npy", "y.npy", "--method", "rff", "--quiet", "--no-sensitivity"]
    result = run([*args, "--statistic", "mmd", "--out", "r"], tmp_path)
    assert result.exit_code == 1, result.output
    record = json.loads((tmp_path / "r" / "verdict.json").read_text(encoding="utf-8"))
    assert record["settings"]["engine"] == "rff"
    assert record["two_sample"]["details"]["engine"] == "rff"
    result = run(args, tmp_path)
    assert result.exit_code == 2 and "tests the MMD only" in result.output


# --------------------------------------------------------------------------------------------
# files: compare_files in the library


def write_table(path, ids, samples):
    """A CSV of (observations × k × 2) samples, one row per sample, ids in ``observation``."""
    rows = ["observation,a0,a1"]
    for obs, block in zip(ids, samples, strict=True):
        rows += [f"{obs},{float(u)!r},{float(v)!r}" for u, v in block]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return str(path)


def test_compare_files_records_the_files_and_equals_compare(tmp_path):
    from parity.io import sha256_file
    from parity.verdict import compare_files

    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(60, 2)), rng.normal(size=(60, 2)) + 0.2
    np.save(tmp_path / "x.npy", x)
    np.savez(tmp_path / "y.npz", actions=y)
    options = {"statistics": ("energy",), "n_resamples": 199, "sensitivity": False}
    got = compare_files(str(tmp_path / "x.npy"), f"{tmp_path / 'y.npz'}:actions", **options)
    want = compare(x, y, **options)
    assert got.to_dict()["two_sample"] == want.to_dict()["two_sample"]
    assert (got.verdict, got.reasons) == (want.verdict, want.reasons)
    assert got.inputs["candidate"]["path"] == f"{tmp_path / 'y.npz'}:actions"
    assert got.inputs["candidate"]["file_sha256"] == sha256_file(tmp_path / "y.npz")
    assert got.inputs["reference"]["sha256"] == want.inputs["reference"]["sha256"]


def test_compare_files_matches_observations_by_id(tmp_path):
    from parity.verdict import compare_files, match_observations

    ref, cand = alternating(n_obs=10, k=3, offset=1.0, seed=5)
    ids = [f"o{i}" for i in range(10)]
    a = write_table(tmp_path / "a.csv", ids, ref)
    b = write_table(tmp_path / "b.csv", ids[::-1], cand[::-1])  # the other order
    matched = match_observations(a, b)
    np.testing.assert_array_equal(matched["candidate"], cand)
    options = {"statistics": ("energy",), "n_resamples": 199, "sensitivity": False}
    got = compare_files(a, b, by_observation=True, **options)
    want = compare(ref, cand, by_observation=True, **options)
    assert got.family_pvalue == want.family_pvalue
    other = write_table(tmp_path / "c.csv", [*ids[:-1], "zz"], cand)
    with pytest.raises(ParityInputError, match=r"appear on one side only: \['o9', 'zz'\]"):
        match_observations(a, other)


def test_compare_files_dispatches_completions_to_compare_text(tmp_path):
    from parity.verdict import compare_files

    ref = [{"prompt": f"p{i % 3}", "completion": w} for i, w in enumerate(["a b c", "d e"] * 12)]
    write_jsonl(tmp_path / "r.jsonl", ref)
    write_jsonl(tmp_path / "c.jsonl", ref[::-1])
    np.save(tmp_path / "x.npy", np.zeros((24, 2)))
    verdict = compare_files(str(tmp_path / "r.jsonl"), str(tmp_path / "c.jsonl"), sensitivity=False)
    assert verdict.settings["engine"] == "text" and verdict.settings["kernel"] == "ngram"
    with pytest.raises(ParityInputError, match="both sides must be completions"):
        compare_files(str(tmp_path / "r.jsonl"), str(tmp_path / "x.npy"))


def test_the_engine_switch_is_verdict_policy_not_stats():
    assert parity.verdict.EXACT_MAX_POOLED == 20_000
    assert not hasattr(parity.stats.rff, "EXACT_MAX_POOLED")
