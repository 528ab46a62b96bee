"""The import rules of ``docs/architecture.md``, checked against every module of ``src/parity``.

The layer table of the document is the one source: it is parsed here (rank → rooms), every
module is parsed with :mod:`ast` (imports at module level and inside functions, relative ones
resolved), and the graph is checked: no room imports a room of a higher rank or another room of
its own rank, no module-level cycle, ``import parity`` stays light, and the table names every
room and subpackage of the tree.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "parity"
DOC = ROOT / "docs" / "architecture.md"

#: Imports that break the layer rules today, each with the reason and who removes it. An entry
#: that no longer matches an import fails the test, so the list only shrinks.
ALLOWED: dict[tuple[str, str], str] = {}

#: Rooms the document names ahead of the change that creates them (another change in flight);
#: they are exempt from "the document names no room the tree lacks" only while absent.
PENDING: set[str] = set()

#: Modules that ``stats/`` and ``trajectory/`` never import (I/O and presentation libraries).
NOT_IN_NUMERICS = {"click", "rich", "matplotlib", "pydantic", "yaml", "sqlite3"}


# --------------------------------------------------------------------------------------------
# the document's layer table


def layer_table(text: str) -> dict[str, int]:
    """Room name (``stats``, ``verdict``, ``__init__``) → rank, from the table whose header
    starts ``| rank | rooms |``."""
    rows = iter(text.splitlines())
    for line in rows:
        if re.match(r"\|\s*rank\s*\|\s*rooms\s*\|", line):
            break
    else:
        raise AssertionError(f"{DOC.name}: no table with the header `| rank | rooms | ...`")
    next(rows)  # the |---| line
    ranks: dict[str, int] = {}
    for line in rows:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rank = int(cells[0])
        for name in re.findall(r"`([^`]+)`", cells[1]):
            room = name.removesuffix("/").removesuffix(".py")
            assert room not in ranks, f"{DOC.name}: room `{name}` is in two rows"
            ranks[room] = rank
    return ranks


def test_layer_table_parses():
    ranks = layer_table(DOC.read_text(encoding="utf-8"))
    assert ranks["stats"] < ranks["io"] < ranks["report"] < ranks["cli"]
    assert ranks["trajectory"] < ranks["io"]


# --------------------------------------------------------------------------------------------
# the import graph


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The modules an import statement loads (``from a import b`` is ``a.b`` when that is a
    module of the package, else ``a``)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".")
        if not MODULES[module].name == "__init__.py":
            package.pop()
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, base] if base else package)
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]


def imports(module: str) -> list[tuple[str, int, bool]]:
    """``(target, line, at_module_level)`` for every import of ``module``; an import under
    ``if TYPE_CHECKING:`` counts as lazy (it does not run on import)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"), str(MODULES[module]))
    found: list[tuple[str, int, bool]] = []

    def visit(nodes: list[ast.stmt], top: bool) -> None:
        for node in nodes:
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.extend((t, node.lineno, top) for t in _targets(module, node))
            inner = top and not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(node, ast.If) and _is_type_checking(node):
                visit(node.body, False)
                visit(node.orelse, top)
                continue
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    visit([child], inner)
                elif isinstance(child, ast.excepthandler | ast.match_case):
                    visit(child.body, inner)

    visit(tree.body, True)
    return found


GRAPH = {m: imports(m) for m in MODULES}


def room(module: str) -> str:
    """The room of a module of the package: ``parity.stats.rff`` → ``stats``."""
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def test_graph_sees_lazy_and_relative_imports():
    # a sanity check of the parser on modules whose imports are known
    main = {t for t, _, top in GRAPH["parity.__main__"] if top}
    assert "parity.cli.main" in main
    lazy = {t for t, _, top in GRAPH["parity.cli.suite_report"] if not top}
    assert "parity.report.bundle" in lazy


# --------------------------------------------------------------------------------------------
# the rules


def test_no_import_points_upward_or_sideways():
    ranks = layer_table(DOC.read_text(encoding="utf-8"))
    problems, used = [], set()
    for module, found in GRAPH.items():
        mine = room(module)
        for target, line, _ in found:
            if target != "parity" and not target.startswith("parity."):
                continue
            theirs = room(target)
            if theirs == mine or ranks[theirs] < ranks[mine]:
                continue
            if (module, target) in ALLOWED:
                used.add((module, target))
                continue
            where = "above" if ranks[theirs] > ranks[mine] else "beside"
            path = MODULES[module].relative_to(ROOT)
            problems.append(
                f"{path}:{line}: {module} (rank {ranks[mine]}) imports {target}, "
                f"{where} it (rank {ranks[theirs]})"
            )
    assert not problems, "\n".join(problems)
    stale = sorted(set(ALLOWED) - used)
    assert not stale, f"ALLOWED entries that no longer match an import (remove them): {stale}"


def test_nothing_but_the_command_line_imports_it():
    outside = [
        (module, target)
        for module, found in GRAPH.items()
        for target, _, _ in found
        if (target == "parity.cli" or target.startswith("parity.cli."))
        and room(module) not in ("cli", "__main__")
        and (module, target) not in ALLOWED
    ]
    assert not outside


def test_numerics_import_no_io_or_presentation_library():
    found = [
        (module, target)
        for module, targets in GRAPH.items()
        if room(module) in ("stats", "trajectory")
        for target, _, _ in targets
        if target.split(".")[0] in NOT_IN_NUMERICS
    ]
    assert not found


def test_no_import_cycle_at_module_level():
    edges = {
        m: sorted({t for t, _, top in found if top and t in MODULES and t != m})
        for m, found in GRAPH.items()
    }
    cycles = strongly_connected(edges)
    assert not cycles, f"module-level import cycles: {cycles}"


def strongly_connected(edges: dict[str, list[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_cycle_finder_finds_a_cycle():
    assert strongly_connected({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]
    assert strongly_connected({"a": ["b"], "b": []}) == []


# --------------------------------------------------------------------------------------------
# import parity stays light

PROBE = """
import json, sys
before = set(sys.modules)
{statement}
{call}
third_party = sorted(
    {{n.split(".")[0] for n in set(sys.modules) - before}}
    - set(sys.stdlib_module_names) - {{"parity"}}
)
print(json.dumps([n for n in third_party if not n.startswith("_") and n != "cython_runtime"]))
"""


def third_party_loaded(statement: str, call: str = "") -> list[str]:
    """Third-party top-level packages a fresh interpreter loads to run ``statement``."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(statement=statement, call=call)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": str(PACKAGE.parent)},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_import_parity_loads_no_third_party_package():
    assert third_party_loaded("import parity") == []


def test_help_loads_only_click():
    loaded = third_party_loaded(
        "from parity.cli.main import main", 'assert main(["--help"]) == 0, "--help failed"'
    )
    assert loaded == ["click"]


@pytest.mark.parametrize(
    "statement",
    [
        "import parity.trajectory",
        "from parity.stats import *",  # every module of parity.stats (its names are lazy)
    ],
)
def test_numerics_load_numpy_and_nothing_heavier(statement):
    assert third_party_loaded(statement) == ["numpy"]


def test_stats_names_are_imported_on_first_use():
    assert third_party_loaded("import parity.stats") == []


# --------------------------------------------------------------------------------------------
# the document names the tree


def tree_rooms() -> set[str]:
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    return modules | packages


def test_layer_table_names_every_room_of_the_tree():
    ranks = layer_table(DOC.read_text(encoding="utf-8"))
    rooms = tree_rooms()
    assert not rooms - set(ranks), f"rooms missing from the layer table of {DOC.name}"
    gone = set(ranks) - rooms - PENDING
    assert not gone, f"{DOC.name} names rooms the tree does not have: {sorted(gone)}"


def test_document_names_every_nested_subpackage():
    text = DOC.read_text(encoding="utf-8")
    nested = sorted(
        p.parent.relative_to(PACKAGE).as_posix() + "/"
        for p in PACKAGE.glob("*/*/__init__.py")
        if p.parent.name != "__pycache__"
    )
    missing = [name for name in nested if f"`{name}" not in text and f" {name}" not in text]
    assert not missing, f"{DOC.name} does not mention the subpackages {missing}"


# --------------------------------------------------------------------------------------------
# docstrings: every room says what it is for, every long function what it does

LONG_FUNCTION = 30  # lines, signature included


def test_every_module_and_every_long_function_has_a_docstring():
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(PACKAGE.parent)
        if not ast.get_docstring(tree):
            missing.append(f"{where}: module")
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                long = node.end_lineno - node.lineno + 1 > LONG_FUNCTION
                if long and not ast.get_docstring(node):
                    missing.append(f"{where}:{node.lineno} {node.name}")
    assert not missing, "no docstring:\n" + "\n".join(missing)
