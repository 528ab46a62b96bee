"""``parity suite report``: judge a suite from its store and write the reports.

Attached to the ``parity suite`` group as ``report``. Exit codes: 0 when ``parity_pass_final``;
3 (inconclusive) when every run is present and valid, the components match, and the only
failures are per-task tests that could not succeed with this many seeds whatever the results
(:func:`parity.stats.attainability`; their intervals still overlap the margin); 1 otherwise;
2 for a bad manifest, a missing store or bad options.
"""

from __future__ import annotations

from pathlib import Path

import click

from parity.cli._conventions import DECIDING, ParityCommand
from parity.cli._params import SEED

VERDICT_STYLE = {"pass": "bold green", "fail": "bold red", "inconclusive": "bold yellow"}
#: Rows of per-task tests printed before only the failing ones are shown.
MAX_ROWS = 20
#: Whether ``parity suite report`` writes ``<out>/evidence_bundle.zip`` without ``--bundle PATH``
#: (``--no-bundle`` writes none).
BUNDLE_BY_DEFAULT = True


def judge_suite(manifest_path: str | Path, store_path: str | Path | None = None, *, seed: int = 0):
    """Load the manifest, read the store and judge: ``(manifest, verdict, store_path, stale)``.

    ``stale`` is true when the store was last written under another manifest (its hash differs):
    the runs are judged anyway, against the manifest given.

    Raises
    ------
    ParityInputError
        A bad manifest, or no store at the path.
    """
    from parity.errors import ParityInputError
    from parity.suite.checks import judge
    from parity.suite.manifest import load_manifest
    from parity.suite.store import Store, default_store_path, manifest_digest

    manifest_path = Path(manifest_path)
    manifest = load_manifest(manifest_path)
    store = Path(store_path) if store_path is not None else default_store_path(manifest_path)
    if not store.is_file():
        raise ParityInputError(
            f"{store}: no store (run `parity suite run {manifest_path}` first, or pass --store)"
        )
    with Store(store, create=False) as st:  # reads only; refuses a file that is not a store
        runs = st.runs()
        recorded = st.manifest_sha256
    stale = recorded is not None and recorded != manifest_digest(manifest)
    verdict = judge(manifest, runs, rng=seed, root=manifest_path.parent)
    return manifest, verdict, store, stale


def print_summary(verdict, out_dir: Path, stale: bool = False) -> None:
    """The verdict, its reasons and the per-task tests, on stderr (rich)."""
    from rich.console import Console
    from rich.table import Table

    from parity.cli._output import fmt
    from parity.report.escape import term as escape

    console = Console(stderr=True, highlight=False)
    style = VERDICT_STYLE[verdict.verdict]
    console.print(
        f"[bold]suite {escape(verdict.suite)}[/bold]: [{style}]{verdict.verdict.upper()}[/{style}]"
    )
    for reason in verdict.reasons:
        console.print(f"  • {escape(reason)}", soft_wrap=True)
    if stale:
        console.print(
            "  [yellow]warning[/yellow]: the store was last written under another version of "
            "this manifest; its runs are judged against the manifest given",
            soft_wrap=True,
        )
    eq = verdict.equivalence
    tests = list(eq.tests)
    shown = tests if len(tests) <= MAX_ROWS else [t for t in tests if not t.passed]
    if shown:
        level = f"{100 * tests[0].confidence_level:.3g}%"
        bounds: dict[str, str] = {}
        for t in tests:
            scale = "ratio" if t.relative else "difference"
            bounds.setdefault(
                t.metric, f"{t.metric} {scale} in ({fmt(t.bounds[0])}, {fmt(t.bounds[1])})"
            )
        title = f"per-task tests (rerun 0, Holm over {len(tests)}); " + "; ".join(bounds.values())
        if len(shown) < len(tests):
            title += f"; {len(tests) - len(shown)} passing not shown"
        console.print(escape(title), soft_wrap=True)
        table = Table()
        for col in ("task", "metric", "estimate", f"{level} CI", "adj. p", "result"):
            table.add_column(col, justify="right" if col in ("estimate", "adj. p") else "left")
        for t in shown:
            lo, hi = t.confidence_interval
            result = "pass" if t.passed else ("not tested" if t.error else "fail")
            table.add_row(
                escape(t.task),
                escape(t.metric),
                fmt(t.estimate),
                escape(f"[{fmt(lo)}, {fmt(hi)}]"),
                fmt(t.adjusted_pvalue, 3),
                result,
                style=None if t.passed else "red",
            )
        console.print(table)
    cov, val, stab = verdict.coverage, verdict.validity, verdict.stability
    console.print(
        f"coverage {cov.present}/{cov.expected} · validity "
        f"{'pass' if val.validity_pass else f'{len(val.findings)} findings'} · stability "
        f"{stab.status} ({stab.method})"
        + (
            ""
            if verdict.components is None
            else " · components " + ("pass" if verdict.components.component_match_pass else "fail")
        ),
        soft_wrap=True,
    )
    console.print(f"reports: {escape(out_dir)}/", soft_wrap=True)


@click.command("report", cls=ParityCommand, exit_codes=DECIDING)
@click.argument("manifest", metavar="SUITE.yaml", type=click.Path(dir_okay=False))
@click.option(
    "--out",
    "out_dir",
    default="reports",
    show_default=True,
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Folder for the JSON reports, equivalence_report.md and report.html.",
)
@click.option(
    "--store",
    "store_path",
    type=click.Path(dir_okay=False),
    show_default="<manifest stem>.parity.sqlite beside the manifest",
    help="The suite's store.",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=SEED,
    metavar="N",
    help="Seed of the aggregate bootstraps and component permutation tests.",
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, allow_dash=True),
    metavar="PATH|-",
    help="Also write the HTML report (the page of <out>/report.html) here ('-' = stdout).",
)
@click.option(
    "--bundle",
    "bundle_path",
    type=click.Path(dir_okay=False),
    metavar="PATH",
    show_default="<out>/evidence_bundle.zip",
    help="Write the evidence bundle here instead of into --out.",
)
@click.option(
    "--no-bundle",
    is_flag=True,
    help="Write no evidence bundle (not with --bundle, --include-data or --sign).",
)
@click.option("--include-data", is_flag=True, help="Put the runs' result files in the bundle.")
@click.option(
    "--sign",
    "sign_key",
    type=click.Path(dir_okay=False),
    help="Sign the bundle's SHA256SUMS with this Ed25519 private key (PEM, `parity keygen`).",
)
@click.option("--quiet", is_flag=True, help="No summary on stderr.")
@click.option("--force", is_flag=True, help="Replace report files in --out parity did not write.")
@click.pass_context
def report_command(
    ctx: click.Context,
    manifest: str,
    out_dir: str,
    store_path: str | None,
    seed: int,
    html_path: str | None,
    bundle_path: str | None,
    no_bundle: bool,
    include_data: bool,
    sign_key: str | None,
    quiet: bool,
    force: bool,
) -> None:
    """Judge the runs recorded for SUITE.yaml and write its reports.

    Coverage, validity (and shortcut checks in proof mode), per-task equivalence (Holm) and
    aggregates, stability across reruns, component match. Exit code 0 when the final verdict
    passes, 1 when it fails, 3 when the only failures are tests that could never succeed with
    this many seeds, 2 on bad input.
    """
    from parity.cli._output import check_outputs, mark_folder, write_text
    from parity.report.bundle import BUNDLE_NAME
    from parity.report.html_suite import REPORT_NAME, suite_html
    from parity.report.suite import REPORT_FILES, write_suite_reports

    if bundle_path is not None and bundle_path.startswith("-"):  # the old flag `--bundle`
        raise click.UsageError(
            f"--bundle takes a PATH (by default the bundle is <out>/{BUNDLE_NAME}); got "
            f"{bundle_path!r}"
        )
    bundle = not no_bundle and bool(BUNDLE_BY_DEFAULT or bundle_path or include_data or sign_key)
    if no_bundle:
        given = [o for o, v in (("--bundle", bundle_path), ("--sign", sign_key)) if v]
        given += ["--include-data"] if include_data else []
        if given:
            raise click.UsageError(f"--no-bundle and {', '.join(given)} contradict each other")
    names = (
        *REPORT_FILES,
        REPORT_NAME,
        *((BUNDLE_NAME,) if bundle and bundle_path is None else ()),
    )
    check_outputs(
        inputs=(manifest, store_path, sign_key),
        files={"--html": html_path, "--bundle": bundle_path},
        folders={"--out": (out_dir, names)},
        force=force,
    )
    key = None
    if sign_key is not None:  # a bad key fails before the work
        from parity.report.bundle import load_private_key

        key = load_private_key(sign_key)
    loaded, verdict, store, stale = judge_suite(manifest, store_path, seed=seed)
    out = mark_folder(out_dir)
    written = write_suite_reports(verdict, out)
    html = suite_html(verdict.to_dict(), tasks=loaded.tasks, seeds=loaded.seeds)
    write_text(out / REPORT_NAME, html)
    written.append(out / REPORT_NAME)
    if html_path:
        write_text(html_path, html)
    if bundle:
        target = out / BUNDLE_NAME if bundle_path is None else Path(bundle_path)
        write_suite_bundle(
            manifest, loaded, store, written, include_data=include_data, key=key, path=target
        )
    if not quiet:
        print_summary(verdict, out, stale)
    from parity.cli._output import append_step_summary
    from parity.report.suite import suite_markdown

    append_step_summary(suite_markdown(verdict.to_dict()))
    ctx.exit(int(verdict.exit_code))


def write_suite_bundle(
    manifest_path, manifest, store_path, reports, *, include_data, key, path=None
):
    """Write the evidence bundle to ``path`` (by default ``evidence_bundle.zip`` next to the
    reports); return the zip's sha256.

    The bundle holds the report files, the manifest (YAML as written and canonical JSON), the
    store's runs (``runs.jsonl``), the result files' hashes (and the files with
    ``include_data``) and the environment.
    """
    from parity.report.bundle import BUNDLE_NAME, build_bundle, suite_entries
    from parity.suite.store import Store

    with Store(store_path, create=False) as st:
        runs = st.runs()
    files = {Path(p).name: Path(p).read_bytes() for p in reports}
    entries = suite_entries(manifest_path, manifest, runs, files, include_data=include_data)
    target = Path(reports[0]).parent / BUNDLE_NAME if path is None else Path(path)
    return build_bundle(target, entries, signing_key=key)
