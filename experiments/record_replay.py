"""Record a measurement cache for replay: every configuration of a small sub-space, timed for real.

Why: the search logic (strategies, dedup, budgets, resume) must be tested fast
and without timing noise, but against a real landscape, not invented numbers.
This script measures every configuration of a restricted sub-space of one
suite kernel with the engine (interleaved A/B against the baseline, verified)
and writes one CSV row per configuration plus a side JSON file with the
sub-space, the command, the machine and the date. `ReplayMeasurer` serves the
rows back (autotune/search/session.py).

Usage:
    python experiments/record_replay.py [--name jacobi1d_small] [--out tests/data/replay]

Took 145 s on the 2-core development machine (60 configurations, default protocol). That
machine was shared with other work while recording, which is why one thread beat two there
(about 1.6x): the numbers are real for those conditions, not a property of jacobi-1d.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autotune.build import Builder  # noqa: E402
from autotune.discover import build_space  # noqa: E402
from autotune.kernel import Kernel  # noqa: E402
from autotune.machine import current  # noqa: E402
from autotune.measure import Bench, Options  # noqa: E402
from autotune.search.records import (  # noqa: E402
    FIELDS,
    LIST_FIELDS,
    config_key,
    flat_row,
    measurement_attrs,
    restrict,
    space_spec,
)
from autotune.search.session import BenchMeasurer, Measurer  # noqa: E402
from autotune.space import Space  # noqa: E402

# name -> (kernel file, defines, knob -> recorded choices). Chosen so that env-only
# knobs (threads, schedule, chunk) and one source knob (unroll, three builds) mix.
RECORDINGS = {
    "jacobi1d_small": (
        "kernels/jacobi-1d.c",
        ["SMALL_DATASET"],
        {
            "threads": (1, 2),
            "L2.schedule": ("static", "dynamic", "guided", "auto"),
            "L2.chunk": ("auto", 16, 256),
            "L2.unroll": ("auto", 1, 4),
        },
    ),
}


def _drop_partial_line(path: Path) -> None:
    """A kill during a write can leave half a row; cut the file back to its last complete line."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as f:
            f.truncate(data.rfind(b"\n") + 1)


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
    hour, so each finished measurement is appended and flushed at once, and a
    rerun measures only the configurations the CSV does not hold yet. A CSV
    recorded for another sub-space is refused rather than mixed in. The JSON
    is written first (so the sub-space is known while recording) and again at
    the end with `complete`, the configurations recorded and the seconds spent.
    `measurer` replaces the engine (a Bench on a temporary build folder); tests
    give it a replay, so the resume logic is checked without timing anything.
    `gate`, when given, is called before each measurement (to wait for a quiet machine).
    """
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    meta_path = csv_path.with_suffix(".json")
    spec = space_spec(space)
    done: set[str] = set()
    seconds = 0.0
    if csv_path.exists() and meta_path.exists():
        old = json.loads(meta_path.read_text())
        if old.get("knobs") != json.loads(json.dumps(spec)):
            raise SystemExit(f"{csv_path}: recorded for another sub-space; move it away to record this one")
        was, now = (old.get("machine") or {}).get("cpu_model"), current().cpu_model
        if was != now:
            raise SystemExit(f"{csv_path}: recorded on {was}, this is {now}; speedups from two CPUs must not mix")
        seconds = float(old.get("seconds") or 0.0)
        _drop_partial_line(csv_path)
        with csv_path.open(newline="") as f:
            done = {row["key"] for row in csv.DictReader(f)}
    elif csv_path.exists():
        raise SystemExit(f"{csv_path}: exists without its JSON; move it away to record afresh")
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
        extra = {"complete": complete, "recorded": n, "date": date, "seconds": spent}
        meta_path.write_text(json.dumps({**base, **extra}, indent=1) + "\n")

    write_meta(False, len(done))
    fields = ["key", *(k.name for k in space), *FIELDS, *LIST_FIELDS, "cpu_model"]
    configs = [c for c in space.enumerate() if config_key(c) not in done]
    if done:
        log(f"{csv_path.name}: {len(done)} of {space.size()} recorded already; measuring the other {len(configs)}")
    new_file = not csv_path.exists()
    with tempfile.TemporaryDirectory() as tmp, csv_path.open("a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        if new_file:
            w.writeheader()
        bench = measurer or BenchMeasurer(Bench(kernel, space, opts, Builder(Path(tmp))))
        for i, cfg in enumerate(configs):
            if gate is not None:
                gate()
            m = bench.measure(cfg)
            w.writerow({"key": config_key(m.config), **flat_row(measurement_attrs(m), space)})
            f.flush()
            done.add(config_key(m.config))
            sp = f"{m.speedup:.3f}" if m.speedup is not None else "-"
            log(f"[{len(done)}/{space.size()}] {m.status} {sp} {space.changed(cfg)}")
            if i % 10 == 9:
                write_meta(False, len(done))
    write_meta(len(done) >= space.size(), len(done))
    return csv_path


def record(name: str, out_dir: Path, seed: int) -> Path:
    path, defines, choices = RECORDINGS[name]
    kernel = Kernel.load(ROOT / path, defines=defines)
    space = restrict(build_space(kernel), choices)
    meta = {
        "about": "Every configuration of a restricted sub-space of one kernel, measured for real by "
        "experiments/record_replay.py (interleaved A/B against the untransformed program, verified). "
        "Served back by autotune.search.session.ReplayMeasurer.",
        "kernel": path,
        "defines": defines,
        "command": "python " + shlex.join(["experiments/record_replay.py", *sys.argv[1:]]),
    }
    opts = Options(seed=seed)
    return record_space(kernel, space, out_dir / f"{name}.csv", meta, opts, lambda s: print(s, flush=True))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--name", default="jacobi1d_small", choices=sorted(RECORDINGS))
    ap.add_argument("--out", default=str(ROOT / "tests" / "data" / "replay"))
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    print(record(a.name, Path(a.out), a.seed))


if __name__ == "__main__":
    main()
