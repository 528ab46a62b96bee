"""The arrays a run wrote (``samples.npz``): the one place where judging reads a file.

A room of :mod:`parity.suite.checks`, used by the shortcut checks and the component
comparison. It may import the standard library, numpy, :mod:`parity.errors` and
:mod:`parity.suite.records`.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from parity.errors import ParityInputError
from parity.suite.records import RunKey, RunRecord

__all__ = ["ArrayLoader", "load_samples_npz"]


ArrayLoader = Callable[[RunRecord], Mapping[str, np.ndarray] | None]


def load_samples_npz(
    run: RunRecord, root: str | Path | None = None
) -> dict[str, np.ndarray] | None:
    """The arrays of ``samples.npz`` in the run's output folder, or None when there is none.

    ``run.out_dir`` is taken relative to ``root`` (the manifest's folder; default the current
    folder) unless it is absolute. A run that recorded neither arrays (``run.samples``) nor a
    ``samples.npz`` file hash has none, and nothing is read. When the run recorded the file's
    sha256 (``files["samples.npz"]``) the file must still have it. This is the only place where
    judging reads a file.

    Raises
    ------
    ParityInputError
        The file is gone, cannot be read as ``.npz`` (no pickles) or its sha256 changed.
    """
    if not run.samples and "samples.npz" not in run.files:
        return None
    path = Path(root or ".") / run.out_dir / "samples.npz"
    if not path.is_file():
        raise ParityInputError(f"{path}: recorded with the run but no longer there")
    recorded = run.files.get("samples.npz")
    if recorded is not None:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != recorded:
            raise ParityInputError(
                f"{path}: sha256 {digest[:12]}… differs from the {recorded[:12]}… recorded "
                "with the run (changed after the run)"
            )
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: np.asarray(data[name]) for name in data.files}
    except Exception as exc:  # zipfile, pickle and format errors alike
        raise ParityInputError(f"{path}: not a readable .npz ({exc})") from None


class _Arrays:
    """Per-run cache of the loaded arrays, with the load error kept."""

    def __init__(self, loader: ArrayLoader) -> None:
        self._loader = loader
        self._cache: dict[RunKey, tuple[Mapping[str, np.ndarray] | None, str | None]] = {}

    def get(self, run: RunRecord) -> tuple[Mapping[str, np.ndarray] | None, str | None]:
        if run.key not in self._cache:
            try:
                self._cache[run.key] = (self._loader(run), None)
            except Exception as exc:
                self._cache[run.key] = (None, str(exc))
        return self._cache[run.key]


def _arrays(root: str | Path | None, load_arrays: ArrayLoader | None) -> _Arrays:
    return _Arrays(load_arrays or functools.partial(load_samples_npz, root=root))
