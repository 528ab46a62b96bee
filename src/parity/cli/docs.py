"""The CLI reference, ``docs/cli.md``, generated from the click commands themselves.

``python -m parity.cli.docs > docs/cli.md`` (or ``scripts/make_cli_docs.py``) writes it; the
test suite checks that the file is what this module generates, so the reference cannot drift
from the commands. :func:`walk` visits every command, for the reference and for the test of
the shared conventions.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator

import click

from parity.cli._conventions import PLAIN, exit_codes_text

HEADER = """\
# CLI reference

Generated from the commands themselves by `python scripts/make_cli_docs.py` (the test suite
checks that this file is current): every command's usage, options, defaults, choices and exit
codes. `parity COMMAND --help` prints the same. Conventions shared by every command: inputs
are positional (`REFERENCE CANDIDATE` where a command compares two), `--out DIR` is a folder,
`--json`/`--markdown`/`--html` take `PATH` or `-` (stdout), `--resamples N` is the test's
resampling count and `--bootstrap N` a bootstrap's, `--seed N` is an integer in
0 … 2⁶³ − 1, `--alpha` lies in (0, 0.5). Renamed options keep their old spelling for one
release, with a warning (CHANGELOG.md lists them).
"""


def walk(
    command: click.Command | None = None, path: tuple[str, ...] = ("parity",)
) -> Iterator[tuple[tuple[str, ...], click.Command, click.Context]]:
    """Every command under ``command`` (default: ``parity``), depth first in name order:
    ``(words, command, context)``, groups included.

    Examples
    --------
    >>> [" ".join(words) for words, _, _ in walk()][:3]
    ['parity', 'parity agents', 'parity agents analyze']
    """
    if command is None:
        from parity.cli.main import cli

        command = cli

    def visit(cmd: click.Command, words: tuple[str, ...], parent_ctx: click.Context | None):
        ctx = click.Context(cmd, info_name=words[-1], parent=parent_ctx)
        yield words, cmd, ctx
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                if sub is not None and not sub.hidden:
                    yield from visit(sub, (*words, name), ctx)

    yield from visit(command, path, None)


def _code(text: str) -> str:
    return "`" + text.replace("|", "\\|") + "`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _value(param: click.Parameter, ctx: click.Context) -> str:
    if isinstance(param, click.Option) and param.is_flag:
        return ""
    if isinstance(param.type, click.Choice):
        return " \\| ".join(_code(str(c)) for c in param.type.choices)
    return _code(param.make_metavar(ctx))


def _default(param: click.Option) -> str:
    if isinstance(param.show_default, str):
        return _cell(param.show_default)
    if not param.show_default or param.default is None:
        return ""
    if param.is_flag and param.secondary_opts:
        return _code(param.opts[0] if param.default else param.secondary_opts[0])
    if param.is_flag:
        return ""
    default = param.default
    if isinstance(default, (list, tuple)):
        default = ", ".join(map(str, default))
    return _code(str(default))


def command_section(words: tuple[str, ...], cmd: click.Command, ctx: click.Context) -> str:
    """The reference section of one command."""
    usage = " ".join(cmd.collect_usage_pieces(ctx))
    lines = [f"## {' '.join(words)}", "", f"Usage: {_code(' '.join(words) + ' ' + usage)}", ""]
    help_text = (cmd.help or "").strip()
    if help_text:
        lines += [inspect.cleandoc(help_text).replace("\b\n", ""), ""]
    if isinstance(cmd, click.Group):
        subs = [
            (name, sub)
            for name in cmd.list_commands(ctx)
            if (sub := cmd.get_command(ctx, name)) is not None and not sub.hidden
        ]
        lines += ["| command | what it does |", "|---|---|"]
        for name, sub in subs:
            anchor = "-".join((*words, name))
            summary = _cell(sub.get_short_help_str(limit=200))
            lines.append(f"| [{' '.join((*words, name))}](#{anchor}) | {summary} |")
        lines.append("")
        return "\n".join(lines)
    arguments = [p for p in cmd.params if isinstance(p, click.Argument)]
    if arguments:
        lines += [
            "Arguments: " + ", ".join(_code(p.make_metavar(ctx)) for p in arguments) + ".",
            "",
        ]
    options = [p for p in cmd.params if isinstance(p, click.Option) and not p.hidden]
    lines += ["| option | value | default | meaning |", "|---|---|---|---|"]
    for p in options:
        names = ", ".join(_code(o) for o in (*p.opts, *p.secondary_opts))
        lines.append(f"| {names} | {_value(p, ctx)} | {_default(p)} | {_cell(p.help or '')} |")
    lines.append("| `-h`, `--help` |  |  | Show the help and exit. |")
    codes = getattr(cmd, "exit_codes", PLAIN)
    lines += ["", exit_codes_text(codes), ""]
    return "\n".join(lines)


def cli_reference() -> str:
    """The text of ``docs/cli.md``.

    Examples
    --------
    >>> text = cli_reference()
    >>> "## parity compare" in text and "`--resamples`" in text
    True
    """
    sections = [HEADER]
    for words, cmd, ctx in walk():
        if len(words) == 1:
            continue
        sections.append(command_section(words, cmd, ctx))
    return "\n".join(sections).rstrip("\n") + "\n"


if __name__ == "__main__":
    sys.stdout.write(cli_reference())
