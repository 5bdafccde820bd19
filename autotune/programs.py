"""Which kind of kernel a file is: a C program (`Kernel`) or an OpenCL kernel (`ClKernel`), by its suffix.

Why its own module: the engine's lower layers (spaces, variants, builds, measurement) take any
`Kernel` and never import the GPU package; the entry points (the command line, `tune`, a study
read back from storage) load through here, the one place that knows both kinds.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from autotune.gpu.clkernel import CL_SUFFIXES, ClKernel
from autotune.kernel import Kernel


def load(path: str | Path, **kw) -> Kernel:
    """`Kernel.load` or, for an OpenCL `.cl` file, `ClKernel.load` (with the description beside it)."""
    if Path(path).suffix in CL_SUFFIXES:
        return ClKernel.load(path, **kw)
    return Kernel.load(path, **kw)


def from_options(path: str | Path, options: Mapping[str, Any]) -> Kernel:
    """The kernel `Kernel.options()` described, read and checked again (a study's kernel, reloaded)."""
    return load(path, **options)
