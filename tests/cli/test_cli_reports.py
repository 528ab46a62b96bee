"""``--html PATH|-`` and ``--bundle PATH`` of every deciding command but ``compare`` (which has
its own tests in test_bundle.py and test_report_html.py): ``equivalence``, ``gate``,
``agents compare`` and ``suite report``.

Each command writes a self-contained HTML page (to a file, or to stdout with ``-``) and an
evidence bundle that ``parity bundle verify`` accepts and ``parity bundle show`` names; the
bundle holds the reports the command wrote, byte for byte, its arguments, its inputs' hashes
and the environment; the new outputs follow the output rules (an existing file parity did not
write needs ``--force``; one stdout). Also ``compare --bootstrap N``.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from parity.io import sha256_file
from parity.report.bundle import read_bundle
from processes import invoke, one_error_line

ROOT = Path(__file__).resolve().parents[2]
EQUIVALENCE = ROOT / "examples" / "equivalence"
GATES = ROOT / "examples" / "gates"


class _Tags(HTMLParser):
    """The tags of a page, and whether every opened ``section``/``table``/``ul`` was closed."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag in ("section", "table", "ul", "div"):
            self.open.append(tag)

    def handle_endtag(self, tag):
        if tag in ("section", "table", "ul", "div"):
            assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:]}"
            self.open.pop()


def assert_page(text: str, word: str) -> None:
    """A complete, self-contained page whose verdict banner reads ``word``."""
    assert text.startswith("<!DOCTYPE html>\n") and text.endswith("</html>\n")
    parser = _Tags()
    parser.feed(text)
    parser.close()
    assert not parser.open, parser.open
    assert "script" not in parser.tags and "link" not in parser.tags
    assert not re.search(r'(src|href)="(https?:)?//', text)  # nothing fetched (SVG's xmlns is
    # a name, not an address)
    assert f'">{word}</span>' in text


def assert_bundle(path: Path, kind: str, verdict: str) -> dict[str, bytes]:
    """``parity bundle verify`` accepts it and ``bundle show`` names its kind and verdict."""
    ok = invoke("bundle", "verify", path)
    assert ok.exit_code == 0, ok.output
    shown = json.loads(invoke("bundle", "show", path, "--json", "-").stdout)
    assert (shown["kind"], shown["verdict"], shown["intact"]) == (kind, verdict, True)
    return read_bundle(path)


# --------------------------------------------------------------------------------------------
# equivalence and gate: the decision page


EQ_ARGS = [
    "equivalence",
    f"{EQUIVALENCE / 'official.csv'}:episode_return",
    f"{EQUIVALENCE / 'reimplementation.csv'}:episode_return",
    "--margin",
    "0.05",
    "--relative",
    "--paired",
]


def test_equivalence_writes_html_and_a_bundle(tmp_path):
    html, bundle = tmp_path / "eq.html", tmp_path / "eq.zip"
    res = invoke(*EQ_ARGS, "--json", tmp_path / "eq.json", "--html", html, "--bundle", bundle)
    assert res.exit_code == 0, res.output
    assert f"bundle: {bundle} (sha256 " in res.stderr
    page = html.read_text(encoding="utf-8")
    assert_page(page, "equivalent")
    assert "One-sided t-tests" in page and "TOST" in page
    record = json.loads((tmp_path / "eq.json").read_text())
    entries = assert_bundle(bundle, "equivalence", "equivalent")
    assert sorted(entries) == [
        "SHA256SUMS",
        "arguments.json",
        "environment.json",
        "equivalence.json",
        "inputs.json",
        "report.html",
        "summary.md",
    ]
    assert entries["equivalence.json"] == (tmp_path / "eq.json").read_bytes()
    assert entries["report.html"] == html.read_bytes()
    arguments = json.loads(entries["arguments.json"])
    assert arguments["command"] == "equivalence"
    assert arguments["inputs"] == {"reference": EQ_ARGS[1], "candidate": EQ_ARGS[2]}
    assert arguments["options"]["margin"] == "0.05" and arguments["options"]["paired"] is True
    assert json.loads(entries["inputs.json"]) == {
        str(EQUIVALENCE / name): sha256_file(EQUIVALENCE / name)
        for name in ("official.csv", "reimplementation.csv")
    }
    assert record["inputs"]["reference"]["file_sha256"] == sha256_file(EQUIVALENCE / "official.csv")
    # the same call again: the same bundle, byte for byte
    again = invoke(*EQ_ARGS, "--bundle", tmp_path / "again.zip", "--quiet")
    assert again.exit_code == 0
    assert (tmp_path / "again.zip").read_bytes() == bundle.read_bytes()


def test_equivalence_not_shown_is_a_failing_page(tmp_path):
    args = [*EQ_ARGS[:4], "0.001", "--html", "-", "--quiet"]
    res = invoke(*args)
    assert res.exit_code in (1, 3), res.output
    word = "not equivalent" if res.exit_code == 1 else "inconclusive"
    assert_page(res.stdout, word)


@pytest.mark.parametrize("paired", [False, True])
def test_gate_writes_html_and_a_bundle(tmp_path, paired):
    ref, cand = GATES / "incumbent_12.jsonl", GATES / "candidate_12.jsonl"
    extra = ["--paired", "--resamples", "999", "--bootstrap", "999"] if paired else []
    html, bundle = tmp_path / "gate.html", tmp_path / "gate.zip"
    args = ["gate", ref, cand, *extra, "--json", tmp_path / "g.json", "--quiet"]
    res = invoke(*args, "--html", html, "--bundle", bundle)
    record = json.loads((tmp_path / "g.json").read_text())
    assert res.exit_code == record["exit_code"], res.output
    page = html.read_text(encoding="utf-8")
    assert_page(page, record["action"])
    for reason in record["result"]["reasons"]:
        assert reason.split(" ")[0] in page
    entries = assert_bundle(bundle, "gate", record["action"])
    assert entries["gate.json"] == (tmp_path / "g.json").read_bytes()
    assert entries["report.html"] == html.read_bytes()
    options = json.loads(entries["arguments.json"])["options"]
    assert options["paired"] is paired
    if paired:
        assert options["n_resamples"] == options["n_bootstrap"] == 999
    assert set(json.loads(entries["inputs.json"])) == {str(ref), str(cand)}
    # --html - prints the same page on stdout
    out = invoke("gate", ref, cand, *extra, "--html", "-", "--quiet")
    assert out.exit_code == res.exit_code and out.stdout == page


# --------------------------------------------------------------------------------------------
# the output rules of the new options


@pytest.mark.parametrize("option", ["--html", "--bundle"])
def test_an_existing_file_needs_force(tmp_path, option):
    target = tmp_path / "mine.txt"
    target.write_text("not parity's\n")
    base = ["gate", GATES / "incumbent.jsonl", GATES / "candidate.jsonl", "--quiet"]
    res = invoke(*base, option, target)
    assert res.exit_code == 2
    one_error_line(res.stderr, rf"^error: {option}: .*mine\.txt already exists .*--force")
    assert target.read_text() == "not parity's\n"
    forced = invoke(*base, option, target, "--force")
    assert forced.exit_code == 1, forced.output
    assert target.read_bytes().startswith(b"<!DOCTYPE" if option == "--html" else b"PK")


def test_an_input_is_never_an_output(tmp_path):
    ref = tmp_path / "ref.jsonl"
    ref.write_bytes((GATES / "incumbent.jsonl").read_bytes())
    res = invoke("gate", ref, GATES / "candidate.jsonl", "--html", ref, "--force")
    assert res.exit_code == 2
    one_error_line(res.stderr, r"^error: --html: .*also an input of this call")


@pytest.mark.parametrize(
    "args",
    [
        ["gate", GATES / "incumbent.jsonl", GATES / "candidate.jsonl", "--json", "-"],
        [*EQ_ARGS, "--markdown", "-"],
    ],
)
def test_one_output_on_stdout(args):
    res = invoke(*args, "--html", "-")
    assert res.exit_code == 2
    one_error_line(res.stderr, r"only one of --json.* and --html may be '-' \(stdout\)")


def test_html_and_bundle_cannot_be_one_file(tmp_path):
    res = invoke(*EQ_ARGS, "--html", tmp_path / "x", "--bundle", tmp_path / "x")
    assert res.exit_code == 2
    one_error_line(res.stderr, r"--html and --bundle both write")


# --------------------------------------------------------------------------------------------
# agents compare and suite report: the page they write into --out


@pytest.mark.extra("agents")
def test_agents_compare_writes_html_and_a_bundle(tmp_path):
    from suites import chat_run, small_runs

    records = [chat_run(f"t{i}", j, ["a", "b", "c", "b", "c"][: 3 + i]) for i in range(3)
               for j in range(3)]  # fmt: skip
    runs = small_runs(tmp_path, records)
    out, bundle = tmp_path / "o", tmp_path / "agents.zip"
    args = ["agents", "compare", runs, runs, "--bootstrap", 50, "--resamples", 99, "--quiet"]
    res = invoke(*args, "--out", out, "--html", tmp_path / "a.html", "--bundle", bundle)
    assert res.exit_code == 0, res.output
    page = (out / "report.html").read_text(encoding="utf-8")
    assert (tmp_path / "a.html").read_text(encoding="utf-8") == page
    assert_page(page, "unchanged")
    entries = assert_bundle(bundle, "agents compare", "unchanged")
    for name in ("compare.json", "compare.csv", "report.html"):
        assert entries[name] == (out / name).read_bytes(), name
    arguments = json.loads(entries["arguments.json"])
    assert arguments["command"] == "agents compare"
    assert arguments["inputs"] == {"reference": str(runs), "candidate": str(runs)}
    assert arguments["options"]["n_permutations"] == 99
    stdout = invoke(*args, "--out", tmp_path / "o2", "--html", "-")
    assert stdout.exit_code == 0 and stdout.stdout == page


def _suite(tmp_path: Path) -> Path:
    from parity.suite.manifest import parse_manifest
    from suites import manifest_dict, runs_for, write_store

    spec = manifest_dict(components={})
    return write_store(tmp_path, spec, runs_for(parse_manifest(spec)))


def test_suite_report_writes_html_and_a_bundle(tmp_path):
    suite = _suite(tmp_path)
    out, bundle = tmp_path / "out", tmp_path / "suite.zip"
    res = invoke(
        "suite", "report", suite, "--out", out, "--html", tmp_path / "s.html", "--bundle", bundle
    )
    assert res.exit_code == 0, res.output
    page = (out / "report.html").read_text(encoding="utf-8")
    assert (tmp_path / "s.html").read_text(encoding="utf-8") == page
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    entries = assert_bundle(bundle, "suite", "pass")
    assert entries["report.html"] == (out / "report.html").read_bytes()
    assert not (out / "evidence_bundle.zip").exists()
    # --html - prints the page; without --bundle the bundle goes into --out (the default)
    stdout = invoke("suite", "report", suite, "--out", tmp_path / "o2", "--html", "-", "--quiet")
    assert stdout.exit_code == 0 and stdout.stdout == page
    assert_bundle(tmp_path / "o2" / "evidence_bundle.zip", "suite", "pass")


def test_suite_report_html_follows_the_output_rules(tmp_path):
    suite = _suite(tmp_path)
    mine = tmp_path / "mine.html"
    mine.write_text("mine\n")
    res = invoke("suite", "report", suite, "--out", tmp_path / "out", "--html", mine)
    assert res.exit_code == 2 and not (tmp_path / "out").exists()
    one_error_line(res.stderr, r"^error: --html: .*mine\.html already exists")
    same = invoke("suite", "report", suite, "--out", tmp_path / "out", "--html", suite)
    assert same.exit_code == 2
    one_error_line(same.stderr, r"^error: --html: .*also an input of this call")


# --------------------------------------------------------------------------------------------
# compare --bootstrap


@pytest.fixture
def rollouts(tmp_path):
    rng = np.random.default_rng(3)
    np.save(tmp_path / "a.npy", rng.normal(size=(60, 2)))
    np.save(tmp_path / "b.npy", rng.normal(size=(60, 2)))
    for name in ("ra", "rb"):
        np.save(tmp_path / f"{name}.npy", np.cumsum(rng.normal(size=(8, 30, 2)), axis=1))
    return tmp_path


def test_compare_bootstrap_sets_the_embodied_resamples(rollouts):
    t = rollouts
    base = ["compare", t / "a.npy", t / "b.npy", "--ref-episodes", t / "ra.npy"]
    base += ["--cand-episodes", t / "rb.npy", "--resamples", 99, "--no-sensitivity", "--quiet"]
    records = {}
    for n in (200, 400):
        res = invoke(*base, "--bootstrap", n, "--out", t / f"o{n}", "--json", "-")
        assert res.exit_code in (0, 1, 3), res.output
        records[n] = json.loads(res.stdout)
        assert records[n]["settings"]["n_bootstrap"] == n
    # the bootstrap draws differ, so the intervals do (the test's numbers do not)
    ci = {n: r["embodied"]["jerk_rms"]["confidence_interval"] for n, r in records.items()}
    assert ci[200] != ci[400]
    assert records[200]["family_pvalue"] == records[400]["family_pvalue"]


def test_compare_bootstrap_default_is_the_librarys(rollouts):
    import inspect

    from parity.cli.compare import N_BOOTSTRAP
    from parity.verdict import compare

    assert N_BOOTSTRAP == inspect.signature(compare).parameters["n_bootstrap"].default
    help_text = " ".join(invoke("compare", "--help").stdout.split())
    assert "--bootstrap N Bootstrap resamples" in help_text
    assert f"[default: {N_BOOTSTRAP}]" in help_text.split("--bootstrap N", 1)[1][:200]


def test_compare_bootstrap_without_rollouts_is_exit_2(rollouts):
    t = rollouts
    res = invoke("compare", t / "a.npy", t / "b.npy", "--bootstrap", 50, "--out", t / "o")
    assert res.exit_code == 2 and not (t / "o").exists()
    one_error_line(res.stderr, r"--bootstrap applies to the embodied metrics")
