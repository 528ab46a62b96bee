"""The pytest plugin of :mod:`parity.testing`: a "parity" section and the failed checks' reports.

Registered by the ``pytest11`` entry point ``parity``, so an installed parity loads it in every
pytest run (``-p no:parity`` turns it off; from a checkout without the install,
``-p parity.testing.plugin`` turns it on). It records every parity assertion made while the
tests run and

* adds a ``parity`` section to the terminal summary: one line per assertion, with its test,
  outcome and deciding numbers (the first line of its message);
* with ``--parity-reports DIR``, writes ``<test>.<assertion>-<i>.json`` and ``.md`` under DIR for
  each assertion that did not hold (``i`` counts the test's assertions from 1).

Under pytest-xdist each worker writes its reports; the section lists only what the process that
prints the summary ran.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from parity.testing import AssertionRecord, recording

_RECORDING = pytest.StashKey[tuple]()
_WRITTEN = pytest.StashKey[list]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("parity", "parity assertions (parity.testing)")
    group.addoption(
        "--parity-reports",
        metavar="DIR",
        default=None,
        help="Write the JSON and Markdown reports of failed parity assertions under DIR.",
    )


def pytest_configure(config: pytest.Config) -> None:
    block = recording()
    config.stash[_RECORDING] = (block, block.__enter__())
    config.stash[_WRITTEN] = []


def pytest_unconfigure(config: pytest.Config) -> None:
    block, _ = config.stash[_RECORDING]
    block.__exit__(None, None, None)


def report_stem(record: AssertionRecord, index: int) -> str:
    """The file name, without suffix, of a record's reports: its test and assertion, made safe.

    Examples
    --------
    >>> r = AssertionRecord("assert_equivalent", None, "tests/test_q.py::test_a[x]", "fail",
    ...                     False, 0.3, "", "{}", "")
    >>> report_stem(r, 1)
    'tests_test_q.py__test_a_x_.assert_equivalent-1'
    """
    test = re.sub(r"[^A-Za-z0-9._-]", "_", record.test or "outside-tests")
    return f"{test}.{record.assertion}-{index}"


def write_reports(records: list[AssertionRecord], folder: str | Path) -> list[Path]:
    """Write the JSON and Markdown reports of the records that did not hold; return the paths."""
    folder = Path(folder)
    written: list[Path] = []
    counts: dict[str | None, int] = {}
    for record in records:
        counts[record.test] = counts.get(record.test, 0) + 1
        if record.passed:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        stem = report_stem(record, counts[record.test])
        for suffix, text in ((".json", record.json), (".md", record.markdown)):
            path = folder / f"{stem}{suffix}"
            path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
            written.append(path)
    return written


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    folder = config.getoption("parity_reports")
    if folder:
        _, records = config.stash[_RECORDING]
        config.stash[_WRITTEN] = write_reports(records, folder)


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    _, records = config.stash[_RECORDING]
    if not records:
        return
    terminalreporter.section("parity")
    for record in records:
        headline = record.message.splitlines()[0]
        terminalreporter.line(f"{record.test or '(outside a test)'}: {headline}")
    failed = sum(not r.passed for r in records)
    terminalreporter.line(f"{len(records)} parity assertions, {failed} did not hold")
    written = config.stash[_WRITTEN]
    if written:
        terminalreporter.line(
            f"reports of the failed assertions: {written[0].parent}/ ({len(written)} files)"
        )
