"""The machine a benchmark ran on: CPU model, core count and load average (:func:`machine_line`),
and how fast it runs right now on three fixed probes (:func:`speed_line`)."""

from __future__ import annotations

import os
import platform
import time


def machine_line() -> str:
    """``"<CPU model>, <N> logical cores, load average a b c"`` (Linux reads /proc/cpuinfo)."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    load = ""
    if hasattr(os, "getloadavg"):
        load = ", load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())
    return f"{cpu}, {os.cpu_count()} logical cores{load}"


def _best(fn, repeats: int = 5) -> float:
    """The shortest of ``repeats`` wall times of ``fn()``, in seconds."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def speed_line() -> str:
    """``"speed now: Python loop … ns a step, numpy gather … ns an element, dgemm … GFLOP/s"``.

    Three fixed probes (best of 5, about 0.1 s in all): a Python ``for`` loop (the interpreter),
    ``np.take`` of 2**20 random indices into a 4096-entry table (caches and memory) and a
    512 × 512 float64 product (BLAS). A neighbour on the same host that contends for caches and
    memory slows the last two without showing in the load average, and moves a ratio between
    a numpy route and a peer that spends its time in the interpreter: compare these lines
    across runs before comparing the ratios.
    """
    import numpy as np

    steps = 200_000

    def loop() -> None:
        total = 0
        for i in range(steps):
            total += i

    gen = np.random.default_rng(0)
    table, idx = gen.random(4096), gen.integers(0, 4096, 2**20)
    a = gen.random((512, 512))
    python = _best(loop) / steps * 1e9
    gather = _best(lambda: np.take(table, idx)) / idx.size * 1e9
    gflops = 2 * 512**3 / _best(lambda: a @ a) / 1e9
    return (
        f"speed now: Python loop {python:.1f} ns a step, numpy gather {gather:.2f} ns an "
        f"element, dgemm {gflops:.0f} GFLOP/s"
    )
