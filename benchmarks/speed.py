"""Issue 17's speed table in one command: parity next to its peer or bound, as a ratio.

Run it directly (``make bench`` runs each benchmark in full)::

    python benchmarks/speed.py                   # IQM bootstrap, suite runner, CLI rows
    python benchmarks/speed.py --quick           # fewer resamples, runs and repeats
    python benchmarks/speed.py --two-sample      # also the default two-sample test's rows
    python benchmarks/speed.py --only-two-sample # only those (n = m = 500, 2000, 5000)
    python benchmarks/speed.py --only-runner --dir /dev/shm  # the runner row, run folders there

Rows (each measured by the benchmark named, whose docstring says exactly what is timed):

* **IQM stratified bootstrap** (``bootstrap.py``): ``aggregate_ci`` of the 7 Atari 100k agents,
  20,000 resamples, against ``rliable.library.get_interval_estimates`` (in
  ``.venv-rliable``; the row says so when it is missing); goal ≥ 20× faster.
* **suite runner** (``suite.py``): 1,000 no-op runs through ``run_suite`` against the same
  commands as bare ``sh`` processes on a pool of the same size; goal ≤ 1.5× the bare time.
  The run folders go to ``--dir`` (default: the system's temporary folder); the row's header
  line gives one ``mkdir`` and one file create there, which dominate on a slow file system.
* **CLI end to end** (``cli.py``): ``parity compare`` on the demo data in a fresh interpreter,
  against the 0.8 s goal (no peer), with its phases.
* **default two-sample test** (``two_sample.py``'s ``default_row``, with ``--two-sample``):
  ``two_sample_test(x, y)`` (the Gaussian kernel collection aggregated by ``agg``, energy and
  binned KL; d = 7, B = 1000) at n = m = 500, 2000, 5000 against (a) scipy's
  ``permutation_test`` computing the same aggregated family with a hand-vectorized statistic
  whose kernel is float64 (scipy's own precision, as ``two_sample.py``'s summed-kernel row;
  goal ≥ 2× faster) and, for reference, float32 (its statistic is checked equal to parity's on
  parity's own splits, and printed), (b) the scipy float32 route computing the summed-kernel
  MMD alone (goal ≥ 1.5× faster at n = 500, 2000), (c) the float32 sgemm bound of the
  default's products (one per kernel and one for the energy; goal ≤ 1.5× at n = 5000), (d) the
  old default
  ``aggregation="sum"``. ``--two-sample-full`` also runs ``two_sample.py``'s own tables.

The header gives the machine, its load, the thread count and its speed on three fixed probes
(again at the end: a neighbour contending for caches and memory shows there, not in the load);
medians of repeats throughout.
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
from _machine import machine_line, speed_line

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
    with tempfile.TemporaryDirectory(prefix="parity-bench-speed-", dir=args.dir) as tmp:
        root = Path(tmp)
        print(suite.fs_line(root))
        for r in range(args.repeats):
            t = suite.bench_runner(n, w, root / f"runner{r}")
            outs = [root / f"bare{r}" / f"r{i}" for i in range(n)]
            for out in outs:
                out.mkdir(parents=True)
            bare = suite.bench_bare([suite.NOOP.replace("{out}", str(o)) for o in outs], w)
            ratios.append(t / bare)
            times.append(t)
            bares.append(bare)
            print(f"  runner repeat {r + 1}: {t:.2f} s, bare sh {bare:.2f} s, {t / bare:.2f}×")
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


def two_sample_rows(args) -> tuple[list[tuple[str, str, str, str, str]], list[str]]:
    """The default two-sample test's rows (``two_sample.default_rows``): against the scipy
    route computing the same aggregated family, the scipy f32 route computing the MMD alone,
    the float32 sgemm bound of its products, and the old default ``aggregation="sum"``."""
    import two_sample as ts

    rows, notes = [], []
    for n in args.two_sample_sizes:
        r = ts.default_row(n, args.permutations, args.repeats)
        s, t = r["seconds"], r["seconds"]["default"]
        work = f"default test n = m = {n}, d = 7, B = {args.permutations}"
        same = s["scipy_family64"] / t
        rows.append(
            (
                work,
                f"{t:.3f} s",
                f"scipy, same agg family, f64 kernel {s['scipy_family64']:.3f} s",
                f"{same:.2f}× faster",
                "≥ 2× " + ("PASS" if same >= 2 else "MISS"),
            )
        )
        rows.append(
            (
                "",
                "",
                f"scipy, same agg family, f32 kernel {s['scipy_family']:.3f} s",
                f"{s['scipy_family'] / t:.2f}× faster",
                "— (reference)",
            )
        )
        alone = s["scipy_mmd"] / t
        rows.append(
            (
                "",
                "",
                f"scipy f32, MMD (sum) alone {s['scipy_mmd']:.3f} s",
                f"{alone:.2f}× faster",
                ("≥ 1.5× " + ("PASS" if alone >= 1.5 else "MISS")) if n < 5000 else "—",
            )
        )
        bound = t / r["bound"]
        rows.append(
            (
                "",
                "",
                f"sgemm bound, {r['components']} products {r['bound']:.3f} s",
                f"{bound:.2f}× the bound",
                ("≤ 1.5× " + ("PASS" if bound <= 1.5 else "MISS")) if n >= 5000 else "—",
            )
        )
        if r["precision"] == "float64":
            rows.append(
                (
                    "",
                    "",
                    f"dgemm bound (float64, the contract below N = 2048) {r['bound64']:.3f} s",
                    f"{t / r['bound64']:.2f}× the bound",
                    "—",
                )
            )
        rows.append(
            ("", "", f"old default sum {s['sum']:.3f} s", f"{t / s['sum']:.2f}× its time", "—")
        )
        notes.append(
            f"n = m = {n} ({r['precision']}): p parity {r['pvalue']:.4f}, scipy route "
            f"{r['route_pvalue']:.4f} ({'agree' if r['agrees'] else 'DIFFER'}); {r['validation']}"
        )
    return rows, notes


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--data", type=Path, default=boot.DEFAULT_DATA)
    p.add_argument("--rliable-python", type=Path, default=boot.DEFAULT_RLIABLE)
    p.add_argument("--iqm-resamples", type=int, default=20000)
    p.add_argument("--runs", type=int, default=1000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument(
        "--two-sample",
        action="store_true",
        help="also the default two-sample test's rows (n = m in --two-sample-sizes, d = 7, B)",
    )
    p.add_argument("--two-sample-sizes", type=int, nargs="+", default=[500, 2000, 5000])
    p.add_argument("--permutations", "-B", type=int, default=1000)
    p.add_argument(
        "--only-two-sample", action="store_true", help="only the two-sample rows (implies them)"
    )
    p.add_argument(
        "--two-sample-full", action="store_true", help="also run two_sample.py's own tables"
    )
    p.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="where the runner row's run folders go (default: TMPDIR)",
    )
    p.add_argument("--only-runner", action="store_true", help="only the suite runner row")
    p.add_argument("--quick", action="store_true", help="B=2000, 200 runs, one repeat")
    args = p.parse_args(argv)
    if args.quick:
        args.iqm_resamples, args.runs, args.repeats = 2000, 200, 1
        args.two_sample_sizes, args.permutations = [200, 500], 200
    args.two_sample = args.two_sample or args.only_two_sample
    print("parity speed table (issue 17)")
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}; {machine_line()}")
    print(threads())
    print(speed_line())
    rows, notes = [], []
    others = () if args.only_two_sample else (("IQM", iqm_row), ("runner", runner_row))
    if args.only_runner:
        others = (("runner", runner_row),)
    for name, fn in others:
        try:
            rows.append(fn(args))
        except Exception as exc:  # one failed row does not hide the others
            rows.append((name, "failed", f"{type(exc).__name__}: {exc}", "", ""))
    if not (args.only_two_sample or args.only_runner):
        try:
            row, phases = cli_row(args)
            rows.append(row)
            notes.append(phases)
        except Exception as exc:
            rows.append(("CLI", "failed", f"{type(exc).__name__}: {exc}", "", ""))
    if args.two_sample:
        try:
            more, more_notes = two_sample_rows(args)
            rows += more
            notes += more_notes
        except Exception as exc:
            rows.append(("two-sample", "failed", f"{type(exc).__name__}: {exc}", "", ""))
    header = ("work", "parity", "peer / bound", "ratio", "goal")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(5)]
    print()
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))
    for note in notes:
        print(note)
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}; {speed_line()}")
    if args.two_sample_full:
        print("\npermutation-test rows (benchmarks/two_sample.py):", flush=True)
        subprocess.run([sys.executable, str(HERE / "two_sample.py")], check=False)
    return 0


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # exit 0 regardless: this is a report
        print(f"benchmark failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    sys.exit(0)
