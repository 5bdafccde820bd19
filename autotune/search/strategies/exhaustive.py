"""exhaustive: every configuration once, in the space's fixed enumeration order (for small spaces)."""

from __future__ import annotations

from typing import Any

import optuna

from autotune.kernel import Kernel
from autotune.search.history import History
from autotune.search.strategies.base import ConfigSampler, ScorerFactory, need
from autotune.space import Config, Space
from autotune.trials.records import config_key


class ExhaustiveSampler(ConfigSampler):
    """Every configuration once, in the space's fixed enumeration order (for small spaces)."""

    seeded = False  # one order by design: the seed changes nothing

    def propose(self, study: optuna.Study, number: int, history: History) -> tuple[Config, dict[str, Any]]:
        taken = history.taken
        for i, cfg in enumerate(self.space.enumerate()):
            if config_key(cfg) not in taken:
                return cfg, {"proposal": "exhaustive", "position": i}
        return need(None), {}


def make(
    space: Space, seed: int = 0, kernel: Kernel | None = None, scorer_factory: ScorerFactory | None = None
) -> ExhaustiveSampler:
    return ExhaustiveSampler(space, seed)
