"""Strategies by name: the one place that lists them, each resolved only when asked for.

Why lazily, as Kernel Tuner resolves its strategies: naming a strategy must not
import what the others need (guided pulls in the surrogate, torch and the
encoder), so the registry holds module paths, and the module is imported when
its strategy is used.

Adding a strategy: write `autotune/search/strategies/<name>.py` with a
`make(space, seed, kernel, scorer_factory) -> optuna.samplers.BaseSampler`
(a ConfigSampler subclass keeps the invariants for free), and add one line to
REGISTRY below. tests/search/test_strategies.py then runs the strategy
contract (autotune.search.testing) on it against the recorded replay.
"""

from __future__ import annotations

import importlib

from optuna.samplers import BaseSampler

from autotune.errors import UserError
from autotune.kernel import Kernel
from autotune.search.strategies.base import ScorerFactory, StrategyFactory
from autotune.space import Space

# name -> the module whose `make` builds its sampler (or the factory itself); the order is the one users see
REGISTRY: dict[str, str | StrategyFactory] = {
    "guided": "autotune.search.strategies.guided",
    "tpe": "autotune.search.strategies.tpe",
    "random": "autotune.search.strategies.random",
    "exhaustive": "autotune.search.strategies.exhaustive",
}
STRATEGIES: tuple[str, ...] = tuple(REGISTRY)


def check_strategy(name: str) -> str:
    if name not in REGISTRY:
        raise UserError(f"unknown strategy {name!r}; choose one of: {', '.join(REGISTRY)}")
    return name


def factory(name: str) -> StrategyFactory:
    """The `make` of a registered strategy, its module imported now."""
    target = REGISTRY[check_strategy(name)]
    if isinstance(target, str):
        return importlib.import_module(target).make
    return target


def make_sampler(
    name: str,
    space: Space,
    seed: int = 0,
    kernel: Kernel | None = None,
    scorer_factory: ScorerFactory | None = None,
) -> BaseSampler:
    """The sampler for a strategy name; guided builds its scorer through `scorer_factory`."""
    return factory(name)(space, seed, kernel, scorer_factory)
