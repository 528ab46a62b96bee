"""The suite manifest: YAML validated by pydantic, every error reported with its path.

A manifest names the systems (``reference`` and ``candidate``, each run from a ``command``
template or read from a ``results`` path pattern), the tasks, seeds and metrics, optional
cross-task ``aggregates``, ``validity`` rules and ``components``. ``parity suite schema`` prints
its JSON schema (:func:`manifest_schema`).

YAML is read with YAML 1.2 scalars: ``5e-2`` is the number 0.05 (YAML 1.1 reads a string) and
``NO``/``yes``/``on`` stay strings (YAML 1.1 reads booleans); only ``true``/``false`` are
booleans.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from parity.errors import ParityInputError
from parity.suite.records import RunKey

PLACEHOLDERS = ("task", "seed", "rerun", "out")
BOUND = re.compile(r"^\s*([A-Za-z_][\w.\-]*)\s*(>=|<=|>|<|==|!=)\s*(\S+)\s*$")

PositiveFloat = Annotated[float, Field(gt=0)]
#: A seed is stored as an SQLite INTEGER: a signed 64-bit number.
Seed = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
#: Most runs one suite may expect (systems × tasks × seeds × reruns).
MAX_RUNS = 1_000_000
#: Most bootstrap resamples of one aggregate.
MAX_RESAMPLES = 1_000_000


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class System(_Model):
    """How a system's results come to be: a command template or a results path pattern."""

    command: str | None = None
    results: str | None = None
    cwd: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    timeout: PositiveFloat | None = None

    @model_validator(mode="after")
    def _one_source(self) -> System:
        if (self.command is None) == (self.results is None):
            raise ValueError("give exactly one of `command` and `results`")
        template = self.command if self.command is not None else self.results
        unknown = sorted(set(re.findall(r"{(\w*)}", template)) - set(PLACEHOLDERS))
        if unknown:
            raise ValueError(
                f"unknown template field(s) {', '.join('{' + u + '}' for u in unknown)}; "
                f"allowed: {', '.join('{' + p + '}' for p in PLACEHOLDERS)}"
            )
        if self.results is not None and "{out}" in self.results:
            raise ValueError("`results` patterns cannot use {out}")
        if self.command is not None:
            quoted = quoted_placeholders(self.command)
            if quoted:
                field, where = quoted[0]
                raise ValueError(
                    f"command: {{{field}}} is inside {where}; the runner shell-quotes every "
                    f"placeholder itself, and quotes around one let a value such as $(…) run as "
                    f"a command: write {{{field}}} bare; got {self.command!r}"
                )
        return self


_QUOTE_NAMES = {"'": "single quotes", '"': "double quotes", "`": "backticks"}


def quoted_placeholders(command: str) -> list[tuple[str, str]]:
    r"""The placeholders a shell command template puts inside quotes or backticks.

    The runner replaces each ``{task}``, ``{seed}``, ``{rerun}``, ``{out}`` by its shell-quoted
    value (:func:`shlex.quote`); inside ``"…"`` or backticks that quoting no longer protects, so
    a task named ``$(touch pwned)`` would run. This scans the template as ``/bin/sh`` reads
    quotes (backslash escapes, ``'…'``, ``"…"``, backticks, ``#`` comments) and returns
    ``(field, where)`` for each placeholder found quoted.

    Examples
    --------
    >>> quoted_placeholders('python run.py {task} --out {out}/x')
    []
    >>> quoted_placeholders("echo \"{task}\" '{seed}' `ls {out}`")
    [('task', 'double quotes'), ('seed', 'single quotes'), ('out', 'backticks')]
    """
    found: list[tuple[str, str]] = []
    stack: list[str] = []  # open quotes, innermost last
    i = 0
    while i < len(command):
        char = command[i]
        inner = stack[-1] if stack else None
        if char == "\\" and inner != "'":
            i += 2
            continue
        if char == "{" and (match := re.match(r"{(task|seed|rerun|out)}", command[i:])):
            if inner is not None:
                found.append((match.group(1), _QUOTE_NAMES[inner]))
            i += match.end()
            continue
        if char == "#" and inner is None and (i == 0 or command[i - 1] in " \t\n;&|"):
            end = command.find("\n", i)
            i = len(command) if end < 0 else end  # a comment runs to the end of the line
            continue
        if char == inner:
            stack.pop()
        elif char in _QUOTE_NAMES and inner != "'" and not (inner == '"' and char == "'"):
            stack.append(char)
        i += 1
    return found


def _check_interval(value: Any) -> Any:
    if isinstance(value, list | tuple):
        if len(value) != 2 or not value[0] < 0 < value[1]:
            raise ValueError("a margin pair must be [low, high] with low < 0 < high")
        return tuple(value)
    if value <= 0:
        raise ValueError("must be > 0")
    return value


class Margin(_Model):
    """Equivalence margin of a metric: absolute (difference units) or relative (fraction)."""

    absolute: float | tuple[float, float] | None = None
    relative: float | tuple[float, float] | None = None

    _check_absolute = field_validator("absolute")(
        lambda cls, v: None if v is None else _check_interval(v)
    )
    _check_relative = field_validator("relative")(
        lambda cls, v: None if v is None else _check_interval(v)
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Margin:
        if (self.absolute is None) == (self.relative is None):
            raise ValueError("give exactly one of `absolute` and `relative`")
        return self

    @property
    def value(self) -> float | tuple[float, float]:
        """The margin as :func:`parity.stats.tost` takes it."""
        return self.absolute if self.absolute is not None else self.relative

    @property
    def is_relative(self) -> bool:
        """Whether the margin is a fraction of the reference mean."""
        return self.relative is not None


class MetricSpec(_Model):
    """How one metric is judged per task."""

    margin: Margin
    higher_is_better: StrictBool = True
    paired: StrictBool = False
    test: Literal["equivalence", "noninferiority"] | None = None


class AggregateMargin(_Model):
    """Margin of an aggregate: on the ratio candidate/reference, or on the difference."""

    ratio: PositiveFloat | None = None
    difference: PositiveFloat | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> AggregateMargin:
        if (self.ratio is None) == (self.difference is None):
            raise ValueError("give exactly one of `ratio` and `difference`")
        return self


class AggregateSpec(_Model):
    """A cross-task decision on one metric, with a stratified bootstrap CI."""

    name: str
    metric: str
    statistic: Literal["iqm", "mean", "median", "optimality_gap"] = "iqm"
    normalization: dict[str, tuple[float, float]] | None = None
    margin: AggregateMargin
    n_resamples: int = Field(default=2000, ge=100, le=MAX_RESAMPLES)

    @field_validator("normalization")
    @classmethod
    def _low_below_high(cls, value):
        if value is not None:
            bad = [task for task, (low, high) in value.items() if not low < high]
            if bad:
                raise ValueError(f"normalization needs low < high; not so for {bad}")
        return value


class ValiditySpec(_Model):
    """Rules every recorded run must meet."""

    required_metrics: list[str] | None = None
    bounds: list[str] = Field(default_factory=list)
    shortcut_checks: StrictBool = True

    @field_validator("bounds")
    @classmethod
    def _parse_bounds(cls, value: list[str]) -> list[str]:
        for rule in value:
            match = BOUND.match(rule)
            if not match:
                raise ValueError(f"a bound reads like `steps >= 100000`; got {rule!r}")
            try:
                float(match.group(3))
            except ValueError:
                raise ValueError(f"the right side of {rule!r} must be a number") from None
        return value

    def parsed_bounds(self) -> list[tuple[str, str, float]]:
        """The bounds as (metric, operator, value) triples."""
        out = []
        for rule in self.bounds:
            metric, op, value = BOUND.match(rule).groups()
            out.append((metric, op, float(value)))
        return out


class ComponentSpec(_Model):
    """An array each system writes for the same fixed inputs, compared across systems."""

    array: str | None = None
    test: Literal["allclose", "two_sample"] = "allclose"
    rtol: float = Field(default=1e-5, ge=0)
    atol: float = Field(default=1e-8, ge=0)
    required: StrictBool = True


class RunSettings(_Model):
    """Execution settings: per-run timeout and bounded retries."""

    timeout: PositiveFloat | None = None
    retries: int = Field(default=0, ge=0, le=10)


class Manifest(_Model):
    """A suite: systems × tasks × seeds × reruns, the metrics and how they are judged."""

    name: str
    mode: Literal["proof", "quick"] = "proof"
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    reruns: int = Field(default=1, ge=1, le=1000)
    systems: dict[str, System]
    tasks: list[str] = Field(min_length=1)
    seeds: list[Seed] = Field(min_length=1)
    metrics: dict[str, MetricSpec] = Field(min_length=1)
    aggregates: list[AggregateSpec] = Field(default_factory=list)
    decide_on: Literal["per_task", "aggregate", "both"] | None = None
    validity: ValiditySpec = Field(default_factory=ValiditySpec)
    components: dict[str, ComponentSpec] = Field(default_factory=dict)
    run: RunSettings = Field(default_factory=RunSettings)

    @field_validator("tasks", "seeds")
    @classmethod
    def _unique(cls, value: list) -> list:
        from collections import Counter

        duplicates = sorted(str(v) for v, n in Counter(value).items() if n > 1)
        if duplicates:
            raise ValueError(f"must be unique; repeated: {', '.join(duplicates)}")
        return value

    @model_validator(mode="after")
    def _cross_references(self) -> Manifest:
        problems = []
        missing = [s for s in ("reference", "candidate") if s not in self.systems]
        if missing:
            problems.append(f"systems: must include {' and '.join(missing)}")
        for i, agg in enumerate(self.aggregates):
            if agg.metric not in self.metrics:
                problems.append(f"aggregates.{i}.metric: unknown metric {agg.metric!r}")
            if agg.normalization is not None:
                absent = sorted(set(self.tasks) - set(agg.normalization))
                if absent:
                    problems.append(
                        f"aggregates.{i}.normalization: no points for task(s) {', '.join(absent)}"
                    )
        for name in self.validity.required_metrics or []:
            if name not in self.metrics:
                problems.append(f"validity.required_metrics: unknown metric {name!r}")
        runs = len(self.systems) * len(self.tasks) * len(self.seeds) * self.reruns
        if runs > MAX_RUNS:
            problems.append(
                f"systems × tasks × seeds × reruns: at most {MAX_RUNS} runs; got {runs}"
            )
        if self.decide_on in ("aggregate", "both") and not self.aggregates:
            problems.append(f"decide_on: {self.decide_on!r} needs at least one aggregate")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def decision_basis(self) -> str:
        """Which results decide: ``decide_on``, defaulting to both when aggregates exist."""
        return self.decide_on or ("both" if self.aggregates else "per_task")

    def metric_test(self, metric: str) -> str:
        """The metric's test; by default equivalence in proof mode, non-inferiority in quick."""
        spec = self.metrics[metric]
        return spec.test or ("equivalence" if self.mode == "proof" else "noninferiority")

    def system_reruns(self, system: str) -> int:
        """Reruns of a system: results patterns without ``{rerun}`` hold a single rerun."""
        spec = self.systems[system]
        if spec.results is not None and "{rerun}" not in spec.results:
            return 1
        return self.reruns

    def expected_keys(self) -> list[RunKey]:
        """Every (system, task, seed, rerun) the suite needs, in a stable order."""
        return [
            RunKey(system, task, seed, rerun)
            for system in sorted(self.systems)
            for task in self.tasks
            for seed in self.seeds
            for rerun in range(self.system_reruns(system))
        ]


# --------------------------------------------------------------------------- YAML 1.2 loading

#: Largest manifest file read (bytes); a real one is a few kilobytes.
MAX_MANIFEST_BYTES = 1 << 19
#: Deepest nesting of lists and mappings in a manifest (a real one nests about 5 deep), with
#: aliases expanded.
MAX_YAML_DEPTH = 32
#: Most nodes (scalars, lists, mappings) in a manifest, each alias counting as the nodes it
#: repeats: a few hundred bytes of aliases cannot expand into millions of nodes.
MAX_YAML_NODES = 1_000_000
#: Most problems listed for one manifest (then a line says how many more).
MAX_ERROR_LINES = 20

_CORE_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_CORE_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_CORE_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_CORE_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_KEPT_TAGS = ("null", "bool", "int", "float", "str", "seq", "map")


def _yaml_loader():
    """The manifest's YAML loader: PyYAML's SafeLoader cut down to the YAML 1.2 core schema.

    * Plain scalars resolve as in the YAML 1.2 core schema only: ``true``/``false`` are
      booleans, ``010`` is 10, ``0o10`` 8, ``0x10`` 16, ``5e-2`` 0.05, ``.inf``; ``yes``, ``on``,
      ``1:20``, ``1_000`` and ``2024-01-01`` stay strings (YAML 1.1 reads booleans, 80, 1000
      and a date). No ``<<`` merge keys, no ``!!binary``/``!!timestamp``/``!!set`` tags.
    * Anchors and aliases (``&a``, ``*a``, as ``yaml.safe_dump`` writes for a repeated value)
      are read, but each alias counts as every node it repeats: a document that expands past
      :data:`MAX_YAML_NODES` nodes, or nests deeper than :data:`MAX_YAML_DEPTH` (aliases
      expanded), is refused, so a small file cannot expand into a huge one. An alias inside
      its own anchor (a cycle) is refused. A key given twice in one mapping is an error naming
      it and both lines.

    Examples
    --------
    >>> import yaml
    >>> yaml.load("[010, 0o10, 1:20, yes, true, 1_000, 2024-01-01]", Loader=_yaml_loader())
    [10, 8, '1:20', 'yes', True, '1_000', '2024-01-01']
    """
    import yaml
    from yaml.composer import Composer
    from yaml.constructor import ConstructorError, SafeConstructor
    from yaml.resolver import Resolver

    try:  # libyaml's parser (about 5 times faster), under this module's composer
        from yaml._yaml import CParser as Parser
    except ImportError:  # pragma: no cover - PyYAML built without libyaml
        from yaml.parser import Parser as PyParser
        from yaml.reader import Reader
        from yaml.scanner import Scanner

        class Parser(Reader, Scanner, PyParser):  # type: ignore[no-redef]
            def __init__(self, stream):
                Reader.__init__(self, stream)
                Scanner.__init__(self)
                PyParser.__init__(self)

    class Loader(Composer, SafeConstructor, Resolver, Parser):
        """YAML 1.2 core schema, bounded alias expansion and depth, no duplicate keys."""

        def __init__(self, stream):
            Parser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

        yaml_implicit_resolvers: dict = {}  # noqa: RUF012 - PyYAML's class-level table
        yaml_constructors = {  # noqa: RUF012 - PyYAML's class-level table
            tag: SafeConstructor.yaml_constructors[tag]
            for tag in (f"tag:yaml.org,2002:{t}" for t in _KEPT_TAGS)
        }
        yaml_constructors[None] = SafeConstructor.construct_undefined

        _depth = 0  # nesting of the node being composed
        _deepest = 0  # deepest nesting reached in it, aliases expanded
        _nodes = 0  # nodes so far, aliases expanded

        def _limit(self, depth: int, nodes: int, mark) -> None:
            if depth > MAX_YAML_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"lists and mappings nest more than {MAX_YAML_DEPTH} deep", mark
                )
            if nodes > MAX_YAML_NODES:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"the document expands to more than {MAX_YAML_NODES} nodes "
                    "(aliases count as the nodes they repeat)",
                    mark,
                )

        def compose_node(self, parent, index):
            event = self.peek_event()
            if isinstance(event, yaml.AliasEvent):
                node = super().compose_node(parent, index)
                if id(node) not in self._sizes:
                    raise yaml.composer.ComposerError(
                        None,
                        None,
                        f"alias *{event.anchor} is inside its own anchor",
                        event.start_mark,
                    )
                size, height = self._sizes[id(node)]
                self._nodes += size
                self._deepest = max(self._deepest, self._depth + height)
                self._limit(self._deepest, self._nodes, event.start_mark)
                return node
            outer_deepest, start = self._deepest, self._nodes
            self._depth += 1
            self._deepest = self._depth
            self._limit(self._depth, self._nodes, event.start_mark)
            try:
                node = super().compose_node(parent, index)
            finally:
                self._depth -= 1
            self._nodes += 1
            self._limit(self._deepest, self._nodes, event.start_mark)
            if event.anchor is not None:
                self._sizes[id(node)] = (self._nodes - start, self._deepest - self._depth)
            self._deepest = max(outer_deepest, self._deepest)
            return node

        def compose_document(self):
            self._sizes: dict[int, tuple[int, int]] = {}
            return super().compose_document()

        def construct_mapping(self, node, deep=False):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.setdefault(key, key_node)
                except TypeError:
                    continue  # unhashable: the base class reports it
                if first is not key_node:
                    raise ConstructorError(
                        None,
                        None,
                        f"duplicate key {key!r} (first at line {first.start_mark.line + 1})",
                        key_node.start_mark,
                    )
            return super().construct_mapping(node, deep=deep)

        def construct_yaml_int(self, node):
            text = self.construct_scalar(node)
            base = {"0o": 8, "0x": 16}.get(text[:2], 10)
            digits = text[2:] if base != 10 else text
            if len(digits) > 100:
                raise ConstructorError(
                    None, None, f"an integer of {len(digits)} digits (at most 100)", node.start_mark
                )
            return int(digits, base)

        def construct_yaml_float(self, node):
            text = self.construct_scalar(node).lower()
            sign = -1.0 if text.startswith("-") else 1.0
            body = text.lstrip("+-")
            if body == ".inf":
                return sign * float("inf")
            if body == ".nan":
                return float("nan")
            return float(text)

    Loader.add_constructor("tag:yaml.org,2002:int", Loader.construct_yaml_int)
    Loader.add_constructor("tag:yaml.org,2002:float", Loader.construct_yaml_float)
    for tag, pattern, first in (
        ("null", _CORE_NULL, ["~", "n", "N", ""]),
        ("bool", _CORE_BOOL, list("tTfF")),
        ("int", _CORE_INT, list("-+0123456789")),
        ("float", _CORE_FLOAT, list("-+0123456789.")),
    ):
        Loader.add_implicit_resolver(f"tag:yaml.org,2002:{tag}", pattern, first)
    return Loader


def _manifest_text(path: Path) -> str:
    """The manifest file's UTF-8 text: a regular file of at most :data:`MAX_MANIFEST_BYTES`."""
    import stat

    try:
        info = path.stat()
    except FileNotFoundError:
        raise ParityInputError(f"{path}: file not found") from None
    except OSError as exc:
        raise ParityInputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise ParityInputError(f"{path}: is a directory, not a manifest file")
    if not stat.S_ISREG(info.st_mode):
        raise ParityInputError(f"{path}: not a regular file (a pipe or device); give a YAML file")
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        raise ParityInputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(data) > MAX_MANIFEST_BYTES:
        raise ParityInputError(
            f"{path}: a manifest is at most {MAX_MANIFEST_BYTES} bytes; this file is larger "
            f"({max(info.st_size, len(data))} bytes)"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParityInputError(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None


def _yaml_problem(exc: Exception) -> str:
    """One line saying where and what a YAML error is."""
    mark = getattr(exc, "problem_mark", None)
    where = f" line {mark.line + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None)
    if problem is None and hasattr(exc, "character"):  # yaml.reader.ReaderError
        character = exc.character
        code = ord(character) if isinstance(character, str) else character
        problem = f"unacceptable character #x{code:04x} at position {exc.position}"
        problem += f": {exc.reason}" if getattr(exc, "reason", None) else ""
    text = " ".join(str(problem or exc).split())
    return f"{where} invalid YAML ({text})"


def read_yaml(path: str | Path) -> Any:
    """Parse a manifest file with :func:`_yaml_loader`; every error is one line naming the
    file (and the line): missing, not a regular file, over :data:`MAX_MANIFEST_BYTES`, not
    UTF-8, invalid YAML, a duplicate key, too many nodes or too deep (aliases expanded)."""
    import yaml

    path = Path(path)
    text = _manifest_text(path)
    try:
        return yaml.load(text, Loader=_yaml_loader())
    except yaml.YAMLError as exc:
        raise ParityInputError(f"{path}:{_yaml_problem(exc)}") from None
    except (ValueError, RecursionError) as exc:  # a scalar Python cannot convert
        raise ParityInputError(f"{path}: invalid YAML ({' '.join(str(exc).split())})") from None


def _short(value: Any, limit: int = 200) -> str:
    """``repr(value)``, cut to ``limit`` characters (a value may be large, or deeply shared)."""
    import reprlib

    short = reprlib.Repr()
    short.maxstring = short.maxother = limit
    short.maxlist = short.maxtuple = short.maxdict = short.maxset = 10
    short.maxlevel = 3
    text = short.repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _format_errors(source: str, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"] if p not in ("function-after",))
        message = err["msg"].removeprefix("Value error, ")
        found = err.get("input")
        shown = "" if isinstance(found, dict) or found is None else f", got {_short(found)}"
        lines.append(f"{source}: {loc + ': ' if loc else ''}{message}{shown}")
    if len(lines) > MAX_ERROR_LINES:
        more = len(lines) - MAX_ERROR_LINES
        lines = [*lines[:MAX_ERROR_LINES], f"{source}: … and {more} more problems like these"]
    return "\n".join(lines)


def parse_manifest(data: Any, source: str = "manifest") -> Manifest:
    """Validate parsed YAML (a mapping) as a :class:`Manifest`; all errors at once, with paths.

    Examples
    --------
    >>> m = parse_manifest({
    ...     "name": "demo", "tasks": ["cartpole"], "seeds": [0, 1],
    ...     "systems": {"reference": {"results": "ref/{task}/{seed}/metrics.json"},
    ...                 "candidate": {"command": "python run.py {task} {seed} {out}"}},
    ...     "metrics": {"return": {"margin": {"relative": 0.05}}},
    ... })
    >>> len(m.expected_keys())
    4
    """
    if not isinstance(data, dict):
        raise ParityInputError(
            f"{source}: a manifest is a mapping of name, systems, tasks, seeds, metrics; "
            f"got {type(data).__name__}"
        )
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        raise ParityInputError(_format_errors(source, exc)) from None


def load_manifest(path: str | Path) -> Manifest:
    """Read and validate a suite manifest file."""
    return parse_manifest(read_yaml(path), str(path))


def manifest_schema() -> dict[str, Any]:
    """The JSON schema of the manifest (``parity suite schema``)."""
    return Manifest.model_json_schema()
