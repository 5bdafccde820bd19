"""experiments/search_full.py and its report: reading the studies back, the fractions of the best known, a
folder per CPU, and the held-out surrogate's ranking of what the searches measured (nothing timed)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from autotune.search import ReplayMeasurer, tune
from experiments import search_full as sf
from experiments import search_full_report as sfr
from tests.conftest import DATA, KERNELS

REPLAY = DATA / "replay" / "jacobi1d_small.csv"


def test_trajectories_read_every_study_back_in_order(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOTUNE_CACHE", str(tmp_path / "cache"))
    storage = _replay_journal(tmp_path)
    traj = sfr.trajectories(storage)
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
    runs, table = sfr.summarise(traj, budgets=(2, 3))
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
    picks = sfr.predict_frame(folder)
    traj = pd.DataFrame({"kernel": ["k", "k"], "speedup": [1.0, 2.0]})
    best = sfr.best_known(traj, picks)
    assert best["k"] == 2.5  # a pick faster than every search run sets the bar
    zs = sfr.zero_shot(picks, best).iloc[0]
    assert np.isclose(zs["top1"], 0.8 / 2.5) and np.isclose(zs[f"top{sfr.PREDICT_TOP}"], 1.0)
    assert np.isclose(zs["advised"], 0.8 / 2.5)  # its lower bound was above 1x: a user would take it
    unsure = sfr.zero_shot(picks.assign(low=[0.9, 1.0]), best).iloc[0]
    assert np.isclose(unsure["advised"], 1.0 / 2.5)  # not confident: keep the program as given
    assert sfr.predict_frame(tmp_path / "none").empty
    slower = pd.DataFrame({"kernel": ["s"], "speedup": [0.9]})
    assert sfr.best_known(slower, picks.assign(kernel="s", speedup=[0.5, 0.8]))["s"] == 1.0  # the program as given


def test_the_report_says_what_the_pinned_surrogate_was_trained_on(tmp_path):
    from autotune.surrogate.boosted import Boosted
    from autotune.surrogate.scorer import Surrogate

    path = tmp_path / "heldout.pt"
    assert sfr.surrogate_line(path) == "not trained yet"
    X = np.random.default_rng(0).normal(size=(20, 3))
    prior = Boosted(3, members=1, tail=3).fit(X, X[:, 0])
    Surrogate(prior, prior, {"records": 1234, "db_sha256": "abc", "held_out": ["gemm", "lu"]}).save(path)
    assert sfr.surrogate_line(path) == "1234 records, data sha256 abc, held out: gemm, lu"


def test_the_benchmarks_state_is_committed_and_its_outputs_are_not():
    """The benchmark spans sessions: its journal, picks and surrogate must survive a fresh checkout."""
    import subprocess

    def ignored(path):
        rel = path.relative_to(sf.ROOT)
        return subprocess.run(["git", "check-ignore", "-q", str(rel)], cwd=sf.ROOT).returncode == 0

    cpu = sf.WORK / "amd-epyc-family-26-model-2-stepping-1"
    assert not ignored(cpu / "studies.log")
    assert not ignored(cpu / "cpu.txt")
    assert not ignored(sf.HELDOUT)
    assert not ignored(cpu / "predict" / "gemm@SMALL.csv")
    assert ignored(sf.OUTPUTS / "gemm@SMALL_tpe_seed0" / "best.c")


def _replay_journal(tmp_path) -> str:
    """Two replayed runs of jacobi-1d (tpe, random) in one journal, as a benchmark folder holds them."""
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
    return storage


def test_every_configuration_the_runs_measured_once_with_what_the_surrogate_reads(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOTUNE_CACHE", str(tmp_path / "cache"))
    storage = _replay_journal(tmp_path)
    (g,) = sfr.measured_configs(storage).values()
    traj = sfr.trajectories(storage)
    ok = traj[traj["speedup"] > 0]
    assert len(g) == len({tuple(sorted(p.items())) for p in g["params"]}) <= len(ok)  # distinct configurations
    assert set(np.round(g["speedup"], 9)) == set(np.round(ok["speedup"], 9))
    assert (g["baseline_s"] > 0).all() and (g["cores"] > 0).all()


def test_the_report_has_a_section_per_cpu_with_the_surrogates_ranking(tmp_path, monkeypatch):
    from autotune.kernel import Kernel
    from autotune.surrogate.scorer import WEIGHTS, Surrogate

    monkeypatch.setenv("AUTOTUNE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(sf, "WORK", tmp_path / "runs")
    a, b = sf.cpu_folder("Zen 5 (family 26)"), sf.cpu_folder("Zen 3 (family 25)")
    assert a.name == "zen-5-family-26" and sfr.cpu_of(a) == "Zen 5 (family 26)"
    _replay_journal(a)
    (b / "predict").mkdir()
    row = {"rank": 1, "key": "x", "predicted": 1.2, "low": 0.9, "status": "ok", "speedup": 1.5}
    pd.DataFrame([row]).to_csv(b / "predict" / "jacobi-1d@SMALL.csv", index=False)
    out = tmp_path / "results"
    out.mkdir()

    def load(name):
        assert name == "jacobi-1d@SMALL"
        return Kernel.load(KERNELS / "jacobi-1d.c", defines=["SMALL_DATASET"])

    sfr.report(out, "cmd", sf.WORK, WEIGHTS, load, "SMALL")
    md = (out / "search_full.md").read_text()
    assert md.count("\n## ") == 2 and "## Zen 3 (family 25)" in md and "## Zen 5 (family 26)" in md
    zen3 = md.split("## Zen 3 (family 25)")[1].split("## Zen 5")[0]
    assert "Zero-shot" in zen3 and "runs." not in zen3  # picks only: no search table, no ranking
    zen5 = md.split("## Zen 5 (family 26)")[1]
    assert "How the held-out surrogate ranks" in zen5 and "Zero-shot" not in zen5
    assert "Few-shot" in zen5
    measured = sfr.surrogate_inputs(str(a / "studies.log"), load)
    rk = sfr.ranking(measured, Surrogate.load(WEIGHTS)).iloc[0]
    g = next(iter(sfr.measured_configs(str(a / "studies.log")).values()))
    assert rk["configurations"] == len(g) and -1 <= rk["spearman full"] <= 1 and -1 <= rk["spearman knobs"] <= 1
    shares = set(np.round(g["speedup"] / max(g["speedup"].max(), 1.0), 9))
    assert round(rk["pick full"], 9) in shares and round(rk["pick knobs"], 9) in shares
    csv = pd.read_csv(out / "search_full.csv")
    assert set(csv["cpu"]) == {"Zen 5 (family 26)"} and len(csv) == 24


def test_few_shot_ranks_the_rest_after_k_measurements_and_the_gp_alone_reads_no_prior(tmp_path, monkeypatch):
    from autotune.kernel import Kernel
    from autotune.surrogate.boosted import Boosted
    from autotune.surrogate.scorer import WEIGHTS, Surrogate

    monkeypatch.setenv("AUTOTUNE_CACHE", str(tmp_path / "cache"))
    storage = _replay_journal(tmp_path)
    measured = sfr.surrogate_inputs(storage, lambda n: Kernel.load(KERNELS / "jacobi-1d.c", defines=["SMALL_DATASET"]))
    (m,) = measured.values()
    sur = Surrogate.load(WEIGHTS)
    fs = sfr.few_shot(measured, sur, ks=(5,), draws=1).set_index("prior")
    assert list(fs["measured"]) == [5, 5, 5] and set(fs.index) == {"full", "knobs", "none"}
    assert fs["spearman on the rest"].between(-1, 1).all()
    shares = set(np.round(m.y / max(m.y.max(), 1.0), 9))
    assert {round(v, 9) for v in fs["next pick"]} <= shares  # one draw: the next pick is a measured configuration
    # the GP alone transfers nothing: another full prior changes `full`, never `none`
    rng = np.random.default_rng(0)
    noise = Boosted(m.X.shape[1], members=1, tail=m.knobs.shape[1]).fit(
        rng.normal(size=(50, m.X.shape[1])), rng.normal(size=50)
    )
    other = sfr.few_shot(measured, Surrogate(noise, sur.knobs), ks=(5,), draws=1).set_index("prior")
    assert other.loc["none"].equals(fs.loc["none"]) and other.loc["knobs"].equals(fs.loc["knobs"])
    assert not other.loc["full"].equals(fs.loc["full"])
