"""parity: statistical parity checks for ML systems.

Did this change preserve the behaviour of an ML system? ``parity.compare`` answers for action
samples of two policies, ``parity.evaluate_gate`` / ``parity.evaluate_gate_paired`` for a
candidate skill or prompt on held-out items; ``parity.stats`` holds the pure numerics and
``parity.testing`` the assertions for a user's own test suite.

Every subpackage is an attribute of ``parity`` (``parity.stats``, ``parity.io``,
``parity.testing``, ...), imported on first use, like the heavy modules behind them (scipy.stats,
pydantic, the CLI): ``import parity`` stays light.

Examples
--------
>>> import parity
>>> parity.stats.tost([1.0, 1.1, 0.9, 1.0, 1.0], [1.0, 1.05, 0.95, 1.0, 1.0], margin=0.5).equivalent
True
>>> sorted(parity.SUBMODULES)[:3]
['agents', 'cli', 'errors']
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "compare": "parity.verdict",
    "ParityVerdict": "parity.verdict",
    "two_sample_test": "parity.stats.permutation",
    "evaluate_gate": "parity.gate",
    "evaluate_gate_paired": "parity.gate",
    "select_gate_score": "parity.gate",
    "GateResult": "parity.gate",
    "PairedGateResult": "parity.gate",
    "ParityError": "parity.errors",
    "ParityInputError": "parity.errors",
    "ParityWarning": "parity.errors",
}

#: Subpackages and modules reachable as ``parity.<name>`` without importing them first.
SUBMODULES = (
    "agents",
    "cli",
    "errors",
    "examples",
    "gate",
    "io",
    "limits",
    "report",
    "stats",
    "suite",
    "testing",
    "trajectory",
    "verdict",
)

__all__ = ["__version__", *_LAZY, *SUBMODULES]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    if name in SUBMODULES:
        return import_module(f"parity.{name}")
    raise AttributeError(f"module 'parity' has no attribute {name!r}")
