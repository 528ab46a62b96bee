"""Shared test settings."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_job_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test as outside GitHub Actions: a CI job running this suite must not get the
    tests' Markdown summaries in its own job summary (tests of it set the variable themselves)."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
