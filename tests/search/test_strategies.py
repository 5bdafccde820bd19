"""Every strategy against the recorded replay cache: the invariants of a search.

No assertion here is about speed or about which strategy wins; they are about
what must hold for every run: valid configurations only, never one measured
twice, the budget kept, the same seed giving the same run, the baseline first.
"""

from __future__ import annotations

import sys
from collections import Counter

import numpy as np
import optuna
import pandas as pd
import pytest

from autotune.errors import UserError
from autotune.search import PoolSampler, ReplayMeasurer
from autotune.search.history import History
from autotune.search.records import config_key
from autotune.search.strategies import STRATEGIES, make_sampler, neighbours
from tests.search.conftest import REPLAY, replay_tune

BUDGETS = {"random": 25, "exhaustive": 25, "tpe": 20, "guided": 20}


class HashScorer:
    """A deterministic, arbitrary acquisition; records what it was asked, to check the pool."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[dict], pd.DataFrame, np.ndarray]] = []

    def score(self, candidates, history):
        s = np.array([(hash(config_key(c)) % 10007) / 10007 for c in candidates])
        self.calls.append((candidates, history, s))
        return s


def run(strategy, tmp_path, seed=0, budget=None, study="s", scorer=None, **kw):
    factory = (lambda kernel, space: scorer) if scorer is not None else None
    return replay_tune(
        tmp_path,
        str(tmp_path / f"{study}.log"),
        budget=budget or BUDGETS[strategy],
        strategy=strategy,
        seed=seed,
        study=study,
        scorer_factory=factory,
        **kw,
    )


def strategy_kw(strategy):
    return {"scorer": HashScorer()} if strategy == "guided" else {}


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_invariants(strategy, tmp_path):
    result, m = run(strategy, tmp_path, **strategy_kw(strategy))
    space = m.space
    assert len(m.calls) == len(set(m.calls)), "a configuration was measured twice"
    assert len(m.calls) == BUDGETS[strategy] == result.n_trials, "budget not kept"
    assert result.stop_reason == "budget"
    keys = list(result.trials["key"])
    assert keys == m.calls  # the table is exactly what was measured, in order
    for key in keys:
        cfg = space.canonical(__import__("json").loads(key))
        assert space.is_valid(cfg) and config_key(cfg) == key
    assert result.trials.iloc[0]["trial"] == 0 and keys[0] == config_key(space.default())  # baseline first
    best_row = result.trials.loc[result.trials["speedup"].idxmax()]
    assert result.speedup == pytest.approx(best_row["speedup"])
    assert result.speedup >= result.trials.iloc[0]["speedup"]  # never worse than doing nothing


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_same_seed_same_run_other_seed_other_run(strategy, tmp_path):
    a, ma = run(strategy, tmp_path, seed=7, budget=12, study="a", **strategy_kw(strategy))
    b, mb = run(strategy, tmp_path, seed=7, budget=12, study="b", **strategy_kw(strategy))
    assert ma.calls == mb.calls
    if strategy != "exhaustive":  # exhaustive has one order by design
        c, mc = run(strategy, tmp_path, seed=8, budget=12, study="c", **strategy_kw(strategy))
        assert mc.calls != ma.calls


def test_exhaustive_covers_the_space_then_stops(tmp_path):
    result, m = run("exhaustive", tmp_path, budget=100)
    size = m.space.size()
    assert size == 60 == len(m.calls) == len(set(m.calls))
    assert set(m.calls) == {config_key(c) for c in m.space.enumerate()}
    assert result.stop_reason == "space exhausted"


def test_exhaustive_says_when_the_space_is_larger_than_the_budget(tmp_path):
    notes = []
    run("exhaustive", tmp_path, budget=10, observe=lambda e: e.kind == "note" and notes.append(e.message))
    assert any("60 configurations, more than the budget of 10" in n for n in notes)


def test_tpe_duplicates_are_answered_from_storage_and_cannot_loop(tmp_path):
    """On a 60-point space TPE soon re-proposes what it measured: those proposals get the
    stored value, nothing is measured twice, and the run still reaches its budget."""
    result, m = run("tpe", tmp_path, budget=35)
    assert len(m.calls) == len(set(m.calls)) == 35
    study = optuna.load_study(
        study_name="s",
        storage=optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(tmp_path / "s.log"))),
    )
    dupes = [t for t in study.trials if "duplicate_of" in t.user_attrs]
    assert dupes, "expected TPE to re-propose on so small a space"
    by_number = {t.number: t for t in study.trials}
    for t in dupes:
        original = by_number[t.user_attrs["duplicate_of"]]
        assert t.user_attrs["key"] == original.user_attrs["key"] and t.value == original.value
        assert "status" not in t.user_attrs  # never measured


def test_guided_pool_is_valid_unmeasured_and_the_best_scored_is_measured(tmp_path):
    scorer = HashScorer()
    result, m = run("guided", tmp_path, budget=15, scorer=scorer)
    assert len(scorer.calls) == 14  # every trial after the baseline asked the scorer once
    for (cands, history, scores), measured in zip(scorer.calls, m.calls[1:], strict=True):
        done = set(history["key"])
        assert len(history) == len(done) >= 1
        assert cands and len({config_key(c) for c in cands}) == len(cands)
        for c in cands:
            assert m.space.is_valid(c) and config_key(c) not in done
        assert config_key(cands[int(np.argmax(scores))]) == measured
    sources = Counter(result.trials["proposal"][1:])
    assert set(sources) <= {"neighbour", "tpe", "random"}


def test_guided_neighbours_change_one_active_knob(replay):
    space = replay.space
    base = space.canonical({"L2.schedule": "dynamic", "L2.chunk": 16})
    for n in neighbours(space, base):
        assert space.is_valid(n)
        diff = {k for k in n if n[k] != base[k]}
        assert len(diff) == 1 or diff == {"L2.schedule", "L2.chunk"}  # leaving a chunked schedule re-pins chunk


def test_pool_sampler_is_an_optuna_sampler(replay):
    sampler = PoolSampler(replay.space, HashScorer(), seed=1)
    assert isinstance(sampler, optuna.samplers.BaseSampler)


def test_unknown_strategy_is_one_clear_line(replay):
    with pytest.raises(
        UserError, match=r"unknown strategy 'annealing'; choose one of: guided, tpe, random, exhaustive"
    ):
        make_sampler("annealing", replay.space)


def test_guided_without_surrogate_says_so(replay, monkeypatch):
    monkeypatch.setitem(sys.modules, "autotune.surrogate", None)  # as if the module did not exist
    with pytest.raises(UserError, match="guided needs the surrogate"):
        make_sampler("guided", replay.space, kernel=object())


def test_early_stop(tmp_path):
    result, m = run("random", tmp_path, budget=60, early_stop=5)
    assert result.stop_reason == "early stop"
    h = History.read(
        optuna.load_study(
            study_name="s",
            storage=optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(tmp_path / "s.log"))),
        ),
        m.space,
    )
    seq = h.best_so_far()
    assert len(seq) < 60 and seq[-1] == seq[-6] and h.since_improvement() == 5


def test_time_budget_stops_between_measurements(tmp_path):
    import time

    class Slow(ReplayMeasurer):
        def measure(self, config):
            time.sleep(0.05)
            return super().measure(config)

    result, m = run("random", tmp_path, budget=None, time_budget=0.2, measurer=Slow(REPLAY))
    assert result.stop_reason == "time budget"
    assert 1 <= len(m.calls) < 60
