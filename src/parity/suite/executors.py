"""Executors: where a suite's runs execute, behind one ``concurrent.futures``-style interface.

An executor has ``submit(fn, *args) -> concurrent.futures.Future``, a ``capacity`` (how many
runs it can execute at once: the runner keeps twice that many submitted, the rest queued),
``stop_flag()`` (a picklable
flag with ``set()`` and ``is_set()`` that running jobs poll, so that Ctrl-C reaches them where
they run) and ``shutdown()``; it is a context manager. Two are built in:

``local``
    A thread pool on this machine (:class:`LocalExecutor`). Each thread launches one run's
    subprocess and waits for it, so the threads cost nothing while the runs work.
``dask``
    A Dask cluster (:class:`DaskExecutor`): an existing one by its scheduler address, or a
    ``LocalCluster`` in this process when none is given (for trying things out). Workers must
    see the manifest's folder and the runs folder at the same paths (a shared file system).
    Needs the ``dask`` extra: ``pip install 'parity[dask]'``.

Another backend (Ray, a batch system) is added by writing a class with the same methods and
registering it in :data:`EXECUTORS`.

Examples
--------
>>> with make_executor("local", workers=2) as ex:
...     ex.submit(pow, 2, 10).result(), ex.capacity
(1024, 2)
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from parity._install import install_hint
from parity.errors import ParityInputError


class StopFlag(Protocol):
    """A flag running jobs poll to learn that the suite run is being stopped."""

    def set(self) -> None: ...

    def is_set(self) -> bool: ...


class Executor(Protocol):
    """What the runner needs from an executor."""

    name: str
    capacity: int

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future: ...

    def stop_flag(self) -> StopFlag: ...

    def shutdown(self, *, cancel: bool = False) -> None: ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: object) -> None: ...


def default_workers() -> int:
    """The number of CPUs this process may use (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class _ExecutorBase:
    name = "base"
    capacity = 1

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc: object) -> None:
        self.shutdown(cancel=exc_type is not None)


class LocalExecutor(_ExecutorBase):
    """A pool of ``workers`` threads on this machine (default: the CPU count).

    Examples
    --------
    >>> with LocalExecutor(workers=3) as ex:
    ...     sorted(f.result() for f in [ex.submit(abs, -i) for i in range(3)])
    [0, 1, 2]
    """

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.capacity = int(workers) if workers else default_workers()
        if self.capacity < 1:
            raise ParityInputError(f"--workers must be >= 1; got {workers}")
        self._pool = ThreadPoolExecutor(self.capacity, thread_name_prefix="parity-run")

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future:
        """Run ``fn(*args)`` in a worker thread."""
        return self._pool.submit(fn, *args)

    def stop_flag(self) -> threading.Event:
        """A :class:`threading.Event`."""
        return threading.Event()

    def shutdown(self, *, cancel: bool = False) -> None:
        """Wait for the running calls; with ``cancel``, drop the ones not started."""
        self._pool.shutdown(wait=True, cancel_futures=cancel)


class DaskStopFlag:
    """A stop flag shared through the Dask scheduler (a ``distributed.Event``), polled at most
    every ``interval`` seconds by each job so that it costs the scheduler little."""

    def __init__(self, name: str, interval: float = 1.0) -> None:
        self.name = name
        self.interval = interval
        self._event = None
        self._checked = 0.0
        self._value = False

    def __getstate__(self) -> dict:
        return {"name": self.name, "interval": self.interval}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["name"], state["interval"])

    def _get(self):
        if self._event is None:
            from distributed import Event

            self._event = Event(self.name)
        return self._event

    def set(self) -> None:
        self._value = True
        self._get().set()

    def is_set(self) -> bool:
        now = time.monotonic()
        if not self._value and now - self._checked >= self.interval:
            self._checked = now
            try:
                self._value = bool(self._get().is_set())
            except Exception:  # the scheduler is gone: treat it as a stop
                self._value = True
        return self._value


class DaskExecutor(_ExecutorBase):
    """Runs on a Dask cluster: ``scheduler`` is its address (``tcp://host:8786``); without one,
    a ``LocalCluster`` (one worker of ``workers`` threads in this process) is started.

    ``capacity`` is ``workers`` when given, else the cluster's total worker threads.
    """

    name = "dask"

    def __init__(
        self, scheduler: str | None = None, workers: int | None = None, *, timeout: float = 10.0
    ) -> None:
        """Connect to the Dask ``scheduler`` (or start a local cluster of ``workers``) within
        ``timeout`` seconds; a missing extra or an unreachable scheduler is an input error."""
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ParityInputError(
                f"--executor dask needs Dask: {install_hint('dask')} "
                "(dask[distributed]); not installed"
            ) from None
        self._cluster = None
        try:
            if scheduler:
                self._client = Client(scheduler, timeout=timeout, set_as_default=False)
            else:
                self._cluster = LocalCluster(
                    n_workers=1,
                    threads_per_worker=int(workers) if workers else default_workers(),
                    processes=False,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
                self._client = Client(self._cluster, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            if self._cluster is not None:
                self._cluster.close()
            where = scheduler or "a local Dask cluster"
            raise ParityInputError(f"--scheduler {where}: cannot connect ({exc})") from None
        threads = sum(self._client.nthreads().values())
        self.capacity = int(workers) if workers else max(1, threads)
        self._executor = self._client.get_executor(pure=False)
        self._flags: list[DaskStopFlag] = []

    @property
    def client(self):
        """The ``distributed.Client``."""
        return self._client

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future:
        """Run ``fn(*args)`` on a worker; a ``concurrent.futures.Future`` comes back."""
        return self._executor.submit(fn, *args)

    def stop_flag(self) -> DaskStopFlag:
        """A :class:`DaskStopFlag` bound to this cluster's scheduler."""
        flag = DaskStopFlag(f"parity-stop-{uuid.uuid4().hex}")
        from distributed import Event

        flag._event = Event(flag.name, client=self._client)
        self._flags.append(flag)
        return flag

    def shutdown(self, *, cancel: bool = False) -> None:
        """Wait for (or cancel) the submitted calls, then close the client and local cluster."""
        try:
            self._executor.shutdown(wait=not cancel)
        finally:
            self._client.close()
            if self._cluster is not None:
                self._cluster.close()


EXECUTORS: dict[str, Callable[..., Executor]] = {
    "local": lambda workers=None, scheduler=None: LocalExecutor(workers),
    "dask": lambda workers=None, scheduler=None: DaskExecutor(scheduler, workers),
}


def make_executor(
    name: str = "local", *, workers: int | None = None, scheduler: str | None = None
) -> Executor:
    """Build the executor called ``name`` (see :data:`EXECUTORS`)."""
    if name not in EXECUTORS:
        raise ParityInputError(
            f"--executor must be one of {', '.join(sorted(EXECUTORS))}; got {name!r}"
        )
    if scheduler and name == "local":
        raise ParityInputError("--scheduler needs --executor dask; got --executor local")
    if workers is not None and int(workers) < 1:
        raise ParityInputError(f"--workers must be >= 1; got {workers}")
    return EXECUTORS[name](workers=workers, scheduler=scheduler)
