"""Shared test settings: the job-summary guard, and the ``extra`` marker
(registered in ``pyproject.toml``).

A test of an optional extra (``pip install parity[NAME]``) carries ``@pytest.mark.extra(NAME)``
and is skipped, with the install hint as the reason, when a package of that extra is absent.
Tests that use an oracle library (statsmodels, scikit-image, ...) skip by themselves with
``pytest.importorskip`` inside the test.
"""

from __future__ import annotations

import importlib.util

import pytest

#: Extra (pyproject ``[project.optional-dependencies]``) → the modules its tests import.
EXTRAS = {
    "agents": ("sklearn",),
    "dask": ("dask", "distributed"),
    "embed": ("sklearn", "sentence_transformers"),
    "torch": ("torch",),
}


def installed(module: str) -> bool:
    """Whether ``module`` can be imported (found on the path), without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers(name="extra"):
        (name,) = mark.args
        missing = [m for m in EXTRAS[name] if not installed(m)]
        if missing:
            pytest.skip(
                f"needs the `{name}` extra ({', '.join(missing)} not installed): "
                f"pip install 'parity[{name}]'"
            )


@pytest.fixture(autouse=True)
def _no_job_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test as outside GitHub Actions: a CI job running this suite must not get the
    tests' Markdown summaries in its own job summary (tests of it set the variable themselves)."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
