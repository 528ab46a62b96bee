"""Text and discrete outputs: does an optimized or API-served LLM give the same completions?

Following *Model Equality Testing: Which Model Is This API Serving?* (Gao, Liang & Guestrin,
ICLR 2025, arXiv:2410.20247): sample completions of the reference and of the candidate on a
shared set of prompts and run a kernel MMD two-sample test on the completions.

Kernels (both are inner products of explicit feature maps, hence positive semidefinite):

* :func:`hamming_kernel` — the paper's Hamming kernel on token sequences padded to a common
  length L, normalized so that ``k(x, x) = 1``: ``k(x, y) = (1/L) Σ_{l<L} 1[x_l = y_l]``, the
  fraction of the L positions where the tokens agree. Feature map: one-hot (position, token).
  Strings are compared code point by code point.
* :func:`ngram_kernel` — cosine similarity of n-gram count vectors (character n-grams of
  strings, token n-grams of token sequences). Feature map: counts normalized to unit length.

Test (:func:`text_two_sample_test`). With prompts, the statistic is prompt-stratified:
``Σ_p MMD²_u(x_p, y_p)``, the sum over prompts of the unbiased within-prompt MMD², and labels are
permuted within each prompt (exact under "same completion distribution for every prompt"); it
reuses the engine of :mod:`parity.stats.conditional`, with strata of equal sizes batched
together. The paper's statistic instead sets the kernel to 0 across prompts and normalizes by the
total pair counts; with the same number of completions per prompt the two are proportional.
Without prompts it is the pooled MMD² permutation test with that kernel.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Hashable, Sequence
from functools import partial
from typing import Any, Literal

import numpy as np

from parity.errors import DegenerateDataWarning, ParityInputError, check_positive_int
from parity.stats._common import RngLike, as_generator
from parity.stats._engine import (
    DEFAULT_AGGREGATION,
    Statistic,
    TwoSampleTestResult,
    check_aggregation,
    recording_warnings,
)
from parity.stats.conditional import (
    Component,
    StratumGroup,
    assemble_result,
    resolve_precision,
    stratified_null,
    strongest_column,
    top_contributions,
    warn_few_samples_in_all,
)
from parity.stats.two_sample import collection_from_distances, mmd2_from_sums

KERNELS = ("hamming", "ngram")
PAD = -1  # padding token of the Hamming kernel (token ids are non-negative)
MIN_SAMPLES = 2
_SHOWN = 5
MAX_COLLECTION_PAIRS = 2**22  # within-prompt pairs the bandwidth collection is read from


# --------------------------------------------------------------------------- samples


def _int_tokens(name: str, i: int, seq: Any) -> np.ndarray:
    """One token sequence as a 1-D int64 array of non-negative ids, or raise."""
    arr = np.asarray(seq)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        if arr.ndim == 1 and arr.dtype == object and all(_is_int(t) for t in arr):
            arr = arr.astype(np.int64)
        else:
            raise ParityInputError(
                f"`{name}`: sample {i} must be a string or a sequence of integer token ids; "
                f"got {_describe(seq)}"
            )
    arr = arr.astype(np.int64)
    if arr.size and arr.min() < 0:
        raise ParityInputError(
            f"`{name}`: sample {i} has token id {int(arr.min())}; token ids must be >= 0"
        )
    return arr


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _sequences(name: str, samples: Any) -> tuple[str, list]:
    """``("text", [str, ...])`` or ``("tokens", [int64 array, ...])``; validates each sample."""
    if isinstance(samples, str | bytes):
        raise ParityInputError(
            f"`{name}` must be a collection of samples (strings or token sequences); "
            "got a single string"
        )
    if isinstance(samples, np.ndarray) and samples.dtype.kind in "iu" and samples.ndim == 2:
        return "tokens", [_int_tokens(name, i, row) for i, row in enumerate(samples)]
    try:
        items = list(samples)
    except TypeError:
        raise ParityInputError(
            f"`{name}` must be a list of strings or of token-id sequences; "
            f"got {type(samples).__name__}"
        ) from None
    if items and all(isinstance(s, str | np.str_) for s in items):
        return "text", [str(s) for s in items]
    for i, s in enumerate(items):
        if isinstance(s, str | np.str_):
            raise ParityInputError(
                f"`{name}` mixes strings and token sequences (sample {i} is a string); use one kind"
            )
    return "tokens", [_int_tokens(name, i, s) for i, s in enumerate(items)]


def as_text_samples(name: str, samples: Any) -> tuple[str, list]:
    """``("text", [str, ...])`` or ``("tokens", [int64 array, ...])`` from user input.

    Accepts a list (or 1-D array) of strings, a 2-D integer array, or a list of integer lists
    (ragged lengths allowed); token ids must be non-negative integers; at least 2 samples.

    Examples
    --------
    >>> as_text_samples("x", ["ab", "c"])
    ('text', ['ab', 'c'])
    >>> kind, seqs = as_text_samples("x", [[1, 2], [3]])
    >>> kind, [s.tolist() for s in seqs]
    ('tokens', [[1, 2], [3]])
    """
    kind, seqs = _sequences(name, samples)
    if len(seqs) < MIN_SAMPLES:
        raise ParityInputError(
            f"`{name}` must have at least {MIN_SAMPLES} samples; got {len(seqs)}"
        )
    return kind, seqs


def _pair(a: Any, b: Any) -> tuple[list, list]:
    """The samples of a kernel's two arguments, checked to be of the same kind."""
    kind_a, seqs_a = _sequences("a", a)
    kind_b, seqs_b = _sequences("b", b)
    if seqs_a and seqs_b and kind_a != kind_b:
        raise ParityInputError(
            f"`a` and `b` must be the same kind of samples; got {kind_a} and {kind_b}"
        )
    return seqs_a, seqs_b


def _key(seq) -> str | tuple[int, ...]:
    """A hashable form of one sample."""
    return seq if isinstance(seq, str) else tuple(seq.tolist())


def _code_points(seqs: list) -> list[np.ndarray]:
    """Strings as arrays of Unicode code points; token arrays unchanged."""
    return [
        np.frombuffer(s.encode("utf-32-le"), dtype="<u4").astype(np.int64)
        if isinstance(s, str)
        else s
        for s in seqs
    ]


# --------------------------------------------------------------------------- feature maps


def _csr(row_sizes: Sequence[int], cols: np.ndarray, data: np.ndarray, n_cols: int):
    """Sparse CSR matrix whose row i holds the next ``row_sizes[i]`` (column, value) pairs."""
    from scipy.sparse import csr_matrix

    indptr = np.concatenate([[0], np.cumsum(row_sizes, dtype=np.int64)])
    return csr_matrix((data, cols, indptr), shape=(len(row_sizes), n_cols))


def hamming_features(seqs: Sequence, length: int | None = None):
    """One-hot (position, token) features of sequences padded with PAD (or truncated) to L.

    ``L = length``, or the longest sequence (at least 1). Returns ``(F, L)`` with F a sparse
    (N × features) 0/1 matrix with L ones per row, so ``F F' / L`` is the Hamming kernel.

    Examples
    --------
    >>> f, length = hamming_features([[1, 2], [1]])
    >>> (f @ f.T).toarray() / length
    array([[1. , 0.5],
           [0.5, 1. ]])
    """
    arrays = [np.asarray(s, dtype=np.int64) for s in _code_points(list(seqs))]
    longest = max((a.size for a in arrays), default=0)
    length = max(longest, 1) if length is None else check_positive_int("length", length)
    padded = np.full((len(arrays), length), PAD, dtype=np.int64)
    for i, a in enumerate(arrays):
        padded[i, : min(a.size, length)] = a[:length]
    tokens, dense = np.unique(padded, return_inverse=True)
    keys = np.arange(length, dtype=np.int64) * tokens.size + dense.reshape(padded.shape)
    uniques, cols = np.unique(keys.ravel(), return_inverse=True)
    sizes = [length] * len(arrays)
    return _csr(sizes, cols.ravel(), np.ones(cols.size), uniques.size), length


def _ngrams(seq, n: int) -> list:
    """The n-grams of a string (substrings) or token array (tuples); a shorter one is one gram."""
    items = seq if isinstance(seq, str) else tuple(seq.tolist())
    if len(items) < n:
        return [items]
    return [items[i : i + n] for i in range(len(items) - n + 1)]


def ngram_features(seqs: Sequence, n: int = 3):
    """n-gram count vectors normalized to unit Euclidean length, as a sparse (N × grams) matrix.

    Character n-grams of strings, token n-grams of token sequences; a sequence shorter than n
    (the empty one included) has the single feature "the whole sequence".

    Examples
    --------
    >>> f = ngram_features(["abab", "ab"], n=2)
    >>> np.round((f @ f.T).toarray(), 4)  # ab×2 + ba vs ab: 2 / √5
    array([[1.    , 0.8944],
           [0.8944, 1.    ]])
    """
    n = check_positive_int("ngram", n)
    vocabulary: dict[Any, int] = {}
    sizes, cols, data = [], [], []
    for seq in seqs:
        counts = Counter(_ngrams(seq if isinstance(seq, str) else np.asarray(seq), n))
        ids = np.array([vocabulary.setdefault(g, len(vocabulary)) for g in counts], np.int64)
        values = np.array(list(counts.values()), dtype=np.float64)
        sizes.append(ids.size)
        cols.append(ids)
        data.append(values / np.sqrt(np.sum(values**2)))
    return _csr(sizes, np.concatenate(cols), np.concatenate(data), len(vocabulary))


def hamming_kernel(a, b, *, length: int | None = None) -> np.ndarray:
    """Hamming kernel of Gao et al. (2025): the fraction of positions where the tokens agree.

    ``k(x, y) = (1/L) Σ_{l<L} 1[x_l = y_l]`` on sequences padded with a padding token to the
    common length L: the Hamming kernel ``Σ_l 1[x_l = y_l]`` of Gao, Liang & Guestrin, *Model
    Equality Testing* (arXiv:2410.20247), on completions padded to the maximum length L,
    normalized as in their implementation so that ``k(x, x) = 1``. Two sequences that both
    ended before position l agree there (padding matches padding). ``L = length`` (longer
    sequences are truncated) or the longest sequence in ``a`` and ``b``. Strings are compared
    code point by code point.

    Parameters
    ----------
    a, b : sequence of token-id sequences (or 2-D int array) or of strings

    Returns
    -------
    numpy.ndarray
        (len(a) × len(b)) kernel matrix, float64.

    Examples
    --------
    >>> hamming_kernel([[1, 2, 3]], [[1, 2, 4], [1, 2, 3], [1]]).round(4)
    array([[0.6667, 1.    , 0.3333]])
    """
    a, b = _pair(a, b)
    features, length = hamming_features(a + b, length)
    return (features[: len(a)] @ features[len(a) :].T).toarray() / length


def ngram_kernel(a, b, n: int = 3) -> np.ndarray:
    """Cosine similarity of n-gram count vectors: ``<c(x), c(y)> / (|c(x)| |c(y)|)``.

    ``c(x)`` counts each n-gram (n consecutive characters of a string, or n consecutive tokens
    of a token sequence) of x; a sequence shorter than n has the single n-gram "itself".

    Returns
    -------
    numpy.ndarray
        (len(a) × len(b)) kernel matrix, float64.

    Examples
    --------
    >>> ngram_kernel(["abcd"], ["abcd", "bcde", "xyz"], n=3).round(4)
    array([[1. , 0.5, 0. ]])
    """
    a, b = _pair(a, b)
    features = ngram_features(a + b, n)
    return (features[: len(a)] @ features[len(a) :].T).toarray()


# --------------------------------------------------------------------------- strata


def _as_prompts(name: str, prompts: Any, n_samples: int, samples_name: str) -> list[Hashable]:
    try:
        items = list(prompts)
    except TypeError:
        raise ParityInputError(
            f"`{name}` must be a sequence of prompt ids (one per sample); "
            f"got {type(prompts).__name__}"
        ) from None
    if len(items) != n_samples:
        raise ParityInputError(
            f"`{name}` must hold one prompt per sample of `{samples_name}`; "
            f"got {len(items)} prompts for {n_samples} samples"
        )
    out = []
    for i, p in enumerate(items):
        if isinstance(p, str | np.str_):
            out.append(str(p))
        elif _is_int(p):
            out.append(int(p))
        else:
            raise ParityInputError(
                f"`{name}`: prompt {i} must be a string or an integer id; got {_describe(p)}"
            )
    return out


def _shown(labels: Sequence[Any]) -> str:
    text = ", ".join(repr(p) for p in labels[:_SHOWN])
    return text + (", …" if len(labels) > _SHOWN else "")


def _strata(ref_prompts: list, cand_prompts: list) -> tuple[list, list, list]:
    """Prompt labels (reference order of first appearance) and each prompt's sample indices."""
    ref_rows: dict[Hashable, list[int]] = {}
    cand_rows: dict[Hashable, list[int]] = {}
    for i, p in enumerate(ref_prompts):
        ref_rows.setdefault(p, []).append(i)
    for i, p in enumerate(cand_prompts):
        cand_rows.setdefault(p, []).append(i)
    only_ref = [p for p in ref_rows if p not in cand_rows]
    only_cand = [p for p in cand_rows if p not in ref_rows]
    if only_ref or only_cand:
        parts = [
            f"{len(only)} {'prompt' if len(only) == 1 else 'prompts'} only in `{side}` "
            f"({_shown(only)})"
            for only, side in ((only_ref, "reference_prompts"), (only_cand, "candidate_prompts"))
            if only
        ]
        raise ParityInputError(
            "every prompt needs completions on both sides; got " + "; ".join(parts)
        )
    labels = list(ref_rows)
    few = [p for p in labels if min(len(ref_rows[p]), len(cand_rows[p])) < MIN_SAMPLES]
    if few:
        counts = ", ".join(
            f"{p!r} ({len(ref_rows[p])} reference, {len(cand_rows[p])} candidate)"
            for p in few[:_SHOWN]
        ) + (", …" if len(few) > _SHOWN else "")
        raise ParityInputError(
            f"every prompt needs at least {MIN_SAMPLES} completions on each side (the unbiased "
            f"within-prompt MMD²); {len(few)} prompts have fewer: {counts}"
        )
    return labels, [ref_rows[p] for p in labels], [cand_rows[p] for p in labels]


def _similarities(features, scale, ref_idx, cand_idx, n_ref) -> dict:
    """Per stratum size (k_ref, k_cand): the members and their (g × K × K) kernel similarities."""
    by_size: dict[tuple[int, int], list[int]] = {}
    for s, (r, c) in enumerate(zip(ref_idx, cand_idx, strict=True)):
        by_size.setdefault((len(r), len(c)), []).append(s)
    out = {}
    for size, members in by_size.items():
        blocks = []
        for s in members:
            rows = np.concatenate([np.asarray(ref_idx[s]), n_ref + np.asarray(cand_idx[s])])
            block = features[rows]
            blocks.append(np.clip((block @ block.T).toarray() * scale, 0.0, 1.0))
        out[size] = (members, np.stack(blocks))
    return out


def text_collection(similarities: dict) -> tuple[float, ...]:
    """Bandwidths of the Gaussian family ``exp(-(1 − s)/λ²)`` of a text kernel ``s``.

    ``1 − s`` is half the squared Euclidean distance of the completions' unit feature vectors
    (one-hot tokens over √L, or normalized n-gram counts), so ``exp(-(1 − s)/λ²)`` is a
    Gaussian kernel of bandwidth λ on them; λ spans
    :func:`parity.stats.two_sample.collection_from_distances` of the within-prompt distances
    ``√(2(1 − s))`` (at most 2^22 pairs, from evenly spaced strata).
    """
    distances = []
    for _, sims in similarities.values():
        upper = np.triu_indices(sims.shape[1], 1)
        distances.append(np.sqrt(2 * (1 - sims[:, upper[0], upper[1]])).ravel())
    pairs = np.concatenate(distances)
    if pairs.size > MAX_COLLECTION_PAIRS:
        pairs = pairs[np.linspace(0, pairs.size - 1, MAX_COLLECTION_PAIRS).round().astype(int)]
    return collection_from_distances(pairs)


def _groups(similarities: dict, transforms, dtype) -> list[StratumGroup]:
    """Strata of equal (reference, candidate) sizes stacked into groups of Gram blocks, one
    block per component (``transforms`` of the similarities)."""
    groups = []
    for (k_ref, _), (members, sims) in similarities.items():
        grams = np.stack([f(sims) for f in transforms], axis=1)
        groups.append(StratumGroup(np.asarray(members), k_ref, grams, dtype))
    return groups


def text_two_sample_test(
    reference,
    candidate,
    *,
    reference_prompts=None,
    candidate_prompts=None,
    kernel: Literal["hamming", "ngram"] = "hamming",
    aggregation: Literal["agg", "fuse", "sum"] = DEFAULT_AGGREGATION,
    ngram: int = 3,
    n_resamples: int = 1000,
    rng: RngLike = None,
    tie_rtol: float | None = None,
    top: int = 10,
) -> TwoSampleTestResult:
    """MMD² permutation test of two sets of completions (token sequences or strings).

    With prompts, the statistic is the sum over prompts of the unbiased within-prompt MMD² and
    labels are permuted within each prompt (prompt-stratified, as §1 of
    :func:`parity.stats.conditional.conditional_two_sample_test`); without, it is the pooled
    unbiased MMD² permutation test. The kernel is :func:`hamming_kernel` (padding to the longest
    completion) or :func:`ngram_kernel`.

    Parameters
    ----------
    reference, candidate : list of str, list of int lists, or 2-D int array
        Completions of each model; both of the same kind.
    reference_prompts, candidate_prompts : sequence of str or int, optional
        The prompt of each completion; give both or neither. Every prompt needs at least 2
        completions on each side; a prompt present on one side only is an error.
    kernel : {"hamming", "ngram"}
        Kernel on completions; statistic names "mmd_hamming" / "mmd_ngram".
    aggregation : {"agg", "fuse", "sum"}
        ``agg``/``fuse`` (as in :func:`parity.stats.two_sample_test`): the Gaussian family
        ``exp(-(1 − s)/λ²)`` of the kernel ``s`` over the bandwidths of
        :func:`text_collection`, each its own statistic on the same relabellings; ``sum``: the
        kernel ``s`` alone (parity 0.1's test).
    ngram : int
        n of the n-gram kernel.
    n_resamples : int
        Number B of random relabellings; all are enumerated when there are at most B.
    rng : None, int or numpy.random.Generator
        Source of the random relabellings.
    tie_rtol : float, optional
        Relative tie tolerance (default 1e-10, or 1e-6 with float32 products, used from 2048
        completions in one stratum).
    top : int
        Number of prompts listed in ``details["contributions"]``.

    Returns
    -------
    TwoSampleTestResult
        ``dim`` is the padded length L (Hamming) or the number of distinct n-grams.
        ``details``: ``design`` ("prompt-stratified" or "pooled"), ``kernel``, and with prompts
        ``n_prompts`` and ``contributions`` (``[prompt, value, share]`` of the largest
        within-prompt MMD² terms).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ref = rng.choice(4, size=(40, 6), p=[0.4, 0.3, 0.2, 0.1])
    >>> cand = rng.choice(4, size=(40, 6), p=[0.1, 0.2, 0.3, 0.4])
    >>> prompts = np.repeat(["p0", "p1", "p2", "p3"], 10)
    >>> res = text_two_sample_test(ref, cand, reference_prompts=prompts,
    ...                            candidate_prompts=prompts, n_resamples=199, rng=1)
    >>> res.pvalue, res.details["n_prompts"]
    (0.005, 4)
    """
    if kernel not in KERNELS:
        raise ParityInputError(f"`kernel` must be one of {KERNELS}; got {kernel!r}")
    ngram = check_positive_int("ngram", ngram)
    n_resamples = check_positive_int("n_resamples", n_resamples)
    top = check_positive_int("top", top, minimum=0)
    kind_ref, ref = as_text_samples("reference", reference)
    kind_cand, cand = as_text_samples("candidate", candidate)
    if kind_ref != kind_cand:
        raise ParityInputError(
            f"`reference` and `candidate` must be the same kind of samples; got {kind_ref} "
            f"and {kind_cand}"
        )
    if (reference_prompts is None) != (candidate_prompts is None):
        given = "reference_prompts" if reference_prompts is not None else "candidate_prompts"
        raise ParityInputError(
            f"give both `reference_prompts` and `candidate_prompts` or neither; got only `{given}`"
        )
    stratified = reference_prompts is not None
    if stratified:
        ref_p = _as_prompts("reference_prompts", reference_prompts, len(ref), "reference")
        cand_p = _as_prompts("candidate_prompts", candidate_prompts, len(cand), "candidate")
        labels, ref_idx, cand_idx = _strata(ref_p, cand_p)
    else:
        labels, ref_idx, cand_idx = ["all"], [list(range(len(ref)))], [list(range(len(cand)))]
    largest = max(len(r) + len(c) for r, c in zip(ref_idx, cand_idx, strict=True))
    precision, dtype, tie_rtol = resolve_precision("auto", largest, tie_rtol)

    unit = "tokens" if kind_ref == "tokens" else "characters"
    if kernel == "hamming":
        features, length = hamming_features(ref + cand)
        scale, dim = 1.0 / length, length
        parameters = {
            "kernel": "hamming",
            "length": length,
            "padding": f"padded to the longest completion (L = {length}); padding matches padding",
            "compared": "tokens" if unit == "tokens" else "code points",
        }
    else:
        features = ngram_features(ref + cand, ngram)
        scale, dim = 1.0, features.shape[1]
        parameters = {"kernel": "ngram", "n": ngram, "grams_of": unit, "similarity": "cosine"}
    parameters["estimator"] = "unbiased"
    aggregation = check_aggregation(aggregation)
    name = f"mmd_{kernel}"
    similarities = _similarities(features, scale, ref_idx, cand_idx, len(ref))
    mmd = partial(mmd2_from_sums, estimator="unbiased")
    if aggregation == "sum":
        transforms = [lambda sims: sims]
        stats = [Statistic(name, (0,), parameters)]
    else:
        bws = text_collection(similarities)
        transforms = [partial(_gaussian_of_similarity, bandwidth=bw) for bw in bws]
        parameters["family"] = "exp(-(1 − s)/λ²), λ in powers of 2 (see text_collection)"
        described = tuple({"kernel": f"gaussian of {kernel}", "bandwidth": bw} for bw in bws)
        columns = tuple(range(len(bws)))
        stats = [
            Statistic(name, columns, parameters, aggregation if len(bws) > 1 else None, described)
        ]
    components = [Component(name, mmd, {}) for _ in transforms]
    notes: list[str] = []
    with recording_warnings(notes):
        warn_few_samples_in_all(len(ref), len(cand))
        if len({_key(seq) for seq in ref + cand}) == 1:
            warnings.warn(
                "all completions are identical: the test cannot tell the models apart",
                DegenerateDataWarning,
                stacklevel=2,
            )
    groups = _groups(similarities, transforms, dtype)
    outcome = stratified_null(groups, components, n_resamples, as_generator(rng))

    details: dict[str, Any] = {
        "design": "prompt-stratified" if stratified else "pooled",
        "kernel": kernel,
    }
    result = assemble_result(
        outcome,
        stats,
        unit="prompt" if stratified else None,
        n_resamples=n_resamples,
        precision=precision,
        tie_rtol=tie_rtol,
        counts=(len(ref), len(cand), dim),
        standardized=False,
        notes=tuple(notes),
        details=details,
    )
    if stratified:
        column = strongest_column(result.results[name], stats[0])
        details["n_prompts"] = len(labels)
        details["contributions"] = {
            name: top_contributions(outcome.observed[:, column], labels, top)
        }
    return result


def _gaussian_of_similarity(sims: np.ndarray, bandwidth: float) -> np.ndarray:
    return np.exp(-(1.0 - sims) / (bandwidth * bandwidth))


__all__ = [
    "KERNELS",
    "hamming_kernel",
    "ngram_kernel",
    "text_two_sample_test",
]
