"""Benchmark of parity's stratified bootstrap (rliable's use case) against rliable itself.

Run it with ``make bench`` (which also sets up ``.venv-rliable``) or directly::

    python benchmarks/bootstrap.py                           # full run (several minutes)
    python benchmarks/bootstrap.py --quick                   # smoke run, small B, one repeat
    python benchmarks/bootstrap.py --skip-rliable            # parity only

Data: the Atari 100k per-run final scores of rliable's "Statistical Precipice" colab
(``../shared/rliable_atari100k`` beside the repository, see its PROVENANCE.md; ``--data``
or ``$PARITY_ATARI100K`` elsewhere): 26 games × 100 runs for DER, DrQ, DrQ(ε), OTRainbow, SPR
and CURL, 26 × 5 for SimPLe. Raw scores are human-normalized as in the colab,
``(score − RANDOM[game]) / (HUMAN[game] − RANDOM[game])``; CURL's file is already normalized
(its ``HNS`` field). Score matrices are (runs × games), games sorted alphabetically.

Routes (each timed as the median of repeats, the same data for both libraries):

* **IQM** — 95 % stratified bootstrap percentile CIs of the IQM of all 7 agents, 20,000
  resamples: ``aggregate_ci(score_dict, iqm, n_resamples=20000, rng=0)`` against
  ``rliable.library.get_interval_estimates(score_dict, lambda x: np.array([aggregate_iqm(x)]),
  reps=20000)``.
* **PoI** — probability of improvement of DrQ(ε) over DrQ with 2,000 resamples:
  ``probability_of_improvement_ci(x, y, n_resamples=2000, rng=0)`` against
  ``get_interval_estimates({"pair": [x, y]}, lambda x, y: np.array([probability_of_improvement(
  x, y)]), reps=2000)`` (rliable's ``StratifiedIndependentBootstrap``).
* **AUC** — ``parity.stats.auc(scores, labels, method="bootstrap", n_resamples=10000, rng=0)``
  on n = 8,192 seeded normal scores (half positives, shifted by 0.5); parity only.

rliable runs in its own virtual environment (it needs ``pandas < 3`` and ``arch``), by default
``.venv-rliable/bin/python`` (``--rliable-python``), in a subprocess that reads the same score
matrices from a temporary ``.npz`` and prints its seconds and numbers as JSON. rliable draws from
numpy's global generator (its ``random_state`` argument is ignored), so the subprocess seeds it
with ``np.random.seed`` to make its numbers repeatable; its draws differ from parity's.

Targets, each reported PASS/MISS: parity ≥ 20× faster than rliable (per route and for both routes
together); point estimates equal to rliable's within 1e-6; CI bounds within Monte Carlo error;
the AUC bootstrap under 2 s. *Monte Carlo error*: a percentile bound is the sample q-quantile
of B bootstrap statistics; its standard error is ``sqrt(q(1 − q)/B) / f(ξ_q)``, with the density
``f`` at the quantile estimated from parity's bootstrap distribution by the spacing
``2h / (Q(q + h) − Q(q − h))``, ``h = 0.01``. parity's and rliable's bounds are independent
estimates of the same ideal-bootstrap quantile, so they agree when ``|Δ| ≤ 3·sqrt(se_p² +
se_r²)`` (3 standard errors of the difference).

It is a report, not a test: it always exits 0.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from _machine import machine_line, speed_line

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = Path(
    os.environ.get(
        "PARITY_ATARI100K",
        Path(__file__).resolve().parents[2] / "shared" / "rliable_atari100k",
    )
)
DEFAULT_RLIABLE = ROOT / ".venv-rliable" / "bin" / "python"
RAW_AGENTS = ["DER", "DrQ", "DrQ(eps)", "OTRainbow", "SPR", "SimPLe"]
CURL = "CURL"
SPEEDUP_TARGET = 20.0
ESTIMATE_TOL = 1e-6
AUC_TARGET_S = 2.0
MC_SIGMAS = 3.0

# Runs in rliable's virtual environment; argv[1] = .npz of score matrices, argv[2] = JSON params.
RLIABLE_SCRIPT = r"""
import json, sys, time
import numpy as np
from rliable import library as rly
from rliable import metrics

data = np.load(sys.argv[1])
p = json.loads(sys.argv[2])
scores = {k: data[k] for k in p["agents"]}
x, y = data[p["poi"][0]], data[p["poi"][1]]
out = {"versions": {}}
from importlib.metadata import version
for name in ("rliable", "arch", "pandas", "numpy", "scipy"):
    out["versions"][name] = version(name)

def iqm_func(s):
    return np.array([metrics.aggregate_iqm(s)])

def poi_func(a, b):
    return np.array([metrics.probability_of_improvement(a, b)])

routes = {
    "iqm": (lambda reps: rly.get_interval_estimates(scores, iqm_func, reps=reps), p["iqm_reps"]),
    "poi": (
        lambda reps: rly.get_interval_estimates({"pair": [x, y]}, poi_func, reps=reps),
        p["poi_reps"],
    ),
}
for route, (call, reps) in routes.items():
    call(10)  # untimed warm-up (lazy imports), as for parity
    times = []
    cpu = []
    for r in range(p["repeats"]):
        np.random.seed(p["seed"] + r)  # rliable draws from numpy's global generator
        t0, c0 = time.perf_counter(), time.process_time()
        point, interval = call(reps)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    out[route] = {
        "seconds": times,
        "cpu_seconds": cpu,
        "point": {k: float(np.asarray(v).ravel()[0]) for k, v in point.items()},
        "interval": {k: [float(v[0][0]), float(v[1][0])] for k, v in interval.items()},
    }
print(json.dumps(out))
"""


# --------------------------------------------------------------------------------------------
# data


def load_scores(data_dir: Path) -> dict[str, np.ndarray]:
    """Human-normalized (runs × games) score matrices of the 7 agents, games sorted."""
    human = json.loads((data_dir / "HUMAN.json").read_text())
    random = json.loads((data_dir / "RANDOM.json").read_text())
    games = sorted(human)
    out = {}
    for agent in RAW_AGENTS:
        raw = json.loads((data_dir / f"{agent}.json").read_text())
        cols = [
            (np.asarray(raw[g], dtype=float) - random[g][0]) / (human[g][0] - random[g][0])
            for g in games
        ]
        out[agent] = np.stack(cols, axis=1)
    records = json.loads((data_dir / "CURL_10_evals.json").read_text())
    by_game: dict[str, list[tuple[float, float]]] = {g: [] for g in games}
    for rec in records:
        by_game[rec["game"]].append((float(rec["seed"]), float(rec["HNS"])))
    out[CURL] = np.stack([[v for _, v in sorted(by_game[g])] for g in games], axis=1)
    return out


def auc_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    g = np.random.default_rng(seed)
    labels = np.zeros(n, dtype=bool)
    labels[: n // 2] = True
    g.shuffle(labels)
    scores = g.normal(size=n) + 0.5 * labels
    return scores, labels


# --------------------------------------------------------------------------------------------
# timing and Monte Carlo error


#: CPU seconds (all threads of this process) of the last :func:`median_time` call's repeats.
CPU_TIMES: list[float] = []


def median_time(fn, repeats: int) -> tuple[float, list[float], Any]:
    """Median wall time of ``repeats`` calls after one untimed warm-up call (lazy imports).

    The CPU seconds of each call are left in :data:`CPU_TIMES`.
    """
    fn()
    times, result = [], None
    CPU_TIMES.clear()
    for _ in range(repeats):
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - t0)
        CPU_TIMES.append(time.process_time() - c0)
    return statistics.median(times), times, result


def quantile_se(dist: np.ndarray, q: float, n_resamples: int, h: float = 0.01) -> float:
    """Monte Carlo standard error of the sample q-quantile of ``n_resamples`` draws."""
    lo, hi = np.quantile(dist, [max(q - h, 0.0), min(q + h, 1.0)])
    width = (min(q + h, 1.0) - max(q - h, 0.0)) / 2.0
    if hi <= lo:
        return 0.0
    density = 2.0 * width / (hi - lo)
    return math.sqrt(q * (1.0 - q) / n_resamples) / density


def ci_agreement(res, ref_ci: list[float], n_ref: int) -> tuple[bool, float]:
    """(within MC error, worst |Δ| in units of the difference's standard error)."""
    level = res.confidence_level
    qs = ((1 - level) / 2, 1 - (1 - level) / 2)
    worst = 0.0
    ok = True
    for q, ours, theirs in zip(qs, res.confidence_interval, ref_ci, strict=True):
        se = math.hypot(
            quantile_se(res.bootstrap_distribution, q, res.n_resamples),
            quantile_se(res.bootstrap_distribution, q, n_ref),
        )
        diff = abs(ours - theirs)
        z = diff / se if se > 0 else (0.0 if diff == 0 else math.inf)
        worst = max(worst, z)
        ok &= z <= MC_SIGMAS
    return ok, worst


# --------------------------------------------------------------------------------------------
# routes


def run_rliable(python: Path, scores, agents, poi_pair, args) -> dict[str, Any] | str:
    if not python.exists():
        return f"not run: {python} not found (make bench creates .venv-rliable)"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scores.npz"
        np.savez(path, **scores)
        params = {
            "agents": agents,
            "poi": list(poi_pair),
            "iqm_reps": args.iqm_resamples,
            "poi_reps": args.poi_resamples,
            "repeats": args.rliable_repeats,
            "seed": args.seed,
        }
        proc = subprocess.run(
            [str(python), "-c", RLIABLE_SCRIPT, str(path), json.dumps(params)],
            capture_output=True,
            text=True,
            check=False,
        )
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-3:]
        return "failed: " + " | ".join(tail)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def environment() -> str:
    import scipy

    return (
        f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}\n"
        f"{machine_line()}\n{speed_line()}"
    )


def fmt_ci(ci) -> str:
    return f"[{ci[0]:.4f}, {ci[1]:.4f}]"


def fmt_s(s: float | None) -> str:
    return "—" if s is None else f"{s:.3f}"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--rliable-python", type=Path, default=DEFAULT_RLIABLE)
    p.add_argument("--skip-rliable", action="store_true")
    p.add_argument("--repeats", type=int, default=5, help="parity repeats (median)")
    p.add_argument("--rliable-repeats", type=int, default=3, help="rliable repeats (median)")
    p.add_argument("--iqm-resamples", type=int, default=20000)
    p.add_argument("--poi-resamples", type=int, default=2000)
    p.add_argument("--auc-n", type=int, default=8192)
    p.add_argument("--auc-resamples", type=int, default=10000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="small B, one repeat (smoke run)")
    args = p.parse_args(argv)
    if args.quick:
        args.repeats = args.rliable_repeats = 1
        args.iqm_resamples, args.poi_resamples, args.auc_resamples = 500, 50, 500
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from parity.stats.aggregates import aggregate_ci, iqm, probability_of_improvement_ci

    print("parity bootstrap benchmark: stratified bootstrap CIs on Atari 100k (rliable's use case)")
    print(environment())
    scores = load_scores(args.data)
    agents = list(scores)
    poi_pair = ("DrQ(eps)", "DrQ")
    shapes = ", ".join(f"{k} {v.shape[0]}×{v.shape[1]}" for k, v in scores.items())
    print(f"data: {args.data} (runs × games): {shapes}")
    print(
        f"seconds: medians of {args.repeats} parity and {args.rliable_repeats} rliable repeats; "
        f"B = {args.iqm_resamples} (IQM), {args.poi_resamples} (PoI), "
        f"{args.auc_resamples} (AUC)\n"
    )

    # parity
    t_iqm, runs_iqm, res_iqm = median_time(
        lambda: aggregate_ci(scores, iqm, n_resamples=args.iqm_resamples, rng=args.seed),
        args.repeats,
    )
    cpu_iqm = statistics.median(CPU_TIMES)
    x, y = scores[poi_pair[0]], scores[poi_pair[1]]
    t_poi, runs_poi, res_poi = median_time(
        lambda: probability_of_improvement_ci(x, y, n_resamples=args.poi_resamples, rng=args.seed),
        args.repeats,
    )
    auc_line: tuple[float | None, str, Any] = (None, "", None)
    auc = None
    try:  # written in parallel; may not exist yet
        from parity.stats import auc
    except ImportError:
        try:
            from parity.stats.ranking import auc
        except ImportError as exc:
            auc_line = (None, f"skipped: parity.stats.auc not importable ({exc})", None)
    if auc is not None:
        sc, lab = auc_data(args.auc_n, args.seed)
        t_auc, _, res_auc = median_time(
            lambda: auc(sc, lab, method="bootstrap", n_resamples=args.auc_resamples, rng=0),
            args.repeats,
        )
        auc_line = (t_auc, "", res_auc)

    # rliable
    ref: dict[str, Any] | str = "not run (--skip-rliable)"
    if not args.skip_rliable:
        ref = run_rliable(args.rliable_python, scores, agents, poi_pair, args)
    have_ref = isinstance(ref, dict)
    if have_ref:
        print("rliable env: " + ", ".join(f"{k} {v}" for k, v in ref["versions"].items()))
    else:
        print(f"rliable: {ref}")

    # main table
    r_iqm = statistics.median(ref["iqm"]["seconds"]) if have_ref else None
    r_poi = statistics.median(ref["poi"]["seconds"]) if have_ref else None
    rows = [
        (
            f"IQM, 7 agents, B={args.iqm_resamples}",
            "parity",
            t_iqm,
            r_iqm / t_iqm if r_iqm else None,
            f"DrQ(eps) {res_iqm['DrQ(eps)'].statistic:.6f}",
            fmt_ci(res_iqm["DrQ(eps)"].confidence_interval),
        ),
    ]
    if have_ref:
        rows.append(
            (
                "",
                "rliable",
                r_iqm,
                None,
                f"DrQ(eps) {ref['iqm']['point']['DrQ(eps)']:.6f}",
                fmt_ci(ref["iqm"]["interval"]["DrQ(eps)"]),
            )
        )
    rows.append(
        (
            f"PoI DrQ(eps) > DrQ, B={args.poi_resamples}",
            "parity",
            t_poi,
            r_poi / t_poi if r_poi else None,
            f"{res_poi.statistic:.6f}",
            fmt_ci(res_poi.confidence_interval),
        )
    )
    if have_ref:
        rows.append(
            (
                "",
                "rliable",
                r_poi,
                None,
                f"{ref['poi']['point']['pair']:.6f}",
                fmt_ci(ref["poi"]["interval"]["pair"]),
            )
        )
    t_auc, auc_msg, res_auc = auc_line
    if res_auc is not None:
        rows.append(
            (
                f"AUC bootstrap n={args.auc_n}, B={args.auc_resamples}",
                "parity",
                t_auc,
                None,
                f"{res_auc.statistic:.6f}",
                fmt_ci(res_auc.confidence_interval) + f" {res_auc.method}",
            )
        )
    header = ("route", "library", "seconds", "rliable ÷ parity", "estimate", "95% CI")
    widths = [34, 8, 8, 16, 18, 20]
    print()
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for route, lib, sec, ratio, est, ci in rows:
        cells = (route, lib, fmt_s(sec), "" if ratio is None else f"{ratio:.1f}×", est, ci)
        print("  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)))
    if auc_msg:
        print(f"AUC bootstrap n={args.auc_n}: {auc_msg}")
    print(
        "parity runs (s): IQM "
        + ", ".join(f"{t:.3f}" for t in runs_iqm)
        + "; PoI "
        + ", ".join(f"{t:.3f}" for t in runs_poi)
    )
    if have_ref:
        r_cpu = statistics.median(ref["iqm"]["cpu_seconds"])
        print(
            f"CPU seconds, IQM (less sensitive to other load; parity's counts all its threads): "
            f"parity {cpu_iqm:.3f}, rliable {r_cpu:.2f}, rliable ÷ parity {r_cpu / cpu_iqm:.1f}×"
        )
        print(
            "rliable runs (s): IQM "
            + ", ".join(f"{t:.2f}" for t in ref["iqm"]["seconds"])
            + "; PoI "
            + ", ".join(f"{t:.2f}" for t in ref["poi"]["seconds"])
        )

    # per-agent agreement
    est_ok = ci_ok = True
    worst_est = worst_z = 0.0
    if have_ref:
        print()
        print(
            f"{'IQM of':10s}  {'parity':>10s}  {'rliable':>10s}  {'|Δ|':>8s}  "
            f"{'parity CI':>18s}  {'rliable CI':>18s}  {'CI Δ / se':>9s}"
        )
        for agent in agents:
            ours, theirs = res_iqm[agent], ref["iqm"]
            d = abs(ours.statistic - theirs["point"][agent])
            ok, z = ci_agreement(ours, theirs["interval"][agent], args.iqm_resamples)
            worst_est, worst_z = max(worst_est, d), max(worst_z, z)
            est_ok &= d <= ESTIMATE_TOL
            ci_ok &= ok
            print(
                f"{agent:10s}  {ours.statistic:10.6f}  {theirs['point'][agent]:10.6f}  {d:8.1e}  "
                f"{fmt_ci(ours.confidence_interval):>18s}  "
                f"{fmt_ci(theirs['interval'][agent]):>18s}  {z:9.2f}"
            )
        d = abs(res_poi.statistic - ref["poi"]["point"]["pair"])
        ok, z = ci_agreement(res_poi, ref["poi"]["interval"]["pair"], args.poi_resamples)
        worst_est, worst_z = max(worst_est, d), max(worst_z, z)
        est_ok &= d <= ESTIMATE_TOL
        ci_ok &= ok
        print(
            f"{'PoI':10s}  {res_poi.statistic:10.6f}  {ref['poi']['point']['pair']:10.6f}  "
            f"{d:8.1e}  {fmt_ci(res_poi.confidence_interval):>18s}  "
            f"{fmt_ci(ref['poi']['interval']['pair']):>18s}  {z:9.2f}"
        )

    # targets
    def verdict(ok: bool | None) -> str:
        return "n/a " if ok is None else ("PASS" if ok else "MISS")

    print("\ntargets")
    both = (r_iqm + r_poi) / (t_iqm + t_poi) if have_ref else None
    targets = [
        (
            r_iqm and r_iqm / t_iqm >= SPEEDUP_TARGET,
            f"IQM route ≥ {SPEEDUP_TARGET:g}× faster than rliable"
            + (f": {r_iqm / t_iqm:.1f}×" if r_iqm else ""),
        ),
        (
            r_poi and r_poi / t_poi >= SPEEDUP_TARGET,
            f"PoI route ≥ {SPEEDUP_TARGET:g}× faster than rliable"
            + (f": {r_poi / t_poi:.1f}×" if r_poi else ""),
        ),
        (
            both and both >= SPEEDUP_TARGET,
            f"both routes together ≥ {SPEEDUP_TARGET:g}×" + (f": {both:.1f}×" if both else ""),
        ),
        (
            est_ok if have_ref else None,
            f"point estimates equal rliable's within {ESTIMATE_TOL:g}"
            + (f": worst |Δ| {worst_est:.1e}" if have_ref else ""),
        ),
        (
            ci_ok if have_ref else None,
            f"CI bounds within Monte Carlo error (≤ {MC_SIGMAS:g} se of the difference)"
            + (f": worst {worst_z:.2f} se" if have_ref else ""),
        ),
        (
            None if t_auc is None else t_auc < AUC_TARGET_S,
            f"AUC bootstrap n={args.auc_n}, B={args.auc_resamples} under {AUC_TARGET_S:g} s"
            + ("" if t_auc is None else f": {t_auc:.3f} s"),
        ),
    ]
    for ok, text in targets:
        print(f"  {verdict(None if ok is None else bool(ok))}  {text}")
    return 0


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # exit 0 regardless: this is a report
        print(f"benchmark failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    sys.exit(0)
