"""Loop hints on innermost loops: unroll count, vector width and interleave count.

clang gets `#pragma clang loop unroll_count(n) vectorize_width(w) interleave_count(i)`;
gcc has only `#pragma GCC unroll n`, so vectorize and interleave are clang's
alone. Hints go only on innermost loops that no pragma already claims, outside
collapsed nests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from autotune.space.cparse import Loop, Program
from autotune.space.families.base import HINT, KnobFamily, SpaceDraft, VariantDraft, site_of, when
from autotune.space.knobs import AnyOf, Config, Knob, Requirement, Value

UNROLL: tuple[Value, ...] = ("auto", 1, 2, 4, 8, 16)
VECTORIZE: tuple[Value, ...] = ("auto", 1, 2, 4, 8, 16)
INTERLEAVE: tuple[Value, ...] = ("auto", 1, 2, 4, 8)

_COLLAPSE_RE = re.compile(r"\bcollapse\s*\(\s*(\d+)\s*\)")


def in_collapsed_nest(prog: Program, loop: Loop) -> bool:
    """Loop 2..n of an enclosing `collapse(n)` nest.

    Why it matters: the collapsed loops must be perfectly nested, so no pragma
    may stand between them; gcc rejects a `#pragma GCC unroll` there ("not
    enough perfectly nested loops") and clang's loop hints on such a loop have
    no loop left to apply to once the nest is collapsed.
    """
    depth, cur = 1, loop
    while cur.parent is not None:
        parent = prog.loops[cur.parent]
        for p in parent.pragmas:
            m = _COLLAPSE_RE.search(p.text)
            if m and int(m.group(1)) > depth:
                return True
        depth, cur = depth + 1, parent
    return False


def hint_site(prog: Program, loop: Loop) -> bool:
    """Innermost loops no pragma already claims, outside collapsed nests, take unroll/vectorize/interleave."""
    return (
        loop.innermost
        and not loop.has_loop_hint
        and not loop.has_omp_loop_transform
        and not in_collapsed_nest(prog, loop)
    )


def loop_hint(config: Config, loop: str, compiler: str) -> str | None:
    """The hint pragma's text for loop `loop` (its name, `L<n>`), or None if every hint is `auto`."""
    parts = []
    u = config.get(f"{loop}.unroll", "auto")
    v = config.get(f"{loop}.vectorize", "auto")
    i = config.get(f"{loop}.interleave", "auto")
    if compiler == "gcc":
        return f"GCC unroll {u}" if u != "auto" else None
    if v != "auto":
        parts.append("vectorize(disable)" if v == 1 else f"vectorize_width({v})")
    if i != "auto":
        parts.append(f"interleave_count({i})")
    if u != "auto":
        parts.append("unroll(disable)" if u == 1 else f"unroll_count({u})")
    return "clang loop " + " ".join(parts) if parts else None


class LoopHints(KnobFamily):
    name = "hints"

    def loop_knobs(self, space: SpaceDraft, loop: Loop) -> Iterator[Knob]:
        if not hint_site(space.prog, loop):
            return
        site, clang_only = site_of(loop), space.clang_only
        # gcc's `#pragma GCC unroll` must stand right before its `for`, where a work-sharing
        # loop already has `#pragma omp for`: there the hint is clang's alone (and so it is
        # where our `parallel for` may go, unless that knob is off)
        unroll_conds: tuple[Requirement, ...] = clang_only if loop.worksharing is not None else ()
        if loop.index in space.plan.parallel and "gcc" in space.compilers:
            off = when(f"{loop.name}.parallel", "off")
            unroll_conds = (AnyOf((*clang_only, off)),) if clang_only else (off,)
        yield Knob(
            f"{loop.name}.unroll", "source", UNROLL, "auto", "unroll count (1: no unrolling)", unroll_conds, site=site
        )
        if not loop.has_break and clang_only:
            yield Knob(
                f"{loop.name}.vectorize", "source", VECTORIZE, "auto", "vector width (1: scalar)", clang_only, site=site
            )
            yield Knob(
                f"{loop.name}.interleave", "source", INTERLEAVE, "auto", "interleave count", clang_only, site=site
            )

    def apply(self, variant: VariantDraft) -> None:
        for loop in variant.prog.loops:
            hint = loop_hint(variant.config, loop.name, variant.compiler)
            if hint:
                variant.at(loop).pragma(HINT, hint)
