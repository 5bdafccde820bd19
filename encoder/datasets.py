"""The public data sets in shared/data: where they live, their tables and archives, an entry as IR.

Why here and not in the corpus builder: the experiments (device mapping, thread coarsening,
vectorization) read the same files and must turn a kernel into the same normalized IR the
corpus holds, without importing the training package. A `ModuleRecipe` says how to obtain one
module (load an IR text, or compile a source text); `module_text` follows it.
"""

from __future__ import annotations

import csv
import os
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

__all__ = ["REPO", "ModuleRecipe", "default_data_dir", "module_text", "read_csv", "tar_texts"]


def default_data_dir() -> Path:
    """Where the public data lives: `$ENCODER_DATA_DIR`, else `shared/data` in or next to the repo."""
    env = os.environ.get("ENCODER_DATA_DIR")
    if env:
        return Path(env)
    for cand in (REPO / "shared" / "data", REPO.parent / "shared" / "data"):
        if cand.is_dir():
            return cand
    return REPO.parent / "shared" / "data"


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of a data set's CSV table (some cells hold whole kernel sources: no field size limit)."""
    csv.field_size_limit(sys.maxsize)
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def tar_texts(path: Path, suffix: str) -> dict[str, str]:
    """Member basename -> text for every member of a .tar.gz (or .tar.bz2) ending in `suffix`."""
    out = {}
    mode = "r:bz2" if path.suffix == ".bz2" else "r:gz"
    with tarfile.open(path, mode) as tf:
        for m in tf.getmembers():
            if m.isfile() and m.name.endswith(suffix):
                fh = tf.extractfile(m)
                if fh is not None:
                    out[m.name.rsplit("/", 1)[-1]] = fh.read().decode("utf-8", errors="replace")
    return out


@dataclass(frozen=True)
class ModuleRecipe:
    """One way to obtain one module: compile a source text, or load an IR text.

    `fallback` is tried when this recipe fails: old IR that the LLVM-22 parser
    cannot load is recompiled from its OpenCL source instead.
    """

    name: str
    kind: str  # "source" | "ir"
    text: str = ""
    language: str = "c"
    opt: str = "O1"
    flags: tuple[str, ...] = ()
    defines: tuple[str, ...] = ()
    include_dirs: tuple[str, ...] = ()
    fallback: ModuleRecipe | None = None
    repair: bool = False  # public OpenCL sources whose helpers were cut away (see encoder.opencl_repair)


def module_text(recipe: ModuleRecipe) -> str:
    """Compile or load one recipe and return its normalized text (raises on failure; no fallback)."""
    from encoder import ir

    if recipe.kind == "ir":
        # normalize parses with LLVM 22 and re-prints, so old typed-pointer IR comes out in the
        # modern form the encoder will see at tuning time.
        return ir.normalize(recipe.text)
    kwargs = {"repair": True} if recipe.repair else {}
    raw = ir.compile_source(
        recipe.text,
        recipe.language,
        opt=recipe.opt,
        flags=recipe.flags,
        defines=recipe.defines,
        include_dirs=recipe.include_dirs,
        **kwargs,
    )
    return ir.normalize(raw)
