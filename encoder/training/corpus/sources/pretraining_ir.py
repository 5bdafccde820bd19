"""IR2Vec's LLVM-20 programs: IR only (no sources), loaded and normalized as they are."""

from __future__ import annotations

from encoder.datasets import ModuleRecipe, tar_texts
from encoder.training.corpus.jobs import SourceContext, SourceJob


def jobs(ctx: SourceContext, limit: int | None) -> list[SourceJob]:
    """One job per .ll file of the archive."""
    archive = ctx.data_dir / "pretraining_ir" / "ir2vec_pe_benchmarks_llvm20.tar.gz"
    lls = tar_texts(archive, ".ll")
    return [
        SourceJob("pretraining_ir", name, f"pretraining_ir/{name[:-3]}", (ModuleRecipe(f"llvm20 {name}", "ir", text),))
        for name, text in sorted(lls.items())
    ]
