"""The conventions every ``parity`` command shares, in one command class.

* **Exit codes in ``--help``.** Every command lists the exit codes it can return
  (:data:`DECIDING` for a command that gives a verdict, :data:`PLAIN` for one that does not).
* **Renamed options.** An option renamed to follow the conventions keeps its old spelling for
  one release: ``renamed={"--permutations": "--resamples"}`` rewrites the old word on the
  command line to the new one and prints one ``warning:`` line on stderr. An old option may
  also have become a positional argument (``{"--incumbent": 0}``: its value becomes the first
  argument). Old spellings are not shown in ``--help``; CHANGELOG.md lists them.
* **Options that do not apply** to the given input are an error: each function in
  ``checks`` gets the parsed context before the command runs and returns ``None`` or a
  sentence, which becomes one ``error:`` line and exit code 2.

The conventions themselves (names, ``PATH|-`` outputs, defaults shown, choices) are checked
over every command by ``tests/test_cli_conventions.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import click
from click.core import ParameterSource

#: Exit codes of a command that decides something (a verdict, a gate, a comparison).
DECIDING = {
    0: "pass (accept, equivalent)",
    1: "fail (reject, not shown, changed)",
    2: "usage or input error (one line `error: …`)",
    3: "inconclusive (too little data to decide)",
    4: "internal error (a bug: traceback saved to a file whose path is printed)",
}
#: Exit codes of a command that does not decide anything.
PLAIN = {0: "done", 2: DECIDING[2], 4: DECIDING[4]}

Check = Callable[[click.Context], "str | None"]


def given(ctx: click.Context, name: str) -> bool:
    """Whether the option ``name`` (its parameter name) was given on the command line."""
    return ctx.get_parameter_source(name) in (
        ParameterSource.COMMANDLINE,
        ParameterSource.ENVIRONMENT,
    )


def exit_codes_text(codes: Mapping[int, str]) -> str:
    """The ``Exit codes`` paragraph of a command's help.

    Examples
    --------
    >>> exit_codes_text({0: "done", 2: "bad input"})
    'Exit codes: 0 done; 2 bad input.'
    """
    return (
        "Exit codes: " + "; ".join(f"{code} {what}" for code, what in sorted(codes.items())) + "."
    )


class ParityCommand(click.Command):
    """A click command with parity's conventions (see the module docstring).

    Examples
    --------
    >>> @click.command(cls=ParityCommand, renamed={"--old": "--new"}, exit_codes=PLAIN)
    ... @click.option("--new", default=1, show_default=True)
    ... def f(new):
    ...     click.echo(new)
    >>> from click.testing import CliRunner
    >>> result = CliRunner().invoke(f, ["--old", "3"])
    >>> result.stdout, result.stderr.startswith("warning: --old is renamed --new; ")
    ('3\\n', True)
    """

    def __init__(
        self,
        *args,
        renamed: Mapping[str, str | int] | None = None,
        exit_codes: Mapping[int, str] | None = None,
        checks: Sequence[Check] = (),
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.renamed = dict(renamed or {})
        self.exit_codes = dict(exit_codes or PLAIN)
        self.checks = tuple(checks)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        formatter.write_paragraph()
        with formatter.indentation():
            formatter.write_text(exit_codes_text(self.exit_codes))

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, self.rewrite(args))

    def rewrite(self, args: list[str]) -> list[str]:
        """``args`` with the old spellings replaced by the new ones (a warning for each)."""
        if not self.renamed:
            return args
        out: list[str] = []
        moved: dict[int, str] = {}
        words = list(args)
        i = 0
        while i < len(words):
            word = words[i]
            if word == "--":
                out += words[i:]
                break
            name, eq, value = word.partition("=")
            new = self.renamed.get(name) if name.startswith("--") else None
            if new is None:
                out.append(word)
                i += 1
                continue
            shown = (
                f"argument {new + 1} ({self._argument_name(new)})" if isinstance(new, int) else new
            )
            click.echo(
                f"warning: {name} is renamed {shown}; the old spelling will be removed in the "
                "next release",
                err=True,
            )
            if isinstance(new, int):
                if not eq:
                    if i + 1 >= len(words):
                        raise click.UsageError(f"{name} needs a value")
                    value, i = words[i + 1], i + 1
                moved[new] = value
            else:
                out.append(f"{new}={value}" if eq else new)
            i += 1
        return [moved[k] for k in sorted(moved)] + out

    def _argument_name(self, position: int) -> str:
        arguments = [p for p in self.params if isinstance(p, click.Argument)]
        return arguments[position].human_readable_name

    def invoke(self, ctx: click.Context):
        for check in self.checks:
            problem = check(ctx)
            if problem:
                raise click.UsageError(problem, ctx)
        return super().invoke(ctx)


class ParityGroup(click.Group):
    """A group whose subcommands are :class:`ParityCommand` (``@group.command(...)``)."""

    command_class = ParityCommand
