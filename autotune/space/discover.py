"""Zero-touch discovery: turn what the parser found into a search space.

Knob naming: global knobs have plain names (`threads`, `opt`, `polly`);
per-site knobs are `L<n>.<what>` where `L<n>` is the n-th `for` loop of the
main file in source order (`autotune space` prints its function and line);
declared parameters keep their macro name.

The space is built so that every configuration it contains is legal to
compile: schedule knobs only on OpenMP work-sharing loops whose schedule we
can take over, loop hints only on innermost loops no pragma already claims,
tiles only on perfect, rectangular, canonical nests, clang-only features only
with clang. Whether a legal transformation is also *correct* (a tile that
breaks a dependence) is checked by output verification, not assumed.

What each kind of knob is, and where it may go, lives with its family in
`autotune.space.families`; this module gathers what every family reads (the
compilers, whether the program has OpenMP of its own, the loop plan) and asks
the families in registry order. Only loops inside the timed region get knobs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from autotune.build import compilers
from autotune.kernel import Kernel
from autotune.machine import usable_cores
from autotune.space import cparse, families
from autotune.space.families import SpaceDraft
from autotune.space.families.hints import hint_site
from autotune.space.knobs import Config, InvalidConfig, Knob, Space
from autotune.space.loopplan import plan_loops

__all__ = ["build_space", "hint_site", "starting_points", "uses_openmp"]  # hint_site: experiments read it here

_LOOP_KNOB = re.compile(r"L\d+\.")


def build_space(kernel: Kernel, cores: int | None = None) -> Space:
    """The program's search space: every family's knobs, whole-program first, then loop by loop, then parameters.

    An OpenCL kernel's space is its own (`autotune.gpu.clspace`): coarsening, work-group sizes, unrolling,
    build options, within the limits of the device that will run it; a CUDA program's is its declared
    parameters and nvcc's fast-math switch (`autotune.gpu.cukernel`).
    """
    if kernel.language != "c":
        return kernel.space()  # type: ignore[attr-defined]
    prog = kernel.program
    comps = compilers.available()
    sequential = not uses_openmp(kernel)
    draft = SpaceDraft(
        kernel=kernel,
        cores=cores or usable_cores(),
        compilers=comps,
        sequential=sequential,
        plan=plan_loops(prog, sequential, clang="clang" in comps),
    )
    for family in families.FAMILIES:
        _add(draft, family.program_knobs(draft))
    outside = [lp for lp in prog.loops if not lp.in_region]
    if outside:
        draft.notes.append(f"{len(outside)} loop(s) outside the timed region left alone (they cannot change its time)")
    for loop in prog.loops:
        if loop.in_region:
            for family in families.FAMILIES:
                _add(draft, family.loop_knobs(draft, loop))
    for family in families.FAMILIES:
        _add(draft, family.closing_knobs(draft))

    if not any(_LOOP_KNOB.match(k.name) for k in draft.knobs):
        also = " and threads" if any(k.name == "threads" for k in draft.knobs) else ""
        draft.notes.append(f"no tunable loops found: tuning compiler flags{also} only")
    if "gcc" not in comps:
        draft.notes.append("gcc not found: compiler knob has clang only")
    return Space(draft.knobs, draft.notes)


def _add(draft: SpaceDraft, knobs: Iterable[Knob]) -> None:
    for knob in knobs:  # one at a time: a family may look at the knobs so far (parameters check for clashes)
        draft.knobs.append(knob)


def starting_points(space: Space) -> list[Config]:
    """Configurations a model-based search measures right after the baseline, for sequential programs.

    Why: a program without OpenMP has one large lever, running its proven-parallel
    loops on all cores, spread over several on/off knobs (one per loop) that a
    sampler meets together only by luck in a 30-evaluation budget. So the search
    starts from the two ways this program can run in parallel: every
    `L<n>.parallel` loop on, and Polly's own parallelizer. They are measured and
    verified like any proposal, and only enter the result if they are faster.
    """
    out: list[Config] = []
    loops = {k.name: "on" for k in space if k.name.endswith(".parallel")}
    if loops:
        out.append(loops)
    if "polly_parallel" in space:
        out.append({"polly": "on", "polly_parallel": "on"})
    points = []
    for raw in out:
        try:
            points.append(space.validate(raw))
        except InvalidConfig:
            continue  # a condition of this space rules the combination out
    return points


def uses_openmp(kernel: Kernel) -> bool:
    """The program has OpenMP of its own: an `omp` pragma or `omp_*` call in the main file or an extra source.

    PolyBench/C's `polybench.c` has OpenMP only in its instruments (the cache
    flush before the timer starts, PAPI set-up), all in `polybench_*`
    functions; those do not make the kernel parallel and are not counted.
    """
    if kernel.program.uses_openmp:
        return True
    for src in kernel.sources:
        prog = cparse.parse(src.read_bytes())
        if any(not func.startswith("polybench_") for func, _ in prog.openmp):
            return True
    return False
