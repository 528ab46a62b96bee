"""``parity gate``: accept or reject a candidate against the incumbent on held-out items.

Each input is a JSONL file, one item per line: ``{"id": "q1", "hard": 1, "soft": 0.8}``
(``soft`` optional; other fields ignored). Items are matched by ``id``; a mismatch is an error
naming the ids.

Without ``--paired`` the **threshold gate** (:func:`parity.gate.evaluate_gate`) compares the
candidate's mean hard/soft score with the incumbent's, which is both the current and the best
score unless ``--best-hard``/``--best-soft`` give the best. With ``--paired`` the
**statistical gate** (:func:`parity.gate.evaluate_gate_paired`): an exact sign-flip test of
the per-item differences and a bootstrap CI of the mean improvement.

Exit codes: 0 accept (or accept_new_best), 1 reject, 3 inconclusive (the statistical gate
only, when no result on this many items could be significant), 2 bad input.
"""

from __future__ import annotations

import warnings
from typing import Any

import click

from parity.cli._conventions import DECIDING, ParityCommand
from parity.cli._output import (
    append_step_summary,
    bundle_option,
    check_outputs,
    fmt,
    force_option,
    html_option,
    json_text,
    one_stdout,
    provenance,
    write_command_bundle,
    write_text,
)
from parity.cli._params import FINITE, RESAMPLES, SEED, Count, Finite
from parity.errors import ParityWarning
from parity.gate import DEFAULT_ALPHA, DEFAULT_MIXED_WEIGHT, DEFAULT_RESAMPLES, GateMetric
from parity.report.escape import term, visible
from parity.stats.sign_flip import MAX_EXACT

ACTION_STYLE = {
    "accept_new_best": "bold green",
    "accept": "bold green",
    "reject": "bold red",
    "inconclusive": "bold yellow",
}
PAIRED_ONLY = ("--alpha", "--resamples", "--bootstrap")


def _signed(x: float) -> str:
    return "0" if x == 0 else f"{x:+.4g}"


def _inputs(candidate: str, incumbent: str, n: int) -> dict[str, Any]:
    return {
        role: provenance(path, n_items=n)
        for role, path in (("candidate", candidate), ("incumbent", incumbent))
    }


def print_summary(result, title: str, paired: bool) -> None:
    """A rich summary on stderr: the action, the reasons and the numbers."""
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True, highlight=False)
    action = result.action.value
    style = ACTION_STYLE[action]
    console.print(f"[bold]{term(title)}[/bold]: [{style}]{action.upper()}[/{style}]")
    for reason in result.reasons:
        console.print(f"  • {term(reason)}", soft_wrap=True)
    for note in getattr(result, "warnings", ()):
        console.print(f"  [yellow]warning[/yellow]: {term(note)}", soft_wrap=True)
    metric = result.metric.value
    if paired:
        table = Table(title=f"paired items ({metric})", title_justify="left")
        for col in ("", "hard", "soft", "score"):
            table.add_column(col, justify="left" if not col else "right")
        table.add_row(
            "candidate",
            fmt(result.candidate_hard),
            fmt(result.candidate_soft),
            fmt(result.candidate_score),
        )
        table.add_row(
            "incumbent",
            fmt(result.incumbent_hard),
            fmt(result.incumbent_soft),
            fmt(result.incumbent_score),
        )
        lo, hi = result.confidence_interval
        table.add_row("mean difference", "", "", _signed(result.statistic), style="bold")
        console.print(table)
        console.print(
            f"  p = {fmt(result.pvalue)} (two-sided), {result.confidence_level:.0%} CI "
            f"[{fmt(lo)}, {fmt(hi)}], n = {result.n_items}, α = {result.alpha:g}",
            soft_wrap=True,
        )
        return
    table = Table(title=f"scores ({metric})", title_justify="left")
    for col in ("", "hard", "soft", "score", "candidate − this"):
        table.add_column(col, justify="left" if not col else "right")
    table.add_row(
        "candidate",
        fmt(result.candidate_hard),
        fmt(result.candidate_soft),
        fmt(result.candidate_score),
        "",
    )
    table.add_row(
        "current",
        fmt(result.current_hard),
        fmt(result.current_soft),
        fmt(result.current_score),
        _signed(result.delta_current),
    )
    table.add_row(
        "best",
        fmt(result.best_hard),
        fmt(result.best_soft),
        fmt(result.best_score),
        _signed(result.delta_best),
    )
    console.print(table)


@click.command(
    "gate",
    cls=ParityCommand,
    exit_codes=DECIDING,
    renamed={"--incumbent": 0, "--candidate": 1, "--permutations": "--resamples"},
)
@click.argument("incumbent", metavar="REFERENCE")
@click.argument("candidate", metavar="CANDIDATE")
@click.option(
    "--metric",
    default="hard",
    show_default=True,
    type=click.Choice([m.value for m in GateMetric], case_sensitive=False),
    help="Score the gate compares.",
)
@click.option(
    "--mixed-weight",
    default=DEFAULT_MIXED_WEIGHT,
    show_default=True,
    type=FINITE,
    help="w in (1 − w)·hard + w·soft, in [0, 1].",
)
@click.option("--paired", is_flag=True, help="Statistical gate: sign-flip test + bootstrap CI.")
@click.option(
    "--alpha",
    type=Finite(0, 0.5, min_open=True, max_open=True),
    show_default=f"{DEFAULT_ALPHA:g}",
    help="Level of the paired test (--paired).",
)
@click.option(
    "--min-delta",
    default=0.0,
    show_default=True,
    type=FINITE,
    help="Improvement the candidate must exceed (≥ 0).",
)
@click.option("--best-hard", type=FINITE, help="Best hard score so far (default: incumbent's).")
@click.option("--best-soft", type=FINITE, help="Best soft score so far (default: incumbent's).")
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=SEED,
    metavar="N",
    help="Seed of every random draw.",
)
@click.option(
    "--resamples",
    "permutations",
    type=RESAMPLES,
    metavar="N",
    show_default=str(DEFAULT_RESAMPLES),
    help=f"Random sign flips when more than {MAX_EXACT} items differ (--paired).",
)
@click.option(
    "--bootstrap",
    type=RESAMPLES,
    metavar="N",
    show_default=str(DEFAULT_RESAMPLES),
    help="Bootstrap resamples of the CI (--paired).",
)
@click.option("--log", "log_path", metavar="PATH", help="Append the decision to this JSONL log.")
@click.option("--step", type=Count(0), help="Step number for the log (default: next).")
@click.option(
    "--json",
    "json_path",
    type=click.Path(allow_dash=True),
    metavar="PATH|-",
    help="Write the JSON result ('-' = stdout).",
)
@html_option
@bundle_option
@click.option("--quiet", is_flag=True, help="No summary on stderr.")
@force_option
@click.pass_context
def gate_command(
    ctx: click.Context,
    candidate: str,
    incumbent: str,
    metric: str,
    mixed_weight: float,
    paired: bool,
    alpha: float | None,
    min_delta: float,
    best_hard: float | None,
    best_soft: float | None,
    seed: int,
    permutations: int | None,
    bootstrap: int | None,
    log_path: str | None,
    step: int | None,
    json_path: str | None,
    html_path: str | None,
    bundle_path: str | None,
    quiet: bool,
    force: bool,
) -> None:
    """Accept or reject a CANDIDATE against the incumbent (REFERENCE) on the same held-out items.

    Both files are JSONL, one item per line: {"id": ..., "hard": 0|1, "soft": 0.0-1.0}
    (soft optional). Without --paired: the candidate's mean score in the chosen metric must
    beat the incumbent's (current and, unless --best-hard/--best-soft, best) by more than
    --min-delta. With --paired: an exact sign-flip test of the per-item differences and a
    bootstrap CI of the mean improvement.

    Exit code 3 (inconclusive) only with --paired, when no result on this many items could be
    significant.
    """
    from parity.gate import (
        GateRecord,
        append_gate_log,
        evaluate_gate_items,
        evaluate_gate_paired,
        load_gate_items,
        match_items,
    )

    metric = metric.lower()
    if not paired:
        given = [
            opt
            for opt, value in zip(PAIRED_ONLY, (alpha, permutations, bootstrap), strict=True)
            if value is not None
        ]
        if given:
            verb = "is" if len(given) == 1 else "are"
            raise click.UsageError(f"{', '.join(given)} {verb} only used with --paired")
    elif best_hard is not None or best_soft is not None:
        raise click.UsageError("--best-hard/--best-soft are not used with --paired")
    if best_soft is not None and best_hard is None:
        raise click.UsageError("--best-soft needs --best-hard")
    if best_hard is not None and best_soft is None and metric.lower() != "hard":
        raise click.UsageError(f"--metric {metric.lower()} needs --best-soft with --best-hard")
    one_stdout(json=json_path, html=html_path)
    check_outputs(
        inputs=(candidate, incumbent),
        files={"--json": json_path, "--html": html_path, "--bundle": bundle_path},
        appends={"--log": log_path},
        force=force,
    )
    options = {"metric": metric, "mixed_weight": mixed_weight, "min_delta": min_delta}
    cand_items, inc_items = match_items(
        load_gate_items(candidate), load_gate_items(incumbent), names=(candidate, incumbent)
    )
    if paired:
        with warnings.catch_warnings():  # recorded in the result and printed with its summary
            warnings.simplefilter("ignore", ParityWarning)
            result = evaluate_gate_paired(
                cand_items,
                inc_items,
                alpha=DEFAULT_ALPHA if alpha is None else alpha,
                rng=seed,
                n_resamples=DEFAULT_RESAMPLES if permutations is None else permutations,
                n_bootstrap=DEFAULT_RESAMPLES if bootstrap is None else bootstrap,
                **options,
            )
    else:
        result = evaluate_gate_items(
            cand_items,
            inc_items,
            None if best_hard is None else (best_hard, best_soft),
            labels=("the candidate file", "the incumbent file"),
            **options,
        )
    code = int(result.exit_code)
    payload = {
        "command": "gate",
        "gate": "paired" if paired else "threshold",
        "action": result.action.value,
        "exit_code": code,
        "seed": seed,
        "inputs": _inputs(candidate, incumbent, len(cand_items)),
        "result": result.to_dict(),
    }
    if log_path:
        record = GateRecord.from_result(
            result, extra={"candidate_file": candidate, "incumbent_file": incumbent}
        )
        written = append_gate_log(log_path, record, step=step)
        payload["log"] = {"path": log_path, "step": written.step}
    label = metric if metric != "mixed" else f"mixed, w = {mixed_weight:g}"
    title = f"{'paired gate' if paired else 'gate'} ({label}) on {len(cand_items)} items"
    from parity.report.summaries import gate_markdown

    markdown = gate_markdown(result, title, paired)
    reports = {"gate.json": json_text(payload), "summary.md": markdown}
    if html_path or bundle_path:
        from parity.report.html_decision import gate_html

        reports["report.html"] = gate_html(payload, title)
    if json_path:
        write_text(json_path, reports["gate.json"])
    if html_path:
        write_text(html_path, reports["report.html"])
    if not quiet:
        print_summary(result, title, paired)
    if bundle_path:
        options = {**options, "paired": paired, "seed": seed}
        if paired:
            options.update(
                alpha=result.alpha,
                n_resamples=DEFAULT_RESAMPLES if permutations is None else permutations,
                n_bootstrap=DEFAULT_RESAMPLES if bootstrap is None else bootstrap,
            )
        else:
            options.update(best_hard=best_hard, best_soft=best_soft)
        digest = write_command_bundle(bundle_path, "gate", reports, payload["inputs"], options)
        if not quiet:
            click.echo(f"bundle: {visible(bundle_path)} (sha256 {digest})", err=True)
    append_step_summary(markdown)
    ctx.exit(code)
