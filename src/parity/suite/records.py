"""The record of one run of a suite: what the store keeps and the checks judge."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parity.stats._common import ResultMixin

RUN_STATUSES = ("ok", "failed", "timeout")
#: Prefix of the lines parity adds to a run's ``stderr_tail`` (why it judged the run not ok).
NOTE_PREFIX = "parity: "


@dataclass(frozen=True, slots=True)
class RunKey:
    """Identity of a run: one per (system, task, seed, rerun)."""

    system: str
    task: str
    seed: int
    rerun: int = 0


@dataclass(frozen=True, slots=True)
class RunRecord(ResultMixin):
    """One finished run, recorded whole or not at all.

    ``metrics`` maps metric name → value (as read from the run's ``metrics.json``; a missing
    or non-finite value is kept as it was found so that validity can report it); ``files`` maps
    each result file's path relative to the run's output folder → its sha256; ``samples`` names
    the arrays of ``samples.npz`` when there is one, each with its shape (the arrays themselves
    stay on disk at ``out_dir``). ``out_dir`` is relative to the manifest's folder when it lies
    inside it (POSIX separators), else absolute, so ``Path(manifest).parent / out_dir`` is the
    folder in both cases. ``stderr_tail`` is the end of the command's stderr followed by
    parity's own notes, one per line, each starting with :data:`NOTE_PREFIX`.
    """

    key: RunKey
    status: str
    metrics: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    out_dir: str = ""
    exit_code: int | None = None
    started: float | None = None
    duration: float | None = None
    stderr_tail: str = ""
    attempts: int = 1
    source: str = "run"  # "run" (executed) or "ingest" (existing result files)
    samples: dict[str, list[int]] = field(default_factory=dict)  # array name → shape

    def failure_reason(self, notes: bool = True, limit: int = 200) -> str:
        """Why the run is not ok, in one line: the command's own last stderr line (at most
        ``limit`` characters), with parity's notes after it in parentheses (``notes=False``
        leaves them out unless the command printed nothing); ``""`` when there is neither.

        Examples
        --------
        >>> tail = "step 1\\nCUDA out of memory\\nparity: the command exited with code 3"
        >>> run = RunRecord(RunKey("candidate", "t", 0), "failed", exit_code=3, stderr_tail=tail)
        >>> run.failure_reason()
        'CUDA out of memory (the command exited with code 3)'
        >>> run.failure_reason(notes=False)
        'CUDA out of memory'
        >>> RunRecord(run.key, "timeout", stderr_tail="parity: timed out").failure_reason()
        'timed out'
        """
        lines = [line.strip() for line in (self.stderr_tail or "").splitlines() if line.strip()]
        ours = [line[len(NOTE_PREFIX) :] for line in lines if line.startswith(NOTE_PREFIX)]
        own = [line for line in lines if not line.startswith(NOTE_PREFIX)]
        if not own:
            return "; ".join(ours)
        last = own[-1] if len(own[-1]) <= limit else own[-1][: limit - 1] + "…"
        return f"{last} ({'; '.join(ours)})" if ours and notes else last
