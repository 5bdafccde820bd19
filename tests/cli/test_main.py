"""`main()`: both `python -m` spellings, exit statuses, and what Ctrl-C and `kill` leave behind."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.cli.conftest import autotune, one_line_error
from tests.conftest import DATA, ROOT, needs_clang


@pytest.mark.parametrize("module", ["autotune", "autotune.cli"])
def test_both_module_spellings_run_the_same_command_line(module):
    r = autotune("run", "--help", module=module)
    assert r.returncode == 0 and "usage: autotune run" in r.stdout and "--time-budget" in r.stdout
    bad = autotune("measure", "x.c", "--max-reps", "0", module=module)
    one_line_error(bad, "--max-reps must be at least 1")
    assert bad.returncode == 2


def test_the_console_script_entry_point_is_main():
    """pyproject's `autotune = "autotune.cli:main"` still names the function (cli.py became a package)."""
    import importlib
    import tomllib

    from autotune import cli

    target = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["autotune"]
    module, name = target.split(":")
    assert getattr(importlib.import_module(module), name) is cli.main


def test_every_command_is_registered_once_in_help_order():
    from autotune import cli

    usage = cli.parser().format_usage()
    assert "{space,variant,measure,run,report,collect,predict,db}" in usage


def _tagged_by(owner: int) -> list[int]:
    """Processes whose run tag names `owner` (the runner tags every process of a run)."""
    import psutil

    from autotune.measure.runner import TAG_VAR

    found = []
    for p in psutil.process_iter():
        try:
            tag = p.environ().get(TAG_VAR, "")
        except (psutil.Error, OSError):
            continue
        if tag.startswith(f"{owner}:"):
            found.append(p.pid)
    return found


@needs_clang
@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_stopping_autotune_kills_the_measured_program(sig, tmp_path):
    """Ctrl-C or `kill` of autotune while a hung program runs: autotune exits and the program is gone."""
    import signal
    import time

    env = {**os.environ, "AUTOTUNE_CACHE": str(tmp_path)}
    p = subprocess.Popen(
        [sys.executable, "-m", "autotune", "measure", str(DATA / "forever.c"), "--baseline-timeout", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # as from a terminal: a test suite started in the background (`bash scripts/test.sh &`) passes
        # SIGINT on ignored, and autotune rightly keeps an inherited ignore (`nohup autotune ... &`)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 60
        while not _tagged_by(p.pid):  # wait until the hung program runs
            assert p.poll() is None and time.monotonic() < deadline, p.stderr.read() if p.poll() is not None else ""
            time.sleep(0.1)
        p.send_signal(getattr(signal, sig))
        _, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode in (130, 143), err
    assert "Traceback" not in err
    assert _tagged_by(p.pid) == []
