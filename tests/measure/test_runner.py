"""The runner: nothing of a run outlives it, limits apply, failures are values."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autotune.measure import runner


def script(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "prog.sh"
    p.write_text("#!/bin/sh\n" + body + "\n")
    p.chmod(0o755)
    return p


def test_ok_run_captures_output(tmp_path):
    r = runner.run(script(tmp_path, "echo out; echo err >&2"), [], runner.clean_env({}), timeout=10, memory_bytes=2**32)
    assert r.ok and r.stdout == b"out\n" and r.stderr == b"err\n" and r.wall > 0


def test_timeout_kills_children_too(tmp_path):
    marker = tmp_path / "child-alive"
    body = f"(sleep 2; touch {marker}) &\nsleep 30"
    t0 = time.perf_counter()
    r = runner.run(script(tmp_path, body), [], runner.clean_env({}), timeout=0.5)
    assert r.timed_out and r.returncode is None and not r.ok
    assert time.perf_counter() - t0 < 5
    time.sleep(2.5)
    assert not marker.exists()  # the background child died with its group
    assert "did not finish" in r.describe_failure()


def test_exit_code_and_signal_are_described(tmp_path):
    r = runner.run(script(tmp_path, "echo boom >&2; exit 7"), [], runner.clean_env({}), timeout=10)
    assert r.returncode == 7 and r.describe_failure() == "exit code 7: boom"
    r = runner.run(script(tmp_path, "kill -SEGV $$"), [], runner.clean_env({}), timeout=10)
    assert "killed by SIGSEGV" in r.describe_failure()


def test_environment_is_scrubbed(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_SCHEDULE", "dynamic")
    monkeypatch.setenv("KMP_AFFINITY", "compact")
    env = runner.clean_env({"OMP_NUM_THREADS": "3"})
    assert "OMP_SCHEDULE" not in env and "KMP_AFFINITY" not in env and env["OMP_NUM_THREADS"] == "3"


def test_memory_cap_and_affinity_reach_the_child(tmp_path):
    argv, setup = runner.command(Path(sys.executable), ["-c", "pass"], 2**33, [0])
    probe = "import os, resource; print(resource.getrlimit(resource.RLIMIT_AS)[0], sorted(os.sched_getaffinity(0)))"
    r = runner.run(Path(sys.executable), ["-c", probe], runner.clean_env({}), timeout=30, memory_bytes=2**33, cpus=[0])
    assert r.ok, r.stderr
    assert r.stdout.decode().split(maxsplit=1) == [str(2**33), "[0]\n"]
    assert setup is None or callable(setup)


def test_missing_program_is_a_value(tmp_path):
    r = runner.run(tmp_path / "nope", [], runner.clean_env({}), timeout=5)
    assert not r.ok and r.describe_failure()


# --- nothing of a run outlives it ------------------------------------------------------------
# The programs below fork a child that leaves the process group with setsid(1), the way a daemon does.

ROOT = Path(__file__).resolve().parents[2]


def running(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return raw[raw.rindex(b")") + 2 :][:1] not in (b"Z", b"X")


def gone(pid: int) -> bool:
    """Not even a zombie: killed and reaped."""
    return not Path(f"/proc/{pid}").exists()


def wait_until(cond, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def tagged_running(tag: str) -> list[int]:
    needle = f"\0{runner.TAG_VAR}={tag}\0".encode()
    found = []
    for p in Path("/proc").iterdir():
        try:
            if p.name.isdigit() and needle in b"\0" + (p / "environ").read_bytes() and running(int(p.name)):
                found.append(int(p.name))
        except OSError:
            pass
    return found


def escaping(tmp_path: Path, then: str, escapee_output: str = "") -> Path:
    """Prints its tag and the pid of a setsid'd child that sleeps 20 s, then runs `then`."""
    return script(tmp_path, f'echo "$AUTOTUNE_RUN"\nsetsid sleep 20 {escapee_output} &\necho $!\n{then}')


def test_escaped_child_holding_stdout_cannot_defeat_the_timeout(tmp_path):
    t0 = time.perf_counter()
    r = runner.run(escaping(tmp_path, "sleep 20"), [], runner.clean_env({}), timeout=1)
    assert time.perf_counter() - t0 < 10  # was: waited for the escapee to close stdout (20 s)
    assert r.timed_out and not r.ok and "did not finish" in r.describe_failure()
    tag, escapee = r.stdout.decode().splitlines()
    assert tag and wait_until(lambda: not running(int(escapee)))
    assert tagged_running(tag) == []


def test_run_ends_when_the_program_exits_not_when_its_escapee_does(tmp_path):
    t0 = time.perf_counter()
    r = runner.run(escaping(tmp_path, "exit 0"), [], runner.clean_env({}), timeout=60)
    assert time.perf_counter() - t0 < 10 and r.wall < 10  # was: the escapee's 20 s were timed
    assert r.ok and r.leftovers >= 1
    tag, escapee = r.stdout.decode().splitlines()
    assert gone(int(escapee))  # killed, and reaped: it was re-parented to us
    assert tagged_running(tag) == []


def test_escaped_child_is_killed_even_when_it_closed_stdout(tmp_path):
    r = runner.run(escaping(tmp_path, "exit 0", ">/dev/null 2>&1"), [], runner.clean_env({}), timeout=60)
    assert r.ok
    escapee = int(r.stdout.decode().splitlines()[1])
    assert wait_until(lambda: not running(escapee))  # was: still sleeping after the run


def hung(tmp_path: Path) -> tuple[Path, Path]:
    """A program that records its pid and its escapee's, then hangs."""
    pids = tmp_path / "pids"
    prog = script(
        tmp_path,
        f"setsid sleep 30 >/dev/null 2>&1 &\necho $$ $! > {pids}.tmp && mv {pids}.tmp {pids}\nexec sleep 30",
    )
    return prog, pids


def read_pids(pids: Path) -> tuple[int, int]:
    assert wait_until(pids.exists, 10), "the program did not start"
    program, escapee = map(int, pids.read_text().split())
    return program, escapee


def test_exception_while_waiting_kills_the_tree(tmp_path):
    class Stop(Exception):
        pass

    def stop(*_):
        raise Stop

    prog, pids = hung(tmp_path)
    old = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    try:
        with pytest.raises(Stop):
            runner.run(prog, [], runner.clean_env({}), timeout=60)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    program, escapee = read_pids(pids)
    assert gone(program) and gone(escapee)


DRIVER = """
import signal, sys
from pathlib import Path
from autotune.measure import runner
signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started from a background job
if sys.argv[2] == "handler":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
runner.run(Path(sys.argv[1]), [], runner.clean_env({}), timeout=60)
"""


def driver(prog: Path, mode: str) -> subprocess.Popen:
    """A tuner in a separate process, running one hung program."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", DRIVER, str(prog), mode], env=env, cwd=ROOT)


def kill_if_running(*pids: int) -> None:
    for pid in pids:
        if running(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("sig,mode", [(signal.SIGINT, "default"), (signal.SIGTERM, "handler")])
def test_interrupted_tuner_kills_the_tree(tmp_path, sig, mode):
    prog, pids = hung(tmp_path)
    d = driver(prog, mode)
    program = escapee = 0
    try:
        program, escapee = read_pids(pids)
        d.send_signal(sig)
        assert d.wait(10) != 0
        assert wait_until(lambda: not running(program), 2)  # was: the program ran on in its own session
        assert wait_until(lambda: not running(escapee), 2)
    finally:
        d.kill()
        d.wait()
        kill_if_running(program, escapee)


def test_leftover_reaping_spares_runs_of_live_tuners(tmp_path):
    prog, pids = hung(tmp_path)
    d = driver(prog, "default")
    program = escapee = 0
    try:
        program, escapee = read_pids(pids)
        runner.reap_leftovers()
        assert running(program) and running(escapee)
    finally:
        d.send_signal(signal.SIGINT)
        d.wait(10)
        kill_if_running(program, escapee)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_tuner_takes_its_program_along_and_leftovers_are_reaped_later(tmp_path, sig):
    prog, pids = hung(tmp_path)
    d = driver(prog, "default")
    program = escapee = 0
    try:
        program, escapee = read_pids(pids)
        d.send_signal(sig)  # no cleanup code runs in the driver
        d.wait(10)
        assert wait_until(lambda: not running(program))  # parent-death signal
        assert running(escapee)  # out of reach until the next start ...
        assert runner.reap_leftovers() >= 1  # ... which kills it: its owner is gone
        assert wait_until(lambda: not running(escapee))
    finally:
        d.kill()
        d.wait()
        kill_if_running(program, escapee)
