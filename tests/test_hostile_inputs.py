"""Hostile and careless inputs end in one ``error:`` line and exit 2 (ParityInputError in the
library), within bounded time and memory: huge .npy headers, deep JSON, non-UTF-8 files and
names, seeds out of range, NaN/inf options, counts beyond parity.limits; and a property test
feeding random bytes and random JSON to every loader."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parity import io as pio
from parity.agents.loading import load_runs
from parity.agents.reweighting import load_target_profile
from parity.errors import ParityInputError, check_positive_int
from parity.gate import load_gate_items, load_gate_log
from parity.limits import MAX_RESAMPLES, MAX_SEED
from processes import invoke

pytestmark = pytest.mark.timeout(300)

SRC = str(Path(__file__).parents[1] / "src")
MEMORY_CAP = 3 * 2**30  # address space of the capped subprocess: far below any huge header
RUN_CLI = "import sys; from parity.cli.main import run; sys.argv[0] = 'parity'; run()"
CAPPED = (
    "import resource, sys; resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap})); "
    "from parity.cli.main import run; sys.argv[0] = 'parity'; run()"
)


def one_error_line(stderr: str, pattern: str = "") -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert "Traceback" not in stderr and pattern in lines[0], lines[0]
    return lines[0]


def run_capped(args, cwd, timeout=120):
    """``parity ARGS`` in a subprocess with its address space capped at MEMORY_CAP."""
    code = CAPPED.format(cap=MEMORY_CAP)
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        cwd=cwd,
        capture_output=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": SRC},
    )


def npy_header(shape, descr="<f8") -> bytes:
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}"
    header = header.ljust(118) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1")


@pytest.fixture()
def good(tmp_path):
    rng = np.random.default_rng(0)
    a, b = tmp_path / "a.npy", tmp_path / "b.npy"
    np.save(a, rng.normal(size=(30, 2)))
    np.save(b, rng.normal(size=(30, 2)))
    return a, b


# --------------------------------------------------------------------------------------------
# huge and forged array headers, under a memory cap


def test_a_npy_header_declaring_21_tib_is_refused_before_allocating(tmp_path, good):
    huge = tmp_path / "huge.npy"
    huge.write_bytes(npy_header((3_000_000_000, 1000)) + b"\0" * 64)
    proc = run_capped(["compare", huge, good[1], "--quiet", "--out", tmp_path / "o"], tmp_path)
    assert proc.returncode == 2, proc.stderr.decode()
    line = one_error_line(proc.stderr.decode(), "header declares shape (3000000000×1000)")
    assert "TiB" in line and "at most 16.0 GiB" in line


def test_a_header_declaring_more_than_the_file_holds_is_refused(tmp_path):
    short = tmp_path / "short.npy"
    short.write_bytes(npy_header((1000, 2)) + b"\0" * 160)  # 10 rows of the 1000 declared
    with pytest.raises(ParityInputError, match=r"15\.6 KiB, but the file holds 160 bytes"):
        pio.load_samples(short)


def test_an_npz_member_header_declaring_a_huge_shape_is_refused(tmp_path, good):
    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("actions.npy", npy_header((2**40, 4)) + b"\0" * 4096)
    proc = run_capped(["compare", bomb, good[1], "--quiet", "--out", tmp_path / "o"], tmp_path)
    assert proc.returncode == 2, proc.stderr.decode()
    one_error_line(proc.stderr.decode(), "array `actions`: header declares shape")


# --------------------------------------------------------------------------------------------
# deep JSON, non-UTF-8 files and names


JSON_LOADERS = {
    "load_samples": pio.load_samples,
    "load_text_samples": pio.load_text_samples,
    "load_gate_items": load_gate_items,
    "load_gate_log": load_gate_log,
    "load_runs": load_runs,
    "load_target_profile": load_target_profile,
}


@pytest.mark.parametrize("loader", sorted(JSON_LOADERS))
@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_json_nested_100000_deep_is_one_error(tmp_path, loader, suffix):
    path = tmp_path / f"deep{suffix}"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ParityInputError) as info:
        JSON_LOADERS[loader](path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("loader", sorted(JSON_LOADERS))
def test_non_utf8_files_are_one_error(tmp_path, loader):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"id": "caf\xe9", "hard": 1}\n'.encode("latin-1"))
    with pytest.raises(ParityInputError, match="not UTF-8"):
        JSON_LOADERS[loader](path)


def test_a_non_utf8_file_name_is_exit_2(tmp_path, good):
    name = os.fsencode(tmp_path) + b"/\xff\xfe.npy"
    with open(name, "wb") as fh:
        fh.write(good[0].read_bytes())
    args = [b"compare", name, os.fsencode(good[1]), b"--quiet", b"--out", b"o"]
    proc = subprocess.run(
        [sys.executable, "-c", RUN_CLI, *args],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": SRC},
    )
    assert proc.returncode == 2
    one_error_line(proc.stderr.decode(), "is not valid UTF-8")


# --------------------------------------------------------------------------------------------
# seeds, NaN/inf and counts


def gate_files(tmp_path):
    items = tmp_path / "items.jsonl"
    items.write_text("".join(f'{{"id": "q{i}", "hard": {i % 2}}}\n' for i in range(6)))
    return ["gate", items, items]


def agent_files():
    from parity.examples.agent_runs import example_path

    return ["agents", "analyze", example_path("runs")]


@pytest.mark.parametrize("seed", ["-1", str(MAX_SEED + 1), "1.5"])
def test_seeds_out_of_range_are_exit_2(tmp_path, good, seed):
    for head in (
        ["compare", *good, "--out", tmp_path / "o"],
        gate_files(tmp_path),
        [*agent_files(), "--out", tmp_path / "ag"],
    ):
        res = invoke(*head, "--seed", seed, "--quiet")
        assert res.exit_code == 2, (head, res.output)
        one_error_line(res.stderr, "--seed")


def test_library_seeds_out_of_range_are_input_errors(good):
    from parity import compare

    x, y = (np.load(p) for p in good)
    with pytest.raises(ParityInputError, match=r"`rng` must be an integer in \[0, "):
        compare(x, y, rng=-1, sensitivity=False, n_resamples=99)


@pytest.mark.parametrize(
    "args",
    [
        ["equivalence", "A", "B", "--margin", "nan"],
        ["equivalence", "A", "B", "--margin", "-inf,0.1"],
        ["equivalence", "A", "B", "--margin", "0.1", "--alpha", "nan"],
        ["compare", "A", "B", "--tolerance", "nan"],
        ["compare", "A", "B", "--dt", "inf"],
        ["compare", "A", "B", "--max-detectable-shift", "nan"],
        ["agents", "analyze", "A", "--success-threshold", "nan"],
        ["agents", "analyze", "A", "--threshold", "inf"],
        ["GATE", "--min-delta", "nan"],
        ["GATE", "--best-hard", "nan"],
        ["GATE", "--mixed-weight", "inf", "--metric", "mixed"],
    ],
    ids=lambda a: " ".join(a),
)
def test_nan_and_inf_options_are_exit_2_at_parse_time(tmp_path, good, args):
    files = {"A": str(good[0]), "B": str(good[1])}
    args = [files.get(a, a) for a in args]
    if args[0] == "GATE":
        args = [*gate_files(tmp_path), *args[1:]]
    res = invoke(*args, "--quiet")
    assert res.exit_code == 2, res.output
    line = one_error_line(res.stderr)
    assert "finite" in line, line


@pytest.mark.parametrize(
    "head, option",
    [
        ("compare", "--resamples"),
        ("gate", "--resamples"),
        ("gate", "--bootstrap"),
        ("agents", "--bootstrap"),
    ],
)
def test_counts_beyond_the_limit_are_exit_2_naming_the_limit(tmp_path, good, head, option):
    args = {
        "compare": ["compare", *good, "--out", tmp_path / "o"],
        "gate": [*gate_files(tmp_path), "--paired"],
        "agents": [*agent_files(), "--out", tmp_path / "ag"],
    }[head]
    for value in (str(10**23), str(MAX_RESAMPLES + 1)):
        res = invoke(*args, option, value, "--quiet")
        assert res.exit_code == 2, res.output
        one_error_line(res.stderr, f"{option}': must be at most 10,000,000; got {value}")


def test_library_counts_beyond_the_limit_raise(good):
    from parity import compare
    from parity.stats.bootstrap import bootstrap_ci
    from parity.stats.sign_flip import sign_flip_test

    x, y = (np.load(p) for p in good)
    with pytest.raises(ParityInputError, match="at most 10,000,000"):
        compare(x, y, n_resamples=10**23, sensitivity=False)
    with pytest.raises(ParityInputError, match="at most 10,000,000"):
        bootstrap_ci(x[:, 0], np.mean, n_resamples=10**12)
    with pytest.raises(ParityInputError, match="at most 10,000,000"):
        sign_flip_test(x[:, 0], n_resamples=10**12)
    assert check_positive_int("n_resamples", MAX_RESAMPLES) == MAX_RESAMPLES
    with pytest.raises(ParityInputError, match="integer >= 1"):
        check_positive_int("n_resamples", float("nan"))


# --------------------------------------------------------------------------------------------
# property test: random bytes and random JSON to every loader

FILE_LOADERS = {
    "load_samples": pio.load_samples,
    "load_episodes": pio.load_episodes,
    "load_observation_samples": pio.load_observation_samples,
    "load_text_samples": pio.load_text_samples,
    "is_text_samples": pio.is_text_samples,
    "read_text": pio.read_text,
    **JSON_LOADERS,
}
SUFFIXES = [".npy", ".npz", ".csv", ".json", ".jsonl"]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(
        st.sampled_from(["id", "hard", "soft", "x", "prompt", "completion", "tokens", "steps",
                         "messages", "task", "shares", "by", "run_id", "step", "action",
                         "episode", "observation", "success"]) | st.text(max_size=4),
        children,
        max_size=6,
    ),
    max_leaves=20,
)  # fmt: skip


def _clean_or_input_error(path: Path) -> None:
    for name, loader in FILE_LOADERS.items():
        try:
            loader(path)
        except ParityInputError as exc:
            assert "\n" not in str(exc), (name, str(exc))
        except Exception as exc:  # the point: nothing else may escape
            raise AssertionError(f"{name}({path.name}): {type(exc).__name__}: {exc}") from exc


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.binary(max_size=600), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes_to_every_loader(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("bytes") / f"f{suffix}"
    path.write_bytes(data)
    _clean_or_input_error(path)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(value=json_values, lines=st.booleans(), suffix=st.sampled_from([".json", ".jsonl"]))
def test_random_json_to_every_loader(tmp_path_factory, value, lines, suffix):
    path = tmp_path_factory.mktemp("json") / f"f{suffix}"
    if lines and isinstance(value, list):
        text = "".join(json.dumps(v) + "\n" for v in value)
    else:
        text = json.dumps(value)
    path.write_text(text)
    _clean_or_input_error(path)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.binary(max_size=300), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes_to_the_cli_are_exit_2_or_a_verdict(tmp_path_factory, data, suffix):
    d = tmp_path_factory.mktemp("cli")
    path = d / f"f{suffix}"
    path.write_bytes(data)
    good = d / "g.npy"
    np.save(good, np.random.default_rng(0).normal(size=(20, 1)))
    for args in (
        ["compare", path, good, "--resamples", "99", "--no-sensitivity", "--out", d / "o"],
        ["equivalence", path, good, "--margin", "1"],
        ["gate", path, path],
        ["agents", "analyze", path, "--out", d / "ag", "--bootstrap", "50"],
    ):
        res = invoke(*args, "--quiet", "--force")
        assert res.exit_code in (0, 1, 2, 3), (args[0], res.output)
        if res.exit_code == 2:
            one_error_line(res.stderr)


def test_library_success_threshold_nan_is_an_input_error():
    from parity.examples.agent_runs import example_path

    with pytest.raises(ParityInputError, match="`success_threshold` must be a finite number"):
        load_runs(example_path("runs"), success_threshold=float("nan"))
