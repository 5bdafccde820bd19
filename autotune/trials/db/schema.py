"""The one table of the measurement database, and a Measurement as one of its records.

Why one flat table: every record is one measurement of one configuration of one program on
one machine, whoever made it (`source`: run, measure, collect or import); queries and exports
read columns, not nested documents. JSON columns hold only what is looked up as a whole
(the program's options, the full machine description).

Why `ci_met` is a column and not a filter: a CI wider than the target is still a measurement;
the record is kept and flagged, and the trainer decides what to do with it. It is None where
there is no speedup to have a CI of (a failed build or run).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Boolean, Column, DateTime, Float, Index, Integer, MetaData, String, Table, Text

from autotune.kernel import Kernel
from autotune.measure import Measurement
from autotune.trials.records import config_key

SOURCES = ("run", "measure", "collect", "import")
DEFAULT_CI_TARGET = 0.02  # Options().ci_target: what `autotune collect` has always measured to

metadata = MetaData()
measurements = Table(
    "measurements",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created", DateTime, nullable=False),  # UTC, when the measurement finished
    Column("source", String(16), nullable=False),  # run | measure | collect | import
    Column("autotune_version", String(32)),
    # the program
    Column("kernel", String(255), nullable=False),  # the main file's stem
    Column("source_hash", String(64)),  # sha256 of the main file and the files its builds read; None: not known
    Column("size", String(32)),  # the size preset (MINI, SMALL, ...), when there is one
    Column("defines", JSON),  # -D values, as given
    Column("program", JSON),  # Kernel.options(): everything besides the main file that defines the program
    # the configuration and its variant
    Column("config", Text, nullable=False),  # JSON, keys sorted
    Column("changed", Text),  # JSON: the knobs set away from their defaults
    Column("config_key", Text, nullable=False),  # autotune.trials.records.config_key
    Column("build_key", String(64)),
    Column("ir_hash", String(64)),  # normalised-IR hash of the variant (encoder.ir.ir_hash), when it was computed
    # the measurement
    Column("status", String(16), nullable=False),
    Column("verified", Boolean, nullable=False),
    Column("message", Text),
    Column("speedup", Float),  # median of the interleaved pairs' ratios
    Column("ci_lo", Float),
    Column("ci_hi", Float),
    Column("baseline_s", Float),  # median seconds
    Column("candidate_s", Float),
    Column("pairs", Integer),
    Column("stop_reason", String(16)),
    Column("ci_target", Float),  # the relative CI half-width the protocol aimed for
    Column("ci_met", Boolean),  # the CI was within ci_target; None: no speedup (failed)
    Column("under_load", Boolean),
    Column("load_before", Float),
    Column("load_during", Float),
    # the machine
    Column("machine_id", String(16)),  # hash of (CPU model, usable cores, clang version)
    Column("cpu_model", String(255)),
    Column("cores", Integer),  # usable cores
    Column("compiler", String(255)),  # clang version line
    Column("machine", JSON),  # autotune.machine.Machine as recorded
    # where it came from
    Column("study", String(255)),  # the Optuna study (run)
    Column("trial", Integer),  # its trial number (run)
    Column("draw_index", Integer),  # the collection's draw index (collect, import)
    Column("seed", Integer),
    Index("ix_measurements_kernel", "kernel"),
    Index("ix_measurements_source_hash", "source_hash"),
    Index("ix_measurements_machine_id", "machine_id"),
)
COLUMNS: tuple[str, ...] = tuple(c.name for c in measurements.columns if c.name != "id")

# Draws of a shared collection being measured now (autotune.trials.db.claims): one row per draw,
# so machines collecting into one server with one seed never measure the same draw twice.
claims = Table(
    "claims",
    metadata,
    Column("kernel", String(255), primary_key=True),
    Column("size", String(32), primary_key=True),  # '' where the workload has none
    Column("seed", Integer, primary_key=True),
    Column("draw_index", Integer, primary_key=True),
    Column("machine_id", String(16), primary_key=True),  # identical machines share a plan; others measure their own
    Column("worker", JSON, nullable=False),  # autotune.machine.process_label(): host, pid, process start
    Column("claimed", DateTime, nullable=False),  # naive UTC
)


@dataclass(frozen=True)
class Program:
    """What identifies the measured program in a record."""

    kernel: str
    source_hash: str | None = None
    size: str | None = None
    defines: list[str] = field(default_factory=list)
    options: dict[str, Any] | None = None


def source_hash(kernel: Kernel) -> str:
    """sha256 of the main file and the files a build reads besides it (`Kernel.hash_files`)."""
    h = hashlib.sha256()
    h.update(kernel.text)
    kernel.hash_files(h)
    return h.hexdigest()


def size_of(defines: list[str]) -> str | None:
    """The size preset a `-D NAME_DATASET` selects (the suite's and PolyBench's convention), if exactly one does."""
    sizes = [d.removesuffix("_DATASET") for d in defines if d.endswith("_DATASET") and "=" not in d]
    return sizes[0] if len(sizes) == 1 else None


def program_of(kernel: Kernel) -> Program:
    return Program(kernel.name, source_hash(kernel), size_of(kernel.defines), list(kernel.defines), kernel.options())


def ci_met(speedup: float | None, lo: float | None, hi: float | None, target: float | None) -> bool | None:
    """The protocol's own test (`Estimate.rel_halfwidth <= ci_target`); no CI never meets it."""
    if speedup is None:
        return None
    if lo is None or hi is None or target is None or speedup <= 0:
        return False
    return (hi - lo) / 2 / speedup <= target


def machine_columns(mach: Mapping[str, Any]) -> dict[str, Any]:
    """The machine as columns: what tells two machines apart (CPU model, usable cores, clang) and all of it."""
    cpu = mach.get("cpu_model") or None
    cores = mach.get("usable_cores")
    clang = (mach.get("compilers") or {}).get("clang") or None
    ident = json.dumps([cpu, cores, clang]).encode()
    return {
        "machine_id": hashlib.blake2b(ident, digest_size=8).hexdigest(),
        "cpu_model": cpu,
        "cores": int(cores) if cores not in (None, "") else None,
        "compiler": clang,
        "machine": dict(mach),
    }


def now_utc() -> dt.datetime:
    """Naive UTC (what a DateTime column keeps on every backend)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def entry(
    m: Measurement,
    program: Program,
    *,
    source: str,
    ci_target: float | None,
    seed: int | None = None,
    study: str | None = None,
    trial: int | None = None,
    draw_index: int | None = None,
    ir_hash: str | None = None,
    created: dt.datetime | None = None,
) -> dict[str, Any]:
    """One record of the table from a finished Measurement (every column but `id`)."""
    from autotune import __version__, machine

    if source not in SOURCES:
        raise ValueError(f"source {source!r}: one of {', '.join(SOURCES)}")
    lo, hi = m.ci if m.ci is not None else (None, None)
    return {
        "created": created or now_utc(),
        "source": source,
        "autotune_version": __version__,
        "kernel": program.kernel,
        "source_hash": program.source_hash,
        "size": program.size,
        "defines": list(program.defines),
        "program": program.options,
        "config": json.dumps(m.config, sort_keys=True),
        "changed": json.dumps(m.changed, sort_keys=True),
        "config_key": config_key(m.config),
        "build_key": m.build_key or None,
        "ir_hash": ir_hash or None,
        "status": m.status,
        "verified": bool(m.verified),
        "message": m.message,
        "speedup": m.speedup,
        "ci_lo": lo,
        "ci_hi": hi,
        "baseline_s": m.baseline_seconds,
        "candidate_s": m.candidate_seconds,
        "pairs": m.repetitions,
        "stop_reason": m.stop_reason or None,
        "ci_target": ci_target,
        "ci_met": ci_met(m.speedup, lo, hi, ci_target) if m.status == "ok" else None,
        "under_load": bool(m.under_load),
        "load_before": m.load_before,
        "load_during": m.load_during,
        **machine_columns(m.machine or machine.current().to_dict()),
        "study": study,
        "trial": trial,
        "draw_index": draw_index,
        "seed": seed,
    }
