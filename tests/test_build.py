"""The content-hash build cache."""

from __future__ import annotations

import shutil

from autotune.build import Builder
from autotune.kernel import Kernel
from autotune.space.discover import build_space
from autotune.variant import make_variant
from tests.conftest import DATA, needs_clang


@needs_clang
def test_cache_hits_misses_and_failures(tmp_path):
    prog = tmp_path / "prog"
    shutil.copytree(DATA, prog)
    k = Kernel.load(prog / "params.c")
    sp = build_space(k)
    b = Builder(tmp_path / "cache")
    base = make_variant(k, sp, sp.default())
    first = b.build(k, base)
    assert first.ok and not first.cached
    again = b.build(k, base)
    assert again.cached and again.exe == first.exe and again.key == first.key
    # an environment-only change shares the binary
    assert b.build(k, make_variant(k, sp, sp.parse_assignments(["threads=1"]))).cached
    # a flag change does not
    assert not b.build(k, make_variant(k, sp, sp.parse_assignments(["BLOCK=8"]))).cached
    # a header beside the program is part of the key
    (prog / "extra.h").write_text("#define X 1\n")
    assert not b.build(k, base).cached
    # a failure is a value, kept with its diagnostics, and cached
    bad = make_variant(k, sp, sp.parse_assignments(["MODE=4"]))
    r1 = b.build(k, bad)
    assert not r1.ok and "error:" in r1.diagnostics()
    r2 = b.build(k, bad)
    assert r2.cached and not r2.ok and r2.log == r1.log


@needs_clang
def test_a_build_another_process_published_first_is_kept(tmp_path, monkeypatch):
    """Two processes building one key at once: the second neither fails nor deletes the first's binary
    (which the first may be running), and a folder missing its binary is rebuilt."""
    from autotune.build import cache

    prog = tmp_path / "prog"
    shutil.copytree(DATA, prog)
    k = Kernel.load(prog / "params.c")
    sp = build_space(k)
    base = make_variant(k, sp, sp.default())
    real, other = cache.compile_once, {}

    def racing(cmd, cwd, timeout):
        out = real(cmd, cwd, timeout)
        if not other:  # the other process finishes the same build while this one compiles
            monkeypatch.setattr(cache, "compile_once", real)
            other["r"] = Builder(tmp_path / "cache").build(k, base)
            other["inode"] = other["r"].exe.stat().st_ino
        return out

    monkeypatch.setattr(cache, "compile_once", racing)
    mine = Builder(tmp_path / "cache").build(k, base)
    assert other["r"].ok and not other["r"].cached
    assert mine.ok and mine.exe == other["r"].exe and mine.exe.stat().st_ino == other["inode"]
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [mine.key]  # no temporary folder left
    mine.exe.unlink()  # an incomplete folder is replaced
    again = Builder(tmp_path / "cache").build(k, base)
    assert again.ok and not again.cached and again.exe.exists()
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [mine.key]


def test_compile_timeout_kills_the_compilers_children(tmp_path):
    """A driver's child (clang -cc1) must not outlive the timeout as an orphan compiling on."""
    import subprocess
    import time

    import pytest

    from autotune.build.cache import compile_once

    pidfile = tmp_path / "child"
    driver = ["sh", "-c", f"sleep 120 & echo $! > {pidfile}; wait"]  # a driver waiting on its compiler
    with pytest.raises(subprocess.TimeoutExpired):
        compile_once(driver, tmp_path, timeout=1.0)
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            state = open(f"/proc/{child}/stat").read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            break  # gone and reaped
        if state == "Z":
            break  # killed; a zombie only until its (sub)reaper collects it
        time.sleep(0.05)
    else:
        raise AssertionError(f"the compiler's child {child} still runs after the timeout")


def test_compile_once_returns_status_and_diagnostics(tmp_path):
    from autotune.build.cache import compile_once

    rc, log = compile_once(["sh", "-c", "echo warn >&2; echo out; exit 3"], tmp_path, timeout=30)
    assert rc == 3 and "warn" in log and "out" in log


def test_side_by_side_runs_tasks_at_once_and_keeps_their_order():
    import threading

    from autotune.build.pool import side_by_side

    both = threading.Barrier(2, timeout=10)  # broken (an exception) unless the two run at the same time

    def task(i):
        return lambda: (both.wait(), i)[1]

    assert side_by_side([task(0), task(1)], workers=2) == [0, 1]
    assert side_by_side([lambda: 7], workers=2) == [7]


def test_side_by_side_raises_a_tasks_error_after_the_others_finished():
    import pytest

    from autotune.build.pool import side_by_side

    done = []

    def bad():
        raise ValueError("task failed")

    with pytest.raises(ValueError, match="task failed"):
        side_by_side([bad, lambda: done.append(1)], workers=2)
    assert done == [1]


def test_an_interruption_kills_the_compiles_the_workers_started(tmp_path):
    import signal
    import threading

    import pytest

    from autotune.build.cache import compile_once
    from autotune.build.pool import side_by_side

    rcs, started = [], threading.Semaphore(0)

    def compile_():  # a "compiler" that runs for two minutes unless killed
        started.release()
        rcs.append(compile_once(["sleep", "120"], tmp_path, timeout=300)[0])

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, interrupt)
    try:
        threading.Thread(target=lambda: (started.acquire(), started.acquire(), signal.alarm(1)), daemon=True).start()
        with pytest.raises(KeyboardInterrupt):
            side_by_side([compile_, compile_], workers=2)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert rcs == [-signal.SIGKILL, -signal.SIGKILL]  # killed, not left to finish their two minutes
