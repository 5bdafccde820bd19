"""random: uniform over each active knob, never a configuration already taken.

The baseline for every other strategy: what a search without a model finds.
(This module is `autotune.search.strategies.random`; `import random` elsewhere,
absolute as every import in Python 3, still means the standard library.)
"""

from __future__ import annotations

from typing import Any

import optuna

from autotune.kernel import Kernel
from autotune.search.history import History
from autotune.search.strategies.base import ConfigSampler, ScorerFactory, need, unmeasured
from autotune.space import Config, Space


class RandomConfigSampler(ConfigSampler):
    """Uniform over each active knob (as Space.sample), never a configuration already taken."""

    def propose(self, study: optuna.Study, number: int, history: History) -> tuple[Config, dict[str, Any]]:
        return need(unmeasured(self.space, history.taken, self.rng(number))), {"proposal": "random"}


def make(
    space: Space, seed: int = 0, kernel: Kernel | None = None, scorer_factory: ScorerFactory | None = None
) -> RandomConfigSampler:
    return RandomConfigSampler(space, seed)
