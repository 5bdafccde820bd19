"""experiments/transfer.py end to end on a few committed kernels, knob features standing in for embeddings."""

from __future__ import annotations

import numpy as np
import pandas as pd

from autotune.surrogate.data import Featurizer
from autotune.surrogate.train import DEFAULT_TRAINING
from experiments import transfer
from experiments.ceiling import noise_ceiling
from tests.conftest import needs_clang

KERNELS = {"gemm", "atax", "jacobi-1d", "map-000", "map-001", "csr-000", "csr-001", "stencil1d-000"}


@needs_clang
def test_transfer_evaluates_every_variant_on_clean_folds():
    df = transfer.load(DEFAULT_TRAINING, KERNELS)
    assert df["anchor"].sum() == df.groupby(["kernel", "size"]).ngroups  # one default per workload
    Xk = Featurizer(None).database(df)
    X = {key: Xk for key in ("pretrained-region", "pretrained-module", "random-region")}
    res, pooled = transfer.run(df, X, seeds=1, epochs=2, members=1, suite_folds=2)
    forked, _ = transfer.run(df, X, seeds=1, epochs=2, members=1, suite_folds=2, jobs=2)
    pd.testing.assert_frame_equal(forked, res)  # processes change the speed, not the numbers
    assert set(res["variant"]) == {v.name for v in transfer.VARIANTS}
    assert set(res["evaluation"]) == {"template", "kernel"}
    assert set(res.loc[res["evaluation"] == "template", "template"]) == {"map", "csr", "stencil1d"}
    assert set(res.loc[res["evaluation"] == "kernel", "kernel"]) == {"gemm", "atax", "jacobi-1d"}
    ok = res["spearman"].dropna()
    assert len(ok) and ok.between(-1, 1).all() and res["pick"].dropna().between(0, 1).all()
    table = transfer.summary(res, pooled)
    assert list(table["variant"]) == [v.name for v in transfer.VARIANTS]
    assert np.isfinite(table["template cover2"]).all()
    trees = [v for v in transfer.VARIANTS if v.model == "boosted"]  # --models boosted
    only, only_pooled = transfer.run(df, X, seeds=1, epochs=2, members=1, suite_folds=2, variants=trees)
    assert list(transfer.summary(only, only_pooled)["variant"]) == [v.name for v in trees]
    (line,) = transfer.database_lines(df, DEFAULT_TRAINING)
    assert f"{int((~df['anchor']).sum())} verified records of {len(KERNELS)} kernels" in line


def test_feature_keys_name_the_weights_the_ir_and_the_modality():
    from autotune.surrogate.scorer import MODALITY

    assert transfer.feature_key() == "pretrained-region"  # the shipped modality is not in the name
    assert transfer.parse_key("pretrained-region") == ("pretrained", "region", MODALITY)
    assert transfer.parse_key(transfer.feature_key("random", "module", "graph")) == ("random", "module", "graph")
    assert {v.features for v in transfer.VARIANTS} == {"pretrained-region", "pretrained-module", "random-region"}


@needs_clang
def test_surrogate_quality_compares_modalities_on_the_transfer_folds_split_by_size():
    from experiments import surrogate_quality as sq

    df = transfer.load(DEFAULT_TRAINING, KERNELS)
    Xk = Featurizer(None).database(df)
    keys = {v.features for v in sq.VARIANTS}
    assert {transfer.parse_key(k)[2] for k in keys} == {"text", "graph", "fused"}
    res, pooled = transfer.run(df, {k: Xk for k in keys}, 1, 0, 1, 2, variants=sq.VARIANTS)
    table = transfer.summary(res, pooled, sq.VARIANTS)
    assert list(table["variant"]) == [v.name for v in sq.VARIANTS]
    sizes = set(res.loc[res["evaluation"] == "kernel", "size"])
    assert sizes == {"SMALL", "MEDIUM"}
    for size in sizes:  # the per-size columns average exactly that size's workloads
        want = res[(res["evaluation"] == "kernel") & (res["size"] == size) & (res["variant"] == sq.VARIANTS[0].name)]
        assert table.loc[0, f"kernel spearman {size}"] == round(want["spearman"].mean(), 3)


def test_summary_reports_the_spread_of_the_seeds_means():
    rows = [
        dict(
            variant=v.name,
            evaluation=ev,
            seed=seed,
            template="t",
            kernel=k,
            size="SMALL",
            spearman=rho,
            pick=1.0,
            cover1=0.5,
            cover2=0.9,
        )
        for v in transfer.VARIANTS[:1]
        for ev in ("template", "kernel")
        for seed, rho in ((0, 0.2), (1, 0.4))
        for k in ("a", "b")
    ]
    res = pd.DataFrame(rows)
    pooled = pd.DataFrame([dict(variant=transfer.VARIANTS[0].name, seed=s, pooled_spearman=0.3) for s in (0, 1)])
    table = transfer.summary(res, pooled, transfer.VARIANTS[:1])
    assert table.loc[0, "template spearman"] == 0.3
    assert table.loc[0, "template spearman sd"] == round(np.std([0.2, 0.4], ddof=1), 3)
    assert table.loc[0, "kernel spearman sd"] == round(np.std([0.2, 0.4], ddof=1), 3)


def test_the_noise_ceiling_falls_as_the_measurements_get_noisier():
    rng = np.random.default_rng(0)
    rows = []
    for w, half in enumerate((0.001, 0.05, 0.5)):  # CI half-widths of 0.1%, 5% and 50%
        rows.append(dict(kernel=f"k{w}", size="SMALL", anchor=True, log_speedup=0.0, ci_low=1.0, ci_high=1.0))
        for s in np.exp(rng.normal(0, 0.1, 30)):
            rows.append(
                dict(
                    kernel=f"k{w}",
                    size="SMALL",
                    anchor=False,
                    log_speedup=np.log(s),
                    ci_low=s / (1 + half),
                    ci_high=s * (1 + half),
                )
            )
    ceil = noise_ceiling(pd.DataFrame(rows)).set_index("kernel")["ceiling"]
    assert ceil["k0"] > 0.95 and ceil["k0"] > ceil["k1"] > ceil["k2"]
    assert ceil["k2"] < 0.3  # noise far wider than the spread: no model could rank these


def test_the_no_profile_ablation_drops_exactly_the_openmp_profile_columns():
    from autotune.surrogate.features import COUNT_NAMES, NAMES, PROFILE

    K, C = len(NAMES), 2 * len(COUNT_NAMES)
    X = np.arange(3 * (5 + C + K)).reshape(3, -1)  # five embedding columns, the IR counts, the knobs
    Xv, tail = transfer.columns(X, "no-profile")
    kept = [NAMES.index(n) for n in NAMES if n not in PROFILE]
    assert Xv.shape[1] == X.shape[1] - len(PROFILE) and tail == C + K - len(PROFILE)
    assert (Xv[:, : 5 + C] == X[:, : 5 + C]).all() and (Xv[:, 5 + C :] == X[:, -K:][:, kept]).all()


@needs_clang
def test_records_of_a_slowed_machine_are_trained_on_but_not_scored():
    df = transfer.load(DEFAULT_TRAINING, KERNELS)
    assert df["slowed"].dtype == bool and not df.loc[df["anchor"], "slowed"].any()
    workload = (df["kernel"] == "gemm") & (df["size"] == "MEDIUM")
    quiet = df.index[workload & ~df["anchor"] & ~df["slowed"]]
    df.loc[quiet[:3], "slowed"] = True
    X = {"pretrained-region": Featurizer(None).database(df)}
    res, _ = transfer.run(df, X, seeds=1, epochs=2, members=1, suite_folds=2, variants=transfer.VARIANTS[:1])
    scored = res[(res["kernel"] == "gemm") & (res["size"] == "MEDIUM")]
    assert scored["rows"].tolist() == [len(quiet) + 1 - 3]  # the anchor and every record not slowed
