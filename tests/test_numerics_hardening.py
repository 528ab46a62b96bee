"""Numerics under hostile data: values near the float64 maximum end in one error instead of
an endless search, zero-variance data are not a confident "equivalent", and the binned-KL
memory of `compare` on wide data is bounded (under a memory cap)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from parity.errors import ParityInputError
from parity.stats import equivalence as eq
from processes import invoke

pytestmark = pytest.mark.timeout(120)
SRC = str(Path(__file__).parents[1] / "src")


NEAR_MAX = np.array([1.0e308, 1.5e308, 1.2e308, 1.7e308, 0.9e308])


@pytest.mark.parametrize(
    "call",
    [
        lambda r, c: eq.tost(r, c, margin=1e307),
        lambda r, c: eq.tost(r, c, margin=0.1, relative=True),
        lambda r, c: eq.noninferiority(r, c, margin=0.1, relative=True),
        lambda r, c: eq.attainability(r, c, margin=0.1, relative=True),
    ],
)
def test_values_near_the_float_maximum_are_refused_not_searched_forever(call):
    with pytest.raises(ParityInputError, match=r"at most 1e\+150 so that variances stay finite"):
        call(NEAR_MAX, NEAR_MAX[::-1] * 0.99)


def test_values_near_the_float_maximum_exit_2_on_the_cli(tmp_path):
    np.save(tmp_path / "r.npy", NEAR_MAX)
    np.save(tmp_path / "c.npy", NEAR_MAX * 0.99)
    for extra in ([], ["--relative"]):
        margin = "0.1" if extra else "1e307"
        res = invoke("equivalence", tmp_path / "r.npy", tmp_path / "c.npy", "--margin", margin,
                     *extra, "--quiet")  # fmt: skip
        assert res.exit_code == 2, res.output
        assert len(res.stderr.splitlines()) == 1 and "rescale the data" in res.stderr


def test_the_margin_search_on_large_but_legal_values_scales_with_the_data():
    rng = np.random.default_rng(0)
    ref, cand = rng.normal(size=20), rng.normal(size=20)
    small = eq.attainability(ref, cand, margin=0.1).min_margin
    large = eq.attainability(1e149 * ref, 1e149 * cand, margin=1e148).min_margin
    assert large == pytest.approx(1e149 * small, rel=1e-9)


@pytest.mark.parametrize("paired", [False, True])
def test_constant_identical_samples_are_inconclusive_not_equivalent(tmp_path, paired):
    np.save(tmp_path / "r.npy", np.full(8, 3.0))
    np.save(tmp_path / "c.npy", np.full(8, 3.0))
    args = ["equivalence", tmp_path / "r.npy", tmp_path / "c.npy", "--margin", "0.1"]
    res = invoke(*args, *(["--paired"] if paired else []))
    assert res.exit_code == 3, res.output
    assert "INCONCLUSIVE" in res.stderr and "zero variance" in res.stderr
    # constant results beyond the margin are still "not equivalent" (exit 1), never a pass
    np.save(tmp_path / "c.npy", np.full(8, 4.0))
    assert invoke(*args).exit_code == 1


# --------------------------------------------------------------------------------------------
# binned KL on wide data: bounded memory, and a named limit


def test_kl_on_100_by_20000_data_runs_under_a_memory_cap(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "a.npy", rng.normal(size=(100, 20_000)))
    np.save(tmp_path / "b.npy", rng.normal(size=(100, 20_000)))
    cap = 3 * 2**30  # was 24 GB before the counts became sparse and chunked
    code = (
        f"import resource, sys; resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap})); "
        "from parity.cli.main import run; sys.argv[0] = 'parity'; run()"
    )
    args = ["compare", "a.npy", "b.npy", "--statistic", "kl", "--resamples", "99"]
    args += ["--no-sensitivity", "--quiet", "--out", "o"]
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=tmp_path,
        capture_output=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": SRC},
    )
    assert proc.returncode in (0, 3), proc.stderr.decode()[-2000:]
    assert (tmp_path / "o" / "verdict.json").is_file()


def test_kl_bins_beyond_the_limit_are_refused_with_the_numbers():
    from parity.limits import MAX_KL_BINS
    from parity.stats.two_sample import binned_kl, shared_bins

    z = np.random.default_rng(0).normal(size=(50, 30_000))
    with pytest.raises(ParityInputError, match=f"exceeds {MAX_KL_BINS:,} bins"):
        shared_bins(z, bins=100)
    with pytest.raises(ParityInputError, match="MAX_KL_BINS"):
        binned_kl(z[:25], z[25:], bins=100)


def test_sparse_chunked_kl_counts_equal_the_dense_one_hot():
    from parity.stats.permutation import two_sample_test
    from parity.stats.two_sample import binned_kl, shared_bins

    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(30, 3)), rng.normal(size=(25, 3)) + 0.3
    z = np.vstack([x, y])
    binning = shared_bins(z, bins=4)
    dense = binning.indicator()
    assert np.array_equal(binning.indicator_t().toarray(), dense.T)
    assert np.array_equal(binning.counts(slice(0, 30)), dense[:30].sum(axis=0))
    res = two_sample_test(x, y, statistics=("kl",), n_resamples=99, rng=0, kl_bins=4,
                          standardize=False)  # fmt: skip
    assert res.results["kl"].statistic == pytest.approx(binned_kl(x, y, bins=4), rel=1e-12)


# --------------------------------------------------------------------------------------------
# determinism across BLAS thread counts


def test_verdict_bytes_do_not_depend_on_the_blas_thread_count(tmp_path):
    """The RFF engine (n + m > 20000) summed a float32 product in a thread-dependent order:
    its null distribution differed at 1e-8 between 1 and 2 threads."""
    rng = np.random.default_rng(3)
    np.save(tmp_path / "a.npy", rng.normal(size=(12_000, 3)))
    np.save(tmp_path / "b.npy", rng.normal(size=(12_000, 3)) + 0.02)
    code = "import sys; from parity.cli.main import run; sys.argv[0] = 'parity'; run()"
    outputs = []
    for threads in ("1", "2"):
        env = {**os.environ, "PYTHONPATH": SRC, "OPENBLAS_NUM_THREADS": threads,
               "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}  # fmt: skip
        out = tmp_path / f"t{threads}"
        proc = subprocess.run(
            [sys.executable, "-c", code, "compare", "a.npy", "b.npy", "--resamples", "199",
             "--no-sensitivity", "--quiet", "--out", str(out)],
            cwd=tmp_path, capture_output=True, timeout=600, env=env,
        )  # fmt: skip
        assert proc.returncode in (0, 1, 3), proc.stderr.decode()[-2000:]
        outputs.append((out / "verdict.json").read_bytes())
    assert b"null_distribution" in outputs[0]
    assert outputs[0] == outputs[1]


def test_json_floats_are_rounded_to_12_significant_digits():
    from parity.io import json_dumps, round_floats

    assert round_floats([0.1 + 0.2, 1.0000000000001, (1 / 3,)]) == [0.3, 1.0, [0.333333333333]]
    assert json_dumps({"a": 1 + 1e-15, "b": "x", "c": None, "d": 7}, indent=None) == (
        '{"a": 1.0, "b": "x", "c": null, "d": 7}'
    )
