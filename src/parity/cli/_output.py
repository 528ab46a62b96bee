"""Output helpers shared by the commands: numbers (:func:`fmt` is
:func:`parity._format.number`), JSON text, input provenance, and the one
check and the one writer of every file a command writes.

The output rule (README, "Limits and errors"): before any work, :func:`check_outputs` checks
every path the call will write and refuses, with one ``error:`` line naming the option,

- a path that is also an input of the call (same path, same file through a link, or the same
  ``realpath``) — even with ``--force``;
- two options naming the same file;
- a folder where a file is meant, a file where a folder is meant, a device, FIFO or socket;
- a place that cannot be written (the nearest existing parent is not a writable folder);
- an existing file that parity did not write, unless ``--force``.

A file is parity's when it lies in a folder holding parity's marker :data:`MARKER` (written
into every ``--out`` folder parity fills); any other existing file is not, so a single-file
option (``--json``, ``--html``, ``--bundle`` …) replaces an existing file only with
``--force``. Files are written to a temporary file in the same folder and renamed over the
target (:func:`parity.io.write_atomic`), so a reader never sees half a file. ``-`` means
stdout; a reader that closes the pipe early (``| head``) does not change the exit code.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from parity._format import number as fmt  # noqa: F401 (the one number formatter, CLI name)
from parity.errors import ParityInputError

#: Name of the marker file in a folder parity writes reports into.
MARKER = ".parity-output"
_MARKER_TEXT = "written by parity: files here may be replaced by the next run\n"


def json_text(payload: Any) -> str:
    """:func:`parity.io.json_text`, imported when first used (the CLI starts without numpy):
    strict JSON, floats to 12 significant digits, non-finite floats as ``"nan"``, ``"inf"``,
    ``"-inf"``, None as ``null``, a final newline."""
    from parity.io import json_text as text

    return text(payload)


def force_option(f):
    """The ``--force`` flag of every command that writes files."""
    return click.option(
        "--force",
        is_flag=True,
        help="Replace existing output files that parity did not write (never an input).",
    )(f)


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (creating its folder), or to stdout when ``path``
    is ``-`` (a closed pipe is not an error: the rest of the output is dropped)."""
    if str(path) == "-":
        write_stdout(text)
        return
    write_file(path, text.encode("utf-8"))


def write_file(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through :func:`parity.io.write_atomic`; an ``OSError``
    becomes a one-line :class:`ParityInputError`."""
    from parity.io import write_atomic

    write_atomic(path, data)


def write_stdout(text: str) -> None:
    """Write ``text`` to stdout; when the reader has gone (EPIPE), send the rest to devnull."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()


def silence_stdout() -> None:
    """Point stdout at devnull so that the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file descriptor (tests' captured stdout)
        pass


def mark_folder(folder: str | Path) -> Path:
    """Create ``folder`` (and parents) and its :data:`MARKER`; return the folder."""
    from parity.io import write_atomic

    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ParityInputError(f"{folder}: cannot create folder ({exc.strerror or exc})") from None
    if not (folder / MARKER).is_file():
        write_atomic(folder / MARKER, _MARKER_TEXT.encode())
    return folder


def _spec_path(spec: str | os.PathLike[str]) -> Path:
    from parity.io import parse_spec

    try:
        return parse_spec(spec)[0]
    except ParityInputError:
        return Path(spec)


def _same(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file: equal realpaths, or ``os.path.samefile``."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _writable_parent(option: str, path: Path) -> None:
    """The nearest existing ancestor of ``path`` must be a folder we may write into."""
    parent = Path(os.path.abspath(path)).parent
    while not parent.exists() and parent != parent.parent:
        if parent.is_symlink():  # a dangling link
            raise ParityInputError(f"{option}: cannot write {path}: {parent} is a broken link")
        parent = parent.parent
    if not parent.is_dir():
        raise ParityInputError(
            f"{option}: cannot write {path}: {parent} is a file; a folder is meant there"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ParityInputError(f"{option}: cannot write {path}: folder {parent} is not writable")


def _in_marked_folder(path: Path) -> bool:
    return (path.parent / MARKER).is_file()


def _check_file(
    option: str, path: Path, inputs: Sequence[Path], force: bool, append: bool = False
) -> None:
    for source in inputs:
        if _same(path, source):
            raise ParityInputError(
                f"{option}: {path} is also an input of this call ({source}); parity never "
                "overwrites its inputs"
            )
    if path.is_dir():
        raise ParityInputError(f"{option}: {path} is a folder; a file is meant")
    if path.exists() or path.is_symlink():
        mode = os.lstat(path).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
            raise ParityInputError(
                f"{option}: {path} is not a regular file (a device, FIFO or socket); "
                "give a file path, or '-' for stdout"
            )
        if not (force or append) and not _in_marked_folder(path):
            raise ParityInputError(
                f"{option}: {path} already exists and parity did not write it here; "
                "pass --force to replace it"
            )
    _writable_parent(option, path)


def check_outputs(
    *,
    inputs: Iterable[str | os.PathLike[str] | None] = (),
    files: Mapping[str, str | os.PathLike[str] | None] = {},
    folders: Mapping[str, tuple[str | os.PathLike[str] | None, Sequence[str]]] = {},
    appends: Mapping[str, str | os.PathLike[str] | None] = {},
    force: bool = False,
) -> None:
    """Check every path a call will write, before the work (rules: the module docstring).

    Parameters
    ----------
    inputs
        Files (or specs ``FILE:array``) the call reads; None entries are skipped.
    files
        Option name → file path it writes (None or ``-`` skipped).
    folders
        Option name → ``(folder, names)``: the folder and the names of the files written in it.
    appends
        Option name → file the call appends to (a log): checked like ``files`` except that it
        may exist.
    force
        Replace existing files parity did not write (never an input).

    Raises
    ------
    ParityInputError
        One line naming the option, the rule and the path.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     a = Path(d, "a.npy"); _ = a.write_bytes(b"x")
    ...     check_outputs(inputs=[a], files={"--json": Path(d, "v.json")})
    ...     try:
    ...         check_outputs(inputs=[f"{a}:arr"], files={"--bundle": a})
    ...     except ParityInputError as e:
    ...         print("also an input of this call" in str(e))
    True
    """
    sources = [_spec_path(s) for s in inputs if s is not None]
    targets: list[tuple[str, Path]] = []
    for option, path in files.items():
        if path is None or str(path) == "-":
            continue
        path = Path(path)
        _check_file(option, path, sources, force)
        targets.append((option, path))
    for option, path in appends.items():
        if path is not None:
            _check_file(option, Path(path), sources, force, append=True)
            targets.append((option, Path(path)))
    for option, (folder, names) in folders.items():
        if folder is None:
            continue
        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise ParityInputError(f"{option}: {folder} is a file; a folder is meant")
        marked = (folder / MARKER).is_file()
        for name in names:
            path = folder / name
            for source in sources:
                if _same(path, source):
                    raise ParityInputError(
                        f"{option}: {folder} would overwrite {path}, an input of this call; "
                        "parity never overwrites its inputs"
                    )
            if path.is_dir():
                raise ParityInputError(f"{option}: {path} is a folder; a file is meant there")
            if (path.exists() or path.is_symlink()) and not (marked or force):
                raise ParityInputError(
                    f"{option}: {folder} holds {name}, which parity did not write (no {MARKER} "
                    "marker in the folder); pass --force to replace it, or choose a new folder"
                )
            targets.append((option, path))
        _writable_parent(option, folder / MARKER)
    seen: dict[str, str] = {}
    for option, path in targets:
        key = os.path.realpath(path)
        if key in seen and seen[key] != option:
            raise ParityInputError(f"{seen[key]} and {option} both write {path}; give two paths")
        seen.setdefault(key, option)


def provenance(spec: str, **extra: Any) -> dict[str, Any]:
    """The record of an input (:func:`parity.io.provenance`), imported when first needed."""
    from parity.io import provenance as record

    return record(spec, **extra)


def append_step_summary(markdown: str) -> Path | None:
    """Append a command's Markdown summary to ``$GITHUB_STEP_SUMMARY`` (the job summary of
    GitHub Actions) when that variable names a file; return its path, or None when unset.

    A summary that cannot be written is a ``warning:`` line on stderr, not an error: the
    command's exit code stays its verdict's.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     os.environ["GITHUB_STEP_SUMMARY"] = f"{d}/summary.md"
    ...     _ = append_step_summary("# one"), append_step_summary("# two")
    ...     text = open(f"{d}/summary.md").read()
    ...     del os.environ["GITHUB_STEP_SUMMARY"]
    >>> text
    '# one\\n\\n# two\\n\\n'
    """
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    try:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(markdown.rstrip("\n") + "\n\n")
    except OSError as exc:
        sys.stderr.write(
            f"warning: GITHUB_STEP_SUMMARY={target}: cannot append the summary ({exc.strerror})\n"
        )
        return None
    return Path(target)


def html_option(f):
    """The ``--html PATH|-`` option of a deciding command (parameter ``html_path``)."""
    return click.option(
        "--html",
        "html_path",
        type=click.Path(dir_okay=False, allow_dash=True),
        metavar="PATH|-",
        help="Also write a self-contained HTML report here ('-' = stdout; no network needed).",
    )(f)


def bundle_option(f):
    """The ``--bundle PATH`` option of a deciding command (parameter ``bundle_path``)."""
    return click.option(
        "--bundle",
        "bundle_path",
        type=click.Path(dir_okay=False),
        metavar="PATH",
        help="Also write an evidence bundle (zip: reports, arguments, input hashes, "
        "environment; `parity bundle verify` checks it).",
    )(f)


def one_stdout(**paths: str | None) -> None:
    """Refuse more than one output on stdout: option name (``json`` for ``--json``) → path.

    Examples
    --------
    >>> one_stdout(json="-", html="page.html")
    >>> try:
    ...     one_stdout(json="-", html="-")
    ... except click.UsageError as e:
    ...     print(e)
    only one of --json and --html may be '-' (stdout)
    """
    names = [f"--{name}" for name in paths]
    if sum(path == "-" for path in paths.values()) > 1:
        listed = ", ".join(names[:-1]) + f" and {names[-1]}"
        raise click.UsageError(f"only one of {listed} may be '-' (stdout)")


def write_command_bundle(
    path: str | os.PathLike[str],
    command: str,
    reports: Mapping[str, str | bytes],
    inputs: Mapping[str, Mapping[str, Any]],
    options: Mapping[str, Any],
    *,
    include_data: bool = False,
    signing_key: Any = None,
) -> str:
    """Write a deciding command's evidence bundle (:func:`parity.report.bundle.command_entries`)
    to ``path``; return the zip's sha256.

    ``reports`` are the files the command wrote (name → text or bytes); ``inputs`` each input's
    provenance record (role → ``path``, ``file_sha256`` …); ``arguments.json`` holds the
    command, the input specs and ``options`` (where the reports were written is not part of it).
    """
    from parity.report.bundle import build_bundle, command_entries

    arguments = {
        "command": command,
        "inputs": {role: record["path"] for role, record in inputs.items()},
        "options": {k: list(v) if isinstance(v, tuple) else v for k, v in sorted(options.items())},
    }
    data = {k: v.encode("utf-8") if isinstance(v, str) else bytes(v) for k, v in reports.items()}
    entries = command_entries(data, arguments, dict(inputs), include_data=include_data)
    return build_bundle(path, entries, signing_key=signing_key)
