"""A seeded, deterministic generator of C/OpenMP programs that keep the kernel contract (issue 13).

Why: 25 suite kernels cannot teach a surrogate to transfer; it needs hundreds of programs that
differ in the ways tuning cares about (loop depth, access pattern, reductions, bounds, stencils,
arithmetic intensity, where the parallel region stands, problem size), grouped by the template
that made them so evaluation can hold whole templates out.

Modules, one job each: `base` (the template protocol, the per-kernel random stream, what a
generated kernel is, normalization), `cgen` (the C skeleton every program shares: header
comment, size presets, helpers, main), `templates/` (one module per family of templates),
`registry` (every template, in generation order), `verify` (build and run each program with
autotune's own machinery: identical output with 1 and 2 threads and every schedule, knobs
found), `writer` (quotas, distinctness, manifest), `__main__` (`python -m autotune.kernelgen`).
"""

from autotune.kernelgen.base import Generated, Template, generate, normalize
from autotune.kernelgen.registry import TEMPLATES
from autotune.kernelgen.verify import Verification, verify_file, verify_source
from autotune.kernelgen.writer import generate_set

__all__ = [
    "TEMPLATES",
    "Generated",
    "Template",
    "Verification",
    "generate",
    "generate_set",
    "normalize",
    "verify_file",
    "verify_source",
]
