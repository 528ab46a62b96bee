"""The pieces every check shares: the indexed run table, the groups of runs, small helpers.

A room of :mod:`parity.suite.checks`, below every other: it may import the standard library,
:mod:`parity.errors`, :mod:`parity.suite.manifest` and :mod:`parity.suite.records`, and nothing
else of parity.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from parity.errors import ParityInputError
from parity.suite.manifest import Manifest
from parity.suite.records import RunKey, RunRecord


@dataclass(frozen=True, slots=True)
class _Table:
    """The recorded runs, indexed: ok runs by key, the others by key."""

    ok: dict[RunKey, RunRecord]
    other: dict[RunKey, RunRecord]

    def metric(self, system: str, task: str, seed: int, rerun: int, metric: str) -> float | None:
        run = self.ok.get(RunKey(system, task, seed, rerun))
        if run is None:
            return None
        value = run.metrics.get(metric)
        return float(value) if _is_finite_number(value) else None


def _index(runs: Sequence[RunRecord]) -> _Table:
    """The runs as a :class:`_Table`; an ok run hides a failed record of the same key."""
    ok: dict[RunKey, RunRecord] = {}
    other: dict[RunKey, RunRecord] = {}
    for i, run in enumerate(runs):
        if not isinstance(run, RunRecord):
            raise ParityInputError(
                f"`runs` must hold RunRecord objects; item {i} is {type(run).__name__}"
            )
        if run.status == "ok":
            ok[run.key] = run
        else:
            other[run.key] = run
    for key in ok:
        other.pop(key, None)
    return _Table(ok, other)


def _is_finite_number(value: Any) -> bool:
    """A real number (not a bool), finite."""
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _run_label(key: RunKey) -> str:
    """``system/task/seed=S/rerun=R``."""
    return f"{key.system}/{key.task}/seed={key.seed}/rerun={key.rerun}"


def _replace(obj: Any, **changes: Any) -> Any:
    """A copy of the frozen result ``obj`` with ``changes``."""
    return dataclasses.replace(obj, **changes)


def _judge_seed(rng: Any) -> tuple[int, int | None]:
    """The judge's ``rng`` as ``(seed, recorded)``: the int every draw derives from (an int seed
    ≥ 0 as given; one drawn from a ``numpy.random.Generator``, or from fresh entropy for None)
    and the seed the verdict records (the int when an int was given, else None); anything else
    is a :class:`ParityInputError`."""
    if rng is None or (type(rng).__name__ == "Generator" and hasattr(rng, "integers")):
        import numpy as np

        return int(np.random.default_rng(rng).integers(2**63 - 1)), None
    if isinstance(rng, bool) or not isinstance(rng, numbers.Integral) or rng < 0:
        raise ParityInputError(
            f"`rng` must be None, an integer seed ≥ 0 or a numpy.random.Generator; got {rng!r}"
        )
    return int(rng), int(rng)


@dataclass(frozen=True, slots=True)
class _Group:
    """Which runs one evaluation uses: a rerun per system and the seeds."""

    label: str
    rerun: int | None
    reruns: dict[str, int]
    seeds: tuple[int, ...]
    key: tuple[int, ...]  # entropy of the aggregate bootstrap, after the judge's seed


def _main_group(manifest: Manifest) -> _Group:
    """The verdict's group: rerun 0 of both systems, every seed."""
    return _Group("rerun 0", 0, {"reference": 0, "candidate": 0}, tuple(manifest.seeds), (0, 0))
