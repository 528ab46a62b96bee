"""The README's and docs' examples run as written, and their links stay inside the repository.

Every fenced block of ``README.md`` and ``docs/*.md`` whose language is ``python``, ``sh``,
``bash`` or ``console`` is executed, block after block in the order of the file, in one
temporary folder per file that holds a copy of the repository's ``examples/`` (the commands
are written to run from the repository root):

* ``python`` blocks share one namespace per file. A top-level expression followed by a comment
  that starts with a literal (``verdict.verdict   # 'fail'``) must evaluate to that literal;
  Numbers agree to the digits shown, and ``...`` in a tuple stands for any rest.
  ``print(...)   # text`` must print ``text`` (a trailing ``…`` matches any rest).
* ``sh``/``bash`` blocks run command by command (``\\``-continued lines joined) in bash; a
  command must exit 0, or for ``parity`` itself with a verdict (0 pass, 1 fail, 3
  inconclusive): a usage error (2) or a crash (4) is a drifted example.
* ``console`` blocks are ``$ command`` lines followed by their output: every output line shown
  must appear in the command's output (stdout and stderr), in order; a shown line may end with
  ``  # a remark`` (two spaces before ``#``), which is not part of it, and a ``…`` in it
  stands for any text (a timing, a path). ``$ echo $?`` shows the previous command's exit code.

**Not run**: a block whose info string carries ``no-test`` (```` ```sh no-test ````). It is
kept for what cannot run offline in a test: ``make`` targets that install or run this very
suite, ``pip install`` from an index, a CI service's YAML. Blocks in other languages (``yaml``,
``json``, ``text``, ``markdown``) are data, not run.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import re
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUN_LANGUAGES = {"python", "sh", "bash", "console"}
NO_TEST = "no-test"
#: Exit codes of a parity command that are verdicts, not errors.
VERDICT_CODES = {0, 1, 3}
FENCE = re.compile(r"^(?P<indent> *)(?P<fence>```+)(?P<info>[^`]*)$")


@dataclass(frozen=True)
class Block:
    """One fenced block: its file, first line (1-based, the fence), info string and code."""

    path: Path
    line: int
    language: str
    tags: tuple[str, ...]
    code: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def fenced_blocks(path: Path, text: str | None = None) -> list[Block]:
    """The fenced blocks of a Markdown file (or of ``text``, named ``path``), in order."""
    text = path.read_text(encoding="utf-8") if text is None else text
    blocks, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        words = m["info"].split()
        start, body, i = i + 1, [], i + 1
        while i < len(lines) and lines[i].strip() != m["fence"]:
            body.append(lines[i][len(m["indent"]) :])
            i += 1
        i += 1
        language = words[0].lower() if words else ""
        blocks.append(Block(path, start, language, tuple(words[1:]), "\n".join(body) + "\n"))
    return blocks


def test_fenced_blocks_are_parsed():
    """The parser finds blocks, their language and tags (a check of the checker)."""
    text = "x\n```python\na = 1\n```\n\n```sh no-test\npip install parity\n```\n```\nplain\n```\n"
    path = ROOT / "README.md"
    blocks = fenced_blocks(path, text)
    assert [(b.language, b.tags, b.code) for b in blocks] == [
        ("python", (), "a = 1\n"),
        ("sh", ("no-test",), "pip install parity\n"),
        ("", (), "plain\n"),
    ]


# ---------------------------------------------------------------- running the blocks


def _workspace(tmp_path: Path) -> dict[str, str]:
    """A copy of ``examples/`` in ``tmp_path`` and an environment whose ``parity`` and
    ``python`` are this interpreter with this checkout's sources."""
    shutil.copytree(
        ROOT / "examples",
        tmp_path / "examples",
        ignore=shutil.ignore_patterns("reports", "*.sqlite*", "runs", "__pycache__", ".parity*"),
    )
    bin_dir = tmp_path / ".bin"
    bin_dir.mkdir()
    for name, script in {
        "parity": f'#!/bin/sh\nexec "{sys.executable}" -m parity "$@"\n',
        "python": f'#!/bin/sh\nexec "{sys.executable}" "$@"\n',
        "python3": f'#!/bin/sh\nexec "{sys.executable}" "$@"\n',
    }.items():
        (bin_dir / name).write_text(script)
        (bin_dir / name).chmod(stat.S_IRWXU)
    # the docs' `. .venv/bin/activate` (the environment `make test` builds): this one
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "activate").write_text(f'PATH="{bin_dir}:$PATH"\n')
    env = dict(os.environ)
    env.pop("GITHUB_STEP_SUMMARY", None)
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH", "")) if p),
        COLUMNS="200",
        TERM="dumb",
        NO_COLOR="1",
    )
    return env


def _shell(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
    )


def _commands(code: str) -> list[str]:
    """Shell commands of a block: ``\\``-continued lines joined, blank lines and comments
    dropped."""
    commands, current = [], ""
    for line in code.splitlines():
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        if current.strip() and not current.lstrip().startswith("#"):
            commands.append(current.strip())
        current = ""
    return commands


def run_sh(block: Block, cwd: Path, env: dict[str, str]) -> None:
    for command in _commands(block.code):
        done = _shell(command, cwd, env)
        allowed = VERDICT_CODES if command.split()[0] == "parity" else {0}
        assert done.returncode in allowed, (
            f"{block.where}: `{command}` exited {done.returncode}:\n{done.stdout[-3000:]}"
        )


def _console_steps(code: str) -> list[tuple[str, list[str]]]:
    steps: list[tuple[str, list[str]]] = []
    for line in code.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:].strip(), []))
        elif steps:
            steps[-1][1].append(line.rstrip())
        elif line.strip():
            raise AssertionError(f"console output before any `$ ` command: {line!r}")
    return steps


def _shown(line: str) -> str:
    """A shown output line without its ``  # remark``."""
    return re.sub(r"\s{2,}# .*$", "", line).rstrip()


def _matches(shown: str, actual: str) -> bool:
    """``actual`` is ``shown``, each ``…`` in it standing for any text (timings, paths).

    Examples
    --------
    >>> _matches("done in … s; store x", "done in 9.8 s; store x"), _matches("a…", "b")
    (True, False)
    """
    pattern = ".*".join(re.escape(part) for part in shown.split("…"))
    return re.fullmatch(pattern, actual) is not None


def assert_shown_in(shown_lines: list[str], output: str, where: str, command: str) -> None:
    """Every shown line appears in ``output``, in order."""
    actual = [line.rstrip() for line in output.splitlines()]
    position = 0
    for shown in (_shown(s) for s in shown_lines):
        if not shown:
            continue
        found = next((i for i in range(position, len(actual)) if _matches(shown, actual[i])), None)
        assert found is not None, (
            f"{where}: `{command}` did not print (in this order)\n  {shown}\n"
            f"its output:\n{output[-4000:]}"
        )
        position = found + 1


def run_console(block: Block, cwd: Path, env: dict[str, str]) -> None:
    last = 0
    for command, shown in _console_steps(block.code):
        if command == "echo $?":
            output = f"{last}\n"
        else:
            done = _shell(command, cwd, env)
            output, last = done.stdout, done.returncode
            allowed = VERDICT_CODES if command.split()[0] == "parity" else {0}
            assert last in allowed, f"{block.where}: `{command}` exited {last}:\n{output[-3000:]}"
        assert_shown_in(shown, output, block.where, command)


def shown_literal(remark: str):
    """The Python literal a remark starts with (``'fail': …`` → ``'fail'``), or a sentinel."""
    ends = [m.start() for m in re.finditer(r"(?=[:;]|\s|$)", remark)]
    for end in sorted(set(ends), reverse=True):
        try:
            return ast.literal_eval(remark[:end].strip())
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue
    return NOTHING


NOTHING = object()


def agrees(value, shown) -> bool:
    """Whether ``value`` is what the docs show: numbers to the digits shown, ``...`` any rest.

    Examples
    --------
    >>> agrees((0.11428, 0.1497, (0.0387, 0.25)), (0.114, 0.15, (0.039, 0.25)))
    True
    >>> agrees(0.1149, 0.114), agrees(("changed", ("loop", "n", "x")), ("changed", ("loop", ...)))
    (False, True)
    """
    if shown is Ellipsis:
        return True
    if isinstance(shown, bool) or shown is None or isinstance(shown, str):
        return value == shown
    if isinstance(shown, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            try:
                value = float(value)
            except (TypeError, ValueError):
                return False
        text = repr(shown)
        decimals = len(text.split(".")[1]) if "." in text and "e" not in text else 0
        if isinstance(shown, int) and isinstance(value, int):
            return value == shown
        return abs(value - shown) <= 0.5 * 10.0**-decimals * (1 + 1e-9)
    if isinstance(shown, (tuple, list)):
        try:
            value = tuple(value)
        except TypeError:
            return False
        if shown and shown[-1] is Ellipsis:
            shown = shown[:-1]
            value = value[: len(shown)]
        return len(value) == len(shown) and all(map(agrees, value, shown))
    return value == shown


def run_python(block: Block, namespace: dict, cwd: Path) -> None:
    source_lines = block.code.splitlines()
    tree = ast.parse(block.code, filename=block.where)
    for stmt in tree.body:
        code = ast.Module(body=[stmt], type_ignores=[])
        tail = source_lines[stmt.end_lineno - 1][stmt.end_col_offset :]
        remark = re.match(r"^\s+#\s+(?P<text>.*)$", tail)
        where = f"{block.where} (+{stmt.lineno})"
        printed = io.StringIO()
        with contextlib.chdir(cwd), contextlib.redirect_stdout(printed):
            if isinstance(stmt, ast.Expr):
                value = eval(compile(ast.Expression(stmt.value), where, "eval"), namespace)
            else:
                exec(compile(code, where, "exec"), namespace)
                value = None
        sys.stdout.write(printed.getvalue())
        is_print = (
            isinstance(stmt, ast.Expr)
            and isinstance(stmt.value, ast.Call)
            and getattr(stmt.value.func, "id", None) == "print"
        )
        if is_print and remark:
            text = remark["text"].strip()
            if len(text) >= 2 and text[0] == text[-1] == '"':
                text = text[1:-1]
            out = printed.getvalue().strip()
            ok = out.startswith(text[:-1].rstrip()) if text.endswith("…") else out == text
            assert ok, f"{where}: printed {out!r}; the docs say {text!r}"
        elif isinstance(stmt, ast.Expr) and remark:
            expected = shown_literal(remark["text"])
            if expected is not NOTHING:
                assert agrees(value, expected), (
                    f"{where}: gives {value!r}; the docs say {remark['text']!r}"
                )


@pytest.mark.timeout(1800)  # README: 31 s on an idle 2-core machine, > 10 min at load 17
@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_examples_run_as_written(path: Path, tmp_path: Path) -> None:
    env = _workspace(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    ran = 0
    for block in fenced_blocks(path):
        if block.language not in RUN_LANGUAGES or NO_TEST in block.tags:
            continue
        ran += 1
        if block.language == "python":
            run_python(block, namespace, tmp_path)
        elif block.language == "console":
            run_console(block, tmp_path, env)
        else:
            run_sh(block, tmp_path, env)
    if path.name == "README.md":
        assert ran >= 10, f"only {ran} README blocks ran"


def test_no_test_is_rare_and_justified() -> None:
    """``no-test`` marks only blocks that cannot run offline: make targets, pip installs."""
    for path in DOCS:
        for block in fenced_blocks(path):
            if NO_TEST in block.tags:
                assert re.search(r"\b(make|pip install|uses:)\b", block.code), (
                    f"{block.where}: a `no-test` block must be one that cannot run offline "
                    f"(make, pip install, CI YAML); this one is:\n{block.code}"
                )


# ---------------------------------------------------------------- links and paths

LINK = re.compile(r"!?\[[^\]]*\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
UP_PATH = re.compile(r"(?<![\w./])\.\./[^\s`)\]\"']*")


def _outside(path: Path, target: str) -> Path | None:
    """The resolved path of a relative ``target`` from ``path`` when it leaves the repository."""
    resolved = (path.parent / target).resolve()
    return None if resolved == ROOT or ROOT in resolved.parents else resolved


def test_links_and_paths_stay_inside_the_repository() -> None:
    """Every relative link of the README and the docs names a file or folder of the repository,
    and no path in their text climbs out of it (``../shared/…`` is not in a clone)."""
    problems = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for m in LINK.finditer(text):
            target = m["target"]
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue
            file_part = target.split("#", 1)[0]
            if _outside(path, file_part) is not None:
                problems.append(f"{path.name}: link {target} leaves the repository")
            elif not (path.parent / file_part).exists():
                problems.append(f"{path.name}: link {target} names nothing in the repository")
        for m in UP_PATH.finditer(text):
            if _outside(path, m.group(0)) is not None:
                problems.append(f"{path.name}: path {m.group(0)} leaves the repository")
    assert not problems, "\n".join(problems)


def test_the_link_check_sees_an_escape(tmp_path: Path) -> None:
    """A check of the checker: ``../shared`` from the README resolves outside the repository."""
    assert _outside(ROOT / "README.md", "../shared/data") is not None
    assert _outside(ROOT / "docs" / "gates.md", "../examples/gates/") is None
    assert UP_PATH.findall("see ../shared/x and `../shared/y`") == ["../shared/x", "../shared/y"]


def test_the_runners_catch_drift(tmp_path: Path) -> None:
    """A check of the checker: a wrong output line, a wrong exit code, a usage error in a shell
    block and a wrong value in a Python block all fail."""
    env = _workspace(tmp_path)
    gate = "$ parity gate examples/gates/incumbent.jsonl examples/gates/candidate.jsonl\n"

    def block(language: str, code: str) -> Block:
        return Block(ROOT / "README.md", 1, language, (), code)

    run_console(
        block("console", gate + "gate (hard) on 4 items: REJECT   # a remark\n$ echo $?\n1\n"),
        tmp_path,
        env,
    )
    for wrong in (gate + "gate (hard) on 4 items: ACCEPT\n", gate + "$ echo $?\n0\n"):
        with pytest.raises(AssertionError, match="did not print"):
            run_console(block("console", wrong), tmp_path, env)
    with pytest.raises(AssertionError, match="exited 2"):
        run_sh(block("sh", "parity compare --no-such-option a b\n"), tmp_path, env)
    with pytest.raises(AssertionError, match="the docs say"):
        run_python(block("python", "x = 2\nx + 1   # 4\n"), {}, tmp_path)
    with pytest.raises(AssertionError, match="printed"):
        run_python(block("python", 'print("a b")   # a c\n'), {}, tmp_path)
