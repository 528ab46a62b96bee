"""The public Python API's shape: returned result classes are exported, intervals are named.

* Every public function (in the ``__all__`` of ``parity`` and of each of ``parity.SUBMODULES``)
  has a return annotation, and every result class it names (a dataclass or NamedTuple of
  parity, also through the fields of the results it returns) is exported: from that
  subpackage, from :mod:`parity.stats` (results shared by several subpackages), or from the
  subpackage that defines it (a function of ``parity.testing`` returns ``parity.stats``'
  results).
* Every ``(low, high)`` field of a result is a :class:`parity.stats.Interval`: a tuple with
  ``.low`` and ``.high`` whose JSON is the 2-element list it was before.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import sys
import types
import typing
from typing import Any

import numpy as np
import pytest

import parity
from parity.io import json_dumps, json_value
from parity.stats import Interval
from parity.stats._common import ResultMixin, _interval_fields, to_jsonable

NAMESPACES = ("parity", *(f"parity.{name}" for name in parity.SUBMODULES))


# --------------------------------------------------------------------------------------------
# R9: every result class a public function returns is exported


def _is_result(tp: Any) -> bool:
    """A class of parity's own that holds results: a dataclass or a NamedTuple."""
    return (
        isinstance(tp, type)
        and tp.__module__.split(".")[0] == "parity"
        and (dataclasses.is_dataclass(tp) or (issubclass(tp, tuple) and hasattr(tp, "_fields")))
    )


def _public_names() -> dict[str, Any]:
    """Every name exported by ``parity`` and its subpackages (annotations may name them)."""
    names: dict[str, Any] = {}
    for module_name in NAMESPACES:
        module = importlib.import_module(module_name)
        names.update({n: getattr(module, n) for n in getattr(module, "__all__", ())})
    return names


def _named_results(tp: Any, namespace: dict[str, Any]) -> set[type]:
    """Result classes an annotation names, and those its results' fields name, recursively."""
    found: set[type] = set()
    stack = [tp]
    while stack:
        t = stack.pop()
        if _is_result(t) and t not in found:
            found.add(t)
            stack.extend(typing.get_type_hints(t, localns=namespace).values())
        stack.extend(typing.get_args(t))
    return found


def _exports(module: types.ModuleType, cls: type) -> bool:
    return cls.__name__ in getattr(module, "__all__", ()) and getattr(module, cls.__name__) is cls


def unexported_results(module: types.ModuleType, public: dict[str, Any]) -> list[str]:
    """One line per public function of ``module`` whose returned results are not exported."""
    stats = importlib.import_module("parity.stats")
    problems = []
    for name in getattr(module, "__all__", ()):
        fn = getattr(module, name)
        if not inspect.isfunction(fn):
            continue
        namespace = {**public, **vars(module)}
        try:
            hints = typing.get_type_hints(fn, localns=namespace)
        except NameError as exc:  # an annotation names a class no public module exports
            problems.append(f"{module.__name__}.{name}: {exc}")
            continue
        if "return" not in hints:
            problems.append(f"{module.__name__}.{name} has no return annotation")
            continue
        for cls in sorted(_named_results(hints["return"], namespace), key=repr):
            parts = cls.__module__.split(".")
            home = importlib.import_module(".".join(parts[:2])) if len(parts) > 1 else parity
            places = (module, stats, home)
            if not any(_exports(m, cls) for m in places):
                where = ", ".join(dict.fromkeys(m.__name__ for m in places))
                problems.append(
                    f"{module.__name__}.{name} returns {cls.__module__}.{cls.__name__}, "
                    f"which none of {where} exports"
                )
    return problems


@pytest.mark.parametrize("module_name", NAMESPACES)
def test_returned_result_classes_are_exported(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert unexported_results(module, _public_names()) == []


def test_the_walk_finds_an_unexported_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: a result class reached only through a field, or a missing
    annotation, is reported."""

    @dataclasses.dataclass(frozen=True)
    class Inner:
        value: float

    @dataclasses.dataclass(frozen=True)
    class Outer:
        inner: Inner | None

    Inner.__module__ = Outer.__module__ = "parity.fake"

    def outer() -> list[Outer]:
        return []

    def bare():
        return None

    module = types.ModuleType("parity.fake")
    module.Outer, module.Inner, module.outer, module.bare = Outer, Inner, outer, bare
    module.__all__ = ["Outer", "bare", "outer"]
    monkeypatch.setitem(sys.modules, "parity.fake", module)
    problems = unexported_results(module, {"Outer": Outer, "Inner": Inner})
    assert problems == [
        "parity.fake.bare has no return annotation",
        "parity.fake.outer returns parity.fake.Inner, which none of parity.fake, parity.stats "
        "exports",
    ]


def test_the_result_classes_of_the_brief_are_exported() -> None:
    """The classes this change exported, by the names users see in the docs."""
    from parity import agents, stats

    for name in ("TOSTResult", "OneSidedResult", "OneSidedTest", "PosteriorResult", "Interval"):
        assert name in stats.__all__ and isinstance(getattr(stats, name), type)
    for name in ("PairResult", "ClusterInfo"):
        assert name in agents.__all__ and isinstance(getattr(agents, name), type)


# --------------------------------------------------------------------------------------------
# R10: intervals are Interval(low, high)


INTERVAL_TYPES = (Interval, Interval | None)


def _interval_field(name: str) -> bool:
    return name in {"confidence_interval", "bounds", "band"} or name.endswith(("_ci", "_interval"))


def _public_result_classes() -> dict[str, type]:
    classes = {}
    for value in _public_names().values():
        if _is_result(value) and dataclasses.is_dataclass(value):
            classes[f"{value.__module__}.{value.__qualname__}"] = value
    return classes


def test_every_interval_field_is_annotated_interval() -> None:
    """A new result class with a plain-tuple interval fails here."""
    public = _public_names()
    wrong = []
    checked = 0
    for qualname, cls in sorted(_public_result_classes().items()):
        hints = typing.get_type_hints(cls, localns=public)
        typed = {f.name for f in dataclasses.fields(cls) if hints[f.name] in INTERVAL_TYPES}
        if issubclass(cls, ResultMixin) and typed != set(_interval_fields(cls)):
            wrong.append(
                f"{qualname}: {sorted(typed)} typed Interval, converted only "
                f"{sorted(_interval_fields(cls))} (spell the annotation `Interval`)"
            )
        for field in dataclasses.fields(cls):
            if not _interval_field(field.name):
                continue
            checked += 1
            tp = hints[field.name]
            if tp not in INTERVAL_TYPES:
                wrong.append(f"{qualname}.{field.name}: {tp}")
            elif not issubclass(cls, ResultMixin):
                wrong.append(f"{qualname}.{field.name}: not a ResultMixin, never converted")
    assert wrong == []
    assert checked >= 15  # the walk reached the result classes (not an empty loop)


def test_interval_is_a_named_pair() -> None:
    ci = Interval(0.25, 0.75)
    low, high = ci
    assert (low, high) == (ci.low, ci.high) == (ci[0], ci[1]) == (0.25, 0.75)
    assert ci == (0.25, 0.75) and isinstance(ci, tuple) and len(ci) == 2
    assert repr(ci) == "Interval(low=0.25, high=0.75)"


@pytest.mark.parametrize(
    "pair", [(0.1, 0.9), (-np.inf, 2.5), (np.float64(0.5), np.nan), (0, 1)], ids=repr
)
def test_interval_json_is_the_pair_json(pair: tuple[Any, Any]) -> None:
    """Same bytes as the plain tuple through every writer (to_jsonable, json_value, json)."""
    interval = Interval(*pair)
    assert to_jsonable(interval) == to_jsonable(tuple(pair))
    assert json_value(interval) == json_value(tuple(pair))
    assert json_dumps({"ci": interval}) == json_dumps({"ci": tuple(pair)})
    assert json.dumps(to_jsonable({"ci": interval})) == json.dumps(to_jsonable({"ci": pair}))


@dataclasses.dataclass(frozen=True, slots=True)
class _Example(ResultMixin):
    estimate: float
    confidence_interval: Interval
    other: Interval | None = None
    pair: tuple[float, float] = (0.0, 1.0)


def test_result_mixin_converts_interval_fields_only() -> None:
    res = _Example(0.5, [0.25, np.float64(0.75)], other=np.array([1.0, 2.0]))
    assert type(res.confidence_interval) is Interval and res.confidence_interval.high == 0.75
    assert type(res.other) is Interval and res.other == (1.0, 2.0)
    assert type(res.pair) is tuple  # not annotated Interval: left as given
    assert _Example(0.5, (0.0, 1.0)).other is None
    assert res.to_dict() == {
        "estimate": 0.5,
        "confidence_interval": [0.25, 0.75],
        "other": [1.0, 2.0],
        "pair": [0.0, 1.0],
    }
    assert dataclasses.replace(res, confidence_interval=(1.0, 2.0)).confidence_interval.low == 1.0


def _results() -> dict[str, Any]:
    """One result of each public function with an interval, at small sizes."""
    from parity import gate, stats, trajectory

    rng = np.random.default_rng(0)
    ref = rng.normal(1.0, 0.1, 30)
    cand = rng.normal(1.0, 0.1, 30)
    items = [{"id": f"q{i}", "hard": float(i % 3 > 0), "soft": (i % 5) / 4} for i in range(30)]
    incumbent = [{"id": f"q{i}", "hard": float(i % 4 > 0), "soft": (i % 7) / 6} for i in range(30)]
    paired = gate.evaluate_gate_paired(items, incumbent, rng=0, n_resamples=199, n_bootstrap=199)
    episodes = np.cumsum(rng.normal(size=(2, 8, 12, 2)), axis=2)
    embodied = trajectory.compare_embodied(
        episodes[0], episodes[1], dt=0.1, metrics=["path_length"], n_resamples=199, rng=0
    )
    return {
        "bootstrap_ci": stats.bootstrap_ci((ref,), np.mean, n_resamples=199, rng=0),
        "bootstrap_ratio_of_means": stats.bootstrap_ratio_of_means(
            ref, cand, n_resamples=199, rng=0
        ),
        "tost": stats.tost(ref, cand, margin=0.1),
        "noninferiority": stats.noninferiority(ref, cand, margin=0.1),
        "wilson": stats.wilson(7, 20),
        "clopper_pearson": stats.clopper_pearson(7, 20),
        "auc": stats.auc(np.r_[ref, cand + 0.1], np.r_[np.zeros(30), np.ones(30)]),
        "aggregate_ci": stats.aggregate_ci(
            rng.normal(1.0, 0.3, size=(5, 4)), "iqm", n_resamples=199, rng=0
        ),
        "evaluate_gate_paired": paired,
        "GateRecord.from_result": gate.GateRecord.from_result(paired),
        "compare_embodied": embodied["path_length"],
    }


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    return _results()


@pytest.mark.parametrize(
    "name",
    [
        "bootstrap_ci",
        "bootstrap_ratio_of_means",
        "tost",
        "noninferiority",
        "wilson",
        "clopper_pearson",
        "auc",
        "aggregate_ci",
        "evaluate_gate_paired",
        "GateRecord.from_result",
        "compare_embodied",
    ],
)
def test_confidence_interval_has_low_and_high(results: dict[str, Any], name: str) -> None:
    res = results[name]
    ci = res.confidence_interval
    assert isinstance(ci, Interval)
    low, high = ci
    assert (ci.low, ci.high) == (low, high)
    assert ci.low <= ci.high
    assert res.to_dict()["confidence_interval"] == json.loads(json.dumps(to_jsonable(list(ci))))


def test_margins_bounds_and_bands_are_intervals(results: dict[str, Any]) -> None:
    tost, one_sided = results["tost"], results["noninferiority"]
    assert isinstance(tost.bounds, Interval) and tost.bounds == (-0.1, 0.1)
    assert isinstance(tost.margin, Interval) and tost.margin.low == -0.1
    assert isinstance(one_sided.bounds, Interval) and one_sided.bounds.high == np.inf
    assert isinstance(results["compare_embodied"].band, Interval)


def test_intervals_survive_a_json_round_trip(results: dict[str, Any]) -> None:
    from parity.gate import GateRecord, PairedGateResult

    paired = results["evaluate_gate_paired"]
    again = PairedGateResult.from_dict(json.loads(json_dumps(paired.to_dict(), digits=None)))
    assert again == paired and isinstance(again.confidence_interval, Interval)
    record = GateRecord.from_dict(
        json.loads(json_dumps(results["GateRecord.from_result"].to_dict()))
    )
    assert isinstance(record.confidence_interval, Interval)
    assert GateRecord(action=paired.action).confidence_interval is None
