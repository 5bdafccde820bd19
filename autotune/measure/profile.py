"""The untransformed program's OpenMP profile: how often it forks, how many loops it shares out,
how many iterations each has, and how long its threads wait.

Why: whether a second thread, a schedule or a chunk size pays off depends on how much work one
parallel region or one worksharing loop carries, and how evenly it is spread. A sweep that forks
once per row of a triangular solve runs 3x faster on one thread than on two; a map that forks
once does not. Neither the source nor the IR says how often a region is entered (the trip
counts of the loops around it), one run does. What the columns are worth is the row "trees, no
OpenMP profile" of `results/transfer.md` (`experiments/transfer.py`) against the shipped one.

How: an OMPT tool (`ompt_profile.c`, the OpenMP 5 tools interface of LLVM's libomp) that the
runtime loads through OMP_TOOL_LIBRARIES; nothing is linked into the program. It is built once
per compiler into the cache. A program that does not use libomp (no OpenMP, or built with gcc's
libgomp, which has no tools interface) writes no profile: `None`, and the features say so.

Beside the counts, how the region's time scales from one thread to the default: `SCALING_PAIRS`
interleaved pairs of plain runs (no tool) at one thread and at the default, their medians kept as
`region1_s` and `region_s`. Why: whether one thread beats the default is the single largest effect
in the measurement database (about a third of the generator's workloads and half the suite's SMALL
ones run faster on one thread on this 2-core machine), and the surrogate learning it from counts
alone got its sign wrong on a third of the held-out workloads; the ratio of two runs of the program
it is asked about says it directly. It costs a few runs of the baseline, once per program and size.
"""

from __future__ import annotations

import hashlib
import json
import math
import statistics
import subprocess
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from autotune import machine
from autotune.build import Builder, compilers
from autotune.build.cache import compile_once
from autotune.kernel import Kernel
from autotune.machine import compiler_version
from autotune.measure import load, profile_store, runner, timing
from autotune.measure.result import Options
from autotune.paths import cache_dir
from autotune.space import Space
from autotune.variant import Variant, make_variant
from encoder.atomic import atomic_write_text

SOURCE = Path(__file__).with_name("ompt_profile.c")
OUT_VAR = "AUTOTUNE_OMPT_OUT"
TIMEOUT_S = 600.0
SCALING_PAIRS = 3  # (one thread, default threads) pairs of plain runs; the median of each side is kept
VERSION = 2  # of the cached profile's fields: an older cache entry is measured again


class ProfileError(RuntimeError):
    """The tool could not be built (no clang, or no omp-tools.h beside it)."""


@dataclass(frozen=True)
class OmpProfile:
    """One run's counts; `loops` and `iterations` as the runtime reports them, each thread's share."""

    threads: int  # the run's OMP_NUM_THREADS
    parallel: int  # parallel regions entered
    loops: int  # worksharing-loop begins, summed over threads
    iterations: int  # their iteration counts, summed over the same begins
    barriers: int
    parallel_s: float  # wall time inside parallel regions
    wait_s: float  # thread time waiting in barriers, summed over threads
    busy: float = 0.0  # other work's share of the CPUs during the runs (their times are off when high)
    region_s: float = 0.0  # the region's time at `threads` (median of the plain runs; 0: not measured)
    region1_s: float = 0.0  # the same at one thread (0: not measured, e.g. the default is one thread)

    @property
    def loop_instances(self) -> float:
        """Worksharing loops executed (each thread reports the loop's begin once)."""
        return self.loops / max(1, self.threads)

    @property
    def iterations_per_loop(self) -> float:
        return self.iterations / max(1, self.loops)

    @property
    def wait_fraction(self) -> float:
        """Share of the threads' time in parallel regions spent waiting: the imbalance a schedule can fix."""
        return min(1.0, self.wait_s / max(1e-12, self.threads * self.parallel_s))

    @property
    def scaling_log2(self) -> float | None:
        """log2 of the region's time at one thread over its time at the default (>0: threads help);
        None where either was not measured."""
        if self.region_s <= 0 or self.region1_s <= 0:
            return None
        return math.log2(self.region1_s / self.region_s)


def tool() -> Path:
    """The built tool (built once per clang and tool source, kept in the cache)."""
    cc = compilers.available().get("clang") or compilers.require_clang()
    key = hashlib.sha256(SOURCE.read_bytes() + cc.encode() + compiler_version(cc).encode())
    path = (cache_dir("profiles") / f"ompt-{key.hexdigest()[:16]}.so").resolve()
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".ompt-", dir=path.parent) as tmp:  # then a rename: never half a tool
        out = Path(tmp) / "tool.so"
        try:
            rc, log = compile_once([cc, "-O2", "-shared", "-fPIC", str(SOURCE), "-o", str(out)], Path(tmp), 120)
        except subprocess.TimeoutExpired:
            raise ProfileError(f"{cc} took over 120 s to build the OMPT tool") from None
        if rc != 0:
            raise ProfileError(f"{cc} could not build the OMPT tool {SOURCE}: {log.strip()[:200]}")
        out.replace(path)
    return path


def parse(text: str, threads: int, busy: float = 0.0) -> OmpProfile | None:
    """The tool's line, or None when it is not one (the run wrote nothing, or something else)."""
    words = text.split()
    try:
        v = {words[i]: words[i + 1] for i in range(0, len(words) - 1, 2)}
        return OmpProfile(
            threads,
            int(v["parallel"]),
            int(v["loops"]),
            int(v["iterations"]),
            int(v["barriers"]),
            float(v["parallel_s"]),
            float(v["wait_s"]),
            busy,
        )
    except (KeyError, ValueError):
        return None


def profile_run(exe: Path, args: list[str], env: dict[str, str], cwd: Path, threads: int) -> OmpProfile | None:
    """One run of `exe` under the tool; None if the program did not load it (no libomp) or failed."""
    with tempfile.TemporaryDirectory(prefix="autotune-ompt-") as tmp:
        out = Path(tmp) / "profile.txt"
        extra = {**env, "OMP_TOOL_LIBRARIES": str(tool()), OUT_VAR: str(out)}
        meter = load.Meter()
        r = runner.run(exe, args, runner.clean_env(extra), timeout=TIMEOUT_S, cwd=cwd)
        busy = meter.stop()
        if r.returncode != 0 or not out.exists():
            return None
        return parse(out.read_text(), threads, busy)


def region_times(exe: Path, kernel: Kernel, env: dict[str, str], cwd: Path, threads: int) -> tuple[float, float] | None:
    """Median region seconds at `threads` and at one thread over SCALING_PAIRS interleaved pairs of
    plain runs (the one-thread run first, so drift hits both sides alike); None if a run failed."""
    times: dict[int, list[float]] = {1: [], threads: []}
    for _ in range(SCALING_PAIRS):
        for n in (1, threads):
            r = runner.run(
                exe, list(kernel.args), runner.clean_env({**env, "OMP_NUM_THREADS": str(n)}), TIMEOUT_S, cwd=cwd
            )
            if r.returncode != 0:
                return None
            times[n].append(timing.extract(r, kernel.timing).seconds)
    return statistics.median(times[threads]), statistics.median(times[1])


def cache_key(kernel: Kernel, space: Space) -> str:
    """The key a profile is kept under: the default build, its thread count, the CPU and VERSION."""
    variant = make_variant(kernel, space, space.default())
    return _key(kernel, variant, int(variant.env.get("OMP_NUM_THREADS", "0") or 0))


def _key(kernel: Kernel, variant: Variant, threads: int) -> str:
    cpu = hashlib.sha256(machine.current().cpu_model.encode()).hexdigest()[:8]  # times are this CPU's
    return f"{variant.build_key(kernel)}-{threads}-{cpu}-v{VERSION}"


def profile(kernel: Kernel, space: Space, builder: Builder | None = None) -> OmpProfile | None:
    """The untransformed program's profile: a run of its default build under the tool, and its region
    time at one thread and at the default (`region_times`), kept in the cache by build key.

    None where the program does not compile or does not run libomp. The counts of a binary do not
    change; its times are a few runs', which is all the surrogate needs to tell a 1 ms loop from a
    1 s one and a program that scales from one that does not, unless other work shared the CPUs:
    such a profile is used but not kept, so a later call on a quiet machine measures it again. The
    cache key names the CPU too: a cache carried to another machine is measured again there. The
    repository ships the profiles of its own kernels (`profile_store`), read when the cache has none.
    """
    variant = make_variant(kernel, space, space.default())
    threads = int(variant.env.get("OMP_NUM_THREADS", "0") or 0)
    key = _key(kernel, variant, threads)
    path = cache_dir("profiles") / f"{key}.json"
    ship = profile_store.shipped()  # the repository's, read when this machine's cache has none
    if path.exists() or key in ship:
        saved = json.loads(path.read_text()) if path.exists() else ship[key]
        return None if saved is None else OmpProfile(**saved)
    b = (builder or Builder()).build(kernel, variant)
    if not b.ok or b.exe is None:
        return None
    cwd = kernel.path.resolve().parent
    meter = load.Meter()
    prof = profile_run(b.exe, list(kernel.args), variant.env, cwd, max(1, threads))
    if prof is not None and threads > 1:
        times = region_times(b.exe, kernel, variant.env, cwd, threads)
        if times is not None:
            prof = replace(prof, region_s=times[0], region1_s=times[1])
    if prof is not None:
        prof = replace(prof, busy=max(prof.busy, meter.stop()))
        if prof.busy > Options().load_max_busy:
            return prof
    atomic_write_text(path, json.dumps(None if prof is None else asdict(prof)))
    return prof
