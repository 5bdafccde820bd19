"""Which kind of kernel a file is, by its suffix: a C program (`Kernel`), an OpenCL kernel (`ClKernel`) or a
CUDA program (`CudaKernel`).

Why its own module: the engine's lower layers (spaces, variants, builds, measurement) take any
`Kernel` and never import the GPU package; the entry points (the command line, `tune`, a study
read back from storage) load through here, the one place that knows both kinds.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from autotune.gpu.clkernel import CL_SUFFIXES, ClKernel
from autotune.gpu.cukernel import CU_SUFFIXES, CudaKernel
from autotune.kernel import Kernel


def load(path: str | Path, **kw) -> Kernel:
    """`Kernel.load`; for an OpenCL `.cl` file `ClKernel.load` (with the description beside it), for a CUDA
    `.cu` program `CudaKernel.load`. `rtol`/`atol` None: the kernel's own (1e-6 and 0, or the description's)."""
    kw = {k: v for k, v in kw.items() if not (k in ("rtol", "atol") and v is None)}
    if Path(path).suffix in CL_SUFFIXES:
        return ClKernel.load(path, **kw)
    if Path(path).suffix in CU_SUFFIXES:
        return CudaKernel.load(path, **kw)
    return Kernel.load(path, **kw)


def from_options(path: str | Path, options: Mapping[str, Any]) -> Kernel:
    """The kernel `Kernel.options()` described, read and checked again (a study's kernel, reloaded)."""
    return load(path, **options)
