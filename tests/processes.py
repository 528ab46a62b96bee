"""Test helpers: processes (alive, waiting for one to end; Linux /proc) and the command line
(``parity`` through ``CliRunner``, its one-line errors, strict JSON of its outputs)."""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live (not zombie) process."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def wait_dead(pid: int, seconds: float = 5.0) -> bool:
    """Wait up to ``seconds`` for ``pid`` to end; whether it did."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


# --------------------------------------------------------------------------------------------
# the command line

#: The installed ``parity`` console script of the running interpreter.
PARITY = Path(sys.executable).parent / "parity"


def invoke(*args, **kwargs):
    """``parity ARGS`` through click's ``CliRunner`` (stderr kept apart from stdout)."""
    from click.testing import CliRunner

    from parity.cli.main import cli

    return CliRunner().invoke(cli, [str(a) for a in args], **kwargs)


def one_error_line(stderr: str, pattern: str | None = None) -> str:
    """stderr is exactly one line ``error: …`` (matching the regex ``pattern``) and no
    traceback; that line."""
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {lines!r}"
    assert lines[0].startswith("error: ")
    if pattern is not None:
        assert re.search(pattern, lines[0]), lines[0]
    return lines[0]


def strict_loads(text: str):
    """json.loads that refuses NaN / Infinity (strict JSON)."""

    def refuse(name: str):
        raise ValueError(f"non-strict JSON constant {name}")

    return json.loads(text, parse_constant=refuse)
