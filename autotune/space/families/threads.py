"""The thread count (`OMP_NUM_THREADS`): environment only, never a rebuild.

Programs without OpenMP (no `omp` pragma, no `omp_*` call) get no thread
count of their own: `threads` exists only when something reads it, which for
them means a parallelization knob (`L<n>.parallel`, `polly_parallel`), and it
is active exactly when one of those is on. That is why this family comes
after every family that adds such a knob.
"""

from __future__ import annotations

from collections.abc import Iterator

from autotune.space.families.base import KnobFamily, SpaceDraft, VariantDraft
from autotune.space.knobs import AnyOf, Knob


def thread_choices(cores: int) -> tuple[int, ...]:
    """1..cores, thinned to powers of two plus the top on big machines."""
    if cores <= 16:
        return tuple(range(1, cores + 1))
    vals = {1, cores, cores // 2}
    p = 2
    while p < cores:
        vals.add(p)
        p *= 2
    return tuple(sorted(vals))


class Threads(KnobFamily):
    name = "threads"

    def program_knobs(self, space: SpaceDraft) -> Iterator[Knob]:
        choices = thread_choices(space.cores)
        if not space.sequential:
            yield Knob("threads", "env", choices, choices[-1], "OMP_NUM_THREADS")
        elif space.parallel_on:
            yield Knob("threads", "env", choices, choices[-1], "OMP_NUM_THREADS", (AnyOf(tuple(space.parallel_on)),))
            space.notes.append("no OpenMP in the program: threads matter only with a parallelization knob on")
        else:
            space.notes.append("no OpenMP in the program and no loop proven parallel: no threads knob")

    def apply(self, variant: VariantDraft) -> None:
        space = variant.space
        threads = variant.config.get("threads", space["threads"].default if "threads" in space else 1)
        variant.env["OMP_NUM_THREADS"] = str(threads)
