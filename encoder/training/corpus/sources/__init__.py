"""The corpus's data sources, one module each, and the registry that names them.

A listed source is a function `jobs(ctx, limit) -> list[SourceJob]` that returns its full,
deterministic job list (the builder resumes by skipping jobs already in `done.jsonl`, so the
list must not depend on what was built). To add one: write `sources/<name>.py` with its grid
constants and `jobs`, and add it to `LISTED` below. csmith is the one generated source: it runs
last and fills the corpus up to a target (`sources/csmith.py`).
"""

from __future__ import annotations

from typing import Protocol

from encoder.training.corpus.jobs import SourceContext, SourceJob
from encoder.training.corpus.sources import coarsening, devmap, neurovectorizer, pretraining_ir, suite


class JobList(Protocol):
    def __call__(self, ctx: SourceContext, limit: int | None) -> list[SourceJob]: ...


#: Sources with a fixed job list, in build order.
LISTED: dict[str, JobList] = {
    "suite": suite.jobs,
    "devmap": devmap.jobs,
    "coarsening": coarsening.jobs,
    "neurovectorizer": neurovectorizer.jobs,
    "pretraining_ir": pretraining_ir.jobs,
}
#: The source generated until the corpus reaches its target size; always built last.
FILLER = "csmith"
ALL_SOURCES: tuple[str, ...] = (*LISTED, FILLER)
