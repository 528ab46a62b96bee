"""Issue 17's speed table in one command: parity next to its peer or bound, as a ratio.

Run it directly (``make bench`` runs each benchmark in full)::

    python benchmarks/speed.py                   # IQM bootstrap, suite runner, CLI rows
    python benchmarks/speed.py --quick           # fewer resamples, runs and repeats
    python benchmarks/speed.py --two-sample      # also the permutation-test rows

Rows (each measured by the benchmark named, whose docstring says exactly what is timed):

* **IQM stratified bootstrap** (``bootstrap.py``): ``aggregate_ci`` of the 7 Atari 100k agents,
  20,000 resamples, against ``rliable.library.get_interval_estimates`` (in
  ``.venv-rliable``; the row says so when it is missing); goal ≥ 20× faster.
* **suite runner** (``suite.py``): 1,000 no-op runs through ``run_suite`` against the same
  commands as bare ``sh`` processes on a pool of the same size; goal ≤ 1.5× the bare time.
* **CLI end to end** (``cli.py``): ``parity compare`` on the demo data in a fresh interpreter,
  against the 0.8 s goal (no peer), with its phases.
* **permutation test** (``two_sample.py``, with ``--two-sample``): that benchmark's own table,
  run as it is (its rows compare with the matmul bound and the scipy route).

The header gives the machine, its load and the thread count; medians of repeats throughout.
It is a report, not a test: it always exits 0.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

import bootstrap as boot
import cli
import suite
from _machine import machine_line

HERE = Path(__file__).resolve().parent


def threads() -> str:
    """numpy's BLAS thread count (threadpoolctl when installed) and the CPU count."""
    try:
        from threadpoolctl import threadpool_info

        blas = ", ".join(f"{i['internal_api']} {i['num_threads']}" for i in threadpool_info())
    except ImportError:
        blas = "threadpoolctl not installed"
    return f"threads: {blas or 'none reported'}; {os.cpu_count()} CPUs"


def iqm_row(args) -> tuple[str, str, str, str, str]:
    from parity.stats.aggregates import aggregate_ci, iqm

    scores = boot.load_scores(args.data)
    b = args.iqm_resamples
    t, _, _ = boot.median_time(
        lambda: aggregate_ci(scores, iqm, n_resamples=b, rng=0), args.repeats
    )
    ns = argparse.Namespace(iqm_resamples=b, poi_resamples=10, rliable_repeats=args.repeats, seed=0)
    ref = boot.run_rliable(args.rliable_python, scores, list(scores), ("DrQ(eps)", "DrQ"), ns)
    if not isinstance(ref, dict):
        return (
            f"IQM bootstrap, 7 agents × 26 tasks, B={b}",
            f"{t:.3f} s",
            f"rliable {ref}",
            "—",
            "≥ 20×",
        )
    r = statistics.median(ref["iqm"]["seconds"])
    ok = "PASS" if r / t >= boot.SPEEDUP_TARGET else "MISS"
    return (
        f"IQM bootstrap, 7 agents × 26 tasks, B={b}",
        f"{t:.3f} s",
        f"rliable {r:.2f} s",
        f"{r / t:.1f}× faster",
        f"≥ 20× {ok}",
    )


def runner_row(args) -> tuple[str, str, str, str, str]:
    n, w = args.runs, args.workers
    ratios, times, bares = [], [], []
    with tempfile.TemporaryDirectory(prefix="parity-bench-speed-") as tmp:
        root = Path(tmp)
        for r in range(args.repeats):
            t = suite.bench_runner(n, w, root / f"runner{r}")
            outs = [root / f"bare{r}" / f"r{i}" for i in range(n)]
            for out in outs:
                out.mkdir(parents=True)
            bare = suite.bench_bare([suite.NOOP.replace("{out}", str(o)) for o in outs], w)
            ratios.append(t / bare)
            times.append(t)
            bares.append(bare)
    ratio = statistics.median(ratios)
    ok = "PASS" if ratio <= 1.5 else "MISS"
    return (
        f"suite runner, {n} no-op runs, {w} workers",
        f"{statistics.median(times):.2f} s",
        f"bare sh {statistics.median(bares):.2f} s",
        f"{ratio:.2f}× the bare time",
        f"≤ 1.5× {ok}",
    )


def cli_row(args) -> tuple[tuple[str, str, str, str, str], str]:
    got = cli.cli_row(args.repeats)
    t = got["seconds"]
    ok = "PASS" if t < cli.TARGET_S else "MISS"
    cpu = got["rows"][0][2]
    row = (
        "parity compare, demo data, end to end",
        f"{t:.2f} s (CPU {cpu:.2f})",
        "goal 0.8 s",
        f"{t / cli.TARGET_S:.1f}× the goal",
        f"< 0.8 s {ok}",
    )
    return row, cli.phase_line(got["phases"])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--data", type=Path, default=boot.DEFAULT_DATA)
    p.add_argument("--rliable-python", type=Path, default=boot.DEFAULT_RLIABLE)
    p.add_argument("--iqm-resamples", type=int, default=20000)
    p.add_argument("--runs", type=int, default=1000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--two-sample", action="store_true", help="also run two_sample.py")
    p.add_argument("--quick", action="store_true", help="B=2000, 200 runs, one repeat")
    args = p.parse_args(argv)
    if args.quick:
        args.iqm_resamples, args.runs, args.repeats = 2000, 200, 1
    print("parity speed table (issue 17)")
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}; {machine_line()}")
    print(threads())
    rows, notes = [], []
    for name, fn in (("IQM", iqm_row), ("runner", runner_row)):
        try:
            rows.append(fn(args))
        except Exception as exc:  # one failed row does not hide the others
            rows.append((name, "failed", f"{type(exc).__name__}: {exc}", "", ""))
    try:
        row, phases = cli_row(args)
        rows.append(row)
        notes.append(phases)
    except Exception as exc:
        rows.append(("CLI", "failed", f"{type(exc).__name__}: {exc}", "", ""))
    header = ("work", "parity", "peer / bound", "ratio", "goal")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(5)]
    print()
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))
    for note in notes:
        print(note)
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if args.two_sample:
        print("\npermutation-test rows (benchmarks/two_sample.py):", flush=True)
        subprocess.run([sys.executable, str(HERE / "two_sample.py")], check=False)
    return 0


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # exit 0 regardless: this is a report
        print(f"benchmark failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    sys.exit(0)
