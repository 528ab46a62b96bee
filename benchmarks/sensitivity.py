"""Calibration of the sensitivity simulations against the real tests' power on fresh data.

For each design the script estimates the minimum detectable effects from one reference sample
(:mod:`parity.stats.sensitivity`), then draws ``--checks`` fresh data sets of the real design
from the same model with the effect applied to the candidate, runs the real test on each, and
prints the power at the reported size and at sizes around it, with the size where the power
crosses 80% (log-linear interpolation): the "true" minimum detectable effect. A ratio
estimate / true above 1 errs on the safe side (the test is said to need more than it does).

Designs and models (α = 0.05, B = 199 for the real tests):

* pooled (``two_sample_test``, mmd + energy + kl, standardized), x, y ~ N(0, I₂), n = m = 40
  and 400: the shift (diagonal) and the bump (a share ε of y's rows from N(c, 0.1² I), c ~
  N(0, I₂) per data set);
* by observation (``conditional_two_sample_test``, mmd + energy, standardized), 48
  observations with centres N(0, 5² I₂) and 8 vs 8 samples N(centre, I₂): the within-
  observation shift, scale change and bump;
* text (``text_two_sample_test``, Hamming kernel), 8 prompts × 12 vs 12 completions of 10
  tokens, each prompt's template with 30% of the tokens uniform over 40: the token-change rate.

It always exits 0: it is a report, not a test.

    .venv/bin/python benchmarks/sensitivity.py              # --checks 200
    .venv/bin/python benchmarks/sensitivity.py --checks 60  # a quicker, noisier run
"""

from __future__ import annotations

import argparse
import itertools
import math
import time
import warnings
from collections.abc import Callable

import numpy as np

from parity.errors import ParityWarning
from parity.stats.conditional import conditional_two_sample_test
from parity.stats.permutation import two_sample_test
from parity.stats.sensitivity import (
    BUMP_WIDTH,
    conditional_min_detectable_effect,
    min_detectable_effect,
    text_min_detectable_effect,
)
from parity.stats.text import text_two_sample_test

FACTORS = (0.6, 0.8, 1.0, 1.25, 1.6)  # sizes checked, relative to the estimate
B = 199


def crossing(powers: dict[float, float], target: float = 0.8) -> float:
    """The size where the checked power crosses ``target`` (log-linear), nan if it does not."""
    points = sorted(powers.items())
    for (s0, p0), (s1, p1) in itertools.pairwise(points):
        if p0 < target <= p1:
            return math.exp(math.log(s0) + (target - p0) / (p1 - p0) * math.log(s1 / s0))
    return math.nan


def report(name: str, estimate: float, power_at: Callable[[float], float], checks: int) -> None:
    powers = {}
    for factor in FACTORS:
        # a scale factor's sizes are spaced on its log (the others are shares or σ)
        size = estimate**factor if name.startswith("scale") else estimate * factor
        if name.endswith("share") and size > 1:
            continue
        powers[size] = power_at(size)
    true = crossing(powers)
    cells = ", ".join(f"{s:.3g}: {p:.2f}" for s, p in sorted(powers.items()))
    se = math.sqrt(0.16 / checks)
    print(
        f"  {name:<28} estimate {estimate:.3g}, power there {powers[estimate]:.2f} "
        f"(± {se:.2f}); true 80% size {true:.3g}, estimate/true {estimate / true:.2f}"
    )
    print(f"    power by size: {cells}")


def pooled(n: int, checks: int, rng: np.random.Generator) -> None:
    ref = rng.normal(size=(n, 2))
    start = time.perf_counter()
    res = min_detectable_effect(ref, rng=0)
    print(
        f"pooled, n = m = {n}, d = 2: {res.describe_all()} ({res.n_tests} simulated tests, "
        f"{time.perf_counter() - start:.2f} s)"
    )

    def power(effect: str) -> Callable[[float], float]:
        def at(size: float) -> float:
            hits = 0
            for _ in range(checks):
                x, y = rng.normal(size=(n, 2)), rng.normal(size=(n, 2))
                if effect == "shift":
                    y = y + size / math.sqrt(2)
                else:
                    inside = rng.random(n) < size
                    y[inside] = rng.normal(size=2) + BUMP_WIDTH * rng.normal(size=(inside.sum(), 2))
                test = two_sample_test(x, y, n_resamples=B, rng=rng, standardize=True)
                hits += test.pvalue < 0.05
            return hits / checks

        return at

    report("shift (σ)", res.shift, power("shift"), checks)
    report("bump share", res.effects["bump"].value, power("bump"), checks)


def by_observation(checks: int, rng: np.random.Generator) -> None:
    n_obs, k = 48, 8
    ref = rng.normal(scale=5.0, size=(n_obs, 1, 2)) + rng.normal(size=(n_obs, k, 2))
    start = time.perf_counter()
    res = conditional_min_detectable_effect(ref, rng=0, standardize=True)
    print(
        f"by observation, {n_obs} × {k} vs {k}, d = 2: {res.describe_all()} ({res.n_tests} "
        f"simulated tests at {res.n_strata_simulated} observations, "
        f"{time.perf_counter() - start:.2f} s)"
    )

    def power(effect: str) -> Callable[[float], float]:
        def at(size: float) -> float:
            hits = 0
            for _ in range(checks):
                centres = rng.normal(scale=5.0, size=(n_obs, 1, 2))
                x = centres + rng.normal(size=(n_obs, k, 2))
                y = centres + rng.normal(size=(n_obs, k, 2))
                if effect == "shift":
                    y = y + size / math.sqrt(2)
                elif effect == "scale":
                    y = centres + size * (y - centres)
                else:
                    inside = (rng.random((n_obs, k)) < size)[..., None]
                    at_ = centres + rng.normal(size=(n_obs, 1, 2))
                    y = np.where(inside, at_ + BUMP_WIDTH * rng.normal(size=y.shape), y)
                test = conditional_two_sample_test(x, y, n_resamples=B, rng=rng, standardize=True)
                hits += test.pvalue < 0.05
            return hits / checks

        return at

    report("shift (within-obs. σ)", res.shift, power("shift"), checks)
    report("scale (×)", res.scale, power("scale"), checks)
    report("bump share", res.effects["bump"].value, power("bump"), checks)


def text(checks: int, rng: np.random.Generator) -> None:
    n_prompts, per, vocab = 8, 12, 40

    def completions(templates: np.ndarray, count: int) -> np.ndarray:
        seqs = np.repeat(templates, count, axis=0)
        noise = rng.random(seqs.shape) < 0.3
        seqs[noise] = rng.integers(0, vocab, size=int(noise.sum()))
        return seqs

    prompts = np.repeat(np.arange(n_prompts), per).tolist()
    ref = completions(rng.integers(0, vocab, size=(n_prompts, 10)), per)
    start = time.perf_counter()
    res = text_min_detectable_effect(
        ref, reference_prompts=prompts, candidate_prompts=prompts, rng=0
    )
    print(
        f"text, {n_prompts} prompts × {per} vs {per} completions: {res.describe_all()} "
        f"({res.n_tests} simulated tests, {time.perf_counter() - start:.2f} s)"
    )

    def at(size: float) -> float:
        hits = 0
        for _ in range(checks):
            templates = rng.integers(0, vocab, size=(n_prompts, 10))
            x, y = completions(templates, per), completions(templates, per)
            replaced = rng.random(y.shape) < size
            y[replaced] = x.ravel()[rng.integers(0, x.size, size=int(replaced.sum()))]
            test = text_two_sample_test(
                x,
                y,
                reference_prompts=prompts,
                candidate_prompts=prompts,
                n_resamples=B,
                rng=rng,
            )
            hits += test.pvalue < 0.05
        return hits / checks

    report("token-change share", res.effects["token"].value, at, checks)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=200, help="fresh data sets per size")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    warnings.simplefilter("ignore", ParityWarning)
    print(f"Sensitivity calibration: {args.checks} fresh data sets per size, B = {B}, α = 0.05")
    for n in (40, 400):
        pooled(n, args.checks, rng)
    by_observation(args.checks, rng)
    text(args.checks, rng)


if __name__ == "__main__":
    main()
