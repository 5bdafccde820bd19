"""The strategy contract: what every search strategy must keep, checked against a recorded replay.

Why shipped in the package (as `optuna.testing` ships its sampler suite): a
strategy written anywhere is tested by one line, against the same invariants
as the built-in ones, without timing anything:

    from autotune.search.testing import StrategyContract

    class TestMine(StrategyContract):
        strategy = "mine"

given a `replay_case` fixture (a ReplayCase: a recording written by
experiments/record_replay.py and the kernel it was recorded from; the
repository's tests/search/conftest.py has one). Without pytest classes:
`check_strategy_contract("mine", case, workdir)`.

What every run of a strategy must keep (no assertion is about speed, or about
which strategy wins):

* valid, canonical configurations only, none measured twice, the baseline
  first, exactly the budget measured, the best never worse than the baseline;
* a sampler that sees the history (a ConfigSampler) never proposes a
  configuration already taken; any other sampler (Optuna's TPE) may, and each
  such proposal is answered from storage with the stored value, never measured;
* the same seed gives the same run; another seed another run (unless the
  sampler says the seed changes nothing: `seeded = False`, as exhaustive);
* a run continued after it stopped keeps what was measured and measures none
  of it again; a ConfigSampler continues exactly as an uninterrupted run would.

Needs pytest (the `dev` extra) for StrategyContract.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.trial import FrozenTrial, TrialState

from autotune.kernel import Kernel
from autotune.search.api import tune
from autotune.search.history import DUPLICATE_OF, KEY, MEASURED
from autotune.search.outputs import Result
from autotune.search.storage import open_storage
from autotune.search.strategies import ConfigSampler, ScorerFactory, make_sampler
from autotune.space import Config, Space
from autotune.trials.records import config_key
from autotune.trials.replay import ReplayMeasurer


@dataclass(frozen=True)
class ReplayCase:
    """A recording to run strategies against, and the program it was recorded from."""

    recording: Path  # the CSV of experiments/record_replay.py (its JSON, with the sub-space, beside it)
    kernel: Path  # the C program (used for the study's name and outputs; nothing is built or timed)
    defines: tuple[str, ...] = ()

    @classmethod
    def from_recording(cls, recording: str | Path, root: str | Path) -> ReplayCase:
        """The case as the recording's JSON names it (`kernel` relative to `root`, `defines`)."""
        meta = json.loads(Path(recording).with_suffix(".json").read_text())
        return cls(Path(recording), Path(root) / meta["kernel"], tuple(meta.get("defines", ())))

    def measurer(self) -> ReplayMeasurer:
        return ReplayMeasurer(self.recording)


class HashScorer:
    """A stand-in for the surrogate: an arbitrary but fixed score per configuration (a digest of its key).

    Records every call (candidates, history, scores), so tests can check the pool it was shown.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[list[Config], pd.DataFrame, np.ndarray]] = []

    def score(self, candidates: list[Config], history: pd.DataFrame) -> np.ndarray:
        digests = (hashlib.sha256(config_key(c).encode()).digest() for c in candidates)
        s = np.array([int.from_bytes(d[:4], "big") / 2**32 for d in digests])
        self.calls.append((candidates, history, s))
        return s

    @classmethod
    def factory(cls, kernel: Kernel, space: Space) -> HashScorer:
        """A ScorerFactory: a fresh HashScorer per study."""
        return cls()


@dataclass
class Run:
    """One tune() of a strategy against a replay: what it returned, measured and recorded."""

    result: Result
    calls: list[str]  # keys measured, in order
    trials: list[FrozenTrial]  # every trial of the study, in number order
    space: Space


def run_strategy(
    strategy: str,
    case: ReplayCase,
    workdir: Path,
    *,
    budget: int,
    seed: int = 0,
    study: str = "contract",
    scorer_factory: ScorerFactory | None = None,
) -> Run:
    """tune() with the strategy on the recording; the study lives in `workdir/<study>.log` (rerun to continue)."""
    m = case.measurer()
    storage = str(Path(workdir) / f"{study}.log")
    result = tune(
        case.kernel,
        budget=budget,
        strategy=strategy,
        storage=storage,
        study=study,
        seed=seed,
        out=Path(workdir) / f"out-{study}",
        defines=list(case.defines),
        space=m.space,
        measurer=m,
        scorer_factory=scorer_factory,
    )
    st, _ = open_storage(storage)
    trials = optuna.load_study(study_name=study, storage=st).get_trials(deepcopy=False)
    return Run(result, list(m.calls), sorted(trials, key=lambda t: t.number), m.space)


def config_sampler(
    strategy: str, case: ReplayCase, scorer_factory: ScorerFactory | None = None
) -> ConfigSampler | None:
    """The strategy's sampler if it is a ConfigSampler (one that sees what is taken), else None."""
    space = case.measurer().space
    kernel = Kernel.load(case.kernel, defines=list(case.defines))
    sampler = make_sampler(strategy, space, 0, kernel, scorer_factory)
    return sampler if isinstance(sampler, ConfigSampler) else None


# --- the checks --------------------------------------------------------------------------------
def check_run(run: Run, budget: int, sees: bool) -> None:
    """The invariants of one finished run (budget reached); `sees`: the sampler is a ConfigSampler."""
    calls, space, result = run.calls, run.space, run.result
    assert len(calls) == len(set(calls)), "a configuration was measured twice"
    assert len(calls) == budget == result.n_trials, f"budget not kept: {len(calls)} measured, budget {budget}"
    assert result.stop_reason == "budget", f"stopped for {result.stop_reason!r}, not the budget"
    keys = list(result.trials["key"])
    assert keys == calls, "the trials table is not exactly what was measured, in order"
    for key in keys:
        cfg = space.canonical(json.loads(key))
        assert space.is_valid(cfg) and config_key(cfg) == key, f"not a valid canonical configuration: {key}"
    assert result.trials.iloc[0]["trial"] == 0 and keys[0] == config_key(space.default()), "the baseline is not first"
    best_row = result.trials.loc[result.trials["speedup"].idxmax()]
    assert result.speedup == pytest.approx(best_row["speedup"]), "the reported best is not the best measured"
    assert result.speedup >= result.trials.iloc[0]["speedup"], "the best is worse than the baseline"
    by_number = {t.number: t for t in run.trials}
    for t in run.trials:
        again = t.user_attrs.get(DUPLICATE_OF)
        if sees:
            assert again is None and "skipped" not in t.user_attrs, (
                f"trial {t.number}: the sampler proposed a configuration already taken ({t.user_attrs.get(KEY)})"
            )
        elif again is not None:
            first = by_number[again]
            assert t.user_attrs[KEY] == first.user_attrs[KEY] and t.value == first.value, (
                f"trial {t.number}: a re-proposal not answered with the stored value"
            )
            assert not t.user_attrs.get(MEASURED) and "status" not in t.user_attrs, f"trial {t.number}: re-measured"


def check_invariants(
    strategy: str, case: ReplayCase, workdir: Path, scorer_factory: ScorerFactory | None = None, budget: int = 20
) -> None:
    """One run to the budget keeps every invariant of `check_run`."""
    run = run_strategy(strategy, case, workdir, budget=budget, scorer_factory=scorer_factory)
    check_run(run, budget, config_sampler(strategy, case, scorer_factory) is not None)


def check_seeded(
    strategy: str, case: ReplayCase, workdir: Path, scorer_factory: ScorerFactory | None = None, budget: int = 12
) -> None:
    """The same seed gives the same run; another seed another run, unless the sampler says `seeded = False`."""
    kw = {"budget": budget, "scorer_factory": scorer_factory}
    a = run_strategy(strategy, case, workdir, seed=7, study="seed-a", **kw)
    b = run_strategy(strategy, case, workdir, seed=7, study="seed-b", **kw)
    assert a.calls == b.calls, "the same seed gave another run"
    sampler = config_sampler(strategy, case, scorer_factory)
    if sampler is None or sampler.seeded:
        c = run_strategy(strategy, case, workdir, seed=8, study="seed-c", **kw)
        assert c.calls != a.calls, "another seed gave the same run (set `seeded = False` if that is by design)"


def check_resume(
    strategy: str, case: ReplayCase, workdir: Path, scorer_factory: ScorerFactory | None = None, budget: int = 12
) -> None:
    """A study continued after it stopped keeps its measurements and repeats none of them.

    A ConfigSampler draws from (seed, trial number) and the study's history alone, so
    the continued run must also measure what an uninterrupted run measures.
    """
    kw = {"seed": 3, "scorer_factory": scorer_factory}
    first = run_strategy(strategy, case, workdir, budget=budget // 2, study="resumed", **kw)
    second = run_strategy(strategy, case, workdir, budget=budget, study="resumed", **kw)
    done = first.calls + second.calls
    assert len(done) == len(set(done)) == budget, "the continued run measured a configuration again"
    kept = [t for t in second.trials if t.user_attrs.get(MEASURED) and t.state == TrialState.COMPLETE]
    assert [t.user_attrs[KEY] for t in kept] == done, "the continued study does not hold both runs' measurements"
    if config_sampler(strategy, case, scorer_factory) is not None:
        whole = run_strategy(strategy, case, workdir, budget=budget, study="uninterrupted", **kw)
        assert whole.calls == done, "a continued run proposed other configurations than an uninterrupted one"


def check_strategy_contract(
    strategy: str, case: ReplayCase, workdir: Path, scorer_factory: ScorerFactory | None = None
) -> None:
    """Every check above, each in its own folder under `workdir`."""
    for check in (check_invariants, check_seeded, check_resume):
        folder = Path(workdir) / check.__name__
        folder.mkdir(parents=True, exist_ok=True)
        check(strategy, case, folder, scorer_factory)


class StrategyContract:
    """Subclass with `strategy = "<registered name>"` to run the contract on it (pytest collects `Test*`).

    Fixtures it uses: `replay_case` (from your conftest.py), `scorer_factory`
    (None: the strategy's own; override it to give guided a stand-in such as
    HashScorer.factory) and `strategy_name` (this class's `strategy`;
    parametrize `strategy_name` to run the contract on several strategies).
    """

    strategy: str = ""
    budget: int = 20

    @pytest.fixture
    def strategy_name(self) -> str:
        assert self.strategy, f"{type(self).__name__}: set `strategy` to a registered strategy name"
        return self.strategy

    @pytest.fixture
    def scorer_factory(self) -> ScorerFactory | None:
        return None

    def test_valid_configurations_each_measured_once_within_budget(
        self, strategy_name: str, replay_case: ReplayCase, scorer_factory: ScorerFactory | None, tmp_path: Path
    ) -> None:
        check_invariants(strategy_name, replay_case, tmp_path, scorer_factory, self.budget)

    def test_same_seed_same_run_other_seed_other_run(
        self, strategy_name: str, replay_case: ReplayCase, scorer_factory: ScorerFactory | None, tmp_path: Path
    ) -> None:
        check_seeded(strategy_name, replay_case, tmp_path, scorer_factory)

    def test_continued_run_repeats_nothing(
        self, strategy_name: str, replay_case: ReplayCase, scorer_factory: ScorerFactory | None, tmp_path: Path
    ) -> None:
        check_resume(strategy_name, replay_case, tmp_path, scorer_factory)
