"""Hostile evidence bundles: zip bombs, entries streamed within a memory cap, directory entries
holding data, encrypted and unknown-method entries, links, names that forge output lines, and
``--include-data`` meeting symlinks, special files and files outside the run folders. Tests
that could exhaust memory run the CLI in a subprocess under a memory cap and a timeout
(``tests/capped.py``)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from capped import run_parity
from parity.errors import ParityInputError
from parity.report.bundle import (
    MAX_RATIO,
    RATIO_FLOOR,
    SUMS_NAME,
    build_bundle,
    bundle_summary,
    read_bundle,
    sums_text,
    verify_bundle,
)
from parity.report.escape import visible
from processes import invoke

ENTRIES = {"verdict.json": b'{"verdict": "pass", "reasons": ["fine"]}\n', "a.txt": b"a" * 1500}


def handmade(
    path: Path,
    entries: dict[str, bytes],
    *,
    listed: dict[str, bytes] | None = None,
    method=zipfile.ZIP_DEFLATED,
) -> Path:
    """A zip of ``entries`` plus a SHA256SUMS over ``listed`` (default: the same entries)."""
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        zf.writestr(SUMS_NAME, sums_text(entries if listed is None else listed))
    return path


def patch(path: Path, old: bytes, new: bytes) -> None:
    """Replace ``old`` by ``new`` (same length) everywhere in the file (local and central)."""
    assert len(old) == len(new)
    raw = path.read_bytes()
    assert old in raw
    path.write_bytes(raw.replace(old, new))


def one_error_line(done) -> str:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


# --------------------------------------------------------------------------------------------
# size and ratio caps, streaming


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    """A 2.3 MB zip whose verdict.json inflates to 512 MiB of zeros."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.zip"
    zeros = bytes(16 << 20)
    digest = hashlib.sha256()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("verdict.json", "w", force_zip64=True) as fh:
            for _ in range(32):
                fh.write(zeros)
                digest.update(zeros)
        zf.writestr(SUMS_NAME, f"{digest.hexdigest()}  verdict.json\n")
    assert path.stat().st_size < 4 << 20
    return path


@pytest.mark.timeout(120)
@pytest.mark.parametrize("command", ["verify", "show"])
def test_a_zip_bomb_is_refused_within_a_memory_cap(bomb, command):
    done = run_parity("bundle", command, bomb, memory_mib=300, timeout=60)
    line = one_error_line(done)
    assert "entry 'verdict.json' expands" in line and f"at most {MAX_RATIO}-fold" in line


@pytest.mark.timeout(180)
def test_a_large_entry_is_hashed_in_chunks_within_a_memory_cap(tmp_path):
    """384 MiB stored (ratio 1, within every cap) verifies in a process capped at 300 MiB."""
    path = tmp_path / "big.zip"
    chunk = np.random.default_rng(0).integers(0, 256, 1 << 24, dtype=np.uint8).tobytes()
    digest = hashlib.sha256()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        with zf.open("data/big.bin", "w", force_zip64=True) as fh:
            for _ in range(24):
                fh.write(chunk)
                digest.update(chunk)
        zf.writestr(SUMS_NAME, f"{digest.hexdigest()}  data/big.bin\n")
    done = run_parity("bundle", "verify", path, memory_mib=300, timeout=150)
    assert done.returncode == 0, done.stderr
    assert "intact (1 files" in done.stderr
    shown = run_parity("bundle", "show", path, "--json", "-", memory_mib=300, timeout=150)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["files"]["data/big.bin"] == 24 << 24
    with pytest.raises(ParityInputError, match=r"at most \d+ are read whole"):
        read_bundle(path)


def test_build_stores_what_would_expand_too_much(tmp_path):
    zeros = bytes(2 * RATIO_FLOOR)  # deflates ~1000-fold: stored instead, so it verifies
    build_bundle(tmp_path / "z.zip", {"data/zeros.bin": zeros, "small": bytes(1000)})
    with zipfile.ZipFile(tmp_path / "z.zip") as zf:
        methods = {i.filename: i.compress_type for i in zf.infolist()}
    assert methods["data/zeros.bin"] == zipfile.ZIP_STORED
    assert methods["small"] == zipfile.ZIP_DEFLATED
    assert verify_bundle(tmp_path / "z.zip").ok


# --------------------------------------------------------------------------------------------
# entry types


def test_a_directory_entry_holding_data_fails_verification(tmp_path):
    path = handmade(tmp_path / "h.zip", {**ENTRIES, "hiddenX": b"secret " * 220}, listed=ENTRIES)
    patch(path, b"hiddenX", b"hidden/")
    with zipfile.ZipFile(path) as zf:
        assert zf.getinfo("hidden/").is_dir() and zf.getinfo("hidden/").file_size == 1540
    check = verify_bundle(path)
    assert not check.ok and check.extra == ("hidden/",)
    res = invoke("bundle", "verify", path)
    assert res.exit_code == 1 and "extra: hidden/" in res.stderr and "intact (" not in res.stderr
    # an empty directory entry is harmless
    with zipfile.ZipFile(path := tmp_path / "d.zip", "w") as zf:
        zf.mkdir("empty")
        for name, data in ENTRIES.items():
            zf.writestr(name, data)
        zf.writestr(SUMS_NAME, sums_text(ENTRIES))
    assert verify_bundle(path).ok


def test_duplicate_names_fail_verification(tmp_path):
    path = tmp_path / "dup.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in ENTRIES.items():
            zf.writestr(name, data)
        zf.writestr(SUMS_NAME, sums_text(ENTRIES))
        with pytest.warns(UserWarning, match="Duplicate name"):
            zf.writestr("a.txt", b"other")
    check = verify_bundle(path)
    assert not check.ok and "a.txt" in check.extra


@pytest.mark.parametrize(
    ("make", "pattern"),
    [
        ("encrypted", r"entry 'verdict\.json' is encrypted"),
        ("bzip2", r"entry 'a\.txt' uses compression method 12; .* stored or deflate"),
        ("lzma", r"entry 'a\.txt' uses compression method 14"),
        ("symlink", r"entry 'a\.txt' is not a regular file \(mode 0o120777"),
        ("fifo", r"entry 'a\.txt' is not a regular file \(mode 0o10644"),
        ("slip", r"entry '\.\./a\.txt' name must be a relative POSIX path"),
        ("absolute", r"entry '/a\.txt' name must be a relative POSIX path"),
    ],
)
def test_entries_that_are_unsafe_to_read_are_refused(tmp_path, make, pattern):
    path = tmp_path / "x.zip"
    if make in ("bzip2", "lzma"):
        method = zipfile.ZIP_BZIP2 if make == "bzip2" else zipfile.ZIP_LZMA
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("a.txt", b"a", compress_type=method)
            zf.writestr(SUMS_NAME, sums_text({"a.txt": b"a"}))
    elif make in ("symlink", "fifo"):
        with zipfile.ZipFile(path, "w") as zf:
            info = zipfile.ZipInfo("a.txt")
            info.create_system = 3
            info.external_attr = (0o120777 if make == "symlink" else 0o010644) << 16
            zf.writestr(info, b"/etc/shadow")
            zf.writestr(SUMS_NAME, sums_text({"a.txt": b"/etc/shadow"}))
    elif make in ("slip", "absolute"):
        name = "../a.txt" if make == "slip" else "/a.txt"
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr(zipfile.ZipInfo(name), b"a")  # ZipInfo keeps the name as given
            zf.writestr(SUMS_NAME, sums_text(ENTRIES))
    else:
        handmade(path, ENTRIES)
        raw = bytearray(path.read_bytes())
        for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            at = raw.index(signature)  # the first entry: verdict.json
            raw[at + offset] |= 0x1
        path.write_bytes(bytes(raw))
    for command in ("verify", "show"):
        res = invoke("bundle", command, path)
        assert res.exit_code == 2, res.output
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and re.search(pattern, lines[0]), lines
    with pytest.raises(ParityInputError, match=pattern):
        read_bundle(path)


# --------------------------------------------------------------------------------------------
# names that would forge output


FORGED = "a.txt\nb.zip: intact (9 files; signature valid)"


@pytest.mark.parametrize("name", [FORGED, "\x1b[32mok\x1b[0m", "a\rb", "x\u202etxt.exe"])
def test_names_with_control_characters_cannot_forge_a_line(tmp_path, name):
    path = tmp_path / "n.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo(name), b"x")
        zf.writestr(SUMS_NAME, sums_text({"ok.txt": b"x"}))
    for command in ("verify", "show"):
        res = invoke("bundle", command, path)
        assert res.exit_code == 2
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and "must not hold control characters" in lines[0], lines
        assert "\x1b" not in res.stderr and "\r" not in res.stderr and "\u202e" not in res.stderr
    # the same names listed only in SHA256SUMS (the zip holds harmless names)
    path = tmp_path / "s.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("ok.txt", b"x")
        zf.writestr(SUMS_NAME, f"{'0' * 64}  {name.replace(chr(10), chr(13))}\n")
    res = invoke("bundle", "verify", path)
    assert res.exit_code == 2 and len(res.stderr.strip().splitlines()) == 1
    assert res.stderr.startswith("error: ") and "\x1b" not in res.stderr and "\r" not in res.stderr


def test_visible_escapes_and_keeps_ordinary_text():
    assert visible("runs/Pong v5/métrique.json") == "runs/Pong v5/métrique.json"
    assert visible(FORGED) == FORGED.replace("\n", "\\n")
    assert visible("\x1b[1m\u200b\u2028") == "\\x1b[1m\\u200b\\u2028"


def test_show_escapes_reasons_and_verdicts_from_the_bundle(tmp_path):
    record = {"verdict": "pass\x1b[2K", "reasons": ["ok\nb.zip: intact", "\x1b]0;title\x07"]}
    build_bundle(tmp_path / "r.zip", {"verdict.json": json.dumps(record).encode()})
    res = invoke("bundle", "show", tmp_path / "r.zip")
    assert res.exit_code == 0
    assert "\x1b" not in res.stdout and "\x07" not in res.stdout
    assert "  - ok\\nb.zip: intact" in res.stdout.splitlines()
    assert bundle_summary(tmp_path / "r.zip")["reasons"][0] == "ok\nb.zip: intact"  # as stored


# --------------------------------------------------------------------------------------------
# --include-data: regular files inside the run folders only


def suite_with_files(tmp_path: Path, name: str = "notes.txt"):
    """A recorded suite whose candidate seed-0 run lists ``name`` (and metrics.json)."""
    from parity.suite.manifest import parse_manifest
    from parity.suite.records import RunRecord
    from suites import manifest_dict, runs_for, write_store

    spec = manifest_dict(components={}, tasks=["a"], seeds=[0, 1, 2, 3], reruns=1)
    secret = tmp_path / "secret.txt"
    secret.write_text("root:$6$hash:19000::::::\n")
    runs = []
    for run in runs_for(parse_manifest(spec)):
        out_dir = f"runs/{run.key.system}/{run.key.seed}"
        (tmp_path / out_dir).mkdir(parents=True)
        (tmp_path / out_dir / "metrics.json").write_text(json.dumps(run.metrics))
        files = {"metrics.json": hashlib.sha256(json.dumps(run.metrics).encode()).hexdigest()}
        if run.key.system == "candidate" and run.key.seed == 0:
            files[name] = hashlib.sha256(secret.read_bytes()).hexdigest()
        runs.append(RunRecord(run.key, "ok", run.metrics, files=files, out_dir=out_dir))
    return write_store(tmp_path, spec, runs), tmp_path / "runs/candidate/0", secret


def report(path: Path, out: Path):
    return invoke("suite", "report", path, "--out", out, "--include-data", "--quiet")


def test_include_data_refuses_a_symlink_naming_it(tmp_path):
    path, folder, secret = suite_with_files(tmp_path)
    (folder / "notes.txt").symlink_to(secret)
    res = report(path, tmp_path / "out")
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "notes.txt: a symlink (to " in lines[0], lines
    assert "regular files only" in lines[0]
    assert not (tmp_path / "out" / "evidence_bundle.zip").exists()


def test_include_data_refuses_special_files_and_links_on_the_way(tmp_path):
    path, folder, secret = suite_with_files(tmp_path, "sub/notes.txt")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "notes.txt").write_bytes(secret.read_bytes())
    (folder / "sub").symlink_to(elsewhere)
    res = report(path, tmp_path / "out")
    assert res.exit_code == 2 and "not inside its run folder" in res.stderr
    (folder / "sub").unlink()
    (folder / "sub").mkdir()
    os.mkfifo(folder / "sub" / "notes.txt")  # reading it would block
    res = report(path, tmp_path / "out")
    assert res.exit_code == 2 and "notes.txt: not a regular file" in res.stderr


def test_include_data_refuses_result_names_leaving_the_run_folder(tmp_path):
    path, _, _ = suite_with_files(tmp_path, "../../../secret.txt")
    res = report(path, tmp_path / "out")
    assert res.exit_code == 2
    assert "result file '../../../secret.txt' must be a relative POSIX path" in res.stderr


def test_compare_include_data_refuses_a_symlinked_input(tmp_path):
    g = np.random.default_rng(1)
    np.save(tmp_path / "ref.npy", g.normal(size=(40, 2)))
    np.save(tmp_path / "real.npy", g.normal(size=(40, 2)))
    (tmp_path / "cand.npy").symlink_to(tmp_path / "real.npy")
    res = invoke(
        "compare",
        tmp_path / "ref.npy",
        tmp_path / "cand.npy",
        "--resamples",
        "99",
        "--bundle",
        tmp_path / "b.zip",
        "--include-data",
        "--quiet",
    )
    assert res.exit_code == 2, res.output
    assert "cand.npy: a symlink (to " in res.stderr
    assert not (tmp_path / "b.zip").exists()


def test_the_entry_count_is_checked_before_the_directory_is_read(tmp_path, monkeypatch):
    import parity.report.bundle as bundle

    entries = {f"e{i:03d}": b"x" for i in range(50)}
    build_bundle(tmp_path / "many.zip", entries)
    assert bundle._declared_entries(tmp_path / "many.zip") == 51
    read = []
    parse = zipfile.ZipFile._RealGetContents  # where zipfile reads the central directory
    monkeypatch.setattr(zipfile.ZipFile, "_RealGetContents", lambda zf: read.append(parse(zf)))
    assert verify_bundle(tmp_path / "many.zip").ok and read == [None]
    read.clear()
    monkeypatch.setattr(bundle, "MAX_ENTRIES", 50)
    with pytest.raises(ParityInputError, match=r"51 entries; a bundle holds at most 50"):
        verify_bundle(tmp_path / "many.zip")
    assert read == []  # refused from the end record, before zipfile listed the entries


def test_a_corrupt_deflate_stream_is_one_error_line(tmp_path):
    build_bundle(tmp_path / "c.zip", {"a.bin": bytes(range(256)) * 400})
    raw = bytearray((tmp_path / "c.zip").read_bytes())
    at = raw.index(b"a.bin") + 15  # inside the entry's compressed data
    raw[at : at + 40] = bytes(b ^ 0x5A for b in raw[at : at + 40])
    (tmp_path / "c.zip").write_bytes(bytes(raw))
    res = invoke("bundle", "verify", tmp_path / "c.zip")
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "not a readable zip file" in lines[0], lines
