"""Evidence bundles: a deterministic zip of reports, inputs' hashes and the environment.

A bundle is a zip file whose entries are the reports of a comparison or a suite, the resolved
manifest (or the compare arguments), the run records, ``inputs.json`` (input and result file →
sha256, the files themselves under ``data/`` when asked for), ``environment.json`` and
``SHA256SUMS`` (``sha256sum`` format, ``<hex>  <name>`` sorted by name) over every other entry.
With a signing key, ``SHA256SUMS.sig`` holds the Ed25519 signature of ``SHA256SUMS``.

The same entries give the same bytes: entries sorted by name, every timestamp 1980-01-01
00:00:00, permissions 0o644, deflate at level 9, no extra fields, no comment.

:func:`verify_bundle` recomputes every hash and, given a public key, checks the signature; it
names each file that is missing, extra or altered.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parity.errors import ParityInputError
from parity.report.escape import visible
from parity.stats._common import ResultMixin

__all__ = [
    "BUNDLE_NAME",
    "COMMAND_RECORDS",
    "SIGNATURE_NAME",
    "SUMS_NAME",
    "BundleCheck",
    "build_bundle",
    "bundle_summary",
    "command_entries",
    "comparison_entries",
    "environment_record",
    "generate_keypair",
    "json_bytes",
    "load_private_key",
    "load_public_key",
    "read_bundle",
    "suite_entries",
    "sums_text",
    "verify_bundle",
    "write_keypair",
]

#: The bundle a suite report writes into its folder.
BUNDLE_NAME = "evidence_bundle.zip"
#: The checksum file, in ``sha256sum`` format.
SUMS_NAME = "SHA256SUMS"
#: The Ed25519 signature of :data:`SUMS_NAME` (raw 64 bytes).
SIGNATURE_NAME = "SHA256SUMS.sig"
#: Packages whose versions go into ``environment.json``.
PACKAGES = ("parity", "numpy", "scipy", "click", "rich", "pydantic")

_DATE = (1980, 1, 1, 0, 0, 0)
_MODE = 0o100644 << 16  # regular file, rw-r--r--
_SUMS_LINE = re.compile(r"^([0-9a-f]{64})  (.+)$")
_RESERVED = (SUMS_NAME, SIGNATURE_NAME)

#: Largest entry (uncompressed bytes) a bundle may hold; reading streams it in chunks.
MAX_ENTRY_BYTES = 1 << 32
#: Largest total of a bundle's entries (uncompressed bytes).
MAX_TOTAL_BYTES = 1 << 36
#: Most entries in one bundle.
MAX_ENTRIES = 200_000
#: Highest compression ratio (uncompressed / compressed) of an entry over :data:`RATIO_FLOOR`
#: bytes; :func:`build_bundle` stores such an entry uncompressed instead.
MAX_RATIO = 100
#: Entries up to this size (bytes) may compress any amount.
RATIO_FLOOR = 1 << 20
#: Largest entry read whole (``SHA256SUMS``, the signature, a JSON record for ``bundle show``).
MAX_RECORD_BYTES = 64 << 20
_CHUNK = 1 << 20
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}


def json_bytes(payload: Any) -> bytes:
    """Canonical JSON bytes: :func:`parity.io.json_text` with keys sorted, as UTF-8.

    Examples
    --------
    >>> json_bytes({"b": 1, "a": [1.5]})
    b'{\\n  "a": [\\n    1.5\\n  ],\\n  "b": 1\\n}\\n'
    """
    from parity.io import json_text

    return json_text(payload, sort_keys=True).encode("utf-8")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a bundle entry, or None."""
    parts = name.split("/")
    if not name or name.startswith("/") or "\\" in name or any(p in ("", ".", "..") for p in parts):
        return "must be a relative POSIX path without '.', '..' or empty parts"
    if visible(name) != name:
        return "must not hold control characters (newlines, escapes)"
    return None


def _check_name(name: str) -> None:
    problem = _name_problem(name)
    if problem is None and name in _RESERVED:
        problem = f"must not be {SUMS_NAME} or {SIGNATURE_NAME}"
    if problem is not None:
        raise ParityInputError(f"bundle entry name {problem}; got {visible(repr(name))}")


def sums_text(entries: dict[str, bytes]) -> str:
    """The ``SHA256SUMS`` text of ``entries``: ``<hex>  <name>`` lines sorted by name.

    Examples
    --------
    >>> sums_text({"b.txt": b"", "a.txt": b"abc"}).splitlines()[0][:8]
    'ba7816bf'
    """
    return "".join(f"{_sha256(entries[name])}  {name}\n" for name in sorted(entries))


def build_bundle(
    path: str | os.PathLike[str],
    entries: dict[str, bytes],
    *,
    signing_key: Any = None,
) -> str:
    """Write a deterministic evidence bundle and return the sha256 of the zip file.

    Parameters
    ----------
    path : str or path
        The zip file to write (its folder is created; an existing file is replaced).
    entries : dict of str to bytes
        Entry name (relative POSIX path) → content. ``SHA256SUMS`` is added over them.
    signing_key : Ed25519PrivateKey, str or path, optional
        Signs ``SHA256SUMS`` into ``SHA256SUMS.sig``; a path names a PEM private key file.

    Returns
    -------
    str
        The hex sha256 of the bundle's bytes (the same entries give the same digest).

    Raises
    ------
    ParityInputError
        A bad entry name, or an unreadable signing key.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     a = build_bundle(f"{d}/a.zip", {"x.txt": b"1"})
    ...     b = build_bundle(f"{d}/b.zip", {"x.txt": b"1"})
    ...     check = verify_bundle(f"{d}/a.zip")
    >>> a == b, check.ok, check.signature
    (True, True, 'absent')
    """
    files: dict[str, bytes] = {}
    for name, data in entries.items():
        _check_name(name)
        files[name] = bytes(data)
        if len(files[name]) > MAX_ENTRY_BYTES:
            raise ParityInputError(
                f"bundle entry {name}: at most {MAX_ENTRY_BYTES} bytes; got {len(files[name])}"
            )
    total = sum(len(d) for d in files.values())
    if total > MAX_TOTAL_BYTES or len(files) + 2 > MAX_ENTRIES:
        raise ParityInputError(
            f"a bundle holds at most {MAX_ENTRIES} entries and {MAX_TOTAL_BYTES} bytes; "
            f"got {len(files)} entries, {total} bytes"
        )
    sums = sums_text(files).encode("utf-8")
    files[SUMS_NAME] = sums
    if signing_key is not None:
        key = signing_key if hasattr(signing_key, "sign") else load_private_key(signing_key)
        files[SIGNATURE_NAME] = key.sign(sums)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_DATE)
            info.create_system = 3
            info.external_attr = _MODE
            method = _compression(files[name])
            info.compress_type = method
            zf.writestr(info, files[name], compress_type=method, compresslevel=9)
    os.replace(tmp, target)
    return _file_sha256(target)


def _compression(data: bytes) -> int:
    """Deflate, unless that would make the entry exceed :data:`MAX_RATIO` (then stored)."""
    if len(data) <= RATIO_FLOOR:
        return zipfile.ZIP_DEFLATED
    packed = zlib.compressobj(9, zlib.DEFLATED, -15)
    size = len(packed.compress(data)) + len(packed.flush())
    return zipfile.ZIP_DEFLATED if len(data) <= MAX_RATIO * size else zipfile.ZIP_STORED


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def read_bundle(
    path: str | os.PathLike[str], *, max_bytes: int = MAX_RECORD_BYTES
) -> dict[str, bytes]:
    """Every file entry of a bundle: name → bytes, read through the guarded reader.

    Parameters
    ----------
    path : str or path
        The bundle.
    max_bytes : int
        Most bytes read in all (entries are held in memory); a larger bundle is refused, to be
        checked with :func:`verify_bundle`, which streams.

    Raises
    ------
    ParityInputError
        The file is missing, not a readable zip file, breaks a rule of :func:`bundle_entries`,
        or holds more than ``max_bytes``.
    """
    with _open_zip(path) as (zf, infos):
        files = [i for i in infos if not i.is_dir()]
        total = sum(i.file_size for i in files)
        if total > max_bytes:
            raise ParityInputError(
                f"{path}: {total} bytes of entries; at most {max_bytes} are read whole "
                "(`parity bundle verify` streams larger bundles)"
            )
        return {i.filename: _read_entry(zf, i, path, max_bytes) for i in files}


def _entry_problem(info: zipfile.ZipInfo) -> str | None:
    """Why an entry is refused outright (before reading a byte of it), or None."""
    import stat

    name = info.filename
    problem = _name_problem(name[:-1] if info.is_dir() else name)
    if problem is not None:
        return f"name {problem}"
    if info.flag_bits & 0x1:
        return "is encrypted"
    if info.compress_type not in _METHODS:
        return (
            f"uses compression method {info.compress_type}; a bundle's entries are "
            f"{' or '.join(_METHODS.values())}"
        )
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode) if info.create_system == 3 else 0
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        return f"is not a regular file (mode {oct(mode)}: a symlink or special file)"
    if info.file_size > MAX_ENTRY_BYTES:
        return f"holds {info.file_size} bytes; at most {MAX_ENTRY_BYTES}"
    if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        ratio = info.file_size / max(info.compress_size, 1)
        return (
            f"expands {ratio:.0f}-fold ({info.compress_size} to {info.file_size} bytes); "
            f"at most {MAX_RATIO}-fold above {RATIO_FLOOR} bytes"
        )
    return None


def _declared_entries(path: Path) -> int | None:
    """The entry count a zip's end-of-central-directory record declares (zip64 too), or None
    when there is no such record (zipfile then says what is wrong)."""
    import struct

    with open(path, "rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        fh.seek(max(0, size - (1 << 16) - 22))
        tail = fh.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            return None
        count = struct.unpack_from("<H", tail, at + 10)[0]
        locator = at - 20
        if count == 0xFFFF and locator >= 0 and tail[locator : locator + 4] == b"PK\x06\x07":
            offset = struct.unpack_from("<Q", tail, locator + 8)[0]
            fh.seek(offset)
            record = fh.read(56)
            if len(record) == 56 and record[:4] == b"PK\x06\x06":
                count = struct.unpack_from("<Q", record, 32)[0]
        return count


@contextmanager
def _open_zip(path: str | os.PathLike[str]):
    """The one guarded way into a bundle: yields ``(zipfile, entries)`` after checking every
    entry's name, type, method, encryption, size and ratio, their count and total size.

    Reading errors inside the block (a bad CRC, a truncated file) become one-line
    :class:`ParityInputError`\\ s too.
    """
    p = Path(path)
    shown = visible(str(p))
    if not p.is_file():
        raise ParityInputError(f"{shown}: file not found")
    try:
        declared = _declared_entries(p)
        if declared is not None and declared > MAX_ENTRIES:  # before zipfile reads them all
            raise ParityInputError(
                f"{shown}: {declared} entries; a bundle holds at most {MAX_ENTRIES}"
            )
        with zipfile.ZipFile(p) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_ENTRIES:
                raise ParityInputError(
                    f"{shown}: {len(infos)} entries; a bundle holds at most {MAX_ENTRIES}"
                )
            total = 0
            for info in infos:
                problem = _entry_problem(info)
                if problem is not None:
                    raise ParityInputError(
                        f"{shown}: entry {visible(repr(info.filename))} {problem}"
                    )
                total += info.file_size
            if total > MAX_TOTAL_BYTES:
                raise ParityInputError(
                    f"{shown}: entries hold {total} bytes; a bundle holds at most {MAX_TOTAL_BYTES}"
                )
            yield zf, infos
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        ValueError,
        zlib.error,
    ) as exc:
        if isinstance(exc, ParityInputError):
            raise
        reason = visible(" ".join(str(exc).split()))
        raise ParityInputError(f"{shown}: not a readable zip file ({reason})") from None
    except NotImplementedError as exc:  # a method zipfile cannot read, past our checks
        raise ParityInputError(f"{shown}: not a readable zip file ({exc})") from None


def _chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo):
    """An entry's bytes in chunks of at most 1 MiB (zipfile checks the size and the CRC)."""
    with zf.open(info) as fh:
        while chunk := fh.read(_CHUNK):
            yield chunk


def _entry_sha256(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    digest = hashlib.sha256()
    for chunk in _chunks(zf, info):
        digest.update(chunk)
    return digest.hexdigest()


def _read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where, limit: int) -> bytes:
    """An entry read whole, refused when it declares more than ``limit`` bytes."""
    if info.file_size > limit:
        raise ParityInputError(
            f"{visible(str(where))}: entry {visible(repr(info.filename))} holds "
            f"{info.file_size} bytes; at most {limit} are read whole"
        )
    return b"".join(_chunks(zf, info))


@dataclass(frozen=True, slots=True)
class BundleCheck(ResultMixin):
    """The result of :func:`verify_bundle`.

    ``missing`` are listed in ``SHA256SUMS`` but not in the zip; ``extra`` are in the zip but not
    listed (or occur twice); ``altered`` do not match their listed hash. ``signature`` is
    ``"valid"``, ``"invalid"``, ``"absent"`` (no ``SHA256SUMS.sig``) or ``"unchecked"`` (a
    signature but no public key). ``ok`` is true when nothing is missing, extra or altered, and
    the signature is valid or was not asked for.
    """

    ok: bool
    missing: tuple[str, ...]
    extra: tuple[str, ...]
    altered: tuple[str, ...]
    signature: str
    files: tuple[str, ...]

    def problems(self) -> list[str]:
        """One line per problem: ``missing: NAME``, ``extra: NAME``, ``altered: NAME``, …"""
        lines = [f"missing: {n}" for n in self.missing]
        lines += [f"extra: {n}" for n in self.extra]
        lines += [f"altered: {n}" for n in self.altered]
        if self.signature == "invalid":
            lines.append(f"signature: {SIGNATURE_NAME} does not match the public key")
        return lines


def _parse_sums(text: bytes, where: str) -> dict[str, str]:
    try:
        lines = text.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise ParityInputError(f"{where}: {SUMS_NAME} is not UTF-8 text") from None
    listed: dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        match = _SUMS_LINE.match(line)
        if match is None:
            raise ParityInputError(
                f"{where}: {SUMS_NAME} line {number} must read '<64 hex>  <name>'; "
                f"got {visible(repr(line[:200]))}"
            )
        problem = _name_problem(match.group(2))
        if problem is not None:
            raise ParityInputError(
                f"{where}: {SUMS_NAME} line {number}: a name {problem}; "
                f"got {visible(repr(match.group(2)))}"
            )
        listed[match.group(2)] = match.group(1)
    return listed


def verify_bundle(path: str | os.PathLike[str], public_key: Any = None) -> BundleCheck:
    """Recompute every hash of a bundle and, with a public key, check its signature.

    Parameters
    ----------
    path : str or path
        The bundle.
    public_key : Ed25519PublicKey, str or path, optional
        The signer's public key (or a PEM file). With one, an unsigned bundle does not pass.

    Returns
    -------
    BundleCheck

    Raises
    ------
    ParityInputError
        Not a readable zip file, no ``SHA256SUMS`` in it, a malformed ``SHA256SUMS``, or an
        unreadable public key.
    """
    with _open_zip(path) as (zf, infos):
        seen: set[str] = set()
        duplicates: set[str] = set()
        files: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            if info.is_dir():
                if info.file_size or info.compress_size > 2:  # 2: an empty deflate stream
                    duplicates.add(info.filename)  # a directory holding data: not listed
                continue
            if info.filename in seen:
                duplicates.add(info.filename)
            seen.add(info.filename)
            files[info.filename] = info
        if SUMS_NAME not in files:
            raise ParityInputError(
                f"{visible(str(path))}: not an evidence bundle (no {SUMS_NAME} entry)"
            )
        sums = _read_entry(zf, files[SUMS_NAME], path, MAX_RECORD_BYTES)
        sig = (
            _read_entry(zf, files[SIGNATURE_NAME], path, 1024) if SIGNATURE_NAME in files else None
        )
        listed = _parse_sums(sums, visible(str(path)))
        present = {n for n in files if n not in _RESERVED}
        missing = tuple(sorted(set(listed) - present))
        extra = tuple(sorted((present - set(listed)) | duplicates))
        hashed = {n: _entry_sha256(zf, files[n]) for n in sorted(present & set(listed))}
    altered = tuple(sorted(n for n, digest in hashed.items() if digest != listed[n]))
    signature = "absent" if sig is None else "unchecked"
    if public_key is not None:
        key = public_key if hasattr(public_key, "verify") else load_public_key(public_key)
        if signature == "unchecked":
            from cryptography.exceptions import InvalidSignature

            try:
                key.verify(sig, sums)
                signature = "valid"
            except InvalidSignature:
                signature = "invalid"
    signature_ok = signature in ("valid", "unchecked") or (
        signature == "absent" and public_key is None
    )
    ok = not (missing or extra or altered) and signature_ok
    return BundleCheck(ok, missing, extra, altered, signature, tuple(sorted(files)))


# --------------------------------------------------------------------------------------------
# keys


def generate_keypair() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair as PEM bytes: ``(private PKCS#8, public SubjectPublicKeyInfo)``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def write_keypair(
    private_path: str | os.PathLike[str],
    public_path: str | os.PathLike[str],
    *,
    force: bool = False,
) -> tuple[Path, Path]:
    """Write a new key pair: the private key with mode 0o600, the public one 0o644.

    Raises
    ------
    ParityInputError
        A file exists and ``force`` is false (nothing is written then), or both paths are one.
    """
    private, public = Path(private_path), Path(public_path)
    if private.resolve() == public.resolve():
        raise ParityInputError(f"the private and public key paths must differ; got {private}")
    if not force:
        for p in (private, public):
            if p.exists():
                raise ParityInputError(f"{p}: exists; pass --force to overwrite it")
    private_pem, public_pem = generate_keypair()
    for p, data, mode in ((private, private_pem, 0o600), (public, public_pem, 0o644)):
        p.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        try:
            os.fchmod(fd, mode)  # an overwritten file keeps its old mode otherwise
            os.write(fd, data)
        finally:
            os.close(fd)
    return private, public


def _read_key_file(path: str | os.PathLike[str]) -> bytes:
    p = Path(path)
    try:
        return p.read_bytes()
    except OSError as exc:
        raise ParityInputError(f"{p}: cannot read the key file ({exc.strerror})") from None


def load_private_key(path: str | os.PathLike[str]) -> Any:
    """The Ed25519 private key in a PEM file (unencrypted, as written by ``parity keygen``)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(_read_key_file(path), password=None)
    except (ValueError, TypeError) as exc:
        raise ParityInputError(f"{path}: not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ParityInputError(f"{path}: must be an Ed25519 private key; got {type(key).__name__}")
    return key


def load_public_key(path: str | os.PathLike[str]) -> Any:
    """The Ed25519 public key in a PEM file (as written by ``parity keygen``)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = serialization.load_pem_public_key(_read_key_file(path))
    except (ValueError, TypeError) as exc:
        raise ParityInputError(f"{path}: not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ParityInputError(f"{path}: must be an Ed25519 public key; got {type(key).__name__}")
    return key


# --------------------------------------------------------------------------------------------
# contents


def _git_commit(cwd: str | os.PathLike[str] | None) -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and re.fullmatch(r"[0-9a-f]{40,64}", commit) else None


def environment_record(cwd: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Python, platform, package versions and the git commit of ``cwd`` (or None).

    No timestamps and no host names, so the record is the same for every run in one
    environment.

    Examples
    --------
    >>> sorted(environment_record())
    ['git_commit', 'implementation', 'machine', 'packages', 'platform', 'python']
    """
    from importlib.metadata import PackageNotFoundError, version

    packages: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            packages[name] = version(name)
        except PackageNotFoundError:
            packages[name] = None
    return {
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "platform": sys.platform,
        "machine": platform.machine(),
        "packages": packages,
        "git_commit": _git_commit(cwd),
    }


def _data_name(path: str) -> str:
    parts = [p.replace(":", "_") for p in path.replace("\\", "/").split("/")]
    return "data/" + "/".join(p for p in parts if p not in ("", ".", ".."))


def _read_data(path: Path, sha256: str, folder: Path | None = None) -> bytes:
    """A file for ``data/``: a regular file (never a symlink, pipe or device), inside
    ``folder`` when given (no link on the way down), at most :data:`MAX_ENTRY_BYTES`, with the
    recorded sha256."""
    import stat

    shown = visible(str(path))
    rule = "--include-data takes regular files only and follows no link"
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise ParityInputError(
            f"{shown}: cannot read the file for the bundle ({exc.strerror})"
        ) from None
    if stat.S_ISLNK(info.st_mode):
        target = visible(os.readlink(path))
        raise ParityInputError(f"{shown}: a symlink (to {target}); {rule}")
    if not stat.S_ISREG(info.st_mode):
        raise ParityInputError(f"{shown}: not a regular file (a pipe, socket or device); {rule}")
    if folder is not None:
        base = os.path.realpath(folder)
        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(folder))
        if rel.startswith("..") or os.path.realpath(path) != os.path.join(base, rel):
            raise ParityInputError(
                f"{shown}: not inside its run folder {visible(str(folder))} without links; {rule}"
            )
    if info.st_size > MAX_ENTRY_BYTES:
        raise ParityInputError(
            f"{shown}: {info.st_size} bytes; a bundle entry holds at most {MAX_ENTRY_BYTES}"
        )
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):  # swapped since the lstat
                raise ParityInputError(f"{shown}: not a regular file; {rule}")
            data = fh.read(MAX_ENTRY_BYTES + 1)
    except OSError as exc:
        raise ParityInputError(
            f"{shown}: cannot read the file for the bundle ({exc.strerror})"
        ) from None
    if _sha256(data) != sha256:
        raise ParityInputError(
            f"{shown}: changed since it was recorded (sha256 {_sha256(data)[:12]}…, "
            f"recorded {sha256[:12]}…)"
        )
    return data


def command_entries(
    reports: dict[str, bytes],
    arguments: dict[str, Any],
    inputs: dict[str, dict[str, Any]],
    *,
    include_data: bool = False,
    cwd: str | os.PathLike[str] | None = None,
) -> dict[str, bytes]:
    """The entries of a deciding command's bundle: its reports, arguments and inputs' hashes.

    The one builder behind ``--bundle PATH`` of ``compare``, ``equivalence``, ``gate`` and
    ``agents compare`` (:func:`comparison_entries` is it with the comparison's reports).

    Parameters
    ----------
    reports : dict of str to bytes
        File name → content of the reports the command wrote (JSON record, Markdown, HTML …).
    arguments : dict
        ``arguments.json``: the command, its input specs and options.
    inputs : dict of str to dict
        Role → provenance record of each input file (:func:`parity.io.provenance`: ``path``,
        a spec ``FILE[:part]``, and ``file_sha256``); ``inputs.json`` maps each file to its
        sha256.
    include_data : bool
        Also put each input file under ``data/<role>/<file name>`` (checked against its
        recorded sha256).
    cwd : path, optional
        Folder whose git commit goes into ``environment.json``.

    Returns
    -------
    dict of str to bytes
        ``reports``, ``arguments.json``, ``inputs.json``, ``environment.json`` (and ``data/…``).

    Examples
    --------
    >>> import tempfile
    >>> from parity.io import provenance
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = Path(d, "a.csv").write_text("x\\n1\\n")
    ...     entries = command_entries(
    ...         {"result.json": b"{}"}, {"command": "demo"}, {"reference": provenance(f"{d}/a.csv")}
    ...     )
    ...     _ = build_bundle(f"{d}/b.zip", entries)
    ...     ok = verify_bundle(f"{d}/b.zip").ok
    >>> sorted(entries), ok
    (['arguments.json', 'environment.json', 'inputs.json', 'result.json'], True)
    """
    from parity.io import parse_spec

    entries = {name: bytes(data) for name, data in reports.items()}
    entries["arguments.json"] = json_bytes(arguments)
    entries["environment.json"] = json_bytes(environment_record(cwd))
    hashes: dict[str, str] = {}
    for role, record in sorted(inputs.items()):
        file = parse_spec(record["path"])[0]
        hashes[str(file)] = record["file_sha256"]
        if include_data:
            entries[_data_name(f"{role}/{file.name}")] = _read_data(file, record["file_sha256"])
    entries["inputs.json"] = json_bytes(hashes)
    return entries


def comparison_entries(
    verdict: Any,
    arguments: dict[str, Any],
    *,
    include_data: bool = False,
    cwd: str | os.PathLike[str] | None = None,
    html: str | None = None,
) -> dict[str, bytes]:
    """The entries of a comparison's bundle (:func:`command_entries` with its reports).

    Parameters
    ----------
    verdict : ParityVerdict
        From :func:`parity.compare` with ``inputs`` recorded (``path``, ``file_sha256``).
    arguments : dict
        The command's options and input specs (``arguments.json``).
    include_data : bool
        Also put each input file under ``data/<role>/<file name>``.
    cwd : path, optional
        Folder whose git commit goes into ``environment.json``.
    html : str, optional
        The HTML report (``report.html``); by default rendered from the record alone, without
        the marginals that need the input arrays.

    Returns
    -------
    dict of str to bytes
        ``verdict.json``, ``summary.md``, ``report.html``, ``arguments.json``, ``inputs.json``,
        ``environment.json`` (and ``data/…``).
    """
    from parity.report.markdown import verdict_markdown

    if html is None:
        from parity.report.html_compare import comparison_html

        html = comparison_html(verdict.to_dict())
    reports = {
        "verdict.json": (verdict.to_json() + "\n").encode("utf-8"),
        "summary.md": verdict_markdown(verdict.to_dict()).encode("utf-8"),
        "report.html": html.encode("utf-8"),
    }
    return command_entries(
        reports, arguments, dict(verdict.inputs), include_data=include_data, cwd=cwd
    )


def suite_entries(
    manifest_path: str | os.PathLike[str],
    manifest: Any,
    runs: list[Any],
    reports: dict[str, bytes],
    *,
    include_data: bool = False,
) -> dict[str, bytes]:
    """The entries of a suite's bundle.

    Parameters
    ----------
    manifest_path : path
        The manifest file (its text goes in as ``manifest.yaml``; run folders are relative to
        its folder).
    manifest : Manifest
        The validated manifest (``manifest.json``, canonical JSON).
    runs : list of RunRecord
        The store's runs (``runs.jsonl``, one JSON object a line, sorted by key).
    reports : dict of str to bytes
        Report file name → content.
    include_data : bool
        Also put each run's result files under ``data/<run folder>/<file>``.

    Returns
    -------
    dict of str to bytes
    """
    from parity.io import json_dumps
    from parity.stats._common import to_jsonable

    manifest_path = Path(manifest_path)
    root = manifest_path.parent
    entries = dict(reports)
    manifest_bytes = manifest_path.read_bytes()
    entries["manifest.yaml"] = manifest_bytes
    entries["manifest.json"] = json_bytes(manifest.model_dump(mode="json"))
    ordered = sorted(runs, key=lambda r: (r.key.system, r.key.task, r.key.seed, r.key.rerun))
    entries["runs.jsonl"] = "".join(
        # the runs' own numbers, exactly (digits=None): evidence is copied, not rounded
        json_dumps(to_jsonable(r), indent=None, sort_keys=True, digits=None) + "\n"
        for r in ordered
    ).encode("utf-8")
    inputs = {manifest_path.name: _sha256(manifest_bytes)}
    for run in ordered:
        for rel, sha in sorted(run.files.items()):
            name = f"{run.out_dir}/{rel}" if run.out_dir else rel
            inputs[name] = sha
            if include_data:
                problem = _name_problem(rel)
                if problem is not None:
                    raise ParityInputError(
                        f"run {run.key}: result file {visible(repr(rel))} {problem}"
                    )
                folder = root / run.out_dir if run.out_dir else root
                entries[_data_name(name)] = _read_data(folder / rel, sha, folder)
    entries["inputs.json"] = json_bytes(inputs)
    entries["environment.json"] = json_bytes(environment_record(root))
    return entries


def _comparisons_record(entries: dict[str, bytes]) -> dict[str, Any]:
    """Several comparisons, one per folder: the worst verdict, and one reason line each."""
    verdicts = {
        name.split("/")[0]: json.loads(data).get("verdict")
        for name, data in sorted(entries.items())
        if re.fullmatch(r"[^/]+/verdict\.json", name)
    }
    order = ("pass", "inconclusive", "fail")
    worst = max(verdicts.values(), key=lambda v: order.index(v) if v in order else len(order))
    return {"verdict": worst, "reasons": [f"{k}: {v}" for k, v in verdicts.items()]}


#: Command (``arguments.json``'s ``command``) → the entry holding its JSON record, for the
#: bundles of :func:`command_entries` other than a comparison's.
COMMAND_RECORDS = {
    "equivalence": "equivalence.json",
    "gate": "gate.json",
    "agents compare": "compare.json",
}


def _command_record(entries: dict[str, bytes]) -> tuple[str, dict[str, Any]] | None:
    """``(command, record)`` of a deciding command's bundle, or None when it is not one; the
    record's verdict is its ``verdict`` (the gate's ``action``), its reasons the result's."""
    arguments = json.loads(entries["arguments.json"])
    command = arguments.get("command") if isinstance(arguments, dict) else None
    name = COMMAND_RECORDS.get(command) if isinstance(command, str) else None
    if name is None or name not in entries:
        return None
    record = json.loads(entries[name])
    result = record.get("result") if isinstance(record.get("result"), dict) else {}
    return command, {
        "verdict": record.get("verdict", record.get("action")),
        "reasons": record.get("reasons", result.get("reasons", [])),
    }


def bundle_summary(path: str | os.PathLike[str]) -> dict[str, Any]:
    """What ``parity bundle show`` prints: kind, verdict, reasons, files and integrity.

    Only the JSON records that say the verdict are read whole (each at most
    :data:`MAX_RECORD_BYTES`); file sizes come from the zip's directory.

    Raises
    ------
    ParityInputError
        Not a readable zip file, or an entry the guarded reader refuses.
    """
    with _open_zip(path) as (zf, infos):
        files = {i.filename: i for i in infos if not i.is_dir()}
        wanted = [
            n
            for n in sorted(files)
            if n in ("verdict.json", "equivalence_report.json", "arguments.json")
            or n in COMMAND_RECORDS.values()
            or re.fullmatch(r"[^/]+/verdict\.json", n)
        ]
        entries = {n: _read_entry(zf, files[n], path, MAX_RECORD_BYTES) for n in wanted}
    kind, record = "unknown", {}
    try:
        if "verdict.json" in entries:
            kind, record = "comparison", json.loads(entries["verdict.json"])
        elif "equivalence_report.json" in entries:
            kind = "suite"
            record = json.loads(entries["equivalence_report.json"]).get("final", {})
        elif "arguments.json" in entries and (found := _command_record(entries)) is not None:
            kind, record = found
        elif any(re.fullmatch(r"[^/]+/verdict\.json", n) for n in entries):
            kind, record = "comparisons", _comparisons_record(entries)  # e.g. parity demo's
        if not isinstance(record, dict):
            raise ValueError("not a JSON object")
        reasons = [str(r) for r in record.get("reasons", [])]
        verdict = record.get("verdict")
        verdict = None if verdict is None else str(verdict)
    except (ValueError, AttributeError, TypeError, RecursionError):
        kind, verdict, reasons = "unknown", None, []
    try:
        check = verify_bundle(path).to_dict()
    except ParityInputError:
        check = None
    return {
        "bundle": str(path),
        "kind": kind,
        "verdict": verdict,
        "reasons": reasons,
        "files": {name: files[name].file_size for name in sorted(files)},
        "intact": None if check is None else check["ok"],
    }
