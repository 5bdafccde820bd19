"""Device-mapping experiment: the shipped baselines reproduce their published figures on our
folds, and the script runs end to end on a small slice and writes a well-formed table."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import devmap, devmap_data, heads
from experiments import embeddings as embcache

pytestmark = pytest.mark.skipif(
    not (embcache.data_dir() / "devmap").is_dir(), reason="../shared/data/devmap not present"
)


def test_stratified_kfold_is_stratified_and_seeded():
    y = np.array([0] * 40 + [1] * 23)
    folds = heads.stratified_kfold(y, 10, 204)
    assert np.array_equal(folds, heads.stratified_kfold(y, 10, 204))
    for f in range(10):
        assert 3 <= (y[folds == f] == 0).sum() <= 4 and 2 <= (y[folds == f] == 1).sum() <= 3


@pytest.mark.parametrize("platform", sorted(devmap_data.PLATFORMS))
def test_baselines_match_published_figures(platform):
    df = devmap_data.read_table("680", platform)
    preds = devmap_data.baseline_predictions(df, platform)  # raises if the fold-order join fails
    assert set(preds) == set(devmap_data.PUBLISHED)
    for name, pred in preds.items():
        acc, sp = devmap_data.PUBLISHED[name][platform]
        assert round(100 * float((pred == df["y"]).mean()), 1) == pytest.approx(acc, abs=0.051)
        assert float(devmap_data.speedups(df, platform, pred).mean()) == pytest.approx(sp, abs=0.0051)


@pytest.mark.skipif(shutil.which("clang-22") is None, reason="clang-22 not installed")
def test_smoke_run_writes_tables(tmp_path: Path):
    assert devmap.main(["--smoke", "--out", str(tmp_path)]) == 0
    md = (tmp_path / "devmap_smoke.md").read_text()
    assert "| method | amd accuracy % | amd speedup | nvidia accuracy % | nvidia speedup |" in md
    for row in ("ours: pretrained encoder, fused", "Static mapping", "IR2Vec (cited)", "Oracle (ceiling)"):
        assert f"| {row} |" in md
    assert "Command: `python -m experiments.devmap --smoke`" in md and "sha256" in md
    csv = pd.read_csv(tmp_path / "devmap_smoke.csv")
    assert set(csv["platform"]) == set(devmap_data.PLATFORMS.values())
    pred = csv["pred:pretrained/fused/seed0"]
    assert pred.isin(["CPU", "GPU"]).all() and (csv["pred:oracle"] == csv["oracle"]).all()
    assert set(csv["fold"]) <= {0, 1}
