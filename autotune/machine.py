"""What machine a measurement ran on.

Why: absolute times and even speedups do not transfer between CPUs, so every
record carries the CPU model, core counts and compiler versions, and results
from different machines are never mixed silently.
"""

from __future__ import annotations

import functools
import os
import platform
import socket
import subprocess
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import psutil


@dataclass(frozen=True)
class Machine:
    cpu_model: str
    logical_cores: int
    physical_cores: int
    usable_cores: int  # cores this process may run on (affinity / cgroup)
    memory_gib: float
    os: str
    compilers: dict[str, str]

    def to_dict(self) -> dict:
        return asdict(self)


def _cpu_model(cpuinfo: str | None = None) -> str:
    """The model name, and where /proc/cpuinfo gives them its family, model and stepping.

    Why the numbers: a virtual machine's model name can be as bare as "AMD EPYC", the same on
    two generations whose times differ by half and whose speedups need not agree (seen on
    2026-12-02: one of the suite's programs ran in two thirds of the time it took on the machine
    that recorded the database). The numbers name the micro-architecture, so records of the two
    are no longer taken for one machine's.
    """
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo") as f:
                cpuinfo = f.read()
        except OSError:
            cpuinfo = ""
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        if not line.strip():
            break  # the first processor's block names them all
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    name = fields.get("model name") or platform.processor() or platform.machine()
    ids = [f"{k.split()[-1]} {fields[k]}" for k in ("cpu family", "model", "stepping") if fields.get(k)]
    return f"{name} ({', '.join(ids)})" if len(ids) == 3 else name


@functools.cache
def compiler_version(path: str) -> str:
    """First line of `cc --version`, e.g. 'Debian clang version 22.1.8 (1~deb12u1)' (nvcc: its release line)."""
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "unavailable"
    lines = out.splitlines()
    release = [ln for ln in lines if "release" in ln]  # nvcc's first line names no version; its "release" line does
    return (release or lines)[0].strip() if lines else "unknown"


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@functools.lru_cache(maxsize=1)
def current() -> Machine:
    from autotune.build.compilers import available

    return Machine(
        cpu_model=_cpu_model(),
        logical_cores=psutil.cpu_count(logical=True) or 1,
        physical_cores=psutil.cpu_count(logical=False) or 1,
        usable_cores=usable_cores(),
        memory_gib=round(psutil.virtual_memory().total / 2**30, 1),
        os=f"{platform.system()} {platform.release()}",
        compilers={name: compiler_version(path) for name, path in available().items()},
    )


def process_label(cpus: Sequence[int] | None = None) -> dict[str, Any]:
    """This process as others can find it: host, pid, start time; `cpus`: the CPUs it measures on.

    Why the start time: a pid is recycled; (pid, start time) names one process for good. The
    study's workers (autotune.search.workers) and a shared collection's claims
    (autotune.trials.db.claims) both label their owner this way.
    """
    p = psutil.Process()
    label: dict[str, Any] = {"host": socket.gethostname(), "pid": p.pid, "started": p.create_time()}
    if cpus is not None:
        label["cpus"] = sorted(int(c) for c in cpus)
    return label


def process_alive(label: dict[str, Any]) -> bool:
    """The labelled process still runs (on this host: the caller checks the host); a zombie does not."""
    try:
        p = psutil.Process(int(label["pid"]))
        return abs(p.create_time() - float(label["started"])) < 1e-3 and p.status() != psutil.STATUS_ZOMBIE
    except (psutil.Error, KeyError, TypeError, ValueError):
        return False
