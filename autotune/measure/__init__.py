"""Measurement: run, time, verify, and estimate a speedup with its CI."""

from autotune.measure.protocol import Bench, Measurement, Options, Status, measure

__all__ = ["Bench", "Measurement", "Options", "Status", "measure"]
