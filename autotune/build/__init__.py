"""Build: compile a variant once (content-hash cache) and emit its LLVM IR for the encoder.

Modules, one job each: `compilers` (which compilers exist and their versions), `cache` (the
content-hash build cache: compile a variant once), `ir` (the same variant's LLVM IR, at the same
optimisation level, for the encoder), `pool` (compiles side by side on every core, before
anything is timed). Where the caches live: `autotune.paths`.
"""

from autotune.build.cache import Builder, BuildResult

__all__ = ["BuildResult", "Builder"]
