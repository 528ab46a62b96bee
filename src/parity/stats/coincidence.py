"""Exact tests of coincidences against chance: same-seed matches and identical runs.

Two shortcut checks of a suite look for results that are *equal*: a candidate's result file
byte-identical to the reference's of the same seed (a copied result) and a system whose runs
report the same metrics on every seed (the seed ignored). Independent runs can be equal by
chance when results take few values (Atari scores are often small integers), so both are
tested against how often the data's own runs coincide, with exact permutation tests that
condition on the values observed:

* :func:`same_seed_matches_test`: are there more same-seed matches than a random re-pairing of
  the seeds gives? The cross-seed pairs measure the chance rate.
* :func:`identical_runs_test`: are one system's runs all equal more often than ``n`` runs drawn
  from both systems' runs together would be?

Labels are any hashable values (file digests, tuples of metrics); ``None`` is "nothing to
compare" and equals nothing.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Hashable, Sequence

from parity.errors import ParityInputError
from parity.stats._common import ResultMixin


@dataclasses.dataclass(frozen=True, slots=True)
class SameSeedMatchesResult(ResultMixin):
    """Same-seed matches between two seed-aligned lists of labels, against chance.

    Attributes
    ----------
    n : int
        Seeds (positions) compared.
    matches : int
        Seeds whose two labels are equal (neither ``None``), among the labels tested.
    repeated_matches : int
        With ``ignore_repeated``, the same-seed matches left out because one system repeats
        the label; else 0.
    cross_matches : int
        Equal labels among the ``n(n − 1)`` pairs of *different* seeds.
    chance_rate : float
        ``cross_matches / (n(n − 1))``: how often two independent runs coincide (NaN for
        ``n < 2``).
    expected : float
        Mean of the matches under the null, ``(matches + cross_matches) / n``.
    pvalue : float
        ``P(X ≥ matches)``, ``X`` the matches after a uniformly random re-pairing of the seeds
        (exact).
    min_pvalue : float
        The smallest p-value these labels could give: ``P(X ≥ K)`` for ``K`` the most matches
        any pairing allows (1 when no label occurs on both sides).
    full_copy_pvalue : float
        The p-value had every candidate label been the reference's of its seed (a copy of every
        result): how far copies can be told from chance with these reference labels.
    """

    n: int
    matches: int
    repeated_matches: int
    cross_matches: int
    chance_rate: float
    expected: float
    pvalue: float
    min_pvalue: float
    full_copy_pvalue: float


@dataclasses.dataclass(frozen=True, slots=True)
class IdenticalRunsResult(ResultMixin):
    """Whether one system's runs are all equal, against the runs of both systems pooled.

    Attributes
    ----------
    n, n_other : int
        Runs of the system and of the other system.
    all_identical : bool
        ``n ≥ 2`` and every run of the system has the same label (not ``None``).
    other_matches : int
        Runs of the other system with that label (0 when not ``all_identical``).
    pvalue : float
        ``P(n runs drawn without replacement from the n + n_other pooled runs are all equal)``
        when ``all_identical``, else 1.
    min_pvalue : float
        That probability whatever the system's runs: the smallest p-value the pooled runs allow
        (1 when no label occurs ``n`` times in the pool).
    """

    n: int
    n_other: int
    all_identical: bool
    other_matches: int
    pvalue: float
    min_pvalue: float


def _labels(name: str, values: Sequence[Hashable | None]) -> list[Hashable | None]:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise ParityInputError(
            f"`{name}` must be a sequence of labels (one per seed); got {type(values).__name__}"
        )
    out = list(values)
    for i, v in enumerate(out):
        if not isinstance(v, Hashable):
            raise ParityInputError(
                f"`{name}[{i}]` must be hashable (a digest, a tuple of values); "
                f"got {type(v).__name__}"
            )
    return out


def _counts(labels: list[Hashable | None]) -> Counter:
    return Counter(v for v in labels if v is not None)


def _rook_numbers(blocks: list[tuple[int, int]]) -> list[int]:
    """Ways to place k non-attacking rooks on disjoint a × b rectangles, k = 0, 1, …"""
    rook = [1]
    for a, b in blocks:
        block = [
            math.comb(a, k) * math.comb(b, k) * math.factorial(k) for k in range(min(a, b) + 1)
        ]
        out = [0] * (len(rook) + len(block) - 1)
        for i, x in enumerate(rook):
            for j, y in enumerate(block):
                out[i + j] += x * y
        rook = out
    return rook


def _tail(blocks: list[tuple[int, int]], n: int, x: int) -> float:
    """``P(X ≥ x)`` for the hits ``X`` of a uniform random permutation of ``n`` on the board.

    With ``s_k = r_k (n − k)!`` (the permutations hitting a given set of k board cells, summed
    over the sets), inclusion–exclusion gives ``#{X ≥ x} = Σ_{k ≥ x} (−1)^(k−x) C(k−1, x−1) s_k``
    for ``x ≥ 1``; the counts are exact integers.
    """
    if x <= 0:
        return 1.0
    rook = _rook_numbers(blocks)
    count = sum(
        (-1) ** (k - x) * math.comb(k - 1, x - 1) * rook[k] * math.factorial(n - k)
        for k in range(x, len(rook))
    )
    return min(1.0, count / math.factorial(n))


def same_seed_matches_test(
    candidate: Sequence[Hashable | None],
    reference: Sequence[Hashable | None],
    *,
    ignore_repeated: bool = False,
) -> SameSeedMatchesResult:
    """Exact test: do the two systems' labels agree on the same seed more than by chance?

    ``candidate[i]`` and ``reference[i]`` are the labels (for example a result file's sha256)
    of seed ``i``. Under the null the seed links nothing between the two systems: the
    reference's runs are exchangeable, so every re-pairing of its seeds with the candidate's is
    equally likely. The statistic is the number of same-seed matches ``X``; its exact null
    distribution, given the labels, counts the permutations by their hits on a board of
    disjoint rectangles (one ``a_v × b_v`` block per label ``v`` found ``a_v`` times in the
    candidate and ``b_v`` times in the reference), from the block's rook numbers
    ``C(a, k) C(b, k) k!``. The test is one-sided (more matches than chance). The
    ``n(n − 1)`` cross-seed pairs give the chance rate; under the null ``X`` has mean
    ``(matches + cross_matches) / n``.

    With ``ignore_repeated`` a label that one system has on several seeds (an atom of its
    distribution: a score of 0 on a game it often fails) is left out on that side before the
    test (``repeated_matches`` counts the same-seed matches left out). Two systems can land on
    a shared atom on the same seed without copying, whenever the seed steers both runs alike;
    the rest of the labels are then tested, each occurring at most once per side, so the null
    is the number of fixed points of a random permutation among the cells where a
    candidate label equals a reference label.

    Parameters
    ----------
    candidate, reference : sequence of hashable or None
        One label per seed, same length; ``None`` (no file, an empty file) matches nothing.
    ignore_repeated : bool, default False
        Leave out the labels that occur more than once among one system's own labels.

    Returns
    -------
    SameSeedMatchesResult

    Raises
    ------
    ParityInputError
        The sequences differ in length or hold an unhashable item.

    Examples
    --------
    Continuous results never coincide across seeds, so copies of 3 of 20 stand out:

    >>> ref = [f"r{i}" for i in range(20)]
    >>> cand = ref[:3] + [f"c{i}" for i in range(3, 20)]
    >>> res = same_seed_matches_test(cand, ref)
    >>> res.matches, res.cross_matches, round(res.pvalue, 7)    # 17!/20! = 1/6840
    (3, 0, 0.0001462)

    Small-integer scores coincide often: 3 matches are what chance gives.

    >>> ref = [0, 1, 2, 0, 1, 2, 0, 1, 2]
    >>> cand = [0, 2, 1, 1, 1, 0, 2, 0, 2]
    >>> res = same_seed_matches_test(cand, ref)
    >>> res.matches, res.cross_matches, round(res.chance_rate, 3), res.expected
    (3, 24, 0.333, 3.0)
    >>> round(res.pvalue, 3), round(res.full_copy_pvalue, 6)
    (0.613, 0.000595)

    Leaving out the values each system repeats, nothing is left to tell copies from chance:

    >>> res = same_seed_matches_test(cand, ref, ignore_repeated=True)
    >>> res.matches, res.repeated_matches, res.pvalue, res.full_copy_pvalue
    (0, 3, 1.0, 1.0)
    """
    cand = _labels("candidate", candidate)
    ref = _labels("reference", reference)
    if len(cand) != len(ref):
        raise ParityInputError(
            f"`candidate` and `reference` must have one label per seed each; got {len(cand)} "
            f"and {len(ref)}"
        )
    n = len(cand)
    repeated = 0
    if ignore_repeated:
        a, b = _counts(cand), _counts(ref)
        kept_c = [c if c is not None and a[c] == 1 else None for c in cand]
        kept_r = [r if r is not None and b[r] == 1 else None for r in ref]
        repeated = sum(
            1
            for c, r, kc, kr in zip(cand, ref, kept_c, kept_r, strict=True)
            if c is not None and c == r and (kc is None or kr is None)
        )
        cand, ref = kept_c, kept_r
    a, b = _counts(cand), _counts(ref)
    blocks = sorted((a[v], b[v]) for v in a if v in b)
    matches = sum(1 for c, r in zip(cand, ref, strict=True) if c is not None and c == r)
    equal_pairs = sum(x * y for x, y in blocks)
    ref_blocks = sorted((k, k) for k in b.values())
    return SameSeedMatchesResult(
        n=n,
        matches=matches,
        repeated_matches=repeated,
        cross_matches=equal_pairs - matches,
        chance_rate=(equal_pairs - matches) / (n * (n - 1)) if n >= 2 else math.nan,
        expected=equal_pairs / n if n else 0.0,
        pvalue=_tail(blocks, n, matches),
        min_pvalue=_tail(blocks, n, sum(min(x, y) for x, y in blocks)),
        full_copy_pvalue=_tail(ref_blocks, n, sum(b.values())),
    )


def identical_runs_test(
    values: Sequence[Hashable | None], others: Sequence[Hashable | None]
) -> IdenticalRunsResult:
    """Exact test: are a system's runs all equal more often than chance allows?

    ``values`` are the labels of one system's runs on a task (for example the tuple of its
    metrics on each seed), ``others`` those of the other system on the same task. Under the null
    the two systems' runs are exchangeable, so the system's ``n`` runs are a random ``n``-subset
    of the ``N = n + n_other`` pooled runs; the p-value of "all ``n`` are equal" is the
    hypergeometric ``Σ_v C(c_v, n) / C(N, n)``, ``c_v`` the pooled count of label ``v``. When the
    other system's runs also all have that one label, the p-value is 1: a system that ignores
    its seed cannot be told from chance.

    Parameters
    ----------
    values, others : sequence of hashable or None
        One label per run; ``None`` (nothing reported) equals nothing.

    Returns
    -------
    IdenticalRunsResult

    Raises
    ------
    ParityInputError
        A sequence holds an unhashable item.

    Examples
    --------
    >>> res = identical_runs_test([100.0] * 10, [float(x) for x in range(10)])
    >>> res.all_identical, res.other_matches, float(f"{res.pvalue:.4g}")   # 1 / C(20, 10)
    (True, 0, 5.413e-06)
    >>> identical_runs_test([0.0] * 10, [0.0] * 10).pvalue          # both always score 0
    1.0
    """
    own = _labels("values", values)
    other = _labels("others", others)
    n, total = len(own), len(own) + len(other)
    pool = _counts(own + other)
    first = own[0] if own else None
    all_identical = n >= 2 and first is not None and all(v == first for v in own)
    if n < 2:
        min_p = 1.0
    else:
        min_p = min(1.0, sum(math.comb(c, n) for c in pool.values()) / math.comb(total, n))
    return IdenticalRunsResult(
        n=n,
        n_other=len(other),
        all_identical=all_identical,
        other_matches=sum(1 for v in other if all_identical and v == first),
        pvalue=min_p if all_identical else 1.0,
        min_pvalue=min_p,
    )
