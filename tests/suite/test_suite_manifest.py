"""The suite manifest: validation with paths, all errors at once, YAML 1.1 traps, schema."""

from __future__ import annotations

import json
import re
import textwrap

import pytest
from click.testing import CliRunner

from parity.cli.main import cli
from parity.errors import ParityInputError
from parity.suite.manifest import load_manifest, manifest_schema, parse_manifest, read_yaml
from parity.suite.records import RunKey

VALID = """
name: toy
tasks: [cartpole, reacher]
seeds: [0, 1, 2]
reruns: 2
systems:
  reference: {results: "official/{task}/seed{seed}/metrics.json"}
  candidate: {command: "python3 agent.py {task} {seed} {rerun} {out}"}
metrics:
  return: {margin: {relative: 0.05}}
  steps: {margin: {absolute: [-10, 20]}, higher_is_better: false, paired: true}
aggregates:
  - {name: iqm_return, metric: return, margin: {ratio: 0.1},
     normalization: {cartpole: [0, 200], reacher: [0, 160]}}
validity: {bounds: ["steps >= 100000"]}
"""


def write(tmp_path, text, name="suite.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_valid_manifest_and_its_defaults(tmp_path):
    m = load_manifest(write(tmp_path, VALID))
    assert m.mode == "proof" and m.alpha == 0.05
    assert m.metric_test("return") == "equivalence"
    assert m.metrics["steps"].margin.value == (-10, 20)
    assert not m.metrics["steps"].margin.is_relative
    assert m.decision_basis == "both"
    assert m.validity.parsed_bounds() == [("steps", ">=", 100000.0)]
    # the results pattern has no {rerun}: one rerun for the reference, two for the candidate
    keys = m.expected_keys()
    assert len(keys) == 2 * 3 * 1 + 2 * 3 * 2
    assert RunKey("candidate", "reacher", 2, 1) in keys
    assert RunKey("reference", "reacher", 2, 1) not in keys


def test_quick_mode_defaults_to_noninferiority():
    data = read_yaml_text(VALID.replace("name: toy", "name: toy\nmode: quick"))
    assert parse_manifest(data).metric_test("return") == "noninferiority"


def read_yaml_text(text):
    import yaml

    from parity.suite.manifest import _yaml_loader

    return yaml.load(textwrap.dedent(text), Loader=_yaml_loader())


def test_yaml_1_1_traps_keep_their_meaning(tmp_path):
    # YAML 1.1 reads 5e-2 as a string and NO / yes / off as booleans; the manifest must not.
    text = VALID.replace("relative: 0.05", "relative: 5e-2").replace(
        "tasks: [cartpole, reacher]", "tasks: [NO, yes]"
    )
    text = text.replace("cartpole: [0, 200], reacher: [0, 160]", "NO: [0, 200], yes: [0, 160]")
    m = load_manifest(write(tmp_path, text))
    assert m.metrics["return"].margin.relative == 0.05
    assert m.tasks == ["NO", "yes"]
    raw = read_yaml(write(tmp_path, "a: off\nb: true\nc: 1e3\nd: .inf\n", "t.yaml"))
    assert raw == {"a": "off", "b": True, "c": 1000.0, "d": float("inf")}


def test_a_yaml_1_1_boolean_word_is_not_taken_as_a_boolean(tmp_path):
    text = VALID.replace("higher_is_better: false", "higher_is_better: NO")
    with pytest.raises(ParityInputError, match=r"metrics\.steps\.higher_is_better: .*got 'NO'"):
        load_manifest(write(tmp_path, text))


def test_every_error_is_reported_with_its_path(tmp_path):
    text = """
    name: broken
    alpha: 0.7
    tasks: [a, a]
    seeds: [0]
    systems:
      reference: {results: "r/{task}/{seed}.json", command: "x"}
      candidate: {command: "run {task} {bogus}"}
    metrics:
      return: {margin: {relative: -0.05}}
      steps: {margin: {absolute: 1}, paired: maybe}
    """
    with pytest.raises(ParityInputError) as info:
        load_manifest(write(tmp_path, text))
    lines = str(info.value).splitlines()
    expected = [
        r"alpha: .*0\.5",
        r"tasks: .*unique; repeated: a",
        r"systems\.reference: .*exactly one of `command` and `results`",
        r"systems\.candidate: .*unknown template field\(s\) \{bogus\}",
        r"metrics\.return\.margin\.relative: must be > 0, got -0\.05",
        r"metrics\.steps\.paired: .*boolean, got 'maybe'",
    ]
    assert len(lines) == len(expected), lines
    for pattern in expected:
        assert any(re.search(pattern, line) for line in lines), (pattern, lines)
    assert all(line.startswith(str(tmp_path / "suite.yaml")) for line in lines)


def test_cross_references_are_checked(tmp_path):
    text = VALID.replace("metric: return, margin", "metric: reward, margin")
    with pytest.raises(ParityInputError, match=r"aggregates\.0\.metric: unknown metric 'reward'"):
        load_manifest(write(tmp_path, text))
    text = VALID.replace("reacher: [0, 160]", "")
    with pytest.raises(ParityInputError, match=r"no points for task\(s\) reacher"):
        load_manifest(write(tmp_path, text))
    text = VALID.replace("  candidate:", "  other:")
    with pytest.raises(ParityInputError, match=r"systems: must include candidate"):
        load_manifest(write(tmp_path, text))


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("name: [", r"suite\.yaml: line \d+ invalid YAML"),
        ("- a\n- b\n", r"a manifest is a mapping"),
    ],
)
def test_unreadable_manifests(tmp_path, text, pattern):
    with pytest.raises(ParityInputError, match=pattern):
        load_manifest(write(tmp_path, text))


def test_missing_manifest(tmp_path):
    with pytest.raises(ParityInputError, match=r"nope\.yaml: file not found"):
        load_manifest(tmp_path / "nope.yaml")


def test_schema_is_json_and_the_cli_prints_it():
    schema = manifest_schema()
    assert schema["title"] == "Manifest"
    assert {"systems", "tasks", "seeds", "metrics"} <= set(schema["required"])
    result = CliRunner().invoke(cli, ["suite", "schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["title"] == "Manifest"
