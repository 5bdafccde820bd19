"""Record a measurement cache for replay: every configuration of a small sub-space, timed for real.

Why: the search logic (strategies, dedup, budgets, resume) must be tested fast
and without timing noise, but against a real landscape, not invented numbers.
This script measures every configuration of a restricted sub-space of one
suite kernel with the engine (interleaved A/B against the baseline, verified)
and writes one CSV row per configuration plus a side JSON file with the
sub-space, the command, the machine and the date. `ReplayMeasurer` serves the
rows back (autotune/trials/replay.py). The CSV is kept by the Trial stage's
`Recorder` (autotune/trials/recorder.py): resumable, fsync'ed row by row.

Usage:
    python -m experiments.record_replay [--name jacobi1d_small] [--out tests/data/replay]

Took 145 s on the 2-core development machine (60 configurations, default protocol). That
machine was shared with other work while recording, which is why one thread beat two there
(about 1.6x): the numbers are real for those conditions, not a property of jacobi-1d.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from autotune.kernel import Kernel
from autotune.measure import Options
from autotune.space.discover import build_space
from autotune.trials.recorder import RecordingMismatch
from autotune.trials.records import (
    restrict,
)
from autotune.trials.replay import record_space
from experiments.provenance import ROOT

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
    meta = {
        "about": "Every configuration of a restricted sub-space of one kernel, measured for real by "
        "experiments/record_replay.py (interleaved A/B against the untransformed program, verified). "
        # the class now lives in autotune.trials.replay (re-exported by autotune.search); the text is
        # kept as recorded so a new recording's JSON stays byte-identical to the committed ones
        "Served back by autotune.search.session.ReplayMeasurer.",
        "kernel": path,
        "defines": defines,
        "command": "python -m " + shlex.join(["experiments.record_replay", *sys.argv[1:]]),
    }
    opts = Options(seed=seed)
    try:
        return record_space(kernel, space, out_dir / f"{name}.csv", meta, opts, lambda s: print(s, flush=True))
    except RecordingMismatch as e:
        raise SystemExit(str(e)) from None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--name", default="jacobi1d_small", choices=sorted(RECORDINGS))
    ap.add_argument("--out", default=str(ROOT / "tests" / "data" / "replay"))
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    print(record(a.name, Path(a.out), a.seed))


if __name__ == "__main__":
    main()
