"""encoder: our MIREncoder, multi-modal (IR text + IR graph) embeddings of LLVM IR.

It knows nothing of tuning: source or IR in, vectors out. `autotune` imports it,
never the reverse.

    import encoder
    vectors = encoder.embed(["kernels/gemm.c", "other.ll"])   # numpy [n, 256]
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    import numpy as np

__version__ = "0.1.0"
__all__ = ["IRError", "embed"]


def __getattr__(name: str):
    """`IRError` (bad input: one line naming the file and the fix) without importing llvmlite up front."""
    if name == "IRError":
        from encoder.errors import IRError

        return IRError
    raise AttributeError(f"module 'encoder' has no attribute {name!r}")


def embed(items: str | Path | Iterable[str | Path], batch_size: int = 16) -> np.ndarray:
    """Embed .c/.cl/.cu/.ll files or IR texts with the shipped weights (lazy import of torch).

    Bad input raises `encoder.IRError` with one line naming the file and the fix.
    """
    from encoder.embedding import embed as _embed

    return _embed(items, batch_size)
