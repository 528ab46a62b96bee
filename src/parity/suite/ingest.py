"""Reading a run's results from disk: ``metrics.json``, file hashes, ``samples.npz`` arrays.

A run folder (the ``{out}`` of a ``command`` system, or the folder a ``results`` pattern names)
holds ``metrics.json`` (a JSON object, metric name → number) and may hold ``samples.npz`` (named
arrays) and any other files. :func:`read_run_folder` hashes every file in it (sha256, keyed by
the POSIX path relative to the folder), reads the metrics and lists the arrays with their shapes.

A ``results`` pattern may name (after substituting ``{task}``, ``{seed}``, ``{rerun}``; relative
paths are relative to the system's ``cwd``, itself relative to the manifest's folder):

* a folder, or a file called ``metrics.json``: that folder is the run folder, read as above;
* any other file (``ref/{task}_{seed}.json``): that file alone is the run's metrics JSON, and
  only it is hashed (the folder may hold other runs' files).

A results path that does not exist is *missing* (nothing is recorded: it can be ingested once it
appears); one that exists but cannot be read is recorded as ``failed`` with the reason in
``stderr_tail``.
"""

from __future__ import annotations

import hashlib
import os
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parity.errors import ParityInputError
from parity.io import decode_text, parse_json, read_text
from parity.suite.records import RunKey, RunRecord

METRICS_FILE = "metrics.json"
SAMPLES_FILE = "samples.npz"
_PLACEHOLDER = re.compile(r"\{(task|seed|rerun|out)\}")


@dataclass(frozen=True, slots=True)
class RunResults:
    """What a run left on disk: metrics, file hashes, sample arrays, and any problems."""

    metrics: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    samples: dict[str, list[int]] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the results were read without a problem."""
        return not self.problems


def substitute(template: str, values: dict[str, Any], quote=None) -> str:
    """Replace ``{task}``, ``{seed}``, ``{rerun}``, ``{out}`` in ``template``.

    ``quote`` (for example :func:`shlex.quote`) is applied to each substituted value.

    Examples
    --------
    >>> import shlex
    >>> substitute("run.py {task} --out {out}", {"task": "a b", "out": "/tmp/x"}, shlex.quote)
    "run.py 'a b' --out /tmp/x"
    """

    def repl(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        text = str(values[name])
        return quote(text) if quote else text

    return _PLACEHOLDER.sub(repl, template)


def sha256_path(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """SHA-256 hex digest of one file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def _kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    import stat

    for test, name in (
        (stat.S_ISLNK, "a symlink"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a folder"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _not_regular(path: str | os.PathLike, label: str) -> str | None:
    """Why ``path`` is not a plain regular file parity may read (named ``label``), or None."""
    import stat

    from parity._format import visible

    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None  # absent: the caller says so
    if stat.S_ISREG(mode):
        return None
    what = _kind(mode)
    if stat.S_ISLNK(mode):
        what += f" (to {visible(os.readlink(path))})"
    return (
        f"{visible(label)}: {what}; a run's results are regular files and folders only, "
        "so it was not read"
    )


def scan_folder(folder: str | os.PathLike) -> tuple[dict[str, str], list[str]]:
    """sha256 of every regular file under ``folder`` (keyed by its POSIX path relative to the
    folder), and one problem for each symlink or special file found (named, never followed or
    read: a link could point at a secret, a pipe would block).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = Path(d, "metrics.json").write_text("{}")
    ...     Path(d, "notes.txt").symlink_to("/etc/hostname")
    ...     files, problems = scan_folder(d)
    >>> list(files), problems[0].split(";")[0]
    (['metrics.json'], 'notes.txt: a symlink (to /etc/hostname)')
    """
    files, problems, _ = _scan(os.fspath(Path(folder)))
    return files, problems


def _scan(top: str, keep: str | None = None) -> tuple[dict[str, str], list[str], bytes | None]:
    """:func:`scan_folder` of the folder ``top``, in the order ``os.walk`` visits it (a folder's
    entries by name, then its subfolders'), plus the bytes of the regular file ``keep`` (a
    relative path) when there is one: read once, for its hash and its caller.

    Entries are told apart by ``os.scandir``'s file types, which cost no system call where the
    file system reports them; a folder that cannot be listed is passed over, as ``os.walk``
    does.
    """
    out: dict[str, str] = {}
    problems: list[str] = []
    kept = None
    stack = [(top, "")]
    while stack:
        root, below = stack.pop()
        try:
            with os.scandir(root) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError:
            continue
        folders = []
        for entry in entries:
            rel = below + entry.name
            if entry.is_dir(follow_symlinks=False):
                folders.append((entry.path, rel + "/"))
            elif not entry.is_file(follow_symlinks=False):  # never followed or read
                problems.append(_not_regular(entry.path, rel) or f"{rel}: not a regular file")
            elif rel == keep:
                with open(entry.path, "rb") as fh:
                    kept = fh.read()
                out[rel] = hashlib.sha256(kept).hexdigest()
            else:
                out[rel] = sha256_path(entry.path)
        stack.extend(reversed(folders))
    return dict(sorted(out.items())), problems, kept


def hash_folder(folder: str | os.PathLike) -> dict[str, str]:
    """sha256 of every regular file under ``folder``, keyed by its POSIX path relative to the
    folder (symlinks and special files are left out: see :func:`scan_folder`).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = Path(d, "metrics.json").write_text("{}")
    ...     hash_folder(d)
    {'metrics.json': '44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a'}
    """
    return scan_folder(folder)[0]


def read_metrics(
    path: str | os.PathLike, data: bytes | None = None
) -> tuple[dict[str, Any], str | None]:
    """Read a metrics JSON object; returns ``(metrics, problem)`` with problem None when fine.

    Values are kept as found (a NaN or a string stays so, for the validity checks to report).
    ``data``: the bytes of the regular file ``path`` when they have been read already.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = Path(d, "m.json").write_text('{"return": 1.5, "steps": 100}')
    ...     read_metrics(Path(d, "m.json"))
    ({'return': 1.5, 'steps': 100}, None)
    """
    path = Path(path)
    problem = None if data is not None else _not_regular(path, str(path))
    if problem is not None:
        return {}, problem
    try:  # the one reader's words (parity.io), kept as the run's problem
        text = read_text(path) if data is None else decode_text(data, str(path))
        data = parse_json(text, str(path))
    except ParityInputError as exc:
        missing = not path.exists()
        hint = f"; a run must write {METRICS_FILE} (name → number)" if missing else ""
        return {}, f"{exc}{hint}"
    if not isinstance(data, dict):
        return {}, (
            f"{path}: must be a JSON object of metric name → number; got {type(data).__name__}"
        )
    return data, None


def npz_shapes(path: str | os.PathLike) -> dict[str, list[int]]:
    """Names and shapes of the arrays in an ``.npz`` file, read from the headers only.

    Raises ``ValueError`` when the file is not a readable ``.npz``.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> with tempfile.TemporaryDirectory() as d:
    ...     np.savez(f"{d}/samples.npz", actions=np.zeros((5, 2)), obs=np.zeros(3))
    ...     npz_shapes(f"{d}/samples.npz")
    {'actions': [5, 2], 'obs': [3]}
    """
    from numpy.lib import format as npformat

    shapes = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                with archive.open(info) as fh:
                    version = npformat.read_magic(fh)
                    if version == (1, 0):
                        shape, _, _ = npformat.read_array_header_1_0(fh)
                    else:
                        shape, _, _ = npformat.read_array_header_2_0(fh)
                shapes[info.filename[: -len(".npy")]] = [int(n) for n in shape]
    except (OSError, ValueError, zipfile.BadZipFile, KeyError, EOFError, zlib.error) as exc:
        raise ValueError(f"{path}: not a readable .npz file ({exc})") from None
    return dict(sorted(shapes.items()))


def read_run_folder(folder: str | os.PathLike) -> RunResults:
    """Read a run folder: ``metrics.json``, the hash of every file, ``samples.npz`` arrays.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = Path(d, "metrics.json").write_text('{"return": 2.0}')
    ...     r = read_run_folder(d)
    ...     r.metrics, list(r.files), r.ok
    ({'return': 2.0}, ['metrics.json'], True)
    """
    folder = Path(folder)
    files, problems, data = _scan(os.fspath(folder), keep=METRICS_FILE)
    metrics, problem = read_metrics(folder / METRICS_FILE, data)
    if problem and not any(p.startswith(f"{METRICS_FILE}: ") for p in problems):
        problems.append(problem)  # (a linked metrics.json is named once, by the scan)
    samples = {}
    if SAMPLES_FILE in files:
        try:
            samples = npz_shapes(folder / SAMPLES_FILE)
        except ValueError as exc:
            problems.append(str(exc))
    return RunResults(metrics, files, samples, tuple(problems))


def read_results_path(path: str | os.PathLike) -> RunResults | None:
    """Read what a ``results`` pattern names (see the module docs); None when it is absent."""
    path = Path(path)
    if path.is_dir():
        return read_run_folder(path)
    if path.name == METRICS_FILE and (path.is_file() or path.is_symlink()):
        return read_run_folder(path.parent)
    problem = _not_regular(path, str(path)) if os.path.lexists(path) else None
    if problem is not None:
        return RunResults({}, {}, {}, (problem,))
    if not path.is_file():
        return None
    metrics, problem = read_metrics(path)
    return RunResults(metrics, {path.name: sha256_path(path)}, {}, (problem,) if problem else ())


def results_location(manifest: Any, manifest_dir: Path, key: RunKey) -> Path:
    """Where a ``results`` system keeps the run ``key`` (absolute)."""
    spec = manifest.systems[key.system]
    base = manifest_dir / spec.cwd if spec.cwd else manifest_dir
    rendered = substitute(spec.results, {"task": key.task, "seed": key.seed, "rerun": key.rerun})
    return (base / os.path.expanduser(rendered)).absolute()


def relative_to_manifest(path: Path, manifest_dir: Path) -> str:
    """``path`` relative to the manifest's folder (POSIX) when inside it, else absolute."""
    path, base = Path(os.path.abspath(path)), Path(os.path.abspath(manifest_dir))
    try:
        return path.relative_to(base).as_posix() or "."
    except ValueError:
        return str(path)


def ingest_key(manifest: Any, manifest_dir: Path, key: RunKey) -> RunRecord | None:
    """The record of a ``results`` system's run, or None when its results are absent."""
    location = results_location(manifest, manifest_dir, key)
    results = read_results_path(location)
    if results is None:
        return None
    folder = location if location.is_dir() else location.parent
    return RunRecord(
        key=key,
        status="ok" if results.ok else "failed",
        metrics=results.metrics,
        files=results.files,
        samples=results.samples,
        out_dir=relative_to_manifest(folder, manifest_dir),
        stderr_tail="\n".join(f"parity: {p}" for p in results.problems),
        source="ingest",
    )
