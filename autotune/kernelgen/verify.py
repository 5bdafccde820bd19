"""Prove a generated program keeps the kernel contract before it is written.

What is checked, at every size asked for (MINI and SMALL by default), with autotune's own
machinery so the programs are judged exactly as a study would build and run them:

* the program has OpenMP of its own, and `build_space` finds a `threads` knob and at least one loop knob (`L<n>.*`);
* the program builds with clang at -O2 (`opt=O2` through `make_variant`, `Builder`);
* it runs with one thread, with two, and with two threads under every OpenMP schedule
  (static, dynamic, guided, forced on every work-sharing loop through the space's own
  `L<n>.schedule`/`L<n>.chunk` knobs; chunk 1 at MINI, where runs are cheap, 16 above);
* every run prints the region timer and a non-empty output without nan or inf, and every
  output is identical to the one-thread run (`autotune.measure.verify.compare` with zero
  tolerance), which is what "identical across thread counts and schedules" means.

Why prove it by running: floating-point results that depend on the thread count are easy to
write by accident (a `reduction(+)` on a double); the verifier rejects them with the reason.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from autotune.build import Builder
from autotune.errors import UserError
from autotune.kernel import Kernel
from autotune.measure import runner, timing
from autotune.measure.verify import compare
from autotune.space.discover import build_space, uses_openmp
from autotune.space.knobs import Config, InvalidConfig, Space
from autotune.variant import make_variant

SIZES = ("MINI", "SMALL")
SCHEDULES = ("static", "dynamic", "guided")
CORES = 2  # the thread counts checked: 1 and 2, whatever the machine has
RUN_TIMEOUT_S = 120.0
MEMORY_CAP = 4 << 30
_LOOP_KNOB = re.compile(r"L\d+\.")
_BAD_NUMBER = re.compile(r"\b(?:nan|inf)", re.I)


@dataclass
class Verification:
    """The verdict on one program: ok, or the first reason it failed."""

    ok: bool = True
    reason: str = ""
    runs: int = 0
    knobs: int = 0  # knobs at the last size checked
    schedule_sites: int = 0
    seconds: dict[str, dict[str, float]] = field(default_factory=dict)  # size -> run label -> region seconds

    def fail(self, reason: str) -> Verification:
        self.ok, self.reason = False, reason
        return self


def run_plan(space: Space, size: str) -> list[tuple[str, Config]]:
    """(label, configuration) of every run at one size; the first is the reference."""
    base: Config = {"opt": "O2"} if "opt" in space else {}
    plan: list[tuple[str, Config]] = [("threads=1", {**base, "threads": 1}), ("threads=2", {**base, "threads": 2})]
    sites = [k.name.split(".")[0] for k in space if k.name.endswith(".schedule")]
    chunk = 1 if size == "MINI" else 16
    for kind in SCHEDULES:
        cfg: Config = {**base, "threads": 2}
        for s in sites:
            cfg[f"{s}.schedule"] = kind
            cfg[f"{s}.chunk"] = "auto" if kind == "guided" else chunk
        if sites:
            plan.append((f"threads=2 schedule={kind}" + ("" if kind == "guided" else f",{chunk}"), cfg))
    return plan


def verify_file(
    path: Path,
    sizes: Sequence[str] = SIZES,
    builder: Builder | None = None,
    timeout: float = RUN_TIMEOUT_S,
) -> Verification:
    """Check one program file at each size; stops at the first failure."""
    builder = builder or Builder()
    v = Verification()
    for size in sizes:
        try:
            kernel = Kernel.load(path, defines=[f"{size}_DATASET"])
        except UserError as exc:
            return v.fail(f"{size}: {exc}")
        if kernel.timing != "region":
            return v.fail("no region timer (#include <autotune.h> and AUTOTUNE_REGION_BEGIN/END)")
        if not uses_openmp(kernel):
            return v.fail("no OpenMP in the program (the thread count and schedules would not be checked)")
        space = build_space(kernel, cores=CORES)
        names = [k.name for k in space]
        if "threads" not in names:
            return v.fail(f"{size}: build_space found no threads knob")
        if not any(_LOOP_KNOB.match(n) for n in names):
            return v.fail(f"{size}: build_space found no loop knob")
        v.knobs = len(names)
        plan = run_plan(space, size)
        v.schedule_sites = sum(n.endswith(".schedule") for n in names)
        reference: str | None = None
        v.seconds[size] = {}
        for label, raw in plan:
            try:
                config = space.validate(raw)
            except InvalidConfig as exc:
                return v.fail(f"{size} {label}: {exc}")
            variant = make_variant(kernel, space, config)
            build = builder.build(kernel, variant)
            if not build.ok:
                return v.fail(f"{size} {label}: does not compile: {build.diagnostics(3)}")
            result = runner.run(
                build.exe, kernel.args, runner.clean_env(variant.env), timeout=timeout, memory_bytes=MEMORY_CAP
            )
            v.runs += 1
            if not result.ok:
                return v.fail(f"{size} {label}: {result.describe_failure()}")
            timed = timing.extract(result, kernel.timing)
            if timed.fallback or timed.source != "region":
                return v.fail(f"{size} {label}: the region timer printed nothing")
            v.seconds[size][label] = timed.seconds
            if reference is None:
                if not timed.output.strip():
                    return v.fail(f"{size} {label}: printed nothing")
                if _BAD_NUMBER.search(timed.output):
                    return v.fail(f"{size} {label}: output has nan or inf: {timed.output.strip()[:120]}")
                reference = timed.output
                continue
            verdict = compare(reference, timed.output, rtol=0.0, atol=0.0)
            if not verdict.ok:
                return v.fail(f"{size} {label}: output differs from threads=1: {verdict.message}")
    return v


def verify_source(source: str, name: str, sizes: Sequence[str] = SIZES, builder: Builder | None = None) -> Verification:
    """Check a program given as text (written to a temporary folder of its own)."""
    with tempfile.TemporaryDirectory(prefix="kernelgen-") as tmp:
        path = Path(tmp) / f"{name}.c"
        path.write_text(source)
        return verify_file(path, sizes, builder)
