"""Helpers for the command-line tests: run `autotune` as a user does, and check its one-line errors."""

from __future__ import annotations

import subprocess
import sys


def autotune(*args: str, timeout: float = 300, module: str = "autotune") -> subprocess.CompletedProcess:
    """`python -m autotune ARGS` in a fresh process (exit status, stdout and stderr as a user sees them)."""
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=timeout)


def one_line_error(r: subprocess.CompletedProcess, pattern: str) -> None:
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert pattern in lines[0], lines[0]
