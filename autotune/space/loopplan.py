"""Which loops get the dependence-checked knobs: `parallel for`, `interchange` and `reverse`.

Why a plan made once, before any knob: the three are decided together (a
nest root's parallel knob is limited to the orders under which its outer loop
stays safe), and the tile and hint families condition their knobs on them.
`deps` says what is legal; this module chooses what can plausibly pay.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from autotune.space import deps
from autotune.space.cparse import Loop, Program


@dataclass
class LoopPlan:
    """Which loops get which of the new knobs (indices into `Program.loops`).

    `interchange`: nest root -> the orders offered (names of the loop
    variables, outermost first, joined by '-'); `nest_of`: nest root -> the
    loops of that nest; `parallel`: loops that get a `parallel for` knob;
    `parallel_orders`: for a root that has both, the orders under which its
    outer loop is still safe to run in parallel; `reverse`: loops that get a
    reverse knob.
    """

    interchange: dict[int, tuple[str, ...]] = field(default_factory=dict)
    nest_of: dict[int, tuple[int, ...]] = field(default_factory=dict)
    vars_of: dict[int, tuple[str, ...]] = field(default_factory=dict)
    parallel: list[int] = field(default_factory=list)
    parallel_orders: dict[int, tuple[str, ...]] = field(default_factory=dict)
    reverse: list[int] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.interchange or self.parallel or self.reverse)

    def notes(self, prog: Program) -> list[str]:
        out = []
        for what, idxs in (
            ("parallel", self.parallel),
            ("interchange", list(self.interchange)),
            ("reverse", self.reverse),
        ):
            if idxs:
                out.append(
                    f"{what}: "
                    + ", ".join(f"{prog.loops[i].name} ({prog.loops[i].function}:{prog.loops[i].line})" for i in idxs)
                )
        return out

    def original_order(self, root: int) -> str:
        """The interchange knob's default at nest root `root`: its loop variables in source order."""
        return "-".join(self.vars_of[root])

    def enclosing_roots(self, idx: int) -> list[int]:
        """Interchange roots whose nest has `idx` at an inner level (a pragma there would break that nest)."""
        return [r for r, loops in self.nest_of.items() if r in self.interchange and idx in loops[1:]]


def _nest_root(prog: Program, loop: Loop) -> bool:
    """Not an inner level of a perfect nest (whose root is where nest-wide knobs go)."""
    return loop.parent is None or prog.loops[loop.parent].body_loop != loop.index


def _stride_cost(refs: list[deps.Ref], var: str) -> int:
    """Accesses that `var` strides through: it appears in a subscript other than the last one."""
    pat = re.compile(rf"\b{re.escape(var)}\b")
    return sum(1 for r in refs if r.subs and any(pat.search(s) for s in r.subs[:-1]))


def interchange_orders(an: deps.Analysis, nest: deps.Nest) -> tuple[str, ...]:
    """The loop orders worth offering for a legal nest, outermost first.

    Why not all of them: an interchange changes only the order in which the
    same iterations run, and what that buys is locality: an inner loop that
    walks memory with unit stride (and vectorises) instead of striding over
    rows. So an order is offered when its (innermost, then middle) loop
    strides through strictly fewer accesses than the original's: for C's
    row-major arrays, fewer accesses in which the loop's variable sits in a
    subscript other than the last. Everything else is left out; a
    30-evaluation search cannot afford to measure orders that cannot win.
    Orders that would only move a parallel loop outward are left out too: a
    safe inner loop already gets its own `parallel` knob.
    """
    refs = an.body_refs(an.prog.loops[nest.loops[-1]])
    cost = {v: _stride_cost(refs, v) for v in nest.vars}
    orig_key = [cost[v] for v in reversed(nest.vars)][:2]
    out = []
    for order in nest.orders:
        names = [nest.vars[p] for p in order]
        if [cost[v] for v in reversed(names)][:2] < orig_key:
            out.append("-".join(names))
    return tuple(out)


def reverse_site(an: deps.Analysis, prog: Program, loop: Loop) -> bool:
    """A loop whose reversal may pay: it consumes what the loop nest right before it just wrote.

    Why only there: reversing a loop that carries no dependence changes
    nothing but the order memory is touched in. The one gain is temporal
    locality across nests: the previous nest ends at the high end of the
    array it wrote, so a consumer that starts from the high end finds that
    part still in cache. Elsewhere a reversed loop only walks memory
    backwards (hardware prefetchers handle both directions), so no knob.
    """
    prev = an.previous_loop(loop)
    return prev is not None and bool(an.written_arrays(prev) & an.arrays(loop))


def plan_loops(prog: Program, sequential: bool, clang: bool) -> LoopPlan:
    """Choose the loops that get parallel, interchange and reverse knobs (only in the timed region).

    Parallel knobs only in programs without OpenMP (a program that has its
    own parallel structure keeps it), on the *outermost* loops `deps.py`
    proves safe: a loop that is not safe (a time loop) is skipped and its
    children are tried, and no candidate is nested in another.
    Interchange and reverse are clang-only pragmas; they go on nest roots
    whose loops carry no OpenMP pragma.
    """
    plan = LoopPlan()
    an = deps.analysis(prog)
    region = [lp for lp in prog.loops if lp.in_region]

    if sequential:

        def visit(lp: Loop) -> None:
            if not lp.in_region:
                return
            if an.parallel(lp).ok:
                plan.parallel.append(lp.index)
                return
            for c in lp.children:
                visit(prog.loops[c])

        for lp in region:
            if lp.parent is None or not prog.loops[lp.parent].in_region:
                visit(lp)
        plan.parallel.sort()

    if clang:
        for lp in region:
            if not _nest_root(prog, lp):
                continue
            nest = an.nest(lp)
            if nest is None:
                continue
            orders = interchange_orders(an, nest)
            if lp.index in plan.parallel:
                safe = tuple(o for o in orders if o.split("-")[0] in nest.safe)
                plan.parallel_orders[lp.index] = safe
            if orders:
                plan.interchange[lp.index] = orders
                plan.nest_of[lp.index] = nest.loops
                plan.vars_of[lp.index] = nest.vars
        for lp in region:
            if _nest_root(prog, lp) and an.parallel(lp).ok and reverse_site(an, prog, lp):
                plan.reverse.append(lp.index)
    return plan
