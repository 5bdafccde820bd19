"""Run one program once: a subprocess with a timeout and a memory cap, and nothing of it left afterwards.

Why a process per run: a crashed, hung or memory-hungry candidate must never
take the tuner down with it. The child gets an address-space cap so a runaway
allocation fails in the child, no core dumps, and optional CPU affinity.

Why nothing of a run may outlive it: a leftover process keeps a core busy and
disturbs every later timing (of this study and of a resumed one). So:

* **We wait on the process, never on pipe EOF.** stdout/stderr go to unnamed
  in-memory files (memfd) that are read once the program has exited or been killed;
  the exit itself is awaited through a pidfd (exact wake-up, unlike
  `Popen.wait(timeout)`'s sleep loop, which would add up to 50 ms to a run).
  A grandchild that keeps stdout open can therefore neither stretch the timed
  wall time nor defeat the timeout. `wall` is spawn to exit of the program
  (the exec wrappers below included, as before).
* **Every run is tagged.** The child's environment gets
  `AUTOTUNE_RUN=<owner pid>:<owner start time in clock ticks>:<seq>`; every
  descendant inherits it, including ones that `setsid` out of the process group.
  The start time makes the owner unique even when pids are reused.
* **Cleanup runs on every exit path of `run`** (normal exit, timeout, an
  exception such as KeyboardInterrupt or SystemExit while waiting; SIGINT/SIGTERM
  are deferred while it runs, and an exception raised inside it is re-raised
  after it has finished): SIGKILL to the program and its process group while the
  program is still unreaped (so the group id cannot have been reused), then a
  sweep that kills every process carrying the run's tag (found by reading
  `/proc/*/environ`; killed through a pidfd so a reused pid is never hit) and
  reaps those that became our children. A process inside execve or exiting
  reads with an empty environment (about 8% of readings of a shell that forks
  and execs in a loop), so an empty reading is looked at again, briefly.
* **The sweep is skipped when it is provably unnecessary.** A full scan reads one
  small file per process: about 0.5 ms with 80 processes on the development
  machine, several ms on a busy node, and the runner is called thousands of
  times. While a run is in flight the tuner is a child subreaper
  (`PR_SET_CHILD_SUBREAPER`, switched on for the duration of runs only, so
  orphans of unrelated subprocesses still go to init), so every process of the
  run whose parent died, escaped session or not, is re-parented to us. After the
  program is reaped, one `waitid(P_ALL, WNOHANG|WNOWAIT)` (about 2 us) that says
  "no children" proves nothing of the run survived; only when children exist
  are they inspected (session id, tag), and only a child of this run triggers the
  sweep. Without a subreaper (prctl refused) every run is swept.
* **`kill -9` of the tuner runs no code**, so the direct child gets a parent-death
  signal (`setpriv --pdeathsig KILL`, an exec wrapper like `prlimit`/`taskset`;
  `PR_SET_PDEATHSIG` in the preexec fallback). It fires when the spawning
  *thread* exits, which is fine because that thread waits for the child.
  Descendants that escaped are killed at the next start by `reap_leftovers()`,
  which kills every process whose tag names an owner that is no longer alive.
  SIGTERM with Python's default disposition is the same case: turn it into
  SystemExit at the entry point for the cleanup above to run.

Limits (documented, not handled): a descendant that both clears its environment
(`env -i`, `execve` with a new environment) and leaves the session is invisible
to tags and session ids; a zombie child whose origin cannot be proven is left
alone (reaping it could steal the exit status of another thread's subprocess).
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import NamedTuple

# environment variables that would silently change a run behind our back
_SCRUB_PREFIXES = ("OMP_", "KMP_", "GOMP_", "AUTOTUNE_SCHEDULE_")

TAG_VAR = "AUTOTUNE_RUN"  # the run tag every process of a run inherits
_TAG_KEY = b"\0" + TAG_VAR.encode() + b"="

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_SETTLE_S = 5.0  # the most a cleanup waits for killed processes to die (a process in D state can take a while)
_EXEC_WINDOW_S = 0.5  # how long a sweep looks again at an orphan whose environment reads empty
_DEFERRED = {signal.SIGINT, signal.SIGTERM}


@dataclass(frozen=True)
class RunResult:
    returncode: int | None  # None when killed for the timeout or never started
    stdout: bytes
    stderr: bytes
    wall: float  # seconds from spawn to the program's exit (to the timeout when it timed out)
    timed_out: bool
    leftovers: int = 0  # processes of the run still alive after the program ended, killed by the runner

    @property
    def ok(self) -> bool:
        return not self.timed_out and self.returncode == 0

    def describe_failure(self) -> str:
        if self.timed_out:
            return f"did not finish within {self.wall:.3g} s"
        rc = self.returncode
        if rc is None:
            return self.stderr.decode("utf-8", "replace").strip()
        if rc < 0:
            try:
                name = signal.Signals(-rc).name
            except ValueError:
                name = str(-rc)
            what = f"killed by {name}"
            if -rc in (signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGKILL):
                what += " (crash, or the memory cap was hit)"
        else:
            what = f"exit code {rc}"
        tail = self.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        return what + (": " + " | ".join(tail) if tail else "")


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUB_PREFIXES)}
    env.update(extra)
    return env


# --- /proc: who is who ------------------------------------------------------------------


class _Stat(NamedTuple):
    state: str
    ppid: int
    pgrp: int
    session: int
    start: int  # clock ticks since boot: with the pid, a process's identity


def _stat(pid: int | str) -> _Stat | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
        f = raw[raw.rindex(b")") + 2 :].split()
        return _Stat(f[0].decode(), int(f[1]), int(f[2]), int(f[3]), int(f[19]))
    except (OSError, ValueError, IndexError):
        return None


def _tag(pid: int | str) -> bytes | None:
    """The run tag in a process's environment: b"" when the environment reads empty, None when untagged.

    Empty means a zombie, a kernel thread, an empty environment, or a process
    inside execve between its point of no return and the setup of its new
    environment (the kernel shows no environment then); callers look again.
    None also covers gone or not ours to read.
    """
    try:
        fd = os.open(f"/proc/{pid}/environ", os.O_RDONLY)
    except OSError:
        return None
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
    except OSError:
        return None
    finally:
        os.close(fd)
    if not chunks:
        return b""
    env = b"\0" + b"".join(chunks)
    i = env.find(_TAG_KEY)
    if i < 0:
        return None
    i += len(_TAG_KEY)
    j = env.find(b"\0", i)
    return env[i : j if j >= 0 else len(env)]


def _running(pid: int, start: int) -> bool:
    s = _stat(pid)
    return s is not None and s.start == start and s.state not in "ZX"


def _pids() -> Iterator[int]:
    try:
        names = os.listdir("/proc")
    except OSError:
        return
    for name in names:
        if name.isdigit():
            yield int(name)


def _children() -> list[int]:
    """Our children, whichever thread is their parent (orphans go to any of our threads)."""
    me = os.getpid()
    try:
        pids: list[int] = []
        for tid in os.listdir(f"/proc/{me}/task"):
            with contextlib.suppress(FileNotFoundError):  # thread gone meanwhile
                with open(f"/proc/{me}/task/{tid}/children", "rb") as f:
                    pids.extend(map(int, f.read().split()))
        return pids
    except OSError:  # no CONFIG_PROC_CHILDREN: the slow way
        return [pid for pid in _pids() if (s := _stat(pid)) is not None and s.ppid == me]


def _has_children() -> bool:
    try:
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)  # looks, reaps nothing
        return True
    except ChildProcessError:
        return False
    except (AttributeError, OSError):
        return True


# --- who owns the runs ------------------------------------------------------------------

_seq = itertools.count()
_owner_id: tuple[int, bytes] = (0, b"")


def _owner() -> bytes:
    """`<pid>:<start ticks>` of this process (recomputed after a fork)."""
    global _owner_id
    pid = os.getpid()
    if _owner_id[0] != pid:
        s = _stat(pid)
        _owner_id = (pid, f"{pid}:{s.start if s else 0}".encode())
    return _owner_id[1]


def _owner_alive(owner: bytes, cache_: dict[bytes, bool]) -> bool:
    if owner not in cache_:
        try:
            pid, start = (int(x) for x in owner.split(b":"))
        except ValueError:
            cache_[owner] = True  # not a tag we wrote: not ours to judge
        else:
            s = _stat(pid)
            cache_[owner] = s is not None and s.start == start and s.state not in "ZX"
    return cache_[owner]


# --- the kernel's help: prctl, subreaper, pidfds --------------------------------------------


@cache
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _prctl(option: int, arg: int) -> bool:
    libc = _libc()
    return libc is not None and sys.platform.startswith("linux") and libc.prctl(option, arg, 0, 0, 0) == 0


class _Subreaper:
    """Process-wide PR_SET_CHILD_SUBREAPER, on while at least one run is in flight."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users = 0
        self.active = False

    def enter(self) -> bool:
        with self.lock:
            if self.users == 0:
                self.active = _prctl(_PR_SET_CHILD_SUBREAPER, 1)
            self.users += 1
            return self.active

    def leave(self) -> None:
        with self.lock:
            self.users -= 1
            if self.users == 0 and self.active:
                _prctl(_PR_SET_CHILD_SUBREAPER, 0)
                self.active = False


_subreaper = _Subreaper()


def _forked() -> None:  # a forked child is no subreaper and runs nothing yet
    global _subreaper
    _subreaper = _Subreaper()


os.register_at_fork(after_in_child=_forked)


def _kill(pid: int, tag: bytes) -> bool:
    """SIGKILL `pid` if it still carries `tag`; through a pidfd, so a reused pid is never hit."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return False
    except (AttributeError, OSError):  # no pidfds: the tiny race of a plain kill
        try:
            os.kill(pid, signal.SIGKILL)
            return True
        except OSError:
            return False
    try:
        if _tag(pid) != tag:  # the pid was reused between the scan and the pidfd
            return False
        signal.pidfd_send_signal(fd, signal.SIGKILL)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _sweep(match: Callable[[bytes], bool], session: int | None = None, since: int = 0) -> int:
    """Kill every process whose tag matches, and our children of `session`; reap what is ours.

    Repeats until a scan finds nothing new: a process can fork between being
    scanned and being killed, but not after the SIGKILL is sent, so once a scan
    finds only processes already killed, every descendant has been seen.
    Processes killed here that are (or become, by re-parenting) our children are
    reaped; so are our zombie children from the run's session. A child started
    at or after `since` (start ticks) whose environment reads empty is looked at
    again for a moment: it may be inside execve.
    """
    killed: dict[int, int] = {}  # pid -> start ticks of every process handled here
    t0 = time.monotonic()
    deadline, unknown_deadline = t0 + _SETTLE_S, t0 + _EXEC_WINDOW_S
    while True:
        progress = False
        for pid in _pids():
            tag = _tag(pid)
            if not tag or not match(tag):
                continue
            s = _stat(pid)
            if s is None or killed.get(pid) == s.start:
                continue
            if _kill(pid, tag):
                killed[pid] = s.start
                progress = True
            elif _running(pid, s.start) and time.monotonic() < unknown_deadline:
                progress = True  # it entered execve between our two reads: look again
        # a killed process still running: wait for it, its death re-parents its children to us
        busy = any(_running(pid, start) for pid, start in killed.items())
        for pid in _children():
            s = _stat(pid)
            if s is None:
                continue
            if not (killed.get(pid) == s.start or session in (s.session, s.pgrp)):
                # an orphan that reads untagged only because it is inside execve: look again
                busy |= _maybe_in_exec(pid, s, since) and time.monotonic() < unknown_deadline
                continue
            killed.setdefault(pid, s.start)
            if s.state in "ZX":
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)
            else:  # our child: its pid cannot be reused before we reap it
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
                busy = True
        if not (progress or busy) or time.monotonic() > deadline:
            return len(killed)
        time.sleep(0.001)


def _maybe_in_exec(pid: int, s: _Stat, since: int) -> bool:
    """A child that reads untagged only because it is inside execve (or exiting)?

    Only children started since the run began qualify, so a long-lived child of
    other code with an empty environment cannot make every run look again.
    """
    return s.start >= since and s.state not in "ZX" and _tag(pid) == b""


def _ticks() -> int:
    """Now in the unit and clock of /proc/<pid>/stat start times (clock ticks since boot)."""
    try:
        return int(time.clock_gettime(time.CLOCK_BOOTTIME) * os.sysconf("SC_CLK_TCK"))
    except (AttributeError, OSError, ValueError):
        return 0


def _survivors(session: int, tag: bytes, since: int) -> bool:
    """Whether any process of the run may still exist, given that we are its subreaper."""
    if not _has_children():
        return False
    for pid in _children():
        s = _stat(pid)
        if s is None:
            continue
        if session in (s.session, s.pgrp):
            return True
        if _tag(pid) == tag or _maybe_in_exec(pid, s, since):
            return True
    return False


def reap_leftovers() -> int:
    """Kill processes left by runs of tuners that are gone; return how many.

    A tuner killed with SIGKILL runs no cleanup: its direct child dies with it
    (parent-death signal), but descendants that left the process group survive.
    Their tag names their owner; an owner that is no longer alive (pid gone, or
    reused by a process with another start time) means the process is a
    leftover. Runs of live tuners, this one included, are left alone. Call it
    before measuring.
    """
    alive: dict[bytes, bool] = {}

    def stale(tag: bytes) -> bool:
        return not _owner_alive(tag.rpartition(b":")[0], alive)

    killed = _sweep(stale)
    time.sleep(0.05)  # a process inside execve reads untagged for a moment: a second look catches it
    return killed + _sweep(stale)


# --- one run --------------------------------------------------------------------------


_PRLIMIT = shutil.which("prlimit")
_TASKSET = shutil.which("taskset")


@cache
def _setpriv() -> str | None:
    """util-linux setpriv if it knows --pdeathsig (2.33+), probed once."""
    path = shutil.which("setpriv")
    if path is None:
        return None
    try:
        probe = subprocess.run([path, "--pdeathsig", "KILL", "--", path, "--version"], capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return path if probe.returncode == 0 else None


def command(
    exe: Path, args: Sequence[str], memory_bytes: int | None, cpus: Sequence[int] | None
) -> tuple[list[str], Callable[[], None] | None]:
    """argv and child set-up for one run.

    Why util-linux wrappers first: a `preexec_fn` forces Python to fork() its
    whole address space for every run, which costs milliseconds per run and
    grows with the parent (a tuner with torch loaded); `setpriv` (parent-death
    signal), `prlimit` and `taskset` let Python use vfork and add cheap execs of
    the same process. `setpriv` goes first so the window in which the tuner can
    die unnoticed is as short as possible. The preexec path is the fallback.
    """
    argv = [str(exe), *args]
    setpriv = _setpriv()
    if setpriv and _PRLIMIT and (not cpus or _TASKSET):
        limits = [f"--as={memory_bytes}"] if memory_bytes else []
        argv = [_PRLIMIT, *limits, "--core=0", "--", *argv]
        if cpus:
            argv = [_TASKSET, "-c", ",".join(map(str, cpus)), *argv]  # type: ignore[list-item]
        return [setpriv, "--pdeathsig", "KILL", "--", *argv], None

    libc = _libc()
    parent = os.getpid()

    def limit() -> None:  # runs in the child between fork and exec
        if libc is not None and sys.platform.startswith("linux"):
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
            if os.getppid() != parent:  # the tuner died before the signal was armed
                os.kill(os.getpid(), signal.SIGKILL)
        if memory_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if cpus:
            os.sched_setaffinity(0, cpus)

    return argv, limit


def _tmpfile() -> int:
    """An unnamed file for a child's output: never blocks the writer, vanishes when closed.

    memfd first: an O_TMPFILE on ext4 costs about 170 us to create, a memfd a few
    us; the output lands in memory either way, as it did through pipes.
    """
    try:
        return os.memfd_create("autotune-run-output", os.MFD_CLOEXEC)
    except (AttributeError, OSError):
        pass
    try:
        return os.open(tempfile.gettempdir(), os.O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, 0o600)
    except (AttributeError, OSError):
        with tempfile.TemporaryFile() as f:
            return os.dup(f.fileno())


def _slurp(fd: int) -> bytes:
    chunks, pos = [], 0
    while chunk := os.pread(fd, 1 << 20, pos):
        chunks.append(chunk)
        pos += len(chunk)
    return b"".join(chunks)


def _wait_exit(pid: int, deadline: float) -> bool:
    """Wait until `pid` has exited (without reaping it) or `deadline`; True if it exited."""
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = -1
    if fd >= 0:
        try:
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            while True:
                left = deadline - time.perf_counter()
                if left <= 0:
                    return False
                if poller.poll(min(left, 86400.0) * 1000.0):
                    return True
        finally:
            os.close(fd)
    delay = 5e-5  # no pidfds: poll waitid, which also leaves the exit unreaped
    while True:
        if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
            return True
        left = deadline - time.perf_counter()
        if left <= 0:
            return False
        time.sleep(min(delay, left))
        delay = min(delay * 2, 1e-3)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM for this thread while a run is cleaned up (delivered right after)."""
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED)
    except (AttributeError, OSError, ValueError):
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _end_run(proc: subprocess.Popen, tag: bytes, since: int, finished: bool, reaper: bool) -> int:
    """Kill and reap everything of the run; return how many processes besides the program were left.

    Idempotent steps, retried if an exception (a signal handler in another
    thread's timing) interrupts them, and the exception re-raised afterwards.
    """
    pending: BaseException | None = None
    for _ in range(3):
        try:
            if not finished:
                with contextlib.suppress(OSError):
                    os.kill(proc.pid, signal.SIGKILL)  # not reaped yet: the pid is still the program's
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGKILL)  # likewise the group id, while the program is unreaped
            proc.wait()
            leftovers = 0
            if not finished or not reaper or _survivors(proc.pid, tag, since):
                leftovers = _sweep(lambda t: t == tag, session=proc.pid, since=since)
            break
        except BaseException as exc:  # noqa: BLE001 - finish the cleanup first, re-raise below
            pending = pending or exc
    else:
        leftovers = 0
    if pending is not None:
        raise pending
    return leftovers


def run(
    exe: Path,
    args: Sequence[str],
    env: dict[str, str],
    timeout: float,
    memory_bytes: int | None = None,
    cpus: Sequence[int] | None = None,
    cwd: Path | None = None,
) -> RunResult:
    argv, setup = command(exe, args, memory_bytes, cpus)
    tag = _owner() + b":%d" % next(_seq)
    env = {**env, TAG_VAR: tag.decode()}
    fds: list[int] = []
    reaper = _subreaper.enter()
    since = _ticks()
    try:
        fds += _tmpfile(), _tmpfile()
        out_fd, err_fd = fds
        t0 = time.perf_counter()
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out_fd,
                stderr=err_fd,
                env=env,
                cwd=cwd,
                start_new_session=True,
                preexec_fn=setup,
            )
        except (OSError, subprocess.SubprocessError) as exc:  # could not start: a value, like any failure
            return RunResult(None, b"", f"cannot start {exe}: {exc}".encode(), time.perf_counter() - t0, False)
        finished = False
        try:
            finished = _wait_exit(proc.pid, t0 + timeout)
            wall = time.perf_counter() - t0
        finally:
            with _signals_deferred():
                leftovers = _end_run(proc, tag, since, finished, reaper)
        timed_out = not finished
        return RunResult(
            None if timed_out else proc.returncode, _slurp(out_fd), _slurp(err_fd), wall, timed_out, leftovers
        )
    finally:
        _subreaper.leave()
        for fd in fds:
            os.close(fd)
