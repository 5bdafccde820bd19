"""Load awareness: other work's share of the CPUs before and during a measurement, and what the protocol does."""

from __future__ import annotations

import subprocess
import sys
from collections import namedtuple

import pytest

from autotune.build import Builder
from autotune.errors import UserError
from autotune.kernel import Kernel
from autotune.machine import usable_cores
from autotune.measure import Bench, Options, load
from tests.conftest import DATA, needs_clang

CPU = namedtuple("CPU", "user nice system idle iowait irq softirq steal guest guest_nice")
PROC = namedtuple("PROC", "user system children_user children_system iowait")


def cpu(user=0.0, nice=0.0, system=0.0, idle=0.0, iowait=0.0, guest=0.0) -> CPU:
    return CPU(user, nice, system, idle, iowait, 0.0, 0.0, 0.0, guest, 0.0)


class FakePsutil:
    """psutil's counters as scripted sequences: each cpu_times() / Process().cpu_times() call takes the next."""

    def __init__(self, cpu_readings: list[list[CPU]], own_readings: list[PROC] | None = None) -> None:
        self.cpu_readings = iter(cpu_readings)
        self.own_readings = iter(own_readings or [])

    def cpu_times(self, percpu: bool = False) -> list[CPU]:
        assert percpu
        return next(self.cpu_readings)

    def Process(self):  # noqa: N802 - psutil's name
        fake = self

        class P:
            def cpu_times(self) -> PROC:
                return next(fake.own_readings)

        return P()


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    sleeps: list[float] = []
    monkeypatch.setattr(load, "_sleep", sleeps.append)
    return sleeps


def test_glance_counts_other_work_but_not_nice_or_iowait(monkeypatch, no_sleep):
    """Over 1 s on 2 CPUs: 0.5 s user + 0.1 s system busy; 0.8 s nice and 0.2 s iowait do not count."""
    t0 = [cpu(idle=100.0), cpu(idle=100.0)]
    t1 = [cpu(user=0.5, system=0.1, nice=0.3, idle=100.1), cpu(nice=0.5, iowait=0.2, idle=100.3)]
    monkeypatch.setattr(load, "psutil", FakePsutil([t0, t1]))
    assert load.glance(0.1, cpus=[0, 1]) == pytest.approx(0.6 / 2.0)
    assert no_sleep == [0.1]


def test_guest_time_is_not_counted_twice(monkeypatch, no_sleep):
    t0 = [cpu(idle=10.0)]
    t1 = [cpu(user=0.5, guest=0.5, idle=10.5)]  # Linux counts guest inside user already
    monkeypatch.setattr(load, "psutil", FakePsutil([t0, t1]))
    assert load.glance(0.1, cpus=[0]) == pytest.approx(0.5)


def test_meter_subtracts_this_process_and_its_children(monkeypatch):
    """During a measurement the runs are ours: 1.6 s busy of 2 s, 0.8 s of it ours -> other work 0.4."""
    t0 = [cpu(idle=50.0), cpu(idle=50.0)]
    t1 = [cpu(user=0.9, idle=50.1), cpu(user=0.5, system=0.2, idle=50.3)]
    own0 = PROC(1.0, 0.5, 2.0, 0.5, 0.0)
    own1 = PROC(1.3, 0.6, 2.3, 0.6, 0.0)  # +0.3 +0.1 self, +0.3 +0.1 reaped children
    monkeypatch.setattr(load, "psutil", FakePsutil([t0, t1], [own0, own1]))
    meter = load.Meter(cpus=[0, 1])
    assert meter.stop() == pytest.approx(0.4)


def test_meter_looks_only_at_the_cpus_the_runs_use(monkeypatch):
    """Pinned to CPUs 2-3: a busy CPU 0 is not in the way; a busy CPU 3 is half of the pair."""
    t0 = [cpu(idle=10.0)] * 4
    t1 = [cpu(user=1.0, idle=10.0), cpu(idle=11.0), cpu(idle=11.0), cpu(user=1.0, idle=10.0)]
    own = PROC(0.0, 0.0, 0.0, 0.0, 0.0)
    monkeypatch.setattr(load, "psutil", FakePsutil([t0, t1], [own, own]))
    assert load.Meter(cpus=[2, 3]).stop() == pytest.approx(0.5)


def test_busy_fraction_is_clamped():
    a, b = load.CpuCounters(0.0, 0.0), load.CpuCounters(1.0, 2.0)
    assert load.busy_fraction(a, b, own_seconds=1.5) == 0.0  # ticks and precise own time disagree a little
    assert load.busy_fraction(a, load.CpuCounters(3.0, 2.0)) == 1.0
    assert load.busy_fraction(a, a) == 0.0


def scripted_glances(monkeypatch, readings: list[float]) -> list[float]:
    """Replace glance with scripted busy shares; returns the interval of each look."""
    it = iter(readings)
    looks: list[float] = []

    def glance(interval: float = load.GLANCE_S, cpus=None) -> float:
        looks.append(interval)
        return next(it)

    monkeypatch.setattr(load, "glance", glance)
    return looks


def test_wait_for_quiet_waits_tells_and_gives_up(monkeypatch, no_sleep):
    looks = scripted_glances(monkeypatch, [0.9, 0.6, 0.9, 0.7, 0.9, 0.8])
    notices: list[tuple[float, float]] = []
    busy, waited = load.wait_for_quiet(0.25, 7.0, lambda b, w: notices.append((b, w)), poll_s=5.0)
    assert (busy, waited) == (0.8, 7.0)  # still busy after the limit: the caller decides
    assert notices == [(0.6, 0.0), (0.7, 5.0)] and no_sleep == [5.0, 2.0]  # the last pause ends at the limit
    assert looks == [0.1, 1.0] * 3


def test_wait_for_quiet_returns_at_once_on_a_quiet_machine(monkeypatch, no_sleep):
    scripted_glances(monkeypatch, [0.05])
    assert load.wait_for_quiet(0.25, 120.0) == (0.05, 0.0) and no_sleep == []


def test_quiet_gate_waits_only_when_a_longer_look_confirms_the_load(monkeypatch, no_sleep):
    """The cheap 0.1 s glance before each measurement must not make a recording wait on a blip,
    and must wait when the 1 s confirmation sees the load too."""
    looks = scripted_glances(monkeypatch, [0.9, 0.1, 0.9, 0.9, 0.0, 0.9, 0.9, 0.9, 0.1])
    logged: list[str] = []
    gate = load.quiet_gate(0.25, logged.append, poll_s=7.0)
    gate()  # glance busy, confirmation quiet: no wait
    assert no_sleep == [] and looks == [0.1, 1.0]
    gate()  # busy confirmed once, then a quiet glance
    assert no_sleep == [7.0] and looks[2:] == [0.1, 1.0, 0.1]
    gate()  # busy confirmed, then the glance busy but the confirmation quiet
    assert no_sleep == [7.0, 7.0] and looks[5:] == [0.1, 1.0, 0.1, 1.0]
    assert logged[0] == "waiting for a quiet machine: 90% of the CPUs busy with other work (> 25%)"
    assert logged[1] == "machine quiet after 7 s of waiting"


def test_unknown_mode_is_a_user_error():
    with pytest.raises(UserError, match="load_check='sometimes': expected one of off, wait, strict"):
        load.check_mode("sometimes")


# --- what the protocol does with it (real builds and runs, scripted load) ----------------------------


def noloops(cache_dir, **opts) -> Bench:
    o = Options(min_pairs=6, max_pairs=6, **opts)
    return Bench(Kernel.load(DATA / "noloops.c"), options=o, builder=Builder(cache_dir))


class ScriptedMeter:
    readings: list[float] = []

    def __init__(self, cpus=None) -> None:
        pass

    def stop(self) -> float:
        return ScriptedMeter.readings.pop(0)


def scripted_load(monkeypatch, before: list[float], during: list[float]) -> None:
    """Glances see `before` in turn (each confirmed by the next value), meters see `during`."""
    scripted_glances(monkeypatch, before)
    ScriptedMeter.readings = list(during)
    monkeypatch.setattr(load, "Meter", ScriptedMeter)


@needs_clang
def test_wait_mode_waits_tells_then_measures_and_flags(cache_dir, monkeypatch, no_sleep):
    scripted_load(monkeypatch, [0.6, 0.55, 0.6, 0.5], [0.1])
    notices: list[tuple[float, float]] = []
    b = noloops(cache_dir, load_wait_s=3.0)
    b.on_wait = lambda busy, waited: notices.append((busy, waited))
    m = b.measure()
    assert m.status == "ok" and m.under_load and m.load_before == 0.5 and m.load_during == 0.1
    assert m.load_waited == 3.0 and notices == [(0.55, 0.0)]
    assert "measured under load: 50% of the CPUs busy with other work" in m.message
    assert m.to_dict()["load_before"] == 0.5 and m.to_dict()["under_load"] is True


@needs_clang
def test_wait_mode_flags_load_during_the_runs(cache_dir, monkeypatch, no_sleep):
    scripted_load(monkeypatch, [0.0], [0.4])
    m = noloops(cache_dir).measure()
    assert m.status == "ok" and m.under_load and (m.load_before, m.load_during, m.load_waited) == (0.0, 0.4, 0.0)
    assert m.message.endswith("measured under load: 40% of the CPUs busy with other work")


@needs_clang
def test_quiet_machine_is_not_flagged(cache_dir, monkeypatch, no_sleep):
    scripted_load(monkeypatch, [0.1], [0.2])
    m = noloops(cache_dir).measure()
    assert m.status == "ok" and not m.under_load and "load" not in m.message


@needs_clang
def test_off_samples_nothing(cache_dir, monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("sampled with load_check=off")

    monkeypatch.setattr(load, "wait_for_quiet", refuse)
    monkeypatch.setattr(load, "Meter", refuse)
    m = noloops(cache_dir, load_check="off").measure()
    assert m.status == "ok" and (m.load_before, m.load_during, m.load_waited, m.under_load) == (None, None, 0.0, False)


@needs_clang
def test_strict_refuses_a_busy_machine(cache_dir, monkeypatch, no_sleep):
    scripted_load(monkeypatch, [0.9, 0.6, 0.9, 0.6], [])
    busy = r"the machine is busy: after waiting 1 s, other work keeps 60% .*load_check='wait'"
    with pytest.raises(UserError, match=busy):
        noloops(cache_dir, load_check="strict", load_wait_s=1.0).measure()


@needs_clang
def test_strict_measures_again_when_the_runs_were_loaded(cache_dir, monkeypatch, no_sleep):
    scripted_load(monkeypatch, [0.0, 0.0], [0.5, 0.1])  # loaded during the first try, quiet the second
    m = noloops(cache_dir, load_check="strict").measure()
    assert m.status == "ok" and not m.under_load and m.load_during == 0.1 and ScriptedMeter.readings == []
    scripted_load(monkeypatch, [0.0, 0.0], [0.5, 0.6])  # loaded both times
    with pytest.raises(UserError, match="other work kept 60% of the CPUs busy during two measurements"):
        noloops(cache_dir, load_check="strict").measure()


# --- the real thing ------------------------------------------------------------------------------------


@needs_clang
@pytest.mark.slow
def test_a_real_busy_loop_is_seen_before_and_during(cache_dir):
    """Python busy loops keeping half the usable cores busy (one of two) must show as load, and strict must refuse.

    Threshold 0.25 against an expected ~0.5 (plus whatever else runs here); the
    30 pairs of a tiny program keep the runs going long enough (~0.3 s) for the
    10 ms kernel counters.
    """
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(max(1, usable_cores() // 2))]
    try:
        b = Bench(
            Kernel.load(DATA / "noloops.c"),
            options=Options(min_pairs=30, max_pairs=30, ci_target=0.0, load_wait_s=0.2),
            builder=Builder(cache_dir),
        )
        m = b.measure()
        assert m.status == "ok" and m.repetitions == 30
        assert m.load_before is not None and m.load_before > 0.25, m.load_before
        assert m.load_during is not None and m.load_during > 0.25, m.load_during
        assert m.under_load and m.load_waited == pytest.approx(0.2) and "measured under load" in m.message
        b.options.load_check = "strict"
        with pytest.raises(UserError, match="the machine is busy"):
            b.measure()
    finally:
        for p in loops:
            p.kill()
            p.wait()


@needs_clang
def test_a_load_that_outlasts_the_wait_is_not_waited_for_again_until_quiet_returns(cache_dir, monkeypatch, no_sleep):
    """After one whole wait ended in load, the next measurements only look (and flag) until the CPUs are quiet."""
    seen = iter([0.6] * 4 + [0.0] + [0.6] * 3)  # 3 looks in a 10 s wait (5 s apart), 1 without; quiet; busy
    monkeypatch.setattr(load, "load_now", lambda max_busy, cpus=None: next(seen))
    ScriptedMeter.readings = [0.0] * 4
    monkeypatch.setattr(load, "Meter", ScriptedMeter)
    b = noloops(cache_dir, load_wait_s=10.0)
    first, second, third, fourth = (b.measure() for _ in range(4))
    assert first.load_waited == 10.0 and first.under_load
    assert second.load_waited == 0.0 and second.under_load  # the load outlasted the wait: look, do not wait
    assert third.load_waited == 0.0 and not third.under_load  # quiet again
    assert fourth.load_waited == 10.0 and fourth.under_load  # a new load gets the whole wait again
