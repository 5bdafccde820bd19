"""The search-efficiency experiment end to end in its smoke mode: replay only, nothing timed.

Why a test for an experiment script: the real run is long (recording is hours
of real timing), so a broken replay or report stage must show up here, on the
recorded jacobi-1d cache, before anyone spends that time. The assertions are
about the table's shape and internal consistency, never about which strategy
wins or how fast anything ran.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from autotune.measure import Options
from autotune.search import ReplayMeasurer
from autotune.surrogate.train import DEFAULT_TRAINING
from autotune.trials.collect import DEFAULT_CSV
from autotune.trials.recorder import RecordingMismatch
from autotune.trials.records import restrict
from autotune.trials.replay import record_space
from experiments import search_efficiency as se
from experiments import search_efficiency_runs as se_runs

needs_db = pytest.mark.skipif(not DEFAULT_CSV.exists(), reason="no measurement database to train the prior on")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("search_efficiency")
    with pytest.MonkeyPatch.context() as mp:
        # its own IR cache: nothing written to, or read from, the checkout's .autotune/
        mp.setenv("AUTOTUNE_CACHE", str(out / "cache"))
        # a few epochs and a slice of each committed training file keep the held-out prior's training short
        # (every row is built and embedded cold here); the recipe is the same
        parts = []
        for src in DEFAULT_TRAINING.split(","):
            part = out / Path(src).name
            with open(src) as f:
                part.write_text("".join(line for i, line in enumerate(f) if i <= 40))
            parts.append(str(part))
        argv = ["--smoke", "--work", str(out / "work"), "--out", str(out), "--epochs", "10", "--db", ",".join(parts)]
        assert se.main(argv) == 0
    return out


@needs_db
def test_smoke_writes_a_well_formed_table(smoke: Path):
    md = (smoke / "search_efficiency.md").read_text()
    for part in ("Command: `python -m experiments.search_efficiency --smoke", "sha256", "search seeds 0"):
        assert part in md
    assert "## Where guided does not win" in md
    tables = [ln for ln in md.splitlines() if ln.startswith("|")]
    assert tables and all(ln.endswith("|") for ln in tables)
    header = next(ln for ln in tables if ln.startswith("| kernel | budget |"))
    assert [c.strip() for c in header.strip("|").split("|")] == [
        "kernel",
        "budget",
        "random",
        "tpe",
        "guided",
        "guided-knobs",
        "guided-flat",
        "exhaustive",
    ]
    assert "Where guided's edge comes from" in md
    assert "| jacobi-1d | 10 |" in md
    assert "nan" not in md.lower()


@needs_db
def test_smoke_csv_is_consistent_with_the_recording(smoke: Path):
    runs = pd.read_csv(smoke / "search_efficiency.csv")
    assert set(runs["strategy"]) == {"random", "tpe", "guided", "guided-knobs", "guided-flat", "exhaustive"}
    assert (runs["kernel"] == "jacobi-1d").all() and (runs["seed"] == 0).all() and len(runs) == 6
    land = se_runs.landscape(se_runs.smoke_case())
    best = land["value"].max()
    assert runs["best_known"].iloc[0] == pytest.approx(best)
    for _, r in runs.iterrows():
        assert 0 < r["frac@10"] <= 1 + 1e-9
        assert r["best@10"] == pytest.approx(r["frac@10"] * best)
        assert r["best@10"] in set(land["value"])  # a measured value, not an estimate
        e = r["evals_to_5pct"]
        assert math.isnan(e) or 1 <= e <= 10
        assert (r["frac@10"] >= se_runs.NEAR) == (not math.isnan(e))
    k = runs.iloc[0]
    assert 0 < k["predict_top1"] <= k["predict_top5"] <= 1 + 1e-9
    assert -1 <= k["prior_spearman"] <= 1
    assert k["guided_propose_s_mean"] > 0 and k["guided_score_s_mean"] > 0


def test_trajectory_reads_nested_budgets_off_one_run():
    land = pd.DataFrame({"value": [1.0, 0.0, 1.5, 2.0, 1.9]}, index=list("abcde"))
    t = se_runs.trajectory(list("abcde"), land, [2, 4], best=2.0)
    assert t == {"best@2": 1.0, "frac@2": 0.5, "best@4": 2.0, "frac@4": 1.0, "evals_to_5pct": 4.0}
    assert math.isnan(se_runs.trajectory(list("ab"), land, [2], best=2.0)["evals_to_5pct"])


def test_test_kernels_are_sub_spaces_of_the_intended_size():
    for name in se_runs.TEST_KERNELS:
        c = se_runs.case(name, Path("/nonexistent"))
        assert 80 <= c.space.size() <= 150, name
        assert c.space.default() in list(c.space.enumerate())  # the baseline is part of the recording


class StopAfter:
    """The recorded jacobi-1d cache as the recording's measurer, interrupted (as Ctrl-C would) after n."""

    def __init__(self, n: int | None) -> None:
        self.replay = ReplayMeasurer(se_runs.SMOKE_REPLAY)
        self.n, self.calls = n, 0

    def measure(self, config):
        if self.n is not None and self.calls >= self.n:
            raise KeyboardInterrupt
        self.calls += 1
        return self.replay.measure(config)


def test_an_interrupted_recording_resumes_without_measuring_twice(tmp_path):
    c = se_runs.smoke_case()
    out = tmp_path / "rec.csv"

    def rec(measurer, space=c.space):
        return record_space(c.kernel, space, out, {"kernel": "x"}, Options(), lambda s: None, measurer)

    with pytest.raises(KeyboardInterrupt):
        rec(StopAfter(25))
    assert len(pd.read_csv(out)) == 25 and not json.loads(out.with_suffix(".json").read_text())["complete"]
    with out.open("a") as f:
        f.write('"{""L2.chunk"":""auto""')  # half a row, as a kill during the write leaves
    rest = StopAfter(None)
    rec(rest)
    assert rest.calls == 35
    done = pd.read_csv(out)
    assert len(done) == 60 == done["key"].nunique() and json.loads(out.with_suffix(".json").read_text())["complete"]
    original = ReplayMeasurer(se_runs.SMOKE_REPLAY).rows
    for key, row in ReplayMeasurer(out).rows.items():
        assert row["speedup"] == original[key]["speedup"]
    with pytest.raises(RecordingMismatch, match="another sub-space"):
        rec(StopAfter(None), restrict(c.space, {"threads": (1, 2), "L2.schedule": ("static",), "L2.chunk": ()}))


@needs_db
def test_a_pinned_heldout_surrogate_outlives_the_database_growing(tmp_path, monkeypatch):
    from types import SimpleNamespace

    import numpy as np

    from autotune.surrogate.boosted import Boosted
    from autotune.surrogate.data import Featurizer
    from autotune.surrogate.scorer import Surrogate

    fits = []

    def fit(df, featurizer, seed, epochs):  # the recipe itself is train.py's; here only when it runs
        fits.append(len(df))
        X = np.random.default_rng(len(fits)).normal(size=(20, 3))
        prior = Boosted(3, members=1, tail=3).fit(X, X[:, 0])
        return Surrogate(prior, prior, {"records": len(df)})

    monkeypatch.setattr(se_runs, "fit_surrogate", fit)
    db = tmp_path / "db.csv"
    rows = pd.read_csv(DEFAULT_CSV)
    rows[rows["kernel"].isin(["gemm", "atax", "bicg"])].to_csv(db, index=False)
    fz = Featurizer(SimpleNamespace(modality="text"))
    out = tmp_path / "heldout.pt"
    first = se_runs.train_heldout(str(db), ["gemm"], out, fz, seed=0, epochs=1, pin=True)
    assert len(fits) == 1 and first.meta["held_out"] == ["gemm"]
    se_runs.train_heldout(str(db), ["gemm"], out, fz, seed=0, epochs=1, pin=True)
    assert len(fits) == 1  # same data: reused
    rows[rows["kernel"].isin(["gemm", "atax", "bicg", "mvt"])].to_csv(db, index=False)  # the collection went on
    again = se_runs.train_heldout(str(db), ["gemm"], out, fz, seed=0, epochs=1, pin=True)
    assert len(fits) == 1 and again.meta["db_sha256"] == first.meta["db_sha256"]  # pinned: the first surrogate
    se_runs.train_heldout(str(db), ["gemm"], out, fz, seed=0, epochs=1)
    assert len(fits) == 2 and fits[1] > fits[0]  # unpinned: retrained on the grown data
    se_runs.train_heldout(str(db), ["gemm", "atax"], out, fz, seed=0, epochs=1, pin=True)
    assert len(fits) == 3  # another held-out set is another surrogate, pinned or not
    pinned = se_runs.train_heldout(str(db), ["atax"], out, fz, seed=0, epochs=1, pin=True)
    assert len(fits) == 3 and pinned.meta["held_out"] == ["atax", "gemm"]  # held out more: it never saw atax either
    se_runs.train_heldout(str(db), ["atax"], out, fz, seed=0, epochs=1)
    assert len(fits) == 4  # unpinned: trained without atax alone


def test_record_skips_a_complete_recording_and_stops_between_cases_after_hours(tmp_path: Path, capsys) -> None:
    """`record` (both benchmarks' stage 1): a finished recording is not touched, not even its baseline
    built, and a spent `--hours` stops before the next case. A fake engine would hide the first: the
    real one is left in place, so a skip that does not happen would time jacobi-1d and fail on the CPU
    check or take minutes."""
    import shutil

    c = se_runs.smoke_case()
    done = tmp_path / "done.csv"
    shutil.copy(c.csv, done)
    shutil.copy(c.csv.with_suffix(".json"), done.with_suffix(".json"))
    finished = se_runs.Case(c.name, c.kernel, c.space, done)
    before = done.read_bytes(), done.with_suffix(".json").read_bytes()
    se_runs.record([finished], Options(seed=0), 1.0, "cmd", "about")
    assert (done.read_bytes(), done.with_suffix(".json").read_bytes()) == before
    assert "configurations" not in capsys.readouterr().out  # skipped before the "== name" line

    fresh = se_runs.Case(c.name, c.kernel, c.space, tmp_path / "fresh.csv")
    se_runs.record([fresh], Options(seed=0), 1.0, "cmd", "about", hours=-1.0)
    assert "--hours -1 spent" in capsys.readouterr().out
    assert not fresh.csv.exists() and not fresh.csv.with_suffix(".json").exists()
