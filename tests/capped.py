"""Run the ``parity`` command line in a subprocess under a memory cap and a timeout.

Tests of hostile inputs use it so that a regression (an unbounded read, an alias bomb, a hang)
fails the test — a MemoryError, a kill or a timeout — instead of exhausting the machine or
stalling CI. The cap is on the address space (``RLIMIT_AS``), set in the child before it starts.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
#: Address space a parity process needs to start, import numpy and read a small file (MiB).
BASE_MIB = 1024


def run_parity(
    *args, memory_mib: int = BASE_MIB, timeout: float = 60, cwd=None
) -> subprocess.CompletedProcess:
    """``parity ARGS`` in a child limited to ``memory_mib`` MiB of address space."""
    limit = memory_mib << 20

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.run(
        [sys.executable, "-c", "from parity.cli.main import run; run()", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=env,
        preexec_fn=cap,
    )
