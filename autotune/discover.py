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
"""

from __future__ import annotations

import re

from autotune import compilers
from autotune._cparse import SCHEDULE_KINDS, Loop, Program, schedule_of, split_clauses
from autotune.errors import UserError
from autotune.kernel import Kernel
from autotune.machine import usable_cores
from autotune.space import Condition, Knob, Space, Value

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

    # --- runtime (environment only, no rebuild) ---------------------------------
    choices = thread_choices(cores)
    knobs.append(Knob("threads", "env", choices, choices[-1], "OMP_NUM_THREADS"))

    # --- per loop -----------------------------------------------------------------
    clang_only = (_is("compiler", "clang"),) if "clang" in comps else ()
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
        depth = tile_depth(prog, loop)
        if depth and clang_only:
            for d in range(depth):
                knobs.append(
                    Knob(
                        f"{loop.name}.tile{d + 1}",
                        "source",
                        TILE,
                        1,
                        f"omp tile size of nest level {d + 1} (1: not tiled)",
                        clang_only,
                        site=site,
                    )
                )
            n_tile += 1
        if hint_site(prog, loop):
            # gcc's `#pragma GCC unroll` must stand right before its `for`, where a work-sharing
            # loop already has `#pragma omp for`: there the hint is clang's alone
            knobs.append(
                Knob(
                    f"{loop.name}.unroll",
                    "source",
                    UNROLL,
                    "auto",
                    "unroll count (1: no unrolling)",
                    clang_only if loop.worksharing is not None else (),
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

    if not n_ws and not n_hint and not n_tile:
        notes.append("no tunable loops found: tuning compiler flags and threads only")
    if "gcc" not in comps:
        notes.append("gcc not found: compiler knob has clang only")
    return Space(knobs, notes)


def _as_value(text: str) -> Value:
    t = text.strip()
    return int(t) if re.fullmatch(r"-?\d+", t) else t
