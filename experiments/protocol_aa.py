"""A/A benchmark of the measurement protocol: how tight and how cheap is it?

An A/A measurement times the untransformed program against itself, so its true
speedup is exactly 1. For each kernel it is repeated with several seeds;
the table reports the speedup, the 95% CI half-width, the pairs needed, and
the framework's own overhead per run:

* harness overhead: wall time of the runs phase minus the children's
  spawn-to-reap time, per run (Python bookkeeping, pipes, verification,
  bootstrap);
* outside-region time: a child's spawn-to-reap time minus the time its own
  region timer reports (process start, initialisation, checksum, output):
  the program's own, paid equally by baseline and candidate, never timed;
* spawn cost: spawn-to-reap time of an empty C program through the same
  runner (fork/exec with the memory cap, dynamic loading, libomp start-up).

Usage:
    python experiments/protocol_aa.py [--size MEDIUM] [--repeats 3] [--kernels gemm,atax,...]
    python experiments/protocol_aa.py --from-csv results/protocol_aa.csv   # report only
Writes results/protocol_aa.md and results/protocol_aa.csv.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autotune.build import Builder  # noqa: E402
from autotune.kernel import Kernel  # noqa: E402
from autotune.machine import current  # noqa: E402
from autotune.measure import Bench, Options  # noqa: E402
from experiments._report import markdown_table  # noqa: E402

DEFAULT_KERNELS = "gemm,atax,jacobi-2d,heat-3d,covariance,spmv-csr,nbody,lu"


def run(kernels: list[str], size: str, repeats: int, out_dir: Path) -> pd.DataFrame:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        builder = Builder(Path(tmp))
        for name in kernels:
            kernel = Kernel.load(ROOT / "kernels" / f"{name}.c", defines=[f"{size}_DATASET"])
            for seed in range(repeats):
                bench = Bench(kernel, options=Options(seed=seed), builder=builder)
                m = bench.measure()
                assert m.status == "ok", (name, m.status, m.message)
                own = statistics.median(m.baseline_times + m.candidate_times)
                rows.append(
                    {
                        "kernel": name,
                        "seed": seed,
                        "baseline_ms": round(m.baseline_seconds * 1e3, 2),
                        "speedup": round(m.speedup, 4),
                        "ci_lo": round(m.ci[0], 4),
                        "ci_hi": round(m.ci[1], 4),
                        "ci_halfwidth_pct": round((m.ci[1] - m.ci[0]) / 2 / m.speedup * 100, 2),
                        "contains_1": m.ci[0] <= 1.0 <= m.ci[1],
                        "pairs": m.repetitions,
                        "runs": m.runs,
                        "harness_overhead_ms": round(m.overhead_per_run * 1e3, 3),
                        "outside_region_ms": round((m.run_wall_seconds / m.runs - own) * 1e3, 3),
                        "timer": m.timing,
                    }
                )
                print(json.dumps(rows[-1]), flush=True)
    return pd.DataFrame(rows)


def spawn_cost_ms(n: int = 50) -> float:
    """Median spawn-to-reap time of an empty OpenMP program through our runner."""
    from autotune.compilers import require_clang
    from autotune.measure import runner

    with tempfile.TemporaryDirectory() as tmp:
        src, exe = Path(tmp) / "empty.c", Path(tmp) / "empty"
        src.write_text("#include <omp.h>\nint main(void) { return omp_get_max_threads() < 0; }\n")
        subprocess.run([require_clang(), "-O2", "-fopenmp", str(src), "-o", str(exe)], check=True)
        walls = [runner.run(exe, [], runner.clean_env({}), timeout=10, memory_bytes=2**34).wall for _ in range(n)]
    return statistics.median(walls) * 1e3


def write(df: pd.DataFrame, args: argparse.Namespace, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    df.to_csv(out_dir / "protocol_aa.csv", index=False)
    per = (
        df.groupby("kernel", sort=False)
        .agg(
            baseline_ms=("baseline_ms", "median"),
            speedup_min=("speedup", "min"),
            speedup_max=("speedup", "max"),
            ci_halfwidth_pct_max=("ci_halfwidth_pct", "max"),
            ci_contains_1=("contains_1", "sum"),
            pairs_median=("pairs", "median"),
            harness_overhead_ms=("harness_overhead_ms", "median"),
            outside_region_ms=("outside_region_ms", "median"),
        )
        .reset_index()
    )
    per["ci_contains_1"] = per["ci_contains_1"].astype(int).astype(str) + f"/{args.repeats}"
    mach = current()
    spawn_ms = spawn_cost_ms()
    long = df[df.baseline_ms >= 50]
    lines = [
        "# Measurement protocol: A/A benchmark",
        "",
        "The untransformed program measured against itself (true speedup 1.0), interleaved, adaptive",
        "(stop at a 95% bootstrap CI within +-2% or 60 pairs), verified. One row per kernel, "
        f"{args.repeats} repetitions (seeds 0..{args.repeats - 1}) each.",
        "",
        (
            f"Command: `python experiments/protocol_aa.py` (measurements); this report rebuilt from its CSV with "
            f"`{shlex.join(['python', 'experiments/protocol_aa.py', *sys.argv[1:]])}`  "
            if args.from_csv
            else f"Command: `{shlex.join(['python', 'experiments/protocol_aa.py', *sys.argv[1:]])}`  "
        ),
        f"Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}  ",
        f"Machine: {mach.cpu_model}, {mach.usable_cores} usable cores, {mach.memory_gib} GiB; "
        f"{'; '.join(mach.compilers.values())}  ",
        f"Data: kernels/ at size {args.size}, baseline `clang-22 -O3 -fopenmp`, all cores.",
        "",
        markdown_table(per),
        "",
        "## Against the targets",
        "",
        f"* A/A CI half-width for kernels of 50 ms or more: max {long.ci_halfwidth_pct.max():.2f}% "
        f"over {len(long)} measurements (target +-2%); "
        f"{int((long.ci_halfwidth_pct <= 2.0).sum())}/{len(long)} within target.",
        f"* A/A speedups range {df.speedup.min():.4f} to {df.speedup.max():.4f}; "
        f"the CI contains 1.0 in {int(df.contains_1.sum())}/{len(df)} measurements.",
        f"* Harness overhead per run: median {df.harness_overhead_ms.median():.2f} ms, "
        f"max {df.harness_overhead_ms.max():.2f} ms (target under 5 ms).",
        f"* Spawn cost of an empty OpenMP C program through the runner (fork/exec, memory cap, libomp "
        f"start-up): median {spawn_ms:.2f} ms over 50 runs; outside the region timer, paid by both sides.",
        "",
        "## Where it falls short, and why",
        "",
        "Single runs of these kernels at two threads on this 2-core VM scatter by 5-10% (a barrier waits",
        "for the slowest thread, so any interference shows); pinning threads (OMP_PROC_BIND) did not",
        "reduce it. The paired-ratio median needs roughly 40-60 pairs to reach +-2% at that noise, so",
        "the noisiest kernels end at the 60-pair cap slightly wider. The stop rule looks at the CI after",
        "every pair (optional stopping), so an A/A CI excludes 1.0 somewhat more often than 5% of the",
        "time; the excursions stay within about 2.5% of 1.0.",
        "",
        "Per-measurement rows: `protocol_aa.csv`.",
    ]
    (out_dir / "protocol_aa.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernels", default=DEFAULT_KERNELS)
    ap.add_argument("--size", default="MEDIUM", choices=["MINI", "SMALL", "MEDIUM", "LARGE"])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "results"))
    ap.add_argument("--from-csv", default=None, help="rebuild the report from an earlier run's CSV, measuring nothing")
    args = ap.parse_args()
    if args.from_csv:
        df = pd.read_csv(args.from_csv)
        args.repeats = int(df.groupby("kernel").size().max())
    else:
        df = run(args.kernels.split(","), args.size, args.repeats, Path(args.out))
    write(df, args, Path(args.out))
    print((Path(args.out) / "protocol_aa.md").read_text())


if __name__ == "__main__":
    main()
