"""``parity compare``: two policies' action samples (and rollouts) in, a verdict out.

The command parses options, checks where it writes, and presents: the files are loaded and
compared by :func:`parity.verdict.load_and_compare`; the reports are written here.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import click

from parity.cli._conventions import DECIDING, ParityCommand, given
from parity.cli._output import (
    append_step_summary,
    check_outputs,
    force_option,
    mark_folder,
    write_text,
)
from parity.cli._params import RESAMPLES, SEED, Finite
from parity.errors import ParityWarning
from parity.report.escape import term, visible
from parity.stats._engine import AGGREGATIONS, DEFAULT_AGGREGATION
from parity.stats.permutation import STATISTICS
from parity.verdict import (
    EXACT_MAX_POOLED,
    MAX_DETECTABLE_SHIFT,
    METHODS,
    N_BOOTSTRAP,
    N_RESAMPLES,
)

#: The files ``compare`` writes into its ``--out`` folder.
OUT_FILES = ("verdict.json", "summary.md", "report.html")
VERDICT_STYLE = {"pass": "bold green", "fail": "bold red", "inconclusive": "bold yellow"}


def write_reports(verdict, out_dir: Path | None, json_path: str | None, markdown_path: str | None):
    """Write ``verdict.json`` and ``summary.md`` to ``out_dir`` and/or the given paths (- = stdout).

    Returns the list of files written.
    """
    from parity.report.markdown import verdict_markdown

    text_json = verdict.to_json() + "\n"
    text_md = verdict_markdown(verdict.to_dict())
    targets = []
    if out_dir is not None:
        mark_folder(out_dir)
        targets += [(out_dir / "verdict.json", text_json), (out_dir / "summary.md", text_md)]
    targets += [(path, text) for path, text in ((json_path, text_json), (markdown_path, text_md))]
    for path, text in targets:
        if path:
            write_text(path, text)
    return [Path(p) for p, _ in targets if p and str(p) != "-"]


def load_and_compare(reference, candidate, ref_episodes=None, cand_episodes=None, **options):
    """:func:`parity.verdict.load_and_compare` with its warnings silenced: the verdict records
    them and :func:`print_verdict` prints them with its summary."""
    from parity.verdict import load_and_compare as run

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ParityWarning)
        return run(reference, candidate, ref_episodes, cand_episodes, **options)


def report_html(verdict, data: dict | None = None) -> str:
    """The comparison's HTML page, from its JSON record and (for the marginals) the arrays;
    samples by observation (observations × k × d) are pooled for the marginals."""
    from parity.report.html_compare import comparison_html

    data = data or {}
    ref, cand = data.get("reference"), data.get("candidate")
    if ref is not None and ref.ndim == 3:
        ref, cand = ref.reshape(-1, ref.shape[-1]), cand.reshape(-1, cand.shape[-1])
    return comparison_html(verdict.to_dict(), ref, cand)


def write_bundle(
    verdict, path, specs: dict, options: dict, *, include_data=False, signing_key=None, html=None
) -> str:
    """Write the comparison's evidence bundle to ``path``; return the zip's sha256.

    ``arguments.json`` holds the input specs (None ones left out) and the options of
    :func:`parity.compare`; where the reports were written is not part of it. ``html`` is the
    page for ``report.html`` (by default rendered from the record alone).
    """
    from parity.report.bundle import build_bundle, comparison_entries

    arguments = {
        "command": "compare",
        "inputs": {k: v for k, v in specs.items() if v is not None},
        "options": {k: list(v) if isinstance(v, tuple) else v for k, v in sorted(options.items())},
    }
    entries = comparison_entries(verdict, arguments, include_data=include_data, html=html)
    return build_bundle(path, entries, signing_key=signing_key)


def print_verdict(verdict, title: str) -> None:
    """A rich summary of the verdict on stderr: the verdict, its reasons and the numbers."""
    from rich.console import Console
    from rich.table import Table

    from parity.stats.permutation import statistic_label

    console = Console(stderr=True, highlight=False)
    style = VERDICT_STYLE[verdict.verdict]
    console.print(f"[bold]{term(title)}[/bold]: [{style}]{verdict.verdict.upper()}[/{style}]")
    for reason in verdict.reasons:
        console.print(f"  • {term(reason)}", soft_wrap=True)
    for warning in verdict.warnings:
        console.print(f"  [yellow]warning[/yellow]: {term(warning)}", soft_wrap=True)
    table = Table(title="two-sample tests (shared permutations)", title_justify="left")
    for col in ("statistic", "value", "p-value"):
        table.add_column(col, justify="left" if col == "statistic" else "right")
    for name, r in verdict.two_sample.results.items():
        table.add_row(statistic_label(name, r.parameters), f"{r.statistic:.4g}", f"{r.pvalue:.4g}")
    table.add_row("family (min-p)", "", f"{verdict.family_pvalue:.4g}", style="bold")
    console.print(table)
    if verdict.embodied:
        emb = Table(title="embodied metrics (candidate / reference)", title_justify="left")
        for col in ("metric", "ratio", "CI", "status"):
            emb.add_column(col)
        for name, r in verdict.embodied.items():
            lo, hi = r.confidence_interval
            emb.add_row(term(name), f"{r.ratio:.3f}", f"{lo:.3f} – {hi:.3f}", r.status)
        console.print(emb)
    if verdict.sensitivity is not None:
        console.print(sensitivity_line(verdict.sensitivity), soft_wrap=True)


def sensitivity_line(s) -> str:
    """One line on what the test could detect, with the simulation's size."""
    return (
        f"sensitivity ({100 * s.power:g}% power at α = {s.alpha:g}): {s.describe_all()} — "
        f"{s.n_tests} simulated tests of {s.n_x_simulated} vs {s.n_y_simulated} samples"
    )


#: Options that only the action-sample tests use (not a completions file's).
ACTIONS_ONLY = ("statistics", "max_detectable_shift", "method", "device")
#: Options of the embodied metrics, which need rollouts (--ref-episodes/--cand-episodes).
EMBODIED_ONLY = ("tolerance", "embodied_rule", "dt", "bootstrap")


def options_for_the_input(ctx: click.Context) -> str | None:
    """Why an option given does not apply to these inputs (None when every one does): --kernel
    is for completions files, the action tests' options are not, the embodied options need
    rollouts."""
    from parity.io import is_text_samples

    def flag(name: str) -> str:
        return next(p.opts[0] for p in ctx.command.params if p.name == name)

    params = ctx.params
    text = [is_text_samples(params[k]) for k in ("reference", "candidate")]
    if any(text):
        wrong = [flag(k) for k in ACTIONS_ONLY + EMBODIED_ONLY if given(ctx, k)]
        if wrong:
            return (
                f"{', '.join(wrong)} {'does' if len(wrong) == 1 else 'do'} not apply to "
                "completions files (JSONL of completions or tokens): the text test uses "
                "--kernel, --aggregation, --alpha, --resamples and --seed"
            )
        return None
    if given(ctx, "kernel"):
        return (
            f"--kernel applies to completions files (JSONL with `completion` or `tokens`); "
            f"{params['reference']} and {params['candidate']} hold numeric samples"
        )
    if params.get("ref_episodes") is None:
        wrong = [flag(k) for k in EMBODIED_ONLY if given(ctx, k)]
        if wrong:
            return (
                f"{', '.join(wrong)} {'applies' if len(wrong) == 1 else 'apply'} to the "
                "embodied metrics of rollouts; give --ref-episodes and --cand-episodes"
            )
    return None


@click.command(
    "compare",
    cls=ParityCommand,
    exit_codes=DECIDING,
    renamed={"--permutations": "--resamples"},
    checks=(options_for_the_input,),
)
@click.argument("reference", metavar="REFERENCE")
@click.argument("candidate", metavar="CANDIDATE")
@click.option(
    "--ref-episodes", "ref_episodes", help="Reference rollouts (E × T × d), FILE[:array]."
)
@click.option("--cand-episodes", "cand_episodes", help="Candidate rollouts, FILE[:array].")
@click.option(
    "--alpha",
    default=0.05,
    show_default=True,
    type=Finite(0, 0.5, min_open=True, max_open=True),
    help="Test level.",
)
@click.option(
    "--statistic",
    "statistics",
    multiple=True,
    type=click.Choice(STATISTICS),
    help="Statistic to test (repeatable; default: all).",
)
@click.option(
    "--resamples",
    "permutations",
    default=N_RESAMPLES,
    show_default=True,
    type=RESAMPLES,
    metavar="N",
    help="Random splits B of the permutation test.",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=SEED,
    metavar="N",
    help="Seed of every random draw.",
)
@click.option(
    "--bootstrap",
    default=N_BOOTSTRAP,
    show_default=True,
    type=RESAMPLES,
    metavar="N",
    help="Bootstrap resamples of the embodied metrics' ratio CIs (with rollouts).",
)
@click.option(
    "--tolerance",
    default=0.10,
    show_default=True,
    type=Finite(0, min_open=True),
    help="Embodied tolerance: a ratio CI above 1 + tol is a regression.",
)
@click.option(
    "--embodied",
    "embodied_rule",
    default="regression",
    show_default=True,
    type=click.Choice(["regression", "equivalence"]),
    help="Embodied rule: regression fails only a rise above 1 + tol; equivalence also needs "
    "the CI above 1/(1 + tol).",
)
@click.option(
    "--dt",
    default=1.0,
    show_default=True,
    type=Finite(0, min_open=True),
    help="Seconds between steps.",
)
@click.option(
    "--max-detectable-shift",
    default=MAX_DETECTABLE_SHIFT,
    show_default=True,
    type=Finite(min=0),
    help="A pass must detect shifts of this many reference σ with 80% power, else it is "
    "inconclusive; 0 = no check.",
)
@click.option(
    "--paired-by-observation",
    "by_observation",
    is_flag=True,
    help="Samples are (observations × k × d) on shared observations: permute labels within "
    "each observation.",
)
@click.option(
    "--method",
    default="auto",
    show_default=True,
    type=click.Choice(METHODS),
    help="Engine: exact permutations, random Fourier features (MMD only, millions of "
    f"samples), or auto (exact up to n + m = {EXACT_MAX_POOLED}).",
)
@click.option(
    "--device",
    type=click.Choice(["cpu", "cuda"]),
    help="Run the engine's products with torch on this device (the torch extra).",
)
@click.option(
    "--kernel",
    type=click.Choice(["hamming", "ngram"]),
    help="Kernel for completions files (default: hamming for tokens, ngram for text).",
)
@click.option(
    "--aggregation",
    default=DEFAULT_AGGREGATION,
    show_default=True,
    type=click.Choice(AGGREGATIONS),
    help="How the MMD uses its kernel collection: agg (each kernel tested, min-p), fuse "
    "(log-sum-exp of standardized MMDs) or sum (one summed kernel, parity 0.1).",
)
@click.option(
    "--no-sensitivity",
    is_flag=True,
    help="Do not simulate the minimum detectable effects (nor check them).",
)
@click.option(
    "--out",
    "out_dir",
    default="parity-report",
    show_default=True,
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Folder for verdict.json, summary.md and report.html.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(allow_dash=True),
    metavar="PATH|-",
    help="Also write the JSON verdict here ('-' = stdout).",
)
@click.option(
    "--markdown",
    "markdown_path",
    type=click.Path(allow_dash=True),
    metavar="PATH|-",
    help="Also write the Markdown summary here ('-' = stdout).",
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, allow_dash=True),
    metavar="PATH|-",
    help="Also write a self-contained HTML report here (figures inline; no network needed).",
)
@click.option(
    "--bundle",
    "bundle_path",
    type=click.Path(dir_okay=False),
    metavar="PATH",
    help="Also write an evidence bundle (zip: reports, arguments, input hashes, environment).",
)
@click.option("--include-data", is_flag=True, help="Put the input files in the bundle too.")
@click.option(
    "--sign",
    "sign_key",
    type=click.Path(dir_okay=False),
    help="Sign the bundle's SHA256SUMS with this Ed25519 private key (PEM, `parity keygen`).",
)
@click.option("--quiet", is_flag=True, help="No summary on stderr.")
@force_option
@click.pass_context
def compare_command(
    ctx: click.Context,
    reference: str,
    candidate: str,
    ref_episodes: str | None,
    cand_episodes: str | None,
    alpha: float,
    statistics: tuple[str, ...],
    permutations: int,
    seed: int,
    bootstrap: int,
    tolerance: float,
    embodied_rule: str,
    dt: float,
    max_detectable_shift: float,
    by_observation: bool,
    method: str,
    device: str | None,
    kernel: str | None,
    aggregation: str,
    no_sensitivity: bool,
    out_dir: str,
    json_path: str | None,
    markdown_path: str | None,
    html_path: str | None,
    bundle_path: str | None,
    include_data: bool,
    sign_key: str | None,
    quiet: bool,
    force: bool,
) -> None:
    """Compare action samples of REFERENCE and CANDIDATE (FILE or FILE.npz:ARRAY), or two
    completions files (JSONL of {prompt, completion} or {prompt_id, tokens}).
    """
    if (ref_episodes is None) != (cand_episodes is None):
        raise click.UsageError("--ref-episodes and --cand-episodes go together; got only one")
    to_stdout = [
        o
        for o, v in (("--json", json_path), ("--markdown", markdown_path), ("--html", html_path))
        if v == "-"
    ]
    if len(to_stdout) > 1:
        raise click.UsageError(
            f"only one of --json, --markdown and --html may be '-' (stdout); got {to_stdout}"
        )
    if bundle_path is None and (include_data or sign_key is not None):
        raise click.UsageError("--include-data and --sign need --bundle PATH")
    check_outputs(
        inputs=(reference, candidate, ref_episodes, cand_episodes, sign_key),
        files={
            "--json": json_path,
            "--markdown": markdown_path,
            "--html": html_path,
            "--bundle": bundle_path,
        },
        folders={"--out": (out_dir, OUT_FILES)},
        force=force,
    )
    key = None
    if sign_key is not None:  # a bad key fails before the work
        from parity.report.bundle import load_private_key

        key = load_private_key(sign_key)
    options = dict(
        alpha=alpha,
        statistics=statistics or STATISTICS,
        n_resamples=permutations,
        rng=seed,
        tolerance=tolerance,
        embodied=embodied_rule,
        dt=dt,
        sensitivity=not no_sensitivity,
        max_detectable_shift=max_detectable_shift or None,
        method=method,
        aggregation=aggregation,
    )
    options.update(
        (k, v)
        for k, v in (("by_observation", by_observation), ("device", device), ("kernel", kernel))
        if v
    )
    if ref_episodes is not None:  # the bootstrap is the embodied metrics'
        options["n_bootstrap"] = bootstrap
    verdict, data = load_and_compare(reference, candidate, ref_episodes, cand_episodes, **options)
    write_reports(verdict, Path(out_dir), json_path, markdown_path)
    html = report_html(verdict, data)
    write_text(Path(out_dir) / "report.html", html)
    if html_path:
        write_text(html_path, html)
    if not quiet:
        print_verdict(verdict, f"{reference} vs {candidate}")
    if bundle_path is not None:
        digest = write_bundle(
            verdict,
            bundle_path,
            specs={
                "reference": reference,
                "candidate": candidate,
                "reference_episodes": ref_episodes,
                "candidate_episodes": cand_episodes,
            },
            options=options,
            include_data=include_data,
            signing_key=key,
            html=html,
        )
        if not quiet:
            click.echo(f"bundle: {visible(bundle_path)} (sha256 {digest})", err=True)
    from parity.report.markdown import verdict_markdown

    append_step_summary(verdict_markdown(verdict.to_dict()))
    ctx.exit(int(verdict.exit_code))
