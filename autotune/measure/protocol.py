"""The timing protocol (DESIGN.md section 3): interleaved, adaptive, verified.

A `Bench` holds one kernel's baseline: it is built and run twice to get the
reference output, a first time, and proof that the output is deterministic;
every candidate is then measured
against it as A B B A A B ... pairs until the 95% CI of the speedup (an
order-statistic interval for the median ratio, module `stats`) is within the
target or a cap is reached. Below `stats.MIN_CI_PAIRS` pairs no CI is claimed.
By default the runs wait for other work to leave the CPUs, and the load
before and during them is recorded with the result (module `load`).

The result of `Bench.measure` is always a value: `ok`, `compile_error`,
`runtime_error`, `timeout` or `wrong_output`, with a message. A broken
*baseline* is different: nothing can be measured against it, so it raises
UserError with the diagnostics.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from pathlib import Path

from autotune import machine, programs
from autotune.build import Builder, BuildResult
from autotune.errors import BaselineError, UserError, option
from autotune.kernel import Kernel
from autotune.measure import load, runner, stats, timing, verify
from autotune.measure.result import Measurement, Options, Status, StopReason
from autotune.measure.runs import Runs
from autotune.space import Config, Space
from autotune.space.discover import build_space
from autotune.variant import Variant, make_variant

__all__ = ["Bench", "Measurement", "Options", "Status", "StopReason", "measure", "parse_settings"]


class Bench:
    """Measure configurations of one kernel against its untransformed baseline.

    `on_wait(busy, waited_s)` is called while a measurement waits for other
    work to leave the CPUs (Options.load_check), so a progress line can say why.
    """

    def __init__(
        self,
        kernel: Kernel,
        space: Space | None = None,
        options: Options | None = None,
        builder: Builder | None = None,
        on_wait: load.WaitCallback | None = None,
    ) -> None:
        self.kernel = kernel
        self.space = space or build_space(kernel)
        self.options = options or Options()
        self.builder = builder or Builder()
        self.on_wait = on_wait
        self._reference: str | None = None
        self._reference_hash: str | None = None
        self._base_build: BuildResult | None = None
        self._base_variant: Variant | None = None
        self._base_timed: timing.Timed | None = None
        self._base_wall: float = 0.0
        self._load_persists = False  # the last wait for quiet CPUs ran out with the load still there

    # --- the baseline -------------------------------------------------------------
    def prepare(self) -> None:
        """Build and run the baseline twice; raise UserError if it cannot serve.

        Why twice: every candidate is verified against the baseline's output, so
        a program whose output changes from run to run (a data race, the time)
        would fail every variant as `wrong_output`. One clear error up front
        says what is wrong instead.
        """
        if self._reference is not None:
            return
        runner.reap_leftovers()  # a killed earlier tuner's programs must not share the cores with ours
        k = self.kernel
        self._base_variant = make_variant(k, self.space, self.space.default())
        b = self.builder.build(k, self._base_variant)
        if not b.ok:
            raise UserError(f"{k.path}: the program does not compile as given: {b.diagnostics(3)}")
        self._base_build = b
        first = self._baseline_once(b, self._base_variant)
        if not first[1].output.strip():
            raise UserError(
                f"{k.path}: the program prints nothing; print a checksum of its results to stdout "
                "so variants can be verified"
            )
        second = self._baseline_once(b, self._base_variant)
        v = verify.compare(first[1].output, second[1].output, k.rtol, k.atol)
        if not v.ok:
            raise self._nondeterministic(v.message)
        self._reference = first[1].output
        self._reference_hash = _digest(first[1].output)
        self._base_timed = first[1]
        self._base_wall = max(first[0].wall, second[0].wall)

    def _baseline_once(self, b: BuildResult, variant: Variant) -> tuple[runner.RunResult, timing.Timed]:
        k = self.kernel
        r = self._run(b, variant, self.options.baseline_timeout)
        if r.timed_out:
            raise UserError(
                f"{k.path}: the program did not finish within {self.options.baseline_timeout:g} s; "
                "use a smaller problem size (-D...) or raise --baseline-timeout"
            )
        no_device = re.search(rb"^@autotune error no-device ?(.*)$", r.stderr, re.M)
        if r.returncode != 0 and no_device:  # the GPU-style host programs' own line (autotune/gpu)
            why = no_device.group(1).decode("utf-8", "replace").strip() or "none found"
            raise UserError(
                f"{k.path}: no device to run it on ({why}); `autotune space` and builds work without one, "
                "measuring needs the device"
            )
        if r.returncode != 0:
            raise UserError(f"{k.path}: the program fails as given ({r.describe_failure()}); fix it before tuning")
        return r, timing.extract(r, k.timing)

    def _nondeterministic(self, detail: str) -> BaselineError:
        return BaselineError(
            f"{self.kernel.path}: the program prints different output from run to run ({detail}): its results "
            "differ between runs of the same binary, e.g. a data race (a shared sum in a parallel loop without "
            f"`reduction`) or printing the time or addresses; fix it, or loosen {option('rtol')}/{option('atol')}"
        )

    @property
    def baseline_seconds(self) -> float:
        """The untransformed program's time (its first run; the region's where it has a timer)."""
        self.prepare()
        assert self._base_timed is not None
        return self._base_timed.seconds

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
            # an OpenCL kernel is built for its device when the host program runs (autotune/gpu/clhost.c)
            built = b"@autotune error compile" not in r.stderr
            return "runtime_error" if built else "compile_error", r.describe_failure()
        return None

    def _verify(self, output: str, seen: set[str]) -> verify.Verdict:
        h = _digest(output)
        if h in seen or h == self._reference_hash:
            return verify.Verdict(True, "identical" if h == self._reference_hash else "verified")
        v = verify.compare(self.reference_output, output, self.kernel.rtol, self.kernel.atol)
        if v.ok:
            seen.add(h)
        return v

    def _timer_mismatch(self, t: timing.Timed) -> str | None:
        """Why a candidate's time cannot be compared with the baseline's, or None."""
        assert self._base_timed is not None
        base = self._base_timed
        if t.source == base.source:
            return None
        name = timing.timer_name(self.kernel.timing)
        if t.fallback:
            return (
                f"the {name} is missing from this variant's output, though the baseline prints it; "
                "its wall time is not comparable with the baseline's timer"
            )
        return f"this variant prints the {name} but the baseline does not; the two times are not comparable"

    # --- the protocol ---------------------------------------------------------------------
    def measure(
        self, config: Config | None = None, progress: Callable[[int, stats.Estimate | None], None] | None = None
    ) -> Measurement:
        """Measure one configuration (default: the baseline itself, an A/A run).

        `progress(pairs_done, estimate_or_None)` is called after every pair.
        With Options.load_check other than "off", the runs wait for quiet CPUs
        first and the load before and during them is recorded (module `load`).
        """
        self.prepare()
        cfg = self.space.validate(config or {})
        variant = make_variant(self.kernel, self.space, cfg)
        build = self.builder.build(self.kernel, variant)
        if not build.ok:
            m = self.new_measurement(cfg, build)
            m.status, m.message = "compile_error", build.diagnostics()
            return m
        return self.watched(lambda: [self._runs(self.new_measurement(cfg, build), build, variant, progress)])[0]

    def watched(self, runs: Callable[[], list[Measurement]]) -> list[Measurement]:
        """`runs()` after waiting for quiet CPUs, with the load before and during it recorded on each result.

        In strict mode a load that exceeds the limit raises UserError (after one
        more try when the load came during the runs); in wait mode the results
        are flagged `under_load` and say so in their message.
        """
        opts = self.options
        mode = load.check_mode(opts.load_check)
        waited = 0.0
        for attempt in (1, 2):
            before: float | None = None
            if mode != "off":
                # once a whole wait ended in load, later measurements only look until quiet returns:
                # a load that outlasts the limit would otherwise cost the limit again before every measurement
                limit = 0.0 if self._load_persists and mode == "wait" else opts.load_wait_s
                before, w = load.wait_for_quiet(opts.load_max_busy, limit, self.on_wait, opts.cpus)
                self._load_persists = before > opts.load_max_busy
                waited += w
                if mode == "strict" and before > opts.load_max_busy:
                    raise UserError(
                        f"the machine is busy: after waiting {waited:.0f} s, other work keeps {before:.0%} of the "
                        f"CPUs busy (more than {opts.load_max_busy:.0%}); "
                        f"stop it, or use {option('load_check', 'wait')}"
                    )
            meter = load.Meter(opts.cpus) if mode != "off" else None
            ms = runs()
            during = meter.stop() if meter is not None else None
            under = any(x is not None and x > opts.load_max_busy for x in (before, during))
            if mode == "strict" and under:
                if attempt == 1:
                    continue  # once more, after waiting for quiet CPUs again
                raise UserError(
                    f"the machine is busy: other work kept {during or 0:.0%} of the CPUs busy during two "
                    f"measurements (more than {opts.load_max_busy:.0%}); stop it, or use {option('load_check', 'wait')}"
                )
            break
        for m in ms:
            m.load_before, m.load_waited, m.load_during, m.under_load = before, waited, during, under
            if under:
                worst = max(x for x in (before, during) if x is not None)
                m.message += f"; measured under load: {load.describe(worst)}"
        return ms

    def new_measurement(self, cfg: Config, build: BuildResult) -> Measurement:
        """An `ok` measurement of `cfg` with its build's facts, to be filled by the runs."""
        m = Measurement(
            status="ok", message="", config=cfg, changed=self.space.changed(cfg), machine=machine.current().to_dict()
        )
        m.build_seconds, m.build_cached, m.build_key = build.seconds, build.cached, build.key
        return m

    def same_as_baseline(self, build: BuildResult, variant: Variant) -> bool:
        """The baseline's binary and environment: an A/A run, whose wrong output is the program's fault."""
        assert self._base_build is not None and self._base_variant is not None
        return build.key == self._base_build.key and variant.env == self._base_variant.env

    def run_timeout(self) -> float:
        """How long a candidate run may take before it is a `timeout`."""
        return self.options.timeout_factor * self._base_wall + 1.0

    def _runs(
        self,
        m: Measurement,
        build: BuildResult,
        variant: Variant,
        progress: Callable[[int, stats.Estimate | None], None] | None,
    ) -> Measurement:
        """The interleaved pairs of one measurement, filled into `m`."""
        opts = self.options
        assert self._base_timed is not None
        same = self.same_as_baseline(build, variant)
        m.timer_fallback = self._base_timed.fallback
        runs = Runs(self, self.run_timeout())
        t_start = time.perf_counter()

        def finish(status: Status, message: str) -> Measurement:
            return self.finish(m, status, message, time.perf_counter() - t_start, runs.wall, runs.count)

        for _ in range(max(opts.warmup, 1)):  # warm-up doubles as the first verification
            runs.baseline()  # first: a baseline that does not reproduce itself is the program's fault
            _, bad = runs.candidate(build, variant, same)
            if bad:
                return finish(*bad)
        m.verified = True
        btimes: list[float] = []
        ctimes: list[float] = []
        stop: StopReason = "pair cap"
        for i in range(max(opts.max_pairs, 1)):
            order = (0, 1) if i % 2 == 0 else (1, 0)
            for who in order:
                if who == 0:
                    btimes.append(runs.baseline().seconds)
                else:
                    ct, bad = runs.candidate(build, variant, same)
                    if bad:
                        return finish(*bad)
                    assert ct is not None
                    ctimes.append(ct.seconds)
                    m.timing = ct.source
            est = stats.paired_speedup(btimes, ctimes) if len(btimes) >= opts.min_pairs else None
            if progress is not None:
                progress(len(btimes), est)
            reason = stop_rule(opts, est, time.perf_counter() - t_start, opts.max_seconds)
            if reason is not None:
                stop = reason
                break
        self.conclude(m, btimes, ctimes, stop)
        return finish("ok", m.message)

    def finish(self, m: Measurement, status: Status, message: str, harness: float, wall: float, runs: int):
        """Set the outcome and what the runs cost; a failed measurement verified nothing."""
        m.status, m.message = status, message
        if status != "ok":
            m.verified = False  # a run that failed verified nothing, whatever came before it
        m.harness_seconds, m.run_wall_seconds, m.runs = harness, wall, runs
        return m

    def conclude(self, m: Measurement, btimes: list[float], ctimes: list[float], stop: StopReason) -> None:
        """The speedup, its CI and the message of a measurement whose pairs all ran."""
        opts = self.options
        est = stats.paired_speedup(btimes, ctimes)
        n = len(btimes)
        m.speedup = est.speedup
        m.ci = (est.lo, est.hi) if est.lo is not None and est.hi is not None else None
        m.baseline_times, m.candidate_times = btimes, ctimes
        m.baseline_seconds = float(sorted(btimes)[n // 2])
        m.candidate_seconds = float(sorted(ctimes)[n // 2])
        m.repetitions = n
        m.stop_reason = stop
        m.timer_fallback = self._base_timed is not None and self._base_timed.fallback
        msg = "verified"
        if m.ci is None:
            msg += f"; too few pairs for a 95% CI ({n} < {stats.MIN_CI_PAIRS})"
        elif est.rel_halfwidth > opts.ci_target:
            above = f"; CI half-width {est.rel_halfwidth:.1%} above the {opts.ci_target:.0%} target"
            if stop == "time cap":
                msg += f"{above} when the time cap ({opts.max_seconds:g} s) stopped it after {n} pairs"
            else:
                msg += f"{above} at the pair cap ({n} pairs)"
        if m.timer_fallback:
            name = timing.timer_name(self.kernel.timing)
            msg += f"; timed by whole-process wall time: the baseline never prints its {name}"
        m.message = msg


def stop_rule(opts: Options, est: stats.Estimate | None, elapsed: float, budget: float | None) -> StopReason | None:
    """Why a measurement's pairs stop now (None: they go on), shared by `Bench` and `autotune.measure.batch`.

    `est`: the estimate from its pairs, None before `opts.min_pairs`; `budget`: the seconds it may
    take (None: no time cap). The pair cap is the caller's loop bound.
    """
    if est is None:
        return None
    if est.rel_halfwidth <= opts.ci_target:
        return "ci target"
    if budget is not None and elapsed > budget:
        return "time cap"
    return None


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def measure(
    path: str | Path, settings: list[str] | None = None, options: Options | None = None, **kernel_kw
) -> Measurement:
    """One-call API: load, discover, measure `--set`-style settings."""
    kernel = programs.load(path, **kernel_kw)
    bench = Bench(kernel, options=options)
    return bench.measure(parse_settings(bench.space, settings or []))


def parse_settings(space: Space, settings: list[str]) -> Config:
    """`["threads=2", ...]` -> a valid canonical config, or UserError naming `--set` (CLI) / `settings` (API)."""
    from autotune.space import InvalidConfig

    try:
        return space.parse_assignments(settings)
    except InvalidConfig as exc:
        text = str(exc)
        sep = " " if text.startswith("'") else ": "  # "'threads': expected NAME=VALUE" names the setting itself
        raise UserError(f"{option('settings', flag='--set')}{sep}{text}") from None
