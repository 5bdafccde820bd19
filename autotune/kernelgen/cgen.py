"""The parts every generated program shares: header comment, size presets, helpers, main.

Why one skeleton: the kernel contract (region timer, deterministic initialisation, checksums
with enough digits, size presets whose macros `-D` can override) is then written once, and a
template only writes what differs: its arrays, its initialisation, its kernel and what it prints.
"""

from __future__ import annotations

import json
import random
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

PRESETS = ("MINI", "SMALL", "MEDIUM")
DEFAULT_PRESET = "MEDIUM"
# Work per preset, in units of about one nanosecond of one core of the development machine
# (each template's cost model converts its loop trip counts into these units). SMALL is what
# collection measures on a 2-core machine: tens of milliseconds a run.
TARGET_WORK = {"MINI": 4e5, "SMALL": 3.5e7, "MEDIUM": 2.5e8}
MAX_ELEMENTS = 8_000_000  # per array at MEDIUM: at most 64 MB for a double array


@dataclass(frozen=True)
class CProgram:
    """What a template writes; `render` puts it in the skeleton."""

    description: str  # one paragraph: what the kernel computes and which features it exercises
    sizes: dict[str, dict[str, int]]  # preset -> macro -> value, every preset the same macros in the same order
    globals: str  # array declarations (may use the size macros)
    init: str  # body of `static void init_data(void)`
    kernel: str  # one or more functions; `kernel_run(void)` is what the region calls
    results: str  # body of `static void print_results(void)`


# helpers a template may call; each is emitted only where the program uses it
HELPERS = {
    "gen_hash": """\
/* deterministic 64-bit hash of (i, salt): splitmix64, no rand(), the same on every machine */
static unsigned long long gen_hash(long i, long salt)
{
    unsigned long long x = (unsigned long long)i * 0x9E3779B97F4A7C15ull;
    x += (unsigned long long)salt * 0xD1B54A32D192ED03ull;
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    x ^= x >> 31;
    return x;
}
""",
    "gen_val": """\
/* deterministic value in [0, 1) for (i, salt) */
static double gen_val(long i, long salt)
{
    return (double)(gen_hash(i, salt) >> 11) * 0x1.0p-53;
}
""",
    "print_sum": """\
/* sum and position-weighted sum of n doubles, printed with 12 significant digits */
static void print_sum(const char *what, const double *a, long n)
{
    double sum = 0.0, wsum = 0.0;
    for (long i = 0; i < n; i++) {
        sum += a[i];
        wsum += a[i] * (double)(i % 97 + 1);
    }
    printf("%s sum %.12e wsum %.12e\\n", what, sum, wsum);
}
""",
    "print_sumf": """\
/* the same for floats (accumulated in double) */
static void print_sumf(const char *what, const float *a, long n)
{
    double sum = 0.0, wsum = 0.0;
    for (long i = 0; i < n; i++) {
        sum += (double)a[i];
        wsum += (double)a[i] * (double)(i % 97 + 1);
    }
    printf("%s sum %.12e wsum %.12e\\n", what, sum, wsum);
}
""",
}
_HELPER_NEEDS = {"gen_val": ("gen_hash",)}


def lit(x: float) -> str:
    """A C double literal that reads back as exactly `x` (Python's shortest round-trip repr)."""
    s = repr(float(x))
    return s if any(c in s for c in ".en") else s + ".0"


def fit(work: Callable[[int], float], target: float, lo: int, hi: int) -> int:
    """The largest n in [lo, hi] whose work(n) is at most `target` (lo when even that is over); work rises with n."""
    if work(lo) > target:
        return lo
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if work(mid) <= target:
            lo = mid
        else:
            hi = mid - 1
    return lo


def fit_presets(work: Callable[[int], float], lo: int, hi: int) -> dict[str, int]:
    """The scaling size n of every preset."""
    return {p: fit(work, TARGET_WORK[p], lo, hi) for p in PRESETS}


def schedule_clause(rng: random.Random, fine: bool = True, dynamic_bias: float = 0.0) -> str:
    """A schedule clause as written in the program ('' = the implementation's default).

    `fine`: the loop's iterations are cheap (an element, not a row), so dynamic schedules get
    chunks large enough that dispatching them does not dominate (chunk 1 costs about 100x there).
    """
    chunks = (64, 256) if fine else (1, 4)
    kinds = ["", "schedule(static)", f"schedule(static, {chunks[0]})", f"schedule(dynamic, {chunks[0]})"]
    kinds += [f"schedule(dynamic, {chunks[1]})", "schedule(guided)"]
    if not fine:
        kinds.append("schedule(dynamic)")
    weights = [3, 2, 1, 1 + 2 * dynamic_bias, 1 + 2 * dynamic_bias, 1 + 2 * dynamic_bias, 1 + 2 * dynamic_bias]
    return rng.choices(kinds, weights[: len(kinds)])[0]


def omp(*parts: str) -> str:
    """`#pragma omp ...` from its non-empty parts."""
    return "#pragma omp " + " ".join(p for p in parts if p)


def _size_block(sizes: Mapping[str, Mapping[str, int]]) -> str:
    cond = " && ".join(f"!defined({p}_DATASET)" for p in PRESETS)
    out = [f"#if {cond}", f"#define {DEFAULT_PRESET}_DATASET", "#endif", ""]
    for i, p in enumerate(PRESETS):
        if i == 0:
            out.append(f"#if defined({p}_DATASET)")
        elif i < len(PRESETS) - 1:
            out.append(f"#elif defined({p}_DATASET)")
        else:
            out.append(f"#else /* {p}_DATASET */")
        for macro, value in sizes[p].items():
            out += [f"# ifndef {macro}", f"#  define {macro} {value}", "# endif"]
    out.append("#endif")
    return "\n".join(out)


def _comment(name: str, header: Mapping[str, Any], params: Mapping[str, Any], prog: CProgram) -> str:
    lines = [f"{name}.c -- generated by autotune.kernelgen (python -m autotune.kernelgen); do not edit.", ""]
    lines.append("   ".join(f"{k}: {v}" for k, v in header.items()))
    lines += textwrap.wrap("params: " + json.dumps(dict(params)), 100, subsequent_indent="    ")
    lines.append("")
    lines += textwrap.wrap(prog.description, 100)
    lines.append("")
    lines.append(f"Sizes (-D<SIZE>_DATASET, default {DEFAULT_PRESET}; each macro can be overridden with -DNAME=value):")
    for p in PRESETS:
        lines.append(f"  {p:<6} " + " ".join(f"{m}={v}" for m, v in prog.sizes[p].items()))
    return "/*\n" + "\n".join((" * " + ln).rstrip() for ln in lines) + "\n */"


def _helpers(code: str) -> str:
    used = [h for h in HELPERS if f"{h}(" in code]
    for h in list(used):
        used += [d for d in _HELPER_NEEDS.get(h, ()) if d not in used]
    return "\n".join(HELPERS[h] for h in HELPERS if h in used)


def render(name: str, header: Mapping[str, Any], params: Mapping[str, Any], prog: CProgram) -> str:
    """The complete C program."""
    body = f"{prog.init}\n{prog.kernel}\n{prog.results}"
    init = textwrap.indent(prog.init.strip("\n"), "    ")
    results = textwrap.indent(prog.results.strip("\n"), "    ")
    parts = [
        _comment(name, header, params, prog),
        "#include <stdio.h>\n#include <stdlib.h>\n#include <math.h>\n#include <autotune.h>",
        _size_block(prog.sizes),
        prog.globals.strip("\n"),
        _helpers(body).strip("\n"),
        f"static void init_data(void)\n{{\n{init}\n}}",
        prog.kernel.strip("\n"),
        f"static void print_results(void)\n{{\n{results}\n}}",
        "int main(void)\n{\n    init_data();\n\n    AUTOTUNE_REGION_BEGIN(kernel);\n    kernel_run();\n"
        "    AUTOTUNE_REGION_END(kernel);\n\n    print_results();\n    return 0;\n}",
    ]
    return "\n\n".join(p for p in parts if p) + "\n"
