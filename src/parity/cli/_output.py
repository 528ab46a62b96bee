"""Output helpers shared by the commands: numbers, JSON files or stdout, input provenance."""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import Any


def fmt(x: float | None, digits: int = 4) -> str:
    """A number for a person: ``digits`` significant digits, ``—`` for None, ``inf``/``nan`` as is.

    Examples
    --------
    >>> fmt(0.123456), fmt(None), fmt(float("inf"))
    ('0.1235', '—', 'inf')
    """
    if x is None:
        return "—"
    return f"{x:.{digits}g}" if math.isfinite(x) else str(x)


def json_text(payload: Any) -> str:
    """Strict JSON (no NaN), indented, with a final newline."""
    return json.dumps(payload, indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` (creating its folder), or to stdout when ``path`` is ``-``."""
    if str(path) == "-":
        sys.stdout.write(text)
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text, encoding="utf-8")


def provenance(spec: str, **extra: Any) -> dict[str, Any]:
    """The record of an input: its spec as given and the sha256 of the file it names."""
    from parity.io import parse_spec, sha256_file

    return {"path": str(spec), "file_sha256": sha256_file(parse_spec(spec)[0]), **extra}


def append_step_summary(markdown: str) -> Path | None:
    """Append a command's Markdown summary to ``$GITHUB_STEP_SUMMARY`` (the job summary of
    GitHub Actions) when that variable names a file; return its path, or None when unset.

    A summary that cannot be written is a ``warning:`` line on stderr, not an error: the
    command's exit code stays its verdict's.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     os.environ["GITHUB_STEP_SUMMARY"] = f"{d}/summary.md"
    ...     _ = append_step_summary("# one"), append_step_summary("# two")
    ...     text = open(f"{d}/summary.md").read()
    ...     del os.environ["GITHUB_STEP_SUMMARY"]
    >>> text
    '# one\\n\\n# two\\n\\n'
    """
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    try:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(markdown.rstrip("\n") + "\n\n")
    except OSError as exc:
        sys.stderr.write(
            f"warning: GITHUB_STEP_SUMMARY={target}: cannot append the summary ({exc.strerror})\n"
        )
        return None
    return Path(target)
