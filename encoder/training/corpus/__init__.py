"""`encoder corpus`: build the pre-training corpus of normalized LLVM-IR modules.

Why a corpus of its own: the public IR data sets are small (a few hundred
modules) and old (LLVM ~5, typed pointers), while the encoder must read what
clang-22 writes for our OpenMP kernels. So the corpus mixes
* our kernel suite under many sizes, optimisation levels, flag sets and loop
  pragmas (the variants the tuner will actually show the encoder),
* the public downstream-task programs (device mapping, thread coarsening,
  NeuroVectorizer loops, IR2Vec's LLVM-20 programs), recompiled from source
  with clang-22 where sources exist,
* random csmith programs to fill the corpus up to a target size with varied
  control and data flow.

Every module is normalized (`encoder.ir.normalize`) and de-duplicated by the
hash of that text, because different flags often give the same IR and a corpus
full of copies over-weights them in pre-training.

Output layout (`out_dir`):
* `modules/<hash>.ll`: one normalized module per distinct hash;
* `index.csv`: hash, source, group, variant, split, n_chars, n_lines (append-only);
* `done.jsonl`: one line per finished job with its counts (append-only): the
  resume log, so a killed build continues where it stopped;
* `stats.json`: per-source counts, split sizes, timings, tool versions, seed;
* `config.json`: the seed the directory was built with (a resume must match).

The train/validation split is by program group (all variants of one program
land on the same side), decided by a hash of (seed, group): validation loss then
measures generalisation to unseen programs, not to unseen flags of a seen one.

Data dependencies, not imports: the kernel sources in `kernels/`, the header
`autotune/include/autotune.h`, and the public data in `shared/data/`.

Where each part lives (a data source is one module in `sources/` plus a line in its registry):
* `sources/`: one reader per data source, each with its grid (sizes, flags, pragmas) and its
  deterministic job list; `sources/__init__.py` is the registry;
* `jobs.py`: `SourceJob` (a program group's recipes) and the worker `run_job`;
* `pragmas.py`: the C lexer that puts loop pragmas before innermost loops;
* `store.py`: the on-disk corpus (index, done log, split, stats);
* `pool.py`: the process pool that runs jobs in order; `progress.py`: the progress bar;
* `build.py`: `build_corpus`; `cli.py`: `encoder corpus`.
The data-set readers and `ModuleRecipe` are public in `encoder.datasets` (the experiments use them).
"""

from __future__ import annotations

from encoder.datasets import ModuleRecipe, default_data_dir
from encoder.training.corpus.build import DEFAULT_TARGET, build_corpus
from encoder.training.corpus.cli import add_corpus_arguments, main_corpus, run_corpus
from encoder.training.corpus.jobs import DEFAULT_MAX_CHARS, JobResult, RecipeResult, SourceContext, SourceJob, run_job
from encoder.training.corpus.pragmas import insert_loop_pragmas
from encoder.training.corpus.sources import ALL_SOURCES
from encoder.training.corpus.store import COUNT_KEYS, INDEX_FIELDS, CorpusStats, CorpusStore, split_of

__all__ = [
    "ALL_SOURCES",
    "COUNT_KEYS",
    "DEFAULT_MAX_CHARS",
    "DEFAULT_TARGET",
    "INDEX_FIELDS",
    "CorpusStats",
    "CorpusStore",
    "JobResult",
    "ModuleRecipe",
    "RecipeResult",
    "SourceContext",
    "SourceJob",
    "add_corpus_arguments",
    "build_corpus",
    "default_data_dir",
    "insert_loop_pragmas",
    "main_corpus",
    "run_corpus",
    "run_job",
    "split_of",
]
