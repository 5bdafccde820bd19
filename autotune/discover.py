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

Programs without OpenMP (no `omp` pragma, no `omp_*` call) get no thread
count of their own: `threads` exists only when something reads it, which
for them means a parallelization knob (`L<n>.parallel`: `#pragma omp parallel
for` on a loop `deps.py` proves safe; `polly_parallel`: Polly's
`-polly-parallel`), and it is active exactly when one of those is on.
Loop order knobs (`L<n>.interchange`, `L<n>.reverse`: OpenMP 6.0's
`#pragma omp interchange` / `#pragma omp reverse`, clang only) go on loops
whose reordering `deps.py` proves legal and that can plausibly pay (see
`interchange_orders` and `reverse_site`). Two transformations of one nest
that clang cannot stack (tile of an interchanged nest, a pragma between the
loops of a tiled or interchanged nest) are made unreachable by conditions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from autotune import _cparse, compilers, deps
from autotune._cparse import SCHEDULE_KINDS, Loop, Program, schedule_of, split_clauses
from autotune.errors import UserError
from autotune.kernel import Kernel
from autotune.machine import usable_cores
from autotune.space import AnyOf, Condition, Config, InvalidConfig, Knob, Requirement, Space, Value

CHUNKS: tuple[Value, ...] = ("auto", 1, 4, 16, 64, 256)
UNROLL: tuple[Value, ...] = ("auto", 1, 2, 4, 8, 16)
VECTORIZE: tuple[Value, ...] = ("auto", 1, 2, 4, 8, 16)
INTERLEAVE: tuple[Value, ...] = ("auto", 1, 2, 4, 8)
TILE: tuple[Value, ...] = (1, 4, 8, 16, 32, 64, 128)
MAX_TILE_DIMS = 3
OPT_LEVELS: tuple[Value, ...] = ("O1", "O2", "O3", "Ofast")
BASELINE_OPT = "O3"
POLLY_TILE: tuple[Value, ...] = ("auto", 16, 32, 64, 128)


def _is(knob: str, *values: Value) -> Condition:
    return Condition(knob, frozenset(values))


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


def build_space(kernel: Kernel, cores: int | None = None) -> Space:
    prog = kernel.program
    cores = cores or usable_cores()
    comps = compilers.available()
    notes: list[str] = []
    knobs: list[Knob] = []

    # --- compiler and flags (first: loop hints depend on the compiler) --------
    names = tuple(comps) or ("clang",)
    knobs.append(Knob("compiler", "flag", names, names[0], "C compiler (clang-22 with libomp, or gcc with libgomp)"))
    knobs.append(Knob("opt", "flag", OPT_LEVELS, BASELINE_OPT, "optimisation level; Ofast relaxes IEEE semantics"))
    knobs.append(Knob("march_native", "flag", ("off", "on"), "off", "-march=native"))
    if "clang" in comps:
        clang = _is("compiler", "clang")
        knobs.append(Knob("polly", "flag", ("off", "on"), "off", "Polly polyhedral optimiser", (clang,)))
        on = _is("polly", "on")
        knobs.append(Knob("polly_tiling", "flag", ("on", "off"), "on", "-polly-tiling", (clang, on)))
        knobs.append(
            Knob(
                "polly_tile_size",
                "flag",
                POLLY_TILE,
                "auto",
                "-polly-default-tile-size",
                (clang, on, _is("polly_tiling", "on")),
            )
        )
        knobs.append(Knob("polly_vectorizer", "flag", ("none", "stripmine"), "none", "-polly-vectorizer", (clang, on)))
    sequential = not uses_openmp(kernel)
    clang_only = (_is("compiler", "clang"),) if "clang" in comps else ()
    parallel_on: list[Condition] = []  # every way this program can run in parallel
    if sequential and "clang" in comps:
        knobs.append(
            Knob(
                "polly_parallel",
                "flag",
                ("off", "on"),
                "off",
                "-polly-parallel: Polly runs the loops it proves parallel with OpenMP",
                (_is("compiler", "clang"), _is("polly", "on")),
            )
        )
        parallel_on.append(_is("polly_parallel", "on"))

    # --- loop order and parallel loops (before threads: threads depends on them) --
    plan = plan_loops(prog, sequential, clang="clang" in comps)
    for root, orders in plan.interchange.items():
        lp = prog.loops[root]
        conds = list(clang_only) + [
            _is(f"{prog.loops[o].name}.interchange", _orig(plan, o)) for o in _outer(plan, root)
        ]
        knobs.append(
            Knob(
                f"{lp.name}.interchange",
                "source",
                (_orig(plan, root), *orders),
                _orig(plan, root),
                "loop order of the nest, outermost first (#pragma omp interchange)",
                tuple(conds),
                site=f"{lp.function}:{lp.line}",
            )
        )
    for idx in plan.parallel:
        lp = prog.loops[idx]
        conds = []
        if idx in plan.interchange:  # only orders whose outer loop is still safe
            conds.append(_is(f"{lp.name}.interchange", _orig(plan, idx), *plan.parallel_orders[idx]))
        for o in _outer(plan, idx):  # a pragma inside another loop's interchanged nest
            conds.append(_is(f"{prog.loops[o].name}.interchange", _orig(plan, o)))
        knobs.append(
            Knob(
                f"{lp.name}.parallel",
                "source",
                ("off", "on"),
                "off",
                "#pragma omp parallel for (dependence check passed)",
                tuple(conds),
                site=f"{lp.function}:{lp.line}",
            )
        )
        parallel_on.append(_is(f"{lp.name}.parallel", "on"))

    # --- runtime (environment only, no rebuild) ---------------------------------
    choices = thread_choices(cores)
    if not sequential:
        knobs.append(Knob("threads", "env", choices, choices[-1], "OMP_NUM_THREADS"))
    elif parallel_on:
        knobs.append(Knob("threads", "env", choices, choices[-1], "OMP_NUM_THREADS", (AnyOf(tuple(parallel_on)),)))
        notes.append("no OpenMP in the program: threads matter only with a parallelization knob on")
    else:
        notes.append("no OpenMP in the program and no loop proven parallel: no threads knob")

    # --- per loop -----------------------------------------------------------------
    n_ws = n_hint = n_tile = 0
    outside = [lp for lp in prog.loops if not lp.in_region]
    if outside:
        notes.append(f"{len(outside)} loop(s) outside the timed region left alone (they cannot change its time)")
    for loop in prog.loops:
        if not loop.in_region:
            continue
        site = f"{loop.function}:{loop.line}"
        sched = schedule_site(loop)
        if sched is not None:
            kind, chunk = sched
            chunks = CHUNKS if chunk in CHUNKS else (*CHUNKS, chunk)
            knobs.append(Knob(f"{loop.name}.schedule", "env", SCHEDULE_KINDS, kind, "OpenMP schedule kind", site=site))
            knobs.append(
                Knob(
                    f"{loop.name}.chunk",
                    "env",
                    chunks,
                    chunk,
                    "OpenMP chunk size",
                    (_is(f"{loop.name}.schedule", "static", "dynamic", "guided"),),
                    site=site,
                )
            )
            n_ws += 1
        elif loop.worksharing is not None:
            notes.append(f"{site}: schedule clause not constant or not modelled; left as written")
        own: list[Requirement] = []  # this loop's own order knobs stay untransformed
        if loop.index in plan.interchange:
            own.append(_is(f"{loop.name}.interchange", _orig(plan, loop.index)))
        if loop.index in plan.reverse:
            conds = (
                list(clang_only)
                + own
                + [_is(f"{prog.loops[o].name}.interchange", _orig(plan, o)) for o in _outer(plan, loop.index)]
            )
            if loop.index in plan.parallel:
                conds.append(_is(f"{loop.name}.parallel", "off"))
            knobs.append(
                Knob(
                    f"{loop.name}.reverse",
                    "source",
                    ("off", "on"),
                    "off",
                    "#pragma omp reverse",
                    tuple(conds),
                    site=site,
                )
            )
            own.append(_is(f"{loop.name}.reverse", "off"))
        depth = tile_depth(prog, loop)
        if depth and clang_only:
            # no pragma of ours may stand between the tiled loops, and clang cannot tile an interchanged nest
            inner = prog.nest(loop, depth)[1:]
            conds = list(clang_only) + own
            conds += [_is(f"{lp.name}.parallel", "off") for lp in inner if lp.index in plan.parallel]
            conds += [_is(f"{prog.loops[o].name}.interchange", _orig(plan, o)) for o in _outer(plan, loop.index)]
            conds += [
                _is(f"{lp.name}.interchange", _orig(plan, lp.index)) for lp in inner if lp.index in plan.interchange
            ]
            for d in range(depth):
                knobs.append(
                    Knob(
                        f"{loop.name}.tile{d + 1}",
                        "source",
                        TILE,
                        1,
                        f"omp tile size of nest level {d + 1} (1: not tiled)",
                        tuple(conds),
                        site=site,
                    )
                )
            n_tile += 1
        if hint_site(prog, loop):
            # gcc's `#pragma GCC unroll` must stand right before its `for`, where a work-sharing
            # loop already has `#pragma omp for`: there the hint is clang's alone (and so it is
            # where our `parallel for` may go, unless that knob is off)
            unroll_conds: tuple[Requirement, ...] = clang_only if loop.worksharing is not None else ()
            if loop.index in plan.parallel and "gcc" in comps:
                off = _is(f"{loop.name}.parallel", "off")
                unroll_conds = (AnyOf((*clang_only, off)),) if clang_only else (off,)
            knobs.append(
                Knob(
                    f"{loop.name}.unroll",
                    "source",
                    UNROLL,
                    "auto",
                    "unroll count (1: no unrolling)",
                    unroll_conds,
                    site=site,
                )
            )
            if not loop.has_break and clang_only:
                knobs.append(
                    Knob(
                        f"{loop.name}.vectorize",
                        "source",
                        VECTORIZE,
                        "auto",
                        "vector width (1: scalar)",
                        clang_only,
                        site=site,
                    )
                )
                knobs.append(
                    Knob(
                        f"{loop.name}.interleave",
                        "source",
                        INTERLEAVE,
                        "auto",
                        "interleave count",
                        clang_only,
                        site=site,
                    )
                )
            n_hint += 1

    # --- declared parameters ---------------------------------------------------------
    declared = {p.name: (p.values, p.line) for p in prog.params}
    for name, values in kernel.params.items():
        declared[name] = (values, 0)
    for name, (values, line) in declared.items():
        where = f"{kernel.path}:{line}" if line else f"--param {name}"
        if not values:
            raise UserError(f"{where}: parameter {name} has no values; write e.g. `@autotune param {name} 16 32 64`")
        if name in {k.name for k in knobs}:
            raise UserError(f"{where}: parameter {name} clashes with a built-in knob; rename it")
        d = prog.defines.get(name)
        if d is not None and not d.guarded:
            raise UserError(
                f"{kernel.path}:{d.line}: parameter {name} is #defined unconditionally, so -D{name} cannot change it; "
                f"wrap it in #ifndef {name} ... #endif"
            )
        vals = tuple(_as_value(v) for v in values)
        default = _as_value(d.value) if d is not None else vals[0]
        if default not in vals:
            vals = (default, *vals)
        knobs.append(Knob(name, "flag", vals, default, f"-D{name}=<value>", site=where, define=name))

    notes.extend(plan.notes(prog))
    if not n_ws and not n_hint and not n_tile and not plan.any:
        also = " and threads" if any(k.name == "threads" for k in knobs) else ""
        notes.append(f"no tunable loops found: tuning compiler flags{also} only")
    if "gcc" not in comps:
        notes.append("gcc not found: compiler knob has clang only")
    return Space(knobs, notes)


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


def _as_value(text: str) -> Value:
    t = text.strip()
    return int(t) if re.fullmatch(r"-?\d+", t) else t


# --- OpenMP use, parallel loops and loop order -------------------------------------------
def uses_openmp(kernel: Kernel) -> bool:
    """The program has OpenMP of its own: an `omp` pragma or `omp_*` call in the main file or an extra source.

    PolyBench/C's `polybench.c` has OpenMP only in its instruments (the cache
    flush before the timer starts, PAPI set-up), all in `polybench_*`
    functions; those do not make the kernel parallel and are not counted.
    """
    if kernel.program.uses_openmp:
        return True
    for src in kernel.sources:
        prog = _cparse.parse(src.read_bytes())
        if any(not func.startswith("polybench_") for func, _ in prog.openmp):
            return True
    return False


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


def _orig(plan: LoopPlan, root: int) -> str:
    return "-".join(plan.vars_of[root])


def _outer(plan: LoopPlan, idx: int) -> list[int]:
    """Interchange roots whose nest has `idx` at an inner level (a pragma there would break that nest)."""
    return [r for r, loops in plan.nest_of.items() if r in plan.interchange and idx in loops[1:]]


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
