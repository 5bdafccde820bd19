"""`kill -9` in the middle of `autotune run`, then the same command again.

A real run (jacobi-1d at MINI, a few pairs per measurement): the first process
is killed while it measures; the rerun must keep every finished measurement
as it was, mark the killed trial stale, retry its configuration, and never
measure a configuration twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import optuna
import pytest
from optuna.trial import TrialState

from autotune.search.storage import open_storage
from tests.conftest import KERNELS, needs_clang

BUDGET = 8


def measured(study: optuna.Study) -> dict[int, tuple[str, float]]:
    done = study.get_trials(states=(TrialState.COMPLETE,))
    return {t.number: (t.user_attrs["key"], t.value) for t in done if t.user_attrs.get("measured")}


@needs_clang
@pytest.mark.slow
def test_kill_9_then_rerun_continues_without_repeating(tmp_path):
    journal = str(tmp_path / "j.log")
    env = {**os.environ, "AUTOTUNE_CACHE": str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "autotune.cli", "run", str(KERNELS / "jacobi-1d.c"), "-D", "MINI_DATASET"]
    cmd += ["--budget", str(BUDGET), "--strategy", "random", "--seed", "5", "--storage", journal, "--study", "k"]
    cmd += ["--out", str(tmp_path / "out"), "--min-reps", "20", "--max-reps", "20", "--json"]
    cmd += ["--load-check", "off"]  # about kill and resume, not timing: other work on the machine must not stall it
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    st, _ = open_storage(journal)
    deadline = time.monotonic() + 120
    study = None
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
            try:
                study = optuna.load_study(study_name="k", storage=st)
            except KeyError:
                continue
            done = measured(study)
            running = study.get_trials(states=(TrialState.RUNNING,))
            # kill while a measurement runs (proposal recorded, result not yet), not while the journal is
            # written: a writer killed holding the journal's lock costs the rerun Optuna's 30 s grace period
            if len(done) >= 3 and running and "proposal" in running[0].user_attrs:
                if "status" not in running[0].user_attrs and not os.path.lexists(journal + ".lock"):
                    break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed; raise BUDGET"
    assert study is not None
    before = measured(optuna.load_study(study_name="k", storage=st))
    assert 3 <= len(before) < BUDGET

    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    study = optuna.load_study(study_name="k", storage=st)
    after = measured(study)
    assert before.items() <= after.items()  # every finished measurement kept, unchanged
    keys = [k for k, _ in after.values()]
    assert len(keys) == len(set(keys)) == BUDGET  # none measured twice, budget reached
    stale = [t for t in study.get_trials() if t.user_attrs.get("stale")]
    assert len(stale) == 1 and stale[0].state == TrialState.FAIL
    assert stale[0].user_attrs["key"] in keys  # its configuration was retried, and measured once
    retry = [t for t in study.get_trials() if t.user_attrs.get("retry_of") == stale[0].number]
    assert len(retry) == 1 and retry[0].user_attrs["measured"]
    assert "retrying the configuration of trial" in rerun.stderr
