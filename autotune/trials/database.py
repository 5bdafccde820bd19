"""The collect database: the CSV (the data set) and the Optuna journal (the raw storage) a measured draw is
appended to, and the measuring of draws of one workload together.

Why a module of its own: `autotune collect` (autotune.trials.collect) appends sampled draws and
`autotune collect --remeasure` (autotune.trials.remeasure) measures recorded ones again; both write the
same records the same way. `autotune.trials.collect` re-exports what others import from it.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import time
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
from autotune.trials.workloads import Workload

__all__ = ["DATA_DIR", "DEFAULT_CSV", "FIELDS", "TIME_FORMAT", "Database", "bench_of", "measure_configs", "record"]

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
    # added on 2026-12-02 (a CSV of before is widened when collect next opens it, these cells empty):
    # the database at .autotune/ is not committed and went with the checkout, so the CSV keeps the load too
    "load_before",
    "load_during",
    "under_load",
]
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # time_utc


class Database:
    """The CSV (the data set) and the Optuna journal (the raw storage), appended together,
    and the measurement database when `store` is given (a failed write there only warns)."""

    def __init__(self, csv_path: Path, store: Appender | None = None) -> None:
        self.csv_path = csv_path
        self.journal_path = csv_path.with_suffix(".journal")
        self.recorder = Recorder(csv_path, FIELDS, extend=True)
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
        "load_before": "" if m.load_before is None else f"{m.load_before:.3f}",
        "load_during": "" if m.load_during is None else f"{m.load_during:.3f}",
        "under_load": int(m.under_load),
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


def bench_of(
    work: Workload,
    db: Database,
    benches: dict[Workload, Bench],
    programs: dict[Workload, Program],
    opts: Options,
    kernel_dir: Path | None,
) -> Bench | None:
    """The workload's prepared bench (kept in `benches`, its program in `programs` when the database has a
    store); None when it cannot be measured (said on stdout)."""
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
    return benches[work]


def measure_configs(
    work: Workload,
    draws: list[tuple[int, Config]],
    db: Database,
    bench: Bench,
    program: Program | None,
    seed: int,
    opts: Options,
) -> list[dict] | None:
    """Measure (index, configuration) draws of one workload together and append a record of each;
    None when the baseline itself failed (said on stdout)."""
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
        db.append(rec, bench.space, m, program, opts.ci_target)
        recs.append(rec)
    return recs
