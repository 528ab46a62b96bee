"""Tests of evidence bundles (``parity.report.bundle``), ``parity bundle`` and ``parity keygen``.

Determinism (the same entries give the same bytes), verification (intact, altered, missing and
extra entries named; signatures valid, invalid and absent), key files (modes, no overwrite), and
end to end: ``parity compare --bundle`` and ``parity suite report --bundle``, then
``parity bundle verify`` and ``parity bundle show`` (CliRunner and one subprocess).
"""

from __future__ import annotations

import json
import stat
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest

from parity.cli._output import MARKER
from parity.errors import ParityInputError
from parity.report.bundle import (
    SIGNATURE_NAME,
    SUMS_NAME,
    build_bundle,
    environment_record,
    load_private_key,
    load_public_key,
    read_bundle,
    sums_text,
    verify_bundle,
    write_keypair,
)
from processes import PARITY, invoke

ENTRIES = {
    "verdict.json": b'{"verdict": "pass"}\n',
    "summary.md": b"# pass\n",
    "data/reference/ref.npy": bytes(range(256)),
}


def rewrite(src: Path, dst: Path, change) -> None:
    """Copy the zip ``src`` to ``dst`` with ``change(entries)`` applied to its name → bytes."""
    entries = read_bundle(src)
    change(entries)
    with zipfile.ZipFile(dst, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys")
    write_keypair(d / "a.key", d / "a.pub")
    write_keypair(d / "b.key", d / "b.pub")
    return d


# --------------------------------------------------------------------------------------------
# the library


def test_same_entries_give_identical_bytes(tmp_path):
    a = build_bundle(tmp_path / "a.zip", ENTRIES)
    b = build_bundle(tmp_path / "b.zip", dict(reversed(list(ENTRIES.items()))))
    assert a == b
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == sorted([*ENTRIES, SUMS_NAME])
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert (info.external_attr >> 16) & 0o777 == 0o644
        assert info.compress_type == zipfile.ZIP_DEFLATED
    sums = read_bundle(tmp_path / "a.zip")[SUMS_NAME].decode()
    assert sums == sums_text(ENTRIES)
    assert [line.split("  ", 1)[1] for line in sums.splitlines()] == sorted(ENTRIES)
    assert build_bundle(tmp_path / "c.zip", {**ENTRIES, "summary.md": b"# fail\n"}) != a


def test_signed_bundles_are_deterministic_too(tmp_path, keys):
    key = load_private_key(keys / "a.key")
    a = build_bundle(tmp_path / "a.zip", ENTRIES, signing_key=key)
    assert build_bundle(tmp_path / "b.zip", ENTRIES, signing_key=keys / "a.key") == a


def test_verify_intact_and_tampered(tmp_path):
    path = tmp_path / "b.zip"
    build_bundle(path, ENTRIES)
    check = verify_bundle(path)
    assert check.ok and check.signature == "absent"
    assert (check.missing, check.extra, check.altered) == ((), (), ())
    assert check.problems() == []

    flipped = tmp_path / "flipped.zip"
    rewrite(path, flipped, lambda e: e.update({"summary.md": b"# pas\x73!\n"}))
    check = verify_bundle(flipped)
    assert not check.ok and check.altered == ("summary.md",)
    assert check.problems() == ["altered: summary.md"]

    removed = tmp_path / "removed.zip"
    rewrite(path, removed, lambda e: e.pop("verdict.json"))
    check = verify_bundle(removed)
    assert not check.ok and check.missing == ("verdict.json",) and check.extra == ()

    added = tmp_path / "added.zip"
    rewrite(path, added, lambda e: e.update({"notes.txt": b"trust me"}))
    check = verify_bundle(added)
    assert not check.ok and check.extra == ("notes.txt",) and check.altered == ()


def test_one_flipped_byte_in_the_zip_is_caught(tmp_path):
    """An entry stored uncompressed: flip one byte of its data inside the zip file."""
    path = tmp_path / "b.zip"
    build_bundle(path, ENTRIES)
    entries = read_bundle(path)
    with zipfile.ZipFile(tmp_path / "stored.zip", "w", zipfile.ZIP_STORED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    raw = bytearray((tmp_path / "stored.zip").read_bytes())
    at = raw.index(bytes(range(40, 60)))
    raw[at] ^= 0xFF
    (tmp_path / "stored.zip").write_bytes(bytes(raw))
    # zipfile refuses the entry (CRC), or the hash differs: either way not intact
    try:
        check = verify_bundle(tmp_path / "stored.zip")
    except ParityInputError as exc:
        assert "not a readable zip" in str(exc)
    else:
        assert not check.ok and "data/reference/ref.npy" in check.altered


def test_signatures(tmp_path, keys):
    signed = tmp_path / "signed.zip"
    build_bundle(signed, ENTRIES, signing_key=keys / "a.key")
    assert SIGNATURE_NAME in read_bundle(signed)
    assert verify_bundle(signed, keys / "a.pub").signature == "valid"
    assert verify_bundle(signed, load_public_key(keys / "a.pub")).ok
    wrong = verify_bundle(signed, keys / "b.pub")
    assert not wrong.ok and wrong.signature == "invalid"
    assert wrong.problems()[0].startswith("signature:")
    unchecked = verify_bundle(signed)
    assert unchecked.ok and unchecked.signature == "unchecked"
    unsigned = tmp_path / "unsigned.zip"
    build_bundle(unsigned, ENTRIES)
    absent = verify_bundle(unsigned, keys / "a.pub")
    assert not absent.ok and absent.signature == "absent"
    # a signed bundle whose SHA256SUMS was rewritten to hide a change: hashes ok, signature not
    forged = tmp_path / "forged.zip"

    def forge(entries):
        entries["summary.md"] = b"# forged\n"
        files = {n: d for n, d in entries.items() if n not in (SUMS_NAME, SIGNATURE_NAME)}
        entries[SUMS_NAME] = sums_text(files).encode()

    rewrite(signed, forged, forge)
    check = verify_bundle(forged, keys / "a.pub")
    assert check.altered == () and check.signature == "invalid" and not check.ok


def test_unreadable_bundles_and_bad_names(tmp_path):
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    with pytest.raises(ParityInputError, match="not a readable zip"):
        verify_bundle(tmp_path / "junk.zip")
    with pytest.raises(ParityInputError, match="file not found"):
        verify_bundle(tmp_path / "nope.zip")
    with zipfile.ZipFile(tmp_path / "plain.zip", "w") as zf:
        zf.writestr("a.txt", b"a")
    with pytest.raises(ParityInputError, match="no SHA256SUMS"):
        verify_bundle(tmp_path / "plain.zip")
    for name in ("../x", "/abs", "a//b", SUMS_NAME, ""):
        with pytest.raises(ParityInputError, match="entry name"):
            build_bundle(tmp_path / "x.zip", {name: b""})


def test_environment_record_has_no_time_or_host():
    import platform

    env = environment_record()
    assert env["python"] == platform.python_version()
    assert set(env["packages"]) == {"parity", "numpy", "scipy", "click", "rich", "pydantic"}
    assert env["packages"]["numpy"] == np.__version__
    assert env["git_commit"] is None or len(env["git_commit"]) >= 40
    assert not platform.node() or f'"{platform.node()}"' not in json.dumps(env)
    assert not {"time", "timestamp", "date", "host", "hostname", "node"} & set(env)
    assert env == environment_record()


def test_keygen_modes_and_no_overwrite(tmp_path):
    res = invoke("keygen", "--out", tmp_path / "k")
    assert res.exit_code == 0, res.output
    private, public = tmp_path / "k" / "parity-signing.key", tmp_path / "k" / "parity-signing.pub"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert b"BEGIN PRIVATE KEY" in private.read_bytes()
    assert b"BEGIN PUBLIC KEY" in public.read_bytes()
    before = private.read_bytes()
    again = invoke("keygen", "--out", tmp_path / "k")
    assert again.exit_code == 2 and "--force" in again.stderr
    assert len(again.stderr.splitlines()) == 1 and private.read_bytes() == before
    private.chmod(0o644)
    forced = invoke("keygen", "--out", tmp_path / "k", "--force")
    assert forced.exit_code == 0 and private.read_bytes() != before
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    pair = invoke("keygen", "--private", tmp_path / "p.pem", "--public", tmp_path / "q.pem")
    assert pair.exit_code == 0 and (tmp_path / "q.pem").is_file()
    assert stat.S_IMODE((tmp_path / "p.pem").stat().st_mode) == 0o600
    assert invoke("keygen").exit_code == 2


# --------------------------------------------------------------------------------------------
# the commands, end to end


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    d = tmp_path_factory.mktemp("samples")
    g = np.random.default_rng(0)
    np.save(d / "ref.npy", g.normal(size=(60, 2)))
    np.save(d / "cand.npy", g.normal(size=(60, 2)))
    return d


def compare(samples, out: Path, *extra):
    return invoke(
        "compare",
        samples / "ref.npy",
        samples / "cand.npy",
        "--resamples",
        "99",
        "--out",
        out / "report",
        "--quiet",
        *extra,
    )


def test_compare_bundle_verify_and_show(tmp_path, samples, keys):
    res = compare(samples, tmp_path, "--bundle", tmp_path / "b.zip")
    assert res.exit_code in (0, 1, 3), res.output
    entries = read_bundle(tmp_path / "b.zip")
    assert set(entries) == {
        "verdict.json",
        "summary.md",
        "report.html",
        "arguments.json",
        "inputs.json",
        "environment.json",
        SUMS_NAME,
    }
    assert entries["verdict.json"] == (tmp_path / "report" / "verdict.json").read_bytes()
    assert entries["summary.md"] == (tmp_path / "report" / "summary.md").read_bytes()
    inputs = json.loads(entries["inputs.json"])
    assert set(inputs) == {str(samples / "ref.npy"), str(samples / "cand.npy")}
    args = json.loads(entries["arguments.json"])
    assert args["options"]["n_resamples"] == 99 and args["options"]["rng"] == 0
    # the same inputs again: the same bytes
    again = compare(samples, tmp_path / "2", "--bundle", tmp_path / "b2.zip")
    assert again.exit_code == res.exit_code
    assert (tmp_path / "b.zip").read_bytes() == (tmp_path / "b2.zip").read_bytes()

    ok = invoke("bundle", "verify", tmp_path / "b.zip")
    assert ok.exit_code == 0, ok.output
    assert "intact" in ok.stderr

    shown = invoke("bundle", "show", tmp_path / "b.zip", "--json", "-")
    assert shown.exit_code == 0
    summary = json.loads(shown.stdout)
    verdict = json.loads(entries["verdict.json"])
    assert summary["kind"] == "comparison" and summary["verdict"] == verdict["verdict"]
    assert summary["reasons"] == verdict["reasons"] and summary["intact"] is True
    assert "verdict.json" in summary["files"]
    text = invoke("bundle", "show", tmp_path / "b.zip")
    assert text.exit_code == 0 and verdict["verdict"].upper() in text.stdout
    assert "summary.md" in text.stdout

    # with the data, signed
    signed = compare(
        samples,
        tmp_path / "3",
        "--bundle",
        tmp_path / "s.zip",
        "--include-data",
        "--sign",
        keys / "a.key",
    )
    assert signed.exit_code == res.exit_code
    entries = read_bundle(tmp_path / "s.zip")
    assert entries["data/reference/ref.npy"] == (samples / "ref.npy").read_bytes()
    assert entries["data/candidate/cand.npy"] == (samples / "cand.npy").read_bytes()
    assert (
        invoke("bundle", "verify", tmp_path / "s.zip", "--public-key", keys / "a.pub").exit_code
        == 0
    )
    bad = invoke("bundle", "verify", tmp_path / "s.zip", "--public-key", keys / "b.pub")
    assert bad.exit_code == 1 and "signature" in bad.stderr
    unsigned = invoke("bundle", "verify", tmp_path / "b.zip", "--public-key", keys / "a.pub")
    assert unsigned.exit_code == 1 and "absent" in unsigned.stderr

    # tampered: each problem named on its own line
    rewrite(
        tmp_path / "b.zip",
        tmp_path / "t.zip",
        lambda e: (e.update({"summary.md": b"# PASS\n", "extra.txt": b"x"}), e.pop("inputs.json")),
    )
    bad = invoke("bundle", "verify", tmp_path / "t.zip")
    assert bad.exit_code == 1
    lines = bad.stderr.splitlines()
    for line in ("altered: summary.md", "extra: extra.txt", "missing: inputs.json"):
        assert line in lines
    shown = invoke("bundle", "show", tmp_path / "t.zip", "--json", "-")
    assert json.loads(shown.stdout)["intact"] is False

    # usage and input errors: exit 2, one line
    (tmp_path / "junk.zip").write_bytes(b"junk")
    for args in (
        ("bundle", "verify", tmp_path / "junk.zip"),
        ("bundle", "show", tmp_path / "missing.zip"),
        ("bundle", "verify", tmp_path / "b.zip", "--public-key", tmp_path / "junk.zip"),
    ):
        err = invoke(*args)
        assert err.exit_code == 2 and err.stderr.startswith("error: ")
        assert len(err.stderr.splitlines()) == 1
    err = compare(samples, tmp_path / "4", "--sign", keys / "a.key")
    assert err.exit_code == 2 and "--bundle" in err.stderr
    err = compare(samples, tmp_path / "5", "--bundle", tmp_path / "x.zip", "--sign", keys / "a.pub")
    assert err.exit_code == 2 and "private key" in err.stderr


def test_verify_as_a_subprocess(tmp_path):
    build_bundle(tmp_path / "b.zip", ENTRIES)
    done = subprocess.run(
        [str(PARITY), "bundle", "verify", str(tmp_path / "b.zip")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    rewrite(tmp_path / "b.zip", tmp_path / "t.zip", lambda e: e.update({"verdict.json": b"{}"}))
    done = subprocess.run(
        [str(PARITY), "bundle", "verify", str(tmp_path / "t.zip")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and "altered: verdict.json" in done.stderr.splitlines()


def test_suite_report_writes_a_bundle_that_verifies(tmp_path, keys):
    from parity.suite.manifest import parse_manifest
    from suites import manifest_dict, runs_for, write_store

    spec = manifest_dict(components={})
    path = write_store(tmp_path, spec, runs_for(parse_manifest(spec)))
    res = invoke("suite", "report", path, "--out", tmp_path / "out", "--quiet")
    assert res.exit_code == 0, res.output
    bundle = tmp_path / "out" / "evidence_bundle.zip"  # into --out by default
    entries = read_bundle(bundle)
    reports = {p.name for p in (tmp_path / "out").iterdir()} - {bundle.name, MARKER}
    assert reports <= set(entries) and "equivalence_report.json" in reports
    for name in reports:
        assert entries[name] == (tmp_path / "out" / name).read_bytes()
    assert entries["manifest.yaml"] == path.read_bytes()
    assert json.loads(entries["manifest.json"])["name"] == "toy"
    runs = entries["runs.jsonl"].decode().splitlines()
    assert len(runs) == 2 * 3 * 8 * 2 and json.loads(runs[0])["key"]["system"] == "candidate"
    assert json.loads(entries["inputs.json"]) == {"suite.yaml": verify_sha(path)}
    assert {"environment.json", SUMS_NAME} <= set(entries)
    assert invoke("bundle", "verify", bundle).exit_code == 0
    shown = json.loads(invoke("bundle", "show", bundle, "--json", "-").stdout)
    assert shown["kind"] == "suite" and shown["verdict"] == "pass" and shown["reasons"]
    # again: byte-identical; signed: verifies with the key
    elsewhere = tmp_path / "elsewhere" / "suite.zip"
    again = invoke("suite", "report", path, "--out", tmp_path / "out2", "--bundle", elsewhere)
    assert again.exit_code == 0
    assert elsewhere.read_bytes() == bundle.read_bytes()
    assert not (tmp_path / "out2" / bundle.name).exists()  # --bundle PATH: there instead
    signed = invoke("suite", "report", path, "--out", tmp_path / "s", "--sign", keys / "a.key")
    assert signed.exit_code == 0
    ok = invoke("bundle", "verify", tmp_path / "s" / bundle.name, "--public-key", keys / "a.pub")
    assert ok.exit_code == 0 and "signature valid" in ok.stderr
    # without --bundle (and without --include-data / --sign) no bundle unless by default
    from parity.cli.suite_report import BUNDLE_BY_DEFAULT

    plain = invoke("suite", "report", path, "--out", tmp_path / "plain", "--quiet")
    assert plain.exit_code == 0
    assert (tmp_path / "plain" / bundle.name).is_file() == BUNDLE_BY_DEFAULT
    none = invoke("suite", "report", path, "--out", tmp_path / "none", "--no-bundle", "--quiet")
    assert none.exit_code == 0 and not (tmp_path / "none" / bundle.name).exists()


def test_suite_report_bundle_option_errors(tmp_path, keys):
    """--bundle takes a PATH (the old flag spelling is refused, not taken as a file name);
    --no-bundle with a bundle option is a contradiction; both before any work."""
    from parity.suite.manifest import parse_manifest
    from suites import manifest_dict, runs_for, write_store

    spec = manifest_dict(components={})
    path = write_store(tmp_path, spec, runs_for(parse_manifest(spec)))
    out = tmp_path / "out"
    old = invoke("suite", "report", path, "--out", out, "--bundle", "--quiet")
    assert old.exit_code == 2 and not out.exists()
    assert old.stderr.splitlines() == [
        "error: --bundle takes a PATH (by default the bundle is <out>/evidence_bundle.zip); "
        "got '--quiet'"
    ]
    for extra in (["--bundle", tmp_path / "b.zip"], ["--include-data"], ["--sign", keys / "a.key"]):
        res = invoke("suite", "report", path, "--out", out, "--no-bundle", *extra)
        assert res.exit_code == 2 and not out.exists(), res.output
        assert res.stderr.startswith("error: --no-bundle and --") and "contradict" in res.stderr


def test_suite_bundle_with_result_files(tmp_path):
    """Runs that recorded result files: their hashes in inputs.json, the files under data/."""
    import hashlib

    from parity.suite.manifest import parse_manifest
    from parity.suite.records import RunRecord
    from suites import manifest_dict, runs_for, write_store

    spec = manifest_dict(components={})
    runs = []
    for run in runs_for(parse_manifest(spec)):
        k = run.key
        out_dir = f"runs/{k.system}/{k.task}/{k.seed}/{k.rerun}"
        data = json.dumps(run.metrics).encode()
        (tmp_path / out_dir).mkdir(parents=True)
        (tmp_path / out_dir / "metrics.json").write_bytes(data)
        files = {"metrics.json": hashlib.sha256(data).hexdigest()}
        runs.append(RunRecord(k, "ok", run.metrics, files=files, out_dir=out_dir))
    path = write_store(tmp_path, spec, runs)
    res = invoke("suite", "report", path, "--out", tmp_path / "out", "--include-data", "--quiet")
    assert res.exit_code == 0, res.output
    bundle = tmp_path / "out" / "evidence_bundle.zip"
    entries = read_bundle(bundle)
    inputs = json.loads(entries["inputs.json"])
    assert len(inputs) == 1 + len(runs)
    name = "runs/reference/a/0/0/metrics.json"
    assert entries[f"data/{name}"] == (tmp_path / name).read_bytes()
    assert inputs[name] == hashlib.sha256(entries[f"data/{name}"]).hexdigest()
    assert verify_bundle(bundle).ok
    # a result file changed after it was recorded: refused, one line
    (tmp_path / name).write_bytes(b"{}")
    res = invoke("suite", "report", path, "--out", tmp_path / "o2", "--include-data", "--quiet")
    assert res.exit_code == 2 and "changed since it was recorded" in res.stderr


def verify_sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
