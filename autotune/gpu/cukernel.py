"""A CUDA program as the engine's `Kernel`: its declared parameters are the knobs, nvcc builds it.

Why a program and not a kernel plus a description (as for OpenCL): CUDA kernels are C++ whose
launch is written in the host code beside them (`<<<grid, block>>>`), often with templates, so
the program itself is the natural unit. It declares what may be tuned the way a C program does
(`// @autotune param BLOCK 64 128 256` above an `#ifndef BLOCK` default: block sizes, coarsening
factors, unroll depths), includes `autotune_cuda.cuh` (deterministic inputs, CUDA-event timing as
region lines, output checksums, one-line device errors), and everything downstream (builds,
the interleaved protocol, verification) is the engine's own. `kernels/cuda/` has six.

Without a GPU, `autotune space` and builds work (nvcc needs no device); measuring says in one
line that there is no device to run on.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from autotune.build import compilers
from autotune.errors import UserError
from autotune.kernel import INCLUDE_DIR, Kernel, TimingSource, read_source
from autotune.space import Config, Space
from autotune.space.families.params import declared_knobs
from autotune.space.knobs import Knob

if TYPE_CHECKING:  # variant imports the build package, which imports variant: read it once that is done
    from autotune.variant import Variant

CU_SUFFIXES = (".cu",)
HARNESS = "autotune_cuda.cuh"
DEFAULT_ARCH = "sm_90"  # H100 and H200, the GPUs lent to this project
FAST_MATH = {"off": [], "on": ["--use_fast_math"]}


@dataclass
class CudaKernel(Kernel):
    """A CUDA C++ program with `main`, its tunables declared as parameters."""

    language = "cuda"

    @classmethod
    def load(cls, path: str | Path, **kw) -> CudaKernel:
        k = cls.fresh(path, **kw)
        k.text = read_source(k.path, "CUDA")
        if not k.program.has_main:
            raise UserError(f"{k.path}: no main(); a CUDA kernel is tuned as a whole program (see kernels/cuda/)")
        if compilers.nvcc() is None:
            raise UserError(f"{k.path}: nvcc not found; install the CUDA toolkit or set AUTOTUNE_NVCC")
        return k

    @cached_property
    def timing(self) -> TimingSource:  # type: ignore[override]
        return "region" if HARNESS in {Path(i).name for i in self.program.includes} else "wall"

    def hash_files(self, h) -> None:
        """Also the shipped harness (autotune/include/autotune_cuda.cuh): every build includes it."""
        super().hash_files(h)
        harness = INCLUDE_DIR / HARNESS
        if harness.exists():
            h.update(harness.read_bytes())

    def space(self) -> Space:
        """The declared parameters, then nvcc's fast-math switch."""
        knobs: list[Knob] = [Knob("fast_math", "flag", tuple(FAST_MATH), "off", "nvcc --use_fast_math")]
        knobs += declared_knobs(self, {k.name for k in knobs})
        notes = [f"nvcc for {arch()} ({compilers.resolve('nvcc')})"]
        if not any(k.define for k in knobs):
            notes.append("no parameters declared: write `// @autotune param BLOCK 128 256` above an #ifndef default")
        return Space(knobs, notes)

    def variant(self, space: Space, config: Config) -> Variant:
        from autotune.variant import DeviceCode, Variant

        cfg = space.canonical(config)
        defines = [*self.defines, *(f"{k.define}={cfg[k.name]}" for k in space.knobs if k.define)]
        dflags = [f"-D{d}" for d in defines]
        flags = ["-O3", "-std=c++17", f"-arch={arch()}", *FAST_MATH[str(cfg["fast_math"])], *self.cflags]
        flags += [*dflags, *self.include_flags()]
        device = DeviceCode("cuda", self.text, tuple([*dflags, *self.include_flags()]))
        return Variant(cfg, None, flags, list(self.ldflags), {}, "nvcc", device)


@functools.lru_cache(maxsize=1)
def arch() -> str:
    """The GPU architecture to build for: AUTOTUNE_CUDA_ARCH, else the first GPU's, else sm_90."""
    if os.environ.get("AUTOTUNE_CUDA_ARCH"):
        return os.environ["AUTOTUNE_CUDA_ARCH"]
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            out = subprocess.run(
                [smi, "--query-gpu=compute_cap", "--format=csv,noheader"], capture_output=True, text=True, timeout=30
            ).stdout
        except (OSError, subprocess.TimeoutExpired):
            out = ""
        m = re.match(r"\s*(\d+)\.(\d+)", out)
        if m:
            return f"sm_{m.group(1)}{m.group(2)}"
    return DEFAULT_ARCH
