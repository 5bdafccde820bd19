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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autotune.build import Builder  # noqa: E402
from autotune.discover import build_space  # noqa: E402
from autotune.kernel import Kernel  # noqa: E402
from autotune.machine import current  # noqa: E402
from autotune.measure import Bench, Options  # noqa: E402
from autotune.search.records import config_key, flat_row, measurement_attrs, restrict, space_spec  # noqa: E402

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


def record(name: str, out_dir: Path, seed: int) -> Path:
    path, defines, choices = RECORDINGS[name]
    kernel = Kernel.load(ROOT / path, defines=defines)
    space = restrict(build_space(kernel), choices)
    opts = Options(seed=seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / f"{name}.csv"
    started = time.time()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        bench = Bench(kernel, space, opts, Builder(Path(tmp)))
        configs = list(space.enumerate())
        for i, cfg in enumerate(configs):
            m = bench.measure(cfg)
            row = {"key": config_key(m.config), **flat_row(measurement_attrs(m), space)}
            rows.append(row)
            sp = f"{m.speedup:.3f}" if m.speedup is not None else "-"
            print(f"[{i + 1}/{len(configs)}] {m.status} {sp} {space.changed(cfg)}", flush=True)
    with csv_path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    meta = {
        "about": "Every configuration of a restricted sub-space of one kernel, measured for real by "
        "experiments/record_replay.py (interleaved A/B against the untransformed program, verified). "
        "Served back by autotune.search.session.ReplayMeasurer.",
        "kernel": path,
        "defines": defines,
        "knobs": space_spec(space),
        "size": space.size(),
        "options": vars(opts),
        "command": "python " + shlex.join(["experiments/record_replay.py", *sys.argv[1:]]),
        "machine": current().to_dict(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(time.time() - started, 1),
    }
    csv_path.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")
    return csv_path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--name", default="jacobi1d_small", choices=sorted(RECORDINGS))
    ap.add_argument("--out", default=str(ROOT / "tests" / "data" / "replay"))
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    print(record(a.name, Path(a.out), a.seed))


if __name__ == "__main__":
    main()
