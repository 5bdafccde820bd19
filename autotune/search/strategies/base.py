"""What every strategy is built from: the sampler base, the scorer protocol, the shared helpers.

Why a ConfigSampler: the study (storage, resume, several workers) is Optuna's,
so a strategy is just the part that picks the next configuration. A
ConfigSampler picks the whole configuration at once in `before_trial`, from
the space itself and the study's history, so it only ever proposes valid
configurations that were never measured, and answers Optuna's per-parameter
questions from that choice. (Optuna's own samplers, such as TPE, are used as
they are: they do not see what is taken, and the session answers their
re-proposals from storage.)

Reproducibility: a ConfigSampler draws with a generator seeded by (seed,
trial number), so the same seed gives the same sequence, and a resumed study
proposes what an uninterrupted one would have proposed at that trial.
autotune.search.testing checks both for every registered strategy.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, Protocol

import numpy as np
import optuna
import pandas as pd
from optuna.distributions import BaseDistribution, CategoricalDistribution
from optuna.samplers import BaseSampler
from optuna.trial import FrozenTrial, TrialState

from autotune.kernel import Kernel
from autotune.search.history import History
from autotune.space import Config, Space
from autotune.trials.records import config_key

RANDOM_TRIES = 64  # random draws before falling back to a scan for an unmeasured config


class Scorer(Protocol):
    """Ranks candidate configurations for the guided strategy; higher is better.

    `candidates` are valid, canonical, never-measured configurations (every knob
    of the space present). `history` is the study's measurements so far, one row
    each, as `History.frame()` gives it: `trial`, one column per knob, `status`
    ("ok" or the failure), `speedup` (None for failures; their objective is 0),
    `ci_lo`, `ci_hi`, `verified`, `baseline_seconds`, `candidate_seconds`,
    `build_key`, ..., `cpu_model`, `key`. Return one finite score per candidate,
    for example the expected improvement over the best speedup in `history`.
    """

    def score(self, candidates: list[Config], history: pd.DataFrame) -> np.ndarray: ...


ScorerFactory = Callable[[Kernel, Space], Scorer]


class StrategyFactory(Protocol):
    """What a strategy module exports as `make`: its sampler for a space and a seed.

    `kernel` and `scorer_factory` are given to every strategy; only those that
    need them (guided) look at them.
    """

    def __call__(
        self, space: Space, seed: int, kernel: Kernel | None, scorer_factory: ScorerFactory | None
    ) -> BaseSampler: ...


class ConfigSampler(BaseSampler):
    """Choose the whole configuration in `before_trial`; hand it out knob by knob.

    A subclass implements `propose`. `seeded` says whether the seed changes the
    sequence (exhaustive has one order by design).
    """

    seeded: ClassVar[bool] = True

    def __init__(self, space: Space, seed: int = 0) -> None:
        self.space = space
        self.seed = seed
        self._pending: dict[int, Config] = {}
        self._info: dict[int, dict[str, Any]] = {}

    def rng(self, trial_number: int) -> random.Random:
        return random.Random(f"{self.seed}/{trial_number}")

    def propose(self, study: optuna.Study, number: int, history: History) -> tuple[Config, dict[str, Any]]:
        """Return a valid configuration whose key is not in `history.taken`, and notes on why."""
        raise NotImplementedError

    def info(self, trial_number: int) -> dict[str, Any]:
        """What the sampler noted about its proposal (source, score, pool size), for the trial record."""
        return self._info.get(trial_number, {})

    # --- BaseSampler ---------------------------------------------------------------------
    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        if trial.system_attrs.get("fixed_params") is not None:
            return  # an enqueued trial (the baseline, a retry): its params are given
        history = History.read(study, self.space, exclude=trial.number)
        cfg, info = self.propose(study, trial.number, history)
        self._pending[trial.number] = cfg
        self._info[trial.number] = info

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return {}

    def sample_relative(
        self, study: optuna.Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        return {}

    def sample_independent(
        self, study: optuna.Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        cfg = self._pending.get(trial.number)
        if cfg is None or param_name not in cfg:  # not ours to choose: stay valid, stay seeded
            assert isinstance(param_distribution, CategoricalDistribution)
            return self.rng(trial.number).choice(param_distribution.choices)
        return cfg[param_name]

    def after_trial(self, study: optuna.Study, trial: FrozenTrial, state: TrialState, values: Any) -> None:
        self._pending.pop(trial.number, None)


def unmeasured(space: Space, taken: set[str], rng: random.Random) -> Config | None:
    """A random configuration not yet taken: random draws first, then a scan in enumeration order."""
    for _ in range(RANDOM_TRIES):
        cfg = space.sample(rng)
        if config_key(cfg) not in taken:
            return cfg
    for cfg in space.enumerate():
        if config_key(cfg) not in taken:
            return cfg
    return None


def need(cfg: Config | None) -> Config:
    """`cfg`, which a proposal must have: the session stops before asking when the space is exhausted."""
    if cfg is None:
        raise RuntimeError("no unmeasured configuration left; the session should have stopped")
    return cfg


def neighbours(space: Space, config: Config) -> Iterator[Config]:
    """Configurations one active knob away (dependents re-pinned, so each is valid and canonical)."""
    for k in space:
        if not k.active(config):
            continue
        for v in k.choices:
            if v != config[k.name]:
                yield space.canonical({**config, k.name: v})
