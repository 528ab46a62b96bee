"""Tests of parity.stats.text (LLM parity) and parity.io.load_text_samples.

Kinds (DESIGN.md, "Tests"): kernels against brute-force Python (position loops, Counter-based
cosine), positive semidefiniteness, the MMD² statistic and exact prompt-stratified enumeration
against brute force, calibration under H0 (one Markov source per prompt for both sides), power
against a temperature change, contributions, bad input, and the JSONL loader with broken lines.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import scipy.stats

from parity.errors import DegenerateDataWarning, ParityInputError, ParityWarning
from parity.io import TextSamples, load_text_samples
from parity.stats import text_two_sample_test
from parity.stats.text import hamming_kernel, ngram_kernel

# These tests pin parity 0.1's statistic, the MMD with one summed kernel (aggregation="sum"),
# exactly; the aggregated kernel collection (the default) is tested in test_aggregation.py.
text_two_sample_test = functools.partial(text_two_sample_test, aggregation="sum")

pytestmark = pytest.mark.filterwarnings("error::parity.errors.ParityWarning")


# --------------------------------------------------------------------------- brute force


def brute_hamming(a, b):
    """(1/L) Σ_l 1[x_l = y_l] with sequences padded by None to the longest one."""
    seqs = [list(s) for s in [*a, *b]]
    length = max(1, max(len(s) for s in seqs))
    pad = [s + [None] * (length - len(s)) for s in seqs]
    pa, pb = pad[: len(a)], pad[len(a) :]
    return np.array(
        [[sum(u == v for u, v in zip(x, y, strict=True)) / length for y in pb] for x in pa]
    )


def grams(seq, n):
    items = seq if isinstance(seq, str) else tuple(seq)
    if len(items) < n:
        return Counter([items])
    return Counter(items[i : i + n] for i in range(len(items) - n + 1))


def brute_ngram(a, b, n):
    out = np.empty((len(a), len(b)))
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            cx, cy = grams(x, n), grams(y, n)
            dot = sum(cx[g] * cy[g] for g in cx)
            out[i, j] = dot / math.sqrt(
                sum(v * v for v in cx.values()) * sum(v * v for v in cy.values())
            )
    return out


def brute_mmd2(gram, n):
    """Unbiased MMD² of the split rows[:n] | rows[n:] of a Gram matrix, by explicit loops."""
    m = gram.shape[0] - n
    xx = math.fsum(gram[i, j] for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    yy = math.fsum(gram[i, j] for i in range(n, n + m) for j in range(n, n + m) if i != j)
    xy = math.fsum(gram[i, j] for i in range(n) for j in range(n, n + m))
    return xx + yy / (m * (m - 1)) - 2 * xy / (n * m)


def brute_stratified(ref, cand, ref_prompts, cand_prompts, kernel):
    """The within-prompt MMD² sum on every within-prompt relabelling (itertools order)."""
    everything = [*ref, *cand]
    gram = kernel(everything, everything)
    labels = list(dict.fromkeys(ref_prompts))
    strata = []
    for p in labels:
        rows = [i for i, q in enumerate(ref_prompts) if q == p]
        rows += [len(ref) + i for i, q in enumerate(cand_prompts) if q == p]
        n = sum(q == p for q in ref_prompts)
        strata.append((rows, n))
    per_stratum = []
    for rows, n in strata:
        values = []
        for chosen in itertools.combinations(range(len(rows)), n):
            order = [rows[i] for i in chosen] + [
                rows[i] for i in range(len(rows)) if i not in chosen
            ]
            values.append(brute_mmd2(gram[np.ix_(order, order)], n))
        per_stratum.append(values)
    return np.array([math.fsum(c) for c in itertools.product(*per_stratum)])


def markov(g, n_samples, length, transition, start):
    """Token sequences from a Markov chain (rows of ``transition`` are next-token laws)."""
    out = np.empty((n_samples, length), dtype=np.int64)
    out[:, 0] = g.choice(len(start), size=n_samples, p=start)
    cumulative = transition.cumsum(axis=1)
    for t in range(1, length):
        u = g.random(n_samples)[:, None]
        out[:, t] = np.minimum((u > cumulative[out[:, t - 1]]).sum(axis=1), len(start) - 1)
    return out


def prompt_chains(g, n_prompts, vocab, temperature=1.0):
    """A Markov chain per prompt from random logits, sharpened or flattened by temperature."""
    logits = g.normal(scale=1.5, size=(n_prompts, vocab + 1, vocab))
    probs = np.exp(logits / temperature)
    probs /= probs.sum(axis=2, keepdims=True)
    return [(p[1:], p[0]) for p in probs]


# --------------------------------------------------------------------------- kernels


def test_hamming_kernel_equals_brute_force_on_ragged_tokens():
    g = np.random.default_rng(0)
    a = [list(g.integers(0, 3, size=g.integers(0, 6))) for _ in range(7)]
    b = [list(g.integers(0, 3, size=g.integers(1, 6))) for _ in range(5)]
    np.testing.assert_allclose(hamming_kernel(a, b), brute_hamming(a, b), atol=1e-15)
    square = g.integers(0, 3, size=(6, 4))
    np.testing.assert_allclose(hamming_kernel(square, square), brute_hamming(square, square))
    assert np.all(np.diag(hamming_kernel(square, square)) == 1.0)


def test_kernels_reject_mixed_kinds_and_accept_large_token_ids():
    with pytest.raises(ParityInputError, match=r"`a` and `b` must be the same kind"):
        hamming_kernel(["ab"], [[1, 2]])
    with pytest.raises(ParityInputError, match=r"`b`: sample 0 has token id -1"):
        ngram_kernel([[1]], [[-1]])
    big = 2**40
    assert hamming_kernel([[big, 1]], [[big, 2], [1, big]]).tolist() == [[0.5, 0.0]]


def test_hamming_kernel_on_strings_compares_code_points_and_truncates_to_length():
    assert hamming_kernel(["abc"], ["abd", "ab", "äbc"]).tolist() == [[2 / 3, 2 / 3, 2 / 3]]
    assert hamming_kernel([[1, 2, 3, 4]], [[1, 2, 9, 9]], length=2).tolist() == [[1.0]]
    assert hamming_kernel([[]], [[]]).tolist() == [[1.0]]


@pytest.mark.parametrize("n", [1, 2, 3])
def test_ngram_kernel_equals_counter_cosine(n):
    texts = ["abcabc", "abc", "a", "", "cabbage", "ab"]
    np.testing.assert_allclose(
        ngram_kernel(texts, texts, n=n), brute_ngram(texts, texts, n), atol=1e-12
    )
    tokens = [[1, 2, 3, 1, 2], [1, 2], [3], [2, 3, 1, 2, 3]]
    np.testing.assert_allclose(
        ngram_kernel(tokens, tokens, n=n), brute_ngram(tokens, tokens, n), atol=1e-12
    )


@pytest.mark.parametrize("kernel", [hamming_kernel, ngram_kernel])
def test_kernels_are_positive_semidefinite(kernel):
    g = np.random.default_rng(1)
    texts = ["".join(g.choice(list("abc"), size=g.integers(0, 9))) for _ in range(40)]
    gram = kernel(texts, texts)
    np.testing.assert_allclose(gram, gram.T, atol=1e-15)
    assert np.linalg.eigvalsh(gram).min() > -1e-10


# --------------------------------------------------------------------------- the test


def test_pooled_statistic_and_exact_enumeration_equal_brute_force():
    ref = [[1, 2, 3], [1, 2], [2, 2, 2]]
    cand = [[3, 2, 1], [1, 1], [2, 3]]
    with pytest.warns(DegenerateDataWarning, match="fewer than 5 samples on one side"):
        res = text_two_sample_test(ref, cand, n_resamples=20)
    assert res.exact and res.n_resamples == math.comb(6, 3)
    assert res.warnings == (
        "fewer than 5 samples on one side (3 reference, 3 candidate in all): "
        "the test has almost no power",
    )
    everything = ref + cand
    gram = brute_hamming(everything, everything)
    null = []
    for chosen in itertools.combinations(range(6), 3):
        order = list(chosen) + [i for i in range(6) if i not in chosen]
        null.append(brute_mmd2(gram[np.ix_(order, order)], 3))
    got = res.results["mmd_hamming"]
    np.testing.assert_allclose(got.null_distribution, null, atol=1e-12)
    assert got.pvalue == pytest.approx(np.mean(np.array(null) >= null[0] - 1e-9))
    assert res.details == {"design": "pooled", "kernel": "hamming"}
    assert res.method == "Westfall–Young single-step min-p over mmd_hamming"
    assert got.method == "exact permutation test (all 20 splits)"


@pytest.mark.parametrize("kernel", ["hamming", "ngram"])
def test_prompt_stratified_exact_enumeration_equals_brute_force(kernel):
    """Ragged strata: prompt "b" has 2 + 2 completions, "a" 2 + 3 and 7 has 3 + 2."""
    g = np.random.default_rng(2)
    ref_prompts = ["a", "b", "a", 7, "b", 7, 7]
    cand_prompts = ["b", "a", "a", 7, "b", "a", 7]
    ref = ["".join(g.choice(list("xyz"), size=g.integers(1, 6))) for _ in ref_prompts]
    cand = ["".join(g.choice(list("xyz"), size=g.integers(1, 6))) for _ in cand_prompts]
    total = math.comb(5, 2) * math.comb(4, 2) * math.comb(5, 3)
    res = text_two_sample_test(
        ref,
        cand,
        reference_prompts=ref_prompts,
        candidate_prompts=cand_prompts,
        kernel=kernel,
        ngram=2,
        n_resamples=total,
    )
    assert res.exact and res.n_resamples == total == 600
    fn = hamming_kernel if kernel == "hamming" else (lambda a, b: ngram_kernel(a, b, n=2))
    null = brute_stratified(ref, cand, ref_prompts, cand_prompts, fn)
    got = res.results[f"mmd_{kernel}"]
    np.testing.assert_allclose(got.null_distribution, null, atol=1e-12)
    assert got.pvalue == pytest.approx(np.mean(null >= null[0] - 1e-9), abs=1e-12)
    assert got.method == f"exact within-prompt permutation test (all {total} relabellings)"
    assert res.details["n_prompts"] == 3 and res.details["design"] == "prompt-stratified"
    terms = res.details["contributions"][f"mmd_{kernel}"]
    assert {row[0] for row in terms} == {"a", "b", 7}
    assert math.fsum(row[1] for row in terms) == pytest.approx(null[0], abs=1e-12)


def test_two_dimensional_token_array_equals_list_of_lists():
    g = np.random.default_rng(3)
    ref, cand = g.integers(0, 5, size=(12, 4)), g.integers(0, 5, size=(12, 4))
    a = text_two_sample_test(ref, cand, n_resamples=99, rng=0)
    b = text_two_sample_test(ref.tolist(), cand.tolist(), n_resamples=99, rng=0)
    assert json.dumps(a.to_dict()) == json.dumps(b.to_dict())
    assert a.dim == 4 and (a.n_x, a.n_y) == (12, 12)


def test_type_one_error_is_calibrated():
    """H0: both sides from the same Markov chain per prompt (prompt-stratified, ragged 3 + 4
    completions per prompt), and from one chain (pooled, 6 + 7): rejection rates at α = 0.05 in
    their 99% binomial interval (B = 99, so P(p ≤ 0.05) = 5/100 up to ties)."""
    reps = 300
    chains = prompt_chains(np.random.default_rng(4), 4, vocab=6)
    prompts_ref, prompts_cand = np.repeat(np.arange(4), 3), np.repeat(np.arange(4), 4)
    stratified = pooled = 0
    for seed in range(reps):
        s = np.random.default_rng(10_000 + seed)
        ref = np.vstack([markov(s, 3, 10, t, p0) for t, p0 in chains])
        cand = np.vstack([markov(s, 4, 10, t, p0) for t, p0 in chains])
        res = text_two_sample_test(
            ref,
            cand,
            reference_prompts=prompts_ref,
            candidate_prompts=prompts_cand,
            n_resamples=99,
            rng=seed,
        )
        stratified += res.pvalue <= 0.05
        t0, p0 = chains[0]
        x, y = markov(s, 6, 10, t0, p0), markov(s, 7, 10, t0, p0)
        pooled += text_two_sample_test(x, y, n_resamples=99, rng=seed).pvalue <= 0.05
    low, high = scipy.stats.binom.interval(0.99, reps, 0.05)
    assert low <= stratified <= high
    assert low <= pooled <= high


@pytest.mark.parametrize("kernel", ["hamming", "ngram"])
def test_detects_a_temperature_change(kernel):
    """The candidate samples each prompt's chain at temperature 3 instead of 1 (8 prompts,
    10 + 10 completions of 10 tokens each): power ≥ 0.7 over 20 replicates."""
    reps, rejections = 20, 0
    for seed in range(reps):
        g = np.random.default_rng(seed)
        chains = prompt_chains(g, 8, vocab=5)
        hot = prompt_chains(np.random.default_rng(seed), 8, vocab=5, temperature=3.0)
        ref = np.vstack([markov(g, 10, 10, t, p0) for t, p0 in chains])
        cand = np.vstack([markov(g, 10, 10, t, p0) for t, p0 in hot])
        prompts = np.repeat([f"p{i}" for i in range(8)], 10)
        res = text_two_sample_test(
            ref,
            cand,
            reference_prompts=prompts,
            candidate_prompts=prompts,
            kernel=kernel,
            ngram=2,
            n_resamples=99,
            rng=seed,
        )
        rejections += res.pvalue <= 0.05
    assert rejections >= 14


def test_contributions_point_at_the_changed_prompts():
    g = np.random.default_rng(5)
    chains = prompt_chains(g, 10, vocab=4)
    changed = {2, 7}
    ref = np.vstack([markov(g, 8, 6, t, p0) for t, p0 in chains])
    cand = np.vstack(
        [
            markov(g, 8, 6, t, p0) if i not in changed else np.full((8, 6), 3)
            for i, (t, p0) in enumerate(chains)
        ]
    )
    prompts = np.repeat(np.arange(10), 8)
    res = text_two_sample_test(
        ref,
        cand,
        reference_prompts=prompts,
        candidate_prompts=prompts,
        n_resamples=99,
        rng=0,
        top=2,
    )
    assert res.pvalue == pytest.approx(0.01)
    assert {row[0] for row in res.details["contributions"]["mmd_hamming"]} == changed


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"reference_prompts": ["a", "a", "b", "b"], "candidate_prompts": ["a", "a", "c", "c"]},
            r"got 1 prompt only in `reference_prompts` \('b'\); 1 prompt only in `candidate_",
        ),
        (
            {"reference_prompts": ["a", "a", "a", "b"], "candidate_prompts": ["a", "a", "b", "b"]},
            r"at least 2 completions on each side .* 'b' \(1 reference, 2 candidate\)",
        ),
        ({"reference_prompts": ["a"] * 4}, r"give both .* got only `reference_prompts`"),
        (
            {"reference_prompts": ["a"] * 3, "candidate_prompts": ["a"] * 4},
            r"`reference_prompts` must hold one prompt per sample .* got 3 prompts for 4",
        ),
        (
            {"reference_prompts": [1.5] * 4, "candidate_prompts": ["a"] * 4},
            r"`reference_prompts`: prompt 0 must be a string or an integer id; got 1.5",
        ),
        ({"kernel": "cosine"}, r"`kernel` must be one of"),
        ({"ngram": 0}, r"`ngram` must be an integer >= 1"),
        ({"top": -2}, r"`top` must be an integer >= 0"),
    ],
)
def test_bad_options_name_the_parameter(kwargs, match):
    ref = [[1, 2], [2, 3], [1, 1], [0, 2]]
    with pytest.raises(ParityInputError, match=match):
        text_two_sample_test(ref, ref, **kwargs)


@pytest.mark.parametrize(
    ("ref", "cand", "match"),
    [
        ("abc", ["a", "b"], r"`reference` must be a collection .* single string"),
        (["a", [1, 2]], ["a", "b"], r"`reference` mixes strings and token sequences"),
        ([[1, -2], [1]], [[1], [2]], r"`reference`: sample 0 has token id -2"),
        ([[1.5], [1]], [[1], [2]], r"`reference`: sample 0 must be a string or a sequence"),
        (["a"], ["a", "b"], r"`reference` must have at least 2 samples; got 1"),
        (["a", "b"], [[1], [2]], r"same kind of samples; got text and tokens"),
    ],
)
def test_bad_samples_name_the_parameter(ref, cand, match):
    with pytest.raises(ParityInputError, match=match):
        text_two_sample_test(ref, cand)


# --------------------------------------------------------------------------- loader


def write(tmp_path: Path, name: str, lines: list[str]) -> str:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_load_completions_with_prompts(tmp_path):
    path = write(
        tmp_path,
        "ref.jsonl",
        [
            json.dumps({"prompt": "Say hi", "completion": "hi"}),
            "",
            json.dumps({"prompt": "Say hi", "completion": "hello"}),
            json.dumps({"prompt": "Count", "completion": "1 2 3"}),
        ],
    )
    got = load_text_samples(path)
    assert got == TextSamples(("Say hi", "Say hi", "Count"), ("hi", "hello", "1 2 3"), "text")


def test_load_tokens_with_prompt_ids_and_without_prompts(tmp_path):
    path = write(
        tmp_path,
        "t.jsonl",
        [
            json.dumps({"prompt_id": 3, "tokens": [5, 0, 2]}),
            json.dumps({"prompt_id": "x", "tokens": []}),
        ],
    )
    assert load_text_samples(path) == TextSamples((3, "x"), ((5, 0, 2), ()), "tokens")
    bare = write(tmp_path, "b.jsonl", ['{"tokens": [1]}', '{"tokens": [2, 3]}'])
    assert load_text_samples(bare) == TextSamples(None, ((1,), (2, 3)), "tokens")


def test_loaded_samples_feed_the_test(tmp_path):
    lines = [
        json.dumps({"prompt": p, "completion": c})
        for p in ("p", "q")
        for c in ("aaa", "aab", "abb")
    ]
    data = load_text_samples(write(tmp_path, "r.jsonl", lines))
    res = text_two_sample_test(
        data.samples,
        data.samples,
        reference_prompts=data.prompts,
        candidate_prompts=data.prompts,
        n_resamples=10**4,
    )
    assert res.exact and res.pvalue > 0.5


@pytest.mark.parametrize(
    ("lines", "match"),
    [
        (['{"completion": "a"}', '{"completion": "b"'], r"x\.jsonl: line 2 is not valid JSON"),
        (
            ['{"completion": "a"}', '{"completion": 5}'],
            r"x\.jsonl: line 2, field `completion` must be a string; got 5",
        ),
        (
            ['{"tokens": [1]}', '{"tokens": [1, -4]}'],
            r"line 2, field `tokens` item 1 is -4; token ids must be non-negative integers",
        ),
        (['{"tokens": [1]}', '{"tokens": [true]}'], r"line 2, field `tokens` item 0 is true"),
        (['{"tokens": [1]}', '{"tokens": "12"}'], r"line 2, field `tokens` must be a list"),
        (
            ['{"prompt": 1.5, "completion": "a"}', '{"prompt": 2, "completion": "b"}'],
            r"line 1, field `prompt` must be a string or an integer id; got 1\.5",
        ),
        (
            ['{"text": "a"}', '{"text": "b"}'],
            r"line 1 has no `completion` or `tokens` field \(fields: `text`\)",
        ),
        (['{"completion": "a", "tokens": [1]}'] * 2, r"both `completion` and `tokens`"),
        (
            ['{"prompt": "p", "completion": "a"}', '{"completion": "b"}'],
            r"line 2 has other keys than line 1 \(missing `prompt`\)",
        ),
        (['{"completion": "a"}'], r"x\.jsonl: has 1 record; at least 2 completions"),
        (["[1, 2]", "[3, 4]"], r"line 1 is not a JSON object"),
    ],
)
def test_loader_errors_are_one_line_with_line_and_field(tmp_path, monkeypatch, lines, match):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "x.jsonl", lines)
    with pytest.raises(ParityInputError, match=match) as excinfo:
        load_text_samples("x.jsonl")
    assert "\n" not in str(excinfo.value)


def test_loader_rejects_other_file_types(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("x.csv").write_text("completion\na\nb\n")
    with pytest.raises(ParityInputError, match=r"x\.csv: text samples are read from a \.jsonl"):
        load_text_samples("x.csv")
    with pytest.raises(ParityInputError, match=r"missing\.jsonl: file not found"):
        load_text_samples("missing.jsonl")


def test_no_parity_warning_on_ordinary_data():
    with warnings.catch_warnings():
        warnings.simplefilter("error", ParityWarning)
        res = text_two_sample_test(
            ["ab", "ba", "aa", "b", "a"], ["bb", "ab", "ba", "a", "aa"], n_resamples=99, rng=0
        )
    assert res.warnings == ()


def test_identical_completions_warn_and_are_recorded():
    with pytest.warns(DegenerateDataWarning, match="all completions are identical"):
        res = text_two_sample_test(["same"] * 6, ["same"] * 6, n_resamples=99, rng=0)
    assert res.pvalue == 1.0 and "identical" in res.warnings[0]
