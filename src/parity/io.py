"""Load samples and episodes from files: ``.npy``, ``.npz``, CSV, JSONL and JSON.

A *spec* names a file and, optionally, what to take from it:

- ``FILE.npz:array`` picks one array of an archive (the only array is taken when there is one);
- ``FILE.csv:col`` / ``FILE.jsonl:a,b`` picks columns (fields) of a table, in that order.

The colon is only read as a separator when what precedes the last colon ends with a supported
extension, so ``C:\\data\\x.npy`` stays a path.

Samples are float64 arrays of shape (n, d); episodes are (episodes × T × d) arrays, or a list of
(T_e × d) arrays when episodes differ in length. Every bad input raises
:class:`~parity.errors.ParityInputError` with one line that names the file (and the array,
column or line), states the rule and shows what was found, e.g.
``ref.npz: array `actions` has 3 NaN/inf values (rows 4, 17, 90); values must be finite``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from parity.errors import ParityInputError

__all__ = [
    "JSON_DIGITS",
    "MIN_SAMPLES",
    "MIN_STEPS",
    "SUPPORTED_EXTENSIONS",
    "TextSamples",
    "is_text_samples",
    "json_dumps",
    "load_episodes",
    "load_observation_samples",
    "load_samples",
    "load_text_samples",
    "loads_json",
    "parse_spec",
    "provenance",
    "read_text",
    "round_floats",
    "sha256_file",
    "write_atomic",
]

StrPath = str | os.PathLike[str]

#: File extensions the loaders read (matched case-insensitively).
SUPPORTED_EXTENSIONS: tuple[str, ...] = (".npy", ".npz", ".csv", ".jsonl", ".json")
#: Fewest samples (rows) :func:`load_samples` accepts.
MIN_SAMPLES = 2
#: Fewest steps an episode of :func:`load_episodes` may have.
MIN_STEPS = 2

_SHOWN = 5  # positions listed in a message before "…"
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_EMPTY_HINT = {
    ".npy": "expected a NumPy .npy array",
    ".npz": "expected a NumPy .npz archive",
    ".csv": "a CSV file needs a header row naming the columns, then data rows",
    ".jsonl": "expected one JSON object per line",
    ".json": "expected a JSON list of records",
}


# --------------------------------------------------------------------------------------------
# public API


def parse_spec(spec: StrPath) -> tuple[Path, str | None]:
    """Split ``"FILE.npz:array"`` into the file path and the array (or column) name.

    Only the last colon splits, and only when the text before it ends with a supported
    extension (``.npz``, ``.npy``, ``.csv``, ``.jsonl``, ``.json``, any case); otherwise the whole
    spec is the path. An empty name (``"x.npz:"``) means no name. A ``PathLike`` is taken as a
    path as is, never split.

    Parameters
    ----------
    spec : str or os.PathLike
        ``FILE`` or ``FILE:NAME``.

    Returns
    -------
    path : pathlib.Path
    name : str or None

    Examples
    --------
    >>> path, name = parse_spec("ref.npz:actions")
    >>> path.name, name
    ('ref.npz', 'actions')
    >>> parse_spec("C:/runs/orig.npy")[1] is None
    True
    """
    if not isinstance(spec, str):
        return Path(spec), None
    head, sep, tail = spec.rpartition(":")
    if sep and head.lower().endswith(SUPPORTED_EXTENSIONS):
        return Path(head), tail or None
    return Path(spec), None


def load_samples(spec: StrPath, *, name: str | None = None) -> np.ndarray:
    """Load samples as a finite float64 array of shape (n, d), n ≥ 2; 1-D input means d = 1.

    Formats, chosen by extension:

    - ``.npy``: a 1-D or 2-D numeric (bool, integer or float) array;
    - ``.npz``: the array named by ``FILE.npz:array`` (or ``name``), or the only array;
    - ``.csv``: a header row naming the columns, then rows of numbers (all columns are loaded);
    - ``.jsonl``: one JSON object per line; its fields become columns in the first line's key
      order, and a field holding a list of numbers becomes that many columns. Every line must
      have the same keys and list lengths. Lines may instead be lists of numbers or numbers;
    - ``.json``: a list of such records.

    ``true``/``false`` in JSON count as 1/0. Blank lines are skipped.

    Parameters
    ----------
    spec : str or os.PathLike
        ``FILE`` or ``FILE:NAME`` (see :func:`parse_spec`).
    name : str, optional
        The array of an ``.npz`` archive, or for tables the column(s) to load, comma-separated
        (``"x,y"``; a JSON list field gives all its columns). Same meaning as the ``:NAME`` part
        of the spec; giving both with different values is an error.

    Returns
    -------
    numpy.ndarray
        float64, shape (n, d).

    Raises
    ------
    parity.errors.ParityInputError
        Missing, unreadable or malformed file; unsupported extension; unknown or ambiguous array
        or column; non-numeric values; not 1-D/2-D; fewer than 2 rows; NaN/inf values.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     np.savez(f"{d}/ref.npz", actions=np.zeros((4, 2)), obs=np.ones(4))
    ...     load_samples(f"{d}/ref.npz:actions").shape
    (4, 2)
    """
    path, label, ext, name = _resolve(spec, name)
    if ext in (".npy", ".npz"):
        arr, subject = _load_array(path, label, ext, name)
        return _samples_from_array(arr, subject)
    table = _read_table(path, label, ext)
    data = _numeric_block(table, _select_fields(table, name))
    subject = f"{label}: table"
    _check_has_columns(data, subject)
    _check_min_rows(data, subject)
    _check_finite(data, subject, table.unit, table.positions)
    return data


def load_episodes(
    spec: StrPath, *, name: str | None = None, episode_column: str = "episode"
) -> np.ndarray | list[np.ndarray]:
    """Load episodes (trajectories) for trajectory metrics.

    - A 3-D numeric array (episodes × T × d) from ``.npy``/``.npz`` is returned as float64.
    - A 2-D array (T × d) is one episode: shape (1, T, d).
    - A table (CSV, JSONL, JSON; see :func:`load_samples`) with an ``episode_column`` is grouped
      by that column, in order of first appearance (rows of an episode keep their file order,
      contiguous or not), into (T_e × d) arrays without the episode column. Episode ids may be
      strings or numbers. If all episodes have the same length the result is stacked into one
      (episodes × T × d) array, otherwise it is a list.
    - A table without the episode column is one episode: shape (1, T, d).

    Every episode needs at least 2 steps; values must be finite.

    Parameters
    ----------
    spec : str or os.PathLike
        ``FILE`` or ``FILE:NAME`` (see :func:`parse_spec`).
    name : str, optional
        As in :func:`load_samples`; the episode column is always used for grouping, whether or
        not it is named.
    episode_column : str, default ``"episode"``
        Name of the column (field) holding the episode id in tables.

    Returns
    -------
    numpy.ndarray or list of numpy.ndarray
        float64 (episodes × T × d), or a list of (T_e × d) arrays of unequal lengths.

    Raises
    ------
    parity.errors.ParityInputError
        As :func:`load_samples`, plus: not 2-D/3-D, no episodes, an episode with < 2 steps,
        an empty or non-scalar episode id.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = Path(f"{d}/roll.csv").write_text("episode,x\\n0,1\\n0,2\\n1,3\\n1,4\\n1,5\\n")
    ...     [e.shape for e in load_episodes(f"{d}/roll.csv")]
    [(2, 1), (3, 1)]
    """
    path, label, ext, name = _resolve(spec, name)
    if ext in (".npy", ".npz"):
        arr, subject = _load_array(path, label, ext, name)
        return _episodes_from_array(arr, subject)

    table = _read_table(path, label, ext)
    grouped = episode_column in table.fields
    fields = _select_fields(table, name, exclude=episode_column if grouped else None)
    data = _numeric_block(table, fields)
    subject = f"{label}: table"
    _check_has_columns(data, subject)
    _check_finite(data, subject, table.unit, table.positions)
    if not grouped:
        if data.shape[0] < MIN_STEPS:
            raise ParityInputError(
                f"{subject} is one episode (no {_tick(episode_column)} column) of "
                f"{_count(data.shape[0], 'step')}; every episode needs at least {MIN_STEPS} steps"
            )
        return data[None]

    groups = _group_rows(table, episode_column)
    for key, rows in groups.items():
        if len(rows) < MIN_STEPS:
            raise ParityInputError(
                f"{label}: episode {key!r} has {_count(len(rows), 'step')} "
                f"({table.unit} {table.positions[rows[0]]}); "
                f"every episode needs at least {MIN_STEPS} steps"
            )
    episodes = [data[np.asarray(rows)] for rows in groups.values()]
    if len({e.shape[0] for e in episodes}) == 1:
        return np.stack(episodes)
    return episodes


def provenance(spec: StrPath, **extra: Any) -> dict[str, Any]:
    """The record of an input: its spec as given and the sha256 of the file it names.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = Path(f"{d}/f.npz").write_bytes(b"abc")
    ...     record = provenance(f"{d}/f.npz:x", rows=3)
    >>> record["file_sha256"][:8], record["rows"]
    ('ba7816bf', 3)
    """
    return {"path": str(spec), "file_sha256": sha256_file(parse_spec(spec)[0]), **extra}


def sha256_file(path: StrPath, *, chunk_size: int = 1 << 20) -> str:
    """Return the SHA-256 hex digest of a file, read in chunks of ``chunk_size`` bytes.

    ``path`` is a plain path (no ``:NAME`` part; use :func:`parse_spec` first for a spec).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = Path(f"{d}/f.txt").write_bytes(b"abc")
    ...     sha256_file(f"{d}/f.txt")
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    """
    label = os.fspath(path)
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(chunk_size):
                digest.update(chunk)
    except FileNotFoundError:
        raise ParityInputError(f"{label}: file not found") from None
    except IsADirectoryError:
        raise ParityInputError(f"{label}: is a directory, not a file") from None
    except OSError as exc:
        raise ParityInputError(f"{label}: cannot read file ({exc.strerror or exc})") from None
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# small formatting helpers


def _tick(text: str) -> str:
    """``text`` in backticks, on one line."""
    return "`" + str(text).replace("\r", "\\r").replace("\n", "\\n") + "`"


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _names(names: Sequence[str], limit: int = 20) -> str:
    shown = ", ".join(_tick(n) for n in names[:limit])
    return shown + (", …" if len(names) > limit else "")


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _reason(exc: BaseException) -> str:
    return _one_line(f"{type(exc).__name__}: {exc}")


# --------------------------------------------------------------------------------------------
# files


def _resolve(spec: StrPath, name: str | None) -> tuple[Path, str, str, str | None]:
    """Parse the spec, merge ``name``, and check the extension and that the file is there."""
    path, spec_name = parse_spec(spec)
    label = str(path)
    if name is not None and spec_name is not None and name != spec_name:
        raise ParityInputError(
            f"{label}: two different names given: {_tick(spec_name)} in the spec and "
            f"name={name!r}; give one"
        )
    if name is None:
        name = spec_name
    ext = path.suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        found = repr(path.suffix) if path.suffix else "no extension"
        raise ParityInputError(
            f"{label}: unsupported file type ({found}); "
            f"supported: {', '.join(SUPPORTED_EXTENSIONS)}"
        )
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ParityInputError(f"{label}: file not found") from None
    except OSError as exc:
        raise ParityInputError(f"{label}: cannot access file ({exc.strerror or exc})") from None
    if path.is_dir():
        raise ParityInputError(f"{label}: is a directory, not a file")
    if st.st_size == 0:
        raise ParityInputError(f"{label}: file is empty; {_EMPTY_HINT[ext]}")
    return path, label, ext, name


def _read_head(path: Path, label: str, n: int = 6) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(n)
    except OSError as exc:
        raise ParityInputError(f"{label}: cannot read file ({exc.strerror or exc})") from None


def _is_object_array_error(exc: BaseException) -> bool:
    return isinstance(exc, ValueError) and "object array" in str(exc).lower()


def _non_numeric(subject: str, dtype: Any) -> ParityInputError:
    return ParityInputError(
        f"{subject} has non-numeric dtype {dtype}; expected numbers (bool, integer or float)"
    )


def _np_load(path: Path, label: str, ext: str) -> Any:
    """``np.load`` without pickle; any failure becomes a one-line ParityInputError."""
    head = _read_head(path, label)
    if ext == ".npy" and head.startswith(_ZIP_MAGICS):
        raise ParityInputError(f"{label}: is an .npz archive, not a .npy array; rename it to .npz")
    if ext == ".npz" and head.startswith(_NPY_MAGIC):
        raise ParityInputError(f"{label}: is a .npy array, not an .npz archive; rename it to .npy")
    if not head.startswith((_NPY_MAGIC, *_ZIP_MAGICS)):
        raise ParityInputError(
            f"{label}: not a NumPy {ext} file (it does not start with the {ext} signature)"
        )
    if ext == ".npy":
        try:
            with open(path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                _check_declared_size(fh, size, f"{label}: array")
        except OSError as exc:
            raise ParityInputError(f"{label}: cannot read file ({exc.strerror or exc})") from None
    try:
        return np.load(path, allow_pickle=False)
    except MemoryError:
        raise
    except Exception as exc:
        if _is_object_array_error(exc):
            raise _non_numeric(f"{label}: array", "object") from None
        raise ParityInputError(f"{label}: cannot read {ext} file ({_reason(exc)})") from exc


def _human_bytes(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if n < 1024 or unit == "EiB":
            return f"{n} bytes" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)  # pragma: no cover


def _check_declared_size(fh: Any, available: int, subject: str) -> None:
    """Read the ``.npy`` header at ``fh`` and refuse, before anything is allocated, a shape
    whose bytes exceed what the file holds after its header or
    :data:`parity.limits.MAX_ARRAY_BYTES`.
    A header numpy cannot parse is left for ``np.load`` to report."""
    from numpy.lib import format as npy_format

    from parity.limits import MAX_ARRAY_BYTES

    try:
        version = npy_format.read_magic(fh)
        reader = getattr(npy_format, "_read_array_header", None)
        if reader is not None:
            shape, _, dtype = reader(fh, version)
        elif version == (1, 0):
            shape, _, dtype = npy_format.read_array_header_1_0(fh)
        else:
            shape, _, dtype = npy_format.read_array_header_2_0(fh)
    except Exception:
        return
    declared = math.prod(int(k) for k in shape) * int(dtype.itemsize)
    room = available - fh.tell()
    shown = "×".join(str(k) for k in shape) or "scalar"
    if declared > MAX_ARRAY_BYTES:
        raise ParityInputError(
            f"{subject}: header declares shape ({shown}) of {dtype}, "
            f"{_human_bytes(declared)}; arrays may hold at most {_human_bytes(MAX_ARRAY_BYTES)}"
        )
    if declared > room:
        raise ParityInputError(
            f"{subject}: header declares shape ({shown}) of {dtype}, {_human_bytes(declared)}, "
            f"but the file holds {_human_bytes(max(room, 0))} after its header (truncated or "
            "forged)"
        )


def _check_member_size(archive: Any, name: str, subject: str) -> None:
    """:func:`_check_declared_size` for the member ``name`` of an ``.npz`` archive (its room:
    the uncompressed size the archive records for it)."""
    zf = getattr(archive, "zip", None)
    if zf is None:
        return
    member = name if name in zf.namelist() else f"{name}.npy"
    try:
        info = zf.getinfo(member)
        with zf.open(info) as fh:
            _check_declared_size(fh, info.file_size, subject)
    except ParityInputError:
        raise
    except Exception as exc:
        raise ParityInputError(f"{subject}: cannot read ({_reason(exc)})") from None


def _load_array(path: Path, label: str, ext: str, name: str | None) -> tuple[np.ndarray, str]:
    """Return the array and the subject used in messages (``"ref.npz: array `a`"``)."""
    if ext == ".npy":
        if name is not None:
            raise ParityInputError(
                f"{label}: an array name ({_tick(name)}) only applies to .npz archives and "
                f"tables; a .npy file holds one array"
            )
        arr = _np_load(path, label, ext)
        return arr, f"{label}: array"

    archive = _np_load(path, label, ext)
    with archive:
        names = list(archive.files)
        if not names:
            raise ParityInputError(f"{label}: archive holds no arrays")
        if name is None:
            if len(names) > 1:
                raise ParityInputError(
                    f"{label}: archive holds {len(names)} arrays ({_names(names)}); "
                    f"name one as {label}:ARRAY"
                )
            name = names[0]
        elif name not in names:
            raise ParityInputError(
                f"{label}: no array {_tick(name)} in the archive; available: {_names(names)}"
            )
        subject = f"{label}: array {_tick(name)}"
        _check_member_size(archive, name, subject)
        try:
            arr = archive[name]
        except MemoryError:
            raise
        except Exception as exc:
            if _is_object_array_error(exc):
                raise _non_numeric(subject, "object") from None
            raise ParityInputError(f"{subject}: cannot read ({_reason(exc)})") from exc
    if not isinstance(arr, np.ndarray):
        raise ParityInputError(f"{subject} is not a NumPy array (not a .npy member)")
    return arr, subject


# --------------------------------------------------------------------------------------------
# array checks


def _check_numeric(arr: np.ndarray, subject: str) -> None:
    if arr.dtype.kind not in "biuf":
        raise _non_numeric(subject, arr.dtype)


def _check_has_columns(data: np.ndarray, subject: str) -> None:
    if data.shape[-1] < 1:
        raise ParityInputError(
            f"{subject} has no columns (shape {data.shape}); at least one is needed"
        )


def _check_min_rows(data: np.ndarray, subject: str) -> None:
    if data.shape[0] < MIN_SAMPLES:
        raise ParityInputError(
            f"{subject} has {_count(data.shape[0], 'sample')} "
            f"({'row' if data.shape[0] == 1 else 'rows'}); "
            f"at least {MIN_SAMPLES} are needed"
        )


def _check_finite(
    data: np.ndarray, subject: str, unit: str, labels: Sequence[int] | None = None
) -> None:
    """Raise if ``data`` has NaN/inf; name the count and the first rows (axis 0) holding them.

    ``labels[i]`` is how row ``i`` is called in the message (a line number, say).
    """
    bad = ~np.isfinite(data)
    if not bad.any():
        return
    rows = np.flatnonzero(bad.reshape(bad.shape[0], -1).any(axis=1))
    shown = [int(labels[r]) if labels is not None else int(r) for r in rows[:_SHOWN]]
    where = ", ".join(str(p) for p in shown) + (", …" if rows.size > _SHOWN else "")
    n_bad = int(bad.sum())
    raise ParityInputError(
        f"{subject} has {n_bad} NaN/inf {'value' if n_bad == 1 else 'values'} "
        f"({unit if rows.size == 1 else unit + 's'} {where}); values must be finite"
    )


def _samples_from_array(arr: np.ndarray, subject: str) -> np.ndarray:
    _check_numeric(arr, subject)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        hint = (
            "; for episodes × T × d data load it as episodes (load_episodes) instead"
            if arr.ndim == 3
            else ""
        )
        raise ParityInputError(
            f"{subject} is {arr.ndim}-D with shape {arr.shape}; samples must be 1-D (n) or "
            f"2-D (n × d){hint}"
        )
    data = np.asarray(arr, dtype=np.float64)
    _check_has_columns(data, subject)
    _check_min_rows(data, subject)
    _check_finite(data, subject, "row")
    return data


def _episodes_from_array(arr: np.ndarray, subject: str) -> np.ndarray:
    _check_numeric(arr, subject)
    if arr.ndim not in (2, 3):
        raise ParityInputError(
            f"{subject} is {arr.ndim}-D with shape {arr.shape}; episodes must be 2-D "
            f"(T × d, one episode) or 3-D (episodes × T × d)"
        )
    data = np.asarray(arr, dtype=np.float64)
    _check_has_columns(data, subject)
    if data.ndim == 2:
        if data.shape[0] < MIN_STEPS:
            raise ParityInputError(
                f"{subject} is one episode of {_count(data.shape[0], 'step')} (shape "
                f"{data.shape}); every episode needs at least {MIN_STEPS} steps"
            )
        _check_finite(data, subject, "row")
        return data[None]
    if data.shape[0] < 1:
        raise ParityInputError(f"{subject} has no episodes (shape {data.shape})")
    if data.shape[1] < MIN_STEPS:
        raise ParityInputError(
            f"{subject} has episodes of {_count(data.shape[1], 'step')} (shape {data.shape}); "
            f"every episode needs at least {MIN_STEPS} steps"
        )
    _check_finite(data, subject, "episode")
    return data


# --------------------------------------------------------------------------------------------
# tables (CSV, JSONL, JSON)


@dataclass(frozen=True, slots=True)
class _Table:
    """Raw records of a table file, before conversion to numbers."""

    label: str  # the file, for messages
    fields: tuple[str, ...]  # column / field names, in file order
    rows: list[tuple[Any, ...]]  # one raw value per field
    positions: list[int]  # where each row is: a line number (1-based) or an item index
    unit: str  # "line" or "item"
    field_word: str  # "column" or "field"
    convert: Callable[[Any], float | list[float]]  # raw value -> number(s); ValueError if not


def _read_table(path: Path, label: str, ext: str) -> _Table:
    if ext == ".csv":
        return _read_csv(path, label)
    if ext == ".jsonl":
        return _read_jsonl(path, label)
    return _read_json(path, label)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _csv_number(cell: str) -> float:
    text = cell.strip()
    if not text:
        raise ValueError("empty cell")
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"value {_one_line(repr(cell), 60)} is not a number") from None


def _csv_header(cells: list[str], label: str, line: int) -> tuple[str, ...]:
    names = tuple(c.strip() for c in cells)
    if all(_is_number(n) for n in names):
        raise ParityInputError(
            f"{label}: no header row (line {line} holds only numbers: "
            f"{_one_line(', '.join(names), 60)}); a CSV file needs a header row naming the columns"
        )
    for i, n in enumerate(names):
        if not n:
            raise ParityInputError(
                f"{label}: header (line {line}) has no name for column {i + 1}; "
                f"every column needs a name"
            )
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ParityInputError(
            f"{label}: header (line {line}) repeats column names {_names(dupes)}; "
            f"column names must be unique"
        )
    return names


def _read_csv(path: Path, label: str) -> _Table:
    """The table of the CSV file ``path``: header, rows of numbers and their line numbers; a ragged
    row or a cell that is not a number raises naming the file, line and column."""
    header: tuple[str, ...] | None = None
    rows: list[tuple[Any, ...]] = []
    positions: list[int] = []
    line = 0
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            for cells in reader:
                line = reader.line_num
                if not cells or (len(cells) == 1 and not cells[0].strip()):
                    continue  # blank line
                if header is None:
                    header = _csv_header(cells, label, line)
                    continue
                if len(cells) != len(header):
                    raise ParityInputError(
                        f"{label}: line {line} has {_count(len(cells), 'cell')} but the header "
                        f"has {_count(len(header), 'column')}; every row needs one cell per column"
                    )
                rows.append(tuple(cells))
                positions.append(line)
    except csv.Error as exc:
        raise ParityInputError(f"{label}: malformed CSV near line {line + 1} ({exc})") from None
    except UnicodeDecodeError as exc:
        raise ParityInputError(
            f"{label}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    except OSError as exc:
        raise ParityInputError(f"{label}: cannot read file ({exc.strerror or exc})") from None
    if header is None:
        raise ParityInputError(f"{label}: file is empty; {_EMPTY_HINT['.csv']}")
    return _Table(label, header, rows, positions, "line", "column", _csv_number)


def _json_text(value: Any) -> str:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return _one_line(text, 60)


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool | int | float):
        return "a number"
    if value is None:
        return "null"
    return "a string"


def _json_number(value: Any) -> float:
    if isinstance(value, bool | int | float):
        try:
            return float(value)
        except OverflowError:
            raise ValueError(f"value {_json_text(value)} is too large for a float") from None
    raise ValueError(f"value {_json_text(value)} is not a number")


def _json_numbers(value: Any) -> float | list[float]:
    if not isinstance(value, list):
        return _json_number(value)
    out = []
    for i, item in enumerate(value):
        try:
            out.append(_json_number(item))
        except ValueError as exc:
            raise ValueError(f"list item {i}: {exc}") from None
    return out


def _records_table(label: str, records: list[Any], positions: list[int], unit: str) -> _Table:
    """Check that the JSON records share one shape and return them as a raw table."""
    if not records:
        raise ParityInputError(f"{label}: no records; {_EMPTY_HINT['.json']}")
    first, p0 = records[0], positions[0]
    kind = _json_kind(first)
    if kind == "an object":
        fields = tuple(str(k) for k in first)
    elif kind == "a list":
        fields = tuple(str(i) for i in range(len(first)))
    elif kind == "a number":
        fields = ("0",)
    else:
        raise ParityInputError(
            f"{label}: {unit} {p0} is {kind}; records must be JSON objects, lists of numbers, "
            f"or numbers"
        )
    rows: list[tuple[Any, ...]] = []
    for rec, pos in zip(records, positions, strict=True):
        if _json_kind(rec) != kind:
            raise ParityInputError(
                f"{label}: {unit} {pos} is {_json_kind(rec)} but {unit} {p0} is {kind}; "
                f"every record must have the same form"
            )
        if kind == "an object":
            if rec.keys() != first.keys():
                missing = [k for k in first if k not in rec]
                extra = [k for k in rec if k not in first]
                parts = ([f"missing {_names(missing)}"] if missing else []) + (
                    [f"unexpected {_names(extra)}"] if extra else []
                )
                raise ParityInputError(
                    f"{label}: {unit} {pos} has other keys than {unit} {p0} "
                    f"({'; '.join(parts)}); every record must have the same keys"
                )
            rows.append(tuple(rec[k] for k in first))
        elif kind == "a list":
            if len(rec) != len(fields):
                raise ParityInputError(
                    f"{label}: {unit} {pos} has {_count(len(rec), 'value')} but {unit} {p0} has "
                    f"{len(fields)}; every record must have the same length"
                )
            rows.append(tuple(rec))
        else:
            rows.append((rec,))
    if kind == "an object":
        return _Table(label, fields, rows, positions, unit, "field", _json_numbers)
    return _Table(label, fields, rows, positions, unit, "column", _json_number)


def _read_jsonl(path: Path, label: str) -> _Table:
    records, _ = read_jsonl(path, label)
    if not records:
        raise ParityInputError(f"{label}: file is empty; {_EMPTY_HINT['.jsonl']}")
    return _records_table(label, [r for _, r in records], [n for n, _ in records], "line")


def read_text(path: StrPath, label: str | None = None) -> str:
    """The file's UTF-8 text (a leading BOM dropped), or a one-line :class:`ParityInputError`
    naming ``label`` (default: the path): not found, a directory, not UTF-8, unreadable."""
    label = os.fspath(path) if label is None else label
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise ParityInputError(f"{label}: file not found") from None
    except IsADirectoryError:
        raise ParityInputError(f"{label}: is a directory, not a file") from None
    except OSError as exc:
        raise ParityInputError(f"{label}: cannot read file ({exc.strerror or exc})") from None
    return decode_text(data, label)


def decode_text(data: bytes, label: str) -> str:
    """``data`` as UTF-8 text (a leading BOM dropped, line ends ``\\r\\n`` and ``\\r`` read as
    ``\\n``, as a text file opened in Python reads them), or a one-line
    :class:`ParityInputError` naming ``label``.

    Examples
    --------
    >>> decode_text(b"\\xef\\xbb\\xbfok\\r\\n", "a.txt")
    'ok\\n'
    >>> decode_text(b"\\xff", "a.txt")
    Traceback (most recent call last):
    ...
    parity.errors.ParityInputError: a.txt: not UTF-8 text (invalid start byte at byte 0)
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParityInputError(
            f"{label}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def loads_json(text: str) -> Any:
    """``json.loads`` for input files, whose every failure is a :class:`json.JSONDecodeError`
    (a ``ValueError``): nesting deeper than Python's recursion limit (about 1000 levels) or
    an integer of more than 4300 digits included, so that callers' one-line messages cover
    them (no RecursionError traceback).

    Examples
    --------
    >>> loads_json('{"a": [1, 2]}')
    {'a': [1, 2]}
    >>> loads_json("[" * 100_000 + "]" * 100_000)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    json.decoder.JSONDecodeError: nested too deeply (more than about ... levels): line 1 ...
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        limit = sys.getrecursionlimit()
        msg = f"nested too deeply (more than about {limit} levels)"
        raise json.JSONDecodeError(msg, text, 0) from None
    except ValueError as exc:  # e.g. an integer beyond Python's digit limit
        raise json.JSONDecodeError(_one_line(str(exc), 120), text, 0) from None


def parse_json(text: str, label: str) -> Any:
    """The JSON document ``text`` of the input ``label``, or the one wording of every reader:
    ``LABEL: not valid JSON (WHY at line L, column C)``.

    Examples
    --------
    >>> parse_json('{"a": 1}', "m.json")
    {'a': 1}
    >>> parse_json('{"a": 1,}', "m.json")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    parity.errors.ParityInputError: m.json: not valid JSON (Expecting ... at line 1, column 9)
    """
    try:
        return loads_json(text)
    except json.JSONDecodeError as exc:
        raise ParityInputError(
            f"{label}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None


def jsonl_records(
    text: str, label: str, *, skip_invalid: bool = False
) -> tuple[list[tuple[int, Any]], list[tuple[int, str]]]:
    """The records of JSONL ``text``: ``(line number, value)`` for every non-blank line, and
    ``(line number, problem)`` for the lines skipped as invalid JSON (only with
    ``skip_invalid``; otherwise the first raises).

    Lines end at ``\\n`` only (a U+2028 inside a JSON string does not split a record), a
    ``\\r`` before it is whitespace; the wording of a bad line is the one of every reader:
    ``LABEL: line N is not valid JSON (WHY at column C)``.

    Examples
    --------
    >>> jsonl_records('{"a": 1}\\n\\n[2]\\n', "x.jsonl")
    ([(1, {'a': 1}), (3, [2])], [])
    >>> jsonl_records('{"a": 1}\\n{"a"\\n', "x.jsonl", skip_invalid=True)
    ([(1, {'a': 1})], [(2, "not valid JSON (Expecting ':' delimiter at column 5)")])
    >>> jsonl_records('{"a"\\n', "x.jsonl")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    parity.errors.ParityInputError: x.jsonl: line 1 is not valid JSON (Expecting ... at column 5)
    """
    records: list[tuple[int, Any]] = []
    skipped: list[tuple[int, str]] = []
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            records.append((n, loads_json(line)))
        except json.JSONDecodeError as exc:
            problem = f"not valid JSON ({exc.msg} at column {exc.colno})"
            if not skip_invalid:
                raise ParityInputError(f"{label}: line {n} is {problem}") from None
            skipped.append((n, problem))
    return records, skipped


def read_jsonl(
    path: StrPath, label: str | None = None, *, skip_invalid: bool = False
) -> tuple[list[tuple[int, Any]], list[tuple[int, str]]]:
    """:func:`jsonl_records` of the file ``path`` read by :func:`read_text` (the one reader of
    parity's JSONL inputs: its errors name ``label``, default the path, and the line).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = Path(d, "a.jsonl").write_text('{"id": 1}\\n{"id": 2}\\n')
    ...     read_jsonl(Path(d, "a.jsonl"), "a.jsonl")
    ([(1, {'id': 1}), (2, {'id': 2})], [])
    """
    label = os.fspath(path) if label is None else label
    return jsonl_records(read_text(path, label), label, skip_invalid=skip_invalid)


#: Significant digits of every float parity writes to JSON (:func:`json_dumps`).
JSON_DIGITS = 12


def round_floats(value: Any, digits: int = JSON_DIGITS) -> Any:
    """``value`` with every finite float (in dicts, lists and tuples) rounded to ``digits``
    significant digits; other values as they are.

    Sums computed by multi-threaded BLAS differ in their last bits (about 1e-15 relative)
    with the thread count; rounded to 12 digits they print the same, so that reports are
    byte-identical across thread counts and machines (a value within 1e-15 of a rounding
    boundary can still differ in its 12th digit: the promise is for the rounded values).

    Examples
    --------
    >>> round_floats({"a": [0.1 + 0.2, 1e-300 / 3, 2, True], "b": 1 / 3})
    {'a': [0.3, 3.33333333333e-301, 2, True], 'b': 0.333333333333}
    """
    if isinstance(value, float):
        return float(f"{value:.{digits}g}") if math.isfinite(value) else value
    if isinstance(value, dict):
        return {k: round_floats(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [round_floats(v, digits) for v in value]
    return value


def json_value(value: Any, digits: int | None = JSON_DIGITS) -> Any:
    """``value`` as plain JSON data by parity's one policy (that of :func:`json_dumps`).

    - a finite float (numpy floats included) is rounded to ``digits`` significant digits
      (:func:`round_floats`; ``None``: kept exactly);
    - NaN, +inf and -inf become the strings ``"nan"``, ``"inf"`` and ``"-inf"`` (what
      ``to_dict()`` of every result already holds, and what ``float()`` reads back);
    - ``None`` stays ``null``: no value (not applicable, not computed), never a NaN;
    - strings are kept as they are: a task named ``"nan"`` stays the string ``"nan"``;
    - numpy integers, booleans and arrays become ``int``, ``bool`` and lists; tuples lists;
      mapping keys strings. Anything else is left for ``json.dumps`` to refuse.

    A field whose value may be non-finite therefore holds a number or one of those three
    strings; readers decode it with ``float(value)``.

    Examples
    --------
    >>> json_value({"p": float("nan"), "ci": (0.9, np.inf), "task": "nan", "n": np.int64(3)})
    {'p': 'nan', 'ci': [0.9, 'inf'], 'task': 'nan', 'n': 3}
    """
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        if not math.isfinite(v):
            return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
        return v if digits is None else round_floats(v, digits)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, dict):
        return {str(k): json_value(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v, digits) for v in value]
    if isinstance(value, np.ndarray):
        return json_value(value.tolist(), digits)
    return value


def json_dumps(
    payload: Any,
    *,
    indent: int | None = 2,
    sort_keys: bool = False,
    digits: int | None = JSON_DIGITS,
) -> str:
    """The one JSON writer of parity: every JSON file and every JSON on stdout.

    Strict JSON (``allow_nan=False``), UTF-8 text (``ensure_ascii=False``), no final newline,
    values by :func:`json_value`: floats to ``digits`` significant digits (12: byte-identical
    across thread counts and machines; ``None`` keeps them exact), non-finite floats as the
    strings ``"nan"``, ``"inf"``, ``"-inf"``, ``None`` as ``null``, strings untouched.

    Examples
    --------
    >>> json_dumps({"p": 0.1 + 0.2}, indent=None)
    '{"p": 0.3}'
    >>> json_dumps({"ci": [0.9, float("inf")], "z": float("nan"), "id": "nan", "w": None},
    ...            indent=None)
    '{"ci": [0.9, "inf"], "z": "nan", "id": "nan", "w": null}'
    """
    return json.dumps(
        json_value(payload, digits),
        indent=indent,
        sort_keys=sort_keys,
        allow_nan=False,
        ensure_ascii=False,
    )


def json_text(payload: Any, *, sort_keys: bool = False) -> str:
    """The text of a JSON file: :func:`json_dumps` indented by 2, with a final newline.

    Examples
    --------
    >>> json_text({"b": float("-inf"), "a": 1}, sort_keys=True)
    '{\\n  "a": 1,\\n  "b": "-inf"\\n}\\n'
    """
    return json_dumps(payload, sort_keys=sort_keys) + "\n"


def write_atomic(path: StrPath, data: bytes | str) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` through a temporary file in the same folder
    renamed over it (``os.replace``), creating the folder; a reader sees the old file or the
    new one, never half of one. The file gets the usual mode (0o666 less the umask).

    Raises
    ------
    ParityInputError
        The place cannot be written (one line: the path and the system's reason).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = write_atomic(Path(d, "sub", "a.txt"), "hi")
    ...     p.read_text(), sorted(x.name for x in p.parent.iterdir())
    ('hi', ['a.txt'])
    """
    import tempfile

    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise ParityInputError(f"{path}: cannot write file ({exc.strerror or exc})") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return path


def _read_json(path: Path, label: str) -> _Table:
    doc = parse_json(read_text(path, label), label)
    if not isinstance(doc, list):
        raise ParityInputError(
            f"{label}: top level is {_json_kind(doc)}; expected a JSON list of records "
            f"(objects, lists of numbers, or numbers)"
        )
    return _records_table(label, doc, list(range(len(doc))), "item")


def _select_fields(table: _Table, name: str | None, exclude: str | None = None) -> list[str]:
    """The fields to load: all, or those named (comma-separated), less ``exclude``."""
    if name is None:
        fields = list(table.fields)
    else:
        wanted = [w.strip() for w in name.split(",")]
        if not all(wanted):
            raise ParityInputError(
                f"{table.label}: empty {table.field_word} name in the selection {name!r}"
            )
        for w in wanted:
            if w not in table.fields:
                raise ParityInputError(
                    f"{table.label}: no {table.field_word} {_tick(w)}; "
                    f"available: {_names(table.fields)}"
                )
        fields = list(dict.fromkeys(wanted))
    if exclude is not None:
        fields = [f for f in fields if f != exclude]
    if not fields:
        besides = f" besides {_tick(exclude)}" if exclude is not None else ""
        raise ParityInputError(f"{table.label}: no {table.field_word}s to load{besides}")
    return fields


def _width_text(width: int | None) -> str:
    return "a single number" if width is None else f"a list of {_count(width, 'number')}"


def _numeric_block(table: _Table, fields: Sequence[str]) -> np.ndarray:
    """Convert the chosen fields of every row to a float64 (n × d) array; list fields expand."""
    index = [table.fields.index(f) for f in fields]
    widths: list[int | None] = []
    out: list[list[float]] = []
    for r, row in enumerate(table.rows):
        flat: list[float] = []
        for k, (field, j) in enumerate(zip(fields, index, strict=True)):
            where = (
                f"{table.label}: {table.unit} {table.positions[r]}, "
                f"{table.field_word} {_tick(field)}"
            )
            try:
                value = table.convert(row[j])
            except ValueError as exc:
                raise ParityInputError(f"{where}: {exc}; values must be numbers") from None
            width = None if isinstance(value, float) else len(value)
            if r == 0:
                widths.append(width)
            elif width != widths[k]:
                raise ParityInputError(
                    f"{where}: holds {_width_text(width)} but {table.unit} {table.positions[0]} "
                    f"holds {_width_text(widths[k])}; every record must have the same lengths"
                )
            if isinstance(value, float):
                flat.append(value)
            else:
                flat.extend(value)
        out.append(flat)
    if not out:
        return np.empty((0, len(fields)), dtype=np.float64)
    return np.array(out, dtype=np.float64)


def _episode_key(value: Any) -> Any:
    """An episode id as a dict key: a non-empty string, or a finite number."""
    if isinstance(value, str):
        key = value.strip()
        if not key:
            raise ValueError("empty episode id")
        return key
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    raise ValueError(f"episode id {_json_text(value)} must be a string or a finite number")


def _group_rows(table: _Table, column: str) -> dict[Any, list[int]]:
    """Row indices per episode id, in order of first appearance."""
    j = table.fields.index(column)
    groups: dict[Any, list[int]] = {}
    for r, row in enumerate(table.rows):
        try:
            key = _episode_key(row[j])
        except ValueError as exc:
            raise ParityInputError(
                f"{table.label}: {table.unit} {table.positions[r]}, {table.field_word} "
                f"{_tick(column)}: {exc}"
            ) from None
        groups.setdefault(key, []).append(r)
    return groups


# --------------------------------------------------------------------------------------------
# text samples (completions of language models)

_TEXT_FORMS = "objects with `completion` (a string) or `tokens` (a list of token ids)"


@dataclass(frozen=True, slots=True)
class TextSamples:
    """Completions read by :func:`load_text_samples`.

    ``samples`` holds strings (``kind == "text"``) or tuples of token ids (``kind ==
    "tokens"``); ``prompts`` the prompt (text or id) of each sample, or ``None`` when the file
    has no prompt field.
    """

    prompts: tuple[str | int, ...] | None
    samples: tuple[str, ...] | tuple[tuple[int, ...], ...]
    kind: str


def _one_of(table: _Table, keys: tuple[str, str], required: bool) -> str | None:
    """The one field of ``keys`` the records have; error if both, or if none and required."""
    present = [k for k in keys if k in table.fields]
    if len(present) == 2:
        raise ParityInputError(
            f"{table.label}: records have both {_tick(keys[0])} and {_tick(keys[1])}; "
            f"give one of them"
        )
    if not present and required:
        raise ParityInputError(
            f"{table.label}: {table.unit} {table.positions[0]} has no {_tick(keys[0])} or "
            f"{_tick(keys[1])} field (fields: {_names(table.fields)}); text samples are "
            f"{_TEXT_FORMS}"
        )
    return present[0] if present else None


def _text_value(key: str, value: Any) -> str | int | tuple[int, ...]:
    """Check one raw field value; ValueError with the rule and what was found if it breaks it."""
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if key == "completion":
        if not isinstance(value, str):
            raise ValueError(f"must be a string; got {_json_text(value)}")
        return value
    if key == "tokens":
        if not isinstance(value, list):
            raise ValueError(f"must be a list of token ids; got {_json_text(value)}")
        for i, item in enumerate(value):
            if not (isinstance(item, int) and not isinstance(item, bool)) or item < 0:
                raise ValueError(
                    f"item {i} is {_json_text(item)}; token ids must be non-negative integers"
                )
        return tuple(value)
    if not (isinstance(value, str) or is_int):
        raise ValueError(f"must be a string or an integer id; got {_json_text(value)}")
    return value


def load_text_samples(path: StrPath) -> TextSamples:
    """Load completions from JSONL (or a JSON list) of objects, one completion per record.

    Each record is ``{"prompt": ..., "completion": "text"}`` or
    ``{"prompt_id": ..., "tokens": [17, 4, 9]}``: the sample field is ``completion`` (a string)
    or ``tokens`` (a list of non-negative integer token ids), the optional prompt field
    ``prompt`` or ``prompt_id`` (a string or an integer). Every record has the same fields;
    blank lines are skipped; at least 2 records are needed.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.jsonl`` (or ``.json``) file.

    Returns
    -------
    TextSamples

    Raises
    ------
    parity.errors.ParityInputError
        One line naming the file, the line and field, the rule and what was found.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = Path(f"{d}/a.jsonl").write_text(
    ...         '{"prompt_id": 0, "tokens": [1, 2]}\\n{"prompt_id": 1, "tokens": [3]}\\n')
    ...     load_text_samples(f"{d}/a.jsonl")
    TextSamples(prompts=(0, 1), samples=((1, 2), (3,)), kind='tokens')
    """
    path, label, ext, name = _resolve(path, None)
    if name is not None or ext not in (".jsonl", ".json"):
        found = f"{ext!r}" if name is None else f"a field selection {_tick(name)}"
        raise ParityInputError(
            f"{label}: text samples are read from a .jsonl (or .json) file of {_TEXT_FORMS}; "
            f"got {found}"
        )
    table = _read_jsonl(path, label) if ext == ".jsonl" else _read_json(path, label)
    if table.field_word != "field":
        raise ParityInputError(
            f"{label}: {table.unit} {table.positions[0]} is not a JSON object; text samples "
            f"are {_TEXT_FORMS}"
        )
    sample_key = _one_of(table, ("completion", "tokens"), required=True)
    prompt_key = _one_of(table, ("prompt", "prompt_id"), required=False)
    keys = [k for k in (sample_key, prompt_key) if k is not None]
    columns: dict[str, list[Any]] = {k: [] for k in keys}
    for row, pos in zip(table.rows, table.positions, strict=True):
        for key in keys:
            try:
                columns[key].append(_text_value(key, row[table.fields.index(key)]))
            except ValueError as exc:
                raise ParityInputError(
                    f"{label}: {table.unit} {pos}, field {_tick(key)} {exc}"
                ) from None
    if len(table.rows) < MIN_SAMPLES:
        raise ParityInputError(
            f"{label}: has {_count(len(table.rows), 'record')}; at least {MIN_SAMPLES} "
            f"completions are needed"
        )
    return TextSamples(
        prompts=tuple(columns[prompt_key]) if prompt_key else None,
        samples=tuple(columns[sample_key]),
        kind="text" if sample_key == "completion" else "tokens",
    )


def is_text_samples(spec: StrPath) -> bool:
    """Whether ``spec`` is a ``.jsonl``/``.json`` file whose first record has a ``completion``
    or ``tokens`` field (completions for :func:`load_text_samples`), judged from its first line.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = Path(f"{d}/a.jsonl").write_text('{"prompt": "hi", "completion": "hello"}\\n')
    ...     is_text_samples(f"{d}/a.jsonl"), is_text_samples(f"{d}/b.npy")
    (True, False)
    """
    path, _ = parse_spec(spec)
    if path.suffix.lower() not in (".jsonl", ".json") or not path.is_file():
        return False
    with path.open(encoding="utf-8", errors="replace") as handle:
        head = handle.read(1 << 16).lstrip().lstrip("[").lstrip()
    first = head.split("\n", 1)[0]
    return any(f'"{key}"' in first for key in ("completion", "tokens"))


def load_observation_samples(
    spec: StrPath, *, name: str | None = None, observation_column: str = "observation"
) -> tuple[np.ndarray, tuple[Any, ...] | None]:
    """Load actions sampled on shared observations as (observations × k × d) float64.

    - ``.npy``/``.npz``: a 3-D array (observations × k × d), or 2-D (observations × k) for
      d = 1; observations are matched by position.
    - A table (CSV, JSONL, JSON) with an ``observation_column``: rows grouped by it in order of
      first appearance; every observation needs the same number k of rows. The ids are
      returned so that two files can be matched by id.

    Every observation needs k ≥ 2 samples; values must be finite.

    Returns
    -------
    (numpy.ndarray, tuple or None)
        The samples and the observation ids (None for arrays).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = Path(f"{d}/a.csv").write_text("observation,u\\n7,1\\n7,2\\n9,3\\n9,4\\n")
    ...     x, ids = load_observation_samples(f"{d}/a.csv")
    ...     x.shape, ids
    ((2, 2, 1), ('7', '9'))
    """
    path, label, ext, name = _resolve(spec, name)
    rule = "every observation needs the same number k ≥ 2 of samples"
    if ext in (".npy", ".npz"):
        arr, subject = _load_array(path, label, ext, name)
        _check_numeric(arr, subject)
        if arr.ndim not in (2, 3):
            raise ParityInputError(
                f"{subject} is {arr.ndim}-D with shape {arr.shape}; samples by observation are "
                "3-D (observations × k × d) or 2-D (observations × k, d = 1)"
            )
        data = np.asarray(arr, dtype=np.float64)
        data = data[:, :, None] if data.ndim == 2 else data
        if data.shape[0] < 1 or data.shape[1] < 2 or data.shape[2] < 1:
            raise ParityInputError(f"{subject} has shape {data.shape}; {rule} and d ≥ 1")
        _check_finite(data, subject, "observation")
        return data, None
    table = _read_table(path, label, ext)
    if observation_column not in table.fields:
        raise ParityInputError(
            f"{label}: no {_tick(observation_column)} column (fields: {_names(table.fields)}); "
            "a table of samples by observation names each row's observation there"
        )
    fields = _select_fields(table, name, exclude=observation_column)
    data = _numeric_block(table, fields)
    subject = f"{label}: table"
    _check_has_columns(data, subject)
    _check_finite(data, subject, table.unit, table.positions)
    groups = _group_rows(table, observation_column)
    sizes = sorted({len(rows) for rows in groups.values()})
    if len(sizes) != 1 or sizes[0] < 2:
        raise ParityInputError(
            f"{label}: {rule}; got between {sizes[0]} and {sizes[-1]} over {len(groups)} "
            "observations"
        )
    stacked = np.stack([data[np.asarray(rows)] for rows in groups.values()])
    return stacked, tuple(groups)
