"""The data sets' OpenCL kernels as normalized IR, and their embeddings, cached.

Why one module: the device-mapping and thread-coarsening experiments (and the vectorization
grid's IR) read kernels from ../shared/data, turn them into normalized IR with the encoder's
data-set readers (`encoder.datasets`, as the corpus does: old typed-pointer IR first, the `src`
column recompiled when that IR does not load), embed them with the pre-trained encoder and with
randomly initialised encoders of the same shape, and cache the vectors under build/ so a re-run
costs seconds. Every embedding pass computes all three modalities at once
(`embed_encoded(..., modality="all")`), so the text/graph ablations cost nothing extra.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from encoder.atomic import atomic_write
from encoder.datasets import ModuleRecipe, default_data_dir, module_text, read_csv, tar_texts
from experiments.provenance import ROOT, weights_digest

# read_csv and tar_texts are the encoder's data-set readers, named here for the experiments that read
# the data sets through this module
__all__ = [
    "CACHE_DIR",
    "MODALITY_INDEX",
    "SRC_OPT",
    "TORCH_THREADS",
    "compile_src",
    "data_dir",
    "embed_all",
    "encoder_specs",
    "ir_of",
    "read_csv",
    "tar_texts",
]

CACHE_DIR = ROOT / "build" / "experiments-embeddings"
MODALITY_INDEX = {"fused": 0, "text": 1, "graph": 2}
SRC_OPT = "O2"  # the data sets' IR is optimized (tail calls, nocapture): compile the sources alike
TORCH_THREADS = int(os.environ.get("EXPERIMENT_TORCH_THREADS", "1"))  # 2 threads thrash when the 2 cores are shared


def data_dir() -> Path:
    return default_data_dir()


# --------------------------------------------------------------------------------------------
# IR


def ir_of(ll_text: str | None, src: str | None) -> tuple[str, str]:
    """Normalized IR of a kernel and where it came from ("ir" or "src").

    The data sets' IR (LLVM 5-6) is tried first; when LLVM 22 cannot load it, or there is none,
    the OpenCL source is compiled with clang-22 (repairing helpers cut from the data set).
    """
    if ll_text:
        try:
            return module_text(ModuleRecipe("data-set IR", "ir", ll_text)), "ir"
        except Exception:
            if not src:
                raise
    return compile_src(src or ""), "src"


def compile_src(src: str) -> str:
    return module_text(ModuleRecipe("src column", "source", src, "opencl", SRC_OPT, repair=True))


# --------------------------------------------------------------------------------------------
# Embeddings


def encoder_specs(random_seeds: Sequence[int]) -> list[tuple[str, int | None]]:
    """(encoder name, seed): the shipped pre-trained encoder, then one random init per seed."""
    return [("pretrained", None)] + [("random-init", s) for s in random_seeds]


def _model(name: str, seed: int | None):
    from encoder.embedding import load_model
    from encoder.model import MIREncoder

    if name == "pretrained":
        return load_model()
    torch.manual_seed(int(seed or 0))
    return MIREncoder(load_model().cfg).eval()


def _encode(irs: Sequence[str]):
    from encoder import tokenizer as tk
    from encoder.embedding import TOKENIZER
    from encoder.encode import graph_of, text_ids

    tok = tk.load(TOKENIZER)
    return [(text_ids(text, tok), graph_of(text, tok)) for text in irs]


def embed_all(irs: dict[str, str], name: str, seed: int | None, batch: int = 16) -> dict[str, np.ndarray]:
    """IR hash -> [3, 256] (fused, text, graph) for one encoder, cached in build/.

    The cache file is keyed by the weights digest and, for random inits, the seed, so a new
    model never serves old vectors.
    """
    from encoder.embedding import MAX_WINDOWS, embed_encoded

    torch.set_num_threads(TORCH_THREADS)
    tag = f"{name}-{weights_digest()}" + ("" if seed is None else f"-seed{seed}")
    path = CACHE_DIR / f"{tag}.npz"
    cached: dict[str, np.ndarray] = {}
    if path.exists():
        with np.load(path) as z:
            cached = {k: z[k] for k in z.files}
    todo = [h for h in irs if h not in cached]
    if todo:
        model = _model(name, seed)
        for k in range(0, len(todo), batch):
            chunk = todo[k : k + batch]
            vecs = embed_encoded(model, _encode([irs[h] for h in chunk]), MAX_WINDOWS, "all")
            cached.update(zip(chunk, vecs, strict=True))
        atomic_write(path, lambda tmp: np.savez(tmp, **cached))
    return {h: cached[h] for h in irs}


# --------------------------------------------------------------------------------------------
# Folds and models
