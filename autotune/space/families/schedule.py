"""OpenMP schedules (kind and chunk) of the work-sharing loops whose schedule we can take over.

Why schedules go through the environment: knobs that only change the
environment never trigger a rebuild (DESIGN.md). Every OpenMP work-sharing
loop we took over is rewritten once to `schedule(monotonic: runtime)` and preceded by a
call that sets that loop's own schedule from `AUTOTUNE_SCHEDULE_<site>` (read
once at start-up by a constructor in the prelude). A single OMP_SCHEDULE could
not give two loops different schedules; this can, and all schedule variants
share one binary. A config that keeps every schedule as written leaves the
source alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from autotune.space.cparse import SCHEDULE_KINDS, Loop, schedule_of, split_clauses
from autotune.space.families.base import RUNTIME_SCHEDULE, KnobFamily, SpaceDraft, VariantDraft, site_of, when
from autotune.space.knobs import Knob, Value

CHUNKS: tuple[Value, ...] = ("auto", 1, 4, 16, 64, 256)

PRELUDE = """\
/* ---- inserted by autotune: per-loop OpenMP schedules, read once at start-up ---- */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define AUTOTUNE_SCHED_SITES_ {n}
static omp_sched_t autotune_sched_kind_[AUTOTUNE_SCHED_SITES_];
static int autotune_sched_chunk_[AUTOTUNE_SCHED_SITES_];
static int autotune_sched_set_[AUTOTUNE_SCHED_SITES_];
__attribute__((constructor)) static void autotune_sched_init_(void)
{{
    static const char *kinds[] = {{"static", "dynamic", "guided", "auto"}};
    for (int i = 0; i < AUTOTUNE_SCHED_SITES_; i++) {{
        char name[48];
        snprintf(name, sizeof name, "AUTOTUNE_SCHEDULE_%d", i);
        const char *v = getenv(name);
        if (!v) continue;
        for (int k = 0; k < 4; k++) {{
            size_t len = strlen(kinds[k]);
            if (strncmp(v, kinds[k], len) == 0 && (v[len] == '\\0' || v[len] == ',')) {{
                autotune_sched_kind_[i] = (omp_sched_t)(k + 1);
                autotune_sched_chunk_[i] = v[len] == ',' ? atoi(v + len + 1) : 0;
                autotune_sched_set_[i] = 1;
            }}
        }}
    }}
}}
static inline void autotune_set_schedule_(int site)
{{
    if (autotune_sched_set_[site])
        omp_set_schedule(autotune_sched_kind_[site], autotune_sched_chunk_[site]);
}}
/* ---- end of autotune prelude; the program follows unchanged except for marked loops ---- */
"""


def schedule_site(loop: Loop) -> tuple[str, Value] | None:
    """(default kind, default chunk) if we can take over this loop's schedule."""
    ws = loop.worksharing
    if ws is None:
        return None
    kind, chunk = schedule_of(ws)
    if kind is None:
        return "static", "auto"
    if kind not in SCHEDULE_KINDS:  # runtime, or something we do not model
        return None
    if chunk is None:
        return kind, "auto"
    if re.fullmatch(r"\d+", chunk.strip()):
        return kind, int(chunk)
    return None  # a chunk written as an expression: we leave it as written


def runtime_schedule(text: str) -> str:
    """The directive text with its schedule clause replaced by schedule(monotonic: runtime).

    Why monotonic: under a nonmonotonic schedule (OpenMP 5's default for dynamic and guided)
    clang marks the loop's accesses as parallel, so a forced `clang loop vectorize_width` then
    vectorizes a loop whose iterations conflict (a histogram's `hist[bin]++`) and the counts come
    out wrong (generated kernel reduce-004: 15,264,319 instead of 16,000,000). The program's own
    loops run each chunk in order; monotonic keeps that guarantee for every kind we set.
    """
    out = []
    for name, arg in split_clauses(text):
        if name == "schedule":
            continue
        out.append(f"{name}({arg})" if arg else name)
    return " ".join(out) + " schedule(monotonic: runtime)"


NONMONOTONIC = ("dynamic", "guided")  # OpenMP 5's default modifier for these kinds


def forced_vectors_on_nonmonotonic(space, config, sites: list[str]) -> bool:
    """A vectorize or interleave hint forced on a work-sharing loop whose schedule, as written, is nonmonotonic.

    Why it matters: such a loop keeps its written schedule only when no schedule knob changed, and
    then clang's parallel-access marking lets the forced hint vectorize conflicting iterations
    (generated reduce-006: `L2.vectorize=2` alone counted 7,884,691 of 8,000,000). Taking the
    schedule over (monotonic, the same kind and chunk through the environment) keeps the counts.
    """
    for s in sites:
        if space[f"{s}.schedule"].default not in NONMONOTONIC:
            continue
        for hint in ("vectorize", "interleave"):
            name = f"{s}.{hint}"
            if name in space and config.get(name, "auto") not in ("auto", 1):
                return True
    return False


class Schedule(KnobFamily):
    name = "schedule"

    def loop_knobs(self, space: SpaceDraft, loop: Loop) -> Iterator[Knob]:
        site = site_of(loop)
        sched = schedule_site(loop)
        if sched is None:
            if loop.worksharing is not None:
                space.notes.append(f"{site}: schedule clause not constant or not modelled; left as written")
            return
        kind, chunk = sched
        chunks = CHUNKS if chunk in CHUNKS else (*CHUNKS, chunk)
        yield Knob(f"{loop.name}.schedule", "env", SCHEDULE_KINDS, kind, "OpenMP schedule kind", site=site)
        yield Knob(
            f"{loop.name}.chunk",
            "env",
            chunks,
            chunk,
            "OpenMP chunk size",
            (when(f"{loop.name}.schedule", "static", "dynamic", "guided"),),
            site=site,
        )

    def apply(self, variant: VariantDraft) -> None:
        space, config = variant.space, variant.config
        sites = [k.name.split(".")[0] for k in space.knobs if k.name.endswith(".schedule")]  # site numbers
        as_written = all(config[f"{s}.{w}"] == space[f"{s}.{w}"].default for s in sites for w in ("schedule", "chunk"))
        if as_written and not forced_vectors_on_nonmonotonic(space, config, sites):
            return
        variant.prelude.append(PRELUDE.format(n=len(sites)))
        site_number = {name: i for i, name in enumerate(sites)}
        for loop in variant.prog.loops:
            if loop.name not in site_number:
                continue
            site = site_number[loop.name]
            edit = variant.at(loop)
            edit.rewrite_directive(RUNTIME_SCHEDULE, runtime_schedule)
            first = loop.pragmas[0].start
            edit.edits.append((first, first, f"{{ autotune_set_schedule_({site});\n{loop.indent}"))
            edit.edits.append((loop.end, loop.end, " }"))
            kind, chunk = config[f"{loop.name}.schedule"], config[f"{loop.name}.chunk"]
            edit.env[f"AUTOTUNE_SCHEDULE_{site}"] = (
                str(kind) if chunk == "auto" or kind == "auto" else f"{kind},{chunk}"
            )
