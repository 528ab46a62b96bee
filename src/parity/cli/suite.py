"""``parity suite``: proof-grade parity suites — run, status, report, ingest, schema.

The subcommands are imported only when invoked (``report`` lives in
``parity.cli.suite_report``; when that module is absent the others still work). Errors keep the
CLI contract: every line of a bad manifest's error message is printed as ``error: …`` on stderr
and the exit code is 2.
"""

from __future__ import annotations

import importlib
import importlib.util

import click

from parity.cli._conventions import DECIDING, PLAIN, ParityCommand
from parity.cli._params import WORKERS
from parity.errors import ExitCode, ParityError
from parity.report.escape import term as escape

SUBCOMMANDS = {
    "run": (
        "parity.cli.suite",
        "run_command",
        "Execute every run not yet recorded (resumes where it stopped).",
    ),
    "status": (
        "parity.cli.suite",
        "status_command",
        "What is recorded, failed, missing, running or left over.",
    ),
    "report": (
        "parity.cli.suite_report",
        "report_command",
        "Check the recorded runs and write the suite's reports.",
    ),
    "ingest": (
        "parity.cli.suite",
        "ingest_command",
        "Record the existing results of `results` systems.",
    ),
    "schema": ("parity.cli.suite", "schema_command", "Print the manifest's JSON schema."),
}


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def print_error(exc: BaseException) -> None:
    """Print each line of an error's message as ``error: …`` on stderr."""
    for line in str(exc).splitlines() or [type(exc).__name__]:
        click.echo(f"error: {line}", err=True)


class SuiteGroup(click.Group):
    """The ``suite`` group: subcommands imported lazily; multi-line errors, one line each."""

    command_class = ParityCommand

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, (module, _, _) in SUBCOMMANDS.items() if _available(module)]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands:
            return self.commands[name]
        if name not in SUBCOMMANDS:
            return None
        module, attr, _ = SUBCOMMANDS[name]
        if not _available(module):
            return None
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, SUBCOMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ParityError as exc:
            print_error(exc)
            ctx.exit(int(exc.exit_code))


@click.group("suite", cls=SuiteGroup, context_settings={"help_option_names": ["-h", "--help"]})
def suite_group() -> None:
    """Proof-grade parity suites: systems × tasks × seeds from a YAML manifest.

    `run` executes (and resumes) the runs into a SQLite store beside the manifest, `status`
    shows where the suite stands, `report` checks the runs and writes the reports, `ingest`
    records existing results, `schema` prints the manifest's JSON schema.
    """


# --------------------------------------------------------------------------- progress


def _label(key) -> str:
    return f"{key.system} {key.task} seed {key.seed} rerun {key.rerun}"


class ProgressReporter:
    """A rich progress bar on stderr (done / failed / remaining, ETA); on a non-terminal, or
    with ``live=False``, nothing until the final summary line."""

    def __init__(self, title: str, *, live: bool | None = None, quiet: bool = False) -> None:
        from rich.console import Console

        self.console = Console(stderr=True, highlight=False, soft_wrap=True)
        self.live = self.console.is_terminal if live is None else live
        self.live = self.live and not quiet
        self.quiet = quiet
        self.title = title
        self.progress = None
        self.counts = {"ok": 0, "failed": 0, "skipped": 0}

    def start(self, total: int, already: int) -> None:
        self.total = total
        if not self.live or total == 0:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[green]{task.fields[ok]} ok[/] [red]{task.fields[failed]} failed[/]"),
            TextColumn("{task.fields[remaining]} remaining"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
        )
        self.progress.start()
        self.task = self.progress.add_task(self.title, total=total, ok=0, failed=0, remaining=total)

    def advance(self, key, record, note: str = "") -> None:
        if record is None:
            self.counts["skipped"] += 1
        elif record.status == "ok":
            self.counts["ok"] += 1
        else:
            self.counts["failed"] += 1
        if self.progress is None:
            return
        done = sum(self.counts.values())
        self.progress.update(
            self.task,
            advance=1,
            ok=self.counts["ok"],
            failed=self.counts["failed"],
            remaining=self.total - done,
        )
        if record is not None and record.status != "ok":
            why = record.failure_reason()
            self.progress.console.print(
                f"[red]{record.status}[/red] {escape(_label(key))}"
                + (f": {escape(why)}" if why else "")
            )

    def finish(self, result) -> None:
        """Stop the progress bar and print the run's counts, what changed in the manifest, and the
        runs that failed or are missing."""
        if self.progress is not None:
            self.progress.stop()
        if self.quiet:
            return
        console = self.console
        counts = result.counts()
        if result.manifest_changed:
            console.print(
                "[yellow]warning[/yellow]: the manifest changed since the store was last "
                "written; runs recorded under the old one were kept"
            )
        for record in result.not_ok[:10]:
            why = record.failure_reason()
            console.print(
                f"  [red]{record.status}[/red] {escape(_label(record.key))}: {escape(why or '—')}"
            )
        if len(result.not_ok) > 10:
            console.print(f"  … and {len(result.not_ok) - 10} more (see `parity suite status`)")
        missing = [] if result.interrupted else result.missing
        for key in missing[:10]:
            note = result.notes.get(key, "not run")
            console.print(f"  [yellow]missing[/yellow] {escape(_label(key))}: {escape(note)}")
        if len(missing) > 10:
            console.print(f"  … and {len(missing) - 10} more missing")
        console.print(
            f"suite {escape(result.suite)}: {counts['ok']} ok, {counts['failed']} failed, "
            f"{counts['timeout']} timeout, {counts['missing']} missing of {len(result.expected)} "
            f"({len(result.new)} recorded now, {result.already} before) in "
            f"{result.elapsed:.1f} s; store {result.store}"
        )


# --------------------------------------------------------------------------- commands

#: Exit codes of `run` and `ingest`, which record runs.
RECORDING = {
    0: "every expected run is recorded ok",
    1: "some runs failed, timed out or are missing",
    2: "usage or input error, or interrupted (the same command resumes)",
    4: DECIDING[4],
}


_store_option = click.option(
    "--store",
    "store",
    type=click.Path(dir_okay=False),
    show_default="<manifest stem>.parity.sqlite beside the manifest",
    help="SQLite store.",
)
_runs_dir_option = click.option(
    "--runs-dir",
    "runs_dir",
    type=click.Path(file_okay=False),
    metavar="DIR",
    show_default="runs/ beside the manifest",
    help="Root of the run folders ({out}).",
)


def _finish(ctx: click.Context, result) -> None:
    if result.interrupted:
        click.echo(
            f"error: interrupted; {len(result.new)} runs recorded now, "
            f"{len(result.missing)} missing; run the same command again to resume",
            err=True,
        )
        ctx.exit(int(ExitCode.USAGE))
    ctx.exit(result.exit_code)


@suite_group.command("run", exit_codes=RECORDING)
@click.argument("manifest", type=click.Path(dir_okay=False))
@click.option(
    "--workers",
    type=WORKERS,
    metavar="N",
    show_default="the CPU count (local), the cluster's threads (dask)",
    help="Runs at once.",
)
@click.option(
    "--executor",
    type=click.Choice(["local", "dask"]),
    show_default="local; dask when --scheduler is given",
    help="Where runs execute.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Dask scheduler address (tcp://host:8786); without it --executor dask starts a "
    "local cluster.",
)
@_store_option
@_runs_dir_option
@click.option(
    "--retry-failed",
    is_flag=True,
    help="Also redo runs recorded as failed or timeout (the old records are kept as replaced).",
)
@click.option("--quiet", is_flag=True, help="No progress bar and no summary.")
@click.pass_context
def run_command(
    ctx: click.Context,
    manifest: str,
    workers: int | None,
    executor: str | None,
    scheduler: str | None,
    store: str | None,
    runs_dir: str | None,
    retry_failed: bool,
    quiet: bool,
) -> None:
    """Execute every (system, task, seed, rerun) of MANIFEST not yet recorded.

    Each finished run is recorded at once, whole; Ctrl-C stops cleanly and the same command
    resumes. Exit code 0 when every expected run is recorded ok, 1 when some failed, timed out
    or are missing, 2 on bad input or when interrupted.
    """
    from parity.suite.manifest import load_manifest
    from parity.suite.runner import run_suite

    if executor == "local" and scheduler:
        raise click.UsageError("--scheduler needs --executor dask; got --executor local")
    name = load_manifest(manifest).name
    reporter = ProgressReporter(f"suite {name}", quiet=quiet)
    result = run_suite(
        manifest,
        store=store,
        executor=executor or ("dask" if scheduler else "local"),
        workers=workers,
        scheduler=scheduler,
        runs_dir=runs_dir,
        retry_failed=retry_failed,
        reporter=reporter,
    )
    _finish(ctx, result)


@suite_group.command("ingest", exit_codes=RECORDING)
@click.argument("manifest", type=click.Path(dir_okay=False))
@_store_option
@click.option("--retry-failed", is_flag=True, help="Re-read results recorded as failed.")
@click.option("--quiet", is_flag=True, help="No summary.")
@click.pass_context
def ingest_command(
    ctx: click.Context, manifest: str, store: str | None, retry_failed: bool, quiet: bool
) -> None:
    """Record the results of MANIFEST's `results` systems (nothing is executed).

    Exit code 0 when every run of those systems is recorded ok, 1 when some are missing or
    unreadable, 2 on bad input.
    """
    from parity.suite.manifest import load_manifest
    from parity.suite.runner import ingest_suite

    name = load_manifest(manifest).name
    reporter = ProgressReporter(f"ingest {name}", quiet=quiet)
    result = ingest_suite(manifest, store=store, retry_failed=retry_failed, reporter=reporter)
    _finish(ctx, result)


@suite_group.command("status", exit_codes=PLAIN)
@click.argument("manifest", type=click.Path(dir_okay=False))
@_store_option
@_runs_dir_option
@click.option(
    "--json",
    "json_path",
    type=click.Path(allow_dash=True),
    metavar="PATH|-",
    help="Also write the status as JSON here ('-' = stdout).",
)
@click.option("--all", "show_all", is_flag=True, help="List every missing run, not the first 20.")
@click.option("--force", is_flag=True, help="Replace an existing --json file parity did not write.")
def status_command(
    manifest: str,
    store: str | None,
    runs_dir: str | None,
    json_path: str | None,
    show_all: bool,
    force: bool,
) -> None:
    """Show what of MANIFEST is recorded ok, failed (with the stderr tail), missing, running
    now, and run folders left without a record. Exit code 0 (2 on bad input)."""
    from parity.cli._output import check_outputs, json_text, write_text
    from parity.suite.runner import suite_status

    check_outputs(inputs=(manifest, store), files={"--json": json_path}, force=force)

    status = suite_status(manifest, store=store, runs_dir=runs_dir)
    if json_path:
        write_text(json_path, json_text(status.to_dict()))
    print_status(status, limit=None if show_all else 20)


def print_status(status, limit: int | None = 20) -> None:
    """A rich summary of a :class:`~parity.suite.runner.SuiteStatus` on stderr."""
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True, highlight=False, soft_wrap=True)

    def listing(title: str, items: list[str], style: str) -> None:
        if not items:
            return
        console.print(f"[{style}]{title}[/{style}] ({len(items)}):")
        shown = items if limit is None else items[:limit]
        for item in shown:
            console.print(f"  {escape(item)}")
        if len(shown) < len(items):
            console.print(f"  … and {len(items) - len(shown)} more (--all lists them)")

    where = str(status.store) if status.store_exists else f"{status.store} (not created yet)"
    console.print(f"[bold]suite {escape(status.suite)}[/bold] — store {escape(where)}")
    if status.writer_pid is not None:
        console.print(f"a `parity suite run` is writing this store now (pid {status.writer_pid})")
    if status.manifest_changed:
        extra = (
            f"; {status.other_manifest_runs} recorded runs were made under another version"
            if status.other_manifest_runs
            else ""
        )
        console.print(
            f"[yellow]warning[/yellow]: the manifest changed since the store was last written"
            f"{extra}"
        )
    table = Table(title_justify="left")
    columns = ("ok", "failed", "timeout", "missing", "expected")
    table.add_column("system")
    for col in columns:
        table.add_column(col, justify="right")
    totals = dict.fromkeys(columns, 0)
    for system, row in status.by_system().items():
        table.add_row(escape(system), *(str(row[c]) for c in columns))
        for c in columns:
            totals[c] += row[c]
    table.add_row("all", *(str(totals[c]) for c in columns), style="bold")
    console.print(table)
    bad = [r for r in status.records.values() if r.status != "ok"]
    if bad:
        console.print(f"[red]failed or timed out[/red] ({len(bad)}):")
        for record in bad if limit is None else bad[:limit]:
            code = "—" if record.exit_code is None else record.exit_code
            console.print(
                f"  {escape(_label(record.key))}: {record.status}, exit code {code}, "
                f"{record.attempts} attempt(s), out {escape(record.out_dir)}"
            )
            for line in (record.stderr_tail or "").splitlines()[-5:]:
                console.print(f"    | {escape(line)}")
        if limit is not None and len(bad) > limit:
            console.print(f"  … and {len(bad) - limit} more (--all lists them)")
    orphans = " (left by a killed run; the next `parity suite run` stops them)"
    listing(
        "running now" + ("" if status.writer_pid is not None else orphans),
        [_label(k) for k in status.running],
        "cyan",
    )
    listing("missing", [_label(k) for k in status.missing if k not in status.running], "yellow")
    listing(
        "run folders without a record (the next `parity suite run` redoes them)",
        [f"{_label(k)}: {path}" for k, path in status.leftover.items()],
        "yellow",
    )
    listing("recorded but not in the manifest", [_label(k) for k in status.unexpected], "dim")


@suite_group.command("schema", exit_codes=PLAIN, renamed={"--out": "--json"})
@click.option(
    "--json",
    "out",
    default="-",
    show_default=True,
    type=click.Path(allow_dash=True),
    metavar="PATH|-",
    help="Write the schema here ('-' = stdout).",
)
@click.option("--force", is_flag=True, help="Replace an existing file parity did not write.")
def schema_command(out: str, force: bool) -> None:
    """Print the JSON schema of a suite manifest."""
    from parity.cli._output import check_outputs, json_text, write_text
    from parity.suite.manifest import manifest_schema

    check_outputs(files={"--json": out}, force=force)

    write_text(out, json_text(manifest_schema()))
