"""One escaping rule per output format (parity.report.escape): names from data never become
Markdown/HTML markup, spreadsheet formulas, terminal control sequences or Rich markup."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from click.testing import CliRunner

from parity.cli.main import cli
from parity.report.agents import csv_text
from parity.report.escape import csv_cell, md, md_code, term, visible
from parity.report.markdown import verdict_markdown

pytestmark = pytest.mark.timeout(120)

HOSTILE = "a|b <img src=x onerror=alert(1)> `c` [/b] [x](http://e) *y*"


def test_md_keeps_a_name_one_inert_table_cell():
    out = md(HOSTILE + "\nsecond line")
    assert "\n" not in out and "<img" not in out and "&lt;img" in out
    assert md("p < 0.05 & q") == "p < 0.05 & q" and md("&amp;") == "&amp;amp;"
    assert "|" not in out.replace("\\|", "")
    assert "`" not in out.replace("\\`", "")
    assert "[x](" not in out  # no link
    assert md("plain name 0.5") == "plain name 0.5"


def test_md_code_fences_any_backticks():
    assert md_code("``x`") == "``` ``x` ```"
    assert md_code("a|b") == "`a\\|b`"


@pytest.mark.parametrize("first", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_that_look_like_formulas_get_a_quote(first):
    cell = first + 'HYPERLINK("http://e")'
    assert csv_cell(cell) == "'" + cell
    text = csv_text([{"task": cell, "n": -1.5}], ["task", "n"])
    row = next(r for i, r in enumerate(csv.reader(io.StringIO(text))) if i == 1)
    assert row == ["'" + cell, "-1.5"]  # numbers stay numbers


def test_csv_header_cells_are_guarded_too():
    text = csv_text([{"=cmd": 1}], ["=cmd"])
    assert text.splitlines()[0] == "'=cmd"


def test_terminal_text_shows_control_characters_and_escapes_markup():
    fake = "x\r\x1b[2K\x1b[1;32mintact\x1b[0m\nok\x9b\u2028"
    shown = visible(fake)
    assert all(ord(ch) >= 0x20 and not 0x7F <= ord(ch) <= 0x9F for ch in shown)
    assert shown == "x\\r\\x1b[2K\\x1b[1;32mintact\\x1b[0m\\nok\\x9b\\u2028"
    assert term("exp[/b]") == "exp\\[/b]"


@pytest.fixture()
def hostile_files(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "exp[").mkdir()  # the path holds Rich's closing tag `[/b]`
    ref = tmp_path / "exp[/b] <img src=x onerror=alert(1)> |`q`.npy"
    cand = tmp_path / "cand\x1b[2Jname.npy"
    np.save(ref, rng.normal(size=(40, 2)))
    np.save(cand, rng.normal(size=(40, 2)))
    return ref, cand


def test_hostile_file_names_in_every_compare_output(hostile_files, tmp_path):
    ref, cand = hostile_files
    out = tmp_path / "out"
    res = CliRunner().invoke(
        cli,
        ["compare", str(ref), str(cand), "--resamples", "99", "--no-sensitivity",
         "--out", str(out)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output  # Rich markup in a name neither crashes nor styles
    assert "exp[/b]" in res.stderr and "\x1b" not in res.stderr and "\\x1b[2J" in res.stderr
    summary = (out / "summary.md").read_text()
    assert "<img" not in summary and "&lt;img src=x onerror=alert(1)>" in summary
    for line in summary.splitlines():  # every table row keeps its columns
        if line.startswith("| reference"):
            assert line.replace("\\|", "").count("|") == 4, line
    page = (out / "report.html").read_text()
    assert "<img src=x" not in page and "\x1b" not in page


def test_markdown_of_a_record_with_hostile_reasons():
    record = {
        "verdict": "pass",
        "reasons": ["ok | <script>x</script>"],
        "two_sample": {"results": {}, "pvalue": 0.5, "n_x": 2, "n_y": 2, "dim": 1},
        "alpha": 0.05,
        "embodied": {},
        "inputs": {"reference": {"path": "=x|y"}},
        "settings": {},
        "seed": 0,
        "version": "0",
        "warnings": ["`w` <b>"],
    }
    text = verdict_markdown(record)
    assert "<script>" not in text and "<b>" not in text and "ok | &lt;script>x&lt;/script>" in text
    assert "| reference (=x\\|y) |" in text  # the name stays one cell


def test_an_error_line_stays_one_line_with_a_newline_in_a_name(tmp_path):
    res = CliRunner().invoke(cli, ["compare", str(tmp_path / "no\nsuch.npy"), "b.npy"])
    assert res.exit_code == 2
    assert len(res.stderr.splitlines()) == 1 and "no\\nsuch.npy" in res.stderr
