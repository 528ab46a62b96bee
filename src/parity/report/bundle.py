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
import io
import json
import os
import platform
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parity.errors import ParityInputError
from parity.stats._common import ResultMixin

__all__ = [
    "BUNDLE_NAME",
    "SIGNATURE_NAME",
    "SUMS_NAME",
    "BundleCheck",
    "build_bundle",
    "bundle_summary",
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


def json_bytes(payload: Any) -> bytes:
    """Canonical JSON bytes: keys sorted, indented, strict (no NaN), UTF-8, final newline.

    Examples
    --------
    >>> json_bytes({"b": 1, "a": [1.5]})
    b'{\\n  "a": [\\n    1.5\\n  ],\\n  "b": 1\\n}\\n'
    """
    text = json.dumps(payload, indent=2, sort_keys=True, allow_nan=False, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_name(name: str) -> None:
    parts = name.split("/")
    if (
        not name
        or name in _RESERVED
        or name.startswith("/")
        or "\\" in name
        or "\n" in name
        or any(p in ("", ".", "..") for p in parts)
    ):
        raise ParityInputError(
            f"bundle entry name must be a relative POSIX path without '.', '..' or empty parts, "
            f"and not {SUMS_NAME} or {SIGNATURE_NAME}; got {name!r}"
        )


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
    sums = sums_text(files).encode("utf-8")
    files[SUMS_NAME] = sums
    if signing_key is not None:
        key = signing_key if hasattr(signing_key, "sign") else load_private_key(signing_key)
        files[SIGNATURE_NAME] = key.sign(sums)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_DATE)
            info.create_system = 3
            info.external_attr = _MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, files[name], compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    data = buffer.getvalue()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return _sha256(data)


def read_bundle(path: str | os.PathLike[str]) -> dict[str, bytes]:
    """Every entry of a bundle: name → bytes (directories skipped).

    Raises
    ------
    ParityInputError
        The file is missing or is not a readable zip file.
    """
    entries, _ = _read(path)
    return entries


def _read(path: str | os.PathLike[str]) -> tuple[dict[str, bytes], list[str]]:
    """Entries and the names that occur more than once."""
    p = Path(path)
    if not p.is_file():
        raise ParityInputError(f"{p}: file not found")
    entries: dict[str, bytes] = {}
    duplicates: list[str] = []
    try:
        with zipfile.ZipFile(p) as zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                if info.filename in entries:
                    duplicates.append(info.filename)
                entries[info.filename] = zf.read(info)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise ParityInputError(f"{p}: not a readable zip file ({exc})") from None
    return entries, duplicates


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
                f"{where}: {SUMS_NAME} line {number} must read '<64 hex>  <name>'; got {line!r}"
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
    entries, duplicates = _read(path)
    if SUMS_NAME not in entries:
        raise ParityInputError(f"{path}: not an evidence bundle (no {SUMS_NAME} entry)")
    listed = _parse_sums(entries[SUMS_NAME], str(path))
    present = {n for n in entries if n not in _RESERVED}
    missing = tuple(sorted(set(listed) - present))
    extra = tuple(sorted((present - set(listed)) | set(duplicates)))
    altered = tuple(sorted(n for n in present & set(listed) if _sha256(entries[n]) != listed[n]))
    signature = "absent" if SIGNATURE_NAME not in entries else "unchecked"
    if public_key is not None:
        key = public_key if hasattr(public_key, "verify") else load_public_key(public_key)
        if signature == "unchecked":
            from cryptography.exceptions import InvalidSignature

            try:
                key.verify(entries[SIGNATURE_NAME], entries[SUMS_NAME])
                signature = "valid"
            except InvalidSignature:
                signature = "invalid"
    signature_ok = signature in ("valid", "unchecked") or (
        signature == "absent" and public_key is None
    )
    ok = not (missing or extra or altered) and signature_ok
    return BundleCheck(ok, missing, extra, altered, signature, tuple(sorted(entries)))


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


def _read_data(path: Path, sha256: str) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ParityInputError(
            f"{path}: cannot read the file for the bundle ({exc.strerror})"
        ) from None
    if _sha256(data) != sha256:
        raise ParityInputError(
            f"{path}: changed since it was recorded (sha256 {_sha256(data)[:12]}…, "
            f"recorded {sha256[:12]}…)"
        )
    return data


def comparison_entries(
    verdict: Any,
    arguments: dict[str, Any],
    *,
    include_data: bool = False,
    cwd: str | os.PathLike[str] | None = None,
    html: str | None = None,
) -> dict[str, bytes]:
    """The entries of a comparison's bundle.

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
    from parity.io import parse_spec
    from parity.report.markdown import verdict_markdown

    if html is None:
        from parity.report.html_compare import comparison_html

        html = comparison_html(verdict.to_dict())
    entries = {
        "verdict.json": (verdict.to_json() + "\n").encode("utf-8"),
        "summary.md": verdict_markdown(verdict.to_dict()).encode("utf-8"),
        "report.html": html.encode("utf-8"),
        "arguments.json": json_bytes(arguments),
        "environment.json": json_bytes(environment_record(cwd)),
    }
    inputs: dict[str, str] = {}
    for role, record in sorted(verdict.inputs.items()):
        file = parse_spec(record["path"])[0]
        inputs[str(file)] = record["file_sha256"]
        if include_data:
            entries[_data_name(f"{role}/{file.name}")] = _read_data(file, record["file_sha256"])
    entries["inputs.json"] = json_bytes(inputs)
    return entries


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
    from parity.stats._common import to_jsonable

    manifest_path = Path(manifest_path)
    root = manifest_path.parent
    entries = dict(reports)
    manifest_bytes = manifest_path.read_bytes()
    entries["manifest.yaml"] = manifest_bytes
    entries["manifest.json"] = json_bytes(manifest.model_dump(mode="json"))
    ordered = sorted(runs, key=lambda r: (r.key.system, r.key.task, r.key.seed, r.key.rerun))
    entries["runs.jsonl"] = "".join(
        json.dumps(to_jsonable(r), sort_keys=True, allow_nan=False, ensure_ascii=False) + "\n"
        for r in ordered
    ).encode("utf-8")
    inputs = {manifest_path.name: _sha256(manifest_bytes)}
    for run in ordered:
        for rel, sha in sorted(run.files.items()):
            name = f"{run.out_dir}/{rel}" if run.out_dir else rel
            inputs[name] = sha
            if include_data:
                entries[_data_name(name)] = _read_data(root / name, sha)
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


def bundle_summary(path: str | os.PathLike[str]) -> dict[str, Any]:
    """What ``parity bundle show`` prints: kind, verdict, reasons, files and integrity.

    Raises
    ------
    ParityInputError
        Not a readable zip file.
    """
    entries = read_bundle(path)
    kind, record = "unknown", {}
    try:
        if "verdict.json" in entries:
            kind, record = "comparison", json.loads(entries["verdict.json"])
        elif "equivalence_report.json" in entries:
            kind = "suite"
            record = json.loads(entries["equivalence_report.json"]).get("final", {})
        elif any(re.fullmatch(r"[^/]+/verdict\.json", name) for name in entries):
            kind, record = "comparisons", _comparisons_record(entries)  # e.g. parity demo's
    except (ValueError, AttributeError):
        kind, record = "unknown", {}
    try:
        check = verify_bundle(path).to_dict()
    except ParityInputError:
        check = None
    return {
        "bundle": str(path),
        "kind": kind,
        "verdict": record.get("verdict"),
        "reasons": list(record.get("reasons", [])),
        "files": {name: len(data) for name, data in sorted(entries.items())},
        "intact": None if check is None else check["ok"],
    }
