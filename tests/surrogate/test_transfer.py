"""What the transfer evaluation rests on: folds that never leak, the region cut, the ranking loss, the anchors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from autotune.kernel import Kernel
from autotune.surrogate.data import with_anchors
from autotune.surrogate.groups import folds, identity, leaks, with_groups
from autotune.surrogate.model import Ensemble
from autotune.surrogate.region import region_functions, region_ir
from autotune.surrogate.train import DEFAULT_TRAINING, training_set
from experiments.report import spearman
from tests.conftest import DATA, KERNELS, needs_clang

# --- folds: no held-out program, and by template no sibling, in training ---------------------------


@pytest.fixture(scope="module")
def committed() -> pd.DataFrame:
    """The committed training records (suite and generated), with their groups."""
    return with_groups(training_set(DEFAULT_TRAINING))


@pytest.mark.parametrize("by", ["kernel", "template"])
def test_no_held_out_kernel_or_template_reaches_training_on_the_committed_data(committed, by):
    df = committed
    assert {"suite", "generated"} <= set(df["kernel_set"])
    n = 0
    for fold in folds(df, by, k=7 if by == "kernel" else None):
        train, test = df.iloc[fold.train], df.iloc[fold.test]
        assert len(test) and len(train)
        assert not set(train["kernel"]) & set(test["kernel"])
        assert not set(train["source_hash"]) & set(test["source_hash"])
        if by == "template":
            assert not set(train["template"]) & set(test["template"])
        assert leaks(df, fold, by) == []
        n += 1
    assert n == (7 if by == "kernel" else df["template"].nunique())


def test_a_renamed_copy_of_a_held_out_program_leaves_training_and_a_bad_split_is_caught():
    df = pd.DataFrame(
        {
            "kernel": ["a", "a", "a_copy", "b", "c"],
            "template": ["t1", "t1", "t1", "t1", "t2"],
            "source_hash": ["h1", "h1", "h1", "h2", "h3"],
        }
    )
    (fold,) = folds(df, "kernel", only=["a"])
    assert list(fold.test) == [0, 1] and list(fold.train) == [3, 4]  # the copy is neither tested nor trained on
    (fold,) = folds(df, "template", only=["t1"])
    assert list(fold.train) == [4]  # b is a's template sibling: out of training too
    bad = type(fold)("t1", np.array([2, 3, 4]), np.array([0, 1]))
    assert leaks(df, bad, "template") == ["source_hash: h1", "template: t1"]
    assert leaks(df, bad, "kernel") == ["source_hash: h1"]


def test_identity_tells_generated_kernels_by_template_and_suite_kernels_by_name():
    gen = identity("stencil2d-003")
    assert (gen.kernel_set, gen.template) == ("generated", "stencil2d")
    suite = identity("gemm")
    assert (suite.kernel_set, suite.template) == ("suite", "gemm")
    assert gen.source_hash != suite.source_hash and len(gen.source_hash) == 64


# --- the tuned region --------------------------------------------------------------------------


@needs_clang
def test_region_is_the_outlined_parallel_code_and_parses():
    from autotune.build.ir import variant_ir
    from autotune.space.discover import build_space
    from autotune.variant import make_variant
    from encoder import ir as irmod

    k = Kernel.load(KERNELS / "jacobi-1d.c", defines=["MINI_DATASET"])
    space = build_space(k)
    module = irmod.normalize(variant_ir(k, make_variant(k, space, space.default())))
    names = region_functions(module)
    assert names and all("omp_outlined" in n for n in names)
    region = region_ir(module)
    assert region != module and len(region) < len(module)
    assert "define dso_local" not in region and "@main(" not in region  # main is neither kept nor called
    assert all(f"@{n}(" in region for n in names)
    assert irmod.normalize(region) == region  # a module of its own, normalised


@needs_clang
def test_a_program_without_a_parallel_region_keeps_its_own_functions():
    from autotune.build.ir import variant_ir
    from autotune.space.discover import build_space
    from autotune.variant import make_variant
    from encoder import ir as irmod

    k = Kernel.load(DATA / "timer_param.c")
    space = build_space(k)
    module = irmod.normalize(variant_ir(k, make_variant(k, space, space.default())))
    names = region_functions(module)
    assert names and not any(n.startswith("autotune_") or "omp_outlined" in n for n in names)
    assert "@main(" in region_ir(module)


# --- the ranking loss ----------------------------------------------------------------------------


def test_ranking_loss_learns_the_order_within_groups_whose_levels_are_unpredictable():
    """Each group's level is noise the features cannot explain; the order inside it follows x."""
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(40), 6)
    x = rng.normal(size=(len(groups), 3)).astype(np.float32)
    level = rng.normal(0, 3.0, 40)[groups]
    y = level + 0.3 * x[:, 0]
    test = groups >= 30

    def within(rank: float) -> float:
        ens = Ensemble(3, members=2, hidden=32, seed=0)
        ens.fit(x[~test], y[~test], epochs=60, groups=groups[~test], rank=rank)
        pred, _ = ens.predict(x[test])
        return float(np.mean([spearman(pred[groups[test] == g], y[test][groups[test] == g]) for g in range(30, 40)]))

    assert within(rank=5.0) > 0.8
    assert within(rank=5.0) > within(rank=0.0)


def test_row_weights_decide_between_contradicting_records():
    x = np.zeros((40, 2), np.float32)
    y = np.r_[np.full(20, 1.0), np.full(20, -1.0)]
    w = np.r_[np.ones(20), np.full(20, 0.01)]
    pred, _ = Ensemble(2, members=1, hidden=8, seed=0).fit(x, y, epochs=80, w=w).predict(x[:1])
    assert pred[0] > 0.5


# --- anchors ---------------------------------------------------------------------------------------


@needs_clang
def test_every_workload_gets_its_default_at_speedup_one(committed):
    from autotune.space.discover import build_space
    from autotune.trials.workloads import Workload

    some = committed[committed["kernel"].isin(["gemm", "map-003"])].reset_index(drop=True)
    out = with_anchors(some)
    anchors = out[out["anchor"]]
    assert len(out) == len(some) + len(anchors)
    assert set(zip(anchors["kernel"], anchors["size"], strict=True)) == set(
        zip(some["kernel"], some["size"], strict=True)
    )
    assert (anchors["log_speedup"] == 0).all() and (anchors["speedup"] == 1).all()
    for _, a in anchors.iterrows():
        assert a["config"] == build_space(Workload.named(a["kernel"], a["size"]).load()).default()
