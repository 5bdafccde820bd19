"""The runner: timeouts kill the whole process group, limits apply, failures are values."""

from __future__ import annotations

import sys
import time
from pathlib import Path

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
