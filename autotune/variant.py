"""A configuration applied: transformed source, compile command, environment.

Why schedules go through the environment: per DESIGN.md, knobs that only
change the environment never trigger a rebuild. Every OpenMP work-sharing loop
we took over is rewritten once to `schedule(runtime)` and preceded by a call
that sets that loop's own schedule from `AUTOTUNE_SCHEDULE_<site>` (read once at
start-up by a constructor). A single OMP_SCHEDULE could not give two loops
different schedules; this can, and all schedule variants share one binary.

The untransformed program with default flags is the baseline. A config equal
to the default compiles the original source unchanged, so an A/A measurement
compares a binary with itself.

Loop pragmas we insert stand right before their `for`, after any pragma
already there, in the one order clang accepts when several apply to one loop:
`omp parallel for` (the loop that results from what follows is the parallel
one), then `omp interchange` or `omp reverse`, then `omp tile`, then the
`clang loop` hint. The parallel loop privatises every outer-declared scalar
`deps.py` found written in it (inner loop variables, scalars set before use,
its own variable): under interchange or tile the original loops are no longer
the associated ones, so even its own variable needs the clause.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from autotune import compilers, deps
from autotune._cparse import split_clauses
from autotune.discover import BASELINE_OPT
from autotune.kernel import Kernel
from autotune.machine import compiler_version
from autotune.space import Config, Space

_KIND_ENUM = {"static": 1, "dynamic": 2, "guided": 3, "auto": 4}

_PRELUDE = """\
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


@dataclass(frozen=True)
class Variant:
    """Everything needed to build and run one configuration."""

    config: Config
    source: bytes | None  # transformed main file, None = the original file
    flags: list[str]  # compiler flags before the sources
    ldflags: list[str]
    env: dict[str, str]
    compiler: str  # compiler name (clang, gcc)

    def build_key(self, kernel: Kernel) -> str:
        """Content hash of everything that determines the binary (not the env)."""
        h = hashlib.sha256()
        cc = compilers.available().get(self.compiler, self.compiler)
        h.update(json.dumps([self.compiler, cc, compiler_version(cc), self.flags, self.ldflags]).encode())
        h.update(self.source if self.source is not None else kernel.text)
        kernel.hash_files(h)
        return h.hexdigest()[:24]

    def compile_command(self, kernel: Kernel, main_file: Path, output: Path) -> list[str]:
        cc = compilers.available().get(self.compiler, self.compiler)
        srcs = [str(main_file), *(str(s.resolve()) for s in kernel.sources)]
        return [cc, *self.flags, *srcs, "-o", str(output), *self.ldflags]


def _schedule_sites(space: Space) -> list[str]:
    """Loop names that have schedule knobs, in source order (site numbers)."""
    return [k.name.split(".")[0] for k in space.knobs if k.name.endswith(".schedule")]


def _loop_hint(config: Config, loop: str, compiler: str) -> str | None:
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


def _rewrite_schedule(text: str) -> str:
    """The directive text with its schedule clause replaced by schedule(runtime)."""
    out = []
    for name, arg in split_clauses(text):
        if name == "schedule":
            continue
        out.append(f"{name}({arg})" if arg else name)
    return " ".join(out) + " schedule(runtime)"


def _privatize(text: str, loops) -> str:
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
    extra = [lp.var for lp in loops if lp.var and lp.var not in named]
    return f"{text} private({', '.join(extra)})" if extra else text


def _order_pragmas(kernel: Kernel, space: Space, config: Config, loop) -> list[str]:
    """`omp parallel for`, `omp interchange` / `omp reverse` for this loop's knobs, in that order."""
    lines = []
    if config.get(f"{loop.name}.parallel") == "on":
        verdict = deps.analysis(kernel.program).parallel(loop)
        if not verdict.ok:  # the space offered the knob, so the analysis said yes then
            raise ValueError(f"{loop.name}: not parallel ({verdict.why})")
        priv = f" private({', '.join(verdict.private)})" if verdict.private else ""
        lines.append(f"omp parallel for{priv}")
    name = f"{loop.name}.interchange"
    if name in space and config[name] != space[name].default:
        old = str(space[name].default).split("-")
        new = str(config[name]).split("-")
        lines.append(f"omp interchange permutation({', '.join(str(old.index(v) + 1) for v in new)})")
    if config.get(f"{loop.name}.reverse") == "on":
        lines.append("omp reverse")
    return lines


def make_variant(kernel: Kernel, space: Space, config: Config) -> Variant:
    """Apply a (validated, canonical) configuration."""
    config = space.canonical(config)
    prog = kernel.program
    compiler = str(config.get("compiler", "clang"))
    flags = [f"-{config.get('opt', BASELINE_OPT)}", "-fopenmp"]
    if config.get("march_native") == "on":
        flags.append("-march=native")
    if compiler == "clang" and config.get("polly") == "on":
        flags += ["-mllvm", "-polly"]
        if config.get("polly_tiling") == "off":
            flags += ["-mllvm", "-polly-tiling=false"]
        elif config.get("polly_tile_size", "auto") != "auto":
            flags += ["-mllvm", f"-polly-default-tile-size={config['polly_tile_size']}"]
        if config.get("polly_vectorizer") == "stripmine":
            flags += ["-mllvm", "-polly-vectorizer=stripmine"]
        if config.get("polly_parallel") == "on":
            flags += ["-mllvm", "-polly-parallel"]
    flags += list(kernel.cflags)
    defines = kernel.base_defines()
    for k in space.knobs:
        if k.define and config[k.name] != k.default:
            defines = [*defines, f"{k.define}={config[k.name]}"]
    flags += [f"-D{d}" for d in defines]
    flags += kernel.include_flags()
    ldflags = [*kernel.ldflags, "-lm"]

    env = {"OMP_NUM_THREADS": str(config.get("threads", space["threads"].default if "threads" in space else 1))}

    # --- source edits -----------------------------------------------------------------
    sites = _schedule_sites(space)
    sched_changed = any(config[f"{s}.{w}"] != space[f"{s}.{w}"].default for s in sites for w in ("schedule", "chunk"))
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement) on the original bytes
    site_of = {name: i for i, name in enumerate(sites)}
    for loop in prog.loops:
        ws = loop.worksharing
        dims = [config.get(f"{loop.name}.tile{d}", 1) for d in range(1, 4) if f"{loop.name}.tile{d}" in space]
        tiled = bool(dims) and any(d != 1 for d in dims)
        if ws is not None:
            text = ws.text
            if tiled:
                text = _privatize(text, [lp for lp in prog.nest(loop, len(dims)) if not lp.declares_var])
            if sched_changed and loop.name in site_of:
                site = site_of[loop.name]
                text = _rewrite_schedule(text)
                first = loop.pragmas[0].start
                edits.append((first, first, f"{{ autotune_set_schedule_({site});\n{loop.indent}"))
                edits.append((loop.end, loop.end, " }"))
                kind, chunk = config[f"{loop.name}.schedule"], config[f"{loop.name}.chunk"]
                env[f"AUTOTUNE_SCHEDULE_{site}"] = str(kind) if chunk == "auto" or kind == "auto" else f"{kind},{chunk}"
            if text != ws.text:
                edits.append((ws.arg_start, ws.arg_end, text))
        lines = _order_pragmas(kernel, space, config, loop)
        if tiled:
            lines.append(f"omp tile sizes({', '.join(map(str, dims))})")
        hint = _loop_hint(config, loop.name, compiler)
        if hint:
            lines.append(hint)
        if lines:
            text = "".join(f"#pragma {ln}\n{loop.indent}" for ln in lines)
            edits.append((loop.start, loop.start, ("\n" if loop.inline else "") + text))

    source: bytes | None = None
    if edits:
        src = kernel.text
        # apply back to front; at equal offsets keep insertion order stable
        for start, end, rep in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
            src = src[:start] + rep.encode() + src[end:]
        if sched_changed:
            src = _PRELUDE.format(n=len(sites)).encode() + src
        source = src
    return Variant(config=config, source=source, flags=flags, ldflags=ldflags, env=env, compiler=compiler)
