"""`#pragma omp tile sizes(...)` (OpenMP 5.1, clang only) on perfect, rectangular, canonical nests.

Whether a legal tile is also correct (one that breaks a dependence) is
checked by output verification, not assumed. No pragma of ours may stand
between the tiled loops, and clang cannot tile an interchanged nest: the
tile knobs are conditioned on the loop-order knobs (`reorder`) to keep both
out of reach.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from autotune.space.cparse import Loop, Program, split_clauses
from autotune.space.families.base import PRIVATISE, TILE, KnobFamily, SpaceDraft, VariantDraft, site_of, when
from autotune.space.families.reorder import nests_kept, own_order_kept
from autotune.space.knobs import Knob, Value

TILE_SIZES: tuple[Value, ...] = (1, 4, 8, 16, 32, 64, 128)
MAX_TILE_DIMS = 3


def tile_depth(prog: Program, loop: Loop) -> int:
    """Dimensions `#pragma omp tile` may take at this loop (0 if it may not)."""
    if loop.parent is not None and prog.loops[loop.parent].body_loop == loop.index:
        parent = prog.loops[loop.parent]
        if not loop.pragmas and tile_depth(prog, parent) >= 2:
            return 0  # part of an outer nest: tile it there
    if loop.has_omp_loop_transform or loop.has_loop_hint:
        return 0
    ws = loop.worksharing
    shared: set[str] = set()
    if ws is not None:
        clauses = split_clauses(ws.text)
        if any(name in ("ordered", "linear") for name, _ in clauses):
            return 0
        shared = {v.strip() for name, arg in clauses if name == "shared" for v in arg.split(",")}
    nest = [loop]
    while len(nest) < MAX_TILE_DIMS and nest[-1].body_loop is not None:
        inner = prog.loops[nest[-1].body_loop]
        if inner.pragmas:
            break
        nest.append(inner)
    usable = []
    outer_vars: list[str] = []
    for lp in nest:
        if not lp.canonical or lp.has_break or lp.var in shared:
            break  # a shared loop variable cannot be privatised for the tiled loops
        if any(re.search(rf"\b{re.escape(v)}\b", lp.bounds_text) for v in outer_vars):
            break  # bounds depend on an outer loop: not rectangular
        usable.append(lp)
        outer_vars.append(lp.var or "")
    return len(usable) if len(usable) >= 2 else 0


def privatise(text: str, names: list[str]) -> str:
    """Add the nest's outer-declared loop variables to the directive's private clause.

    Why: under `omp tile` the original loops are no longer the ones associated
    with the work-sharing construct, so their variables lose the implicit
    privatisation; a variable declared outside the loop would become shared and
    the threads would race on it. Associated loop variables were private in the
    original, so making them explicitly private changes nothing else.
    """
    named: set[str] = set()
    for name, arg in split_clauses(text):
        if name in ("private", "firstprivate", "lastprivate", "linear", "reduction"):
            named.update(v.strip() for v in arg.split(":")[-1].split(","))
    extra = [v for v in names if v not in named]
    return f"{text} private({', '.join(extra)})" if extra else text


class Tile(KnobFamily):
    name = "tile"

    def loop_knobs(self, space: SpaceDraft, loop: Loop) -> Iterator[Knob]:
        prog, plan = space.prog, space.plan
        depth = tile_depth(prog, loop)
        if not depth or not space.clang_only:
            return
        inner = prog.nest(loop, depth)[1:]
        conds = [*space.clang_only, *own_order_kept(space, loop)]
        conds += [when(f"{lp.name}.parallel", "off") for lp in inner if lp.index in plan.parallel]
        conds += nests_kept(space, loop.index)
        conds += [
            when(f"{lp.name}.interchange", plan.original_order(lp.index))
            for lp in inner
            if lp.index in plan.interchange
        ]
        for d in range(depth):
            yield Knob(
                f"{loop.name}.tile{d + 1}",
                "source",
                TILE_SIZES,
                1,
                f"omp tile size of nest level {d + 1} (1: not tiled)",
                tuple(conds),
                site=site_of(loop),
            )

    def apply(self, variant: VariantDraft) -> None:
        space, config, prog = variant.space, variant.config, variant.prog
        for loop in prog.loops:
            names = [f"{loop.name}.tile{d}" for d in range(1, MAX_TILE_DIMS + 1)]
            dims = [config.get(n, 1) for n in names if n in space]
            if not any(d != 1 for d in dims):
                continue
            edit = variant.at(loop)
            if loop.worksharing is not None:
                nest = [lp.var for lp in prog.nest(loop, len(dims)) if not lp.declares_var and lp.var]
                edit.rewrite_directive(PRIVATISE, lambda text, nest=nest: privatise(text, nest))
            edit.pragma(TILE, f"omp tile sizes({', '.join(map(str, dims))})")
