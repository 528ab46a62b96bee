"""Synthetic multi-turn tool-calling transcripts with known loops and stalls.

Twelve tasks in four kinds (weather, flights, code, documents), three runs each: trials 0
and 1 with the original prompt, trial 2 with a reworded prompt (``variant: "perturbed"``).
Every run is an OpenAI-style chat transcript (system, user, assistant turns with
``tool_calls``, ``tool`` results, a final answer) of 5 to 20 assistant steps. The agent
follows a task-specific plan with small random variations (query wording, an extra check);
behaviours are injected at known places and recorded in each run's ``metadata``:

* ``loop``: from step ``loop_start`` the agent repeats a cycle of ``loop_period`` tool calls
  until the budget of 20 steps is spent (no answer, reward 0);
* ``stall``: at step ``stall_start`` the agent polls the same status call ``stall_steps``
  times, then finishes normally;
* ``no_tools``: the agent answers at once without calling a tool (a degenerate run).

``baseline`` has 4 loops, 3 stalls and 1 tool-less run; ``regressed`` (a "new" agent) loops
on 19 runs (trial 1 of every task but one, trial 2 of the code, document and one flight task),
with the same stalls and tool-less run. The shipped files (``data/agent_runs.json``,
``data/agent_runs_new.json``, ``data/agent_target.json``) are ``write_examples`` of seed 0.

Examples
--------
>>> runs = generate_runs("baseline")
>>> len(runs), sum(r["metadata"]["injected"] == "loop" for r in runs)
(36, 4)
>>> runs == generate_runs("baseline")
True
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "AGENTS",
    "EXAMPLE_FILES",
    "example_path",
    "generate_runs",
    "target_profile",
    "write_examples",
]

MAX_STEPS = 20
SYSTEM = "You are a helpful assistant with tools. Think step by step and call tools as needed."
EXAMPLE_FILES = {
    "runs": "agent_runs.json",
    "runs_new": "agent_runs_new.json",
    "target": "agent_target.json",
}

Call = tuple[str, dict[str, Any], str]  # tool name, arguments, tool result

# --------------------------------------------------------------------------------------------
# tasks

TASKS: list[dict[str, Any]] = [
    {
        "task_id": "weather-paris",
        "category": "weather",
        "text": "What will the weather be in Paris on Friday? Give the temperature in Celsius.",
        "perturbed": "Friday in Paris: what weather and temperature (Celsius) should I expect?",
        "p": {"city": "Paris", "day": "Friday", "unit": "C"},
    },
    {
        "task_id": "weather-oslo",
        "category": "weather",
        "text": "Will it rain in Oslo on Saturday? Give the weather and the temperature.",
        "perturbed": "Is rain expected in Oslo this Saturday? Report weather and temperature.",
        "p": {"city": "Oslo", "day": "Saturday", "unit": "C"},
    },
    {
        "task_id": "weather-denver",
        "category": "weather",
        "text": "What is the weather forecast for Denver on Monday, temperature in Fahrenheit?",
        "perturbed": "Give me Monday's weather forecast for Denver with the temperature in F.",
        "p": {"city": "Denver", "day": "Monday", "unit": "F"},
    },
    {
        "task_id": "flight-ber-rom",
        "category": "flights",
        "text": "Find the cheapest flight from Berlin to Rome on 12 May and report the fare.",
        "perturbed": "Which Berlin to Rome flight on 12 May has the lowest fare? Report it.",
        "p": {"origin": "BER", "destination": "FCO", "date": "2025-05-12", "flight": "LH231"},
    },
    {
        "task_id": "flight-lhr-jfk",
        "category": "flights",
        "text": "Find the cheapest flight from London to New York on 3 June and report the fare.",
        "perturbed": "Report the lowest fare for a London to New York flight on 3 June.",
        "p": {"origin": "LHR", "destination": "JFK", "date": "2025-06-03", "flight": "BA117"},
    },
    {
        "task_id": "flight-mad-lis",
        "category": "flights",
        "text": "Find the cheapest flight from Madrid to Lisbon on 20 July and book it.",
        "perturbed": "Book the lowest-fare Madrid to Lisbon flight on 20 July.",
        "p": {
            "origin": "MAD",
            "destination": "LIS",
            "date": "2025-07-20",
            "flight": "TP1015",
            "book": True,
        },
    },
    {
        "task_id": "code-parser",
        "category": "code",
        "text": "Fix the failing test test_parse_dates in the acme/parser repository.",
        "perturbed": "In acme/parser, test_parse_dates fails. Make the test pass.",
        "p": {"repo": "acme/parser", "test": "test_parse_dates", "file": "parser/dates.py"},
    },
    {
        "task_id": "code-cli",
        "category": "code",
        "text": "Fix the failing test test_help_flag in the acme/cli repository.",
        "perturbed": "The acme/cli test test_help_flag is red; fix the code so it passes.",
        "p": {"repo": "acme/cli", "test": "test_help_flag", "file": "cli/main.py"},
    },
    {
        "task_id": "code-cache",
        "category": "code",
        "text": "Fix the failing test test_expiry in the acme/cache repository.",
        "perturbed": "Make test_expiry in the acme/cache repository pass again.",
        "p": {"repo": "acme/cache", "test": "test_expiry", "file": "cache/store.py"},
    },
    {
        "task_id": "docs-refund",
        "category": "docs",
        "text": "Summarise the refund policy in the company handbook in three sentences.",
        "perturbed": "In three sentences, what does the company handbook say about refunds?",
        "p": {"topic": "refund policy", "doc": "handbook-2024", "section": "7.2"},
    },
    {
        "task_id": "docs-travel",
        "category": "docs",
        "text": "Summarise the travel expense policy in the company handbook.",
        "perturbed": "What does the company handbook say about travel expenses? Summarise it.",
        "p": {"topic": "travel expense policy", "doc": "handbook-2024", "section": "4.1"},
    },
    {
        "task_id": "docs-leave",
        "category": "docs",
        "text": "Summarise the parental leave policy in the company handbook.",
        "perturbed": "Give a short summary of the handbook's parental leave rules.",
        "p": {"topic": "parental leave policy", "doc": "handbook-2024", "section": "5.3"},
    },
]


# --------------------------------------------------------------------------------------------
# plans: the steps a well-behaved agent takes


def _weather(p: dict, rng: np.random.Generator, perturbed: bool) -> tuple[list[Call], str]:
    city, day = p["city"], p["day"]
    calls: list[Call] = [
        ("geocode", {"query": city}, f"{city}: lat 48.8, lon 2.3"),
        ("get_forecast", {"city": city, "day": day}, "light rain, 14 C"),
        ("get_hourly", {"city": city, "day": day, "hours": "06-18"}, "rain 09-12, dry after"),
        ("get_alerts", {"region": city}, "no alerts"),
    ]
    if rng.random() < 0.5:
        calls.append(("get_forecast", {"city": city, "day": day, "source": "backup"}, "14 C"))
    if p["unit"] == "F":
        calls.append(("convert_units", {"value": 14, "from": "C", "to": "F"}, "57.2 F"))
    if perturbed:
        calls.insert(1, ("get_calendar", {"day": day}, f"{day} is 2025-05-16"))
    answer = f"{day} in {city}: light rain in the morning, dry later, around 14 C."
    return calls, answer


def _flights(p: dict, rng: np.random.Generator, perturbed: bool) -> tuple[list[Call], str]:
    o, d, date, flight = p["origin"], p["destination"], p["date"], p["flight"]
    calls: list[Call] = [
        ("search_airports", {"city": o}, f"{o}"),
        ("search_airports", {"city": d}, f"{d}"),
        ("search_flights", {"origin": o, "destination": d, "date": date}, "14 flights"),
        ("sort_results", {"by": "price", "order": "ascending"}, f"cheapest {flight} 89 EUR"),
        ("get_fare", {"flight": flight, "class": "economy"}, "89 EUR incl. taxes"),
        ("get_baggage_rules", {"flight": flight}, "1 cabin bag"),
    ]
    if rng.random() < 0.5:
        calls.append(("check_seat_map", {"flight": flight}, "42 seats free"))
    if p.get("book"):
        calls.append(("book_flight", {"flight": flight, "passengers": 1}, "booked, ref QX7P"))
    if perturbed:
        calls[2], calls[3] = calls[3], calls[2]
    return calls, f"The cheapest flight is {flight} at 89 EUR."


def _code(p: dict, rng: np.random.Generator, perturbed: bool) -> tuple[list[Call], str]:
    repo, test, path = p["repo"], p["test"], p["file"]
    calls: list[Call] = [
        ("clone_repo", {"repo": repo}, "cloned"),
        ("run_tests", {"selector": test}, "1 failed: AssertionError"),
        ("grep", {"pattern": test.removeprefix("test_"), "path": "."}, f"{path}:42"),
        ("read_file", {"path": path, "lines": "30-60"}, "def parse(...): ..."),
        ("edit_file", {"path": path, "patch": "@@ -42 +42 @@ fix off-by-one"}, "patched"),
        ("run_tests", {"selector": test, "verbose": True}, "1 passed"),
        ("run_tests", {"selector": "all"}, "128 passed"),
        ("git_diff", {"path": path}, "+1 -1"),
    ]
    if rng.random() < 0.5:
        calls.insert(3, ("list_dir", {"path": path.rsplit("/", 1)[0]}, "3 files"))
    if perturbed:
        calls.insert(1, ("read_file", {"path": "README.md"}, "# acme"))
    return calls, f"Fixed {test}: an off-by-one in {path}; all tests pass."


def _docs(p: dict, rng: np.random.Generator, perturbed: bool) -> tuple[list[Call], str]:
    topic, doc, section = p["topic"], p["doc"], p["section"]
    query = topic if rng.random() < 0.5 else f"{topic} rules"
    calls: list[Call] = [
        ("search_docs", {"query": query}, f"{doc} section {section}"),
        ("open_doc", {"doc": doc, "section": section}, "2 pages"),
        ("read_page", {"doc": doc, "section": section, "page": 1}, "..."),
        ("read_page", {"doc": doc, "section": section, "page": 2}, "..."),
        ("find_related", {"doc": doc, "section": section}, "see also 9.1"),
    ]
    if perturbed:
        calls.insert(0, ("list_docs", {"folder": "policies"}, "12 documents"))
    return calls, f"The {topic}, in three sentences: ..."


PLANS: dict[str, Callable[..., tuple[list[Call], str]]] = {
    "weather": _weather,
    "flights": _flights,
    "code": _code,
    "docs": _docs,
}

#: Loop cycles per kind: (first step of the loop, the calls of one period).
LOOPS: dict[str, tuple[int, list[Call]]] = {
    "weather": (
        3,
        [
            ("get_forecast", {"city": "{city}", "day": "{day}"}, "light rain, 14 C"),
            ("convert_units", {"value": 14, "from": "C", "to": "F"}, "57.2 F"),
        ],
    ),
    "flights": (
        3,
        [
            ("search_flights", {"origin": "{origin}", "destination": "{destination}"}, "error"),
            ("get_fare", {"flight": "{flight}"}, "fare unavailable, try again"),
        ],
    ),
    "code": (
        4,
        [
            ("read_file", {"path": "{file}", "lines": "30-60"}, "def parse(...): ..."),
            ("edit_file", {"path": "{file}", "patch": "@@ -42 +42 @@ retry"}, "patched"),
            ("run_tests", {"selector": "{test}"}, "1 failed: AssertionError"),
        ],
    ),
    "docs": (2, [("search_docs", {"query": "{topic}"}, "no results")]),
}

#: Status calls polled during a stall, per kind.
STALLS: dict[str, Call] = {
    "weather": ("check_status", {"job": "radar-refresh"}, "pending"),
    "flights": ("get_booking_status", {"request": "req-5581"}, "pending"),
    "code": ("check_ci_status", {"run": 417}, "running"),
    "docs": ("check_index_status", {"index": "handbook"}, "indexing"),
}

#: Injected behaviours of each agent: (task_id, trial) → (behaviour, parameters).
AGENTS: dict[str, dict[tuple[str, int], tuple[str, dict[str, int]]]] = {
    "baseline": {
        ("code-parser", 1): ("loop", {}),
        ("flight-lhr-jfk", 0): ("loop", {}),
        ("docs-refund", 2): ("loop", {}),
        ("code-cache", 2): ("loop", {}),
        ("code-cli", 0): ("stall", {"start": 2, "steps": 5}),
        ("flight-ber-rom", 2): ("stall", {"start": 4, "steps": 4}),
        ("docs-leave", 1): ("stall", {"start": 2, "steps": 6}),
        ("weather-oslo", 0): ("no_tools", {}),
    },
}
AGENTS["regressed"] = {
    **AGENTS["baseline"],
    **{(t["task_id"], 1): ("loop", {}) for t in TASKS if t["task_id"] != "docs-leave"},
    **{
        (t["task_id"], 2): ("loop", {})
        for t in TASKS
        if t["category"] in ("code", "docs") or t["task_id"] == "flight-mad-lis"
    },
}


# --------------------------------------------------------------------------------------------
# transcripts


def _fill(args: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
    return {k: v.format(**p) if isinstance(v, str) else v for k, v in args.items()}


def _messages(task_text: str, calls: list[Call], answer: str | None) -> list[dict[str, Any]]:
    msgs: list[dict[str, Any]] = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": task_text},
    ]
    for i, (name, args, result) in enumerate(calls):
        call_id = f"call_{i}"
        msgs.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {"name": name, "arguments": json.dumps(args)},
                    }
                ],
            }
        )
        msgs.append({"role": "tool", "tool_call_id": call_id, "content": result})
    if answer is not None:
        msgs.append({"role": "assistant", "content": answer})
    return msgs


def _run(
    task: dict[str, Any], trial: int, behaviour: tuple[str, dict[str, int]] | None, rng
) -> dict[str, Any]:
    """One synthetic transcript of ``task`` at ``trial``: its tool calls and answer, with the
    injected loop or stall of ``behaviour`` (if any) recorded in its metadata."""
    perturbed = trial == 2
    text = task["perturbed"] if perturbed else task["text"]
    calls, answer = PLANS[task["category"]](task["p"], rng, perturbed)
    success = bool(rng.random() < 0.85)
    meta: dict[str, Any] = {"injected": None}
    kind = behaviour[0] if behaviour else None
    if kind == "loop":
        start, cycle = LOOPS[task["category"]]
        cycle = [(n, _fill(a, task["p"]), r) for n, a, r in cycle]
        calls = calls[:start] + [cycle[i % len(cycle)] for i in range(MAX_STEPS - start)]
        answer, success = None, False
        period = len(cycle)
        while start > 0 and calls[start - 1][:2] == calls[start - 1 + period][:2]:
            start -= 1  # the plan's own step already began the cycle
        meta = {"injected": "loop", "loop_start": start, "loop_period": period}
    elif kind == "stall":
        start, steps = behaviour[1]["start"], behaviour[1]["steps"]
        name, args, result = STALLS[task["category"]]
        polls = [(name, args, result)] * (steps - 1) + [(name, args, "done")]
        calls = calls[:start] + polls + calls[start:]
        success = True
        meta = {"injected": "stall", "stall_start": start, "stall_steps": steps}
    elif kind == "no_tools":
        calls, answer, success = [], "I think it will probably be fine.", False
        meta = {"injected": "no_tools"}
    return {
        "run_id": f"{task['task_id']}#{trial}",
        "task_id": task["task_id"],
        "trial": trial,
        "variant": "perturbed" if perturbed else "original",
        "category": task["category"],
        "reward": 1.0 if success else 0.0,
        "messages": _messages(text, calls, answer),
        "metadata": meta,
    }


def generate_runs(
    agent: str = "baseline", rng: int | np.random.Generator | None = 0
) -> list[dict[str, Any]]:
    """The 36 runs (12 tasks × 3 trials) of ``agent`` (``"baseline"`` or ``"regressed"``).

    The random variations come from ``numpy.random.default_rng(rng)``, drawn in the same
    order for every agent, so with the same int seed the two agents differ only where their
    behaviours differ.
    """
    if agent not in AGENTS:
        raise ValueError(f"`agent` must be one of {', '.join(AGENTS)}; got {agent!r}")
    rng = np.random.default_rng(rng)
    runs = []
    for task in TASKS:
        for trial in range(3):
            behaviour = AGENTS[agent].get((task["task_id"], trial))
            runs.append(_run(task, trial, behaviour, rng))
    return runs


def target_profile() -> dict[str, Any]:
    """A sample of 24 target task texts: real usage is mostly code and documents, rarely
    weather, and includes 3 requests (translation, poetry, recipes) no benchmark task covers.
    """
    texts = [
        "Fix the failing test test_merge in the acme/git repository.",
        "The test test_unicode fails in acme/parser; fix it.",
        "Fix the failing integration test in the acme/api repository.",
        "Fix the flaky test test_timeout in acme/http.",
        "Fix the failing test test_rounding in the acme/money repository.",
        "Make the failing test test_config pass in acme/cli.",
        "Fix the failing test test_login in the acme/auth repository.",
        "Fix the failing test test_sort_order in acme/cache.",
        "Summarise the remote work policy in the company handbook.",
        "Summarise the security policy in the company handbook.",
        "What does the company handbook say about overtime? Summarise the policy.",
        "Summarise the code of conduct in the company handbook.",
        "Summarise the handbook's policy on conference travel expenses.",
        "Summarise the onboarding policy in the company handbook.",
        "Find the cheapest flight from Paris to Vienna on 2 April and report the fare.",
        "Find the cheapest flight from Zurich to London on 9 August and book it.",
        "Find the cheapest flight from Rome to Athens on 15 September and report the fare.",
        "What will the weather be in Madrid on Sunday? Give the temperature in Celsius.",
        "Will it rain in Dublin on Tuesday? Give the weather forecast.",
        "Fix the failing test test_retry in the acme/queue repository.",
        "Summarise the expense reimbursement policy in the company handbook.",
        "Translate this contract clause into German.",
        "Write a short poem about autumn leaves.",
        "Suggest a vegetarian recipe with lentils and spinach.",
    ]
    return {"texts": texts}


def _json_runs(runs: list[dict[str, Any]]) -> str:
    lines = [json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in runs]
    return "[\n" + ",\n".join(lines) + "\n]\n"


def write_examples(
    directory: str | os.PathLike[str], rng: int | np.random.Generator | None = 0
) -> dict[str, Path]:
    """Write the example files (see :data:`EXAMPLE_FILES`) to ``directory``; return their paths.

    Both agents' runs use one seed: ``rng`` when it is an int, else one drawn from it.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     paths = write_examples(d)
    ...     same = paths["runs"].read_bytes() == example_path("runs").read_bytes()
    >>> sorted(paths), same
    (['runs', 'runs_new', 'target'], True)
    """
    seed = rng if isinstance(rng, int) else int(np.random.default_rng(rng).integers(2**63 - 1))
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    texts = {
        "runs": _json_runs(generate_runs("baseline", seed)),
        "runs_new": _json_runs(generate_runs("regressed", seed)),
        "target": json.dumps(target_profile(), indent=1, ensure_ascii=False) + "\n",
    }
    paths = {}
    for key, text in texts.items():
        path = out / EXAMPLE_FILES[key]
        path.write_text(text, encoding="utf-8")
        paths[key] = path
    return paths


def example_path(name: str = "runs") -> Path:
    """Path of a shipped example file: ``"runs"``, ``"runs_new"`` or ``"target"``.

    Examples
    --------
    >>> example_path("runs").name
    'agent_runs.json'
    """
    if name not in EXAMPLE_FILES:
        raise ValueError(f"`name` must be one of {', '.join(EXAMPLE_FILES)}; got {name!r}")
    return Path(str(resources.files("parity.examples") / "data" / EXAMPLE_FILES[name]))


if __name__ == "__main__":  # regenerate the shipped files
    print(write_examples(Path(__file__).parent / "data"))
