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

The process bookkeeping (reading /proc, tags, owners, the subreaper, kill sweeps,
`reap_leftovers`) lives in `procs`; this module spawns, waits and cleans up.

Limits (documented, not handled): a descendant that both clears its environment
(`env -i`, `execve` with a new environment) and leaves the session is invisible
to tags and session ids; a zombie child whose origin cannot be proven is left
alone (reaping it could steal the exit status of another thread's subprocess).
"""

from __future__ import annotations

import contextlib
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from autotune.measure import procs
from autotune.measure.procs import TAG_VAR, reap_leftovers

# environment variables that would silently change a run behind our back
_SCRUB_PREFIXES = ("OMP_", "KMP_", "GOMP_", "AUTOTUNE_SCHEDULE_")


_DEFERRED = {signal.SIGINT, signal.SIGTERM}
__all__ = ["TAG_VAR", "RunResult", "clean_env", "command", "reap_leftovers", "run"]


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

    libc = procs.libc()
    parent = os.getpid()

    def limit() -> None:  # runs in the child between fork and exec
        if libc is not None and sys.platform.startswith("linux"):
            libc.prctl(procs.PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
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
            if not finished or not reaper or procs.survivors(proc.pid, tag, since):
                leftovers = procs.sweep(lambda t: t == tag, session=proc.pid, since=since)
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
    tag = procs.new_tag()
    env = {**env, TAG_VAR: tag.decode()}
    fds: list[int] = []
    reaper = procs.subreaper.enter()
    since = procs.ticks()
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
        procs.subreaper.leave()
        for fd in fds:
            os.close(fd)
