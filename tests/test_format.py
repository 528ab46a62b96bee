"""The one number formatter (parity._format), the one JSON writer (parity.io.json_dumps) and
the one JSONL reader (parity.io.read_jsonl): their rules, case by case."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from parity._format import cell, interval, number, to_float
from parity.errors import ParityInputError
from parity.io import json_dumps, json_text, json_value, jsonl_records, parse_json, read_jsonl

# --------------------------------------------------------------------------------------------
# numbers for people


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [
        (None, 4, "—"),
        (0, 4, "0"),
        (12345, 4, "12345"),  # integers are exact, never rounded
        (np.int64(-7), 4, "-7"),
        (0.123456, 4, "0.1235"),
        (0.123456, 2, "0.12"),
        (2.0, 4, "2"),  # no trailing zeros
        (1.0049, 3, "1"),
        (0.90909, 3, "0.909"),
        (-1.5, 4, "-1.5"),
        (1e-5, 4, "1e-05"),
        (123456.0, 4, "1.235e+05"),
        (np.float32(0.25), 4, "0.25"),
        (float("nan"), 4, "nan"),
        (float("inf"), 4, "∞"),
        (float("-inf"), 4, "-∞"),  # an ASCII minus, as for -1.5
        ("nan", 4, "nan"),  # the JSON spelling of non-finite floats reads as the float
        ("inf", 4, "∞"),
        ("-inf", 4, "-∞"),
    ],
)
def test_number_rule(value, digits, text):
    assert number(value, digits) == text


@pytest.mark.parametrize("value", [True, np.bool_(False), "0.5", "run-1", [1.0], object()])
def test_number_refuses_what_is_not_a_number(value):
    with pytest.raises(TypeError, match="number"):
        number(value)


def test_interval_is_two_numbers_in_brackets():
    assert interval((0.9, float("inf"))) == "[0.9, ∞]"
    assert interval(["-inf", 0.123456], 2) == "[-∞, 0.12]"
    assert interval((1, 2)) == "[1, 2]"
    assert interval(None) == "—"


def test_cell_shows_text_as_it_is_and_numbers_by_the_rule():
    values = [None, True, False, np.bool_(True), 3, 0.5, float("inf"), "inf", "nan", "x"]
    assert [cell(v) for v in values] == [
        "—",
        "yes",
        "no",
        "yes",
        "3",
        "0.5",
        "∞",
        "inf",
        "nan",
        "x",
    ]


def test_to_float_decodes_record_numbers():
    assert to_float("inf") == math.inf and to_float("-inf") == -math.inf
    assert math.isnan(to_float("nan")) and math.isnan(to_float(None))
    assert to_float(3) == 3.0


def test_stderr_markdown_and_html_write_an_interval_alike(tmp_path):
    """The issue's case: a one-sided interval read ``[0.9, inf]`` on stderr and ``[0.9, ∞]``
    in Markdown; the CLI, the Markdown summary and the HTML tables now write it one way."""
    from click.testing import CliRunner

    from parity.cli.main import cli
    from parity.report.html import flatten
    from parity.report.summaries import equivalence_markdown
    from parity.stats.equivalence import noninferiority

    ref = np.array([1.0, 1.1, 0.9, 1.0, 1.05])
    cand = np.array([1.0, 1.05, 0.95, 1.0, 1.1])
    r = noninferiority(ref, cand, margin=0.5)
    shown = interval(r.confidence_interval)
    assert shown.endswith(", ∞]") and shown == interval(r.to_dict()["confidence_interval"])
    np.save(tmp_path / "ref.npy", ref)
    np.save(tmp_path / "cand.npy", cand)
    args = ["equivalence", tmp_path / "ref.npy", tmp_path / "cand.npy", "--margin", "0.5"]
    res = CliRunner().invoke(cli, [*map(str, args), "--noninferiority", "--json", "-"])
    assert res.exit_code == 0, res.output
    assert shown in res.stderr and "inf]" not in res.stderr
    payload = json.loads(res.stdout)
    assert shown in equivalence_markdown(payload, "ref vs cand")
    assert dict(flatten({"ci": list(r.confidence_interval)}))["ci"] == shown


# --------------------------------------------------------------------------------------------
# the JSON writer


def test_json_policy_non_finite_as_strings_none_as_null_text_untouched():
    payload = {
        "p": float("nan"),
        "ci": (0.9, float("inf")),
        "low": -np.inf,
        "task_id": "nan",  # text that looks like a number stays text
        "other": "inf",
        "missing": None,
        "n": np.int64(3),
        "flag": np.bool_(True),
        "arr": np.array([0.5, np.nan]),
        "x": 0.1 + 0.2,  # 12 significant digits
        "exact": 1 / 3,
    }
    text = json_dumps(payload, indent=None)
    assert text == (
        '{"p": "nan", "ci": [0.9, "inf"], "low": "-inf", "task_id": "nan", "other": "inf", '
        '"missing": null, "n": 3, "flag": true, "arr": [0.5, "nan"], "x": 0.3, '
        '"exact": 0.333333333333}'
    )
    back = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON: {c}"))
    assert math.isnan(float(back["p"])) and float(back["ci"][1]) == math.inf
    assert back["task_id"] == "nan" and back["missing"] is None


def test_json_digits_none_keeps_floats_exactly():
    assert json_dumps([1 / 3, float("inf")], indent=None, digits=None) == (
        '[0.3333333333333333, "inf"]'
    )
    assert json_value({"a": (1, 2.5)}) == {"a": [1, 2.5]}


def test_json_text_is_indented_with_a_final_newline():
    assert json_text({"b": 1, "a": float("nan")}, sort_keys=True) == (
        '{\n  "a": "nan",\n  "b": 1\n}\n'
    )


def test_json_writer_refuses_what_json_has_no_value_for():
    with pytest.raises(TypeError):
        json_dumps({"a": object()})


def test_results_write_as_their_records():
    """The writer keeps ``to_dict()``'s spelling: verdict.json and every other file agree."""
    from parity.stats._common import to_jsonable

    record = to_jsonable({"ci": (0.5, np.inf), "p": np.nan})
    assert json.loads(json_dumps(record)) == json.loads(
        json_dumps({"ci": (0.5, np.inf), "p": np.nan})
    )


def test_agents_json_keeps_a_task_named_nan():
    from parity.report.agents import csv_text

    row = {"task_id": "nan", "rate": float("nan"), "weight": None, "ci": float("-inf")}
    assert json.loads(json_text([row])) == [
        {"task_id": "nan", "rate": "nan", "weight": None, "ci": "-inf"}
    ]
    assert csv_text([row], list(row)) == "task_id,rate,weight,ci\nnan,nan,,-inf\n"


# --------------------------------------------------------------------------------------------
# the JSON and JSONL reader


def test_jsonl_lines_end_at_newline_only():
    text = '{"text": "a\u2028b"}\r\n\n[1, 2]\n'  # U+2028 inside a string is not a line end
    assert jsonl_records(text, "x.jsonl") == ([(1, {"text": "a\u2028b"}), (3, [1, 2])], [])


def test_jsonl_error_wording():
    with pytest.raises(ParityInputError) as info:
        jsonl_records('{"a": 1}\n{"a": 1,}\n', "x.jsonl")
    assert str(info.value) == (
        "x.jsonl: line 2 is not valid JSON "
        "(Expecting property name enclosed in double quotes at column 9)"
    )
    records, skipped = jsonl_records('{"a": 1}\n{"a"\n', "x.jsonl", skip_invalid=True)
    assert records == [(1, {"a": 1})]
    assert skipped == [(2, "not valid JSON (Expecting ':' delimiter at column 5)")]


def test_json_error_wording():
    with pytest.raises(ParityInputError) as info:
        parse_json('{\n  "a": 1,\n}', "m.json")
    assert str(info.value) == (
        "m.json: not valid JSON (Expecting property name enclosed in double quotes "
        "at line 3, column 1)"
    )


def test_read_jsonl_reads_through_read_text(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes('\ufeff{"id": 1}\n'.encode())  # a BOM is dropped
    assert read_jsonl(path, "a.jsonl") == ([(1, {"id": 1})], [])
    with pytest.raises(ParityInputError, match=r"^nope\.jsonl: file not found$"):
        read_jsonl(tmp_path / "nope.jsonl", "nope.jsonl")
    path.write_bytes(b'{"id": "\xff"}\n')
    with pytest.raises(ParityInputError, match=r"^a\.jsonl: not UTF-8 text \("):
        read_jsonl(path, "a.jsonl")


def test_the_readers_word_errors_alike(tmp_path):
    """Samples (io), agent runs (agents.loading) and run metrics (suite.ingest) say the same."""
    from parity.agents.loading import load_runs
    from parity.io import load_samples
    from parity.suite.ingest import read_metrics

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"a": 1}\n{"a": 1,}\n')
    expected = "line 2 is not valid JSON (Expecting property name enclosed in double quotes"
    for load in (load_samples, load_runs):
        with pytest.raises(ParityInputError, match=r"bad\.jsonl: " + re.escape(expected)):
            load(bad)
    metrics = tmp_path / "metrics.json"
    metrics.write_text('{"a": 1,}')
    _, problem = read_metrics(metrics)
    assert problem == (
        f"{metrics}: not valid JSON (Expecting property name enclosed in double quotes "
        "at line 1, column 9)"
    )
    _, problem = read_metrics(tmp_path / "none" / "metrics.json")
    assert problem.endswith(
        "metrics.json: file not found; a run must write metrics.json (name → number)"
    )
