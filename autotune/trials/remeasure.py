"""`autotune collect --remeasure`: measure recorded configurations again, on this machine.

Why: collect never measures a configuration of a workload twice, so a record taken on a slowed
machine (`quality.slowed`: its baseline ran far over its usual time) or on another CPU stays all
the data say about that configuration here. This measures such configurations again and appends
each as a new record with the original's index, seed and configuration, to the same files; nothing
is rewritten (the first record stays, and `quality.latest_clean` decides which one is learned from).

Measured again: every configuration of the chosen workloads recorded `ok` and verified that has no
record of this machine's CPU but slowed ones (one that failed here is not tried again), and that
the workload's space still expresses unchanged. Within a workload, those whose only records are
slowed come first, then the rest by index; the workloads take turns, batch by batch (`--batch`,
sharing the baseline's runs as collect does), in a seeded order, so a stop leaves each workload
partly covered rather than some whole and the rest untouched. A rerun goes on where it stopped:
what it measured is a record of this CPU. Not shared between machines (collect's claims): each
machine measures what its own CSV lacks.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from autotune import machine
from autotune.measure.protocol import Bench, Options
from autotune.space import Config, InvalidConfig
from autotune.trials.database import Database, bench_of, measure_configs
from autotune.trials.quality import slowed
from autotune.trials.records import config_key
from autotune.trials.workloads import Workload

__all__ = ["Target", "remeasure", "targets"]

if TYPE_CHECKING:
    from autotune.trials.db.schema import Program

Target = tuple[int, int, str, Config]  # (seed, index, config key, configuration) of a recorded draw


def targets(db: Database, workloads: list[Workload], cpu_model: str) -> dict[Workload, list[Target]]:
    """Per workload, the recorded draws to measure again on `cpu_model`, in the order they will be."""
    import pandas as pd

    rows = pd.DataFrame(db.records)
    if rows.empty:
        return {}
    good = (rows["status"] == "ok") & (rows["verified"] == "1")
    ok = rows[good].copy()
    ok["slowed"] = slowed(ok)
    # done here: a record of this CPU that is not `ok` and slowed (one that failed here is not retried either)
    slowed_here = ok.index[ok["slowed"].to_numpy()]
    here = rows[(rows["cpu_model"] == cpu_model) & ~rows.index.isin(slowed_here)]
    clean_here = set(zip(here["kernel"], here["size"], here["config_key"], strict=True))
    out: dict[Workload, list[Target]] = {}
    for w in workloads:
        mine = ok[(ok["kernel"] == w.kernel) & (ok["size"] == (w.size or ""))]
        todo = []
        for key, recs in mine.groupby("config_key", sort=False):
            if (w.kernel, w.size or "", key) in clean_here:
                continue
            first = recs.loc[recs["index"].astype(int).idxmin()]
            todo.append((not recs["slowed"].all(), int(first["index"]), int(first["seed"]), key, first["config"]))
        todo.sort()
        if todo:
            out[w] = [(seed, index, key, json.loads(cfg)) for _, index, seed, key, cfg in todo]
    return out


def remeasure(
    workloads: list[Workload],
    db: Database,
    seed: int = 0,
    hours: float | None = None,
    max_records: int | None = None,
    options: Options | None = None,
    kernel_dir: Path | None = None,
    on_record: Callable[[dict], None] | None = None,
    batch: int = 4,
) -> int:
    """Measure the `targets` of this machine until they, the time or the record budget run out;
    returns the number of new records. `seed` orders the workloads' turns only: each record keeps
    the seed of the draw it measures again."""
    opts = options or Options(max_pairs=30)
    todo = targets(db, workloads, machine.current().cpu_model)
    order = [w for w in workloads if w in todo]
    random.Random(seed).shuffle(order)
    benches: dict[Workload, Bench] = {}
    programs: dict[Workload, Program] = {}
    t0, added = time.time(), 0
    while order:
        for w in list(order):
            if (hours is not None and time.time() - t0 >= hours * 3600) or (
                max_records is not None and added >= max_records
            ):
                return added
            want = batch if max_records is None else min(batch, max_records - added)
            chunk, todo[w] = todo[w][:want], todo[w][want:]
            if not todo[w]:
                order.remove(w)
            bench = bench_of(w, db, benches, programs, opts, kernel_dir)
            recs = _measure(w, chunk, db, bench, programs.get(w), opts) if bench is not None else None
            if recs is None:  # it cannot be measured, or its baseline failed: the rest waits for another run
                todo[w] = []
                if w in order:
                    order.remove(w)
                continue
            for rec in recs:
                added += 1
                if on_record is not None:
                    on_record(rec)
    return added


def _measure(
    w: Workload, chunk: list[Target], db: Database, bench: Bench, program: Program | None, opts: Options
) -> list[dict] | None:
    """The new records of `chunk` (one batch per seed: a record names the seed of its draw); None when the
    baseline failed."""
    out: list[dict] = []
    for s in sorted({t[0] for t in chunk}):
        draws = [(i, cfg) for ds, i, key, cfg in chunk if ds == s and _expressed(bench, cfg, key)]
        recs = measure_configs(w, draws, db, bench, program, s, opts) if draws else []
        if recs is None:
            return None
        out += recs
    return out


def _expressed(bench: Bench, config: Config, key: str) -> bool:
    """The workload's space still expresses the recorded configuration unchanged (a knob it set still
    exists, and no knob added since moves it): otherwise its new record would name another configuration."""
    try:
        return config_key(bench.space.validate(config)) == key
    except InvalidConfig:
        return False
