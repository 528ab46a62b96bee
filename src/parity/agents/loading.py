"""Load agent transcripts: runs of OpenAI-style chat messages, or plain step events.

Two formats, told apart by their records (not by the file name):

**Runs** — a JSON list of run objects (or ``{"runs": [...]}``), or JSONL with one run per line::

    {"task_id": "t1", "trial": 0, "reward": 1.0, "messages": [
        {"role": "user", "content": "Find the cheapest flight ..."},
        {"role": "assistant", "content": null, "tool_calls": [
            {"id": "c1", "type": "function",
             "function": {"name": "search_flights", "arguments": "{\\"to\\": \\"FCO\\"}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "3 flights"},
        {"role": "assistant", "content": "The cheapest is ..."}]}

``task_id`` and ``messages`` (or ``traj``, as τ-bench writes it) are required. Optional:
``trial`` (an integer; default the run's position among the runs of its task), ``success``
(true/false or 1/0) or ``reward`` (a number; success = ``reward ≥ success_threshold``, default
1), ``run_id``, ``task_text`` (default the first user message), ``variant`` (default
``"original"``; e.g. ``"perturbed"`` for a reworded prompt), ``category``. A message needs a
string ``role``; ``content`` is a string, a list of parts ``{"type": "text", "text": ...}`` or
null; ``tool_calls`` a list of ``{"function": {"name", "arguments"}}`` (arguments a JSON string
or an object); a legacy ``function_call`` counts as one tool call.

**Step events** — JSONL (or a JSON list) of ``{"run_id", "step", "text" | "action"}``; ``action``
is a tool call, ``"name(args)"`` or ``{"name", "arguments"}``. The run fields above
(``task_id`` — default the run id —, ``trial``, ``reward``/``success``, ``task_text``,
``variant``, ``category``) may appear on any event of the run and must agree.

A **step** is one assistant turn: its tool calls rendered as ``name(args)`` (arguments as
canonical JSON, keys sorted) joined by ``" ; "`` when it makes any, else its text. A malformed
run raises :class:`~parity.errors.ParityInputError` naming the file, the run (index or line)
and the field; with ``skip_invalid=True`` it is skipped and recorded in ``skipped``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from parity.errors import ParityInputError
from parity.io import jsonl_records, loads_json, parse_json, read_text
from parity.stats._common import ResultMixin

__all__ = [
    "AgentRun",
    "LoadedRuns",
    "SkippedRun",
    "Step",
    "ToolCall",
    "load_runs",
    "runs_from_records",
]

RUN_FIELDS = ("task_id", "trial", "success", "reward", "task_text", "variant", "category")
_EVENT_RUN_FIELDS = RUN_FIELDS


# --------------------------------------------------------------------------------------------
# data model


@dataclasses.dataclass(frozen=True, slots=True)
class ToolCall(ResultMixin):
    """One tool call: its name and its arguments as canonical JSON (or the raw text)."""

    name: str
    arguments: str

    def render(self) -> str:
        """``name(arguments)``."""
        return f"{self.name}({self.arguments})"


@dataclasses.dataclass(frozen=True, slots=True)
class Step(ResultMixin):
    """One assistant turn: the text that is embedded and the tool calls it made."""

    text: str
    tool_calls: tuple[ToolCall, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class AgentRun(ResultMixin):
    """One run (trajectory) of an agent on a task.

    Attributes
    ----------
    run_id, task_id : str
        Identifiers (the run id defaults to ``"{task_id}#{trial}"``).
    trial : int
        Trial index within the task.
    variant : str
        Prompt variant (``"original"`` unless given).
    success : bool or None
        Whether the run succeeded (None when neither ``success`` nor ``reward`` is given).
    reward : float or None
        The reward as given.
    task_text : str or None
        The task description (``task_text``, else the first user message).
    category : str or None
        A task category, if given.
    steps : tuple of Step
        The assistant turns, in order.
    tool_calls_recorded : bool
        Whether the format records tool calls (always for chat runs; for step events, when
        any event of the file has an ``action``).
    source : str
        Where the run was read: ``"run 3"``, ``"line 4"`` or ``"run_id 'r7'"``.
    """

    run_id: str
    task_id: str
    trial: int
    variant: str
    success: bool | None
    reward: float | None
    task_text: str | None
    category: str | None
    steps: tuple[Step, ...]
    tool_calls_recorded: bool
    source: str

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        """Every tool call of the run, in order."""
        return tuple(call for step in self.steps for call in step.tool_calls)


@dataclasses.dataclass(frozen=True, slots=True)
class SkippedRun(ResultMixin):
    """A run left out with ``skip_invalid``: where it was and why."""

    source: str
    error: str


@dataclasses.dataclass(frozen=True, slots=True)
class LoadedRuns(ResultMixin):
    """Runs read from a file (or records), with the runs skipped as invalid."""

    label: str
    format: str
    runs: tuple[AgentRun, ...]
    skipped: tuple[SkippedRun, ...] = ()


class _Invalid(Exception):
    """A malformed field: "`field` rule; got value" (or a ready message with ``raw``)."""

    def __init__(
        self, field: str = "", rule: str = "", got: Any = dataclasses.MISSING, *, raw: str = ""
    ) -> None:
        shown = "missing" if got is dataclasses.MISSING else _show(got)
        super().__init__(raw or f"`{field}` {rule}; got {shown}")


def _show(value: Any, limit: int = 60) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------------------------
# field checks


def _identifier(record: dict, field: str, required: bool = True) -> str | None:
    if field not in record:
        if required:
            raise _Invalid(field, "is required (a string or an integer)")
        return None
    value = record[field]
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise _Invalid(field, "must be a non-empty string or an integer", value)
    return str(value)


def _integer(record: dict, field: str) -> int | None:
    if field not in record or record[field] is None:
        return None
    value = record[field]
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise _Invalid(field, "must be an integer ≥ 0", value)
    if not float(value).is_integer():
        raise _Invalid(field, "must be an integer ≥ 0", value)
    return int(value)


def _text(record: dict, field: str) -> str | None:
    if field not in record or record[field] is None:
        return None
    value = record[field]
    if not isinstance(value, str):
        raise _Invalid(field, "must be a string", value)
    return value


def _outcome(record: dict, threshold: float) -> tuple[bool | None, float | None]:
    """``(success, reward)``: ``success`` if given, else ``reward ≥ threshold``."""
    reward = None
    if record.get("reward") is not None:
        value = record["reward"]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Invalid("reward", "must be a number", value)
        if not math.isfinite(value):
            raise _Invalid("reward", "must be finite", value)
        reward = float(value)
    if record.get("success") is not None:
        value = record["success"]
        if not isinstance(value, bool | int | float) or value not in (0, 1):
            raise _Invalid("success", "must be true/false or 1/0", value)
        return bool(value), reward
    return (None if reward is None else reward >= threshold), reward


def _canonical_arguments(value: Any, field: str) -> str:
    """Arguments as canonical JSON (keys sorted) when they parse, else the stripped text."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = loads_json(text)
        except ValueError:
            return text
        if isinstance(value, str):
            return value
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))
    except (TypeError, ValueError):
        raise _Invalid(field, "must be a JSON string or a JSON object", value) from None


def _call(function: Any, field: str) -> ToolCall:
    if not isinstance(function, dict):
        raise _Invalid(field, "must be an object with `name` and `arguments`", function)
    name = function.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _Invalid(f"{field}.name", "must be a non-empty string", name)
    return ToolCall(name.strip(), _canonical_arguments(function.get("arguments"), field))


def _content_text(content: Any, field: str) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content.strip()
    if isinstance(content, list):
        parts = []
        for j, part in enumerate(content):
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict):
                if isinstance(part.get("text"), str):
                    parts.append(part["text"])
            else:
                raise _Invalid(f"{field}[{j}]", "must be a string or a content part object", part)
        return " ".join(p.strip() for p in parts if p.strip())
    raise _Invalid(field, "must be a string, a list of content parts or null", content)


def _step_of(text: str, calls: Sequence[ToolCall]) -> Step:
    if calls:
        return Step(" ; ".join(c.render() for c in calls), tuple(calls))
    return Step(text, ())


def _message_steps(messages: Any, field: str) -> tuple[tuple[Step, ...], str | None]:
    """The assistant steps of a chat transcript and its first user message."""
    if not isinstance(messages, list):
        raise _Invalid(field, "must be a list of messages", messages)
    steps, first_user = [], None
    for i, msg in enumerate(messages):
        where = f"{field}[{i}]"
        if not isinstance(msg, dict):
            raise _Invalid(where, "must be a message object", msg)
        role = msg.get("role")
        if not isinstance(role, str) or not role:
            raise _Invalid(f"{where}.role", "must be a non-empty string", role)
        text = _content_text(msg.get("content"), f"{where}.content")
        if role == "user" and first_user is None and text:
            first_user = text
        if role != "assistant":
            continue
        calls = []
        raw_calls = msg.get("tool_calls")
        if raw_calls is not None:
            if not isinstance(raw_calls, list):
                raise _Invalid(f"{where}.tool_calls", "must be a list", raw_calls)
            for j, call in enumerate(raw_calls):
                if not isinstance(call, dict):
                    raise _Invalid(f"{where}.tool_calls[{j}]", "must be an object", call)
                calls.append(_call(call.get("function"), f"{where}.tool_calls[{j}].function"))
        if msg.get("function_call") is not None:
            calls.append(_call(msg["function_call"], f"{where}.function_call"))
        steps.append(_step_of(text, calls))
    return tuple(steps), first_user


def _action(value: Any, field: str) -> ToolCall:
    if isinstance(value, dict):
        return _call(value, field)
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(field, 'must be "name(args)" or an object with `name`', value)
    text = value.strip()
    name, paren, rest = text.partition("(")
    if not name.strip():
        raise _Invalid(field, 'must start with a tool name, as "name(args)"', value)
    args = rest[:-1] if paren and rest.endswith(")") else rest
    return ToolCall(name.strip(), _canonical_arguments(args, field) if paren else "")


# --------------------------------------------------------------------------------------------
# runs


def _run_from_record(
    record: Any, source: str, threshold: float
) -> tuple[dict[str, Any], tuple[Step, ...]]:
    if not isinstance(record, dict):
        raise _Invalid("run", "must be a JSON object", record)
    task_id = _identifier(record, "task_id")
    key = "messages" if "messages" in record else "traj" if "traj" in record else None
    if key is None:
        raise _Invalid("messages", "is required (a list of chat messages)")
    steps, first_user = _message_steps(record[key], key)
    success, reward = _outcome(record, threshold)
    task_text = _text(record, "task_text")
    fields = {
        "run_id": _identifier(record, "run_id", required=False)
        or _identifier(record, "id", required=False),
        "task_id": task_id,
        "trial": _integer(record, "trial"),
        "variant": _text(record, "variant") or "original",
        "success": success,
        "reward": reward,
        "task_text": task_text if task_text is not None else first_user,
        "category": _text(record, "category"),
        "tool_calls_recorded": True,
        "source": source,
    }
    return fields, steps


def _finish(
    items: list[tuple[dict[str, Any], tuple[Step, ...]]],
    label: str,
    skip_invalid: bool,
    skipped: list[SkippedRun],
) -> tuple[AgentRun, ...]:
    """Fill default trials and run ids; refuse (or skip) duplicate (task, trial) and run ids."""
    counts: dict[str, int] = {}
    seen_trials: dict[tuple[str, int], str] = {}
    seen_ids: dict[str, str] = {}
    runs = []
    for fields, steps in items:
        task = fields["task_id"]
        trial = fields["trial"] if fields["trial"] is not None else counts.get(task, 0)
        counts[task] = counts.get(task, 0) + 1
        run_id = fields["run_id"] or f"{task}#{trial}"
        source = fields["source"]
        problem = None
        if (task, trial) in seen_trials:
            first = seen_trials[(task, trial)]
            problem = f"duplicate (task_id, trial) = ({task!r}, {trial}); also {first}"
        elif run_id in seen_ids:
            problem = f"duplicate run id {run_id!r}; also {seen_ids[run_id]}"
        if problem:
            if not skip_invalid:
                raise ParityInputError(f"{label}: {source}: {problem}")
            skipped.append(SkippedRun(source, problem))
            continue
        seen_trials[(task, trial)] = source
        seen_ids[run_id] = source
        runs.append(
            AgentRun(
                run_id=run_id,
                task_id=task,
                trial=trial,
                variant=fields["variant"],
                success=fields["success"],
                reward=fields["reward"],
                task_text=fields["task_text"],
                category=fields["category"],
                steps=steps,
                tool_calls_recorded=fields["tool_calls_recorded"],
                source=source,
            )
        )
    return tuple(runs)


def _chat_runs(
    records: Sequence[tuple[str, Any]], label: str, skip_invalid: bool, threshold: float
) -> tuple[tuple[AgentRun, ...], list[SkippedRun]]:
    items, skipped = [], []
    for source, record in records:
        try:
            items.append(_run_from_record(record, source, threshold))
        except _Invalid as exc:
            if not skip_invalid:
                raise ParityInputError(f"{label}: {source}: {exc}") from None
            skipped.append(SkippedRun(source, str(exc)))
    return _finish(items, label, skip_invalid, skipped), skipped


def _event_runs(
    records: Sequence[tuple[str, Any]], label: str, skip_invalid: bool, threshold: float
) -> tuple[tuple[AgentRun, ...], list[SkippedRun]]:
    """Group step events by ``run_id`` (in order of first appearance) and order them by step."""
    skipped: list[SkippedRun] = []
    groups: dict[str, list[tuple[str, dict]]] = {}
    recorded = any(isinstance(r, dict) and r.get("action") is not None for _, r in records)
    for source, record in records:
        try:
            if not isinstance(record, dict):
                raise _Invalid("event", "must be a JSON object", record)
            run_id = _identifier(record, "run_id")
        except _Invalid as exc:
            if not skip_invalid:
                raise ParityInputError(f"{label}: {source}: {exc}") from None
            skipped.append(SkippedRun(source, str(exc)))
            continue
        groups.setdefault(run_id, []).append((source, record))
    items = []
    for run_id, events in groups.items():
        try:
            items.append(_run_from_events(run_id, events, recorded, threshold))
        except _Invalid as exc:
            where = f"run_id {run_id!r}"
            if not skip_invalid:
                raise ParityInputError(f"{label}: {where}: {exc}") from None
            skipped.append(SkippedRun(where, str(exc)))
    return _finish(items, label, skip_invalid, skipped), skipped


def _run_from_events(
    run_id: str, events: list[tuple[str, dict]], recorded: bool, threshold: float
) -> tuple[dict[str, Any], tuple[Step, ...]]:
    """One run's record and steps from its step events (merged across sources), checked step by
    step; a bad event raises naming its source, step and field."""
    steps: dict[int, Step] = {}
    values: dict[str, tuple[Any, str]] = {}
    for source, ev in events:
        try:
            step = _integer(ev, "step")
            if step is None:
                raise _Invalid("step", "is required (an integer ≥ 0)")
            if step in steps:
                raise _Invalid("step", f"must be unique within run {run_id!r}", step)
            if ev.get("action") is not None:
                call = _action(ev["action"], "action")
                steps[step] = _step_of("", [call])
            elif "text" in ev:
                steps[step] = Step(_content_text(ev["text"], "text"), ())
            else:
                raise _Invalid("text", "or `action` is required")
            for field in _EVENT_RUN_FIELDS:
                if field in ev and ev[field] is not None:
                    if field in values and values[field][0] != ev[field]:
                        first, where = values[field]
                        raise _Invalid(
                            field,
                            f"must be the same on every event of the run ({where}: {_show(first)})",
                            ev[field],
                        )
                    values.setdefault(field, (ev[field], source))
        except _Invalid as exc:
            raise _Invalid(raw=f"{source}: {exc}") from None
    merged = {field: value for field, (value, _) in values.items()}
    success, reward = _outcome(merged, threshold)
    fields = {
        "run_id": run_id,
        "task_id": _identifier(merged, "task_id", required=False) or run_id,
        "trial": _integer(merged, "trial"),
        "variant": _text(merged, "variant") or "original",
        "success": success,
        "reward": reward,
        "task_text": _text(merged, "task_text"),
        "category": _text(merged, "category"),
        "tool_calls_recorded": recorded,
        "source": f"run_id {run_id!r}",
    }
    return fields, tuple(steps[k] for k in sorted(steps))


# --------------------------------------------------------------------------------------------
# public entry points


def _format_of(records: Sequence[tuple[str, Any]], label: str) -> str:
    for source, record in records:
        if isinstance(record, dict):
            if "messages" in record or "traj" in record:
                return "runs"
            if "run_id" in record and ({"step", "text", "action"} & set(record)):
                return "step-events"
            keys = ", ".join(sorted(map(str, record))[:8]) or "none"
            raise ParityInputError(
                f"{label}: {source}: cannot tell the format: a run needs `messages` (chat "
                f"transcript), a step event needs `run_id` and `step`; got keys {keys}"
            )
    raise ParityInputError(f"{label}: no run or step event objects found")


def runs_from_records(
    records: Iterable[Any],
    *,
    label: str = "runs",
    skip_invalid: bool = False,
    success_threshold: float = 1.0,
    sources: Sequence[str] | None = None,
) -> LoadedRuns:
    """Runs from in-memory records (run objects or step events, as in a file).

    Parameters
    ----------
    records : iterable of dict
        Run objects or step events.
    label : str
        Name used in error messages (a file name).
    skip_invalid : bool, default False
        Skip malformed runs (recorded in ``skipped``) instead of raising.
    success_threshold : float, default 1.0
        A run with a ``reward`` but no ``success`` succeeded when ``reward ≥`` this.
    sources : sequence of str, optional
        Where each record came from (default ``"run 0"``, ``"run 1"``, …).

    Returns
    -------
    LoadedRuns

    Raises
    ------
    ParityInputError
        For a malformed run (naming the run and field) unless ``skip_invalid``, or when no
        valid run is left.

    Examples
    --------
    >>> run = {"task_id": "t1", "reward": 1, "messages": [
    ...     {"role": "user", "content": "What is 2 + 2?"},
    ...     {"role": "assistant", "tool_calls": [
    ...         {"function": {"name": "calc", "arguments": '{"expr": "2+2"}'}}]},
    ...     {"role": "tool", "content": "4"},
    ...     {"role": "assistant", "content": "4"}]}
    >>> loaded = runs_from_records([run])
    >>> [s.text for s in loaded.runs[0].steps]
    ['calc({"expr": "2+2"})', '4']
    >>> loaded.runs[0].success, loaded.runs[0].task_text
    (True, 'What is 2 + 2?')
    >>> runs_from_records([{"task_id": "t1", "messages": [{"content": "hi"}]}])
    Traceback (most recent call last):
    ...
    parity.errors.ParityInputError: runs: run 0: `messages[0].role` must be a non-empty ...
    """
    threshold = _finite_threshold(success_threshold)
    items = list(records)
    names = list(sources) if sources is not None else [f"run {i}" for i in range(len(items))]
    if not items:
        raise ParityInputError(f"{label}: no runs (the file holds no records)")
    pairs = list(zip(names, items, strict=True))
    fmt = _format_of(pairs, label)
    reader = _chat_runs if fmt == "runs" else _event_runs
    runs, skipped = reader(pairs, label, bool(skip_invalid), threshold)
    if not runs:
        reasons = "; ".join(f"{s.source}: {s.error}" for s in skipped[:3])
        raise ParityInputError(
            f"{label}: no valid run left after skipping invalid ones ({reasons})"
        )
    return LoadedRuns(label, fmt, runs, tuple(skipped))


def _read_records(path: Path, label: str, skip_invalid: bool) -> tuple[list, list, list]:
    """Records of a JSON or JSONL file, their sources, and lines skipped as invalid JSON."""
    text = read_text(path, label)
    stripped = text.lstrip()
    if not stripped:
        raise ParityInputError(f"{label}: empty file; expected a JSON list of runs or JSONL")
    if stripped[0] == "[" or (stripped[0] == "{" and path.suffix.lower() == ".json"):
        try:
            data = loads_json(text)
        except json.JSONDecodeError as exc:
            if stripped[0] == "{" and exc.msg == "Extra data":  # JSONL named .json
                return _read_jsonl(text, label, skip_invalid)
            parse_json(text, label)  # raises, in the words of every reader
            raise
        if isinstance(data, dict) and isinstance(data.get("runs"), list):
            data = data["runs"]
        if not isinstance(data, list):
            raise ParityInputError(
                f'{label}: expected a JSON list of runs (or {{"runs": [...]}}); got a '
                f"{type(data).__name__}"
            )
        return data, [f"run {i}" for i in range(len(data))], []
    return _read_jsonl(text, label, skip_invalid)


def _read_jsonl(text: str, label: str, skip_invalid: bool) -> tuple[list, list, list]:
    """Records of JSONL text, their sources (``line N``) and the lines skipped as invalid
    (:func:`parity.io.jsonl_records`)."""
    records, bad = jsonl_records(text, label, skip_invalid=skip_invalid)
    sources = [f"line {n}" for n, _ in records]
    skipped = [SkippedRun(f"line {n}", problem) for n, problem in bad]
    return [r for _, r in records], sources, skipped


def _finite_threshold(value: Any) -> float:
    """``success_threshold`` as a finite float (a NaN would make every success False)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    if not math.isfinite(v):
        raise ParityInputError(f"`success_threshold` must be a finite number; got {value!r}")
    return v


def load_runs(
    path: str | os.PathLike[str],
    *,
    skip_invalid: bool = False,
    success_threshold: float = 1.0,
) -> LoadedRuns:
    """Load agent runs from a JSON list / JSONL of chat runs, or a JSONL of step events.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    skip_invalid : bool, default False
        Skip malformed runs and lines (each recorded in ``skipped``) instead of raising.
    success_threshold : float, default 1.0
        A run with a ``reward`` but no ``success`` succeeded when ``reward ≥`` this.

    Returns
    -------
    LoadedRuns

    Raises
    ------
    ParityInputError
        For a missing or unreadable file, invalid JSON (naming the line), a malformed run
        (naming the run or line and the field) unless ``skip_invalid``, or no valid run.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = Path(d) / "steps.jsonl"
    ...     _ = p.write_text('{"run_id": "r1", "step": 1, "action": "open(a.txt)"}\\n'
    ...                      '{"run_id": "r1", "step": 0, "text": "Let me look."}\\n')
    ...     loaded = load_runs(p)
    >>> loaded.format, [s.text for s in loaded.runs[0].steps]
    ('step-events', ['Let me look.', 'open(a.txt)'])
    """
    p = Path(path)
    label = os.fspath(path)
    records, sources, skipped = _read_records(p, label, skip_invalid)
    if not records:
        raise ParityInputError(f"{label}: no runs (the file holds no records)")
    loaded = runs_from_records(
        records,
        label=label,
        skip_invalid=skip_invalid,
        success_threshold=success_threshold,
        sources=sources,
    )
    fmt = loaded.format
    if fmt == "runs":
        fmt = "runs-jsonl" if sources and sources[0].startswith("line") else "runs-json"
    return dataclasses.replace(loaded, format=fmt, skipped=tuple(skipped) + loaded.skipped)
