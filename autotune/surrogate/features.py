"""Fixed-size features of a configuration's knobs, comparable across kernels.

Why summaries and not the knobs themselves: every kernel has its own loops
(`L6.unroll`, `L10.vectorize`), so a model that transfers across kernels needs
the same columns for all of them. What a knob did to the code is in the IR
embedding; these columns carry what the IR cannot show (threads, schedules,
chunks are runtime settings) and a coarse summary of the rest.

The last columns describe the workload rather than the configuration: how long the
untransformed program's region runs (the measured baseline time: a 5 ms region pays for a
second thread's start-up, a 500 ms one does not) and the shape of its space (parallel sites,
tunable loops, tileable nests), and its OpenMP profile from one run (`autotune.measure.profile`:
how often it forks, how many worksharing loops of how many iterations it runs, how long its
threads wait). They are what lets one model rank configurations of programs of very different
sizes: whether a second thread or a smaller chunk pays off is decided by the work between two
forks or barriers, which the profile and the baseline time give together.
"""

from __future__ import annotations

import math
import re

import numpy as np

from autotune.measure.profile import OmpProfile
from autotune.space import Config, Space
from autotune.space.cparse import SCHEDULE_KINDS

OPT_LEVELS = ("O1", "O2", "O3", "Ofast")
HINTS = ("unroll", "vectorize", "interleave")
# what one run of the untransformed program did in parallel (`autotune.measure.profile`): how often it
# forks, how many worksharing loops it runs and how long each is, the share of time its threads wait; and
# what its own time at one thread says this configuration's thread count is worth (`threads_gain`)
PROFILE = [
    "omp_profiled", "forks_log10", "ws_loops_log10", "iters_per_loop_log10",
    "s_per_fork_log10", "s_per_loop_log10", "s_per_iter_log10", "wait_frac", "threads_gain",
]  # fmt: skip
# the workload's, not the config's
CONTEXT = ["log10_baseline_s", "sites_log2", "loops_log2", "tile_nests_log2", *PROFILE]
# GPU-style kernels' launch knobs (autotune.gpu): the coarsening factor and the work-group (block) size, which
# the IR shows only partly (coarsening) or not at all (the group size is a launch setting)
GPU = ["cf_log2", "wg_log2", "wg_auto"]
NAMES: list[str] = [
    "threads_frac",
    *(f"sched_{k}" for k in SCHEDULE_KINDS),
    "chunk_log2",
    "chunk_set",
    *(f"opt_{o}" for o in OPT_LEVELS),
    "march_native",
    "polly",
    "gcc",
    *(f"{h}_{w}" for h in HINTS for w in ("set", "off", "log2")),
    "tiled",
    "tile_log2",
    "param_changed",
    *GPU,
    "cores_log2",
    *CONTEXT,
]


def _log2(v) -> float:
    return math.log2(v) if isinstance(v, int) and v > 0 else 0.0


def _gpu(space: Space, config: Config) -> dict[str, float]:
    """cf_log2, wg_log2, wg_auto of an OpenCL space (`cf`, `wg` / `wg.cf<c>`) or a CUDA program's
    parameters by the names kernels/cuda uses (`CF`; `BLOCK`, or `BX` and `BY`)."""
    cf = config.get("cf", config.get("CF", 1))
    wg_knob = f"wg.cf{cf}" if f"wg.cf{cf}" in space else "wg"
    if wg_knob in space:
        shape = str(config[wg_knob])
        size = 0 if shape == "auto" else math.prod(int(n) for n in shape.split("x"))
    else:
        size = int(config.get("BLOCK", 0) or 0) or int(config.get("BX", 0) or 0) * int(config.get("BY", 1) or 1)
    has_wg = wg_knob in space or size > 0
    return {
        "cf_log2": _log2(cf) / 5,
        "wg_log2": _log2(size) / 12,
        "wg_auto": float(has_wg and size == 0),
    }


def knob_features(
    space: Space, config: Config, cores: int, baseline_s: float, profile: OmpProfile | None = None
) -> np.ndarray:
    """One row of len(NAMES) floats, roughly in [0, 1]; `baseline_s`: the baseline's region time in seconds,
    `profile`: the baseline's OpenMP profile (None: not an OpenMP program, or not known; zeros)."""
    f = dict.fromkeys(NAMES, 0.0)
    if "threads" in space:
        f["threads_frac"] = float(config["threads"]) / max(1, cores)
    else:
        f["threads_frac"] = 1.0 / max(1, cores)
    sites = [k.name[: -len(".schedule")] for k in space.knobs if k.name.endswith(".schedule")]
    chunks = []
    for s in sites:
        f[f"sched_{config[f'{s}.schedule']}"] += 1 / len(sites)
        c = config.get(f"{s}.chunk", "auto")
        if c != "auto":
            chunks.append(_log2(c))
    if chunks:
        f["chunk_log2"] = float(np.mean(chunks)) / 8
        f["chunk_set"] = len(chunks) / len(sites)
    if config.get("opt") in OPT_LEVELS:
        f[f"opt_{config['opt']}"] = 1.0
    f["march_native"] = float(config.get("march_native") == "on")
    f["polly"] = float(config.get("polly") == "on")
    f["gcc"] = float(config.get("compiler") == "gcc")
    for h in HINTS:
        names = [k.name for k in space.knobs if k.name.endswith(f".{h}")]
        if not names:
            continue
        vals = [config[n] for n in names]
        set_ = [v for v in vals if v != "auto"]
        f[f"{h}_set"] = len(set_) / len(vals)
        f[f"{h}_off"] = sum(v == 1 for v in set_) / len(vals)
        f[f"{h}_log2"] = float(np.mean([_log2(v) for v in set_])) / 4 if set_ else 0.0
    nests = sorted({k.name.split(".")[0] for k in space.knobs if ".tile" in k.name})
    if nests:
        sizes = [[config[k.name] for k in space.knobs if k.name.startswith(f"{n}.tile")] for n in nests]
        tiled = [s for s in sizes if any(v != 1 for v in s)]
        f["tiled"] = len(tiled) / len(nests)
        f["tile_log2"] = float(np.mean([_log2(v) for s in tiled for v in s])) / 7 if tiled else 0.0
    params = [k for k in space.knobs if k.define]
    if params:
        f["param_changed"] = sum(config[k.name] != k.default for k in params) / len(params)
    f.update(_gpu(space, config))
    f["cores_log2"] = math.log2(max(1, cores)) / 7
    f["log10_baseline_s"] = (math.log10(max(baseline_s, 1e-6)) + 3) / 3  # 1 ms -> 0, 1 s -> 1
    f["sites_log2"] = math.log2(1 + len(sites)) / 4
    f["loops_log2"] = math.log2(1 + sum(k.name.endswith(".unroll") for k in space.knobs)) / 5
    f["tile_nests_log2"] = math.log2(1 + len(nests)) / 3
    if profile is not None:
        f.update(_profile(profile, baseline_s))
        f["threads_gain"] = threads_gain(profile, int(config["threads"]) if "threads" in space else profile.threads)
    return np.array([f[n] for n in NAMES], dtype=np.float32)


def _profile(p: OmpProfile, baseline_s: float) -> dict[str, float]:
    """The PROFILE columns: counts on log scales, and the baseline time per fork, per loop, per iteration.

    Why per fork and per loop: a thread's start-up and a barrier cost microseconds, so what decides
    whether parallelism pays is the work between them, not the region's total time."""
    b = max(baseline_s, 1e-9)
    loops = p.loop_instances
    return {
        "omp_profiled": 1.0,
        "forks_log10": math.log10(1 + p.parallel) / 5,
        "ws_loops_log10": math.log10(1 + loops) / 5,
        "iters_per_loop_log10": math.log10(1 + p.iterations_per_loop) / 7,
        "s_per_fork_log10": (math.log10(b / max(1, p.parallel)) + 6) / 6,  # 1 us -> 0, 1 s -> 1
        "s_per_loop_log10": (math.log10(b / max(1.0, loops)) + 6) / 6,
        "s_per_iter_log10": (math.log10(b / max(1.0, p.iterations / max(1, p.threads))) + 9) / 6,  # 1 ns -> 0
        "wait_frac": p.wait_fraction,
    }


def threads_gain(p: OmpProfile, threads: int) -> float:
    """The untransformed program's own answer to "what is this thread count worth": log2 of its region
    time at the default threads over its time at `threads`, interpolated in log threads between the two
    counts it was run at (one and the default), halved to the other columns' scale; 0 at the default,
    above it (nothing was run there) and where the scaling was not measured.

    Why one column for it: the effect of the thread count is the largest in the database, and its sign
    differs between programs of one template; trees given the ratio as a workload column and the
    thread count as a knob column must learn the product, and did so poorly on held-out templates."""
    s = p.scaling_log2
    if s is None or p.threads <= 1 or not 1 <= threads < p.threads:
        return 0.0
    return -s * (1 - math.log(threads) / math.log(p.threads)) / 2


# --- what the code is: opcode counts of the region's IR -------------------------------------------
# Why beside the embedding: a few plain counts (memory operations, floating-point arithmetic,
# branches, vector instructions, OpenMP schedule calls) say what kind of loop nest a program is
# and what a knob did to it, in columns trees can split on; the leave-template-out check
# (results/transfer.md) ranks with them better than with the embedding's components alone.
OPCODES = [
    "load", "store", "fadd", "fsub", "fmul", "fdiv", "add", "sub", "mul", "sdiv", "srem", "icmp", "fcmp",
    "br", "phi", "call", "getelementptr", "select", "sext", "zext", "sitofp", "alloca", "ret",
    "shufflevector", "extractelement", "insertelement",
]  # fmt: skip
_OPCODE = {op: re.compile(rf"= {op}\b|^\s*{op}\b", re.M) for op in OPCODES}
COUNT_NAMES = [
    *OPCODES, "vector_types", "functions", "blocks", "loop_hints", "double", "float", "omp_static", "omp_dispatch",
]  # fmt: skip


def ir_counts(ir: str) -> np.ndarray:
    """log(1 + count) of each of COUNT_NAMES in normalised IR text."""
    v = [len(_OPCODE[op].findall(ir)) for op in OPCODES]
    v += [
        sum(ir.count(f"<{n} x") for n in (2, 4, 8, 16)),
        len(re.findall(r"^define ", ir, re.M)),
        len(re.findall(r"^bb\d+:", ir, re.M)),
        ir.count("llvm.loop"),
        ir.count("double"),
        ir.count("float"),
        ir.count("__kmpc_for_static"),
        ir.count("__kmpc_dispatch"),
    ]
    return np.log1p(np.array(v, np.float32))
