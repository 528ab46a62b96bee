"""Tests of parity.io: loading samples and episodes, and its one-line input errors."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parity.errors import ParityInputError
from parity.io import (
    SUPPORTED_EXTENSIONS,
    load_episodes,
    load_samples,
    parse_spec,
    sha256_file,
)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Work in tmp_path so that specs (and the file names in messages) are short."""
    monkeypatch.chdir(tmp_path)


def write(name: str, text: str) -> str:
    Path(name).write_text(text, encoding="utf-8")
    return name


def write_jsonl(name: str, records: list) -> str:
    return write(name, "".join(json.dumps(r) + "\n" for r in records))


def raises(pattern: str):
    """``pytest.raises`` for ParityInputError whose message matches ``pattern`` (a regex)."""
    return pytest.raises(ParityInputError, match=pattern)


def one_line(excinfo: pytest.ExceptionInfo) -> str:
    msg = str(excinfo.value)
    assert "\n" not in msg
    return msg


# --------------------------------------------------------------------------------------------
# parse_spec


@pytest.mark.parametrize(
    ("spec", "path", "name"),
    [
        ("ref.npz:actions", "ref.npz", "actions"),
        ("ref.NPZ:actions", "ref.NPZ", "actions"),
        ("data.csv:x,y", "data.csv", "x,y"),
        ("runs.jsonl:score", "runs.jsonl", "score"),
        ("orig.npy", "orig.npy", None),
        ("ref.npz:", "ref.npz", None),
        ("C:/data/orig.npy", "C:/data/orig.npy", None),
        ("C:/data/ref.npz:obs", "C:/data/ref.npz", "obs"),
        ("odd:dir/orig.npy", "odd:dir/orig.npy", None),
        ("time 12:30.npy", "time 12:30.npy", None),
        ("notes.txt:x", "notes.txt:x", None),
    ],
)
def test_parse_spec(spec: str, path: str, name: str | None) -> None:
    assert parse_spec(spec) == (Path(path), name)


def test_parse_spec_pathlike_is_never_split() -> None:
    assert parse_spec(Path("a.npz:b")) == (Path("a.npz:b"), None)


# --------------------------------------------------------------------------------------------
# load_samples: round trips


def test_npy_2d_round_trip() -> None:
    x = np.random.default_rng(0).normal(size=(7, 3))
    np.save("orig.npy", x)
    out = load_samples("orig.npy")
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, x)


def test_npy_1d_becomes_column_and_ints_bools_become_float() -> None:
    np.save("a.npy", np.arange(4))
    np.save("b.npy", np.array([True, False, True]))
    a = load_samples("a.npy")
    assert a.shape == (4, 1)
    assert a.dtype == np.float64
    np.testing.assert_array_equal(load_samples("b.npy")[:, 0], [1.0, 0.0, 1.0])


def test_npz_named_and_single_array() -> None:
    acts = np.arange(10.0).reshape(5, 2)
    np.savez("ref.npz", actions=acts, obs=np.zeros(5))
    np.testing.assert_array_equal(load_samples("ref.npz:actions"), acts)
    np.testing.assert_array_equal(load_samples("ref.npz", name="actions"), acts)
    np.testing.assert_array_equal(load_samples(Path("ref.npz"), name="obs"), np.zeros((5, 1)))
    np.savez_compressed("one.npz", only=acts)
    np.testing.assert_array_equal(load_samples("one.npz"), acts)


def test_csv_round_trip_and_column_selection() -> None:
    write("data.csv", "x, y ,z\n1,2,3\n4, 5.5 ,6e-1\n\n-7,8,9\n")
    np.testing.assert_array_equal(load_samples("data.csv"), [[1, 2, 3], [4, 5.5, 0.6], [-7, 8, 9]])
    np.testing.assert_array_equal(load_samples("data.csv:z,x"), [[3, 1], [0.6, 4], [9, -7]])


def test_csv_with_byte_order_mark() -> None:
    Path("bom.csv").write_bytes("\ufeffx\n1\n2\n".encode())
    np.testing.assert_array_equal(load_samples("bom.csv"), [[1.0], [2.0]])


def test_jsonl_round_trip_expands_lists_in_first_line_key_order() -> None:
    write_jsonl(
        "runs.jsonl",
        [
            {"b": 1, "pos": [0.5, 1.5], "a": True},
            {"a": False, "b": 2, "pos": [2.5, 3.5]},
        ],
    )
    np.testing.assert_array_equal(load_samples("runs.jsonl"), [[1, 0.5, 1.5, 1], [2, 2.5, 3.5, 0]])
    np.testing.assert_array_equal(load_samples("runs.jsonl:pos"), [[0.5, 1.5], [2.5, 3.5]])


def test_jsonl_skips_blank_lines() -> None:
    write("runs.jsonl", '{"s": 1}\n\n{"s": 2}\n\n')
    np.testing.assert_array_equal(load_samples("runs.jsonl"), [[1.0], [2.0]])


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ([{"x": 1, "y": [2, 3]}, {"x": 4, "y": [5, 6]}], [[1, 2, 3], [4, 5, 6]]),
        ([[1, 2], [3, 4], [5, 6]], [[1, 2], [3, 4], [5, 6]]),
        ([0.25, 0.5, 0.75], [[0.25], [0.5], [0.75]]),
    ],
)
def test_json_round_trip(doc: list, expected: list) -> None:
    write("data.json", json.dumps(doc))
    out = load_samples("data.json")
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, expected)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=2, max_size=2),
        min_size=2,
        max_size=8,
    )
)
def test_csv_and_jsonl_round_trip_exactly(rows: list[list[float]]) -> None:
    write("p.csv", "a,b\n" + "".join(f"{r[0]!r},{r[1]!r}\n" for r in rows))
    write_jsonl("p.jsonl", [{"a": r[0], "b": r[1]} for r in rows])
    np.testing.assert_array_equal(load_samples("p.csv"), rows)
    np.testing.assert_array_equal(load_samples("p.jsonl"), rows)


# --------------------------------------------------------------------------------------------
# load_episodes: round trips


def test_episodes_3d_array_as_is() -> None:
    x = np.random.default_rng(1).normal(size=(3, 5, 2)).astype(np.float32)
    np.savez("roll.npz", obs=x)
    out = load_episodes("roll.npz:obs")
    assert out.dtype == np.float64
    assert out.shape == (3, 5, 2)
    np.testing.assert_array_equal(out, x.astype(np.float64))


def test_episodes_2d_array_is_one_episode() -> None:
    np.save("traj.npy", np.arange(8.0).reshape(4, 2))
    out = load_episodes("traj.npy")
    assert out.shape == (1, 4, 2)


def test_episodes_csv_grouped_in_order_of_first_appearance_unequal_lengths() -> None:
    write("roll.csv", "x,episode,y\n1,b,10\n2,a,20\n3,b,30\n4,a,40\n5,a,50\n")
    out = load_episodes("roll.csv")
    assert isinstance(out, list)
    np.testing.assert_array_equal(out[0], [[1, 10], [3, 30]])  # episode "b" came first
    np.testing.assert_array_equal(out[1], [[2, 20], [4, 40], [5, 50]])


def test_episodes_jsonl_equal_lengths_are_stacked() -> None:
    recs = [{"episode": e, "t": t, "q": [e, t]} for e in (7, 3) for t in range(3)]
    write_jsonl("roll.jsonl", recs)
    out = load_episodes("roll.jsonl")
    assert isinstance(out, np.ndarray)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out[1, :, 0], [0, 1, 2])
    np.testing.assert_array_equal(out[1, :, 1], [3, 3, 3])


def test_episodes_json_custom_column_and_selection() -> None:
    doc = [{"run": "r1", "x": 1, "y": 9}, {"run": "r1", "x": 2, "y": 9}]
    write("roll.json", json.dumps(doc))
    out = load_episodes("roll.json:x", episode_column="run")
    np.testing.assert_array_equal(out, [[[1], [2]]])


def test_episodes_table_without_episode_column_is_one_episode() -> None:
    write("traj.csv", "x,y\n1,2\n3,4\n5,6\n")
    out = load_episodes("traj.csv")
    assert out.shape == (1, 3, 2)


# --------------------------------------------------------------------------------------------
# sha256_file


def test_sha256_file_matches_hashlib() -> None:
    data = bytes(range(256)) * 1000
    Path("blob.bin").write_bytes(data)
    assert sha256_file("blob.bin", chunk_size=1000) == hashlib.sha256(data).hexdigest()


def test_sha256_file_missing() -> None:
    with raises(r"^nothing\.bin: file not found$"):
        sha256_file("nothing.bin")


# --------------------------------------------------------------------------------------------
# errors: files


def test_missing_file_exact_message() -> None:
    with raises(r"^orig\.npy: file not found$"):
        load_samples("orig.npy")
    with raises(r"^ref\.npz: file not found$"):
        load_episodes("ref.npz:obs")


def test_unsupported_extension_names_supported_ones() -> None:
    write("notes.txt", "1\n2\n")
    with raises(r"notes\.txt: unsupported file type \('\.txt'\); supported: ") as exc:
        load_samples("notes.txt")
    assert all(ext in str(exc.value) for ext in SUPPORTED_EXTENSIONS)
    with raises(r"README: unsupported file type \(no extension\)"):
        load_episodes("README")


def test_directory_is_not_a_file() -> None:
    Path("dir.npy").mkdir()
    with raises(r"dir\.npy: is a directory"):
        load_samples("dir.npy")


def test_zero_byte_file_is_empty() -> None:
    Path("empty.npy").write_bytes(b"")
    with raises(r"empty\.npy: file is empty"):
        load_samples("empty.npy")


def test_conflicting_names() -> None:
    np.savez("ref.npz", a=np.zeros(3), b=np.zeros(3))
    with raises(r"ref\.npz: two different names given: `a` in the spec and name='b'"):
        load_samples("ref.npz:a", name="b")


# --------------------------------------------------------------------------------------------
# errors: NaN / inf


def test_nan_in_npz_exact_message() -> None:
    acts = np.zeros((100, 2))
    acts[4, 0] = np.nan
    acts[17, 1] = np.inf
    acts[90, 0] = -np.inf
    np.savez("ref.npz", actions=acts, obs=np.zeros(3))
    with raises(
        r"^ref\.npz: array `actions` has 3 NaN/inf values \(rows 4, 17, 90\); "
        r"values must be finite$"
    ) as exc:
        load_samples("ref.npz:actions")
    one_line(exc)


def test_nan_lists_first_five_rows_then_ellipsis() -> None:
    x = np.zeros((20, 1))
    x[[1, 3, 5, 7, 9, 11, 13]] = np.nan
    np.save("orig.npy", x)
    with raises(r"orig\.npy: array has 7 NaN/inf values \(rows 1, 3, 5, 7, 9, …\)"):
        load_samples("orig.npy")


def test_nan_in_3d_names_episodes() -> None:
    x = np.zeros((4, 5, 2))
    x[1, 2, 0] = np.nan
    x[3, 0, 1] = np.nan
    x[3, 4, 1] = np.inf
    np.save("roll.npy", x)
    with raises(r"roll\.npy: array has 3 NaN/inf values \(episodes 1, 3\); values must be finite"):
        load_episodes("roll.npy")


def test_nan_in_csv_names_lines() -> None:
    write("data.csv", "x,y\n1,2\n3,nan\n5,6\ninf,8\n")
    with raises(r"data\.csv: table has 2 NaN/inf values \(lines 3, 5\); values must be finite"):
        load_samples("data.csv")
    with raises(r"data\.csv: table has 2 NaN/inf values \(lines 3, 5\)"):
        load_episodes("data.csv")


def test_nan_in_json_names_items() -> None:
    write("data.json", "[[1, 2], [3, NaN], [4, 5]]")
    with raises(r"data\.json: table has 1 NaN/inf value \(item 1\)"):
        load_samples("data.json")


# --------------------------------------------------------------------------------------------
# errors: sizes and dimensions


def test_fewer_than_two_samples() -> None:
    np.save("orig.npy", np.zeros((1, 3)))
    with raises(r"orig\.npy: array has 1 sample \(row\); at least 2 are needed"):
        load_samples("orig.npy")
    write("data.csv", "x,y\n")
    with raises(r"data\.csv: table has 0 samples \(rows\); at least 2 are needed"):
        load_samples("data.csv")


def test_no_columns() -> None:
    np.save("orig.npy", np.zeros((4, 0)))
    with raises(r"orig\.npy: array has no columns \(shape \(4, 0\)\)"):
        load_samples("orig.npy")


def test_episode_with_fewer_than_two_steps() -> None:
    write("roll.csv", "episode,x\nA,1\nA,2\nB,3\nC,4\nC,5\n")
    with raises(
        r"roll\.csv: episode 'B' has 1 step \(line 4\); every episode needs at least 2 steps"
    ):
        load_episodes("roll.csv")
    np.save("short.npy", np.zeros((3, 1, 2)))
    with raises(r"short\.npy: array has episodes of 1 step .*at least 2 steps"):
        load_episodes("short.npy")
    np.save("one.npy", np.zeros((1, 2)))
    with raises(r"one\.npy: array is one episode of 1 step .*at least 2 steps"):
        load_episodes("one.npy")
    write("one.csv", "x\n1\n")
    with raises(r"one\.csv: table is one episode \(no `episode` column\) of 1 step"):
        load_episodes("one.csv")


def test_3d_array_to_load_samples_says_use_episodes() -> None:
    np.savez("roll.npz", obs=np.zeros((2, 3, 4)))
    with raises(
        r"roll\.npz: array `obs` is 3-D with shape \(2, 3, 4\); samples must be 1-D \(n\) or "
        r"2-D \(n × d\); for episodes × T × d data load it as episodes"
    ):
        load_samples("roll.npz")


def test_wrong_dimensions_for_episodes() -> None:
    np.save("flat.npy", np.zeros(5))
    with raises(r"flat\.npy: array is 1-D with shape \(5,\); episodes must be 2-D .* or 3-D"):
        load_episodes("flat.npy")
    np.save("none.npy", np.zeros((0, 3, 2)))
    with raises(r"none\.npy: array has no episodes"):
        load_episodes("none.npy")


# --------------------------------------------------------------------------------------------
# errors: npy / npz contents


@pytest.mark.parametrize(
    ("arr", "dtype"),
    [
        (np.array(["a", "b", "c"]), "<U1"),
        (np.array([1 + 2j, 3j]), "complex128"),
        (np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[D]"), "datetime64"),
    ],
)
def test_non_numeric_dtype_npy(arr: np.ndarray, dtype: str) -> None:
    np.save("bad.npy", arr)
    with raises(rf"bad\.npy: array has non-numeric dtype {re.escape(dtype)}.*expected numbers"):
        load_samples("bad.npy")


def test_object_array_npy_and_npz() -> None:
    obj = np.array([1, "x", None], dtype=object)
    np.save("obj.npy", obj, allow_pickle=True)
    with raises(r"obj\.npy: array has non-numeric dtype object"):
        load_samples("obj.npy")
    np.savez("obj.npz", a=obj)
    with raises(r"obj\.npz: array `a` has non-numeric dtype object"):
        load_episodes("obj.npz")


def test_npz_several_arrays_without_name_lists_them() -> None:
    np.savez("ref.npz", actions=np.zeros(3), obs=np.zeros(3))
    with raises(r"ref\.npz: archive holds 2 arrays \(`actions`, `obs`\); name one as ref\.npz:"):
        load_samples("ref.npz")


def test_npz_unknown_name_lists_available() -> None:
    np.savez("ref.npz", actions=np.zeros(3), obs=np.zeros(3))
    with raises(r"ref\.npz: no array `act` in the archive; available: `actions`, `obs`"):
        load_samples("ref.npz:act")


def test_npz_without_arrays() -> None:
    np.savez("void.npz")
    with raises(r"void\.npz: archive holds no arrays"):
        load_samples("void.npz")


def test_name_given_for_npy() -> None:
    np.save("orig.npy", np.zeros(3))
    with raises(r"orig\.npy: an array name \(`x`\) only applies to \.npz archives"):
        load_samples("orig.npy:x")


def test_corrupted_npy_truncated() -> None:
    np.save("orig.npy", np.zeros((50, 3)))
    raw = Path("orig.npy").read_bytes()
    Path("orig.npy").write_bytes(raw[:-40])
    with raises(r"^orig\.npy: array: header declares shape \(50×3\) .* \(truncated or") as exc:
        load_samples("orig.npy")
    one_line(exc)


def test_corrupted_npz() -> None:
    Path("ref.npz").write_bytes(b"PK\x03\x04" + b"\x00garbage" * 20)
    with raises(r"^ref\.npz: cannot read \.npz file \("):
        load_samples("ref.npz")


def test_not_a_numpy_file() -> None:
    write("orig.npy", "x,y\n1,2\n")
    with raises(r"orig\.npy: not a NumPy \.npy file"):
        load_samples("orig.npy")


def test_misnamed_npy_npz() -> None:
    np.savez("arc.npz", a=np.zeros(3))
    Path("arc.npz").rename("arc.npy")
    with raises(r"arc\.npy: is an \.npz archive, not a \.npy array"):
        load_samples("arc.npy")
    np.save("arr.npy", np.zeros(3))
    Path("arr.npy").rename("arr.npz")
    with raises(r"arr\.npz: is a \.npy array, not an \.npz archive"):
        load_samples("arr.npz")


# --------------------------------------------------------------------------------------------
# errors: CSV


def test_empty_csv() -> None:
    write("data.csv", "")
    with raises(r"data\.csv: file is empty; a CSV file needs a header row"):
        load_samples("data.csv")
    write("blank.csv", "\n\n  \n")
    with raises(r"blank\.csv: file is empty; a CSV file needs a header row"):
        load_samples("blank.csv")


def test_csv_without_header() -> None:
    write("data.csv", "1,2\n3,4\n")
    with raises(r"data\.csv: no header row \(line 1 holds only numbers: 1, 2\)"):
        load_samples("data.csv")


def test_csv_header_problems() -> None:
    write("gap.csv", "x,,y\n1,2,3\n")
    with raises(r"gap\.csv: header \(line 1\) has no name for column 2"):
        load_samples("gap.csv")
    write("dup.csv", "x,y,x\n1,2,3\n")
    with raises(r"dup\.csv: header \(line 1\) repeats column names `x`"):
        load_samples("dup.csv")


def test_csv_ragged_rows() -> None:
    write("data.csv", "x,y,z\n1,2,3\n4,5\n")
    with raises(r"data\.csv: line 3 has 2 cells but the header has 3 columns"):
        load_samples("data.csv")


def test_csv_non_numeric_cell_names_column_line_value() -> None:
    write("data.csv", "x,speed\n1,2\n3,fast\n")
    with raises(
        r"^data\.csv: line 3, column `speed`: value 'fast' is not a number; values must be numbers$"
    ):
        load_samples("data.csv")
    write("hole.csv", "x,y\n1,\n3,4\n")
    with raises(r"hole\.csv: line 2, column `y`: empty cell"):
        load_samples("hole.csv")


def test_csv_string_episode_ids_are_not_numeric_samples() -> None:
    write("roll.csv", "episode,x\nA,1\nA,2\n")
    with raises(r"roll\.csv: line 2, column `episode`: value 'A' is not a number"):
        load_samples("roll.csv")


def test_unknown_column_lists_available() -> None:
    write("data.csv", "x,y\n1,2\n3,4\n")
    with raises(r"data\.csv: no column `z`; available: `x`, `y`"):
        load_samples("data.csv:z")
    write("roll.csv", "episode,x\nA,1\nA,2\n")
    with raises(r"roll\.csv: no columns to load besides `episode`"):
        load_episodes("roll.csv:episode")


def test_not_utf8() -> None:
    Path("data.csv").write_bytes(b"x\n\xff\xfe\n")
    with raises(r"data\.csv: not UTF-8 text"):
        load_samples("data.csv")


# --------------------------------------------------------------------------------------------
# errors: JSONL / JSON


def test_jsonl_invalid_line_names_line() -> None:
    write("runs.jsonl", '{"a": 1}\n{"a": 2\n')
    with raises(r"^runs\.jsonl: line 2 is not valid JSON \("):
        load_samples("runs.jsonl")


def test_jsonl_keys_must_match() -> None:
    write_jsonl("runs.jsonl", [{"a": 1, "b": 2}, {"a": 1, "b": 2}, {"a": 3, "c": 4}])
    with raises(
        r"runs\.jsonl: line 3 has other keys than line 1 \(missing `b`; unexpected `c`\); "
        r"every record must have the same keys"
    ):
        load_samples("runs.jsonl")


def test_jsonl_list_lengths_must_match() -> None:
    write_jsonl("runs.jsonl", [{"q": [1, 2]}, {"q": [1, 2, 3]}])
    with raises(
        r"runs\.jsonl: line 2, field `q`: holds a list of 3 numbers but line 1 holds a list of "
        r"2 numbers"
    ):
        load_samples("runs.jsonl")


def test_jsonl_non_numeric_value_names_line_and_field() -> None:
    write_jsonl("runs.jsonl", [{"id": 1, "s": 0.5}, {"id": 2, "s": "high"}])
    with raises(r'runs\.jsonl: line 2, field `s`: value "high" is not a number'):
        load_samples("runs.jsonl")
    write_jsonl("nested.jsonl", [{"q": [1, None]}, {"q": [1, 2]}])
    with raises(r"nested\.jsonl: line 1, field `q`: list item 1: value null is not a number"):
        load_samples("nested.jsonl")


def test_jsonl_mixed_record_forms() -> None:
    write("runs.jsonl", '{"a": 1}\n[1]\n')
    with raises(r"runs\.jsonl: line 2 is a list but line 1 is an object"):
        load_samples("runs.jsonl")
    write("str.jsonl", '"x"\n"y"\n')
    with raises(r"str\.jsonl: line 1 is a string; records must be JSON objects"):
        load_samples("str.jsonl")


def test_json_top_level_must_be_a_list() -> None:
    write("metrics.json", '{"a": 1}')
    with raises(r"metrics\.json: top level is an object; expected a JSON list of records"):
        load_samples("metrics.json")
    write("bad.json", "[1, 2,")
    with raises(r"bad\.json: not valid JSON \(.* at line 1, column"):
        load_samples("bad.json")
    write("none.json", "[]")
    with raises(r"none\.json: no records"):
        load_samples("none.json")


def test_json_ragged_list_rows() -> None:
    write("data.json", "[[1, 2], [3]]")
    with raises(r"data\.json: item 1 has 1 value but item 0 has 2"):
        load_samples("data.json")


def test_bad_episode_ids() -> None:
    write_jsonl("roll.jsonl", [{"episode": 1, "x": 0}, {"episode": None, "x": 1}])
    with raises(r"roll\.jsonl: line 2, field `episode`: episode id null must be a string"):
        load_episodes("roll.jsonl")
    write("roll.csv", "episode,x\nA,1\n ,2\n")
    with raises(r"roll\.csv: line 3, column `episode`: empty episode id"):
        load_episodes("roll.csv")
