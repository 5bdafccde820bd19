"""The collect CSV in and out of the measurement database, losslessly.

Why both ways: the committed `autotune/data/measurements.csv` stays the training file shipped
in git (a reviewer reads its diff), while the database is where measurements accumulate. So
`autotune db import` loads a collect CSV and `autotune db export --csv` writes that format
back, byte for byte for the rows it came from: numbers are formatted exactly as `autotune
collect` formats them, and an import checks every row comes back unchanged before it writes
anything (a row that would not is refused with its line number, never altered).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from autotune.errors import UserError
from autotune.trials.collect import FIELDS
from autotune.trials.db.schema import DEFAULT_CI_TARGET, ci_met, machine_columns
from autotune.trials.db.store import Store
from encoder.atomic import atomic_write_bytes

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # collect's time_utc


def _num(text: str) -> float | None:
    return float(text) if text != "" else None


def _int(text: str) -> int | None:
    return int(text) if text != "" else None


def _fmt(v: float | None, spec: str) -> str:
    return "" if v is None else format(v, spec)


def entry_of_row(row: Mapping[str, str], source: str = "import") -> dict[str, Any]:
    """A database record from one collect CSV row (what `autotune collect` measured it with is known:
    the suite kernel at `-D <size>_DATASET`, the protocol's default CI target)."""
    speedup, lo, hi = _num(row["speedup"]), _num(row["ci_low"]), _num(row["ci_high"])
    cores = _int(row["cores"])
    mach: dict[str, Any] = {"cpu_model": row["cpu_model"], "usable_cores": cores, "compilers": {}}
    if row["compiler"]:
        mach["compilers"]["clang"] = row["compiler"]
    return {
        "created": dt.datetime.strptime(row["time_utc"], TIME_FORMAT),
        "source": source,
        "autotune_version": None,  # not recorded in the CSV
        "kernel": row["kernel"],
        "source_hash": None,  # the CSV does not say which version of the file was measured
        "size": row["size"] or None,
        "defines": [f"{row['size']}_DATASET"] if row["size"] else [],
        "program": None,
        "config": row["config"],
        "changed": row["changed"],
        "config_key": row["config_key"],
        "build_key": row["build_key"] or None,
        "ir_hash": row["ir_hash"] or None,
        "status": row["status"],
        "verified": row["verified"] == "1",
        "message": row["message"],
        "speedup": speedup,
        "ci_lo": lo,
        "ci_hi": hi,
        "baseline_s": _num(row["baseline_s"]),
        "candidate_s": _num(row["candidate_s"]),
        "pairs": _int(row["pairs"]),
        "stop_reason": None,
        "ci_target": DEFAULT_CI_TARGET,
        "ci_met": ci_met(speedup, lo, hi, DEFAULT_CI_TARGET) if row["status"] == "ok" else None,
        "under_load": None if not row.get("under_load") else row["under_load"] == "1",
        "load_before": _num(row.get("load_before") or ""),
        "load_during": _num(row.get("load_during") or ""),
        **machine_columns(mach),
        "study": None,
        "trial": None,
        "draw_index": _int(row["index"]),
        "seed": _int(row["seed"]),
    }


def row_of_entry(r: Mapping[str, Any]) -> dict[str, str]:
    """A collect CSV row from a database record, formatted as `autotune.trials.collect.record` formats it."""
    changed = r["changed"] if r["changed"] is not None else json.dumps({})
    return {
        "kernel": r["kernel"],
        "size": r["size"] or "",
        "index": "" if r["draw_index"] is None else str(r["draw_index"]),
        "config": r["config"],
        "changed": changed,
        "config_key": r["config_key"],
        "ir_hash": r["ir_hash"] or "",
        "build_key": r["build_key"] or "",
        "status": r["status"],
        "speedup": _fmt(r["speedup"], ".5f"),
        "ci_low": _fmt(r["ci_lo"], ".5f"),
        "ci_high": _fmt(r["ci_hi"], ".5f"),
        "baseline_s": _fmt(r["baseline_s"], ".6g"),
        "candidate_s": _fmt(r["candidate_s"], ".6g"),
        "pairs": "" if r["pairs"] is None else str(r["pairs"]),
        "verified": str(int(bool(r["verified"]))),
        "message": (r["message"] or "").replace("\n", " ")[:300],
        "cpu_model": r["cpu_model"] or "",
        "cores": "" if r["cores"] is None else str(r["cores"]),
        "compiler": r["compiler"] or "",
        "seed": "" if r["seed"] is None else str(r["seed"]),
        "time_utc": r["created"].strftime(TIME_FORMAT),
        "load_before": _fmt(r["load_before"], ".3f"),
        "load_during": _fmt(r["load_during"], ".3f"),
        "under_load": "" if r["under_load"] is None else str(int(bool(r["under_load"]))),
    }


def _identity(r: Mapping[str, Any]) -> tuple:
    """What makes two records the same draw of a collection (an import run twice adds nothing)."""
    return (r["kernel"], r["size"], r["draw_index"], r["seed"], r["config_key"], r["created"])


def read_collect_csv(path: Path) -> list[dict[str, Any]]:
    """Every row of a collect CSV as a database record; UserError for a file that is not one."""
    if not path.is_file():
        raise UserError(f"{path}: no such file; give a CSV written by `autotune collect`")
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        columns = tuple(reader.fieldnames or ())
        if columns not in (tuple(FIELDS), tuple(FIELDS[: FIELDS.index("load_before")])):  # now or before 2026-12-02
            raise UserError(f"{path}: not a collect CSV (its columns are not those of autotune/data/README.md)")
        out = []
        for row in reader:
            where = f"{path}:{reader.line_num}"
            try:
                rec = entry_of_row(row)
            except (ValueError, TypeError) as exc:
                raise UserError(f"{where}: cannot read this row ({exc}); repair or remove it") from None
            back = row_of_entry(rec)
            diff = [k for k in columns if back[k] != row[k]]
            if diff:
                raise UserError(
                    f"{where}: column {diff[0]} ({row[diff[0]]!r}) would not come back as written "
                    f"({back[diff[0]]!r}); nothing was imported"
                )
            out.append(rec)
    return out


def import_csv(store: Store, path: Path) -> tuple[int, int]:
    """Load a collect CSV into the store in one transaction; (rows read, records added).

    Rows already in the store (same kernel, size, draw, seed, configuration and time) are
    skipped, so importing a file twice, or one `autotune collect` also wrote to the store, adds
    nothing twice.
    """
    records = read_collect_csv(path)
    cols = ("kernel", "size", "draw_index", "seed", "config_key", "created")
    have = {_identity(r) for r in store.rows(columns=cols)}
    new = []
    for r in records:
        if _identity(r) not in have:
            have.add(_identity(r))
            new.append(r)
    store.add_many(new)
    return len(records), len(new)


def collect_csv_text(records: Iterable[Mapping[str, Any]]) -> str:
    """The collect CSV of `records` (the csv module's default dialect, as the Recorder writes it)."""
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=FIELDS)
    w.writeheader()
    for r in records:
        w.writerow(row_of_entry(r))
    return buf.getvalue()


def export_csv(store: Store, path: Path, sources: Iterable[str] | None = None) -> int:
    """Write the store's records (of `sources`, default all) as a collect CSV, at once; returns the rows."""
    records = store.rows(sources)
    atomic_write_bytes(path, collect_csv_text(records).encode("utf-8"))
    return len(records)
