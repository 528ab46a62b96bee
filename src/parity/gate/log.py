"""Records: the append-only JSONL log of gate decisions, and resuming a loop from it.

:func:`append_gate_log` writes one :class:`GateRecord` per line with a ``schema`` version;
:func:`load_gate_log` reads them back (records of older versions, with fewer fields, load with
defaults) and :func:`resume_state` replays them into a :class:`GateState`. Every record keeps
the hard *and* the soft score of candidate, current and best, so a loop that resumes under
another metric re-projects them instead of losing information.

May import: :mod:`parity.errors`, :mod:`parity.io` (JSON parsing) and the other rooms of
:mod:`parity.gate` (the results it records).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from parity.errors import ParityInputError
from parity.gate.items import _json_kind
from parity.gate.paired import PairedGateResult
from parity.gate.scores import (
    DEFAULT_MIXED_WEIGHT,
    GateAction,
    GateMetric,
    _as_action,
    _as_metric,
    _plain_dict,
)
from parity.gate.threshold import GateResult
from parity.io import json_dumps, read_jsonl
from parity.stats._common import Interval, ResultMixin

#: Version of the JSONL log records written by :func:`append_gate_log`.
SCHEMA_VERSION = 1


@dataclasses.dataclass(frozen=True, slots=True)
class GateRecord(ResultMixin):
    """One line of the gate log: a decision with both hard and soft scores of every system.

    Only ``action`` is required when loading; every other field has a default, so records
    written by older versions (with fewer fields) load. Fields this version does not know are
    kept in ``extra`` and written back unchanged.

    Attributes
    ----------
    schema : int
        Record version (:data:`SCHEMA_VERSION` when written; 0 for a record without one).
    step : int or None
        Step of the optimization loop.
    gate : str
        ``"threshold"`` (:func:`evaluate_gate`) or ``"paired"`` (:func:`evaluate_gate_paired`).
    metric, mixed_weight, min_delta
        Settings of the decision.
    action : GateAction
        The decision.
    candidate_hard, candidate_soft, candidate_score : float or None
        The candidate's hard and soft score and its score in ``metric``.
    current_hard, current_soft, current_score : float or None
        The current (incumbent) system's, likewise.
    best_hard, best_soft, best_score : float or None
        The best system's (``None`` for the paired gate, which compares with the incumbent).
    pvalue, alpha : float or None
        Two-sided p-value and level of the statistical gate.
    confidence_interval : Interval or None
        CI of the mean improvement (statistical gate).
    n_items : int or None
        Items the decision was made on.
    time : str or None
        UTC time of writing (ISO 8601), when recorded.
    extra : dict
        Anything else: labels passed to :func:`append_gate_log`, fields of newer versions.
    """

    action: GateAction
    schema: int = SCHEMA_VERSION
    step: int | None = None
    gate: str = "threshold"
    metric: GateMetric = GateMetric.HARD
    mixed_weight: float = DEFAULT_MIXED_WEIGHT
    min_delta: float = 0.0
    candidate_hard: float | None = None
    candidate_soft: float | None = None
    candidate_score: float | None = None
    current_hard: float | None = None
    current_soft: float | None = None
    current_score: float | None = None
    best_hard: float | None = None
    best_soft: float | None = None
    best_score: float | None = None
    pvalue: float | None = None
    alpha: float | None = None
    confidence_interval: Interval | None = None
    n_items: int | None = None
    time: str | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_result(
        cls,
        result: GateResult | PairedGateResult,
        *,
        step: int | None = None,
        time: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> GateRecord:
        """The record of a gate decision.

        Examples
        --------
        >>> from parity.gate import evaluate_gate
        >>> rec = GateRecord.from_result(evaluate_gate(0.6, (0.5, 0.7), cand_soft=0.8), step=3)
        >>> rec.step, rec.action.value, rec.candidate_hard, rec.candidate_soft, rec.current_soft
        (3, 'accept_new_best', 0.6, 0.8, 0.7)
        """
        common = {
            "action": result.action,
            "step": step,
            "metric": result.metric,
            "mixed_weight": result.mixed_weight,
            "min_delta": result.min_delta,
            "candidate_hard": result.candidate_hard,
            "candidate_soft": result.candidate_soft,
            "candidate_score": result.candidate_score,
            "time": time,
            "extra": dict(extra or {}),
        }
        if isinstance(result, PairedGateResult):
            return cls(
                gate="paired",
                current_hard=result.incumbent_hard,
                current_soft=result.incumbent_soft,
                current_score=result.incumbent_score,
                pvalue=result.pvalue,
                alpha=result.alpha,
                confidence_interval=result.confidence_interval,
                n_items=result.n_items,
                **common,
            )
        if not isinstance(result, GateResult):
            raise ParityInputError(
                f"`result` must be a GateResult or PairedGateResult; got {type(result).__name__}"
            )
        return cls(
            gate="threshold",
            current_hard=result.current_hard,
            current_soft=result.current_soft,
            current_score=result.current_score,
            best_hard=result.best_hard,
            best_soft=result.best_soft,
            best_score=result.best_score,
            **common,
        )

    def to_dict(self) -> dict[str, Any]:
        """The record as a JSON-safe ``dict``: known fields first, then ``extra``'s keys.

        Examples
        --------
        >>> d = GateRecord(action="reject", step=1).to_dict()
        >>> d["schema"], d["action"], d["step"], d["metric"]
        (1, 'reject', 1, 'hard')
        """
        out = _plain_dict(self)
        extra = out.pop("extra")
        for key, value in extra.items():
            out.setdefault(key, value)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "record") -> GateRecord:
        """Load a record of any schema version, filling defaults for missing fields.

        Records without a ``schema`` field are version 0. When a hard-metric record has no
        ``*_hard`` components (a version that stored only the scores), the scores are its hard
        scores. Unknown fields go to ``extra``.

        Examples
        --------
        >>> old = {"step": 2, "candidate_score": 0.6, "current_score": 0.5,
        ...        "best_score": 0.5, "action": "accept_new_best"}
        >>> rec = GateRecord.from_dict(old)
        >>> rec.schema, rec.metric.value, rec.candidate_hard, rec.candidate_soft, rec.pvalue
        (0, 'hard', 0.6, None, None)
        """
        if not isinstance(data, Mapping):
            raise ParityInputError(f"{where}: expected a JSON object; got {_json_kind(data)}")
        if "action" not in data:
            raise ParityInputError(f"{where}: missing field `action`")
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        kwargs: dict[str, Any] = {k: data[k] for k in names if k in data}
        extra = dict(data.get("extra") or {}) if isinstance(data.get("extra"), Mapping) else {}
        extra.update({k: v for k, v in data.items() if k not in names and k != "extra"})
        kwargs["extra"] = extra
        kwargs["schema"] = int(data.get("schema", 0))
        kwargs["action"] = _as_action(data["action"], where)
        kwargs["metric"] = _as_metric(data.get("metric") or "hard", f"{where}: `metric`")
        if kwargs["metric"] is GateMetric.HARD:
            for role in ("candidate", "current", "best"):
                if kwargs.get(f"{role}_hard") is None and kwargs.get(f"{role}_score") is not None:
                    kwargs[f"{role}_hard"] = kwargs[f"{role}_score"]
        for key in ("mixed_weight", "min_delta"):
            if kwargs.get(key) is None:
                kwargs.pop(key, None)
        ci = kwargs.get("confidence_interval")
        if ci is not None:
            kwargs["confidence_interval"] = tuple(ci)
        return cls(**kwargs)

    def __post_init__(self) -> None:
        ResultMixin.__post_init__(self)
        if not isinstance(self.action, GateAction):
            object.__setattr__(self, "action", _as_action(self.action, "record"))
        if not isinstance(self.metric, GateMetric):
            object.__setattr__(self, "metric", _as_metric(self.metric))


def _utc_now() -> str:
    import datetime

    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def append_gate_log(
    path: str | os.PathLike[str],
    entry: GateRecord | GateResult | PairedGateResult,
    *,
    step: int | None = None,
    timestamp: bool = True,
    extra: Mapping[str, Any] | None = None,
) -> GateRecord:
    """Append one decision to a JSONL log and return the record written.

    The file is opened for appending only: earlier lines are never read back into the write or
    rewritten. A file whose last line lacks its newline (an interrupted write) gets one first,
    so the new record stands on its own line. The line is flushed and fsync'ed.

    Parameters
    ----------
    path : str or os.PathLike
        The log; created (with its folder) if missing.
    entry : GateRecord, GateResult or PairedGateResult
        The decision.
    step : int, optional
        Step number; default: the record's own step, else the number of records already in
        the file.
    timestamp : bool, default True
        Record the UTC time of writing in ``time`` (unless the record has one).
    extra : mapping, optional
        Labels to store with the record (candidate name, file paths, …).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from parity.gate import evaluate_gate
    >>> log = pathlib.Path(tempfile.mkdtemp()) / "gates.jsonl"
    >>> _ = append_gate_log(log, evaluate_gate(0.6, 0.5), timestamp=False)
    >>> _ = append_gate_log(log, evaluate_gate(0.55, 0.6), timestamp=False)
    >>> [(r.step, r.action.value) for r in load_gate_log(log)]
    [(0, 'accept_new_best'), (1, 'reject')]
    """
    p = Path(path)
    if isinstance(entry, GateRecord):
        record = entry
    else:
        record = GateRecord.from_result(entry)
    changes: dict[str, Any] = {"schema": SCHEMA_VERSION}
    if step is not None:
        changes["step"] = int(step)
    elif record.step is None:
        changes["step"] = _count_records(p)
    if timestamp and record.time is None:
        changes["time"] = _utc_now()
    if extra:
        shadowed = sorted(set(extra) & {f.name for f in dataclasses.fields(GateRecord)})
        if shadowed:
            raise ParityInputError(
                f"`extra` keys must not shadow record fields; got {', '.join(map(repr, shadowed))}"
            )
        changes["extra"] = {**record.extra, **extra}
    record = dataclasses.replace(record, **changes)
    line = json_dumps(record.to_dict(), indent=None, digits=None) + "\n"  # exact: it resumes
    p.parent.mkdir(parents=True, exist_ok=True)
    needs_newline = False
    if p.exists() and p.stat().st_size > 0:
        with p.open("rb") as fh:
            fh.seek(-1, os.SEEK_END)
            needs_newline = fh.read(1) != b"\n"
    with p.open("a", encoding="utf-8") as fh:
        fh.write(("\n" if needs_newline else "") + line)
        fh.flush()
        os.fsync(fh.fileno())
    return record


def _count_records(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        return sum(1 for line in fh if line.strip())


def load_gate_log(path: str | os.PathLike[str]) -> list[GateRecord]:
    """Read every record of a gate log, oldest first (see :meth:`GateRecord.from_dict`).

    Raises
    ------
    ParityInputError
        Naming the file and the line of a record that is not valid JSON or has no valid
        ``action``.
    """
    label = str(path)
    lines, _ = read_jsonl(path, label)
    records = []
    for lineno, data in lines:
        where = f"{label} line {lineno}"
        records.append(GateRecord.from_dict(data, where=where))
    return records


@dataclasses.dataclass(frozen=True, slots=True)
class GateState(ResultMixin):
    """Where a gated loop stands after its logged decisions: current and best, hard and soft.

    Pass ``(current_hard, current_soft)`` and ``(best_hard, best_soft)`` (the :attr:`current`
    and :attr:`best` pairs) to :func:`evaluate_gate` to resume, in any metric.
    """

    step: int | None
    current_hard: float | None
    current_soft: float | None
    best_hard: float | None
    best_soft: float | None
    metric: GateMetric | None = None
    mixed_weight: float | None = None

    @property
    def current(self) -> tuple[float | None, float | None]:
        """``(hard, soft)`` of the current system."""
        return self.current_hard, self.current_soft

    @property
    def best(self) -> tuple[float | None, float | None]:
        """``(hard, soft)`` of the best system."""
        return self.best_hard, self.best_soft

    @property
    def next_step(self) -> int:
        """The step after the last recorded one (0 for an empty log)."""
        return 0 if self.step is None else self.step + 1


def resume_state(records: Iterable[GateRecord] | str | os.PathLike[str]) -> GateState:
    """Replay logged decisions to recover the current and best systems' hard and soft scores.

    For each record in order: its current (and best) scores become the state's, then
    ``accept_new_best`` makes the candidate current and best, ``accept`` makes it current (and
    best too for the paired gate, which has a single incumbent), ``reject`` and
    ``inconclusive`` change nothing. The metric and weight of the last record are reported,
    but the state is kept in hard and soft, so the loop may resume under another metric.

    Examples
    --------
    >>> from parity.gate import evaluate_gate
    >>> recs = [
    ...     GateRecord.from_result(evaluate_gate(0.5, (0.4, 0.6), cand_soft=0.7), step=0),
    ...     GateRecord.from_result(evaluate_gate(0.3, (0.5, 0.7), cand_soft=0.5), step=1),
    ... ]
    >>> state = resume_state(recs)
    >>> state.next_step, state.current, state.best
    (2, (0.5, 0.7), (0.5, 0.7))
    >>> evaluate_gate(0.5, state.current, state.best, cand_soft=0.8, metric="soft").action.value
    'accept_new_best'
    """
    if isinstance(records, str | os.PathLike):
        records = load_gate_log(records)
    cur: tuple[Any, Any] = (None, None)
    best: tuple[Any, Any] = (None, None)
    step = metric = weight = None
    for rec in records:
        if rec.current_hard is not None or rec.current_soft is not None:
            cur = (rec.current_hard, rec.current_soft)
        if rec.best_hard is not None or rec.best_soft is not None:
            best = (rec.best_hard, rec.best_soft)
        elif best == (None, None):
            best = cur
        cand = (rec.candidate_hard, rec.candidate_soft)
        if rec.action is GateAction.ACCEPT_NEW_BEST or (
            rec.action is GateAction.ACCEPT and rec.gate == "paired"
        ):
            cur = best = cand
        elif rec.action is GateAction.ACCEPT:
            cur = cand
        step = rec.step if rec.step is not None else (0 if step is None else step + 1)
        metric, weight = rec.metric, rec.mixed_weight
    return GateState(step, cur[0], cur[1], best[0], best[1], metric, weight)
