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
for (the source hash of the kernel, the whole machine, the load, the stop
reason). The CSV stays byte-identical to what collect always wrote: it is the
training file committed in git.

The command line (`autotune collect`) lives in the CLI package; this module
holds what it runs: `suite_tasks`, `Database`, `collect` and `SIGNALS`.

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

import datetime as dt
import functools
import hashlib
import json
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from autotune import machine
from autotune.errors import UserError
from autotune.kernel import Kernel
from autotune.measure.protocol import Bench, Measurement, Options
from autotune.space import Config, Space
from autotune.trials.recorder import Recorder
from autotune.trials.records import config_key
from autotune.trials.signals import SIGNALS
from autotune.trials.workloads import KERNEL_SETS, Workload, set_tasks, suite_tasks

__all__ = ["KERNEL_SETS", "SIGNALS", "Database", "Workload", "collect", "draw", "record", "set_tasks", "suite_tasks"]

if TYPE_CHECKING:
    from autotune.trials.db.claims import Claims
    from autotune.trials.db.schema import Program
    from autotune.trials.db.store import Appender

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
DEFAULT_CSV = DATA_DIR / "measurements.csv"
FIELDS = [
    "kernel",
    "size",
    "index",
    "config",
    "changed",
    "config_key",
    "ir_hash",
    "build_key",
    "status",
    "speedup",
    "ci_low",
    "ci_high",
    "baseline_s",
    "candidate_s",
    "pairs",
    "verified",
    "message",
    "cpu_model",
    "cores",
    "compiler",
    "seed",
    "time_utc",
]
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # time_utc
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


class Database:
    """The CSV (the data set) and the Optuna journal (the raw storage), appended together,
    and the measurement database when `store` is given (a failed write there only warns)."""

    def __init__(self, csv_path: Path, store: Appender | None = None) -> None:
        self.csv_path = csv_path
        self.journal_path = csv_path.with_suffix(".journal")
        self.recorder = Recorder(csv_path, FIELDS)
        self.store = store
        self._storage = None

    @property
    def records(self) -> list[dict[str, str]]:
        """Every row, earlier runs' and this one's, as text."""
        return self.recorder.rows

    def done(self, workload: Workload) -> tuple[set[int], set[str]]:
        """The indices and configuration keys of `workload` already recorded."""
        rows = [r for r in self.records if r["kernel"] == workload.kernel and r["size"] == workload.size]
        return {int(r["index"]) for r in rows}, {r["config_key"] for r in rows}

    def claims(self, seed: int) -> Claims | None:
        """The shared plan of `seed` in the measurement database (None without one): what identical
        machines recorded or are measuring, and the claim on each draw before it is measured."""
        if self.store is None or self.store.store is None:
            return None
        from autotune.trials.db.claims import Claims

        return Claims(self.store.store, seed, warn=self.store.warn)

    def storage(self):
        if self._storage is None:
            import optuna
            from optuna.storages.journal import JournalFileBackend

            optuna.logging.set_verbosity(optuna.logging.WARNING)
            self._storage = optuna.storages.JournalStorage(JournalFileBackend(str(self.journal_path)))
        return self._storage

    def append(
        self,
        rec: dict,
        space: Space,
        m: Measurement | None = None,
        program: Program | None = None,
        ci_target: float | None = None,
    ) -> None:
        """One record in the CSV and the journal, then (given `m`, `program`) in the measurement database."""
        with SIGNALS:
            self._append(rec, space)
            if self.store is not None and m is not None:
                created = dt.datetime.strptime(rec["time_utc"], TIME_FORMAT)
                self.store.record(
                    m,
                    program,
                    source="collect",
                    ci_target=ci_target,
                    seed=int(rec["seed"]),
                    draw_index=int(rec["index"]),
                    ir_hash=rec["ir_hash"] or None,
                    created=created,
                )

    def _append(self, rec: dict, space: Space) -> None:
        self.recorder.append(rec)
        self._to_optuna(rec, space)

    def _to_optuna(self, rec: dict, space: Space) -> None:
        import optuna
        from optuna.distributions import CategoricalDistribution

        config = json.loads(rec["config"])
        active = {}
        for k in space.knobs:
            if k.active(config):
                active[k.name] = k
        study = optuna.create_study(
            study_name=f"{rec['kernel']}@{rec['size']}",
            storage=self.storage(),
            load_if_exists=True,
            direction="maximize",
        )
        ok = rec["status"] == "ok"
        study.add_trial(
            optuna.trial.create_trial(
                state=optuna.trial.TrialState.COMPLETE if ok else optuna.trial.TrialState.FAIL,
                value=float(rec["speedup"]) if ok else None,
                params={n: config[n] for n in active},
                distributions={n: CategoricalDistribution(list(k.choices)) for n, k in active.items()},
                user_attrs={k: v for k, v in rec.items() if k not in ("config",)},
            )
        )


def record(workload: Workload, index: int, m: Measurement, ir_hash: str, seed: int) -> dict:
    """One database row (numbers formatted here: the CSV's format)."""
    mach = m.machine or machine.current().to_dict()
    return {
        "kernel": workload.kernel,
        "size": workload.size,
        "index": index,
        "config": json.dumps(m.config, sort_keys=True),
        "changed": json.dumps(m.changed, sort_keys=True),
        "config_key": config_key(m.config),
        "ir_hash": ir_hash,
        "build_key": m.build_key,
        "status": m.status,
        "speedup": "" if m.speedup is None else f"{m.speedup:.5f}",
        "ci_low": "" if m.ci is None else f"{m.ci[0]:.5f}",
        "ci_high": "" if m.ci is None else f"{m.ci[1]:.5f}",
        "baseline_s": "" if m.baseline_seconds is None else f"{m.baseline_seconds:.6g}",
        "candidate_s": "" if m.candidate_seconds is None else f"{m.candidate_seconds:.6g}",
        "pairs": m.repetitions,
        "verified": int(m.verified),
        "message": m.message.replace("\n", " ")[:300],
        "cpu_model": mach.get("cpu_model", ""),
        "cores": mach.get("usable_cores", ""),
        "compiler": (mach.get("compilers") or {}).get("clang", ""),
        "seed": seed,
        "time_utc": time.strftime(TIME_FORMAT, time.gmtime()),
    }


def variant_ir_hash(kernel: Kernel, space: Space, config: Config) -> str:
    """Normalised-IR hash of the variant (the encoder's cache key); '' if clang cannot emit it."""
    from autotune.build.ir import IRGenError, variant_ir
    from autotune.variant import make_variant
    from encoder import ir as irmod

    try:
        return irmod.ir_hash(irmod.normalize(variant_ir(kernel, make_variant(kernel, space, config))))
    except (IRGenError, irmod.IRError):
        return ""


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
    if work not in benches:
        try:
            kernel = work.load(kernel_dir)
            bench = Bench(kernel, options=opts)
            bench.prepare()
        except UserError as exc:
            print(f"autotune collect: skipping {work.study}: {exc}")
            return None
        benches[work] = bench
        if db.store is not None:
            from autotune.trials.db.schema import program_of

            programs[work] = program_of(kernel)
    bench = benches[work]
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
    try:
        if len(draws) == 1:
            ms = [bench.measure(draws[0][1])]
        else:
            from autotune.measure.batch import measure_many

            irs = [functools.partial(variant_ir_hash, bench.kernel, bench.space, c) for _, c in draws]
            ms = measure_many(bench, [c for _, c in draws], seed=draws[0][0], alongside=irs)  # IRs cached for below
    except UserError as exc:  # the baseline itself failed (a crash in the OpenMP runtime, output drift)
        print(f"autotune collect: skipping {work.study} for the rest of this run: {exc}")
        return None
    recs = []
    for (index, config), m in zip(draws, ms, strict=True):
        rec = record(work, index, m, variant_ir_hash(bench.kernel, bench.space, config), seed)
        db.append(rec, bench.space, m, programs.get(work), opts.ci_target)
        recs.append(rec)
    return recs
