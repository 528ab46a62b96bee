"""The suite runner: execute every (system, task, seed, rerun) not yet recorded, and resume.

:func:`run_suite` (``parity suite run``) reads the manifest, ingests the runs of ``results``
systems (:mod:`parity.suite.ingest`), and executes the runs of ``command`` systems on an executor
(:mod:`parity.suite.executors`), recording each finished run in the store
(:mod:`parity.suite.store`) as soon as it finishes, whole, from the main thread.

One run of a ``command`` system (:func:`execute_run`)
------------------------------------------------------
* The template's ``{task}``, ``{seed}``, ``{rerun}`` and ``{out}`` are replaced by their values,
  shell-quoted (a manifest that quotes one itself is refused), and the command runs under
  ``/bin/sh`` in ``system.cwd`` (relative to the manifest's folder; default: that folder), with
  ``system.env`` added to the environment, plus ``PARITY_SYSTEM``, ``PARITY_TASK``, ``PARITY_SEED``,
  ``PARITY_RERUN``, ``PARITY_OUT`` and ``PARITY_RUN_TOKEN`` (a fresh random id per attempt).
* ``{out}`` is ``<runs>/<system>/<task>/seed<seed>/rerun<rerun>/`` (``<runs>`` defaults to
  ``runs/`` beside the manifest; names are made file-safe), emptied before each attempt. The
  command's stdout and stderr go to ``rerun<rerun>.stdout.txt`` / ``.stderr.txt`` beside it.
* The command runs in its own session and process group, with a fresh ``PARITY_RUN_TOKEN``
  in its environment; when it exits, times out (the system's ``timeout``, else
  ``run.timeout``) or the suite run is stopped, every process of the run gets SIGTERM, then
  SIGKILL after :data:`KILL_GRACE` seconds, so no stray process keeps writing. "Every process"
  is the process group, the session, and (on Linux, from ``/proc``) any process carrying the
  run's token, which finds descendants that called ``setsid()`` or were re-parented (only a
  process that also clears its environment escapes: run hostile commands in a container).
  Only the pids allocated since the run began are looked at when the allocator's readings
  vouch for them (:func:`pid_window`), else every entry of ``/proc``.
* The run is ``ok`` when the command exits 0 and ``{out}/metrics.json`` is a JSON object;
  otherwise ``failed`` (or ``timeout``). ``stderr_tail`` keeps the end of the command's stderr
  and then parity's reason (lines starting ``parity: ``); :meth:`RunRecord.failure_reason`
  gives both in one line, the command's own last line first.
  Every file in ``{out}`` is hashed (sha256) and the arrays of ``samples.npz`` are listed.
* A run that is not ok is tried again up to ``run.retries`` more times; ``attempts`` says how
  many it took and the record keeps the last attempt.

Resume and interruption
-----------------------
A run is recorded only once it has finished and been read, in one transaction, so a ``kill -9``
loses nothing recorded and records nothing half-written; the next ``run`` does only the keys
that are missing (and, with ``retry_failed``, the ones recorded as failed or timeout). Runs that
finish close together share a transaction (one ``fsync``), committed at most
:data:`COMMIT_EVERY` seconds after the first of them finished; a run is reported done only once
committed, so a crash can lose only runs that were never reported done, and those are missing
from the store and run again. Ctrl-C
(SIGINT) or SIGTERM stops cleanly: nothing more is submitted, running commands are terminated
(their process groups), what finished is kept, nothing interrupted is recorded.

Each run holds a lock file (``rerun<rerun>.lock``) that its command inherits; it names the host,
the command's process group and token, and the pid and start time of the process running it.
When a ``kill -9`` of ``parity suite run`` leaves a command running, the next run finds that
lock held by a runner that is gone, kills the leftover processes, and then reruns the key; a
lock held by a live runner (same pid *and* start time) is left alone and the key skipped.
One ``parity suite run`` at a time may write a store (``<store>.lock``), and a runs folder
belongs to one store (``<runs>/.parity-store`` holds its id): a second store pointed at it is
refused, so runners of two stores never share run folders or kill each other's commands.
"""

from __future__ import annotations

import itertools
import os
import queue
import re
import shlex
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from parity.errors import ParityInputError
from parity.suite.ingest import (
    ingest_key,
    read_run_folder,
    relative_to_manifest,
    results_location,
    substitute,
)
from parity.suite.records import NOTE_PREFIX, RunKey, RunRecord

KILL_GRACE = 3.0  # seconds between SIGTERM and SIGKILL of a run's process group
POLL = 0.05  # seconds between checks of a running command
TAIL_CHARS = 2000  # characters of stderr kept in the record
LOCK_WAIT = 10.0  # seconds to wait for a leftover run's processes to die
COMMIT_EVERY = 0.2  # seconds a finished run may wait to be committed with the next ones


class RunBusyError(RuntimeError):
    """The run's lock is held by processes that could not be stopped."""


# --------------------------------------------------------------------------- planning


@dataclass(frozen=True, slots=True)
class RunJob:
    """Everything a worker needs to execute one run (picklable; paths absolute)."""

    key: RunKey
    command: str
    cwd: str
    env: dict[str, str]
    out_dir: str
    record_out_dir: str
    timeout: float | None
    retries: int
    stdout_path: str
    stderr_path: str
    lock_path: str


def safe_name(name: str) -> str:
    """A file-safe folder name: ``[A-Za-z0-9._-]`` kept, the rest ``_`` plus a short hash.

    Examples
    --------
    >>> safe_name("HalfCheetah-v4"), safe_name("a/b")
    ('HalfCheetah-v4', 'a_b-c14cddc0')
    """
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    if cleaned == name and name not in ("", ".", ".."):
        return name
    import hashlib

    return f"{cleaned}-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:8]}"


def run_folder(runs_dir: str | os.PathLike, key: RunKey) -> Path:
    """``<runs>/<system>/<task>/seed<seed>/rerun<rerun>`` for ``key``.

    Examples
    --------
    >>> run_folder("runs", RunKey("candidate", "cartpole", 3, 0)).as_posix()
    'runs/candidate/cartpole/seed3/rerun0'
    """
    return (
        Path(runs_dir)
        / safe_name(key.system)
        / safe_name(key.task)
        / f"seed{key.seed}"
        / f"rerun{key.rerun}"
    )


def render_command(template: str, key: RunKey, out: str | os.PathLike) -> str:
    """The shell command of a run: template fields replaced by shell-quoted values.

    Examples
    --------
    >>> render_command("python train.py --env {task} --seed {seed} --out {out}",
    ...                RunKey("candidate", "Pong v5", 1), "/tmp/r")
    "python train.py --env 'Pong v5' --seed 1 --out /tmp/r"
    """
    values = {"task": key.task, "seed": key.seed, "rerun": key.rerun, "out": os.fspath(out)}
    return substitute(template, values, shlex.quote)


def plan_jobs(
    manifest: Any, manifest_dir: Path, runs_dir: Path, keys: list[RunKey], source: str = "manifest"
) -> list[RunJob]:
    """The jobs of ``keys`` (all of ``command`` systems), in the order given.

    Paths are joined as strings: ``runs_dir`` once normalized, the parts below it are file-safe
    names (:func:`safe_name`), so each equals what :func:`run_folder` and
    :func:`relative_to_manifest` give, at a fraction of the cost for thousands of runs.
    """
    runs = os.fspath(Path(runs_dir))
    record_runs = relative_to_manifest(Path(runs), manifest_dir)
    names: dict[str, str] = {}
    systems: dict[str, tuple[Any, str, float | None]] = {}
    jobs = []
    for key in keys:
        if key.system not in systems:
            spec = manifest.systems[key.system]
            cwd = (manifest_dir / spec.cwd) if spec.cwd else manifest_dir
            if not cwd.is_dir():
                raise ParityInputError(
                    f"{source}: systems.{key.system}.cwd: folder not found; got {spec.cwd!r} "
                    f"(resolved to {cwd})"
                )
            timeout = spec.timeout if spec.timeout is not None else manifest.run.timeout
            systems[key.system] = (spec, str(cwd), timeout)
        spec, cwd, timeout = systems[key.system]
        for name in (key.system, key.task):
            if name not in names:
                names[name] = safe_name(name)
        tail = f"{names[key.system]}/{names[key.task]}/seed{key.seed}/rerun{key.rerun}"
        out = tail if runs == "." else os.path.join(runs, tail)
        jobs.append(
            RunJob(
                key=key,
                command=render_command(spec.command, key, out),
                cwd=cwd,
                env=dict(spec.env),
                out_dir=out,
                record_out_dir=tail if record_runs == "." else os.path.join(record_runs, tail),
                timeout=timeout,
                retries=manifest.run.retries,
                stdout_path=out + ".stdout.txt",
                stderr_path=out + ".stderr.txt",
                lock_path=out + ".lock",
            )
        )
    return jobs


# --------------------------------------------------------------------------- locks


def _proc_stat(pid: int) -> tuple[str, int, int, int] | None:
    """``(state, process group, session, start time)`` of a process, from ``/proc``, or None."""
    try:
        fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY | os.O_CLOEXEC)
        try:
            data = os.read(fd, 4096)  # (a few hundred bytes: one read has them all)
        finally:
            os.close(fd)
        fields = data.rsplit(b")", 1)[1].split()
        return fields[0].decode(), int(fields[2]), int(fields[3]), int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


_CLK_TCK: list[int] = []


def _boot_ticks() -> int | None:
    """Now, in the clock ticks since boot that ``/proc/<pid>/stat`` gives start times in (a
    process started later has a start time at least this), or None (no ``/proc``).

    Reading the clock costs nothing; reading a new command's ``stat`` for its start time waits
    on the command's memory map while it execs (0.1–1 ms).
    """
    try:
        if not _CLK_TCK:
            os.stat("/proc/self/stat")
            _CLK_TCK.append(1_000_000_000 // os.sysconf("SC_CLK_TCK"))
        return time.clock_gettime_ns(time.CLOCK_BOOTTIME) // _CLK_TCK[0]
    except (AttributeError, OSError, ValueError):
        return None


def process_start(pid: int) -> str:
    """A token for "this process, started then": its start time on Linux, else ``"?"``.

    Examples
    --------
    >>> process_start(os.getpid()) == process_start(os.getpid())
    True
    """
    found = _proc_stat(pid)
    return str(found[3]) if found is not None else "?"


_OWN_START: dict[int, str] = {}


def _own_start(pid: int) -> str:
    """:func:`process_start` of this process (``pid`` is ``os.getpid()``), read once per pid."""
    if pid not in _OWN_START:
        _OWN_START[pid] = process_start(pid)
    return _OWN_START[pid]


_HOSTNAME: dict[int, str] = {}


def _hostname() -> str:
    """``socket.gethostname()``, read once per process (as :func:`_own_start`)."""
    me = os.getpid()
    if me not in _HOSTNAME:
        _HOSTNAME[me] = socket.gethostname()
    return _HOSTNAME[me]


def _runner_alive(pid: int, start: str) -> bool:
    """Whether the process ``pid`` that started at ``start`` still runs (not a reused pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    found = _proc_stat(pid)
    if found is None:  # gone since, or no /proc (not Linux): then os.kill's answer stands
        return not Path("/proc/self/stat").exists()
    return found[0] not in ("Z", "X") and (start == "?" or str(found[3]) == start)


#: ``/proc/<pid>`` entry → its process's start time, for processes seen by a scan: a pid's
#: entry is a new inode (new inode number) for each process that holds the pid, so a match on
#: (inode, ctime) is the same process, and its start time need not be read again.
_STARTS: dict[str, tuple[int, int, int]] = {}


def run_processes(
    group: int, token: str | None, since: int | None = None, window: range | None = None
) -> list[int]:
    """Live processes of a run: in its process group or session ``group``, or (Linux) holding
    ``PARITY_RUN_TOKEN=token`` in their environment (descendants that left the session).

    ``since`` is a start time (``/proc`` clock ticks) at or before the run's first process's,
    when known: every process of the run started at or after it, so older processes are passed over
    without reading their environment, and those seen by an earlier scan (the same
    ``/proc/<pid>`` inode) without reading their ``stat`` either — a ``stat`` of the folder
    costs a tenth of reading the file.

    ``window``: the pids allocated since the run began (:func:`pid_window`), which hold every
    process of the run; only those are looked at (``/proc/<pid>/stat`` read directly, the same
    checks), instead of every entry of ``/proc``. A pid there may be a thread's: its ``stat``
    and ``environ`` are its process's, and a signal to it goes to its whole process.
    """
    marker = f"PARITY_RUN_TOKEN={token}".encode() if token else None
    if window is not None:
        return _window_processes(window, group, marker, since)
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    found = []
    me = str(os.getpid())
    for name in names:
        if not name.isdigit() or name == me:
            continue
        entry = None
        if since is not None:
            try:
                info = os.stat(f"/proc/{name}")
            except OSError:
                continue
            entry = (info.st_ino, info.st_ctime_ns)
            known = _STARTS.get(name)
            if known is not None and known[:2] == entry and known[2] < since:
                continue
        stat = _proc_stat(int(name))
        if stat is None:
            continue
        if entry is not None:
            _STARTS[name] = (*entry, stat[3])
        if stat[0] in ("Z", "X") or (since is not None and stat[3] < since):
            continue
        if group in (stat[1], stat[2]):
            found.append(int(name))
        elif marker is not None:
            try:
                environ = Path(f"/proc/{name}/environ").read_bytes()
            except OSError:
                continue
            if marker in environ.split(b"\0"):
                found.append(int(name))
    if len(_STARTS) > 2 * len(names) + 64:  # forget processes that are gone
        alive = set(names)
        for name in list(_STARTS):
            if name not in alive:
                _STARTS.pop(name, None)
    return found


def _window_processes(
    window: range, group: int, marker: bytes | None, since: int | None
) -> list[int]:
    """:func:`run_processes` over the pids of ``window`` (no listing of ``/proc``)."""
    found = []
    me = os.getpid()
    for pid in window:
        if pid == me:
            continue
        stat = _proc_stat(pid)
        if stat is None or stat[0] in ("Z", "X") or (since is not None and stat[3] < since):
            continue
        if group in (stat[1], stat[2]):
            found.append(pid)
        elif marker is not None:
            try:
                with open(f"/proc/{pid}/environ", "rb") as fh:
                    environ = fh.read()
            except OSError:
                continue
            if marker in environ.split(b"\0"):
                found.append(pid)
    return found


@dataclass(frozen=True, slots=True)
class PidMark:
    """The pid allocator's position at one moment (:func:`pid_mark`)."""

    before: float  # time.monotonic() before /proc/loadavg was read
    after: float  # and after
    last_pid: int  # the pid allocated last in this pid namespace
    tasks: int  # the kernel's tasks (threads and processes, zombies too) then


_PROCESS_FDS: dict[tuple[int, str], int] = {}


def _process_fd(path: str) -> int:
    """A read-only descriptor of ``path``, opened once per process and shared by its threads."""
    key = (os.getpid(), path)
    fd = _PROCESS_FDS.get(key)
    if fd is None:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        if _PROCESS_FDS.setdefault(key, fd) != fd:  # another thread was first
            os.close(fd)
            fd = _PROCESS_FDS[key]
    return fd


def pid_mark() -> PidMark | None:
    """Where the pid allocator stands now (``/proc/loadavg``), or None (not Linux, …).

    The file is opened once per process and read with ``pread`` at offset 0, which makes the
    kernel write it afresh: one system call a reading instead of three.
    """
    before = time.monotonic()
    try:
        fields = os.pread(_process_fd("/proc/loadavg"), 256, 0).split()
        return PidMark(before, time.monotonic(), int(fields[4]), int(fields[3].split(b"/")[1]))
    except (OSError, IndexError, ValueError):
        _PROCESS_FDS.pop((os.getpid(), "/proc/loadavg"), None)  # opened again next time
        return None


#: Pids below this are not handed out again once the allocator has wrapped (the kernel's
#: ``RESERVED_PIDS``).
RESERVED_PIDS = 300
#: The most pids :func:`pid_window` looks at; beyond, a full scan of ``/proc`` is cheaper.
WINDOW_MAX = 4096
#: Pids one CPU can allocate per second, at most: a ``clone()`` takes 10–50 µs of a CPU; 1 µs
#: is assumed, a bound the kernel cannot beat.
PIDS_PER_CPU_SECOND = 1_000_000

_PID_SPACE: dict[int, tuple[int, int] | None] = {}


def _pid_space() -> tuple[int, int] | None:
    """``(pid_max, CPUs)`` of this process's pid namespace, read once per process, or None
    when ``/proc`` is not this process's pid namespace's (then its pids are not ours)."""
    me = os.getpid()
    if me not in _PID_SPACE:
        space = None
        try:
            if os.readlink("/proc/self") == str(me):
                with open("/proc/sys/kernel/pid_max", "rb") as fh:
                    pid_max = int(fh.read())
                cpus = max(os.cpu_count() or 0, os.sysconf("SC_NPROCESSORS_CONF"), 1)
                space = (pid_max, cpus)
        except (OSError, ValueError):
            pass
        _PID_SPACE[me] = space
    return _PID_SPACE[me]


def pid_window(
    marks: Sequence[PidMark], pid_max: int, cpus: int, most: int = WINDOW_MAX
) -> range | None:
    """The pids allocated between the first and the last of successive :func:`pid_mark`
    readings, or None when that cannot be told for sure (then scan all of ``/proc``).

    Why the window holds every process of a run, when the run's command was started after
    ``marks[0]`` was read (and its token made before):

    * A process of the run is a descendant of the command's shell (the group and the session
      are the shell's, and a process joins a group only within its session), or holds the
      run's token in its environment, which only a process created after the token was made
      can (short of rewriting its own environment block). Either way it was created after
      ``marks[0]``: its pid was allocated after that reading. (A process in a child pid
      namespace has a pid in this one too, allocated at the same time.)
    * Linux hands out pids in increasing order from just above the last one (``idr_alloc_cyclic``
      under ``pidmap_lock``; the last one is the 5th field of ``/proc/loadavg``), wrapping at
      ``pid_max`` to :data:`RESERVED_PIDS`. Without a wrap, every pid allocated after the first
      reading and up to the last lies in ``(marks[0].last_pid, marks[-1].last_pid]``; a process
      created after the last reading is missed, as a listing of ``/proc`` misses one created
      after it: the kill rounds of :func:`_kill_run` go on until a round finds nothing.
    * A wrap between two successive readings shows as a decrease, unless the allocator went
      all the way round, passing every pid from 300 to ``pid_max``: each one is either
      allocated on the way or in use, and a pid is in use only while a task holds it (as its
      own, its thread group's, its process group's or its session's id) or a fork that
      allocated it is under way: at most five per task, and tasks (``/proc/loadavg``'s 4th
      field, zombies included) grow by at most one per allocation. So it takes at least
      ``(pid_max − 300 − 5·tasks) / 6`` allocations, which ``cpus`` CPUs cannot make at
      :data:`PIDS_PER_CPU_SECOND` each between the two readings (``before`` the earlier,
      ``after`` the later). A pair of readings further apart than that is not trusted.

    The one way round it is deliberate: a process privileged in this pid namespace
    (``CAP_CHECKPOINT_RESTORE``) may choose its pid (``clone3`` with ``set_tid``, or writing
    ``ns_last_pid``), as one may clear its environment to hide from the full scan.

    Examples
    --------
    >>> start, end = PidMark(0.0, 0.0, 1000, 80), PidMark(0.001, 0.001, 1003, 81)
    >>> pid_window([start, end], 32768, 2)
    range(1001, 1004)
    >>> pid_window([PidMark(0.0, 0.0, 32760, 80), end], 32768, 2) is None  # it wrapped
    True
    """
    first, last = marks[0].last_pid, marks[-1].last_pid
    if len(marks) < 2 or not 0 <= last - first <= most:
        return None
    for earlier, later in itertools.pairwise(marks):
        full_cycle = (pid_max - RESERVED_PIDS - 5 * max(earlier.tasks, later.tasks)) / 6
        seconds = later.after - earlier.before
        if later.last_pid < earlier.last_pid or seconds < 0:
            return None
        if seconds * cpus * PIDS_PER_CPU_SECOND >= full_cycle:
            return None
    return range(first + 1, last + 1)


class PidTrail:
    """Successive :func:`pid_mark` readings since a run began, checked pair by pair as they
    come (:func:`pid_window` of each pair, and of the whole span): the same verdict as
    :func:`pid_window` of the whole list, in constant memory. The run reads one at each
    wake-up of its wait, so that each pair is close together; once a pair is not, the trail
    is broken for good and the run's processes are looked for in all of ``/proc``.
    """

    __slots__ = ("first", "last", "space")

    def __init__(self, first: PidMark, space: tuple[int, int]) -> None:
        self.first: PidMark = first
        self.last: PidMark | None = first
        self.space = space

    @classmethod
    def begin(cls) -> PidTrail | None:
        """A trail starting now; None where pids cannot be followed (not Linux, …)."""
        space = _pid_space()
        first = pid_mark() if space is not None else None
        return None if first is None or space is None else cls(first, space)

    def mark(self) -> None:
        """Add a reading made now."""
        if self.last is None:
            return
        now = pid_mark()
        pair = None if now is None else pid_window([self.last, now], *self.space)
        if now is None or pair is None or now.last_pid - self.first.last_pid > WINDOW_MAX:
            self.last = None
        else:
            self.last = now

    def window(self) -> range | None:
        """The pids allocated since the first reading, through one made now; None when the
        trail cannot vouch for them."""
        self.mark()
        if self.last is None:
            return None
        return range(self.first.last_pid + 1, self.last.last_pid + 1)


def _signal_run(
    group: int,
    token: str | None,
    sig: int,
    since: int | None = None,
    trail: PidTrail | None = None,
) -> list[int]:
    """Send ``sig`` to the process group and every other process of the run; return them.

    ``trail``: the run's :class:`PidTrail`; when it vouches for the pids allocated since the
    run began, only those are looked at.
    """
    try:
        os.killpg(group, sig)
    except (ProcessLookupError, PermissionError, OSError):
        pass
    window = None if trail is None else trail.window()
    pids = run_processes(group, token, since, window)
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
    return pids


def _kill_run(
    group: int,
    token: str | None,
    rounds: int = 20,
    since: int | None = None,
    trail: PidTrail | None = None,
) -> None:
    """SIGKILL the run's processes until none is left (each round finds forks made meanwhile)."""
    for _ in range(rounds):
        if not _signal_run(group, token, signal.SIGKILL, since, trail):
            return
        time.sleep(0.02)


class _RunLock:
    """An exclusive ``flock`` on a run's lock file, inherited by the run's command.

    The file holds ``<host> <process group> <runner pid> <runner start> <token>``: the runner
    is the process executing the run (``parity suite run``, or a Dask worker). A later runner
    that finds the lock held kills the command only when that runner is gone (a leftover of a
    ``kill -9``); a live runner's run is skipped. The content is cleared when the run ends.
    """

    def __init__(self, path: str, key: RunKey) -> None:
        self.path = path
        self.key = key
        self.fd: int | None = None

    def __enter__(self) -> _RunLock:
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW
        try:
            fd = os.open(self.path, flags, 0o644)
        except FileNotFoundError:  # the first run of its seed: make the folders above
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            fd = os.open(self.path, flags, 0o644)
        try:
            if not self._try(fd, 0.5):  # not a leftover if it goes in half a second
                self._stop_leftover(fd)
                if not self._try(fd, LOCK_WAIT):
                    raise RunBusyError(
                        f"{self.path}: held by processes of an earlier run that could not be "
                        f"stopped; run {self.key} skipped"
                    )
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd
        self.note(0, None)
        return self

    @staticmethod
    def _try(fd: int, seconds: float) -> bool:
        import fcntl

        deadline = time.monotonic() + seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.05)

    def _stop_leftover(self, fd: int) -> None:
        """Kill what a dead runner left holding the lock; refuse a live runner's run."""
        parts = os.pread(fd, 512, 0).decode("utf-8", "replace").split()
        if len(parts) < 2 or parts[0] != _hostname() or not parts[1].isdigit():
            return  # another host's run, or nothing said: wait for the lock
        group = int(parts[1])
        if len(parts) >= 5 and parts[2].isdigit():
            runner, start = int(parts[2]), parts[3]
            if _runner_alive(runner, start):
                raise RunBusyError(
                    f"{self.path}: run {self.key} is being executed by another live runner "
                    f"(pid {runner}); skipped, its command left alone"
                )
        token = parts[4] if len(parts) >= 5 and parts[4] != "-" else None
        if group > 0:
            _kill_run(group, token)

    def note(self, pgid: int, token: str | None) -> None:
        """Write this runner and the running command's process group and token."""
        if self.fd is not None:
            me = os.getpid()
            line = f"{_hostname()} {pgid} {me} {_own_start(me)} {token or '-'}\n"
            os.ftruncate(self.fd, 0)
            os.pwrite(self.fd, line.encode(), 0)

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            os.close(self.fd)
            self.fd = None


def lock_is_held(path: str | os.PathLike) -> bool:
    """Whether some process holds the run lock at ``path`` (a run is executing)."""
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


#: The file in a runs folder naming the store whose run folders it holds.
RUNS_MARKER = ".parity-store"


def claim_runs_folder(runs: Path, store_id: str, store_path: Path) -> None:
    """Mark ``runs`` as holding the run folders of the store ``store_id``, or refuse it when
    another store's runs are there (two stores would overwrite each other's results and kill
    each other's commands)."""
    runs.mkdir(parents=True, exist_ok=True)
    marker = runs / RUNS_MARKER
    line = f"{store_id} {store_path.absolute()}\n"
    try:
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    except FileExistsError:
        try:
            fd = os.open(marker, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as fh:
                found = fh.read(4096).decode("utf-8", "replace").split(maxsplit=1)
        except OSError as exc:
            raise ParityInputError(f"{marker}: cannot read ({exc.strerror or exc})") from None
        if found and found[0] == store_id:
            return
        other = found[1].strip() if len(found) > 1 else "?"
        raise ParityInputError(
            f"{runs}: holds the run folders of another store ({other}); one runs folder per "
            f"store: pass --runs-dir DIR for {store_path}, or delete {marker} if that store "
            "is gone"
        ) from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(line)


@contextmanager
def store_lock(store_path: Path) -> Iterator[None]:
    """Hold ``<store>.lock`` so that one ``parity suite run`` at a time writes the store."""
    import fcntl

    lock_path = store_path.with_name(store_path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 64, 0).decode("utf-8", "replace").strip() or "?"
            raise ParityInputError(
                f"{store_path}: another `parity suite run` (pid {owner}) is writing this store; "
                "wait for it to finish or pass another --store"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
        os.ftruncate(fd, 0)
    finally:
        os.close(fd)


def store_writer(store_path: Path) -> int | None:
    """The pid of the ``parity suite run`` writing the store now, or None."""
    lock_path = store_path.with_name(store_path.name + ".lock")
    if not lock_is_held(lock_path):
        return None
    try:
        return int(lock_path.read_text().strip())
    except (OSError, ValueError):
        return -1


# --------------------------------------------------------------------------- one run


def _kill_group(
    proc: subprocess.Popen,
    grace: float,
    token: str | None = None,
    since: int | None = None,
    trail: PidTrail | None = None,
) -> None:
    """SIGTERM every process of the run (group, session, token), wait ``grace`` s for the
    leader, then SIGKILL whatever is left; the leader is reaped last, so its pid (the group's
    id) cannot be reused meanwhile. ``since``: a start time at or before the leader's (see
    :func:`run_processes`); ``trail``: its :class:`PidTrail`, begun before it started."""
    if proc.returncode is None and proc.poll() is None:
        _signal_run(proc.pid, token, signal.SIGTERM, since, trail)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    _kill_run(proc.pid, token, since=since, trail=trail)
    proc.wait()


def _tail(path: str, chars: int = TAIL_CHARS) -> str:
    """The last ``chars`` characters of the file at ``path`` (from a whole line when it is
    longer), or "" when it is empty or cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return ""
    try:
        size = os.fstat(fd).st_size
        start = max(0, size - 4 * chars)
        data = os.pread(fd, size - start, start) if size else b""
    except OSError:
        return ""
    finally:
        os.close(fd)
    text = data.decode("utf-8", "replace")
    if len(text) > chars:
        text = text[-chars:]
        text = text.split("\n", 1)[1] if "\n" in text[:-1] else text
    return text.rstrip("\n")


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _fresh_dir(path: str) -> None:
    """Make ``path`` an empty folder: a link, file or folder there is removed first.

    The usual case (nothing there, the parent made by the run's lock) is one ``mkdir``.
    """
    try:
        os.mkdir(path)
        return
    except FileExistsError:
        pass
    except FileNotFoundError:
        Path(path).mkdir(parents=True)
        return
    folder = Path(path)
    if folder.is_symlink() or folder.is_file():
        folder.unlink()
    elif folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)


def _environ_bytes() -> dict[bytes, bytes]:
    """A copy of this process's environment as ``Popen`` encodes it (``os.fsencode``).

    ``os.environ`` keeps the encoded form (``_data``, CPython on POSIX); copying it avoids
    decoding every variable and ``Popen`` encoding it again. Read at each run's start, as
    ``{**os.environ}`` would be.
    """
    data = getattr(os.environ, "_data", None)
    if os.name == "posix" and isinstance(data, dict):
        return data.copy()
    return {os.fsencode(k): os.fsencode(v) for k, v in os.environ.items()}


class _ExitWaiter:
    """``waiter(seconds)``: wait up to ``seconds`` for ``proc`` to exit; True once it has.

    On Linux the wait is on a pidfd, which wakes the moment the command exits;
    ``Popen.wait(timeout=…)`` polls with growing sleeps instead, which adds up to a few
    milliseconds to every run (a no-op command takes about one). :meth:`close` closes the pidfd.
    """

    def __init__(self, proc: subprocess.Popen) -> None:
        import select

        self.proc = proc
        try:
            self.fd: int | None = os.pidfd_open(proc.pid)
        except (AttributeError, OSError):  # not Linux, or an old kernel: poll
            self.fd = None
        else:
            self.poller = select.poll()
            self.poller.register(self.fd, select.POLLIN)

    def __call__(self, seconds: float) -> bool:
        if self.fd is None:
            try:
                self.proc.wait(timeout=seconds)
                return True
            except subprocess.TimeoutExpired:
                return False
        if not self.poller.poll(int(seconds * 1000)):
            return False
        self.proc.wait()  # it has exited: reap it
        return True

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _attempt(job: RunJob, lock: _RunLock, stop) -> tuple[str, int | None, float, float, str]:
    """One attempt: returns (outcome, exit code, started, duration, note), outcome in
    ``exited``, ``timeout``, ``error``, ``stopped``."""
    out = os.fspath(Path(job.out_dir))
    _fresh_dir(out)
    key = job.key
    fsencode = os.fsencode
    env = _environ_bytes()
    env[b"PARITY_SYSTEM"] = fsencode(key.system)
    env[b"PARITY_TASK"] = fsencode(key.task)
    env[b"PARITY_SEED"] = str(key.seed).encode()
    env[b"PARITY_RERUN"] = str(key.rerun).encode()
    env[b"PARITY_OUT"] = fsencode(out)
    for name, value in job.env.items():
        env[fsencode(name)] = fsencode(value)
    token = os.urandom(16).hex()  # made before the pid mark: see pid_window
    env[b"PARITY_RUN_TOKEN"] = token.encode()
    started, t0 = time.time(), time.monotonic()
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
    stdout = os.open(job.stdout_path, flags, 0o666)
    try:
        stderr = os.open(job.stderr_path, flags, 0o666)
    except BaseException:
        os.close(stdout)
        raise
    try:
        since = _boot_ticks()  # every process of the run starts at or after this
        trail = PidTrail.begin()  # and gets a pid allocated after this
        try:
            proc = subprocess.Popen(
                job.command,
                shell=True,
                cwd=job.cwd,
                env=env,
                stdin=_process_fd(os.devnull),  # (DEVNULL opens one a command)
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
                pass_fds=() if lock.fd is None else (lock.fd,),
            )
        except OSError as exc:
            return "error", None, started, time.monotonic() - t0, f"cannot start ({exc})"
        if trail is not None:
            trail.mark()  # readings close together keep the trail sound (see PidTrail)
        lock.note(proc.pid, token)
        deadline = None if job.timeout is None else t0 + job.timeout
        outcome, note = "exited", ""
        exited = _ExitWaiter(proc)
        try:
            while not exited(POLL):
                if trail is not None:
                    trail.mark()
                if stop is not None and stop.is_set():
                    outcome = "stopped"
                    break
                if deadline is not None and time.monotonic() > deadline:
                    outcome = "timeout"
                    note = f"timed out after {job.timeout:g} s; its process group was killed"
                    break
        finally:
            exited.close()
        # (no pid reading here: _kill_group takes one first, in trail.window())
        _kill_group(proc, KILL_GRACE, token, since, trail)  # also ends what the command left
    finally:
        os.close(stdout)
        os.close(stderr)
    return outcome, proc.returncode, started, time.monotonic() - t0, note


def execute_run(job: RunJob, stop=None) -> RunRecord | None:
    """Execute one run (with retries) and return its record; None when stopped midway.

    ``stop`` is a flag with ``is_set()`` (see :mod:`parity.suite.executors`); when it is set,
    the running command's process group is terminated and nothing is returned to record.

    Raises
    ------
    RunBusyError
        When processes of an earlier, killed run hold the run's lock and cannot be stopped.
    """
    last = job.retries + 1
    with _RunLock(job.lock_path, job.key) as lock:
        for attempt in range(1, last + 1):
            outcome, code, started, duration, note = _attempt(job, lock, stop)
            if outcome == "stopped":
                return None
            results = read_run_folder(job.out_dir)
            problems = []
            if outcome == "exited" and code == 0:
                problems = list(results.problems)
            elif outcome == "exited" and code < 0:
                problems = [f"the command was killed by {_signal_name(-code)}"]
            elif outcome == "exited":
                problems = [f"the command exited with code {code}"]
            elif note:
                problems = [note]
            status = "timeout" if outcome == "timeout" else ("failed" if problems else "ok")
            if status != "ok" and attempt > 1:
                problems.append(f"not ok on any of {attempt} attempts")
            tail = _tail(job.stderr_path)
            notes = "\n".join(f"{NOTE_PREFIX}{p}" for p in problems)
            record = RunRecord(
                key=job.key,
                status=status,
                metrics=results.metrics,
                files=results.files,
                samples=results.samples,
                out_dir=job.record_out_dir,
                exit_code=None if outcome in ("timeout", "error") else code,
                started=started,
                duration=duration,
                stderr_tail="\n".join(t for t in (tail, notes) if t),
                attempts=attempt,
                source="run",
            )
            if status == "ok" or attempt == last or (stop is not None and stop.is_set()):
                return record
    return None  # pragma: no cover - the loop always returns


# --------------------------------------------------------------------------- the suite


class Reporter(Protocol):
    """Progress of a suite run (the CLI draws a rich progress bar)."""

    def start(self, total: int, already: int) -> None: ...

    def advance(self, key: RunKey, record: RunRecord | None, note: str = "") -> None: ...

    def finish(self, result: SuiteRun) -> None: ...


class NullReporter:
    """A reporter that reports nothing."""

    def start(self, total: int, already: int) -> None:
        pass

    def advance(self, key: RunKey, record: RunRecord | None, note: str = "") -> None:
        pass

    def finish(self, result: SuiteRun) -> None:
        pass


@dataclass
class SuiteRun:
    """What a :func:`run_suite` or :func:`ingest_suite` call did, and where the suite stands."""

    suite: str
    store: Path
    expected: list[RunKey]
    already: int
    new: list[RunRecord]
    final: dict[RunKey, RunRecord]
    notes: dict[RunKey, str] = field(default_factory=dict)
    interrupted: bool = False
    manifest_changed: bool = False
    elapsed: float = 0.0

    @property
    def missing(self) -> list[RunKey]:
        """Expected keys with no record."""
        return [k for k in self.expected if k not in self.final]

    @property
    def not_ok(self) -> list[RunRecord]:
        """Recorded expected runs whose status is not ``ok``."""
        return [self.final[k] for k in self.expected if k in self.final and not _ok(self.final[k])]

    @property
    def exit_code(self) -> int:
        """0 when every expected run is recorded ok, else 1."""
        return 0 if not self.missing and not self.not_ok else 1

    def counts(self) -> dict[str, int]:
        """Recorded ok / failed / timeout and missing among the expected runs."""
        out = {"ok": 0, "failed": 0, "timeout": 0}
        for key in self.expected:
            if key in self.final:
                out[self.final[key].status] += 1
        out["missing"] = len(self.missing)
        return out


def _ok(record: RunRecord) -> bool:
    return record.status == "ok"


@contextmanager
def _signals_set(stop: threading.Event, enabled: bool) -> Iterator[None]:
    """While inside, SIGINT and SIGTERM set ``stop`` instead of killing (main thread only)."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _order(manifest: Any, keys: list[RunKey]) -> list[RunKey]:
    """Interleave systems, tasks and seeds so an interrupted run leaves whole (task, seed) pairs."""
    task_pos = {t: i for i, t in enumerate(manifest.tasks)}
    seed_pos = {s: i for i, s in enumerate(manifest.seeds)}
    return sorted(keys, key=lambda k: (k.rerun, seed_pos[k.seed], task_pos[k.task], k.system))


def _context(manifest_path, store, runs_dir):
    from parity.suite.manifest import load_manifest
    from parity.suite.store import default_store_path

    manifest_path = Path(manifest_path)
    manifest = load_manifest(manifest_path)
    manifest_dir = manifest_path.absolute().parent
    store_path = Path(store) if store else default_store_path(manifest_path)
    runs = Path(runs_dir).absolute() if runs_dir else manifest_dir / "runs"
    return manifest, manifest_dir, store_path, runs


def run_suite(
    manifest_path: str | os.PathLike,
    *,
    store: str | os.PathLike | None = None,
    executor: str | Any = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    runs_dir: str | os.PathLike | None = None,
    retry_failed: bool = False,
    reporter: Reporter | None = None,
    stop: threading.Event | None = None,
    handle_signals: bool = True,
    commands: bool = True,
) -> SuiteRun:
    """Execute (and ingest) every run of the suite that is not recorded yet.

    Parameters
    ----------
    manifest_path : path
        The suite manifest (YAML).
    store : path, optional
        The SQLite store; default ``<manifest stem>.parity.sqlite`` beside the manifest.
    executor : {"local", "dask"} or executor object
        Where ``command`` runs execute (see :mod:`parity.suite.executors`).
    workers : int, optional
        Runs at once (local: threads, default the CPU count; dask: default the cluster's
        threads).
    scheduler : str, optional
        Address of a Dask scheduler (``executor="dask"``); default a local cluster.
    runs_dir : path, optional
        Root of the run folders; default ``runs/`` beside the manifest.
    retry_failed : bool
        Also redo runs recorded as failed or timeout (their records are replaced; the old ones
        stay in the store's ``replaced`` table).
    reporter : Reporter, optional
        Receives progress (the CLI's progress bar).
    stop : threading.Event, optional
        Set it to stop the run cleanly (as Ctrl-C does).
    handle_signals : bool
        Turn SIGINT/SIGTERM into a clean stop while running (main thread only).
    commands : bool
        Execute ``command`` systems; False only ingests ``results`` systems.

    Returns
    -------
    SuiteRun
        Its ``exit_code`` is 0 when every expected run is recorded ok, else 1.

    Examples
    --------
    >>> import sys, tempfile, textwrap
    >>> d = Path(tempfile.mkdtemp())
    >>> script = "import json,sys; json.dump({'score': int(sys.argv[1])}, open(sys.argv[2], 'w'))"
    >>> _ = (d / "run.py").write_text(script)
    >>> cmd = f"{sys.executable} run.py {{seed}} {{out}}/metrics.json"
    >>> _ = (d / "suite.yaml").write_text(textwrap.dedent(f'''
    ...     name: demo
    ...     tasks: [t]
    ...     seeds: [0, 1]
    ...     systems:
    ...       reference: {{command: "{cmd}"}}
    ...       candidate: {{command: "{cmd}"}}
    ...     metrics: {{score: {{margin: {{absolute: 1}}}}}}
    ... '''))
    >>> result = run_suite(d / "suite.yaml", workers=2)
    >>> result.counts(), result.exit_code
    ({'ok': 4, 'failed': 0, 'timeout': 0, 'missing': 0}, 0)
    >>> run_suite(d / "suite.yaml").new  # everything is recorded: nothing to do
    []
    """
    from parity.suite.executors import make_executor
    from parity.suite.store import Store, manifest_digest

    t0 = time.monotonic()
    manifest, manifest_dir, store_path, runs = _context(manifest_path, store, runs_dir)
    source = str(manifest_path)
    reporter = reporter or NullReporter()
    stop = stop or threading.Event()
    digest = manifest_digest(manifest)
    expected = manifest.expected_keys()
    if not commands:
        expected = [k for k in expected if manifest.systems[k.system].results is not None]
    new: list[RunRecord] = []
    notes: dict[RunKey, str] = {}

    with store_lock(store_path), Store(store_path) as st:
        changed = st.manifest_sha256 not in (None, digest)
        recorded = {r.key: r for r in st.runs()}
        todo = [k for k in expected if k not in recorded or (retry_failed and not _ok(recorded[k]))]
        results_keys = [k for k in todo if manifest.systems[k.system].results is not None]
        command_keys = [k for k in todo if manifest.systems[k.system].command is not None]
        jobs = plan_jobs(manifest, manifest_dir, runs, _order(manifest, command_keys), source)
        if jobs:
            claim_runs_folder(runs, st.store_id(), store_path)
        st.set_meta("manifest_sha256", digest)

        keep = _Committer(st, set(recorded), digest, new, reporter)
        reporter.start(len(results_keys) + len(jobs), len(expected) - len(todo))
        with _signals_set(stop, handle_signals):
            try:
                for key in results_keys:
                    if stop.is_set():
                        break
                    record = ingest_key(manifest, manifest_dir, key)
                    if record is None:
                        where = results_location(manifest, manifest_dir, key)
                        notes[key] = (
                            f"results not found: {relative_to_manifest(where, manifest_dir)}"
                        )
                        reporter.advance(key, None, notes[key])
                    else:
                        keep.add(record)
                keep.flush()
                if jobs and not stop.is_set():
                    if isinstance(executor, str):
                        executor = make_executor(executor, workers=workers, scheduler=scheduler)
                    with executor:
                        _drive(executor, jobs, stop, keep, notes, reporter)
            finally:
                keep.flush()  # what finished is kept, whatever stopped the run
        final = {r.key: r for r in st.runs()}
    result = SuiteRun(
        suite=manifest.name,
        store=store_path,
        expected=expected,
        already=len(expected) - len(todo),
        new=new,
        final={k: final[k] for k in expected if k in final},
        notes=notes,
        interrupted=stop.is_set(),
        manifest_changed=changed,
        elapsed=time.monotonic() - t0,
    )
    reporter.finish(result)
    return result


class _Committer:
    """Finished runs waiting to be recorded: one transaction for the runs that finish close
    together (one ``fsync`` for all), at most :data:`COMMIT_EVERY` seconds after the first of
    them finished. A run is counted (``SuiteRun.new``) and reported done only once committed,
    so a crash before the commit loses only runs that nothing reported and that are not in the
    store: the next ``run`` executes them again."""

    def __init__(self, store, recorded: set[RunKey], digest: str, new: list, reporter) -> None:
        self.store, self.recorded, self.digest = store, recorded, digest
        self.new, self.reporter = new, reporter
        self.pending: list[RunRecord] = []
        self.since = 0.0

    def add(self, record: RunRecord) -> None:
        """Queue a finished run; commit the queue when its first run has waited long enough."""
        if not self.pending:
            self.since = time.monotonic()
        self.pending.append(record)
        if self.due_in() == 0.0:
            self.flush()

    def due_in(self) -> float | None:
        """Seconds until the queued runs must be committed; None when none is queued."""
        if not self.pending:
            return None
        return max(0.0, self.since + COMMIT_EVERY - time.monotonic())

    def flush(self) -> None:
        """Record every queued run in one transaction, then report each done."""
        batch, self.pending = self.pending, []
        if not batch:
            return
        replace = [r.key for r in batch if r.key in self.recorded]
        self.store.record_many(batch, replace=replace, manifest_sha256=self.digest)
        for record in batch:
            self.new.append(record)
            self.reporter.advance(record.key, record)


def _drive(executor, jobs, stop, keep, notes, reporter) -> None:
    """Keep twice ``executor.capacity`` jobs in flight; record each as it finishes.

    The jobs beyond the capacity wait in the executor's queue, so a worker that finishes a run
    starts the next one at once rather than after this thread has woken up to submit it (on a
    busy machine that wake-up costs more than a short run); they are cancelled, never started,
    when the run is stopped.
    """
    flag = executor.stop_flag()
    try:
        _drive_loop(executor, jobs, stop, keep, notes, reporter, flag)
    except BaseException:
        flag.set()  # a bug or an unhandled signal: stop the running commands too
        raise


def _drive_loop(executor, jobs, stop, keep, notes, reporter, flag) -> None:
    """Feed ``jobs`` to ``executor``, keeping twice its capacity in flight, hand each finished run
    to ``keep`` and ``reporter``, and stop submitting once ``stop`` is set.

    Each future puts itself in a queue once done, so that a wake-up of this thread costs one
    ``get`` rather than a ``concurrent.futures.wait`` over every future in flight.
    """
    pending = deque(jobs)
    inflight: dict[Any, RunJob] = {}
    finished: queue.SimpleQueue = queue.SimpleQueue()
    flagged = False
    while pending or inflight:
        if stop.is_set() and not flagged:
            flagged = True
            pending.clear()
            flag.set()
            for future in list(inflight):
                if future.cancel():
                    inflight.pop(future)
        while pending and len(inflight) < 2 * executor.capacity:
            job = pending.popleft()
            future = executor.submit(execute_run, job, flag)
            inflight[future] = job
            future.add_done_callback(finished.put)
        if not inflight:
            break
        due = keep.due_in()
        done = []
        try:
            done.append(finished.get(timeout=0.2 if due is None else min(0.2, due)))
            while True:
                done.append(finished.get_nowait())
        except queue.Empty:
            pass
        for future in done:
            job = inflight.pop(future, None)
            if job is None or future.cancelled():  # (a cancelled one was popped at the stop)
                continue
            try:
                record = future.result()
            except RunBusyError as exc:
                notes[job.key] = str(exc)
                reporter.advance(job.key, None, notes[job.key])
                continue
            except Exception as exc:  # the executor lost the run (a worker died, …)
                notes[job.key] = f"not run: the executor failed ({type(exc).__name__}: {exc})"
                reporter.advance(job.key, None, notes[job.key])
                continue
            if record is None:
                notes[job.key] = "interrupted"
                continue
            keep.add(record)
        if keep.due_in() == 0.0:
            keep.flush()


def ingest_suite(
    manifest_path: str | os.PathLike,
    *,
    store: str | os.PathLike | None = None,
    retry_failed: bool = False,
    reporter: Reporter | None = None,
) -> SuiteRun:
    """Record the runs of the ``results`` systems (``parity suite ingest``); nothing executes.

    The result's ``exit_code`` judges only the ``results`` systems' runs.
    """
    return run_suite(
        manifest_path, store=store, retry_failed=retry_failed, reporter=reporter, commands=False
    )


# --------------------------------------------------------------------------- status


@dataclass
class SuiteStatus:
    """Where a suite stands: recorded runs, failures, what is missing, what is running."""

    suite: str
    store: Path
    store_exists: bool
    expected: list[RunKey]
    records: dict[RunKey, RunRecord]
    running: list[RunKey]
    leftover: dict[RunKey, str]
    unexpected: list[RunKey]
    manifest_changed: bool
    other_manifest_runs: int
    writer_pid: int | None

    @property
    def missing(self) -> list[RunKey]:
        """Expected keys without a record."""
        return [k for k in self.expected if k not in self.records]

    def by_system(self) -> dict[str, dict[str, int]]:
        """Per system: ok, failed, timeout, missing and expected counts."""
        out: dict[str, dict[str, int]] = {}
        for key in self.expected:
            row = out.setdefault(
                key.system, {"ok": 0, "failed": 0, "timeout": 0, "missing": 0, "expected": 0}
            )
            row["expected"] += 1
            row[self.records[key].status if key in self.records else "missing"] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (``parity suite status --json``)."""

        def k(key: RunKey) -> dict[str, Any]:
            return {"system": key.system, "task": key.task, "seed": key.seed, "rerun": key.rerun}

        bad = [r for key, r in self.records.items() if r.status != "ok"]
        totals = {"ok": 0, "failed": 0, "timeout": 0, "missing": 0, "expected": 0}
        for row in self.by_system().values():
            for name, n in row.items():
                totals[name] += n
        return {
            "suite": self.suite,
            "store": str(self.store),
            "store_exists": self.store_exists,
            "manifest_changed": self.manifest_changed,
            "runs_under_other_manifest": self.other_manifest_runs,
            "writer_pid": self.writer_pid,
            "counts": totals,
            "systems": self.by_system(),
            "failed": [
                {
                    **k(r.key),
                    "status": r.status,
                    "exit_code": r.exit_code,
                    "attempts": r.attempts,
                    "stderr_tail": r.stderr_tail,
                }
                for r in bad
            ],
            "missing": [k(key) for key in self.missing],
            "running": [k(key) for key in self.running],
            "leftover": [{**k(key), "out_dir": path} for key, path in self.leftover.items()],
            "unexpected": [k(key) for key in self.unexpected],
        }


def suite_status(
    manifest_path: str | os.PathLike,
    *,
    store: str | os.PathLike | None = None,
    runs_dir: str | os.PathLike | None = None,
) -> SuiteStatus:
    """What is recorded (ok / failed / timeout), missing, running now, and left over.

    "Running" means a run's lock is held (its command is alive); "leftover" are run folders
    without a record and nothing running in them (an interrupted or killed run).
    Does not create the store when it does not exist.
    """
    from parity.suite.store import Store, manifest_digest

    manifest, manifest_dir, store_path, runs = _context(manifest_path, store, runs_dir)
    expected = manifest.expected_keys()
    records: dict[RunKey, RunRecord] = {}
    hashes: dict[RunKey, str | None] = {}
    changed = False
    exists = store_path.is_file()
    if exists:
        with Store(store_path, create=False) as st:  # reads only; refuses a foreign file
            records = {r.key: r for r in st.runs()}
            hashes = st.manifest_hashes()
            digest = manifest_digest(manifest)
            changed = st.manifest_sha256 not in (None, digest)
    expected_set = set(expected)
    running, leftover = [], {}
    for key in expected:
        if manifest.systems[key.system].command is None:
            continue
        folder = run_folder(runs, key)
        if lock_is_held(folder.with_name(folder.name + ".lock")):
            running.append(key)
        elif key not in records and folder.exists():
            leftover[key] = relative_to_manifest(folder, manifest_dir)
    digest = manifest_digest(manifest)
    return SuiteStatus(
        suite=manifest.name,
        store=store_path,
        store_exists=exists,
        expected=expected,
        records={k: records[k] for k in expected if k in records},
        running=running,
        leftover=leftover,
        unexpected=sorted(
            (k for k in records if k not in expected_set),
            key=lambda k: (k.system, k.task, k.seed, k.rerun),
        ),
        manifest_changed=changed,
        other_manifest_runs=sum(
            1 for k in expected if k in records and hashes.get(k) not in (None, digest)
        ),
        writer_pid=store_writer(store_path) if exists else None,
    )
