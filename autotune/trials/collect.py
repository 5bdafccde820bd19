"""`autotune collect`: the measurement database the surrogate learns from.

Why a database of its own: the surrogate transfers across kernels, so it
needs many measured variants of many kernels, each with the IR of the variant
(the encoder's input) and a sound speedup. This samples valid configurations
of every suite kernel at its size presets, measures each with the engine
(interleaved against the kernel's own baseline, verified), and appends one
record per measurement to a CSV (a `Recorder`: fsync'ed before the next
starts, a half-written last row cut off on resume), with the same record as a
trial in an Optuna journal (the raw storage, one study per kernel and size).
Every draw is derived from (seed, kernel, size, index), so a killed run
resumes at the next index and never measures a configuration of a workload
twice.

Each record goes to the measurement database too (`autotune.trials.db`, when
the caller gives `Database` an appender): there with what the CSV has no column
for (the source hash of the kernel, the whole machine, the stop reason). The
CSV is the training file committed in git; since 2026-12-02 it also keeps the
load seen before and during each measurement (the database under .autotune/ is
not committed, and a new checkout starts without it).

The command line (`autotune collect`) lives in the CLI package; this module
holds what it runs: `suite_tasks`, `collect` and `SIGNALS`, and re-exports the record format
and `Database` of `autotune.trials.database` (where the appending and the batched measuring
live, shared with `autotune collect --remeasure`, autotune.trials.remeasure).

Several identical machines collecting into one database server with the same seed share
one plan: a draw is claimed in the database before it is measured (`autotune.trials.db.claims`),
so each is measured once, by one machine, and each machine's CSV holds what it measured.

Draws of one workload are measured in batches (`--batch`, default 4): they share
the baseline's runs (`autotune.measure.batch`), which is what most of a
collection's time went to; each draw is still its own record with its own
pairs and CI, and a stop loses at most the batch being measured.

Half the draws change every knob at random (coverage of the space), half
change one to three knobs from the default (the neighbourhood a search walks).
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from autotune.errors import UserError
from autotune.measure.protocol import Bench, Options
from autotune.space import Config, Space
from autotune.trials.database import (
    DATA_DIR,
    DEFAULT_CSV,
    FIELDS,
    Database,
    bench_of,
    measure_configs,
    record,
)
from autotune.trials.records import config_key
from autotune.trials.signals import SIGNALS
from autotune.trials.workloads import KERNEL_SETS, Workload, set_tasks, suite_tasks

__all__ = [
    "DATA_DIR",
    "DEFAULT_CSV",
    "FIELDS",
    "KERNEL_SETS",
    "SIGNALS",
    "Database",
    "Workload",
    "collect",
    "draw",
    "record",
    "set_tasks",
    "suite_tasks",
]

if TYPE_CHECKING:
    from autotune.trials.db.claims import Claims
    from autotune.trials.db.schema import Program

DEFAULT_BATCH = 4  # draws measured together (`autotune.measure.batch`)


def _rng(seed: int, workload: Workload, index: int, attempt: int) -> random.Random:
    h = hashlib.blake2b(f"{seed}/{workload.kernel}/{workload.size}/{index}/{attempt}".encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(h, "little"))


def draw(space: Space, rng: random.Random, sparse: bool) -> Config:
    """A valid configuration: all knobs random, or 1-3 knobs changed from the default."""
    if not sparse:
        return space.sample(rng)
    cfg = space.default()
    for _ in range(rng.randint(1, 3)):
        active = [k for k in space.knobs if k.active(cfg) and len(k.choices) > 1]
        if not active:
            break
        k = rng.choice(active)
        cfg[k.name] = rng.choice([c for c in k.choices if c != cfg[k.name]])
        cfg = space.canonical(cfg)
    return cfg


def plan(
    db: Database,
    workloads: list[Workload],
    seed: int,
    elsewhere: dict[tuple[str, str], set[int]] | None = None,
    batch: int = 1,
) -> Iterator[tuple[Workload, list[int]]]:
    """(workload, indices) not yet in the database: `batch` consecutive indices of one workload at a
    time, round-robin over the workloads in a seeded order.

    elsewhere: (kernel, size) -> indices that identical machines recorded or are measuring
    (`Claims.done`): skipped too."""
    order = list(workloads)
    random.Random(seed).shuffle(order)
    done = {w: db.done(w)[0] | (elsewhere or {}).get((w.kernel, w.size or ""), set()) for w in order}
    block = 0
    while True:
        for w in order:
            todo = [i for i in range(block * batch, (block + 1) * batch) if i not in done[w]]
            if todo:
                yield w, todo
        block += 1


def collect(
    workloads: list[Workload],
    db: Database,
    seed: int = 0,
    hours: float | None = None,
    max_records: int | None = None,
    options: Options | None = None,
    kernel_dir: Path | None = None,
    on_record: Callable[[dict], None] | None = None,
    batch: int = DEFAULT_BATCH,
) -> int:
    """Measure until the time or record budget is spent; returns the number of new records.

    batch: draws of one workload measured together, sharing the baseline's runs
    (`autotune.measure.batch`); 1 measures each draw on its own.
    """
    opts = options or Options(max_pairs=30)
    benches: dict[Workload, Bench] = {}
    programs: dict[Workload, Program] = {}
    broken: set[Workload] = set()
    t0, added, skipped = time.time(), 0, 0
    shared = db.claims(seed)
    for work, indices in plan(db, workloads, seed, shared.done() if shared is not None else None, batch):
        if skipped > 2 * len(workloads):  # every space sampled out
            break
        if hours is not None and time.time() - t0 >= hours * 3600:
            break
        if max_records is not None and added >= max_records:
            break
        if len(broken) == len(workloads):
            raise UserError("no suite kernel could be measured (see the errors above)")
        if work in broken:
            continue
        want = len(indices) if max_records is None else min(len(indices), max_records - added)
        if shared is not None:  # another machine recorded these draws since the plan was made, or is measuring them
            indices = shared.take(work.kernel, work.size, indices, want)
        indices = indices[:want]
        try:  # `continue` and a stop leave through `finally`: the claims are dropped either way
            recs = _measure_draws(work, indices, db, benches, programs, shared, seed, opts, kernel_dir)
        finally:
            if shared is not None:
                for i in indices:
                    shared.release(work.kernel, work.size, i)
        if recs is None:
            broken.add(work)
            continue
        if not recs:
            skipped += 1
            continue
        skipped = 0
        for rec in recs:
            added += 1
            if on_record is not None:
                on_record(rec)
    return added


def _measure_draws(
    work: Workload,
    indices: list[int],
    db: Database,
    benches: dict[Workload, Bench],
    programs: dict[Workload, Program],
    shared: Claims | None,
    seed: int,
    opts: Options,
    kernel_dir: Path | None,
) -> list[dict] | None:
    """The records of draws `indices` of one workload, each appended as it is taken; None: the workload
    cannot be measured (said on stdout), [] when its space is sampled out."""
    if not indices:
        return []
    bench = bench_of(work, db, benches, programs, opts, kernel_dir)
    if bench is None:
        return None
    seen = db.done(work)[1]
    if shared is not None:  # what identical machines measured of it
        seen |= shared.configs(work.kernel, work.size)
    draws: list[tuple[int, Config]] = []
    for index in indices:
        for attempt in range(20):
            c = draw(bench.space, _rng(seed, work, index, attempt), sparse=index % 2 == 1)
            if config_key(c) not in seen:
                seen.add(config_key(c))  # not twice in one batch either
                draws.append((index, c))
                break
    if not draws:  # a small space, sampled out
        return []
    return measure_configs(work, draws, db, bench, programs.get(work), seed, opts)
