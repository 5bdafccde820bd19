"""Measurement: run, time, verify, and estimate a speedup with its CI, aware of other work's load.

Modules, one job each: `result` (Options in, Measurement out), `protocol` (the interleaved,
adaptive, verified protocol: `Bench`), `runner` (one run of a program, nothing of it left
afterwards), `procs` (the processes of a run: /proc, tags, kill sweeps), `timing` (which timer a
run printed), `verify` (output against the reference), `stats` (the speedup and its CI), `load`
(other work on the CPUs).
"""

from autotune.measure.protocol import Bench, measure
from autotune.measure.result import Measurement, Measurer, Options, Status
from autotune.measure.stats import MIN_CI_PAIRS

__all__ = ["MIN_CI_PAIRS", "Bench", "Measurement", "Measurer", "Options", "Status", "measure"]
