"""How much of the machine other work keeps busy, before and during a measurement.

Why: on a few shared cores another job decides whether two threads beat one,
and a speedup measured while something else competes for the cores describes
that competition, not the variant (DESIGN.md section 3). Interleaving cancels
slow drift, not a neighbour that comes and goes between the A and B runs.

Load here is the fraction of the usable CPUs (this process's affinity, or the
CPUs the runs are pinned to) kept busy by *other* work, 0..1: on two cores one
busy core is 0.5. Work under `nice` does not count: the scheduler gives a
nice-19 process about 1.5% of a core against a normal one, so it cannot take a
core from the measured runs (which is why other work can go on beside a long
recording when started with `nice -n 19`). Time waiting for I/O is idle.

* Before a measurement (`glance`, `wait_for_quiet`): this process is idle
  between measurements, so what the system-wide counters see is everyone else.
* During a measurement (`Meter`): the measured runs themselves keep the cores
  busy, so the other work is the system's busy CPU time minus this process's
  and its reaped children's CPU time over the same interval.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import psutil

from autotune.errors import UserError, option

MODES = ("off", "wait", "strict")
GLANCE_S = 0.1  # paid before every measurement: short
CONFIRM_S = 1.0  # paid only when the glance saw load: long enough to not wait on a blip
POLL_S = 5.0  # between looks while waiting

WaitCallback = Callable[[float, float], None]  # (busy fraction, seconds waited so far)


def _sleep(seconds: float) -> None:
    """Every pause of this module (one name for tests to replace)."""
    time.sleep(seconds)


def check_mode(mode: str) -> str:
    """`mode` if it is one of MODES, else a UserError naming the choices."""
    if mode not in MODES:
        raise UserError(f"{option('load_check', mode)}: expected one of {', '.join(MODES)}")
    return mode


def usable_cpus(cpus: Sequence[int] | None = None) -> list[int]:
    """The CPUs whose load matters: `cpus` if the runs are pinned, else this process's affinity."""
    if cpus:
        return sorted(set(cpus))
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return list(range(psutil.cpu_count() or 1))


@dataclass(frozen=True)
class CpuCounters:
    """Cumulative CPU seconds of a set of CPUs: busy (not idle, nice or iowait) and total."""

    busy: float
    total: float


def _busy_total(t) -> tuple[float, float]:
    total = sum(t)
    # Linux counts guest time inside user/nice already (psutil does the same subtraction)
    total -= getattr(t, "guest", 0.0) + getattr(t, "guest_nice", 0.0)
    idle = t.idle + getattr(t, "iowait", 0.0) + getattr(t, "nice", 0.0)
    return total - idle, total


def counters(cpus: Sequence[int] | None = None) -> CpuCounters:
    """System-wide CPU counters summed over the usable CPUs."""
    per = psutil.cpu_times(percpu=True)
    chosen = [per[i] for i in usable_cpus(cpus) if i < len(per)] or per
    busy = total = 0.0
    for t in chosen:
        b, tot = _busy_total(t)
        busy += b
        total += tot
    return CpuCounters(busy, total)


def own_cpu_seconds() -> float:
    """CPU seconds of this process and its reaped children (the measured runs are reaped children)."""
    t = psutil.Process().cpu_times()
    return t.user + t.system + getattr(t, "children_user", 0.0) + getattr(t, "children_system", 0.0)


def busy_fraction(before: CpuCounters, after: CpuCounters, own_seconds: float = 0.0) -> float:
    """Fraction of the CPUs' time between two counter readings spent on other work, clamped to 0..1."""
    total = after.total - before.total
    if total <= 0:
        return 0.0
    other = after.busy - before.busy - own_seconds
    return min(max(other / total, 0.0), 1.0)


def glance(interval: float = GLANCE_S, cpus: Sequence[int] | None = None) -> float:
    """Load over the next `interval` seconds, with this process idle (it sleeps meanwhile)."""
    c0 = counters(cpus)
    _sleep(interval)
    return busy_fraction(c0, counters(cpus))


def load_now(max_busy: float, cpus: Sequence[int] | None = None) -> float:
    """A 0.1 s glance, confirmed over 1 s when it sees more than `max_busy`.

    Why two looks: the glance is paid before every measurement (at 0.5 s it
    was a third of a small loop's recording time), the confirmation only when
    the glance saw load, so a blip does not make anyone wait.
    """
    b = glance(GLANCE_S, cpus)
    return b if b <= max_busy else glance(CONFIRM_S, cpus)


def wait_for_quiet(
    max_busy: float,
    wait_s: float,
    on_wait: WaitCallback | None = None,
    cpus: Sequence[int] | None = None,
    poll_s: float = POLL_S,
) -> tuple[float, float]:
    """Wait up to `wait_s` seconds while other work keeps more than `max_busy` of the CPUs busy.

    Returns (the last load seen, seconds waited). `on_wait(busy, waited)` is
    called before each pause, so a progress line can say why nothing happens.
    The caller decides what a load still above `max_busy` means.
    """
    waited = 0.0
    while (busy := load_now(max_busy, cpus)) > max_busy and waited < wait_s:
        if on_wait is not None:
            on_wait(busy, waited)
        pause = min(poll_s, wait_s - waited)
        _sleep(pause)
        waited += pause
    return busy, waited


class Meter:
    """Other work's share of the CPUs over an interval in which this process itself works.

    Start it when the runs begin and stop it when they end: the runs are this
    process's children, reaped by then, so their CPU time is in
    `own_cpu_seconds` and is not mistaken for other work.
    """

    def __init__(self, cpus: Sequence[int] | None = None) -> None:
        self.cpus = list(cpus) if cpus else None
        self._c0 = counters(self.cpus)
        self._own0 = own_cpu_seconds()

    def stop(self) -> float:
        """Load (0..1) since the meter started."""
        return busy_fraction(self._c0, counters(self.cpus), own_cpu_seconds() - self._own0)


def describe(busy: float) -> str:
    return f"{busy:.0%} of the CPUs busy with other work"


def quiet_gate(max_busy: float, log: Callable[[str], None], poll_s: float = 30.0) -> Callable[[], None]:
    """A gate to call before each measurement of a long recording: wait, without limit, for quiet CPUs.

    Why without limit: an experiment's recording runs for hours unattended,
    and a landscape recorded under load describes the load, not the kernel;
    waiting costs only time. The check runs between measurements, when this
    process is idle, so what it sees is everyone else (`load_now`). The log
    says so when it starts waiting (then every 10 minutes) and when it ends.
    """

    def said(busy: float, waited: float) -> None:
        if waited % 600 == 0:
            log(f"waiting for a quiet machine: {describe(busy)} (> {max_busy:.0%})")

    def gate() -> None:
        _, waited = wait_for_quiet(max_busy, math.inf, said, poll_s=poll_s)
        if waited:
            log(f"machine quiet after {waited:.0f} s of waiting")

    return gate
