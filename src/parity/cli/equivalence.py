"""``parity equivalence``: TOST equivalence or non-inferiority of two sets of scalar results.

Each input holds one number per seed or run (``.npy``, ``FILE.csv:column``,
``FILE.jsonl:field``, …; see :func:`parity.io.load_samples`). The verdict, both one-sided tests
and the confidence interval are printed on stderr; ``--json PATH|-`` writes the full result.

Exit codes: 0 equivalent (or non-inferior), 1 not shown, 3 (TOST only) no observed means could
show equivalence with these sample sizes and standard deviations at this α and margin (the
``1 − 2α`` interval is at least as wide as the margin band), 2 bad input. A non-inferiority test
is never undecidable — a candidate observed better by enough passes it — so it answers 0 or 1.
Whenever the answer is "not shown", a note says how many runs per system would make a success
likely (80% power with the observed standard deviations and no true difference).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import click

from parity._format import interval
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
from parity.cli._params import Finite
from parity.errors import ExitCode, ParityInputError, ParityWarning
from parity.report.escape import term, visible

VERDICT_STYLE = {0: "bold green", 1: "bold red", 3: "bold yellow"}
#: Why a contrast with zero variance (constant samples, or constant paired differences) is
#: inconclusive rather than equivalent: the t-tests' "p = 0" treats the effect as known
#: exactly, but n equal values do not show that the next ones will be (n successes of a 0/1
#: metric bound its failure rate only to about 3/n at 95%).
ZERO_VARIANCE = (
    "the data have zero variance (constant results), so there is no estimate of the noise and "
    "nothing bounds the difference: equivalence is not claimed; give results that vary (more "
    "seeds, a finer metric)"
)


def parse_margin(text: str, *, pair_allowed: bool) -> float | tuple[float, float]:
    """``"0.05"`` → 0.05; ``"-0.1,0.2"`` → (-0.1, 0.2) when a pair is allowed.

    Examples
    --------
    >>> parse_margin("-0.1,0.2", pair_allowed=True)
    (-0.1, 0.2)
    """
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if not all(math.isfinite(v) for v in values):
        raise ParityInputError(f"`--margin` must be finite numbers; got {text!r}")
    if len(values) == 1:
        return values[0]
    if len(values) == 2 and pair_allowed:
        return values[0], values[1]
    shape = "a number or LOW,HIGH" if pair_allowed else "a single number for --noninferiority"
    raise ParityInputError(f"`--margin` must be {shape}; got {text!r}")


def load_scalars(spec: str) -> Any:
    """Load one column of scalar results from ``spec``; more than one column is an error."""
    from parity.io import load_samples

    data = load_samples(spec)
    if data.shape[1] != 1:
        raise ParityInputError(
            f"{spec}: expected one column of scalar results (one number per seed or run); got "
            f"{data.shape[1]} columns; name one with FILE.csv:column or FILE.jsonl:field"
        )
    return data[:, 0]


def _inputs(reference: str, candidate: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        role: provenance(spec, n=len(data[role]))
        for role, spec in (("reference", reference), ("candidate", candidate))
    }


def print_summary(payload: dict[str, Any], result: Any, title: str) -> None:
    """A rich summary on stderr: the verdict, both one-sided tests, the interval and notes."""
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True, highlight=False)
    code = payload["exit_code"]
    style = VERDICT_STYLE[code]
    console.print(f"[bold]{term(title)}[/bold]: [{style}]{payload['verdict'].upper()}[/{style}]")
    console.print(f"  {result.method}", soft_wrap=True)
    effect = "ratio μc/μr" if result.relative else "difference μc − μr"
    bounds = interval(result.bounds).replace("[", "(").replace("]", ")")
    console.print(
        f"  {effect} = {fmt(result.estimate)}, "
        f"{result.confidence_level:.0%} CI {interval(result.confidence_interval)}, "
        f"region of H1 {bounds}",
        soft_wrap=True,
    )
    table = Table(title="one-sided t-tests", title_justify="left")
    for col in ("H0", "t", "df", "p-value", "rejected"):
        table.add_column(col, justify="left" if col == "H0" else "right")
    tests = (result.lower, result.upper) if hasattr(result, "lower") else (result.test_result,)
    effect_sym = "μc/μr" if result.relative else "μc − μr"
    for t in tests:
        op = "≤" if t.alternative == "greater" else "≥"
        table.add_row(
            f"{effect_sym} {op} {fmt(t.bound)}",
            fmt(t.statistic),
            fmt(t.df),
            fmt(t.pvalue),
            "yes" if t.rejected else "no",
        )
    if len(tests) == 2:
        table.add_row("TOST (max p)", "", "", fmt(result.pvalue), "", style="bold")
    console.print(table)
    console.print(f"  α = {result.alpha:g}; n = {result.n_reference} / {result.n_candidate}")
    for note in result.warnings:
        console.print(f"  [yellow]note[/yellow]: {term(note)}", soft_wrap=True)
    if payload.get("degenerate"):
        console.print(f"  [yellow]inconclusive[/yellow]: {payload['degenerate']}", soft_wrap=True)
    elif code == ExitCode.INCONCLUSIVE:
        console.print(
            "  [yellow]inconclusive[/yellow]: with this n and the observed standard deviations "
            "no observed means could show equivalence at this α and margin",
            soft_wrap=True,
        )


@click.command("equivalence", cls=ParityCommand, exit_codes=DECIDING)
@click.argument("reference", metavar="REFERENCE")
@click.argument("candidate", metavar="CANDIDATE")
@click.option(
    "--margin",
    required=True,
    help="Margin: M for ±M, or LOW,HIGH (difference units; fractions of the reference mean "
    "with --relative). Write a negative LOW as --margin=-0.1,0.2.",
)
@click.option("--relative", is_flag=True, help="Margin is a fraction of the reference mean.")
@click.option("--paired", is_flag=True, help="Results are paired by seed (equal lengths).")
@click.option("--equal-var", is_flag=True, help="Pooled-variance t-tests (default Welch).")
@click.option(
    "--noninferiority", is_flag=True, help="One-sided non-inferiority test instead of TOST."
)
@click.option(
    "--higher-is-better/--lower-is-better",
    "higher_is_better",
    default=None,
    help="Direction of 'better' for --noninferiority (default higher).",
)
@click.option(
    "--alpha",
    default=0.05,
    show_default=True,
    type=Finite(0, 0.5, min_open=True, max_open=True),
    help="Level of each one-sided test.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(allow_dash=True),
    metavar="PATH|-",
    help="Write the JSON result here ('-' = stdout).",
)
@click.option(
    "--markdown",
    "markdown_path",
    type=click.Path(allow_dash=True),
    metavar="PATH|-",
    help="Write the Markdown summary here ('-' = stdout).",
)
@html_option
@bundle_option
@click.option("--quiet", is_flag=True, help="No summary on stderr.")
@force_option
@click.pass_context
def equivalence_command(
    ctx: click.Context,
    reference: str,
    candidate: str,
    margin: str,
    relative: bool,
    paired: bool,
    equal_var: bool,
    noninferiority: bool,
    higher_is_better: bool | None,
    alpha: float,
    json_path: str | None,
    markdown_path: str | None,
    html_path: str | None,
    bundle_path: str | None,
    quiet: bool,
    force: bool,
) -> None:
    """Is CANDIDATE equivalent to (or not worse than) REFERENCE? Two files of scalar results.

    REFERENCE and CANDIDATE hold one number per seed or run: FILE.npy, FILE.csv:column,
    FILE.jsonl:field. TOST (two one-sided t-tests, Welch by default) of the difference, or of
    the ratio of means with --relative.

    Exit code 3 (TOST only): no observed means could show equivalence at this n, α and margin
    with the observed spread.
    """
    from parity.stats import equivalence as eq

    if higher_is_better is not None and not noninferiority:
        raise click.UsageError("--higher-is-better/--lower-is-better apply to --noninferiority")
    hib = True if higher_is_better is None else higher_is_better
    one_stdout(json=json_path, markdown=markdown_path, html=html_path)
    check_outputs(
        inputs=(reference, candidate),
        files={
            "--json": json_path,
            "--markdown": markdown_path,
            "--html": html_path,
            "--bundle": bundle_path,
        },
        force=force,
    )
    value = parse_margin(margin, pair_allowed=not noninferiority)
    data = {"reference": load_scalars(reference), "candidate": load_scalars(candidate)}
    if paired and len(data["reference"]) != len(data["candidate"]):
        raise ParityInputError(
            f"{reference} and {candidate}: --paired needs one result per seed in each file; "
            f"got {len(data['reference'])} and {len(data['candidate'])} values"
        )
    options = {"relative": relative, "paired": paired, "equal_var": equal_var, "alpha": alpha}
    with warnings.catch_warnings():  # recorded in the result's warnings and printed below
        warnings.simplefilter("ignore", ParityWarning)
        if noninferiority:
            result = eq.noninferiority(
                data["reference"], data["candidate"], margin=value, higher_is_better=hib, **options
            )
            shown, test = result.noninferior, "non-inferiority"
            words = ("non-inferior", "non-inferiority not shown")
        else:
            result = eq.tost(data["reference"], data["candidate"], margin=value, **options)
            shown, test = result.equivalent, "equivalence"
            words = ("equivalent", "not equivalent")
        det = eq.attainability(
            data["reference"],
            data["candidate"],
            margin=value,
            test=test,
            higher_is_better=hib,
            **options,
        )
    degenerate = shown and result.standard_error == 0
    if degenerate:  # no estimate of the noise: nothing bounds the difference (ZERO_VARIANCE)
        code, verdict = ExitCode.INCONCLUSIVE, "inconclusive"
    elif shown:
        code, verdict = ExitCode.PASS, words[0]
    elif not result.attainable:
        code, verdict = ExitCode.INCONCLUSIVE, "inconclusive"
    else:
        code, verdict = ExitCode.FAIL, words[1]
    payload = {
        "command": "equivalence",
        "test": test,
        "verdict": verdict,
        "exit_code": int(code),
        "inputs": _inputs(reference, candidate, data),
        "result": result.to_dict(),
        "attainability": det.to_dict(),
    }
    if degenerate:
        payload["degenerate"] = ZERO_VARIANCE
    from parity.report.summaries import equivalence_markdown

    title = f"{reference} vs {candidate}"
    markdown = equivalence_markdown(payload, title)
    reports = {"equivalence.json": json_text(payload), "summary.md": markdown}
    if html_path or bundle_path:
        from parity.report.html_decision import equivalence_html

        reports["report.html"] = equivalence_html(payload, title)
    for path, name in ((json_path, "equivalence.json"), (markdown_path, "summary.md")):
        if path:
            write_text(path, reports[name])
    if html_path:
        write_text(html_path, reports["report.html"])
    if not quiet:
        print_summary(payload, result, title)
    if bundle_path:
        options = {"margin": margin, "noninferiority": noninferiority, **options}
        if noninferiority:
            options["higher_is_better"] = hib
        digest = write_command_bundle(
            bundle_path, "equivalence", reports, payload["inputs"], options
        )
        if not quiet:
            click.echo(f"bundle: {visible(bundle_path)} (sha256 {digest})", err=True)
    append_step_summary(markdown)
    ctx.exit(int(code))
