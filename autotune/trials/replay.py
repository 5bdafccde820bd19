"""Replays: every configuration of a sub-space recorded once (`record_space`), then served back
to the search logic with no timing (`ReplayMeasurer`).

Why it is part of the Trial stage: a recording is a set of trial records (one per configuration
of a restricted sub-space, written by experiments/record_replay.py); serving them back through
the `Measurer` protocol lets the strategies, the session and the experiments run without timing
anything, with the same records the product writes.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autotune.build import Builder
from autotune.kernel import Kernel
from autotune.machine import current
from autotune.measure import Bench, Measurement, Measurer, Options
from autotune.space import Config, Space
from autotune.trials.recorder import Recorder, Same, same_cpu
from autotune.trials.records import (
    FIELDS,
    LIST_FIELDS,
    config_key,
    flat_row,
    measurement_attrs,
    measurement_from_row,
    space_from_spec,
    space_spec,
)


class ReplayMeasurer:
    """Serves measurements recorded by experiments/record_replay.py: the search logic without timing.

    The CSV holds one row per configuration of a restricted sub-space; the JSON
    beside it holds that sub-space (`space`), the kernel, the command, machine
    and date. A configuration outside the recording is a bug in the caller and
    raises LookupError. `calls` lists the keys served, in order.
    """

    def __init__(self, csv_path: str | Path) -> None:
        self.path = Path(csv_path)
        self.meta: dict[str, Any] = json.loads(self.path.with_suffix(".json").read_text())
        self.space: Space = space_from_spec(self.meta["knobs"])
        with self.path.open(newline="") as f:
            rows = list(csv.DictReader(f))
        self.rows: dict[str, dict[str, str]] = {}
        for row in rows:
            m = measurement_from_row(row, self.space)
            self.rows[config_key(m.config)] = row
        self.calls: list[str] = []

    def measure(self, config: Config) -> Measurement:
        key = config_key(self.space.canonical(config))
        if key not in self.rows:
            raise LookupError(f"{self.path.name}: no recorded measurement for {key}")
        self.calls.append(key)
        return measurement_from_row(self.rows[key], self.space, self.meta.get("machine"))


def recording_fields(space: Space) -> list[str]:
    """The CSV's columns: the configuration's key, the knobs, the measurement, the CPU."""
    return ["key", *(k.name for k in space), *FIELDS, *LIST_FIELDS, "cpu_model"]


def record_space(
    kernel: Kernel,
    space: Space,
    csv_path: Path,
    meta: dict[str, Any],
    opts: Options,
    log: Callable[[str], None] = print,
    measurer: Measurer | None = None,
    gate: Callable[[], None] | None = None,
) -> Path:
    """Measure every configuration of `space` into `csv_path` (+ its JSON); resumable.

    Why row by row: a recording of a hundred configurations takes most of an
    hour, so each finished measurement is appended and fsync'ed at once, and a
    rerun measures only the configurations the CSV does not hold yet. A CSV
    recorded for another sub-space or on another CPU is refused rather than
    mixed in. The JSON is written first (so the sub-space is known while
    recording) and again at the end with `complete`, the configurations
    recorded and the seconds spent.
    A recording made for another sub-space or CPU raises RecordingMismatch (a UserError).
    `measurer` replaces the engine (a Bench on a temporary build folder); tests
    give it a replay, so the resume logic is checked without timing anything.
    `gate`, when given, is called before each measurement (to wait for a quiet machine).
    """
    spec = space_spec(space)
    sub_space = Same("knobs", spec, "{path}: recorded for another sub-space; move it away to record this one")
    rec = Recorder(
        csv_path, recording_fields(space), lambda row: row["key"], with_meta=True, checks=[sub_space, same_cpu()]
    )
    seconds = float(rec.meta.get("seconds") or 0.0)
    base = {
        **meta,
        "knobs": spec,
        "size": space.size(),
        "options": vars(opts),
        "machine": current().to_dict(),
    }
    started = time.time()

    def write_meta(complete: bool, n: int) -> None:
        date = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        spent = round(seconds + time.time() - started, 1)
        rec.write_meta({**base, "complete": complete, "recorded": n, "date": date, "seconds": spent})

    write_meta(False, len(rec.keys))
    configs = [c for c in space.enumerate() if config_key(c) not in rec.keys]
    if rec.keys:
        log(f"{csv_path.name}: {len(rec.keys)} of {space.size()} recorded already; measuring the other {len(configs)}")
    with tempfile.TemporaryDirectory() as tmp:
        bench = measurer or Bench(kernel, space, opts, Builder(Path(tmp)))
        for i, cfg in enumerate(configs):
            if gate is not None:
                gate()
            m = bench.measure(cfg)
            rec.append({"key": config_key(m.config), **flat_row(measurement_attrs(m), space)})
            sp = f"{m.speedup:.3f}" if m.speedup is not None else "-"
            log(f"[{len(rec.keys)}/{space.size()}] {m.status} {sp} {space.changed(cfg)}")
            if i % 10 == 9:
                write_meta(False, len(rec.keys))
    write_meta(len(rec.keys) >= space.size(), len(rec.keys))
    return csv_path
