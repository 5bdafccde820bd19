"""The C compilers autotune can build with, and how to spell their options.

Why a table and not scattered strings: the baseline, every variant and the
printed compile command must agree on exactly one command line per config.
"""

from __future__ import annotations

import functools
import os
import shutil

# Debian's clang-22 matches llvmlite 0.50 (LLVM 22), so the IR the encoder reads
# is the IR the binary was built from.
CLANG_CANDIDATES = ("clang-22", "/usr/lib/llvm-22/bin/clang")
GCC_CANDIDATES = ("gcc",)
APT_PACKAGES = "clang-22 libomp-22-dev"


def _find(candidates: tuple[str, ...]) -> str | None:
    for c in candidates:
        path = shutil.which(c) if not os.path.isabs(c) else (c if os.access(c, os.X_OK) else None)
        if path:
            return path
    return None


@functools.lru_cache(maxsize=1)
def available() -> dict[str, str]:
    """name -> path of each usable compiler; clang first (the default)."""
    out: dict[str, str] = {}
    clang = os.environ.get("AUTOTUNE_CLANG") or _find(CLANG_CANDIDATES)
    if clang:
        out["clang"] = clang
    gcc = os.environ.get("AUTOTUNE_GCC") or _find(GCC_CANDIDATES)
    if gcc:
        out["gcc"] = gcc
    return out


NVCC_CANDIDATES = ("nvcc", "/usr/local/cuda/bin/nvcc")


@functools.lru_cache(maxsize=1)
def nvcc() -> str | None:
    """The CUDA compiler (AUTOTUNE_NVCC, else nvcc on PATH or in /usr/local/cuda), or None.

    Not among `available()`: that is the C programs' `compiler` knob, and nvcc is not a choice there.
    """
    return os.environ.get("AUTOTUNE_NVCC") or _find(NVCC_CANDIDATES)


def resolve(name: str) -> str:
    """The path of a variant's compiler by its name (clang, gcc, nvcc); the name itself when unknown."""
    return available().get(name) or (nvcc() if name == "nvcc" else None) or name


def require_clang() -> str:
    from autotune.errors import UserError

    path = available().get("clang")
    if path is None:
        raise UserError(f"clang-22 not found: install it with `apt-get install {APT_PACKAGES}` (or set AUTOTUNE_CLANG)")
    return path
