"""Every CUDA kernel of kernels/cuda tuned on a GPU, guided and tpe at equal budgets (issue 15, part 4).

    python -m experiments.gpu_tuning [--budget 12] [--minutes 9] [--size MEDIUM] [--strategies tpe,guided]

The one prepared script for a session lent a GPU (the `device` tool): it runs the product's own
loop (`autotune.tune`: builds with nvcc, interleaved and verified measurements against each
program as given, CUDA-event timing) for every kernel and strategy, splitting `--minutes` of wall
time evenly over the runs still to do (each run also stops at `--budget` measurements), then
writes results/gpu_tuning.md and .csv: the GPU and its driver, each kernel's default time, the
best verified speedup found with its CI, and the evaluations it took to reach it. Without a GPU
it says so in one line and exits 2: nothing here can be measured on a CPU.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd

from experiments.provenance import ROOT, git_commit, now
from experiments.report import markdown_table

WORK = ROOT / "build" / "gpu_tuning"
KERNELS = ROOT / "kernels" / "cuda"


def gpu_line() -> str | None:
    """'NAME, driver VERSION' of the first GPU, or None without one."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    r = subprocess.run(
        [smi, "--query-gpu=name,driver_version", "--format=csv,noheader"], capture_output=True, text=True, timeout=60
    )
    line = r.stdout.strip().splitlines()[0] if r.returncode == 0 and r.stdout.strip() else ""
    if not line:
        return None
    name, _, driver = line.partition(",")
    return f"{name.strip()}, driver {driver.strip()}"


def summary_row(kernel: str, strategy: str, trials: pd.DataFrame) -> dict:
    """One run's line: default time, best verified speedup with its CI, evaluations to reach it.

    `trials`: the run's measurements in order (`Result.trials`, as trials.csv).
    """
    row = {"kernel": kernel, "strategy": strategy, "evaluations": len(trials)}
    t = trials.reset_index(drop=True)
    ok = t[(t["status"] == "ok") & t["speedup"].notna() & t["verified"].astype(bool)]
    if ok.empty:
        return {**row, "default_ms": None, "best_speedup": None, "ci": "", "evals_to_best": None}
    i = int(ok["speedup"].astype(float).idxmax())
    b = t.iloc[i]
    return {
        **row,
        "default_ms": round(1e3 * float(pd.to_numeric(ok["baseline_seconds"], errors="coerce").median()), 4),
        "best_speedup": round(float(b["speedup"]), 3),
        "ci": f"{float(b['ci_lo']):.3f}-{float(b['ci_hi']):.3f}" if pd.notna(b.get("ci_lo")) else "",
        "evals_to_best": i + 1,
    }


def main(argv: list[str] | None = None) -> int:
    import autotune

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budget", type=int, default=12, help="measurements per run, the baseline included")
    ap.add_argument("--minutes", type=float, default=9.0, help="wall time for all runs together")
    ap.add_argument("--size", default="MEDIUM")
    ap.add_argument("--strategies", default="tpe,guided")
    ap.add_argument("--out", default=str(ROOT / "results"))
    a = ap.parse_args(argv)
    gpu = gpu_line()
    if gpu is None:
        print("experiments.gpu_tuning: no GPU here (nvidia-smi finds none); run it where one is lent")
        return 2
    strategies = [s.strip() for s in a.strategies.split(",") if s.strip()]
    runs = [(k, s) for k in sorted(KERNELS.glob("*.cu")) for s in strategies]
    deadline = time.time() + 60 * a.minutes
    rows = []
    for i, (path, strategy) in enumerate(runs):
        share = (deadline - time.time()) / (len(runs) - i)  # what is left, split over the runs still to do
        if share < 5:
            print(f"{path.stem} {strategy}: no time left")
            continue
        r = autotune.tune(
            path,
            defines=[f"{a.size}_DATASET"],
            strategy=strategy,
            budget=a.budget,
            time_budget=share,
            storage=str(WORK / "studies.log"),
            study=f"{path.stem}@{a.size}/{strategy}",
            out=WORK / "out" / f"{path.stem}-{strategy}",
            record=False,
            seed=0,
        )
        rows.append(summary_row(path.stem, strategy, r.trials))
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    out = Path(a.out)
    table.to_csv(out / "gpu_tuning.csv", index=False)
    cmd = "python -m experiments.gpu_tuning " + " ".join(argv or [])
    lines = [
        "# CUDA kernels tuned on a GPU",
        "",
        f"Command: `{cmd.strip()}`  ",
        f"Date: {now()}; commit {git_commit()}; GPU: {gpu}; size {a.size}; budget {a.budget} measurements per run "
        f"(the baseline included), {a.minutes:g} minutes for all runs; seed 0.",
        "",
        "`default_ms`: the program as given, kernel time per run (CUDA events, the sum of its timed launches); "
        "`best_speedup`: the best verified variant over it, with its 95% CI; `evals_to_best`: measurements until "
        "that variant was found.",
        "",
        markdown_table(table) if len(table) else "(no run finished)",
    ]
    (out / "gpu_tuning.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(__import__("sys").argv[1:]))
