"""Measurement: run, time, verify, and estimate a speedup with its CI, aware of other work's load."""

from autotune.measure.protocol import Bench, Measurement, Options, Status, measure
from autotune.measure.stats import MIN_CI_PAIRS

__all__ = ["MIN_CI_PAIRS", "Bench", "Measurement", "Options", "Status", "measure"]
