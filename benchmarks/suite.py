"""Benchmark of suites: the runner's throughput and overhead, and the time to judge and report.

Run it with ``make bench`` or directly::

    python benchmarks/suite.py                    # 1,000 runs, the full report benchmark
    python benchmarks/suite.py --quick            # 200 runs, one repeat
    python benchmarks/suite.py --runs 2000 --workers 8
    python benchmarks/suite.py --dir /dev/shm     # the run folders in another file system

Routes:

* **runner** — ``parity.suite.runner.run_suite`` on a generated manifest with 1,000 no-op runs
  (2 systems × 1 task × 500 seeds) through the local executor: each run is a ``/bin/sh`` command
  that writes ``{"x": 1}`` to ``{out}/metrics.json``. Timed end to end (planning, the processes,
  hashing, reading the metrics, the SQLite commits, one per batch of runs that finish within
  0.2 s) into a fresh store; printed as runs/second. The modules ``run_suite`` imports on first
  use are imported before the clock starts (once per process, not a cost per run).
* **bare processes** — the same commands, 1,000 of them, run with ``subprocess.run(cmd,
  shell=True)`` from a thread pool of the same size into folders made beforehand: the process
  start-up cost alone. The runner's *overhead* is ``runner time / bare time`` (1 = none) and
  ``(runner − bare) / runs`` per run. For scale, 1,000 bare ``python -c pass`` processes
  (``sys.executable``) on the same pool are timed too: a run of a real Python system pays at
  least that.
* **report** — ``judge`` + ``write_suite_reports`` over synthetic run records: 10 tasks × 20
  seeds × 5 metrics × 2 reruns × 2 systems (800 records), one IQM aggregate (2,000 resamples), no
  components; TOST per (task, metric) and rerun, Holm, posteriors for the Bayesian check,
  stability across the two reruns. Median of ``--repeats``.

It is a report, not a test: it always exits 0. Timings on a shared or small machine are noisy;
the header prints the CPU count and the load average. The run folders go to a temporary folder
in ``--dir`` (default: the system's, honouring ``TMPDIR``); each run makes two folders and
three files there (the command a fourth), so the header also prints what one ``mkdir`` and one
file create cost in it: when those are slow (some ``/tmp`` file systems take a millisecond), the
file system, not the runner, dominates the runner's time.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

NOOP = """echo '{"x": 1}' > {out}/metrics.json"""
#: CPU seconds of this process (all its threads, not the commands) in the last runner / bare route.
CPU: dict[str, float] = {}


def header(workers: int) -> None:
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",) * 3
    print(
        f"python {platform.python_version()} · numpy {np.__version__} · {os.cpu_count()} CPUs · "
        f"workers {workers} · load {' '.join(f'{x:.2f}' for x in load)}"
    )


def fs_costs(folder: Path, n: int = 200) -> tuple[float, float]:
    """Median seconds of one ``mkdir`` and of one file create (``open(…, "wb")``) in ``folder``."""
    probe = Path(tempfile.mkdtemp(prefix="fs-probe-", dir=folder))
    try:
        dirs, files = [], []
        for i in range(n):
            t0 = time.perf_counter()
            os.mkdir(probe / f"d{i}")
            t1 = time.perf_counter()
            with open(probe / f"f{i}", "wb"):
                pass
            t2 = time.perf_counter()
            dirs.append(t1 - t0)
            files.append(t2 - t1)
        return statistics.median(dirs), statistics.median(files)
    finally:
        shutil.rmtree(probe, ignore_errors=True)


def fs_line(folder: Path) -> str:
    """``"runs in DIR: mkdir X ms, file create Y ms"`` for the header."""
    mkdir, create = fs_costs(folder)
    return f"runs in {folder}: mkdir {1000 * mkdir:.3f} ms, file create {1000 * create:.3f} ms"


def bench_runner(n_runs: int, workers: int, root: Path) -> float:
    import parity.suite.executors
    import parity.suite.manifest
    import parity.suite.store  # noqa: F401 (imported once, before the clock starts)
    from parity.suite.runner import run_suite

    seeds = n_runs // 2
    import yaml

    root.mkdir(parents=True, exist_ok=True)
    manifest = root / "noop.yaml"
    spec = {
        "name": "noop",
        "systems": {"reference": {"command": NOOP}, "candidate": {"command": NOOP}},
        "tasks": ["t"],
        "seeds": list(range(seeds)),
        "metrics": {"x": {"margin": {"absolute": 1}}},
    }
    manifest.write_text(yaml.safe_dump(spec), encoding="utf-8")
    start, cpu = time.perf_counter(), time.process_time()
    result = run_suite(manifest, workers=workers, handle_signals=False)
    elapsed = time.perf_counter() - start
    CPU["runner"] = time.process_time() - cpu
    counts = result.counts()
    if counts["ok"] != 2 * seeds:
        print(f"  warning: {counts} (expected {2 * seeds} ok)")
    return elapsed


def bench_bare(commands: list[str], workers: int) -> float:
    def one(cmd: str) -> int:
        return subprocess.run(cmd, shell=True, check=False).returncode

    start, cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(workers) as pool:
        codes = list(pool.map(one, commands))
    elapsed = time.perf_counter() - start
    CPU["bare"] = time.process_time() - cpu
    if any(codes):
        print(f"  warning: {sum(c != 0 for c in codes)} commands failed")
    return elapsed


def synthetic_suite(tasks: int = 10, seeds: int = 20, metrics: int = 5, reruns: int = 2):
    from parity.suite.manifest import parse_manifest
    from parity.suite.records import RunRecord

    names = [f"m{i}" for i in range(metrics)]
    task_names = [f"task{i:02d}" for i in range(tasks)]
    manifest = parse_manifest(
        {
            "name": "bench",
            "reruns": reruns,
            "systems": {"reference": {"command": "r {out}"}, "candidate": {"command": "c {out}"}},
            "tasks": task_names,
            "seeds": list(range(seeds)),
            "metrics": {
                name: {"margin": {"relative": 0.05} if i % 2 == 0 else {"absolute": 0.5}}
                for i, name in enumerate(names)
            },
            "aggregates": [
                {"name": "iqm_m0", "metric": "m0", "margin": {"ratio": 0.05}, "n_resamples": 2000}
            ],
            "validity": {"bounds": ["m0 > 0"]},
        }
    )
    g = np.random.default_rng(0)
    runs = []
    for key in manifest.expected_keys():
        values = {
            name: float(100.0 + g.normal(0, 2) if i % 2 == 0 else g.normal(0, 0.25))
            for i, name in enumerate(names)
        }
        runs.append(RunRecord(key, "ok", values))
    return manifest, runs


def bench_report(repeats: int, root: Path) -> tuple[list[float], list[float], object]:
    from parity.report.suite import write_suite_reports
    from parity.suite.checks import judge

    manifest, runs = synthetic_suite()
    judge_times, write_times = [], []
    verdict = None
    for i in range(repeats):
        start = time.perf_counter()
        verdict = judge(manifest, runs, rng=0)
        judge_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        write_suite_reports(verdict, root / f"reports{i}")
        write_times.append(time.perf_counter() - start)
    same = all(
        (root / "reports0" / p.name).read_bytes() == p.read_bytes()
        for p in (root / f"reports{repeats - 1}").iterdir()
    )
    print(f"  reports byte-identical across repeats: {same}")
    return judge_times, write_times, verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="no-op runs (even)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeats", type=int, default=3, help="repeats of the report route")
    parser.add_argument("--quick", action="store_true", help="200 runs, one repeat")
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="where the temporary run folders go (default: TMPDIR)",
    )
    args = parser.parse_args()
    if args.quick:
        args.runs, args.repeats = 200, 1
    n = args.runs - args.runs % 2
    header(args.workers)
    with tempfile.TemporaryDirectory(prefix="parity-bench-suite-", dir=args.dir) as tmp:
        root = Path(tmp)
        print(fs_line(root))
        print(f"\nrunner: {n} no-op runs (`{NOOP}`), local executor, {args.workers} workers")
        runner = bench_runner(n, args.workers, root / "runner")
        print(f"  run_suite            {runner:8.2f} s   {n / runner:8.1f} runs/s")
        bare_dir = root / "bare"
        outs = [bare_dir / f"r{i}" for i in range(n)]
        for out in outs:
            out.mkdir(parents=True)
        bare = bench_bare([NOOP.replace("{out}", str(out)) for out in outs], args.workers)
        print(f"  bare sh processes    {bare:8.2f} s   {n / bare:8.1f} runs/s")
        bare_cpu = CPU["bare"]
        py = bench_bare([f"{sys.executable} -c pass"] * n, args.workers)
        print(f"  bare `python -c pass`{py:8.2f} s   {n / py:8.1f} runs/s")
        w = args.workers
        print(
            f"  runner overhead: {runner / bare:.2f}× the bare sh processes, "
            f"+{1000 * (runner - bare) / n:.2f} ms of wall time per run at {w} workers "
            f"(≈ {1000 * w * (runner - bare) / n:.1f} ms per run per worker); bare `python -c "
            f"pass` takes {1000 * py / n:.2f} ms per run at {w} workers, so for a Python system "
            f"the runner adds {100 * (runner - bare) / py:.0f} % to the start-up alone"
        )
        print(
            f"  parent CPU per run (this process, all threads; the commands not counted): "
            f"runner {1000 * CPU['runner'] / n:.2f} ms, bare {1000 * bare_cpu / n:.2f} ms"
        )

        print("\nreport: judge + write reports, 10 tasks × 20 seeds × 5 metrics × 2 reruns")
        judge_t, write_t, verdict = bench_report(args.repeats, root)
        print(
            f"  judge                {statistics.median(judge_t):8.3f} s   "
            f"(runs {', '.join(f'{t:.3f}' for t in judge_t)})"
        )
        print(
            f"  write_suite_reports  {statistics.median(write_t):8.3f} s   "
            f"(runs {', '.join(f'{t:.3f}' for t in write_t)})"
        )
        eq = verdict.equivalence
        passed = sum(t.passed for t in eq.tests)
        print(
            f"  verdict {verdict.verdict}: {passed}/{len(eq.tests)} tests pass, "
            f"{verdict.stability.posteriors_computed} posteriors, stability "
            f"{verdict.stability.status}"
        )


if __name__ == "__main__":
    main()
