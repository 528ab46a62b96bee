"""The ``parity`` command: a click group whose subcommands are imported only when run.

Errors become exit codes (DESIGN.md): a :class:`~parity.errors.ParityInputError` or a usage
error prints one line ``error: …`` on stderr and exits 2; any other exception is a bug: its
traceback is saved to a file, whose path is printed, and the exit code is 4.
"""

from __future__ import annotations

import gc
import importlib
import sys

import click

from parity import __version__
from parity.errors import ExitCode, ParityError
from parity.report.escape import visible

COMMANDS = {
    "agents": ("parity.cli.agents", "agents_group", "Agent loops, stalls, drift, divergence."),
    "compare": ("parity.cli.compare", "compare_command", "Compare two policies' action samples."),
    "demo": ("parity.cli.demo", "demo_command", "Run the 2-link-arm example end to end."),
    "gate": (
        "parity.cli.gate",
        "gate_command",
        "Accept or reject a candidate against the incumbent on held-out items.",
    ),
    "bundle": (
        "parity.cli.bundle",
        "bundle_group",
        "Verify or show an evidence bundle.",
    ),
    "keygen": ("parity.cli.bundle", "keygen_command", "Write an Ed25519 key pair for --sign."),
    "equivalence": (
        "parity.cli.equivalence",
        "equivalence_command",
        "TOST equivalence / non-inferiority of two sets of scalar results.",
    ),
    "suite": (
        "parity.cli.suite",
        "suite_group",
        "Proof-grade parity suites: run, status, report, ingest, schema.",
    ),
}


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when that subcommand is invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        return getattr(importlib.import_module(module), attr)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Click's main, with click's own usage errors as one ``error:`` line and exit code 2.

        An argument that is not valid UTF-8 (a file name in another encoding) is refused: the
        reports record names as UTF-8 text."""
        words = sys.argv[1:] if args is None else list(args)
        for word in words:
            if isinstance(word, str) and _undecodable(word):
                shown = word.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace")
                click.echo(
                    f"error: argument '{shown}' is not valid UTF-8; file names and options "
                    "must be UTF-8 text",
                    err=True,
                )
                if standalone_mode:
                    sys.exit(int(ExitCode.USAGE))
                return int(ExitCode.USAGE)
        try:
            code = super().main(
                args, prog_name or "parity", complete_var, standalone_mode=False, **extra
            )
        except click.exceptions.Abort:
            click.echo("error: aborted", err=True)
            code = ExitCode.USAGE
        except click.ClickException as exc:
            click.echo(f"error: {visible(exc.format_message())}", err=True)
            code = ExitCode.USAGE
        code = int(code or 0)
        if standalone_mode:
            sys.exit(code)
        return code

    def invoke(self, ctx: click.Context):
        """Run the subcommand; map parity's errors and any bug to an ``error:`` line and a code."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except BrokenPipeError:  # stdout's reader left (`| head`): what it read was printed
            from parity.cli._output import silence_stdout

            silence_stdout()
            ctx.exit(int(ExitCode.PASS))
        except ParityError as exc:
            click.echo(f"error: {visible(exc)}", err=True)
            ctx.exit(int(exc.exit_code))
        except Exception as exc:  # a bug: keep the traceback, print one line
            path = _save_traceback()
            click.echo(
                f"error: internal error ({type(exc).__name__}: {visible(exc)}); traceback saved "
                f"to {path}",
                err=True,
            )
            ctx.exit(int(ExitCode.INTERNAL))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="parity")
def cli() -> None:
    """Did this change preserve the behaviour of an ML system? Verdicts with statistical rigour.

    Exit codes: 0 pass, 1 fail, 2 usage or input error, 3 inconclusive, 4 internal error.
    """


def _undecodable(text: str) -> bool:
    """Whether ``text`` holds surrogate escapes (bytes of argv that are not UTF-8)."""
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _save_traceback() -> str:
    """Write the current exception's traceback to a new temporary file; return its path."""
    import tempfile
    import traceback

    with tempfile.NamedTemporaryFile(
        "w", prefix="parity-crash-", suffix=".txt", delete=False
    ) as fh:
        traceback.print_exc(file=fh)
        return fh.name


def main(argv: list[str] | None = None) -> int:
    """Run the CLI on ``argv`` (default ``sys.argv[1:]``) and return its exit code."""
    return cli.main(args=argv, standalone_mode=False)


def run() -> None:
    """Console-script entry point: ``sys.exit(main())``.

    When the command is done, what it leaves in memory is frozen out of the garbage collector
    (:func:`gc.freeze`): the interpreter's exit then skips collecting it (after a report with
    figures that was about half a second), while ``atexit`` handlers, flushing and the closing
    of files run as usual.
    """
    code = main()
    gc.freeze()
    raise SystemExit(code)
