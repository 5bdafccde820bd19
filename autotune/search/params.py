"""The mapping between a Space configuration and Optuna trial parameters.

Why define-by-run: a knob that is inactive (a chunk under `schedule=auto`,
Polly options with Polly off) has no effect, so it is not a parameter of the
trial at all. Samplers then never spend proposals on it, two trials that
differ only in an inactive knob cannot exist, and the trial's params plus the
space's defaults give back exactly one canonical configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from optuna.distributions import CategoricalDistribution

from autotune.space import Config, Space
from autotune.trials.records import config_key

__all__ = ["active_params", "config_from_params", "config_from_trial", "config_key", "distribution", "suggest"]


class _Suggests(Protocol):
    def suggest_categorical(self, name: str, choices: Any) -> Any: ...


class _HasParams(Protocol):
    @property
    def params(self) -> dict[str, Any]: ...


def distribution(space: Space, name: str) -> CategoricalDistribution:
    """Every knob is categorical: its choices are unordered labels ("auto", 16, "guided")."""
    return CategoricalDistribution(space[name].choices)


def suggest(trial: _Suggests, space: Space) -> Config:
    """Ask the trial for every active knob, in space order (parents before dependents).

    Returns the canonical configuration: inactive knobs pinned to their defaults.
    """
    cfg: Config = {}
    for k in space:
        cfg[k.name] = trial.suggest_categorical(k.name, k.choices) if k.active(cfg) else k.default
    return cfg


def config_from_params(space: Space, params: Mapping[str, Any]) -> Config:
    """The canonical configuration for a trial's params (knobs it lacks take their defaults)."""
    return space.canonical(params)


def config_from_trial(trial: _HasParams, space: Space) -> Config:
    return config_from_params(space, trial.params)


def active_params(space: Space, config: Mapping[str, Any]) -> dict[str, Any]:
    """The params a trial of this configuration has: its active knobs only (for enqueueing)."""
    cfg = space.canonical(config)
    return {k.name: cfg[k.name] for k in space if k.active(cfg)}
