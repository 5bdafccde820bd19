"""Search: strategies as Optuna samplers, the tuning loop, storage and outputs.

Modules, one job each: `params` (configs <-> trial params), `history` (what a
study knows), `strategies/` (samplers by name: one module per strategy and a
registry), `testing` (the contract every strategy keeps, for test suites),
`storage` (where studies live, what they record), `session` (the loop),
`outputs` (files for people), `api` (`tune`). Trial records and the replay
measurer are the Trial stage's (autotune.trials).
"""

from autotune.search.api import tune, tune_kernel
from autotune.search.outputs import Result, report
from autotune.search.session import Budget, Measurer
from autotune.search.strategies import STRATEGIES, PoolSampler, Scorer
from autotune.trials.replay import ReplayMeasurer

__all__ = [
    "STRATEGIES",
    "Budget",
    "Measurer",
    "PoolSampler",
    "ReplayMeasurer",
    "Result",
    "Scorer",
    "report",
    "tune",
    "tune_kernel",
]
