"""The timing protocol (DESIGN.md section 3): interleaved, adaptive, verified.

A `Bench` holds one kernel's baseline: it is built and run once to get the
reference output and a first time, and every candidate is then measured
against it as A B B A A B ... pairs until the 95% bootstrap CI of the speedup
is within the target or a cap is reached.

The result of `Bench.measure` is always a value: `ok`, `compile_error`,
`runtime_error`, `timeout` or `wrong_output`, with a message. A broken
*baseline* is different: nothing can be measured against it, so it raises
UserError with the diagnostics.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import psutil

from autotune import machine
from autotune.build import Builder, BuildResult
from autotune.discover import build_space
from autotune.errors import UserError
from autotune.kernel import Kernel
from autotune.measure import runner, stats, timing, verify
from autotune.space import Config, Space
from autotune.variant import Variant, make_variant

Status = Literal["ok", "compile_error", "runtime_error", "timeout", "wrong_output"]


@dataclass
class Options:
    """Knobs of the protocol itself; defaults follow the foundation issue."""

    min_pairs: int = 5
    max_pairs: int = 60
    ci_target: float = 0.02  # stop when the CI half-width is within +-2% of the speedup
    warmup: int = 1
    timeout_factor: float = 5.0  # a candidate run may take this many baseline runs (+1 s)
    baseline_timeout: float = 600.0
    memory_bytes: int | None = None  # default: 3/4 of physical memory
    max_seconds: float | None = None  # wall budget of one measurement (runs only)
    cpus: list[int] | None = None  # CPU affinity of the measured runs
    seed: int = 0

    def memory_cap(self) -> int:
        return self.memory_bytes or int(psutil.virtual_memory().total * 3 // 4)


@dataclass
class Measurement:
    status: Status
    message: str
    config: Config
    changed: Config
    speedup: float | None = None
    ci: tuple[float, float] | None = None
    baseline_seconds: float | None = None  # medians over the pairs
    candidate_seconds: float | None = None
    repetitions: int = 0  # interleaved pairs
    verified: bool = False
    timing: str = ""
    baseline_times: list[float] = field(default_factory=list)
    candidate_times: list[float] = field(default_factory=list)
    build_seconds: float = 0.0
    build_cached: bool = False
    build_key: str = ""
    harness_seconds: float = 0.0  # wall time of the runs phase, builds excluded
    run_wall_seconds: float = 0.0  # sum of the child processes' spawn-to-reap times
    runs: int = 0
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


class Bench:
    """Measure configurations of one kernel against its untransformed baseline."""

    def __init__(
        self,
        kernel: Kernel,
        space: Space | None = None,
        options: Options | None = None,
        builder: Builder | None = None,
    ) -> None:
        self.kernel = kernel
        self.space = space or build_space(kernel)
        self.options = options or Options()
        self.builder = builder or Builder()
        self._reference: str | None = None
        self._reference_hash: str | None = None
        self._base_build: BuildResult | None = None
        self._base_variant: Variant | None = None
        self._base_wall: float = 0.0

    # --- the baseline -------------------------------------------------------------
    def prepare(self) -> None:
        """Build and run the baseline once; raise UserError if it cannot serve."""
        if self._reference is not None:
            return
        k = self.kernel
        self._base_variant = make_variant(k, self.space, self.space.default())
        b = self.builder.build(k, self._base_variant)
        if not b.ok:
            raise UserError(f"{k.path}: the program does not compile as given: {b.diagnostics(3)}")
        self._base_build = b
        r = self._run(b, self._base_variant, self.options.baseline_timeout)
        if r.timed_out:
            raise UserError(
                f"{k.path}: the program did not finish within {self.options.baseline_timeout:g} s; "
                "use a smaller problem size (-D...) or raise --baseline-timeout"
            )
        if r.returncode != 0:
            raise UserError(f"{k.path}: the program fails as given ({r.describe_failure()}); fix it before tuning")
        t = timing.extract(r, k.timing)
        if not t.output.strip():
            raise UserError(
                f"{k.path}: the program prints nothing; print a checksum of its results to stdout "
                "so variants can be verified"
            )
        self._reference = t.output
        self._reference_hash = _digest(t.output)
        self._base_wall = r.wall

    @property
    def reference_output(self) -> str:
        self.prepare()
        assert self._reference is not None
        return self._reference

    # --- one run ------------------------------------------------------------------------
    def _run(self, build: BuildResult, variant: Variant, timeout: float) -> runner.RunResult:
        assert build.exe is not None
        return runner.run(
            build.exe,
            self.kernel.args,
            runner.clean_env(variant.env),
            timeout=timeout,
            memory_bytes=self.options.memory_cap(),
            cpus=self.options.cpus,
            cwd=self.kernel.path.resolve().parent,
        )

    def _check(self, r: runner.RunResult, timeout: float) -> tuple[Status, str] | None:
        if r.timed_out:
            return "timeout", f"run exceeded {timeout:.3g} s ({self.options.timeout_factor:g}x the baseline + 1 s)"
        if r.returncode != 0:
            return "runtime_error", r.describe_failure()
        return None

    def _verify(self, output: str, seen: set[str]) -> verify.Verdict:
        h = _digest(output)
        if h in seen or h == self._reference_hash:
            return verify.Verdict(True, "identical" if h == self._reference_hash else "verified")
        v = verify.compare(self.reference_output, output, self.kernel.rtol, self.kernel.atol)
        if v.ok:
            seen.add(h)
        return v

    # --- the protocol ---------------------------------------------------------------------
    def measure(
        self, config: Config | None = None, progress: Callable[[int, stats.Estimate | None], None] | None = None
    ) -> Measurement:
        """Measure one configuration (default: the baseline itself, an A/A run).

        `progress(pairs_done, estimate_or_None)` is called after every pair.
        """
        self.prepare()
        opts = self.options
        cfg = self.space.validate(config or {})
        m = Measurement(
            status="ok", message="", config=cfg, changed=self.space.changed(cfg), machine=machine.current().to_dict()
        )
        variant = make_variant(self.kernel, self.space, cfg)
        build = self.builder.build(self.kernel, variant)
        m.build_seconds, m.build_cached, m.build_key = build.seconds, build.cached, build.key
        if not build.ok:
            m.status, m.message = "compile_error", build.diagnostics()
            return m
        assert self._base_build is not None and self._base_variant is not None
        base_build, base_variant = self._base_build, self._base_variant
        timeout = opts.timeout_factor * self._base_wall + 1.0
        seen: set[str] = set()
        t_start = time.perf_counter()
        wall_sum = 0.0
        runs = 0

        def cand_run() -> tuple[runner.RunResult, timing.Timed | None, tuple[Status, str] | None]:
            nonlocal wall_sum, runs, timeout
            r = self._run(build, variant, timeout)
            wall_sum += r.wall
            runs += 1
            bad = self._check(r, timeout)
            if bad:
                return r, None, bad
            t = timing.extract(r, self.kernel.timing)
            v = self._verify(t.output, seen)
            if not v.ok:
                return r, t, ("wrong_output", v.message)
            return r, t, None

        def base_run() -> timing.Timed:
            nonlocal wall_sum, runs
            r = self._run(base_build, base_variant, max(opts.baseline_timeout, timeout))
            wall_sum += r.wall
            runs += 1
            if not r.ok:
                raise UserError(f"{self.kernel.path}: the baseline failed during measurement ({r.describe_failure()})")
            t = timing.extract(r, self.kernel.timing)
            v = self._verify(t.output, seen)
            if not v.ok:
                raise UserError(
                    f"{self.kernel.path}: the untransformed program prints different output from run to run "
                    f"({v.message}); print only deterministic results, or loosen --rtol/--atol"
                )
            return t

        def finish(status: Status, message: str) -> Measurement:
            m.status, m.message = status, message
            m.harness_seconds = time.perf_counter() - t_start
            m.run_wall_seconds, m.runs = wall_sum, runs
            return m

        for _ in range(max(opts.warmup, 1)):  # warm-up doubles as the first verification
            base_run()  # first: a baseline that does not reproduce itself is the program's fault
            _, t, bad = cand_run()
            if bad:
                return finish(*bad)
        m.verified = True
        btimes: list[float] = []
        ctimes: list[float] = []
        est = None
        for i in range(opts.max_pairs):
            order = (0, 1) if i % 2 == 0 else (1, 0)
            for who in order:
                if who == 0:
                    bt = base_run()
                    btimes.append(bt.seconds)
                else:
                    _, ct, bad = cand_run()
                    if bad:
                        m.verified = bad[0] != "wrong_output" and m.verified
                        return finish(*bad)
                    assert ct is not None
                    ctimes.append(ct.seconds)
                    m.timing = ct.source
            if progress is not None:
                progress(len(btimes), est)
            if len(btimes) >= opts.min_pairs:
                est = stats.paired_speedup(btimes, ctimes, seed=opts.seed)
                if est.rel_halfwidth <= opts.ci_target:
                    break
                if opts.max_seconds is not None and time.perf_counter() - t_start > opts.max_seconds:
                    break
        if est is None:
            est = stats.paired_speedup(btimes, ctimes, seed=opts.seed)
        m.speedup, m.ci = est.speedup, (est.lo, est.hi)
        m.baseline_times, m.candidate_times = btimes, ctimes
        m.baseline_seconds = float(sorted(btimes)[len(btimes) // 2])
        m.candidate_seconds = float(sorted(ctimes)[len(ctimes) // 2])
        m.repetitions = len(btimes)
        msg = "verified" if m.verified else "not verified"
        if est.rel_halfwidth > opts.ci_target:
            msg += (
                f"; CI half-width {est.rel_halfwidth:.1%} above the {opts.ci_target:.0%} target at the repetition cap"
            )
        return finish("ok", msg)


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def measure(
    path: str | Path, settings: list[str] | None = None, options: Options | None = None, **kernel_kw
) -> Measurement:
    """One-call API: load, discover, measure `--set`-style settings."""
    kernel = Kernel.load(path, **kernel_kw)
    bench = Bench(kernel, options=options)
    from autotune.space import InvalidConfig

    try:
        cfg = bench.space.parse_assignments(settings or [])
    except InvalidConfig as exc:
        raise UserError(f"--set: {exc}") from None
    return bench.measure(cfg)
