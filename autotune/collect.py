"""`autotune collect`: the measurement database the surrogate learns from.

Why a database of its own: the surrogate transfers across kernels, so it
needs many measured variants of many kernels, each with the IR of the variant
(the encoder's input) and a sound speedup. This samples valid configurations
of every suite kernel at its size presets, measures each with the engine
(interleaved against the kernel's own baseline, verified), and appends one
record per measurement to a CSV, fsync'ed before the next starts, with the
same record as a trial in an Optuna journal (the raw storage, one study per
kernel and size). Every draw is derived from (seed, kernel, size, index), so
a killed run resumes at the next index and never measures a configuration of
a task twice.

Half the draws change every knob at random (coverage of the space), half
change one to three knobs from the default (the neighbourhood a search walks).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from autotune import machine
from autotune.errors import UserError
from autotune.kernel import Kernel
from autotune.measure.protocol import Bench, Measurement, Options
from autotune.space import Config, Space

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(__file__).resolve().parent / "data"
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


@dataclass(frozen=True)
class Task:
    kernel: str  # suite kernel name (file stem)
    size: str  # MINI / SMALL / MEDIUM / LARGE

    @property
    def study(self) -> str:
        return f"{self.kernel}@{self.size}"

    def load(self, kernel_dir: Path | None = None) -> Kernel:
        """The suite kernel at this size preset."""
        return Kernel.load((kernel_dir or ROOT / "kernels") / f"{self.kernel}.c", defines=[f"{self.size}_DATASET"])


def suite_tasks(kernels: Sequence[str] | None, sizes: Sequence[str], kernel_dir: Path = ROOT / "kernels") -> list[Task]:
    manifest = json.loads((kernel_dir / "manifest.json").read_text())
    names = [k["file"].removesuffix(".c") for k in manifest["kernels"]]
    unknown = sorted(set(kernels or ()) - set(names))
    if unknown:
        raise UserError(f"--kernels: not in {kernel_dir}/manifest.json: {', '.join(unknown)}")
    bad = sorted(set(sizes) - set(manifest["sizes"]))
    if bad:
        raise UserError(f"--sizes: unknown size {', '.join(bad)}; choose from {', '.join(manifest['sizes'])}")
    return [Task(n, s) for s in sizes for n in names if not kernels or n in kernels]


def config_key(config: Config) -> str:
    return json.dumps(config, sort_keys=True, separators=(",", ":"))


def _rng(seed: int, task: Task, index: int, attempt: int) -> random.Random:
    h = hashlib.blake2b(f"{seed}/{task.kernel}/{task.size}/{index}/{attempt}".encode(), digest_size=8).digest()
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


def read_records(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


class _Signals:
    """SIGINT and SIGTERM stop a collection, but never between a record's CSV line and its trial.

    Why: `nohup autotune collect &` starts with SIGINT ignored and is stopped
    with `kill` (SIGTERM), which would otherwise end Python without cleanup;
    a stop that lands while a record is being written waits until both copies
    of it are on disk.
    """

    def __init__(self) -> None:
        self.writing = False
        self.pending = False

    def install(self) -> None:
        import signal

        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handler)

    def _handler(self, signum, frame) -> None:
        if self.writing:
            self.pending = True
            return
        raise KeyboardInterrupt

    def __enter__(self) -> _Signals:
        self.writing = True
        return self

    def __exit__(self, *exc) -> None:
        self.writing = False
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt


SIGNALS = _Signals()


class Database:
    """The CSV (the data set) and the Optuna journal (the raw storage), appended together."""

    def __init__(self, csv_path: Path) -> None:
        self.csv_path = csv_path
        self.journal_path = csv_path.with_suffix(".journal")
        self.records = read_records(csv_path)
        self._storage = None

    def done(self, task: Task) -> tuple[set[int], set[str]]:
        rows = [r for r in self.records if r["kernel"] == task.kernel and r["size"] == task.size]
        return {int(r["index"]) for r in rows}, {r["config_key"] for r in rows}

    def storage(self):
        if self._storage is None:
            import optuna
            from optuna.storages.journal import JournalFileBackend

            optuna.logging.set_verbosity(optuna.logging.WARNING)
            self._storage = optuna.storages.JournalStorage(JournalFileBackend(str(self.journal_path)))
        return self._storage

    def append(self, rec: dict, space: Space) -> None:
        with SIGNALS:
            self._append(rec, space)

    def _append(self, rec: dict, space: Space) -> None:
        self.csv_path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.csv_path.exists()
        with open(self.csv_path, "a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=FIELDS)
            if new:
                w.writeheader()
            w.writerow(rec)
            f.flush()
            os.fsync(f.fileno())
        self.records.append({k: str(v) for k, v in rec.items()})
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


def record(task: Task, index: int, m: Measurement, ir_hash: str, seed: int) -> dict:
    mach = m.machine or machine.current().to_dict()
    return {
        "kernel": task.kernel,
        "size": task.size,
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
        "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def variant_ir_hash(kernel: Kernel, space: Space, config: Config) -> str:
    """Normalised-IR hash of the variant (the encoder's cache key); '' if clang cannot emit it."""
    from autotune.irgen import IRGenError, variant_ir
    from autotune.variant import make_variant
    from encoder import ir as irmod

    try:
        return irmod.ir_hash(irmod.normalize(variant_ir(kernel, make_variant(kernel, space, config))))
    except (IRGenError, irmod.IRError):
        return ""


def plan(db: Database, tasks: list[Task], seed: int) -> Iterator[tuple[Task, int]]:
    """(task, index) pairs not yet in the database, round-robin over the tasks in a seeded order."""
    order = list(tasks)
    random.Random(seed).shuffle(order)
    done = {t: db.done(t)[0] for t in order}
    index = 0
    while True:
        for t in order:
            if index not in done[t]:
                yield t, index
        index += 1


def collect(
    tasks: list[Task],
    db: Database,
    seed: int = 0,
    hours: float | None = None,
    max_records: int | None = None,
    options: Options | None = None,
    kernel_dir: Path = ROOT / "kernels",
    on_record: Callable[[dict], None] | None = None,
) -> int:
    """Measure until the time or record budget is spent; returns the number of new records."""
    opts = options or Options(max_pairs=30)
    benches: dict[Task, Bench] = {}
    broken: set[Task] = set()
    t0, added, skipped = time.time(), 0, 0
    for task, index in plan(db, tasks, seed):
        if skipped > 2 * len(tasks):  # every space sampled out
            break
        if hours is not None and time.time() - t0 >= hours * 3600:
            break
        if max_records is not None and added >= max_records:
            break
        if len(broken) == len(tasks):
            raise UserError("no suite kernel could be measured (see the errors above)")
        if task in broken:
            continue
        if task not in benches:
            try:
                kernel = task.load(kernel_dir)
                bench = Bench(kernel, options=opts)
                bench.prepare()
            except UserError as exc:
                print(f"autotune collect: skipping {task.study}: {exc}")
                broken.add(task)
                continue
            benches[task] = bench
        bench = benches[task]
        seen = db.done(task)[1]
        config = None
        for attempt in range(20):
            c = draw(bench.space, _rng(seed, task, index, attempt), sparse=index % 2 == 1)
            if config_key(c) not in seen:
                config = c
                break
        if config is None:  # a small space, sampled out
            skipped += 1
            continue
        skipped = 0
        m = bench.measure(config)
        rec = record(task, index, m, variant_ir_hash(bench.kernel, bench.space, config), seed)
        db.append(rec, bench.space)
        added += 1
        if on_record is not None:
            on_record(rec)
    return added


# --- command line ----------------------------------------------------------------------------
def add_arguments(p) -> None:
    p.add_argument("--kernels", default=None, help="comma-separated suite kernels (default: all in the manifest)")
    p.add_argument("--sizes", default="SMALL,MEDIUM", help="size presets (default SMALL,MEDIUM)")
    p.add_argument("--out", default=str(DEFAULT_CSV), help="the database CSV (an Optuna journal is kept beside it)")
    p.add_argument("--hours", type=float, default=None, help="stop after this long (resume by running again)")
    p.add_argument("--max-records", type=int, default=None, help="stop after this many new records")
    p.add_argument("--max-pairs", type=int, default=30, help="interleaved pairs per measurement at most (default 30)")
    p.add_argument("--seed", type=int, default=0)


def run(a) -> int:
    import sys

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from autotune import compilers

    if a.hours is not None and a.hours <= 0:
        raise UserError("--hours must be positive")
    if a.max_records is not None and a.max_records < 1:
        raise UserError("--max-records must be at least 1")
    compilers.require_clang()
    kernels = [k.strip() for k in a.kernels.split(",") if k.strip()] if a.kernels else None
    tasks = suite_tasks(kernels, [s.strip().upper() for s in a.sizes.split(",") if s.strip()])
    db = Database(Path(a.out))
    before = len(db.records)
    total = a.max_records
    with Progress(
        TextColumn("[bold]collect[/]"),
        BarColumn(),
        TextColumn("{task.completed} new records"),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
    ) as progress:
        bar = progress.add_task("", total=total)

        def show(rec: dict) -> None:
            sp = f"{float(rec['speedup']):.3f}x" if rec["speedup"] else rec["status"]
            progress.update(bar, advance=1, description=f"last: {rec['kernel']}@{rec['size']} {sp}")

        try:
            added = collect(
                tasks, db, a.seed, a.hours, a.max_records, Options(max_pairs=a.max_pairs, seed=a.seed), on_record=show
            )
        except KeyboardInterrupt:
            print("autotune collect: interrupted; every finished record is saved, run again to go on", file=sys.stderr)
            return 130
    print(f"{added} new records; {before + added} in {a.out} (raw Optuna journal {db.journal_path})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m autotune.collect ...` is `autotune collect ...`: one parser, one error path."""
    import sys

    from autotune.cli import main as cli_main

    return cli_main(["collect", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
