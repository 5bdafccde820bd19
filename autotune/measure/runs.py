"""The runs of one measurement: the baseline's and a candidate's, each checked and verified.

Why apart from the protocol: a measurement of one configuration (`Bench.measure`)
and a batch of them sharing the baseline's runs (`autotune.measure.batch`) time
the same way, and a run must be judged the same way in both: a failed or
timed-out candidate is a status, a wrong output is `wrong_output` (or the
program's own fault when the candidate is the baseline's binary), a missing
timer is not comparable, and a baseline that stops reproducing itself stops
everything.
"""

from __future__ import annotations

from typing import Protocol

from autotune.build import BuildResult
from autotune.errors import BaselineError, UserError
from autotune.kernel import Kernel
from autotune.measure import runner, timing, verify
from autotune.measure.result import Options, Status
from autotune.variant import Variant

Bad = tuple[Status, str]


class Bench(Protocol):
    """What the runs need of `autotune.measure.protocol.Bench` (its baseline, its checks): the protocol
    module imports this one, so it is named here by shape."""

    kernel: Kernel
    options: Options
    _base_build: BuildResult | None
    _base_variant: Variant | None

    def _run(self, build: BuildResult, variant: Variant, timeout: float) -> runner.RunResult: ...
    def _check(self, r: runner.RunResult, timeout: float) -> Bad | None: ...
    def _verify(self, output: str, seen: set[str]) -> verify.Verdict: ...
    def _timer_mismatch(self, t: timing.Timed) -> str | None: ...
    def _nondeterministic(self, detail: str) -> BaselineError: ...


class Runs:
    """Runs against one bench's baseline under one timeout; `wall` and `count` add up what they cost.

    `seen`: digests of outputs already verified, shared by every run made
    through this object (verifying the same output twice is wasted work).
    """

    def __init__(self, bench: Bench, timeout: float) -> None:
        self.bench = bench
        self.timeout = timeout
        self.seen: set[str] = set()
        self.wall = 0.0
        self.count = 0
        self.last_wall = 0.0

    def _timed(self, build: BuildResult, variant: Variant, timeout: float) -> runner.RunResult:
        r = self.bench._run(build, variant, timeout)
        self.last_wall = r.wall
        self.wall += r.wall
        self.count += 1
        return r

    def baseline(self) -> timing.Timed:
        """One run of the untransformed program; raises UserError if it no longer serves as the reference."""
        bench = self.bench
        assert bench._base_build is not None and bench._base_variant is not None
        r = self._timed(bench._base_build, bench._base_variant, max(bench.options.baseline_timeout, self.timeout))
        if not r.ok:
            raise UserError(f"{bench.kernel.path}: the baseline failed during measurement ({r.describe_failure()})")
        t = timing.extract(r, bench.kernel.timing)
        v = bench._verify(t.output, self.seen)
        if not v.ok:
            raise bench._nondeterministic(v.message)
        if bench._timer_mismatch(t):
            raise UserError(f"{bench.kernel.path}: the untransformed program prints its timer in some runs only")
        return t

    def candidate(
        self, build: BuildResult, variant: Variant, same_as_baseline: bool
    ) -> tuple[timing.Timed | None, Bad | None]:
        """One run of a candidate: its time, or why it cannot be measured (a status and a message).

        same_as_baseline: the baseline's binary and environment (an A/A run), so a
        wrong output is the program's fault and raises instead.
        """
        bench = self.bench
        r = self._timed(build, variant, self.timeout)
        bad = bench._check(r, self.timeout)
        if bad:
            return None, bad
        t = timing.extract(r, bench.kernel.timing)
        v = bench._verify(t.output, self.seen)
        if not v.ok:
            if same_as_baseline:
                raise bench._nondeterministic(v.message)
            return t, ("wrong_output", v.message)
        mismatch = bench._timer_mismatch(t)
        if mismatch:
            return t, ("runtime_error", mismatch)
        return t, None
