"""experiments/pooled_cpu.py: which CPU's records each variant trains on, and that only the target's are scored."""

from __future__ import annotations

import numpy as np
import pandas as pd

from autotune.surrogate.data import Featurizer
from autotune.surrogate.train import DEFAULT_TRAINING
from experiments import pooled_cpu, transfer
from experiments.cpu_split import cpu_rows, on_cpu
from tests.conftest import needs_clang


def frame() -> pd.DataFrame:
    """Two workloads: `w1` measured on CPUs A and B, `w2` on B alone; one anchor each."""
    rows = [("w1", "A", False)] * 3 + [("w1", "B", False)] * 4 + [("w2", "B", False)] * 2
    rows += [("w1", "A", True), ("w2", "B", True)]
    return pd.DataFrame(rows, columns=["kernel", "cpu_model", "anchor"]).assign(size="SMALL")


def test_only_the_target_cpus_records_and_the_anchors_of_its_workloads_are_scored():
    df = frame()
    mine = on_cpu(df, "A")
    assert list(np.flatnonzero(mine)) == [0, 1, 2, 9]  # w2 has no record of A: not even its anchor
    assert on_cpu(df, None).all()
    assert list(np.flatnonzero(on_cpu(df, "B"))) == [3, 4, 5, 6, 7, 8, 9, 10]  # anchors: no CPU's own


def test_each_variant_trains_on_its_cpus_records_within_the_fold():
    df = frame()
    mine = on_cpu(df, "A")
    train = np.array([1, 2, 3, 4, 5, 7, 9, 10])  # a fold's training rows
    assert list(cpu_rows(df, train, mine, "all", 0)) == list(train)
    assert list(cpu_rows(df, train, mine, "target", 0)) == [1, 2, 9]
    assert list(cpu_rows(df, train, mine, "other", 0)) == [3, 4, 5, 7, 9, 10]
    for seed in range(5):
        cut = cpu_rows(df, train, mine, "equal", seed)
        assert set(cut) <= set(train) and {9, 10} <= set(cut)  # every anchor, nothing outside the fold
        assert (~df["anchor"].to_numpy()[cut]).sum() == 2  # as many records as the target CPU's
    cuts = {tuple(cpu_rows(df, train, mine, "equal", seed)) for seed in range(10)}
    assert len(cuts) > 1  # the cut is drawn at random, per seed


@needs_clang
def test_pooled_experiment_scores_the_target_cpu_and_trains_each_variant_apart():
    kernels = {"gemm", "atax", "jacobi-1d", "map-001", "map-000", "csr-000"}
    df = transfer.load(DEFAULT_TRAINING, kernels, cpu_model=transfer.ALL_CPUS)
    cpus = df.loc[~df["anchor"], "cpu_model"].value_counts()
    assert len(cpus) == 2, cpus  # the committed data holds two CPUs' records of these kernels
    target = min(cpus.index, key=lambda c: cpus[c])
    Xk = Featurizer(None).database(df)
    res, _ = transfer.run(df, {"pretrained-region": Xk}, 1, 0, 1, 2, variants=pooled_cpu.VARIANTS, target=target)
    assert set(res["variant"]) == {v.name for v in pooled_cpu.VARIANTS}
    measured = df[~df["anchor"] & (df["cpu_model"] == target) & ~df["slowed"]]
    want = measured.groupby(["kernel", "size"]).size() + 1  # the anchor is scored with them
    got = res[res["variant"] == pooled_cpu.VARIANTS[0].name].set_index(["kernel", "size"])["rows"]
    pd.testing.assert_series_equal(got.sort_index(), want.sort_index(), check_names=False)
    by_variant = res.groupby("variant")["spearman"].apply(lambda s: tuple(s.round(6)))
    assert by_variant.nunique() > 1  # different training rows give different predictions
    held = pooled_cpu.counts(df)
    assert set(held["cpu_model"]) == set(cpus.index) and held["records"].sum() == cpus.sum()
