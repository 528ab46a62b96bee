"""Gates: accept or reject a candidate (prompt, skill, policy) on a small held-out set.

An optimization loop proposes a candidate, scores it on a few held-out items (often 3–20) and
must decide whether to keep it. Two gates answer, both with every number behind the decision:

* :func:`evaluate_gate`, the **threshold gate**: the candidate's score in the chosen metric
  against the current and the best score projected into the same metric. ``accept_new_best``
  when it beats both by more than ``min_delta``, ``accept`` when it beats the current score but
  not the best, ``reject`` otherwise (ties are rejected). :func:`evaluate_gate_items` runs it
  on the mean scores of per-item results.
* :func:`evaluate_gate_paired`, the **statistical gate**: per-item scores of candidate and
  incumbent on the same items; an exact sign-flip permutation test of the paired differences
  and a bootstrap CI of the mean improvement. ``accept`` only for a significant improvement
  above ``min_delta``; ``inconclusive`` only when no result on this many items could be
  significant at this α (and the CI does not exclude improvements); ``reject`` otherwise — a
  significantly worse candidate, a CI that excludes improvements above ``min_delta``, or an
  improvement not shown, with a sentence saying how many items would make accepting an
  improvement as large as the observed one likely.

The rooms, one concept each:

* :mod:`parity.gate.scores` — metrics (:class:`GateMetric`, :func:`select_gate_score`: ``hard``,
  ``soft`` or ``mixed`` = ``(1 − w)·hard + w·soft``), actions and the checks of scores;
* :mod:`parity.gate.threshold` — the threshold gate;
* :mod:`parity.gate.items` — item sets (:class:`GateItem`, :func:`load_gate_items`,
  :func:`match_items`);
* :mod:`parity.gate.paired` — the statistical gate: validation, test, decision table, wording;
* :mod:`parity.gate.log` — the append-only JSONL log (:class:`GateRecord`,
  :func:`append_gate_log`, :func:`load_gate_log`, :func:`resume_state`).

The package sits beside :mod:`parity.verdict`, above :mod:`parity.stats`; it may import
:mod:`parity.errors`, :mod:`parity.io` and :mod:`parity.stats`, never :mod:`parity.cli` or
:mod:`parity.report`. It reads and writes the JSONL files of items and of the log.
"""

from __future__ import annotations

from parity.gate.items import GateItem, load_gate_items, match_items
from parity.gate.log import (
    SCHEMA_VERSION,
    GateRecord,
    GateState,
    append_gate_log,
    load_gate_log,
    resume_state,
)
from parity.gate.paired import (
    DEFAULT_ALPHA,
    DEFAULT_RESAMPLES,
    PairedGateResult,
    evaluate_gate_paired,
    items_for_power,
)
from parity.gate.scores import (
    DEFAULT_MIXED_WEIGHT,
    SCORE_TOL,
    GateAction,
    GateMetric,
    select_gate_score,
)
from parity.gate.threshold import GateResult, evaluate_gate, evaluate_gate_items
from parity.stats.sign_flip import SignFlipResult, sign_flip_test

__all__ = [
    "DEFAULT_ALPHA",
    "DEFAULT_MIXED_WEIGHT",
    "DEFAULT_RESAMPLES",
    "SCHEMA_VERSION",
    "SCORE_TOL",
    "GateAction",
    "GateItem",
    "GateMetric",
    "GateRecord",
    "GateResult",
    "GateState",
    "PairedGateResult",
    "SignFlipResult",
    "append_gate_log",
    "evaluate_gate",
    "evaluate_gate_items",
    "evaluate_gate_paired",
    "items_for_power",
    "load_gate_items",
    "load_gate_log",
    "match_items",
    "resume_state",
    "select_gate_score",
    "sign_flip_test",
]
