"""``parity agents``: loops, stalls, drift and divergence of agent transcripts, and their change.

``analyze RUNS`` writes per-run and per-task tables (CSV, JSON), the summary (benchmark and
target-usage estimates with task-level bootstrap intervals) and an HTML report; exit 0, or 2
on bad input. ``compare REFERENCE CANDIDATE`` tests every run-level behaviour between two
agents (Holm over the metrics); exit 0 when no behaviour changed, 1 when some changed, 3 when
none could be tested, 2 on bad input. ``example`` writes the shipped example transcripts and
target profile.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import click

from parity._format import interval
from parity.cli._conventions import DECIDING, PLAIN, ParityGroup
from parity.cli._output import (
    append_step_summary,
    bundle_option,
    check_outputs,
    fmt,
    html_option,
    mark_folder,
    one_stdout,
    provenance,
    write_command_bundle,
    write_file,
    write_text,
)
from parity.cli._params import COUNT, FINITE, RESAMPLES, SEED, Finite
from parity.report.escape import term, visible

#: The files ``agents analyze`` and ``agents compare`` write into their ``--out`` folder.
ANALYZE_FILES = (
    "summary.json",
    "runs.csv",
    "runs.json",
    "tasks.csv",
    "tasks.json",
    "pairs.json",
    "report.html",
)
COMPARE_FILES = ("compare.json", "compare.csv", "report.html")
EMBEDDER_CHOICE = click.Choice(["hashing", "minilm"], case_sensitive=False)


def _embedder_options(f):
    f = click.option(
        "--embedder-model",
        metavar="NAME|PATH",
        show_default="sentence-transformers/all-MiniLM-L6-v2",
        help="MiniLM model name or local folder (minilm only).",
    )(f)
    f = click.option(
        "--embedder",
        default="hashing",
        show_default=True,
        type=EMBEDDER_CHOICE,
        help="Step embedder: hashing TF-IDF, or MiniLM from a locally installed model.",
    )(f)
    return f


def _common_options(f):
    """The options ``agents analyze`` and ``agents compare`` share, applied to the command ``f``."""
    for option in reversed(
        [
            click.option(
                "--threshold",
                default=0.9,
                show_default=True,
                type=FINITE,
                help="Cosine similarity from which two steps are the same behaviour.",
            ),
            click.option(
                "--success-threshold",
                default=1.0,
                show_default=True,
                type=FINITE,
                help="A run with a reward and no `success` succeeded when reward ≥ this.",
            ),
            click.option(
                "--bootstrap",
                default=2000,
                show_default=True,
                type=RESAMPLES,
                metavar="N",
                help="Task-level bootstrap resamples.",
            ),
            click.option(
                "--seed",
                default=0,
                show_default=True,
                type=SEED,
                metavar="N",
                help="Seed of every draw.",
            ),
            click.option(
                "--skip-invalid",
                is_flag=True,
                help="Skip malformed runs (listed) instead of failing.",
            ),
            click.option(
                "--json",
                "json_path",
                type=click.Path(allow_dash=True),
                metavar="PATH|-",
                help="Also write the JSON here ('-' = stdout).",
            ),
            click.option("--quiet", is_flag=True, help="No summary on stderr."),
            click.option(
                "--force",
                is_flag=True,
                help="Replace existing output files that parity did not write (never an input).",
            ),
        ]
    ):
        f = option(f)
    return f


def _console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _print_skipped(console, loaded) -> None:
    for s in loaded.skipped[:10]:
        console.print(
            f"  [yellow]skipped[/yellow] {term(loaded.label)}: {term(s.source)}: {term(s.error)}",
            soft_wrap=True,
        )
    if len(loaded.skipped) > 10:
        console.print(f"  [yellow]skipped[/yellow] … and {len(loaded.skipped) - 10} more")


def print_analysis(analysis, loaded, files: list[Path]) -> None:
    """The summary of an analysis on stderr."""
    from rich.table import Table

    from parity.agents.metrics import RUN_METRICS
    from parity.report.agents import TASK_LABELS

    console = _console()
    runs = analysis.runs
    console.print(
        f"[bold]agents analyze[/bold]: {analysis.n_runs} runs of {analysis.n_tasks} tasks "
        f"({analysis.format}); {sum(bool(r['loop']) for r in runs)} loops, "
        f"{sum(bool(r['stall']) for r in runs)} stalls, "
        f"{sum(bool(r['degenerate']) for r in runs)} degenerate",
        soft_wrap=True,
    )
    _print_skipped(console, loaded)
    weighted = analysis.weighting.kind != "none"
    level = f"{analysis.confidence_level:.0%}"
    table = Table(title_justify="left")
    table.add_column("metric")
    table.add_column("n", justify="right")
    table.add_column(f"benchmark [{level} CI]", justify="right")
    if weighted:
        table.add_column(f"target usage [{level} CI]", justify="right")
    for e in analysis.estimates:
        label = RUN_METRICS.get(e.metric) or TASK_LABELS.get(e.metric) or e.metric
        row = [term(label), str(e.n), f"{fmt(e.benchmark, 3)} {interval(e.benchmark_ci, 3)}"]
        if weighted:
            row.append(f"{fmt(e.target, 3)} {interval(e.target_ci, 3)}")
        table.add_row(*row)
    console.print(table)
    w = analysis.weighting
    if weighted:
        console.print(
            f"  reweighting: {w.k} groups ({w.k_selection}); Kish ESS {fmt(w.ess, 3)} of "
            f"{w.n_runs} runs ({fmt(w.ess_tasks, 3)} of {w.n_tasks} tasks); largest weight share "
            f"{fmt(w.max_weight_share, 3)}; uncovered target mass {fmt(w.uncovered_mass, 3)}"
            + (f"; {w.n_clipped} weights clipped at {w.clip:g}" if w.clip is not None else ""),
            soft_wrap=True,
        )
    if files:
        folder = files[0].parent
        names = ", ".join(p.name for p in files)
        console.print(f"  wrote {names} to {term(folder)}", soft_wrap=True)


@click.group("agents", cls=ParityGroup, context_settings={"help_option_names": ["-h", "--help"]})
def agents_group() -> None:
    """Loops, stalls, drift and divergence of long-running agents, reweighted to real usage.

    `analyze` measures one agent's transcripts, `compare` tests which behaviours changed
    between two agents, `example` writes the shipped example files.
    """


@agents_group.command("analyze", exit_codes=PLAIN)
@click.argument("runs", metavar="RUNS")
@click.option(
    "--out",
    "out_dir",
    default="agent-report",
    show_default=True,
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Folder for the reports.",
)
@_embedder_options
@click.option("--target", metavar="PATH", help="Target usage profile (JSON: shares or texts).")
@click.option("--clusters", type=COUNT, help="Number of task clusters (default: by silhouette).")
@click.option("--clip", type=FINITE, help="Cap on each weight P/Q (weights average 1).")
@click.option(
    "--min-similarity",
    default=0.1,
    show_default=True,
    type=FINITE,
    help="Target texts less similar than this to every cluster centroid are uncovered.",
)
@click.option(
    "--confidence",
    default=0.95,
    show_default=True,
    type=FINITE,
    help="Coverage of the bootstrap intervals.",
)
@_common_options
@click.pass_context
def analyze_command(
    ctx: click.Context,
    runs: str,
    out_dir: str,
    embedder: str,
    embedder_model: str | None,
    target: str | None,
    clusters: int | None,
    clip: float | None,
    min_similarity: float,
    confidence: float,
    threshold: float,
    success_threshold: float,
    bootstrap: int,
    seed: int,
    skip_invalid: bool,
    json_path: str | None,
    quiet: bool,
    force: bool,
) -> None:
    """Measure the dynamics of an agent's RUNS (JSON list / JSONL of chat runs, or step events).

    Writes runs.csv/json, tasks.csv/json, pairs.json, summary.json and report.html to --out.
    With --target, every run-level metric is also estimated under the target usage
    (self-normalised weights P(c)/Q(c) of task clusters). Exit 0, or 2 on bad input.
    """
    from parity.agents.analysis import analyze_runs
    from parity.agents.loading import load_runs
    from parity.agents.reweighting import load_target_profile
    from parity.errors import ParityWarning
    from parity.report.agents import analysis_payloads

    check_outputs(
        inputs=(runs, target),
        files={"--json": json_path},
        folders={"--out": (out_dir, ANALYZE_FILES)},
        force=force,
    )
    loaded = load_runs(runs, skip_invalid=skip_invalid, success_threshold=success_threshold)
    profile = load_target_profile(target) if target else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ParityWarning)
        analysis = analyze_runs(
            loaded,
            embedder=embedder.lower(),
            embedder_model=embedder_model,
            threshold=threshold,
            target=profile,
            clusters=clusters,
            clip=clip,
            min_similarity=min_similarity,
            n_resamples=bootstrap,
            confidence_level=confidence,
            rng=seed,
        )
    inputs: dict[str, Any] = {"runs": provenance(runs)}
    if target:
        inputs["target"] = provenance(target)
    options = {
        "embedder": embedder.lower(),
        "embedder_model": embedder_model,
        "threshold": threshold,
        "clusters": clusters,
        "clip": clip,
        "min_similarity": min_similarity,
        "confidence_level": confidence,
        "n_resamples": bootstrap,
        "seed": seed,
        "success_threshold": success_threshold,
        "skip_invalid": skip_invalid,
    }
    payloads = analysis_payloads(analysis, inputs, options)
    files = []
    mark_folder(out_dir)
    for name, text in payloads.items():
        path = Path(out_dir) / name
        write_text(path, text)
        files.append(path)
    if json_path:
        write_text(json_path, payloads["summary.json"])
    if not quiet:
        print_analysis(analysis, loaded, files)
    ctx.exit(0)


@agents_group.command("compare", exit_codes=DECIDING, renamed={"--permutations": "--resamples"})
@click.argument("old", metavar="REFERENCE")
@click.argument("new", metavar="CANDIDATE")
@click.option(
    "--out",
    "out_dir",
    default="agent-diff",
    show_default=True,
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Folder for the reports.",
)
@_embedder_options
@click.option(
    "--alpha",
    default=0.05,
    show_default=True,
    type=Finite(0, 0.5, min_open=True, max_open=True),
    help="Family-wise level (Holm over the metrics).",
)
@click.option(
    "--resamples",
    "permutations",
    default=1999,
    show_default=True,
    type=RESAMPLES,
    metavar="N",
    help="Random splits of each permutation test.",
)
@_common_options
@html_option
@bundle_option
@click.pass_context
def compare_command(
    ctx: click.Context,
    old: str,
    new: str,
    out_dir: str,
    embedder: str,
    embedder_model: str | None,
    alpha: float,
    permutations: int,
    threshold: float,
    success_threshold: float,
    bootstrap: int,
    seed: int,
    skip_invalid: bool,
    json_path: str | None,
    quiet: bool,
    force: bool,
    html_path: str | None,
    bundle_path: str | None,
) -> None:
    """Which run-level behaviours changed from the REFERENCE agent's runs to the CANDIDATE's?

    Rates (success, degenerate, loop, stall) by Fisher's exact test, values (steps, entropy,
    recurrence, determinism, laminarity, drift, repeats) by an energy-distance permutation
    test; Holm-adjusted over the metrics. Writes compare.json, compare.csv and report.html.
    Exit 0 no behaviour changed, 1 some changed, 3 none could be tested, 2 bad input.
    """
    from parity.agents.compare import compare_agents
    from parity.agents.loading import load_runs
    from parity.errors import ParityWarning
    from parity.report.agents import comparison_payloads

    one_stdout(json=json_path, html=html_path)
    check_outputs(
        inputs=(old, new),
        files={"--json": json_path, "--html": html_path, "--bundle": bundle_path},
        folders={"--out": (out_dir, COMPARE_FILES)},
        force=force,
    )
    kwargs = {"skip_invalid": skip_invalid, "success_threshold": success_threshold}
    old_runs, new_runs = load_runs(old, **kwargs), load_runs(new, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ParityWarning)
        result = compare_agents(
            old_runs,
            new_runs,
            alpha=alpha,
            n_resamples=permutations,
            rng=seed,
            embedder=embedder.lower(),
            embedder_model=embedder_model,
            threshold=threshold,
            n_bootstrap=bootstrap,
        )
    inputs = {"old": provenance(old), "new": provenance(new)}
    payloads = comparison_payloads(result, inputs)
    files = []
    mark_folder(out_dir)
    for name, text in payloads.items():
        path = Path(out_dir) / name
        write_text(path, text)
        files.append(path)
    if json_path:
        write_text(json_path, payloads["compare.json"])
    if html_path:
        write_text(html_path, payloads["report.html"])
    if not quiet:
        print_comparison(result, (old_runs, new_runs), files)
    if bundle_path:
        options = {
            "alpha": alpha,
            "n_permutations": permutations,
            "seed": seed,
            "embedder": embedder.lower(),
            "embedder_model": embedder_model,
            "threshold": threshold,
            "n_resamples": bootstrap,
            "skip_invalid": skip_invalid,
            "success_threshold": success_threshold,
        }
        records = {"reference": inputs["old"], "candidate": inputs["new"]}
        digest = write_command_bundle(bundle_path, "agents compare", payloads, records, options)
        if not quiet:
            click.echo(f"bundle: {visible(bundle_path)} (sha256 {digest})", err=True)
    from parity.report.summaries import agents_comparison_markdown

    append_step_summary(agents_comparison_markdown(result))
    ctx.exit(result.exit_code)


def print_comparison(result, loaded, files: list[Path]) -> None:
    """The summary of a comparison on stderr."""
    from rich.table import Table

    console = _console()
    style = {"changed": "bold red", "unchanged": "bold green", "inconclusive": "bold yellow"}
    s = style[result.verdict]
    console.print(
        f"[bold]agents compare[/bold] ({result.n_old_runs} old vs {result.n_new_runs} new runs): "
        f"[{s}]{result.verdict.upper()}[/{s}]",
        soft_wrap=True,
    )
    for item in loaded:
        _print_skipped(console, item)
    for reason in result.reasons:
        console.print(f"  • {term(reason)}", soft_wrap=True)
    table = Table(title_justify="left")
    for col in ("metric", "old", "new", "p", "Holm p", ""):
        table.add_column(col, justify="left" if col in ("metric", "") else "right")
    for m in result.metrics:
        table.add_row(
            term(m.description),
            fmt(m.old, 3),
            fmt(m.new, 3),
            fmt(m.pvalue, 3),
            fmt(m.pvalue_holm, 3),
            "changed" if m.changed else term(m.note or ""),
        )
    console.print(table)
    if files:
        console.print(
            f"  wrote {', '.join(p.name for p in files)} to {term(files[0].parent)}",
            soft_wrap=True,
        )


@agents_group.command("example", exit_codes=PLAIN)
@click.option(
    "--out",
    "out_dir",
    default="agent-example",
    show_default=True,
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Folder for the example files.",
)
@click.option("--force", is_flag=True, help="Replace existing files that parity did not write.")
def example_command(out_dir: str, force: bool) -> None:
    """Write the shipped example: agent_runs.json (a baseline agent with known loops and
    stalls), agent_runs_new.json (a regressed agent that loops more) and agent_target.json
    (a target usage profile as a sample of task texts)."""
    from parity.examples.agent_runs import EXAMPLE_FILES, example_path

    check_outputs(folders={"--out": (out_dir, tuple(EXAMPLE_FILES.values()))}, force=force)
    folder = mark_folder(out_dir)
    for key, name in EXAMPLE_FILES.items():
        write_file(folder / name, example_path(key).read_bytes())
        click.echo(visible(folder / name))
