"""Items: the per-item scores both gates read, from Python objects or a JSONL file.

An item is ``{"id": …, "hard": …, "soft": …}`` (:class:`GateItem`); :func:`load_gate_items`
reads a JSONL file of them and :func:`match_items` validates two sets and pairs them by id.

May import: numpy, :mod:`parity.errors`, :mod:`parity.io` (JSON parsing) and
:mod:`parity.gate.scores`.
"""

from __future__ import annotations

import dataclasses
import numbers
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from parity.errors import ParityInputError
from parity.gate.scores import GateMetric, _combine, _is_number, _unit_score
from parity.io import read_jsonl


@dataclasses.dataclass(frozen=True, slots=True)
class GateItem:
    """One held-out item's scores: ``id``, ``hard`` in [0, 1], optional ``soft`` in [0, 1].

    Examples
    --------
    >>> GateItem("q1", 1.0, 0.9)
    GateItem(id='q1', hard=1.0, soft=0.9)
    """

    id: str
    hard: float
    soft: float | None = None


def _item_id(value: Any, where: str) -> str:
    if isinstance(value, str) and value != "":
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_):
        return str(int(value))
    raise ParityInputError(f"{where}: `id` must be a non-empty string or an integer; got {value!r}")


def _make_item(raw_id: Any, hard: Any, soft: Any, where: str) -> GateItem:
    item_id = _item_id(raw_id, where)
    at = f"{where} (id {item_id!r})"
    h = _unit_score(hard, f"{at}: `hard`")
    s = None if soft is None else _unit_score(soft, f"{at}: `soft`")
    return GateItem(item_id, h, s)


def _item_from_record(record: Any, where: str) -> GateItem:
    if isinstance(record, GateItem):
        return _make_item(record.id, record.hard, record.soft, where)
    if not isinstance(record, Mapping):
        raise ParityInputError(
            f"{where}: expected an object with `id`, `hard` and optional `soft`; got "
            f"{_json_kind(record)}"
        )
    if "id" not in record:
        raise ParityInputError(f"{where}: missing field `id`")
    if "hard" not in record:
        raise ParityInputError(
            f"{where} (id {_item_id(record['id'], where)!r}): missing field `hard`"
        )
    return _make_item(record["id"], record["hard"], record.get("soft"), where)


def _json_kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return f"a {type(value).__name__}"


def _as_items(items: Any, name: str) -> list[GateItem]:
    """Normalise the accepted item forms to a list of validated :class:`GateItem`.

    Parameters
    ----------
    items : path, mapping or sequence
        A JSONL path; a mapping ``id → hard | (hard, soft) | {"hard", "soft"}``; or a sequence
        of ``{"id", "hard", "soft"}`` mappings, :class:`GateItem`, hard scores or (hard, soft)
        pairs (the last two with their positions as ids).
    name : str
        The argument's name, for the messages.

    Returns
    -------
    list of GateItem
        With unique ids.
    """
    if isinstance(items, str | os.PathLike):
        return load_gate_items(items)
    out: list[GateItem] = []
    if isinstance(items, Mapping):
        for key, value in items.items():
            where = f"`{name}`[{key!r}]"
            if isinstance(value, Mapping):
                if "hard" not in value:
                    raise ParityInputError(f"{where}: missing field `hard`")
                out.append(_make_item(key, value["hard"], value.get("soft"), where))
            elif _is_number(value) or isinstance(value, bool | np.bool_):
                out.append(_make_item(key, value, None, where))
            elif isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
                out.append(_make_item(key, value[0], value[1], where))
            else:
                raise ParityInputError(
                    f"{where}: expected a hard score, a (hard, soft) pair or a mapping; got "
                    f"{value!r}"
                )
        return _check_unique(out, f"`{name}`")
    if isinstance(items, np.ndarray):
        items = items.tolist()
    try:
        seq = list(items)
    except TypeError:
        raise ParityInputError(
            f"`{name}` must be a sequence of items ({{'id', 'hard', 'soft'}} mappings or "
            f"GateItem), a mapping id → scores, or a JSONL path; got {type(items).__name__}"
        ) from None
    for i, record in enumerate(seq):
        where = f"`{name}` item {i}"
        if _is_number(record) or isinstance(record, bool | np.bool_):
            out.append(_make_item(i, record, None, where))
        elif isinstance(record, list | tuple) and len(record) == 2:
            out.append(_make_item(i, record[0], record[1], where))
        else:
            out.append(_item_from_record(record, where))
    return _check_unique(out, f"`{name}`")


def _check_unique(items: list[GateItem], label: str) -> list[GateItem]:
    seen: dict[str, int] = {}
    dups: list[str] = []
    for item in items:
        seen[item.id] = seen.get(item.id, 0) + 1
        if seen[item.id] == 2:
            dups.append(item.id)
    if dups:
        raise ParityInputError(f"{label}: item ids must be unique; duplicated: {_ids(dups)}")
    return items


def _ids(ids: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(repr(i) for i in ids[:limit])
    return shown + (f", … ({len(ids)} in all)" if len(ids) > limit else "")


def load_gate_items(path: str | os.PathLike[str]) -> list[GateItem]:
    """Read a JSONL file of items: one object per line with ``id``, ``hard``, optional ``soft``.

    Blank lines are skipped and other fields (the question, the output, …) are ignored. ``id``
    is a non-empty string or an integer (compared as text); ``hard`` and ``soft`` are numbers
    in [0, 1] (``true``/``false`` count as 1/0); ``soft`` may be ``null`` or absent.

    Raises
    ------
    ParityInputError
        One line naming the file, the line and the field: a missing file, invalid JSON, a
        missing or bad field, NaN, a duplicated id, or no items at all.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "items.jsonl"
    >>> _ = p.write_text('{"id": "q1", "hard": 1, "soft": 0.9}\\n{"id": "q2", "hard": 0}\\n')
    >>> load_gate_items(p)
    [GateItem(id='q1', hard=1.0, soft=0.9), GateItem(id='q2', hard=0.0, soft=None)]
    """
    label = str(path)
    records, _ = read_jsonl(path, label)
    items = []
    for lineno, record in records:
        where = f"{label} line {lineno}"
        items.append(_item_from_record(record, where))
    if not items:
        raise ParityInputError(
            f"{label}: no items; expected one JSON object per line with `id`, `hard` and "
            "optional `soft`"
        )
    return _check_unique(items, label)


def match_items(
    candidate_items: Any,
    incumbent_items: Any,
    *,
    names: tuple[str, str] = ("candidate_items", "incumbent_items"),
) -> tuple[list[GateItem], list[GateItem]]:
    """Validate both item sets and pair them by ``id`` (in the candidate's order).

    Items may be given as a sequence of ``{"id", "hard", "soft"}`` mappings or
    :class:`GateItem`, a mapping ``id → hard`` / ``id → (hard, soft)`` / ``id → {"hard", "soft"}``,
    a sequence of hard scores or (hard, soft) pairs (ids are the positions), or a JSONL path.

    Raises
    ------
    ParityInputError
        When the sets do not have the same ids (the message names them), besides the checks of
        each item.

    Examples
    --------
    >>> c, i = match_items({"a": 1, "b": 0}, {"b": 1, "a": 1})
    >>> [(x.id, x.hard, y.hard) for x, y in zip(c, i)]
    [('a', 1.0, 1.0), ('b', 0.0, 1.0)]
    >>> match_items({"a": 1, "b": 0}, {"a": 1, "c": 0})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    parity.errors.ParityInputError: items must match by `id`: only in candidate_items: 'b'; ...
    """
    cand = _as_items(candidate_items, names[0])
    inc = _as_items(incumbent_items, names[1])
    inc_by_id = {item.id: item for item in inc}
    cand_ids = {item.id for item in cand}
    only_c = [item.id for item in cand if item.id not in inc_by_id]
    only_i = [item.id for item in inc if item.id not in cand_ids]
    if only_c or only_i:
        parts = []
        if only_c:
            parts.append(f"only in {names[0]}: {_ids(only_c)}")
        if only_i:
            parts.append(f"only in {names[1]}: {_ids(only_i)}")
        raise ParityInputError("items must match by `id`: " + "; ".join(parts))
    return cand, [inc_by_id[item.id] for item in cand]


def _item_scores(
    items: list[GateItem], metric: GateMetric, w: float, label: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(scores in metric, hard, soft or None) of matched items; soft required by soft/mixed."""
    hard = np.array([it.hard for it in items], dtype=np.float64)
    missing = [it.id for it in items if it.soft is None]
    if missing and metric is not GateMetric.HARD:
        raise ParityInputError(
            f"`soft` is required by metric {metric.value!r}; {label} has no `soft` for "
            f"{len(missing)} item(s): {_ids(missing)}"
        )
    soft = None if missing else np.array([it.soft for it in items], dtype=np.float64)
    scores = hard if soft is None else _combine(hard, soft, metric, w)
    return np.asarray(scores, dtype=np.float64), hard, soft
