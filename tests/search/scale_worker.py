"""One worker of a shared study, for the scale-out tests: `python -m tests.search.scale_worker URL STUDY ...`.

It tunes jacobi-1d's replay sub-space with recorded measurements that take `--sleep` seconds
each (a stand-in for timing, which two workers on one machine must not do beside each other),
so what the tests watch is the storage: every configuration measured once, none lost. Prints
`PID <pid>` first, then one `MEASURED <key>` line per measurement it took.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from autotune.errors import UserError
from autotune.search import ReplayMeasurer, tune
from tests.search.conftest import JACOBI, REPLAY


class SlowReplay(ReplayMeasurer):
    def __init__(self, seconds: float) -> None:
        super().__init__(REPLAY)
        self.seconds = seconds

    def measure(self, config):
        print(f"MEASURING {len(self.calls)}", flush=True)
        time.sleep(self.seconds)
        m = super().measure(config)
        print(f"MEASURED {self.calls[-1]}", flush=True)
        return m


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("storage")
    ap.add_argument("study")
    ap.add_argument("--budget", type=int, default=40)
    ap.add_argument("--sleep", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    print(f"PID {os.getpid()}", flush=True)
    m = SlowReplay(a.sleep)
    try:
        tune(
            JACOBI,
            defines=["SMALL_DATASET"],
            storage=a.storage,
            study=a.study,
            space=m.space,
            measurer=m,
            budget=a.budget,
            strategy="random",
            seed=a.seed,
            out=Path(a.out) if a.out else None,
            record=False,
        )
    except UserError as exc:
        print(f"autotune: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
