"""What machine a measurement ran on.

Why: absolute times and even speedups do not transfer between CPUs, so every
record carries the CPU model, core counts and compiler versions, and results
from different machines are never mixed silently.
"""

from __future__ import annotations

import functools
import os
import platform
import subprocess
from dataclasses import asdict, dataclass

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


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@functools.cache
def compiler_version(path: str) -> str:
    """First line of `cc --version`, e.g. 'Debian clang version 22.1.8 (1~deb12u1)'."""
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "unavailable"
    return out.splitlines()[0].strip() if out else "unknown"


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
