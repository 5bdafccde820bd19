"""The processes of a run: who they are (/proc), who owns them, and killing what is left.

Why a module of its own: `runner` starts a program and waits for it; this module answers
the questions its cleanup needs (which processes carry a run's tag, which are our children,
is the tuner that owned a tag still alive) and kills what must die. The design (tags in the
environment, the subreaper, pidfds, the execve window) is described in `runner`'s docstring.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from functools import cache
from typing import NamedTuple

TAG_VAR = "AUTOTUNE_RUN"  # the run tag every process of a run inherits
_TAG_KEY = b"\0" + TAG_VAR.encode() + b"="

PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_SETTLE_S = 5.0  # the most a cleanup waits for killed processes to die (a process in D state can take a while)
_EXEC_WINDOW_S = 0.5  # how long a sweep looks again at an orphan whose environment reads empty


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


def owner() -> bytes:
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
def libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _prctl(option: int, arg: int) -> bool:
    lib = libc()
    return lib is not None and sys.platform.startswith("linux") and lib.prctl(option, arg, 0, 0, 0) == 0


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


subreaper = _Subreaper()


def _forked() -> None:  # a forked child is no subreaper and runs nothing yet
    global subreaper
    subreaper = _Subreaper()


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


def sweep(match: Callable[[bytes], bool], session: int | None = None, since: int = 0) -> int:
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


def ticks() -> int:
    """Now in the unit and clock of /proc/<pid>/stat start times (clock ticks since boot)."""
    try:
        return int(time.clock_gettime(time.CLOCK_BOOTTIME) * os.sysconf("SC_CLK_TCK"))
    except (AttributeError, OSError, ValueError):
        return 0


def survivors(session: int, tag: bytes, since: int) -> bool:
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

    killed = sweep(stale)
    time.sleep(0.05)  # a process inside execve reads untagged for a moment: a second look catches it
    return killed + sweep(stale)


def new_tag() -> bytes:
    """A fresh run tag: `<owner pid>:<owner start ticks>:<seq>`."""
    return owner() + b":%d" % next(_seq)
