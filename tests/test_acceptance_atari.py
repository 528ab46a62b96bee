"""Acceptance on real data: the Atari 100k per-run scores of rliable through the whole suite.

The data are the per-game, per-run final scores of the Atari 100k agents that rliable's
"Statistical Precipice" colab reads (Agarwal et al., NeurIPS 2021), kept in the folder
``shared/rliable_atari100k`` beside the repository (see its PROVENANCE.md); these tests skip,
saying where they looked, when it is absent (set PARITY_ATARI100K to point elsewhere).

Each test writes one ``metrics.json`` per run into a temporary folder, as a reimplementation
would, and runs the suite as a user does: a manifest whose two systems read those results
(proof mode, so the shortcut checks are on), ``parity suite ingest``, then ``parity suite
report``, deciding on the IQM of human-normalized scores over 26 games × 50 runs within ±10 %.

* DrQ(ε) runs 0–49 as the reference and the same agent's runs 50–99 as the "reimplementation":
  pass. Their scores on Freeway, Asterix and PrivateEye coincide by chance on 13 seeds (small
  integers), no more often than across seeds: notes, not copy findings.
* DrQ(ε) against DrQ (another agent, IQM about 20 % lower): fail on the aggregate.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from parity.cli.main import cli

ATARI = Path(
    os.environ.get(
        "PARITY_ATARI100K",
        Path(__file__).resolve().parents[2] / "shared" / "rliable_atari100k",
    )
)
RUNS = 50


def _load():
    if not (ATARI / "DrQ(eps).json").is_file():
        pytest.skip(
            f"ACCEPTANCE DATA ABSENT: Atari 100k per-run scores not found at {ATARI} (the folder "
            "`shared/rliable_atari100k` beside the repository; set PARITY_ATARI100K): the "
            "real-data acceptance of suites was NOT run"
        )
    human = json.loads((ATARI / "HUMAN.json").read_text())
    random = json.loads((ATARI / "RANDOM.json").read_text())
    agents = {a: json.loads((ATARI / f"{a}.json").read_text()) for a in ("DrQ(eps)", "DrQ")}
    games = sorted(human)
    norm = {g: [float(random[g][0]), float(human[g][0])] for g in games}
    return games, norm, agents


def _write_results(folder: Path, scores: dict[str, list[float]], runs: range, games) -> None:
    """One run folder per game and seed with its metrics.json, as a training script writes."""
    for game in games:
        for seed, run in enumerate(runs):
            out = folder / game / str(seed)
            out.mkdir(parents=True)
            (out / "metrics.json").write_text(json.dumps({"score": scores[game][run]}) + "\n")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The result folders: `official` (DrQ(ε) runs 0–49), `faithful` (DrQ(ε) runs 50–99) and
    `drq` (DrQ runs 0–49), and the manifest's settings."""
    games, norm, agents = _load()
    root = tmp_path_factory.mktemp("atari100k")
    _write_results(root / "official", agents["DrQ(eps)"], range(RUNS), games)
    _write_results(root / "faithful", agents["DrQ(eps)"], range(RUNS, 2 * RUNS), games)
    _write_results(root / "drq", agents["DrQ"], range(RUNS), games)
    return root, games, norm


@pytest.fixture
def store_dir(tmp_path):
    """Where the suite's store goes: a store commits each of the 2,600 runs, so it lives in
    memory (/dev/shm) where the system has one, to keep the test fast; else in tmp_path."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        with tempfile.TemporaryDirectory(dir=shm) as d:
            yield Path(d)
    else:
        yield tmp_path


def _suite(corpus, store_dir: Path, out: Path, candidate: str):
    """A manifest for `candidate`'s results against the official ones; `parity suite ingest`,
    `parity suite report`. Returns (exit code, the reports)."""
    root, games, norm = corpus
    folder = root / f"suite-{candidate}"
    folder.mkdir()
    manifest = {
        "name": f"atari100k-{candidate}",
        "mode": "proof",  # equivalence tests, shortcut checks on
        "alpha": 0.05,
        "systems": {
            "reference": {"results": "../official/{task}/{seed}/metrics.json"},
            "candidate": {"results": f"../{candidate}/{{task}}/{{seed}}/metrics.json"},
        },
        "tasks": games,
        "seeds": list(range(RUNS)),
        "metrics": {"score": {"margin": {"relative": 0.1}}},
        "aggregates": [
            {
                "name": "iqm_hns",
                "metric": "score",
                "statistic": "iqm",
                "normalization": norm,
                "margin": {"ratio": 0.1},
            }
        ],
        # 50 noisy runs per game cannot show ±10 % game by game: the aggregate decides
        "decide_on": "aggregate",
    }
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(manifest, sort_keys=False))
    store = str(store_dir / "suite.parity.sqlite")
    runner = CliRunner()
    ingest = runner.invoke(cli, ["suite", "ingest", str(path), "--store", store, "--quiet"])
    assert ingest.exit_code == 0, ingest.output
    report = runner.invoke(
        cli, ["suite", "report", str(path), "--store", store, "--out", str(out), "--no-bundle"]
    )
    assert report.exit_code in (0, 1), report.output
    reports = {
        name: json.loads((out / f"{name}_report.json").read_text())
        for name in ("coverage", "validity", "equivalence")
    }
    reports["md"] = (out / "equivalence_report.md").read_text()
    reports["html"] = (out / "report.html").read_text()
    return report.exit_code, reports


def test_disjoint_runs_of_one_agent_pass_with_chance_coincidences_noted(
    corpus, store_dir, tmp_path
):
    code, rep = _suite(corpus, store_dir, tmp_path / "out", "faithful")
    cov, val, eq = rep["coverage"], rep["validity"], rep["equivalence"]
    assert cov["present"] == cov["expected"] == 2 * 26 * RUNS
    assert val["shortcut_checks"] and "identical_file" in val["checks"]
    assert val["findings"] == [] and val["validity_pass"]
    same = {c["task"]: c for c in val["file_coincidences"] if c["matches"]}
    assert {t: c["matches"] for t, c in same.items()} == {
        "Asterix": 1,
        "Freeway": 3,
        "PrivateEye": 9,
    }
    # raw coincidence rates over the 2,450 cross-seed pairs: the same-seed matches are about
    # what they predict (Asterix 0.04, Freeway 3.44, PrivateEye 8 on average)
    for task, cross in (("Asterix", 1), ("Freeway", 169), ("PrivateEye", 391)):
        c = same[task]
        assert c["cross_matches"] == cross
        assert c["chance_rate"] == pytest.approx(cross / 2450)
        assert not c["flagged"] and c["decidable"]
    # Freeway's and PrivateEye's matches are all on scores each agent gets on other runs too
    # (0 on Freeway, 100 on PrivateEye): the test leaves them out
    assert [same[t]["tested_matches"] for t in ("Asterix", "Freeway", "PrivateEye")] == [1, 0, 0]
    asterix = same["Asterix"]
    # its match and its one cross-seed match are two cells a random pairing hits w.p. 1/50 each
    assert asterix["pvalue"] == pytest.approx(2 / RUNS - 1 / (RUNS * (RUNS - 1)), rel=1e-12)
    assert asterix["adjusted_pvalue"] > 0.05
    assert [n.split(":")[0] for n in val["warnings"]] == [
        "identical_file on Asterix",
        "identical_file on Freeway",
        "identical_file on PrivateEye",
    ]
    assert "## Validity notes" in rep["md"]
    assert "Notes (coincidences that chance explains; not findings):" in rep["html"]
    (agg,) = eq["aggregates"]
    low, high = agg["confidence_interval"]
    assert agg["passed"] and 0.9 < low < agg["estimate"] < high < 1.1
    assert agg["reference"] == pytest.approx(0.27906695, abs=1e-6)  # DrQ(ε) runs 0–49
    assert agg["candidate"] == pytest.approx(0.28022549, abs=1e-6)  # runs 50–99
    final = eq["final"]
    assert (code, final["verdict"], final["exit_code"]) == (0, "pass", 0)


def test_another_agent_fails_on_the_aggregate(corpus, store_dir, tmp_path):
    code, rep = _suite(corpus, store_dir, tmp_path / "out", "drq")
    val, eq = rep["validity"], rep["equivalence"]
    assert val["validity_pass"] and val["findings"] == []
    (agg,) = eq["aggregates"]
    assert not agg["passed"]
    assert agg["candidate"] == pytest.approx(0.22523050, abs=1e-6)  # DrQ runs 0–49
    assert agg["estimate"] == pytest.approx(0.22523050 / 0.27906695, abs=1e-6)
    assert agg["confidence_interval"][1] < 0.9  # shown outside the ±10 % band
    final = eq["final"]
    assert (code, final["verdict"], final["exit_code"]) == (1, "fail", 1)
    assert any("iqm_hns" in r for r in final["reasons"])
