"""The device-mapping programs (DeepTune, CGO'17): IR2Vec's LLVM IR and DeepTune's OpenCL sources.

The data set's IR is old (LLVM 5-6); where LLVM 22 cannot load it, the row's `src` column is
recompiled instead (the recipe's fallback). The original .cl files add every opt level.
"""

from __future__ import annotations

from encoder.datasets import ModuleRecipe, read_csv, tar_texts
from encoder.training.corpus.jobs import SourceContext, SourceJob
from encoder.training.corpus.sources.common import opencl_recipes


def jobs(ctx: SourceContext, limit: int | None) -> list[SourceJob]:
    """One job per benchmark (its data-set sizes share the group)."""
    base = ctx.data_dir / "devmap"
    rows = read_csv(base / "ir2vec" / "cgo17-amd.csv")
    lls = tar_texts(base / "ir2vec" / "kernels_ir.tar.gz", ".ll")
    cls = tar_texts(base / "deeptune_original" / "kernels.tar.bz2", ".cl")
    by_bench: dict[str, list[tuple[str, str]]] = {}  # benchmark -> [(ll file, its row's source)]
    seen: set[str] = set()
    for r in rows:
        fname = r["benchmark"] + ("" if r["dataset"] == "default" else "_" + r["dataset"]) + ".ll"
        if fname in lls and fname not in seen:
            seen.add(fname)
            by_bench.setdefault(r["benchmark"], []).append((fname, r["src"]))
    for fname in lls:
        if fname not in seen:  # not in the table: its own group
            by_bench.setdefault(fname[:-3], []).append((fname, ""))
    for cl in cls:
        by_bench.setdefault(cl[:-3], [])
    out = []
    for bench in sorted(by_bench):
        variants: list[ModuleRecipe] = []
        for fname, src in sorted(by_bench[bench]):
            fb = (
                ModuleRecipe(f"ir2vec {fname} recompiled O2", "source", src, "opencl", "O2", repair=True)
                if src
                else None
            )
            variants.append(ModuleRecipe(f"ir2vec {fname}", "ir", lls[fname], fallback=fb))
        if bench + ".cl" in cls:
            variants += opencl_recipes(cls[bench + ".cl"], "deeptune .cl")
        out.append(SourceJob("devmap", bench, f"devmap/{bench}", tuple(variants)))
    return out
