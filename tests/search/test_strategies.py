"""Every registered strategy against the recorded replay: the contract, then what is particular to each.

The invariants every strategy keeps live in autotune.search.testing (shipped,
like optuna.testing); here they run on every name in the registry, so a
strategy added there is covered without a line here. No assertion is about
speed or about which strategy wins.
"""

from __future__ import annotations

import random
import sys

import numpy as np
import optuna
import pytest

from autotune.errors import UserError
from autotune.search import PoolSampler, ReplayMeasurer, session
from autotune.search.history import History
from autotune.search.params import config_from_params
from autotune.search.strategies import (
    REGISTRY,
    STRATEGIES,
    ConfigSampler,
    RandomConfigSampler,
    base,
    make_sampler,
    need,
    neighbours,
    registry,
    unmeasured,
)
from autotune.search.testing import HashScorer, StrategyContract, check_invariants, check_resume, check_seeded
from autotune.trials.records import config_key
from tests.search.conftest import REPLAY, replay_tune


@pytest.mark.parametrize("strategy_name", STRATEGIES)
class TestEveryRegisteredStrategy(StrategyContract):
    """The contract on every registered strategy; guided ranks its pool with a stand-in for the surrogate."""

    @pytest.fixture
    def scorer_factory(self):
        return HashScorer.factory


# --- a new strategy, as a newcomer writes it: one sampler, one registry line, one test line --------------------
class LocalWalk(ConfigSampler):
    """A random unmeasured one-knob neighbour of the best so far (a random unmeasured configuration when none)."""

    def propose(self, study, number, history):
        rng = self.rng(number)
        best = history.best()
        near = []
        if best is not None:
            around = neighbours(self.space, config_from_params(self.space, best.params))
            near = [c for c in around if config_key(c) not in history.taken]
        if near:
            return rng.choice(near), {"proposal": "neighbour"}
        return need(unmeasured(self.space, history.taken, rng)), {"proposal": "random"}


@pytest.fixture
def register(monkeypatch):
    """Stands in for the one line a new strategy adds to strategies/registry.py's REGISTRY."""

    def add(name, sampler_class):
        monkeypatch.setitem(REGISTRY, name, lambda space, seed, kernel, scorer_factory: sampler_class(space, seed))

    return add


class TestANewStrategyIsTestedByOneLine(StrategyContract):
    strategy = "local-walk"

    @pytest.fixture(autouse=True)
    def registered(self, register):
        register("local-walk", LocalWalk)


# --- the contract fails on wrong strategies ---------------------------------------------------------------------
class ProposesTheBestAgain(LocalWalk):
    """Broken: every third trial proposes the best configuration so far, which is measured already."""

    def propose(self, study, number, history):
        best = history.best()
        if number % 3 == 0 and best is not None:
            return config_from_params(self.space, best.params), {"proposal": "again"}
        return super().propose(study, number, history)


class IgnoresTheSeed(RandomConfigSampler):
    """Broken: draws from a fixed generator, whatever the seed."""

    def rng(self, trial_number):
        return random.Random(f"fixed/{trial_number}")


class CountsItsOwnProposals(RandomConfigSampler):
    """Broken: seeds by how many proposals this object made, so a continued run draws another sequence."""

    def __init__(self, space, seed=0):
        super().__init__(space, seed)
        self.made = 0

    def rng(self, trial_number):
        self.made += 1
        return random.Random(f"{self.seed}/{self.made}")


@pytest.mark.parametrize(
    "sampler_class, check, message",
    [
        (ProposesTheBestAgain, check_invariants, "the sampler proposed a configuration already taken"),
        (IgnoresTheSeed, check_seeded, "another seed gave the same run"),
        (CountsItsOwnProposals, check_resume, "a continued run proposed other configurations than an uninterrupted"),
    ],
)
def test_the_contract_fails_a_broken_strategy(sampler_class, check, message, register, replay_case, tmp_path):
    register("broken", sampler_class)
    with pytest.raises(AssertionError, match=message):
        check("broken", replay_case, tmp_path, None, 10)


# --- the registry ------------------------------------------------------------------------------------------------
def test_registry_resolves_names_to_their_modules():
    from autotune.search.strategies import exhaustive, guided, tpe
    from autotune.search.strategies import random as random_strategy

    assert STRATEGIES == ("guided", "tpe", "random", "exhaustive")
    modules = {"guided": guided, "tpe": tpe, "random": random_strategy, "exhaustive": exhaustive}
    assert {name: registry.factory(name) for name in STRATEGIES} == {n: m.make for n, m in modules.items()}


def test_the_strategy_module_named_random_does_not_shadow_the_standard_library():
    assert base.random is random and session.random is random
    assert random.Random("x").random() == random.Random("x").random()


def test_unknown_strategy_is_one_clear_line(replay):
    with pytest.raises(
        UserError, match=r"unknown strategy 'annealing'; choose one of: guided, tpe, random, exhaustive"
    ):
        make_sampler("annealing", replay.space)


def test_guided_without_surrogate_says_so(replay, monkeypatch):
    monkeypatch.setitem(sys.modules, "autotune.surrogate", None)  # as if the module could not be imported
    with pytest.raises(UserError) as err:
        make_sampler("guided", replay.space, kernel=object())
    message = str(err.value)
    assert message.startswith("guided needs the surrogate, and autotune.surrogate cannot be imported here (")
    assert message.endswith("the other strategies do not need it: try strategy='tpe'")


# --- what is particular to each strategy ---------------------------------------------------------------------
def run(strategy, tmp_path, seed=0, budget=20, study="s", scorer=None, **kw):
    factory = (lambda kernel, space: scorer) if scorer is not None else None
    return replay_tune(
        tmp_path,
        str(tmp_path / f"{study}.log"),
        budget=budget,
        strategy=strategy,
        seed=seed,
        study=study,
        scorer_factory=factory,
        **kw,
    )


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
    from autotune.search.strategies.guided import START_PICKS, cell, cells, lever_signature

    scorer = HashScorer()
    result, m = run("guided", tmp_path, budget=15, scorer=scorer)
    proposals = list(result.trials["proposal"][1:])
    scored = [p for p in proposals if not p.startswith("explore")]
    assert len(scorer.calls) == len(scored)  # every scored trial after the baseline asked the scorer once
    measured = [k for k, p in zip(m.calls[1:], proposals, strict=True) if not p.startswith("explore")]
    starts = []
    for (cands, history, scores), key, proposal in zip(scorer.calls, measured, scored, strict=True):
        done = set(history["key"])
        assert len(history) == len(done) >= 1
        assert cands and len({config_key(c) for c in cands}) == len(cands)
        for c in cands:
            assert m.space.is_valid(c) and config_key(c) not in done
        if proposal != "start":
            assert config_key(cands[int(np.argmax(scores))]) == key
            continue
        # a start pick: the best-scored candidate of a cell (compiler, more than one thread) no earlier
        # start pick measured; then the best-scored whose big levers differ from the earlier start picks'
        order = list(np.argsort(-scores, kind="stable"))
        missing = cells(m.space) - {cell(c) for c in starts}
        used = {lever_signature(m.space, c) for c in starts}
        fresh = [i for i in order if cell(cands[i]) in missing] or [
            i for i in order if lever_signature(m.space, cands[i]) not in used
        ]
        pick = fresh[0] if fresh else order[0]
        assert config_key(cands[pick]) == key
        starts.append(cands[pick])
    assert proposals[:START_PICKS] == ["start"] * START_PICKS
    # the replay varies threads (1, 2) and no compiler: two cells, both measured by the first two start picks
    assert cells(m.space) == {(None, False), (None, True)}
    assert {cell(c) for c in starts[:2]} == cells(m.space)
    assert len({lever_signature(m.space, c) for c in starts}) == 2
    assert set(proposals) <= {"start", "neighbour", "tpe", "random", "explore-tpe", "explore-unvaried"}


def test_guided_start_picks_cover_compiler_and_threads_against_a_scorer_that_prefers_one_cell(tmp_path):
    """A scorer sure that clang on one thread wins (as the surrogate was on floyd-warshall, where gcc on
    one thread measured 5.6x) still gets one measurement in each cell of compiler x {one thread, more}."""
    from autotune.kernel import Kernel
    from autotune.search.history import KEY, MEASURED, History
    from autotune.search.params import active_params, distribution
    from autotune.search.strategies.guided import PoolSampler, cell, cells
    from autotune.space.discover import build_space
    from tests.conftest import KERNELS

    space = build_space(Kernel.load(KERNELS / "floyd-warshall.c", defines=["SMALL_DATASET"]))
    assert cells(space) == {("clang", False), ("clang", True), ("gcc", False), ("gcc", True)}

    class OneCell:
        def score(self, candidates, history):
            return np.array(
                [10.0 if cell(c) == ("clang", False) else -float(len(space.changed(c))) for c in candidates]
            )

    sampler = PoolSampler(space, OneCell(), seed=3)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    picks = []
    for number in range(sampler.start_count()):
        config, info = sampler.propose(study, number, History.read(study, space))
        assert info["proposal"] == "start" and space.is_valid(config)
        picks.append(config)
        params = active_params(space, config)
        study.add_trial(
            optuna.trial.create_trial(
                params=params,
                distributions={n: distribution(space, n) for n in params},
                value=0.0,
                user_attrs={
                    KEY: config_key(config),
                    MEASURED: True,
                    "proposal": "start",
                    "status": "ok",
                    "speedup": 1.0,
                },
            )
        )
    assert [cell(c) for c in picks][0] == ("clang", False)  # the scorer's favourite cell first
    assert {cell(c) for c in picks} == cells(space)


def test_guided_explores_when_its_picks_stop_improving(tmp_path):
    """A scorer that is confidently wrong (it prefers what measures slowest) must not hold the search."""
    import pandas as pd

    from autotune.search.strategies.guided import STALL

    speed = pd.read_csv(REPLAY).set_index("key")["speedup"].fillna(0).to_dict()

    class Wrong:
        def score(self, candidates, history):
            return -np.array([speed[config_key(c)] for c in candidates], float)

    result, m = run("guided", tmp_path, budget=20, scorer=Wrong())
    proposals = list(result.trials["proposal"])
    explored = [i for i, p in enumerate(proposals) if p.startswith("explore")]
    assert explored, "no exploration in 20 trials"
    best = np.maximum.accumulate(result.trials["speedup"].fillna(0).to_numpy())
    for i in explored:  # it explores only after STALL measurements without a new best
        assert (best[i - STALL : i] == best[i - 1]).all()


def test_guided_neighbours_change_one_active_knob(replay):
    space = replay.space
    start = space.canonical({"L2.schedule": "dynamic", "L2.chunk": 16})
    for n in neighbours(space, start):
        assert space.is_valid(n)
        diff = {k for k in n if n[k] != start[k]}
        assert len(diff) == 1 or diff == {"L2.schedule", "L2.chunk"}  # leaving a chunked schedule re-pins chunk


def test_pool_sampler_is_an_optuna_sampler(replay):
    sampler = PoolSampler(replay.space, HashScorer(), seed=1)
    assert isinstance(sampler, optuna.samplers.BaseSampler)


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
