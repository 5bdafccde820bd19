"""The surrogate: features that transfer, the GP correction, EI, and the guided scorer end to end."""

from __future__ import annotations

import random
import shutil

import numpy as np
import pandas as pd
import pytest

from autotune.errors import UserError
from autotune.kernel import Kernel
from autotune.space.discover import build_space
from autotune.surrogate import scorer as sc
from autotune.surrogate.data import Featurizer, load_records
from autotune.surrogate.features import COUNT_NAMES, NAMES, knob_features
from autotune.surrogate.model import expected_improvement, gp_residual
from autotune.trials.collect import DEFAULT_CSV
from tests.conftest import KERNELS, needs_clang


@needs_clang
@pytest.mark.parametrize("name", ["gemm", "jacobi-1d", "spmv-csr", "heat-3d"])
def test_knob_features_have_one_length_and_stay_in_range(name):
    k = Kernel.load(KERNELS / f"{name}.c")
    space = build_space(k)
    rng = random.Random(0)
    rows = [knob_features(space, space.sample(rng), 2, 0.1) for _ in range(30)]
    rows.append(knob_features(space, space.default(), 2, 0.1))
    X = np.stack(rows)
    assert X.shape == (31, len(NAMES))
    assert np.isfinite(X).all() and X.min() >= 0 and X.max() <= 1.5
    assert len({r.tobytes() for r in rows}) > 10  # configurations are told apart


def test_gp_residual_interpolates_near_its_points_and_reverts_far_away():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 5))
    r = rng.normal(size=8)
    mean, var = gp_residual(X, r, X, noise=1e-4)
    assert np.allclose(mean, r, atol=1e-2)
    far_mean, far_var = gp_residual(X, r, X + 100.0)
    assert np.allclose(far_mean, 0.0, atol=1e-6) and (far_var > var.max()).all()
    empty_mean, empty_var = gp_residual(np.zeros((0, 5)), np.zeros(0), X)
    assert (empty_mean == 0).all() and (empty_var == 0).all()


def test_expected_improvement_prefers_higher_mean_and_more_uncertainty():
    ei = expected_improvement(np.array([-0.2, 0.0, 0.2]), np.array([0.1, 0.1, 0.1]), best=0.0)
    assert ei[0] < ei[1] < ei[2]
    ei2 = expected_improvement(np.array([0.0, 0.0]), np.array([0.05, 0.3]), best=0.1)
    assert ei2[1] > ei2[0] > 0


def _database() -> pd.DataFrame:
    df = load_records(DEFAULT_CSV)
    return df[(df.status == "ok") & (df.verified == 1)].reset_index(drop=True)


@pytest.mark.skipif(not DEFAULT_CSV.exists(), reason="no measurement database shipped")
def test_ensemble_fits_the_shipped_database_and_round_trips(tmp_path):
    """On real measurements, in-sample predictions rank the speedups; saving keeps every weight."""
    df = _database().head(200)
    fz = Featurizer(None)
    X = fz.database(df)
    y = df["log_speedup"].to_numpy()
    sur = sc.Surrogate.train(X, X, y, epochs=40)
    pred, std = sur.knobs.predict(X)
    assert np.corrcoef(pred, y)[0, 1] > 0.5
    assert (std >= 0).all()
    sur.save(tmp_path / "s.pt")
    back = sc.Surrogate.load(tmp_path / "s.pt")
    assert np.allclose(back.knobs.predict(X)[0], pred)


def test_missing_weights_is_one_clear_error(tmp_path):
    with pytest.raises(UserError, match="autotune collect"):
        sc.Surrogate.load(tmp_path / "nothing.pt")


@needs_clang
@pytest.mark.skipif(not DEFAULT_CSV.exists(), reason="no measurement database shipped")
def test_scorer_embeds_the_best_builds_and_uses_the_target_history(tmp_path, monkeypatch):
    from encoder.embedding import Embedder

    monkeypatch.setenv("AUTOTUNE_CACHE", str(tmp_path / "cache"))
    df = _database()
    df = df[df.kernel.isin(["gemm", "atax"])].head(24).reset_index(drop=True)
    fz = Featurizer(Embedder(cache_dir=tmp_path / "emb"))
    X = fz.database(df)
    sur = sc.Surrogate.train(X, X[:, -len(NAMES) :], df["log_speedup"].to_numpy(), epochs=20)
    k = Kernel.load(KERNELS / "jacobi-1d.c", defines=["MINI_DATASET"])
    space = build_space(k)
    scorer = sc.SurrogateScorer(k, space, sur, fz, cores=2, baseline_s=0.01)
    rng = random.Random(1)
    cands = [space.sample(rng) for _ in range(16)]
    hist = pd.DataFrame(
        [{**space.default(), "status": "ok", "speedup": 1.0}, {**cands[0], "status": "ok", "speedup": 1.3}]
    )
    scores = scorer.score(cands[1:], hist)
    assert scores.shape == (15,) and np.isfinite(scores).all()
    embedded = scores >= scores.min() + 1.0  # the cheaply ranked rest sit at least 1 below
    assert 1 <= embedded.sum() <= 15
    # the history matters: a measured 1.3x raises the bar, so expected improvements shrink
    no_hist = scorer.score(cands[1:], hist.head(1))
    assert not np.allclose(no_hist, scores)


# --- variants whose IR cannot be built: no embedding, and every consumer is told ------------------

# tests/data/params.c: MODE=4 does not compile, so such a variant has no IR and no embedding
_NO_IR = {"MODE": 4}


@pytest.fixture(scope="module")
def params_case(tmp_path_factory):
    """params.c, its space, a featurizer with the shipped encoder, a surrogate fitted to noise."""
    from encoder.embedding import Embedder
    from tests.conftest import DATA

    k = Kernel.load(DATA / "params.c")
    space = build_space(k)
    fz = Featurizer(Embedder(cache_dir=tmp_path_factory.mktemp("emb")))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, fz.dim)).astype(np.float32)
    sur = sc.Surrogate.train(X, X[:, -len(NAMES) :], rng.normal(0, 0.2, 40), epochs=5)
    return k, space, fz, sur


@needs_clang
def test_variants_without_ir_are_marked_not_given_a_silent_zero_embedding(params_case):
    k, space, fz, _ = params_case
    d = space.default()
    configs = [d, {**d, **_NO_IR}, {**d, "BLOCK": 8}]
    X = fz.features(k, space, configs, cores=2, baseline_s=0.1)
    e = fz.embedder.dim
    assert fz.no_embedding.tolist() == [False, True, False]
    assert not X[1, : 2 * e].any() and X[0, :e].any() and X[2, :e].any()  # the zeros are exactly the marked row
    c = len(COUNT_NAMES)
    assert not X[1, 2 * e + c : 2 * e + 2 * c].any() and X[1, 2 * e : 2 * e + c].any()  # no IR: no change of counts
    assert fz.embeddings(k, space, configs[1:]).shape == (2, 2 * e + 2 * c)
    assert fz.no_embedding.tolist() == [True, False]
    knobs_only = Featurizer(None)
    knobs_only.features(k, space, configs, cores=2, baseline_s=0.1)  # no embedding columns: nothing to mark
    assert knobs_only.no_embedding.tolist() == [False, False, False]


@needs_clang
def test_a_configuration_is_built_and_embedded_once_then_remembered(params_case, monkeypatch):
    k, space, fz, _ = params_case
    d = space.default()
    configs = [{**d, "BLOCK": 16}, {**d, **_NO_IR}]
    first = fz.embeddings(k, space, configs)
    built: list[dict] = []
    irs = fz._irs
    monkeypatch.setattr(fz, "_irs", lambda kern, sp, cs: built.extend(cs) or irs(kern, sp, cs))
    again = fz.embeddings(k, space, [*configs, {**d, "BLOCK": 32}, configs[0]])
    assert built == [{**d, "BLOCK": 32}]  # only the new one, once, though configs[0] came twice
    assert np.array_equal(again[:2], first) and np.array_equal(again[3], first[0])
    assert fz.no_embedding.tolist() == [False, True, False, False]  # the remembered no-IR row stays marked


@needs_clang
def test_scorer_ranks_a_candidate_without_ir_below_the_embedded_ones(params_case):
    k, space, fz, sur = params_case
    d = space.default()
    cands = [{**d, **_NO_IR}, {**d, "BLOCK": 8}, {**d, "BLOCK": 32}]  # three builds: all get the full model
    scorer = sc.SurrogateScorer(k, space, sur, fz, cores=2, baseline_s=0.1)
    scores = scorer.score(cands, pd.DataFrame([{**d, "status": "ok", "speedup": 1.0}]))
    assert scorer.last_no_embedding == 1
    assert np.isfinite(scores).all() and scores[0] < scores[1:].min()


@needs_clang
def test_prediction_table_shows_which_rows_had_no_embedding(params_case):
    from autotune.surrogate.predict import rank

    k, space, fz, sur = params_case
    scorer = sc.SurrogateScorer(k, space, sur, fz, cores=2, baseline_s=0.1)
    table = rank(k, space, top=8, pool=8, seed=1, scorer=scorer)
    no_ir = np.array([c["MODE"] == 4 for c in table["config"]])
    assert no_ir.any() and (~no_ir).any(), "seed 1 should draw both kinds"
    assert table["embedded"].tolist() == (~no_ir).tolist()
    # a row without an embedding carries the knob-only prior's prediction, not one read from zeros
    Xk = np.stack([knob_features(space, c, 2, 0.1, fz.profile(k, space)) for c in table["config"][no_ir]])
    assert np.allclose(table["predicted_speedup"][no_ir], np.exp(sur.knobs.predict(Xk)[0]), rtol=1e-5)


@needs_clang
def test_scorer_reads_the_baseline_time_from_the_study_and_measures_it_only_without_one(params_case):
    k, space, fz, sur = params_case
    scorer = sc.SurrogateScorer(k, space, sur, fz, cores=2)
    hist = pd.DataFrame([{**space.default(), "status": "ok", "speedup": 1.0, "baseline_seconds": 0.25}])
    assert scorer.baseline(hist) == 0.25
    fresh = sc.SurrogateScorer(k, space, sur, fz, cores=2)
    measured = fresh.baseline(None)  # no study yet: one run of the untransformed program
    assert 0 < measured < 10 and fresh.baseline(pd.DataFrame()) == measured


def test_gpu_launch_knobs_are_features_for_opencl_and_cuda_alike():
    from autotune import programs
    from autotune.gpu import clspace
    from autotune.gpu.device import Device

    def gpu(space, cfg):
        row = knob_features(space, space.canonical(cfg), 2, 0.01)
        return {
            n: round(float(v), 3) for n, v in zip(NAMES, row, strict=True) if n in ("cf_log2", "wg_log2", "wg_auto")
        }

    k = programs.load(KERNELS / "opencl" / "matvec.cl")
    space = clspace.build_space(k, Device("p", "d", "v", "3.0", "1", "gpu", 1024, (1024, 1024, 64), 65536, 8))
    assert gpu(space, {}) == {"cf_log2": 0.0, "wg_log2": 0.5, "wg_auto": 0.0}  # 64 work items as described
    assert gpu(space, {"cf": 4, "wg.cf4": "auto"}) == {"cf_log2": 0.4, "wg_log2": 0.0, "wg_auto": 1.0}
    if shutil.which("nvcc"):
        cu = programs.load(KERNELS / "cuda" / "matmul.cu")
        cs = cu.space()
        assert gpu(cs, {"CF": 8, "BX": 64, "BY": 4}) == {"cf_log2": 0.6, "wg_log2": 0.667, "wg_auto": 0.0}
    c = Kernel.load(KERNELS / "gemm.c", defines=["SMALL_DATASET"])
    assert gpu(build_space(c), {}) == {"cf_log2": 0.0, "wg_log2": 0.0, "wg_auto": 0.0}  # C programs: none


@needs_clang
def test_weights_trained_on_other_knob_features_are_refused_with_the_fix(params_case, tmp_path):
    _, _, _, sur = params_case
    path = tmp_path / "surrogate.pt"
    sur.save(path)
    assert sc.Surrogate.for_features(path).knobs.mu.shape[-1] == len(NAMES)
    old = sc.Surrogate(sur.full, sur.knobs, {**sur.meta, "features": NAMES[:-1]})  # an older version's columns
    old.save(path)
    with pytest.raises(UserError, match="retrain it with `python -m autotune.surrogate.train`"):
        sc.Surrogate.for_features(path)


def test_refined_drops_a_prior_the_kernel_contradicts_and_keeps_one_it_confirms():
    """The transferred prior weighs as much as it ranks the target's own measurements: a prior that
    ranks them backwards is dropped (what remains is the GP on the measurements alone), one that ranks
    them right stands whole, and below `JUDGE` measurements nothing can judge it."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(300, 4))
    prior = sc.fit_prior(X, X[:, 0], members=1, tail=4)  # learned elsewhere: the first knob is everything
    Xh, Xt = rng.uniform(-1, 1, size=(8, 4)), rng.uniform(-1, 1, size=(40, 4))
    zh, zt = (Xh - prior.mu) / prior.sd, (Xt - prior.mu) / prior.sd
    ph, _ = prior.predict(Xh)
    assert sc.prior_weight(ph, Xh[:, 0]) == pytest.approx(1.0, abs=0.05)
    assert sc.prior_weight(ph, -Xh[:, 0]) == 0.0
    assert sc.prior_weight(ph[: sc.JUDGE - 1], -Xh[: sc.JUDGE - 1, 0]) == 1.0

    contradicted, _ = sc.refined(prior, Xh, -Xh[:, 0], Xt)  # this kernel wants the first knob low
    alone, _ = gp_residual(zh, -Xh[:, 0], zt)
    assert np.allclose(contradicted, alone)
    confirmed, _ = sc.refined(prior, Xh, Xh[:, 0], Xt)
    assert np.corrcoef(confirmed, Xt[:, 0])[0, 1] > 0.9
    # the GP measures closeness where it is told to: other inputs, other correction
    other, _ = sc.refined(prior, Xh, -Xh[:, 0], Xt, near=(zh[:, 1:], zt[:, 1:]))
    assert not np.allclose(other, contradicted)
