"""Run one program once: a subprocess with a timeout and a memory cap.

Why a process per run: a crashed, hung or memory-hungry candidate must never
take the tuner down with it. The child gets its own session so a timeout kills
everything it started, an address-space cap so a runaway allocation fails in
the child, and no core dumps.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

# environment variables that would silently change a run behind our back
_SCRUB_PREFIXES = ("OMP_", "KMP_", "GOMP_", "AUTOTUNE_SCHEDULE_")


@dataclass(frozen=True)
class RunResult:
    returncode: int | None  # None when killed for the timeout or never started
    stdout: bytes
    stderr: bytes
    wall: float  # seconds from spawn to reap
    timed_out: bool

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


_PRLIMIT = shutil.which("prlimit")
_TASKSET = shutil.which("taskset")


def command(
    exe: Path, args: Sequence[str], memory_bytes: int | None, cpus: Sequence[int] | None
) -> tuple[list[str], Callable[[], None] | None]:
    """argv and child set-up for one run.

    Why util-linux wrappers first: a `preexec_fn` forces Python to fork() its
    whole address space for every run, which costs milliseconds per run and
    grows with the parent (a tuner with torch loaded); `prlimit`/`taskset` let
    Python use vfork and add one cheap exec. The preexec path is the fallback.
    """
    argv = [str(exe), *args]
    if memory_bytes and _PRLIMIT and (not cpus or _TASKSET):
        argv = [_PRLIMIT, f"--as={memory_bytes}", "--core=0", "--", *argv]
        if cpus:
            argv = [_TASKSET, "-c", ",".join(map(str, cpus)), *argv]  # type: ignore[list-item]
        return argv, None

    def limit() -> None:  # runs in the child between fork and exec
        if memory_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if cpus:
            os.sched_setaffinity(0, cpus)

    return argv, limit


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
    t0 = time.perf_counter()
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=setup,
        )
    except (OSError, subprocess.SubprocessError) as exc:  # could not start: a value, like any failure
        return RunResult(None, b"", f"cannot start {exe}: {exc}".encode(), time.perf_counter() - t0, False)
    try:
        out, err = proc.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
        timed_out = True
    wall = time.perf_counter() - t0
    return RunResult(None if timed_out else proc.returncode, out, err, wall, timed_out)
