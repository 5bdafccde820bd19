"""Does a batch measure what one-at-a-time measures, and for how much less? (`autotune.measure.batch`)

For each of a seeded sample of kernels, draws configurations the way `autotune collect` does, plus the
default (an A/A measurement, true speedup 1), builds them all, and then measures them both ways on
the same Bench: one at a time (`Bench.measure`) and together in one batch (`measure_many`), which of
the two goes first alternating from kernel to kernel so drift favours neither. Builds are done
before either, so the wall times compare the measuring alone.

Reported: the wall time and runs of each way, and per configuration the two speedups, the ratio of
the batch's to the single one's, and whether their 95% CIs overlap.

Usage:
    python -m experiments.batch_agreement [--kernels 8] [--configs 4] [--size MEDIUM] [--seed 0]
    python -m experiments.batch_agreement --from-csv results/batch_protocol.csv   # report only
Writes results/batch_protocol.md and results/batch_protocol.csv. Time it on a quiet machine.
"""

from __future__ import annotations

import argparse
import random
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.provenance import ROOT, clang_version, git_commit, machine_line, now
from experiments.report import markdown_table

OUT = ROOT / "results" / "batch_protocol"


def measure_kernel(work, n_configs: int, seed: int, single_first: bool, max_pairs: int) -> list[dict]:
    from autotune.measure import Bench, Options
    from autotune.measure.batch import measure_many
    from autotune.trials.collect import draw
    from autotune.trials.records import config_key
    from autotune.variant import make_variant

    bench = Bench(work.load(), options=Options(max_pairs=max_pairs, seed=seed))
    bench.prepare()
    rng = random.Random(f"{seed}:{work.study}")
    configs, keys = [bench.space.default()], {config_key(bench.space.default())}
    while len(configs) < n_configs + 1:
        c = draw(bench.space, rng, sparse=len(configs) % 2 == 0)
        if config_key(c) not in keys:
            keys.add(config_key(c))
            configs.append(c)
    for c in configs:  # the builds, outside both ways' times
        bench.builder.build(bench.kernel, make_variant(bench.kernel, bench.space, c))
    got: dict[str, tuple[list, float]] = {}
    for way in ("single", "batch") if single_first else ("batch", "single"):
        t0 = time.perf_counter()
        ms = [bench.measure(c) for c in configs] if way == "single" else measure_many(bench, configs, seed=seed)
        got[way] = (ms, time.perf_counter() - t0)
    rows = []
    for i, c in enumerate(configs):
        row = {"kernel": work.kernel, "size": work.size, "config": config_key(c), "aa": i == 0}
        row["first"] = "single" if single_first else "batch"
        for way, (ms, wall) in got.items():
            m = ms[i]
            row[f"{way}_status"] = m.status
            row[f"{way}_speedup"] = m.speedup
            row[f"{way}_lo"], row[f"{way}_hi"] = m.ci if m.ci else (None, None)
            row[f"{way}_pairs"] = m.repetitions
            row[f"{way}_runs"] = m.runs
            row[f"{way}_kernel_wall_s"] = wall  # the whole kernel's, repeated on its rows
        rows.append(row)
    return rows


def summarize(df: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    both = df[(df["single_status"] == "ok") & (df["batch_status"] == "ok")].copy()
    both["ratio"] = both["batch_speedup"] / both["single_speedup"]
    both["overlap"] = (both["batch_lo"] <= both["single_hi"]) & (both["single_lo"] <= both["batch_hi"])
    walls = df.groupby("kernel")[["single_kernel_wall_s", "batch_kernel_wall_s"]].first()
    runs = df.groupby("kernel")[["single_runs", "batch_runs"]].sum()
    per = walls.join(runs).reset_index()
    per["time_ratio"] = per["single_kernel_wall_s"] / per["batch_kernel_wall_s"]
    aa = both[both["aa"]]
    facts = {
        "kernels": df["kernel"].nunique(),
        "configs": len(df),
        "both_ok": len(both),
        "status_agree": int((df["single_status"] == df["batch_status"]).sum()),
        "time_single": float(walls["single_kernel_wall_s"].sum()),
        "time_batch": float(walls["batch_kernel_wall_s"].sum()),
        "time_ratio_median": float(per["time_ratio"].median()),
        "time_ratio_min": float(per["time_ratio"].min()),
        "time_ratio_max": float(per["time_ratio"].max()),
        "ratio_median": float(both["ratio"].median()),
        "abs_log_ratio_median": float(np.median(np.abs(np.log(both["ratio"])))),
        "abs_log_ratio_p90": float(np.quantile(np.abs(np.log(both["ratio"])), 0.9)),
        "overlap": float(both["overlap"].mean()),
        "aa_batch": aa["batch_speedup"].tolist(),
        "aa_single": aa["single_speedup"].tolist(),
        "pairs_single": float(both["single_pairs"].median()),
        "pairs_batch": float(both["batch_pairs"].median()),
    }
    return per, facts


def report(df: pd.DataFrame, command: str) -> str:
    per, f = summarize(df)
    per = per.rename(columns={"single_kernel_wall_s": "single s", "batch_kernel_wall_s": "batch s"})
    aa_b = ", ".join(f"{x:.3f}" for x in f["aa_batch"])
    aa_s = ", ".join(f"{x:.3f}" for x in f["aa_single"])
    return "\n".join(
        [
            "# Batched measurement: agreement with one-at-a-time, and its cost",
            "",
            f"Command: `{command}`  ",
            f"Machine: {machine_line()}; {clang_version()}  ",
            f"Commit: {git_commit()}; {now()}",
            "",
            f"{f['kernels']} kernels, {f['configs']} configurations (each kernel's default, an A/A measurement, and "
            "draws as `autotune collect` makes them), measured one at a time and in one batch per kernel; the two "
            f"gave the same status for {f['status_agree']} of {f['configs']}.",
            "",
            f"- **Time**: {f['time_single']:.0f} s one at a time, {f['time_batch']:.0f} s batched "
            f"(per kernel, one-at-a-time / batch: median {f['time_ratio_median']:.2f}x, "
            f"range {f['time_ratio_min']:.2f}-{f['time_ratio_max']:.2f}x); median pairs {f['pairs_single']:.0f} "
            f"and {f['pairs_batch']:.0f}.",
            f"- **Agreement** over the {f['both_ok']} configurations both measured: batch / single speedup median "
            f"{f['ratio_median']:.3f}, median |log ratio| {f['abs_log_ratio_median']:.3f} (90th percentile "
            f"{f['abs_log_ratio_p90']:.3f}); the 95% CIs overlap for {f['overlap']:.0%} of them.",
            f"- **A/A** (the default against the baseline): batch {aa_b}; one at a time {aa_s}.",
            "",
            markdown_table(per.round(3)),
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kernels", type=int, default=8)
    ap.add_argument("--configs", type=int, default=4, help="drawn configurations per kernel (plus the default)")
    ap.add_argument("--size", default="MEDIUM")
    ap.add_argument("--set", default="generated")
    ap.add_argument("--max-pairs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--from-csv", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args(argv)
    command = "python -m experiments.batch_agreement " + shlex.join(argv if argv is not None else sys.argv[1:])
    if a.from_csv is not None:
        df = pd.read_csv(a.from_csv)
    else:
        from autotune.trials.collect import set_tasks

        work = set_tasks([a.set], None, [a.size])
        random.Random(a.seed).shuffle(work)
        rows: list[dict] = []
        for i, w in enumerate(work[: a.kernels]):
            print(f"{w.study} ({i + 1}/{a.kernels})", flush=True)
            rows += measure_kernel(w, a.configs, a.seed, single_first=i % 2 == 0, max_pairs=a.max_pairs)
        df = pd.DataFrame(rows)
        a.out.parent.mkdir(parents=True, exist_ok=True)
        df.to_csv(a.out.with_suffix(".csv"), index=False)
    a.out.with_suffix(".md").write_text(report(df, command))
    print(a.out.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
