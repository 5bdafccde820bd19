"""Thread-coarsening experiment: the shipped baselines reproduce their published figures, and
the script runs end to end on a few held-out kernels and writes a well-formed table."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import coarsening as tc
from experiments import embeddings as embcache

pytestmark = pytest.mark.skipif(
    not (embcache.data_dir() / "thread_coarsening").is_dir(), reason="../shared/data/thread_coarsening not present"
)


def _runtimes():
    rt = pd.read_csv(tc.data_files()["runtimes"])
    kernels = sorted(rt["kernel"].unique())
    out = {}
    for g in tc.GPUS:
        m = np.full((len(kernels), len(tc.CFS)), np.nan)
        for r in rt.itertuples():
            m[kernels.index(r.kernel), tc.CFS.index(int(r.cf))] = getattr(r, f"runtime_{g}")
        out[g] = m
    return kernels, out


def test_baselines_match_published_figures():
    kernels, runtimes = _runtimes()
    assert len(kernels) == 17
    preds = tc.baseline_predictions(kernels, runtimes)  # raises if a shipped speedup disagrees
    for name, by_gpu in preds.items():
        got = [float(tc.speedup(runtimes[g], by_gpu[g]).mean()) for g in tc.GPUS]
        assert got == pytest.approx(list(tc.PUBLISHED[name]), abs=0.0006)


def test_oracle_matches_oracle_file():
    kernels, runtimes = _runtimes()
    orc = pd.read_csv(tc.data_files()["oracles"]).set_index("kernel")
    for g in tc.GPUS:
        best = [tc.CFS[int(np.nanargmin(runtimes[g][i]))] for i in range(len(kernels))]
        assert best == [int(orc.loc[k, f"cf_{g}"]) for k in kernels]


def test_knn_head_picks_a_measured_cf():
    X = np.eye(4)
    T = np.log(np.array([[1, 2, 3, np.nan, np.nan, np.nan]] * 4, dtype=float))
    T[3, 2] = np.nan  # the held-out kernel lacks CF 4: the best measured one is CF 2
    assert tc.knn_predict(X, T, np.array([True, True, True, False]), 3) == 2


@pytest.mark.skipif(shutil.which("clang-22") is None, reason="clang-22 not installed")
def test_smoke_run_writes_tables(tmp_path: Path):
    assert tc.main(["--smoke", "--out", str(tmp_path)]) == 0
    md = (tmp_path / "coarsening_smoke.md").read_text()
    assert "| method | Cypress (AMD Radeon HD 5900) |" in md
    for row in (
        "ours: pretrained encoder, fused, MLP",
        "Magni et al.",
        "IR2Vec (cited)",
        "Oracle (best CF per kernel)",
    ):
        assert f"| {row} |" in md
    assert "Command: `python -m experiments.coarsening --smoke`" in md
    csv = pd.read_csv(tmp_path / "coarsening_smoke.csv")
    assert len(csv) == 4 * tc.SMOKE_KERNELS
    assert (csv["speedup:oracle"] >= csv["speedup:pretrained/fused/mlp/seed0"] - 1e-12).all()
    assert csv["cf:pretrained/fused/knn3"].isin(tc.CFS).all()
