"""Every ``parity`` command follows the shared CLI conventions, so a new command cannot drift.

The walk covers every command of the tree (:func:`parity.cli.docs.walk`); each convention is
one test over all of them: inputs ``REFERENCE CANDIDATE``, ``--out DIR``, ``--json`` /
``--markdown`` / ``--html`` ``PATH|-``, ``--resamples N`` / ``--bootstrap N`` for resampling
counts, ``--seed N`` validated, ``--alpha`` in (0, 0.5), choices as ``click.Choice``, defaults
shown, exit codes in ``--help``, ``--html`` and ``--bundle`` on every deciding command. Then:
the renamed spellings still work (with a warning), options that do not apply to the input are
errors, and ``docs/cli.md`` is current.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner

from parity.cli._conventions import DECIDING, ParityCommand
from parity.cli._params import Count, Finite
from parity.cli.docs import cli_reference, walk
from parity.cli.main import cli
from parity.limits import MAX_RESAMPLES, MAX_SEED

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = [(words, cmd) for words, cmd, _ in walk() if not isinstance(cmd, click.Group)]
IDS = [" ".join(words[1:]) for words, _ in COMMANDS]
#: Options whose values are a fixed set: they must be click.Choice (shown as choices).
ENUMERATED = {
    "--aggregation",
    "--device",
    "--embedder",
    "--embodied",
    "--executor",
    "--kernel",
    "--method",
    "--metric",
    "--statistic",
}


#: click's marker of an option without a default.
UNSET = click.Option(["--unset"]).default


def options(cmd: click.Command) -> list[click.Option]:
    return [p for p in cmd.params if isinstance(p, click.Option) and not p.hidden]


def option(cmd: click.Command, name: str) -> click.Option | None:
    return next((p for p in options(cmd) if name in p.opts), None)


def invoke(args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_the_walk_sees_every_command():
    assert {
        "compare",
        "gate",
        "equivalence",
        "demo",
        "keygen",
        "bundle verify",
        "bundle show",
        "suite run",
        "suite report",
        "suite schema",
        "agents analyze",
        "agents compare",
    } <= set(IDS)


@pytest.mark.parametrize(("words", "cmd"), COMMANDS, ids=IDS)
def test_every_exit_code_is_in_the_help(words, cmd):
    assert isinstance(cmd, ParityCommand), f"{' '.join(words)} is not a ParityCommand"
    assert {0, 2, 4} <= set(cmd.exit_codes)
    if cmd.exit_codes == DECIDING:
        assert set(cmd.exit_codes) == {0, 1, 2, 3, 4}
    result = invoke([*words[1:], "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    listed = re.search(r"Exit codes: (.*)\.", text)
    assert listed, f"{' '.join(words)} --help lists no exit codes"
    for code in cmd.exit_codes:
        assert re.search(rf"(^|; ){code} ", listed.group(1)), f"exit code {code} not in the help"


@pytest.mark.parametrize(("words", "cmd"), COMMANDS, ids=IDS)
def test_two_inputs_are_reference_candidate(words, cmd):
    arguments = [p for p in cmd.params if isinstance(p, click.Argument)]
    if len(arguments) == 2:
        assert [a.human_readable_name for a in arguments] == ["REFERENCE", "CANDIDATE"]
    for name in ("--candidate", "--incumbent", "--reference", "--old", "--new"):
        assert option(cmd, name) is None, f"{name} must be a positional argument"


@pytest.mark.parametrize(("words", "cmd"), COMMANDS, ids=IDS)
def test_outputs(words, cmd):
    out = option(cmd, "--out")
    if out is not None:
        assert isinstance(out.type, click.Path) and not out.type.file_okay
        assert out.metavar == "DIR"
    for name in ("--json", "--markdown", "--html"):
        opt = option(cmd, name)
        if opt is not None:
            assert isinstance(opt.type, click.Path), name
            assert opt.type.allow_dash, name  # a folder is refused by check_outputs
            assert opt.metavar == "PATH|-", name


@pytest.mark.parametrize(("words", "cmd"), COMMANDS, ids=IDS)
def test_resampling_counts_and_seeds(words, cmd):
    for opt in options(cmd):
        if isinstance(opt.type, Count) and opt.type.maximum == MAX_RESAMPLES:
            assert opt.opts[0] in ("--resamples", "--bootstrap"), opt.opts
            assert opt.metavar == "N"
        assert not {"--permutations", "--n-permutations", "--n-resamples"} & set(opt.opts)
    seed = option(cmd, "--seed")
    if seed is not None:
        assert isinstance(seed.type, Count)
        assert (seed.type.minimum, seed.type.maximum) == (0, MAX_SEED)
        assert seed.metavar == "N"


@pytest.mark.parametrize(("words", "cmd"), COMMANDS, ids=IDS)
def test_alpha_lies_in_zero_one_half(words, cmd):
    alpha = option(cmd, "--alpha")
    if alpha is None:
        return
    assert isinstance(alpha.type, Finite)
    assert (alpha.type.min, alpha.type.max) == (0, 0.5)
    assert alpha.type.min_open and alpha.type.max_open


@pytest.mark.parametrize(("words", "cmd"), COMMANDS, ids=IDS)
def test_choices_and_defaults_are_shown(words, cmd):
    for opt in options(cmd):
        if opt.opts[0] in ENUMERATED:
            assert isinstance(opt.type, click.Choice), opt.opts
        plain_flag = opt.is_flag and not opt.secondary_opts
        if opt.default not in (None, UNSET) and not plain_flag and not opt.multiple:
            assert opt.show_default, f"{opt.opts[0]} has a default that --help does not show"
        help_text = opt.help or ""
        assert not re.search(r"\[(default|\d[\d.,_]*\])", help_text), (
            f"{opt.opts[0]}: a default written into the help; use show_default"
        )


def _seed_args(cmd: click.Command, words, value: str) -> list[str]:
    arguments = [p for p in cmd.params if isinstance(p, click.Argument)]
    return [*words[1:], "--seed", value, *("x" for _ in arguments)]


SEEDED = [(w, c) for w, c in COMMANDS if option(c, "--seed") is not None]


@pytest.mark.parametrize(("words", "cmd"), SEEDED, ids=[" ".join(w[1:]) for w, _ in SEEDED])
@pytest.mark.parametrize("value", ["-1", "abc", str(2**63)])
def test_a_bad_seed_is_one_error_line_and_exit_2(words, cmd, value):
    result = invoke(_seed_args(cmd, words, value))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "--seed" in lines[0], lines


ALPHAS = [(w, c) for w, c in COMMANDS if option(c, "--alpha") is not None]


@pytest.mark.parametrize(("words", "cmd"), ALPHAS, ids=[" ".join(w[1:]) for w, _ in ALPHAS])
@pytest.mark.parametrize("value", ["0", "0.5", "0.9"])
def test_alpha_outside_zero_one_half_is_exit_2(words, cmd, value):
    arguments = [p for p in cmd.params if isinstance(p, click.Argument)]
    result = invoke([*words[1:], "--alpha", value, *("x" for _ in arguments)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "--alpha" in result.stderr


DECIDERS = [
    pytest.param(w, c, id=" ".join(w[1:]))
    for w, c in COMMANDS
    if getattr(c, "exit_codes", None) == DECIDING
]


@pytest.mark.parametrize(("words", "cmd"), DECIDERS)
def test_deciding_commands_write_html_and_bundles(words, cmd):
    html, bundle = option(cmd, "--html"), option(cmd, "--bundle")
    assert html is not None and bundle is not None
    assert isinstance(bundle.type, click.Path) and not bundle.is_flag


# ------------------------------------------------------------------ renamed spellings


@pytest.mark.parametrize(("words", "cmd"), COMMANDS, ids=IDS)
def test_old_spellings_are_hidden_and_name_a_real_option(words, cmd):
    arguments = [p for p in cmd.params if isinstance(p, click.Argument)]
    for old, new in cmd.renamed.items():
        assert option(cmd, old) is None, f"{old} is still shown"
        if isinstance(new, int):
            assert 0 <= new < len(arguments)
        else:
            assert option(cmd, new) is not None, f"{old} → {new}: no such option"


def test_old_gate_spellings_still_work_with_a_warning():
    gates = ROOT / "examples" / "gates"
    new = invoke(["gate", gates / "incumbent.jsonl", gates / "candidate.jsonl", "--json", "-"])
    old = invoke(
        [
            "gate",
            "--candidate",
            gates / "candidate.jsonl",
            f"--incumbent={gates / 'incumbent.jsonl'}",
            "--json",
            "-",
        ]
    )
    assert new.exit_code == old.exit_code == 1
    assert new.stdout == old.stdout
    warnings = [line for line in old.stderr.splitlines() if line.startswith("warning: --")]
    assert warnings == [
        "warning: --candidate is renamed argument 2 (CANDIDATE); the old spelling will be "
        "removed in the next release",
        "warning: --incumbent is renamed argument 1 (REFERENCE); the old spelling will be "
        "removed in the next release",
    ]


def test_permutations_is_resamples_with_a_warning():
    gates = ROOT / "examples" / "gates"
    args = ["gate", gates / "incumbent.jsonl", gates / "candidate.jsonl", "--quiet"]
    old, new = invoke([*args, "--permutations", "5"]), invoke([*args, "--resamples", "5"])
    assert old.exit_code == new.exit_code == 2  # both say the option needs --paired
    assert new.stderr.splitlines() == ["error: --resamples is only used with --paired"]
    assert old.stderr.splitlines() == [
        "warning: --permutations is renamed --resamples; the old spelling will be removed in "
        "the next release",
        "error: --resamples is only used with --paired",
    ]


# ------------------------------------------------------------------ options that do not apply


@pytest.fixture
def numeric(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        np.save(tmp_path / f"{name}.npy", rng.normal(size=(30, 2)))
    return tmp_path / "a.npy", tmp_path / "b.npy"


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--kernel", "hamming"], ["--kernel applies to completions files"]),
        (["--dt", "0.1"], ["--dt applies to the embodied metrics"]),
        (["--tolerance", "0.2", "--embodied", "equivalence"], ["--tolerance, --embodied apply"]),
    ],
)
def test_an_option_that_does_not_apply_is_exit_2(numeric, tmp_path, extra, words):
    result = invoke(["compare", *numeric, *extra, "--out", tmp_path / "out"])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert all(w in lines[0] for w in words), lines[0]
    assert not (tmp_path / "out").exists()  # refused before any work


def test_action_options_on_completions_are_exit_2(tmp_path):
    for name in ("r", "c"):
        (tmp_path / f"{name}.jsonl").write_text(
            "".join(f'{{"prompt_id": {i % 2}, "tokens": [1, 2, {i}]}}\n' for i in range(6))
        )
    result = invoke(["compare", tmp_path / "r.jsonl", tmp_path / "c.jsonl", "--method", "rff"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --method does not apply to completions files")


def test_the_device_is_a_choice():
    result = invoke(["compare", "a.npy", "b.npy", "--device", "tpu"])
    assert result.exit_code == 2 and "'tpu' is not one of 'cpu', 'cuda'" in result.stderr


# ------------------------------------------------------------------ the reference


def test_the_cli_reference_is_current():
    """docs/cli.md is what `python scripts/make_cli_docs.py` writes (byte for byte)."""
    assert (ROOT / "docs" / "cli.md").read_bytes() == cli_reference().encode("utf-8"), (
        "docs/cli.md is out of date: run `python scripts/make_cli_docs.py`"
    )


def test_the_reference_lists_every_command_and_option():
    text = cli_reference()
    for words, cmd in COMMANDS:
        assert f"## {' '.join(words)}\n" in text
        for opt in options(cmd):
            assert f"`{opt.opts[0]}`" in text
