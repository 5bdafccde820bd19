"""experiments/search_full.py: reading the studies back and the fractions of the best known (nothing timed)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from autotune.search import ReplayMeasurer, tune
from experiments import search_full as sf
from tests.conftest import DATA, KERNELS

REPLAY = DATA / "replay" / "jacobi1d_small.csv"


def test_trajectories_read_every_study_back_in_order(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOTUNE_CACHE", str(tmp_path / "cache"))
    storage = str(tmp_path / "studies.log")
    for strategy, seed in (("tpe", 0), ("random", 1)):
        m = ReplayMeasurer(REPLAY)
        tune(
            KERNELS / "jacobi-1d.c",
            defines=["SMALL_DATASET"],
            budget=12,
            strategy=strategy,
            seed=seed,
            storage=storage,
            study=f"jacobi-1d@SMALL/{strategy}/seed{seed}",
            out=tmp_path / f"out{seed}",
            space=m.space,
            measurer=m,
        )
    traj = sf.trajectories(storage)
    assert sorted(set(zip(traj["strategy"], traj["seed"], strict=True))) == [("random", 1), ("tpe", 0)]
    for _, g in traj.groupby("strategy"):
        assert list(g["evaluation"]) == list(range(1, 13))
        assert g["speedup"].iloc[0] > 0  # the baseline first
    recorded = pd.read_csv(REPLAY)["speedup"].fillna(0)
    assert traj["speedup"].max() <= recorded.max() + 1e-9


def test_fractions_of_the_best_known_and_evaluations_to_five_percent():
    traj = pd.DataFrame(
        {
            "kernel": ["k"] * 6,
            "strategy": ["a"] * 3 + ["b"] * 3,
            "seed": [0] * 6,
            "evaluation": [1, 2, 3] * 2,
            "speedup": [1.0, 1.5, 2.0, 1.0, 1.96, 0.0],
        }
    )
    runs, table = sf.summarise(traj, budgets=(2, 3))
    a = runs[runs["strategy"] == "a"].iloc[0]
    b = runs[runs["strategy"] == "b"].iloc[0]
    assert np.isclose(a["frac@2"], 0.75) and np.isclose(a["frac@3"], 1.0) and a["evals_to_5pct"] == 3
    assert np.isclose(b["frac@2"], 0.98) and b["evals_to_5pct"] == 2
    assert list(table["strategy"]) == ["a", "b"]


def test_zero_shot_shares_count_predict_picks_in_the_best_known(tmp_path):
    folder = tmp_path / "predict"
    folder.mkdir()
    pd.DataFrame(
        {
            "rank": [1, 2],
            "key": ["a", "b"],
            "predicted": [1.5, 1.2],
            "low": [1.1, 1.0],
            "status": ["ok"] * 2,
            "speedup": [0.8, 2.5],
        }
    ).to_csv(folder / "k@SMALL.csv", index=False)
    picks = sf.predict_frame(folder)
    traj = pd.DataFrame({"kernel": ["k", "k"], "speedup": [1.0, 2.0]})
    best = sf.best_known(traj, picks)
    assert best["k"] == 2.5  # a pick faster than every search run sets the bar
    zs = sf.zero_shot(picks, best).iloc[0]
    assert np.isclose(zs["top1"], 0.8 / 2.5) and np.isclose(zs[f"top{sf.PREDICT_TOP}"], 1.0)
    assert np.isclose(zs["advised"], 0.8 / 2.5)  # its lower bound was above 1x: a user would take it
    unsure = sf.zero_shot(picks.assign(low=[0.9, 1.0]), best).iloc[0]
    assert np.isclose(unsure["advised"], 1.0 / 2.5)  # not confident: keep the program as given
    assert sf.predict_frame(tmp_path / "none").empty
    slower = pd.DataFrame({"kernel": ["s"], "speedup": [0.9]})
    assert sf.best_known(slower, picks.assign(kernel="s", speedup=[0.5, 0.8]))["s"] == 1.0  # the program as given


def test_the_report_says_what_the_pinned_surrogate_was_trained_on(tmp_path):
    from autotune.surrogate.boosted import Boosted
    from autotune.surrogate.scorer import Surrogate

    path = tmp_path / "heldout.pt"
    assert sf.surrogate_line(path) == "not trained yet"
    X = np.random.default_rng(0).normal(size=(20, 3))
    prior = Boosted(3, members=1, tail=3).fit(X, X[:, 0])
    Surrogate(prior, prior, {"records": 1234, "db_sha256": "abc", "held_out": ["gemm", "lu"]}).save(path)
    assert sf.surrogate_line(path) == "1234 records, data sha256 abc, held out: gemm, lu"


def test_the_benchmarks_state_is_committed_and_its_outputs_are_not():
    """The benchmark spans sessions: its journal, picks and surrogate must survive a fresh checkout."""
    import subprocess

    def ignored(path):
        rel = path.relative_to(sf.ROOT)
        return subprocess.run(["git", "check-ignore", "-q", str(rel)], cwd=sf.ROOT).returncode == 0

    assert not ignored(sf.WORK / "studies.log")
    assert not ignored(sf.HELDOUT)
    assert not ignored(sf.WORK / "predict" / "gemm@SMALL.csv")
    assert ignored(sf.OUTPUTS / "gemm@SMALL_tpe_seed0" / "best.c")
