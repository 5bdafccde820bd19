"""experiments/gpu_tuning.py: a run's summary line, and one line where there is no GPU (nothing timed here)."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from experiments import gpu_tuning


def test_a_runs_line_names_its_best_verified_variant_and_when_it_came():
    trials = pd.DataFrame(
        {
            "status": ["ok", "ok", "wrong_output", "ok"],
            "speedup": [1.0, 1.4, 9.0, 1.2],
            "verified": [True, True, False, True],
            "ci_lo": [0.99, 1.38, None, 1.1],
            "ci_hi": [1.01, 1.43, None, 1.3],
            "baseline_seconds": [0.002, 0.0021, 0.002, 0.0019],
        }
    )
    row = gpu_tuning.summary_row("matmul", "tpe", trials)
    assert row["best_speedup"] == 1.4 and row["evals_to_best"] == 2 and row["ci"] == "1.380-1.430"
    assert row["default_ms"] == 2.0 and row["evaluations"] == 4  # an unverified 9x is never the best
    failed = gpu_tuning.summary_row("k", "guided", trials.assign(status="runtime_error"))
    assert failed["best_speedup"] is None and failed["evals_to_best"] is None


@pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="a GPU may be here")
def test_without_a_gpu_it_says_so_and_exits_2(capsys):
    assert gpu_tuning.main(["--minutes", "0.1"]) == 2
    assert "no GPU here" in capsys.readouterr().out
