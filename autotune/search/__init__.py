"""Search: strategies as Optuna samplers, the tuning loop, storage and outputs.

Modules, one job each: `params` (configs <-> trial params), `records` (flat
records of measurements and spaces), `history` (what a study knows),
`strategies` (samplers by name), `storage` (where studies live, what they
record), `session` (the loop), `outputs` (files for people), `api` (`tune`).
"""

from autotune.search.api import tune, tune_kernel
from autotune.search.outputs import Result, report
from autotune.search.session import Budget, Measurer, ReplayMeasurer
from autotune.search.strategies import STRATEGIES, PoolSampler, Scorer

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
