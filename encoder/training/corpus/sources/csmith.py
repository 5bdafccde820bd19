"""Random csmith programs, generated last to fill the corpus up to a target size.

They add varied control and data flow that no benchmark suite has. Unlike the other sources,
csmith has no fixed job list: `fill` generates programs in rounds until the corpus holds the
target number of distinct modules, and each worker generates its program's text from a seed
(`SourceJob.csmith_seed`) before compiling it.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from encoder.datasets import ModuleRecipe
from encoder.training.corpus.csmith_program import CSMITH_INCLUDE, available
from encoder.training.corpus.jobs import SourceJob

if TYPE_CHECKING:
    from encoder.training.corpus.progress import Progress
    from encoder.training.corpus.store import CorpusStore

CSMITH_OPTS = ("O1", "O2")
CSMITH_EXPECTED_KEPT = 1.6  # distinct modules per program (O1 and O2 sometimes coincide); sizes rounds


def job(seed: int, index: int) -> SourceJob:
    """The `index`-th program of a corpus built with `seed`, at each opt level (text filled in by the worker)."""
    cs_seed = seed * 1_000_000 + index + 1
    variants = tuple(
        ModuleRecipe(f"csmith {opt}", "source", "", "c", opt, ("-w",), (), (str(CSMITH_INCLUDE),))
        for opt in CSMITH_OPTS
    )
    return SourceJob("csmith", str(cs_seed), f"csmith/{cs_seed}", variants, csmith_seed=cs_seed)


def fill(
    store: CorpusStore,
    bar: Progress,
    run_jobs: Callable[[list[SourceJob], Any], None],
    seed: int,
    target: int,
    programs: int | None,
    limit: int | None,
) -> None:
    """Generate csmith programs in rounds until the corpus reaches `target` (or `programs` are done).

    `run_jobs(jobs, progress_task)` runs and records a round's jobs.
    """
    if not available():
        print("encoder corpus: csmith or its headers (libcsmith-dev) not installed; skipping csmith", file=sys.stderr)
        return
    cap = programs if programs is not None else max(1000, 4 * target)  # stops a round-trip that never converges
    if limit is not None:
        cap = min(cap, limit)
    done_before = sum(1 for src, _ in store.done if src == "csmith")
    tid = bar.add("csmith", cap if programs is not None or limit is not None else None, done_before)
    index = 0
    while index < cap:
        if programs is None:
            needed = target - store.kept_total()
            if needed <= 0:
                break
            n = min(cap - index, max(1, math.ceil(needed / CSMITH_EXPECTED_KEPT)))
        else:
            n = cap - index
        batch = [job(seed, i) for i in range(index, index + n)]
        index += n
        todo = [t for t in batch if not store.is_done(t)]
        kept_before = store.kept_total()
        run_jobs(todo, tid)
        if todo and programs is None and store.kept_total() == kept_before:
            print("encoder corpus: a csmith round added nothing; stopping", file=sys.stderr)
            break
