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
    python -m experiments.protocol_aa [--size MEDIUM] [--repeats 3] [--kernels gemm,atax,...]
    python -m experiments.protocol_aa --from-csv results/protocol_aa.csv   # report only
Writes results/protocol_aa.md and results/protocol_aa.csv.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from autotune.build import Builder
from autotune.kernel import Kernel
from autotune.machine import current
from autotune.measure import Bench, Options
from experiments.provenance import ROOT
from experiments.report import markdown_table

DEFAULT_KERNELS = "gemm,atax,jacobi-2d,heat-3d,covariance,spmv-csr,nbody,lu"
LONG_MS = 50  # kernels at least this long are held to the CI target
OVERHEAD_TARGET_MS = 5.0  # harness overhead per run, the foundation issue's target
SPAWN_RUNS = 50
PAIR_MARKS = (20, 40)  # the pairs distribution is reported as counts under these
Z95 = 1.959964
MEDIAN_SE = math.sqrt(math.pi / 2)  # standard error of a median over that of a mean, for normal data


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
                ratios = np.asarray(m.baseline_times) / np.asarray(m.candidate_times)
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
                        "pair_ratio_sd_pct": round(float(np.std(ratios, ddof=1) / np.median(ratios) * 100), 2),
                    }
                )
                print(json.dumps(rows[-1]), flush=True)
    return pd.DataFrame(rows)


def spawn_cost_ms(n: int = SPAWN_RUNS) -> float:
    """Median spawn-to-reap time of an empty OpenMP program through our runner."""
    from autotune.build.compilers import require_clang
    from autotune.measure import runner

    with tempfile.TemporaryDirectory() as tmp:
        src, exe = Path(tmp) / "empty.c", Path(tmp) / "empty"
        src.write_text("#include <omp.h>\nint main(void) { return omp_get_max_threads() < 0; }\n")
        subprocess.run([require_clang(), "-O2", "-fopenmp", str(src), "-o", str(exe)], check=True)
        walls = [runner.run(exe, [], runner.clean_env({}), timeout=10, memory_bytes=2**34).wall for _ in range(n)]
    return statistics.median(walls) * 1e3


def _pct(x: float) -> str:
    return f"{x:.1f}%"


def _binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p): how surprising k misses in n are at the nominal rate."""
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))


def shortfalls(df: pd.DataFrame, max_pairs: int, ci_target_pct: float) -> list[str]:
    """The "where it falls short" section, every figure computed from the per-measurement rows.

    The spread of single pairs is measured (`pair_ratio_sd_pct`) when the CSV has it; older CSVs
    hold only each measurement's CI and pair count, from which the spread is implied: the CI of a
    median of n roughly normal ratios is about +-1.96 * 1.25 * sd / sqrt(n).
    """
    n = len(df)
    if "pair_ratio_sd_pct" in df and df["pair_ratio_sd_pct"].notna().all():
        sd, how = df["pair_ratio_sd_pct"], "measured (sd of the per-pair ratios over their median)"
    else:
        sd = df["ci_halfwidth_pct"] * np.sqrt(df["pairs"]) / (Z95 * MEDIAN_SE)
        how = (
            "implied by each measurement's CI half-width and pair count (sd = half-width x sqrt(pairs) / "
            f"{Z95 * MEDIAN_SE:.2f}; the CSV keeps no single runs)"
        )
    by_kernel = sd.groupby(df["kernel"], sort=False).median().sort_values(ascending=False)
    pairs = df["pairs"]
    q1, q3 = pairs.quantile([0.25, 0.75])
    capped = df[pairs >= max_pairs]
    marks = "; ".join(f"{int((pairs < m).sum())}/{n} stopped under {m} pairs" for m in PAIR_MARKS)
    miss = df[~df["contains_1"].astype(bool)]
    gap = np.maximum(miss["ci_lo"] - 1.0, 1.0 - miss["ci_hi"]) * 100
    dev = (df["speedup"] - 1.0).abs() * 100
    lines = [
        f"* Spread of single pairs: the per-pair speedup ratio's spread, {how}, is median {_pct(sd.median())}, "
        f"range {_pct(sd.min())} to {_pct(sd.max())} over {n} measurements; widest by kernel: "
        + ", ".join(f"{k} {_pct(v)}" for k, v in by_kernel.head(3).items())
        + ". With all cores busy, a barrier waits for the slowest thread, so any interference shows.",
        f"* Pairs needed to reach +-{ci_target_pct:g}%: median {pairs.median():.0f} (quartiles {q1:.0f} to "
        f"{q3:.0f}, range {pairs.min()} to {pairs.max()}); {marks}; {len(capped)}/{n} ran to the "
        f"{max_pairs}-pair cap"
        + (
            f" ({', '.join(f'{r.kernel} seed {r.seed}' for r in capped.itertuples())}) and ended with CI "
            f"half-widths of {capped.ci_halfwidth_pct.min():.2f}% to {capped.ci_halfwidth_pct.max():.2f}%."
            if len(capped)
            else "."
        ),
        f"* A/A excursions: the CI excludes 1.0 in {len(miss)}/{n} measurements ({len(miss) / n:.1%}; "
        f"{0.05 * n:.1f} expected at a true 95% coverage, and {len(miss)} or more happen by chance "
        f"{_binomial_tail(len(miss), n, 0.05):.0%} of the time). The stop rule looks at the CI after every pair "
        "(optional stopping), which makes such misses more likely than the nominal 5%."
        + (
            f" Those {len(miss)} ({', '.join(f'{r.kernel} seed {r.seed}' for r in miss.itertuples())}) have "
            f"speedups {miss.speedup.min():.4f} to {miss.speedup.max():.4f}, their CIs missing 1.0 by at most "
            f"{gap.max():.2f}%."
            if len(miss)
            else ""
        )
        + f" Over all measurements the A/A speedup is within {dev.max():.2f}% of 1.0 (median {dev.median():.2f}%).",
    ]
    return lines


def write(df: pd.DataFrame, args: argparse.Namespace, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    df.to_csv(out_dir / "protocol_aa.csv", index=False)
    opts = Options()
    target_pct = opts.ci_target * 100
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
    long = df[df.baseline_ms >= LONG_MS]
    if args.from_csv:  # a rebuild measures nothing: the spawn cost is not in the CSV
        spawn = (
            "* Spawn cost of an empty OpenMP C program through the runner: not in the CSV, so not in a "
            "`--from-csv` rebuild (a full run measures it)."
        )
    else:
        spawn = (
            f"* Spawn cost of an empty OpenMP C program through the runner (fork/exec, memory cap, libomp "
            f"start-up): median {spawn_cost_ms():.2f} ms over {SPAWN_RUNS} runs; outside the region timer, "
            "paid by both sides."
        )
    lines = [
        "# Measurement protocol: A/A benchmark",
        "",
        "The untransformed program measured against itself (true speedup 1.0), interleaved, adaptive",
        f"(stop at a 95% bootstrap CI within +-{target_pct:g}% or {opts.max_pairs} pairs), verified. "
        f"One row per kernel, {args.repeats} repetitions (seeds 0..{args.repeats - 1}) each.",
        "",
        (
            f"Command: `python -m experiments.protocol_aa` (measurements); this report rebuilt from its CSV with "
            f"`{shlex.join(['python', '-m', 'experiments.protocol_aa', *sys.argv[1:]])}`  "
            if args.from_csv
            else f"Command: `{shlex.join(['python', '-m', 'experiments.protocol_aa', *sys.argv[1:]])}`  "
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
        f"* A/A CI half-width for kernels of {LONG_MS} ms or more: max {long.ci_halfwidth_pct.max():.2f}% "
        f"over {len(long)} measurements (target +-{target_pct:g}%); "
        f"{int((long.ci_halfwidth_pct <= target_pct).sum())}/{len(long)} within target.",
        f"* A/A speedups range {df.speedup.min():.4f} to {df.speedup.max():.4f}; "
        f"the CI contains 1.0 in {int(df.contains_1.sum())}/{len(df)} measurements.",
        f"* Harness overhead per run: median {df.harness_overhead_ms.median():.2f} ms, "
        f"max {df.harness_overhead_ms.max():.2f} ms (target under {OVERHEAD_TARGET_MS:g} ms).",
        spawn,
        "",
        "## Where it falls short, and why",
        "",
        *shortfalls(df, opts.max_pairs, target_pct),
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
