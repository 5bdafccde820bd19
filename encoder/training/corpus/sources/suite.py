"""Our kernel suite under many sizes, optimisation levels, flag sets and loop pragmas.

The variants the tuner will actually show the encoder. The flag sets are the knobs that change
the IR the most (unrolling, vectorisation, target features, FP reassociation); -march=native
ties those variants to the build machine, whose CPU is recorded in stats.json.
"""

from __future__ import annotations

import json
import random

from encoder.datasets import REPO, ModuleRecipe
from encoder.training.corpus.jobs import SourceContext, SourceJob
from encoder.training.corpus.pragmas import insert_loop_pragmas

KERNELS_DIR = REPO / "kernels"
AUTOTUNE_INCLUDE = REPO / "autotune" / "include"

SUITE_OPTS = ("O1", "O2", "O3")
SUITE_FLAG_SETS: dict[str, tuple[str, ...]] = {
    "base": (),
    "no-unroll": ("-fno-unroll-loops",),
    "no-vec": ("-fno-vectorize", "-fno-slp-vectorize"),
    "native": ("-march=native",),
    "fast-math": ("-ffast-math",),
    "native-fast-math": ("-march=native", "-ffast-math"),
}
SUITE_PRAGMAS_PER_SIZE = 2  # random (W, I, U) loop pragmas per kernel and size, each at O2 and O3
SUITE_PRAGMA_WIDTHS = (1, 2, 4, 8, 16)
SUITE_PRAGMA_INTERLEAVES = (1, 2, 4, 8)
SUITE_PRAGMA_UNROLLS = (1, 2, 4, 8)


def jobs(ctx: SourceContext, limit: int | None) -> list[SourceJob]:
    """One job per kernel and size (`kernels/manifest.json`); the group is the kernel."""
    manifest = json.loads((ctx.kernels_dir / "manifest.json").read_text())
    inc = (str(AUTOTUNE_INCLUDE),)
    out = []
    for k in sorted(manifest["kernels"], key=lambda k: k["name"]):
        name = k["name"]
        text = (ctx.kernels_dir / k["file"]).read_text()
        for size in manifest["sizes"]:
            defines = (f"{size}_DATASET",)
            variants = [
                ModuleRecipe(f"{size} {opt} {fs}", "source", text, "c", opt, flags, defines, inc)
                for opt in SUITE_OPTS
                for fs, flags in SUITE_FLAG_SETS.items()
            ]
            rng = random.Random(f"{ctx.seed}:suite:{name}:{size}")
            combos = [
                (w, i, u) for w in SUITE_PRAGMA_WIDTHS for i in SUITE_PRAGMA_INTERLEAVES for u in SUITE_PRAGMA_UNROLLS
            ]
            for w, i, u in rng.sample(combos, SUITE_PRAGMAS_PER_SIZE):
                pragma = f"clang loop vectorize_width({w}) interleave_count({i}) unroll_count({u})"
                ptext, n = insert_loop_pragmas(text, pragma)
                if n == 0:
                    continue
                for opt in ("O2", "O3"):
                    variants.append(
                        ModuleRecipe(f"{size} {opt} vw{w} ic{i} uc{u}", "source", ptext, "c", opt, (), defines, inc)
                    )
            out.append(SourceJob("suite", f"{name}:{size}", f"suite/{name}", tuple(variants)))
    return out
