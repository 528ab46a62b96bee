"""Every bound parity puts on a count-like parameter or an input, in one place.

The bounds are generous — far beyond what any analysis needs — but finite, so that a typo or a
hostile value ends in one ``error:`` line instead of hours of work or a MemoryError:

- :data:`MAX_RESAMPLES` (permutations, sign flips, bootstrap resamples, simulations): 10
  million. The Monte Carlo error of a p-value or a CI quantile from ``B`` draws is at most
  ``0.5/√B`` (1.6e-4 at the bound); each draw costs one pass over the data, so the bound is
  minutes of work on thousands of values, and the ``B`` results take ``8·B`` bytes (80 MB);
  the draws themselves are made in batches of bounded size.
- :data:`MAX_COUNT`: any other count (sizes, bins, windows, clusters, steps): one billion.
- :data:`MAX_SEED`: seeds are integers in ``[0, 2**63 − 1]``, the range of an SQLite INTEGER
  (the suite store records seeds); NumPy takes any of them.
- :data:`MAX_WORKERS`: parallel runners, 1024.
- JSON nesting: Python's recursion limit (about 1000 levels; real data nest a handful);
  deeper documents are one error line (:func:`parity.io.loads_json`).
- :data:`MAX_ARRAY_BYTES`: the memory an input array may declare (``.npy``/``.npz`` header
  shape × item size), 16 GiB; a header declaring more, or more than the file holds, is refused
  before anything is allocated.
- :data:`MAX_ABS_VALUE`: magnitude of a data value, 1e150, so that squares and variances of
  up to 1e8 values stay below the float64 maximum (1.8e308); values beyond it (which no
  measurement reaches) are refused instead of turning into inf/NaN statistics.
- :data:`MAX_KL_BINS`: cells of the binned-KL histograms of ``compare`` (bins per dimension ×
  dimensions), 2 million; more is refused with the numbers, before allocation.

Examples
--------
>>> limit_for("n_resamples") == MAX_RESAMPLES, limit_for("bins") == MAX_COUNT
(True, True)
"""

from __future__ import annotations

MAX_RESAMPLES = 10_000_000
MAX_COUNT = 1_000_000_000
MAX_SEED = 2**63 - 1
MAX_WORKERS = 1024
MAX_ARRAY_BYTES = 16 * 2**30
MAX_ABS_VALUE = 1e150
MAX_KL_BINS = 2_000_000

#: Parameter names (library and CLI) whose bound is :data:`MAX_RESAMPLES`.
RESAMPLE_NAMES = frozenset(
    {
        "n_resamples",
        "n_bootstrap",
        "n_simulations",
        "--permutations",
        "--bootstrap",
        "--resamples",
    }
)


def limit_for(name: str) -> int:
    """The largest value a count-like parameter called ``name`` may take."""
    return MAX_RESAMPLES if name in RESAMPLE_NAMES else MAX_COUNT
