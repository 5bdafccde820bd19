"""experiments/coarsening_measured.py: what it measures, and its tables from rows (nothing timed here)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments import coarsening_measured as cm
from experiments.coarsening import CFS


def test_the_speedup_matrix_counts_failures_as_zero_and_leaves_unoffered_cfs_out():
    rows = pd.DataFrame(
        {
            "kernel": ["a", "a", "a", "b", "b"],
            "cf": [2, 4, 2, 2, 32],
            "mode": ["block", "block", "stride", "block", "block"],
            "status": ["ok", "wrong_output", "ok", "ok", "ok"],
            "speedup": [1.5, None, 0.9, 0.8, 2.0],
        }
    )
    S = cm.speedup_matrix(rows, ["a", "b"], "block")
    assert S[0, 0] == 1.0 and S[0, CFS.index(2)] == 1.5 and S[0, CFS.index(4)] == 0.0
    assert np.isnan(S[0, CFS.index(8)]) and S[1, CFS.index(32)] == 2.0
    assert cm.speedup_matrix(rows, ["a", "b"], "stride")[0, CFS.index(2)] == 0.9


def test_every_method_picks_an_offered_cf_for_every_kernel_without_seeing_it():
    rng = np.random.default_rng(0)
    S = np.exp(rng.normal(0, 0.3, (6, len(CFS))))
    S[:, 0] = 1.0
    S[2, 4:] = np.nan  # kernel 2 offers CF 1-8 only
    X = {"pre-trained": rng.normal(size=(6, 8)), "random-init": rng.normal(size=(6, 8))}
    picks = cm.predictions(S, X, seeds=1, epochs=20)
    assert set(picks) == {"best-mean CF (no embedding)", "3-NN, pre-trained", "MLP, pre-trained, seed 0"} | {
        "3-NN, random-init",
        "MLP, random-init, seed 0",
    }
    for cf in picks.values():
        assert len(cf) == 6 and set(cf) <= set(CFS) and cf[2] <= 8
