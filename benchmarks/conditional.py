"""Speed of the conditional (within-observation) permutation test, and its power against pooling.

Run it directly (``make bench`` does not call it; ``two_sample.py`` may import
:func:`bench_conditional`)::

    .venv/bin/python benchmarks/conditional.py                 # the issue's case, 3 repeats
    .venv/bin/python benchmarks/conditional.py --repeats 5 --n 1000

The issue's case: 400 observations × 8 samples per policy × 2 dimensions, B = 1000, both
statistics (MMD² and energy distance) on the same relabellings, target < 1 s. Data:
``numpy.random.default_rng(seed)``, per-observation centres N(0, 5² I), samples N(centre, I).
Seconds are the median of ``--repeats`` calls of ``conditional_two_sample_test`` (total wall
time: distances, median-heuristic bandwidths, Gram blocks, relabellings). A report, not a test:
it always exits 0.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from _machine import machine_line
from parity.stats import conditional_two_sample_test


def make_data(n: int, k: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Reference and candidate samples (n × k × d) around per-observation centres."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=5.0, size=(n, 1, d))
    return centres + rng.normal(size=(n, k, d)), centres + rng.normal(size=(n, k, d))


def bench_conditional(
    n: int = 400,
    k: int = 8,
    d: int = 2,
    n_permutations: int = 1000,
    repeats: int = 3,
    seed: int = 0,
) -> dict:
    """Time ``conditional_two_sample_test`` on the issue's case; the median of ``repeats`` runs.

    Returns a dict with the case, every run's seconds, the median, and the target (1 s).
    """
    x, y = make_data(n, k, d, seed)
    conditional_two_sample_test(x[:2], y[:2], n_permutations=9, rng=0)  # warm imports
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = conditional_two_sample_test(x, y, n_permutations=n_permutations, rng=0)
        runs.append(time.perf_counter() - start)
    return {
        "case": f"{n} observations × {k} + {k} samples × {d} dims, B = {n_permutations}",
        "runs_s": runs,
        "median_s": statistics.median(runs),
        "target_s": 1.0,
        "pvalue": result.pvalue,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--d", type=int, default=2)
    parser.add_argument("--permutations", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(machine_line())
    out = bench_conditional(args.n, args.k, args.d, args.permutations, args.repeats)
    runs = ", ".join(f"{s:.3f}" for s in out["runs_s"])
    verdict = "PASS" if out["median_s"] < out["target_s"] else "MISS"
    print(f"{out['case']}: median {out['median_s']:.3f} s (runs {runs}); target < 1 s: {verdict}")


if __name__ == "__main__":
    main()
