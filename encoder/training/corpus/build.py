"""`build_corpus`: run every source's jobs through the pool into the store, resumably.

The order matters and is fixed: listed sources in the order asked, then csmith, which fills the
corpus up to its target; within a source, jobs in list order, so the first occurrence of a module
(the one de-duplication keeps) is the same on every build.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from encoder.datasets import default_data_dir
from encoder.training.corpus.jobs import DEFAULT_MAX_CHARS, JobResult, SourceContext, SourceJob
from encoder.training.corpus.pool import JobPool
from encoder.training.corpus.progress import Progress
from encoder.training.corpus.sources import ALL_SOURCES, FILLER, LISTED, csmith
from encoder.training.corpus.sources.suite import KERNELS_DIR
from encoder.training.corpus.store import CorpusStats, CorpusStore, tool_versions

DEFAULT_TARGET = 20_000


def build_corpus(
    out_dir: Path,
    sources: Sequence[str] = ALL_SOURCES,
    jobs: int = 2,
    limit: int | None = None,
    seed: int = 0,
    progress: bool = True,
    *,
    target: int = DEFAULT_TARGET,
    csmith_programs: int | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
    data_dir: Path | None = None,
    kernels_dir: Path | None = None,
) -> CorpusStats:
    """Build (or continue building) the corpus in `out_dir` and return its stats.

    `jobs` is the number of worker processes. `limit` caps the jobs per source (a job is one
    program group, or one kernel and size for the suite), for quick builds. csmith runs last and
    generates programs until the corpus holds `target` distinct modules (`csmith_programs` fixes
    the number of programs instead). Re-running with the same arguments does no new work.
    """
    unknown = [s for s in sources if s not in ALL_SOURCES]
    if unknown:
        raise ValueError(f"unknown corpus sources {unknown}; known: {', '.join(ALL_SOURCES)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = SourceContext(
        data_dir=Path(data_dir) if data_dir else default_data_dir(),
        kernels_dir=Path(kernels_dir) if kernels_dir else KERNELS_DIR,
        work_dir=out_dir / "work",
        seed=seed,
    )
    store = CorpusStore(out_dir, seed)
    tools = tool_versions()
    t_run = time.perf_counter()
    pool = JobPool(jobs, max_chars)
    bar = Progress(progress)
    last_stats = time.perf_counter()

    def consume(source: str, results: Iterator[tuple[SourceJob, JobResult]], tid: Any, t_src: float) -> None:
        nonlocal last_stats
        for job, res in results:
            store.record(job, res)
            store.run_wall[source] = time.perf_counter() - t_src
            bar.update(tid, kept=store.kept_by_source.get(source, 0))
            if time.perf_counter() - last_stats > 20:  # a killed build still leaves fresh stats
                store.write_stats(store.stats(tools, time.perf_counter() - t_run))
                last_stats = time.perf_counter()

    try:
        # the filler last: it fills the corpus up to the target.
        for source in sorted(sources, key=lambda s: s == FILLER):
            t_src = time.perf_counter()
            if source == FILLER:

                def run_jobs(todo: list[SourceJob], tid: Any, t_src: float = t_src) -> None:
                    consume(FILLER, pool.run(todo), tid, t_src)

                csmith.fill(store, bar, run_jobs, seed, target, csmith_programs, limit)
            else:
                listed = LISTED[source](ctx, limit)[:limit]
                todo = [t for t in listed if not store.is_done(t)]
                tid = bar.add(source, len(listed), len(listed) - len(todo))
                consume(source, pool.run(todo), tid, t_src)
            store.write_stats(store.stats(tools, time.perf_counter() - t_run))
    finally:
        bar.stop()
        pool.close()
        stats = store.stats(tools, time.perf_counter() - t_run)
        store.write_stats(stats)
        store.close()
    return stats
