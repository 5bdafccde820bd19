"""The thread-coarsening kernels (PACT'14): IR2Vec's LLVM IR, and the runtime table's OpenCL sources."""

from __future__ import annotations

from encoder.datasets import ModuleRecipe, read_csv
from encoder.training.corpus.jobs import SourceContext, SourceJob
from encoder.training.corpus.sources.common import opencl_recipes


def jobs(ctx: SourceContext, limit: int | None) -> list[SourceJob]:
    """One job per kernel."""
    base = ctx.data_dir / "thread_coarsening"
    srcs: dict[str, str] = {}
    runtimes = base / "pact-2014-runtimes.csv"
    if runtimes.exists():
        for r in read_csv(runtimes):
            srcs.setdefault(r["kernel"], r["src"])
    out = []
    for ll in sorted((base / "kernels_ir").glob("*.ll")):
        kernel = ll.stem
        variants = [ModuleRecipe(f"ir2vec {ll.name}", "ir", ll.read_text())]
        if srcs.get(kernel):
            variants += opencl_recipes(srcs[kernel], "pact-2014 src")
        out.append(SourceJob("coarsening", kernel, f"coarsening/{kernel}", tuple(variants)))
    return out
