"""The units of corpus work: a job (some module recipes of one program group) and what a worker returns.

Why jobs and not single modules: a job is the resumable unit (one line of `done.jsonl`) and the
unit a worker process runs, so a program's variants are compiled together and recorded together.
`run_job` is the worker's entry point; it lives at module level so that process pools can pickle it.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

from encoder.datasets import ModuleRecipe, module_text

DEFAULT_MAX_CHARS = 200_000


@dataclass
class SourceContext:
    """What a data source's job list is built from: the data folders, a scratch folder, the seed."""

    data_dir: Path
    kernels_dir: Path
    work_dir: Path
    seed: int


@dataclass(frozen=True)
class SourceJob:
    """One resumable unit of work: some recipes of one program group.

    A group may span several jobs (suite: one job per kernel and size); the
    split depends on the group only. `csmith_seed` tells the worker to generate
    the source first (the text of the recipes is then filled in).
    """

    source: str
    key: str
    group: str
    variants: tuple[ModuleRecipe, ...]
    csmith_seed: int | None = None


@dataclass
class RecipeResult:
    """What a worker sends back for one recipe; `text` is None unless it can be kept."""

    name: str
    ok: bool
    text: str | None = None
    hash: str | None = None
    n_chars: int = 0
    too_large: bool = False
    error: str | None = None


@dataclass
class JobResult:
    key: str
    results: list[RecipeResult]
    seconds: float


def _run_recipe(recipe: ModuleRecipe, max_chars: int) -> RecipeResult:
    from encoder import ir

    try:
        text = module_text(recipe)
    except Exception as exc:  # any compiler or parser failure just skips the recipe
        if recipe.fallback is not None:
            return _run_recipe(recipe.fallback, max_chars)
        msg = str(exc).strip().splitlines()
        return RecipeResult(recipe.name, False, error=f"{type(exc).__name__}: {msg[0][:300] if msg else ''}")
    if len(text) > max_chars:
        return RecipeResult(recipe.name, True, n_chars=len(text), too_large=True)
    return RecipeResult(recipe.name, True, text=text, hash=ir.ir_hash(text), n_chars=len(text))


def run_job(job: SourceJob, max_chars: int = DEFAULT_MAX_CHARS) -> JobResult:
    """Worker entry point: every recipe of the job, in order (csmith: generate the program first)."""
    t0 = time.perf_counter()
    variants = job.variants
    if job.csmith_seed is not None:
        from encoder.training.corpus.csmith_program import generate

        try:
            text = generate(job.csmith_seed)
        except Exception as exc:  # a generator failure fails this program only
            err = f"{type(exc).__name__}: {str(exc)[:300]}"
            return JobResult(job.key, [RecipeResult(v.name, False, error=err) for v in variants], 0.0)
        variants = tuple(dataclasses.replace(v, text=text) for v in variants)
    results = [_run_recipe(v, max_chars) for v in variants]
    return JobResult(job.key, results, time.perf_counter() - t0)
