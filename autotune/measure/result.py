"""What a measurement is asked to do (`Options`) and what it returns (`Measurement`).

Why apart from the protocol: every stage after Measure (trial records, the study, the
measurement database, the surrogate's data, the replay) reads and writes these values without
needing the machinery that produces them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal, Protocol

import psutil

from autotune.measure import stats
from autotune.space import Config

Status = Literal["ok", "compile_error", "runtime_error", "timeout", "wrong_output"]
StopReason = Literal["ci target", "pair cap", "time cap", ""]


@dataclass
class Options:
    """Knobs of the protocol itself; defaults follow the foundation issue."""

    min_pairs: int = stats.MIN_CI_PAIRS  # fewer pairs cannot claim a 95% CI
    max_pairs: int = 60
    ci_target: float = 0.02  # stop when the CI half-width is within +-2% of the speedup
    warmup: int = 1
    timeout_factor: float = 5.0  # a candidate run may take this many baseline runs (+1 s)
    baseline_timeout: float = 120.0
    memory_bytes: int | None = None  # default: 3/4 of physical memory
    max_seconds: float | None = None  # wall budget of one measurement (runs only)
    cpus: list[int] | None = None  # CPU affinity of the measured runs
    seed: int = 0  # kept with the study; the CI itself draws no random numbers
    load_check: str = "wait"  # off | wait | strict (autotune.measure.load)
    load_max_busy: float = 0.25  # share of the usable CPUs other work may keep busy
    load_wait_s: float = 120.0  # how long to wait for quiet CPUs before a measurement

    def memory_cap(self) -> int:
        return self.memory_bytes or int(psutil.virtual_memory().total * 3 // 4)


@dataclass
class Measurement:
    status: Status
    message: str
    config: Config
    changed: Config
    speedup: float | None = None
    ci: tuple[float, float] | None = None  # None: too few pairs to claim a 95% CI
    baseline_seconds: float | None = None  # medians over the pairs
    candidate_seconds: float | None = None
    repetitions: int = 0  # interleaved pairs
    verified: bool = False
    timing: str = ""
    stop_reason: StopReason = ""  # ok measurements: what ended the pairs
    timer_fallback: bool = False  # the baseline never printed its expected timer: wall time used
    baseline_times: list[float] = field(default_factory=list)
    candidate_times: list[float] = field(default_factory=list)
    build_seconds: float = 0.0
    build_cached: bool = False
    build_key: str = ""
    harness_seconds: float = 0.0  # wall time of the runs phase, builds excluded
    run_wall_seconds: float = 0.0  # sum of the child processes' spawn-to-reap times
    runs: int = 0
    load_before: float | None = None  # other work's share of the CPUs just before the runs (None: not sampled)
    load_during: float | None = None  # ... and during them
    load_waited: float = 0.0  # seconds spent waiting for quiet CPUs
    under_load: bool = False  # before or during exceeded Options.load_max_busy
    machine: dict = field(default_factory=dict)

    @property
    def overhead_per_run(self) -> float:
        """Framework time per run beyond the programs' own spawn-to-reap time."""
        return (self.harness_seconds - self.run_wall_seconds) / self.runs if self.runs else 0.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["ci"] = list(self.ci) if self.ci else None
        d["overhead_per_run"] = self.overhead_per_run
        return d


class Measurer(Protocol):
    """Turns a configuration into a Measurement (errors as values, never raised).

    `Bench` is one (it builds and times); `autotune.trials.replay.ReplayMeasurer` serves recorded
    measurements back. The search loop and the recorders take any of them.
    """

    def measure(self, config: Config) -> Measurement: ...
