"""The boosted-tree prior: interactions, the embedding's reduction, bootstrap spread, weights, saving."""

from __future__ import annotations

import numpy as np
import pytest

from autotune.surrogate import scorer as sc
from autotune.surrogate.boosted import Boosted
from autotune.surrogate.model import Ensemble
from experiments.report import spearman


def _interaction(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A second thread pays off only when the region runs long: y = x0 * (x1 - 0.5), nothing additive."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(n, 4)).astype(np.float32)
    return x, x[:, 0] * (x[:, 1] - 0.5)


def test_trees_learn_an_interaction_on_rows_they_never_saw():
    x, y = _interaction(600)
    b = Boosted(4, members=3, seed=0).fit(x[:400], y[:400])
    pred, std = b.predict(x[400:])
    assert spearman(pred, y[400:]) > 0.85
    assert (std >= 0).all() and std.max() > 0  # members fit different bootstraps


def test_the_embedding_is_reduced_and_its_signal_kept():
    """Leading columns (the embedding) go through principal components; the signal along them is learned."""
    rng = np.random.default_rng(1)
    direction = rng.normal(size=64)
    emb = rng.normal(size=(500, 64)) * 0.05 + rng.normal(size=(500, 1)) * direction  # one strong direction
    knobs = rng.uniform(size=(500, 3))
    y = (emb @ direction) / np.linalg.norm(direction) ** 2 * 0.5 + knobs[:, 0]
    X = np.concatenate([emb, knobs], 1).astype(np.float32)
    b = Boosted(67, members=2, seed=0, tail=3, components=4).fit(X[:350], y[:350])
    assert b._x(X).shape == (500, 4 + 3)
    assert spearman(b.predict(X[350:])[0], y[350:]) > 0.85


def test_bootstrap_is_over_groups_and_deterministic():
    x, y = _interaction(300, seed=2)
    groups = np.repeat(np.arange(30), 10)
    a = Boosted(4, members=3, seed=5).fit(x, y, groups=groups).predict(x)
    b = Boosted(4, members=3, seed=5).fit(x, y, groups=groups).predict(x)
    c = Boosted(4, members=3, seed=6).fit(x, y, groups=groups).predict(x)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_row_weights_decide_between_contradicting_records():
    x = np.tile(np.array([[0.0, 1.0], [1.0, 0.0]], np.float32), (20, 1))
    y = np.where(np.arange(40) < 20, 1.0, -1.0)  # the same configurations measured both ways
    w = np.where(np.arange(40) < 20, 1.0, 0.01)
    pred, _ = Boosted(2, members=1, seed=0).fit(x, y, w=w).predict(x[:2])
    assert (pred > 0.5).all()


def test_surrogate_of_trees_round_trips_and_old_mlp_weights_still_load(tmp_path):
    x, y = _interaction(200, seed=3)
    X_full = np.concatenate([np.random.default_rng(0).normal(size=(200, 20)), x], 1).astype(np.float32)
    sur = sc.Surrogate.train(X_full, x, y, seed=0, model="boosted", groups=np.repeat(np.arange(20), 10))
    sur.save(tmp_path / "s.pt")
    back = sc.Surrogate.load(tmp_path / "s.pt")
    assert isinstance(back.full, Boosted) and back.meta["model"] == "boosted"
    for a, b, X in ((sur.full, back.full, X_full), (sur.knobs, back.knobs, x)):
        assert np.array_equal(a.predict(X)[0], b.predict(X)[0])
    mlp = Ensemble(4, members=1, hidden=8).fit(x, y, epochs=2)  # weights saved before the trees had no `kind`
    assert isinstance(sc.prior_from_state(mlp.state()), Ensemble)


def test_unknown_model_family_is_refused():
    x, y = _interaction(20)
    with pytest.raises(ValueError, match="boosted, mlp"):
        sc.fit_prior(x, y, model="forest")


def test_the_spread_is_calibrated_on_workloads_held_out():
    """Each workload has a level the features cannot explain: the raw bootstrap spread is far too narrow
    for a new workload; calibrated, about two thirds of a new workload's rows fall within one spread."""
    rng = np.random.default_rng(4)
    groups = np.repeat(np.arange(90), 6)
    x = rng.uniform(size=(len(groups), 3)).astype(np.float32)
    y = rng.normal(0, 0.3, 90)[groups] + 0.5 * x[:, 0]
    train, test = groups < 60, groups >= 60
    raw = Boosted(3, members=4, seed=0, calibrate=False).fit(x[train], y[train], groups=groups[train])
    cal = Boosted(3, members=4, seed=0).fit(x[train], y[train], groups=groups[train])

    def cover(b: Boosted) -> float:
        mean, std = b.predict(x[test])
        return float((np.abs(y[test] - mean) <= std).mean())

    assert cal.scale > 2 and cover(raw) < 0.45 and 0.5 < cover(cal) < 0.85
    assert np.allclose(cal.predict(x[test])[1], raw.predict(x[test])[1] * cal.scale, rtol=1e-6)


@pytest.mark.parametrize("objective", ["lambdarank", "rank_xendcg"])
def test_a_ranking_objective_learns_the_order_within_workloads_and_keeps_log_speedup_units(objective):
    """Each workload its own level (what a ranking loss ignores); the order within it is x0 * (x1 - 0.5)."""
    x, y = _interaction(800, seed=3)
    groups = np.repeat(np.arange(80), 10)
    y = y + np.repeat(np.random.default_rng(4).normal(0, 2, 80), 10)  # levels far larger than the order
    train, test = groups < 60, groups >= 60
    b = Boosted(4, members=3, seed=0, objective=objective).fit(x[train], y[train], groups=groups[train])
    pred, std = b.predict(x[test])
    within = [spearman(pred[groups[test] == g], y[test][groups[test] == g]) for g in range(60, 80)]
    assert np.mean(within) > 0.6
    assert len(b.lines) == 3 and (std >= 0).all()
    back = sc.prior_from_state(b.state())  # the score-to-log-speedup lines are saved with the trees
    assert np.allclose(back.predict(x[test])[0], pred)
    huber = Boosted(4, members=3, seed=0).fit(x[train], y[train], groups=groups[train])
    assert not huber.lines
