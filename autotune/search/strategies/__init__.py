"""Search strategies, each an Optuna sampler, resolved by name.

One module per strategy, one registry:

* `base`: the ConfigSampler base, the guided strategy's `Scorer` protocol and
  the helpers strategies share (`unmeasured`, `neighbours`);
* `random`, `exhaustive`, `tpe`, `guided`: one strategy each, each with a
  `make(space, seed, kernel, scorer_factory)`;
* `registry`: names -> modules, imported only when a strategy is used;
  `check_strategy`, `make_sampler`.

Every registered strategy must keep the invariants in autotune.search.testing
(valid configurations only, none measured twice, the budget kept, seeded, resumable).
"""

from autotune.search.strategies.base import (
    RANDOM_TRIES,
    ConfigSampler,
    Scorer,
    ScorerFactory,
    StrategyFactory,
    need,
    neighbours,
    unmeasured,
)
from autotune.search.strategies.exhaustive import ExhaustiveSampler
from autotune.search.strategies.guided import PoolSampler, surrogate_scorer_factory
from autotune.search.strategies.random import RandomConfigSampler
from autotune.search.strategies.registry import REGISTRY, STRATEGIES, check_strategy, make_sampler
from autotune.search.strategies.tpe import TPE_STARTUP, tpe_proposals, tpe_sampler

__all__ = [
    "RANDOM_TRIES",
    "REGISTRY",
    "STRATEGIES",
    "TPE_STARTUP",
    "ConfigSampler",
    "ExhaustiveSampler",
    "PoolSampler",
    "RandomConfigSampler",
    "Scorer",
    "ScorerFactory",
    "StrategyFactory",
    "check_strategy",
    "make_sampler",
    "need",
    "neighbours",
    "surrogate_scorer_factory",
    "tpe_proposals",
    "tpe_sampler",
    "unmeasured",
]
