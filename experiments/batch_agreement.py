"""Does a batch measure what one-at-a-time measures, and for how much less? (`autotune.measure.batch`)

For each of a seeded sample of kernels, draws configurations the way `autotune collect` does, plus the
default (an A/A measurement, true speedup 1), builds them all, and then measures them three times on
the same Bench: one at a time (`Bench.measure`), together in one batch (`measure_many`), and one at a
time again: the control, since two measurements of one configuration minutes apart differ by more
than either's CI says when the machine drifts. The order of the three goes through all six
permutations from kernel to kernel so drift favours none. Builds are done before any, so the wall
times compare the measuring alone.

Reported: the wall time and pairs of each way, and per configuration how far the batch's speedup is
from the first one-at-a-time one and whether their 95% CIs overlap, beside the same for the two
one-at-a-time measurements.

Usage:
    python -m experiments.batch_agreement [--kernels 8] [--configs 4] [--size MEDIUM] [--seed 0]
    python -m experiments.batch_agreement --from-csv results/batch_protocol.csv   # report only
Writes results/batch_protocol.md and results/batch_protocol.csv. Time it on a quiet machine.
"""

from __future__ import annotations

import argparse
import itertools
import random
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from autotune.errors import UserError
from experiments.provenance import ROOT, clang_version, git_commit, machine_line, now
from experiments.report import markdown_table

OUT = ROOT / "results" / "batch_protocol"


WAYS = ("single", "batch", "again")  # one at a time, batched, one at a time again (the control)


def measure_kernel(work, n_configs: int, seed: int, order: tuple[str, ...], max_pairs: int) -> list[dict]:
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
    for way in order:
        t0 = time.perf_counter()
        ms = measure_many(bench, configs, seed=seed) if way == "batch" else [bench.measure(c) for c in configs]
        got[way] = (ms, time.perf_counter() - t0)
    rows = []
    for i, c in enumerate(configs):
        row = {"kernel": work.kernel, "size": work.size, "config": config_key(c), "aa": i == 0}
        row["order"] = " ".join(order)
        for way, (ms, wall) in got.items():
            m = ms[i]
            row[f"{way}_status"] = m.status
            row[f"{way}_speedup"] = m.speedup
            row[f"{way}_lo"], row[f"{way}_hi"] = m.ci if m.ci else (None, None)
            row[f"{way}_pairs"] = m.repetitions
            row[f"{way}_kernel_wall_s"] = wall  # the whole kernel's, repeated on its rows
        rows.append(row)
    return rows


def _compare(df: pd.DataFrame, a: str, b: str) -> dict:
    both = df[(df[f"{a}_status"] == "ok") & (df[f"{b}_status"] == "ok")]
    log_ratio = np.log(both[f"{a}_speedup"] / both[f"{b}_speedup"])
    overlap = (both[f"{a}_lo"] <= both[f"{b}_hi"]) & (both[f"{b}_lo"] <= both[f"{a}_hi"])
    return {
        "n": len(both),
        "ratio": float(np.exp(np.median(log_ratio))),
        "abs_med": float(np.median(np.abs(log_ratio))),
        "abs_p90": float(np.quantile(np.abs(log_ratio), 0.9)),
        "overlap": float(overlap.mean()),
    }


def summarize(df: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    walls = df.groupby("kernel")[[f"{w}_kernel_wall_s" for w in WAYS]].first()
    pairs = df.groupby("kernel")[[f"{w}_pairs" for w in WAYS]].median()
    per = walls.join(pairs).reset_index()
    per["time_ratio"] = (per["single_kernel_wall_s"] + per["again_kernel_wall_s"]) / 2 / per["batch_kernel_wall_s"]
    facts = {
        "kernels": df["kernel"].nunique(),
        "configs": len(df),
        "status_agree": int(
            ((df["single_status"] == df["batch_status"]) & (df["batch_status"] == df["again_status"])).sum()
        ),
        "time": {w: float(walls[f"{w}_kernel_wall_s"].sum()) for w in WAYS},
        "time_ratio_median": float(per["time_ratio"].median()),
        "time_ratio_min": float(per["time_ratio"].min()),
        "time_ratio_max": float(per["time_ratio"].max()),
        "pairs": {w: float(df.loc[df[f"{w}_status"] == "ok", f"{w}_pairs"].median()) for w in WAYS},
        "batch_vs_single": _compare(df, "batch", "single"),
        "batch_vs_again": _compare(df, "batch", "again"),
        "again_vs_single": _compare(df, "again", "single"),
        "aa": {w: df.loc[df["aa"], f"{w}_speedup"].tolist() for w in WAYS},
    }
    return per, facts


def report(df: pd.DataFrame, command: str) -> str:
    per, f = summarize(df)
    per = per.rename(
        columns={f"{w}_kernel_wall_s": f"{w} s" for w in WAYS} | {f"{w}_pairs": f"{w} pairs" for w in WAYS}
    )
    t = f["time"]

    def cmp(name: str, label: str) -> str:
        c = f[name]
        return (
            f"| {label} | {c['n']} | {c['ratio']:.3f} | {c['abs_med']:.3f} | {c['abs_p90']:.3f} | {c['overlap']:.0%} |"
        )

    aa = "; ".join(f"{w}: " + ", ".join(f"{x:.3f}" for x in xs) for w, xs in f["aa"].items())
    return "\n".join(
        [
            "# Batched measurement: agreement with one-at-a-time, and its cost",
            "",
            f"Command: `{command}`  ",
            f"Machine: {machine_line()}; {clang_version()}  ",
            f"Commit: {git_commit()}; {now()}",
            "",
            f"{f['kernels']} kernels, {f['configs']} configurations (each kernel's default, an A/A measurement, and "
            "draws as `autotune collect` makes them), each measured one at a time (`single`), in one batch per "
            "kernel (`batch`, `autotune.measure.batch`) and one at a time again (`again`, the control); the three "
            f"gave the same status for {f['status_agree']} of {f['configs']}.",
            "",
            f"- **Time**: one at a time {t['single']:.0f} s and {t['again']:.0f} s, batched {t['batch']:.0f} s "
            f"(per kernel, one at a time (mean of the two) / batch: median {f['time_ratio_median']:.2f}x, range "
            f"{f['time_ratio_min']:.2f}-{f['time_ratio_max']:.2f}x). Median pairs: single {f['pairs']['single']:.0f}, "
            f"batch {f['pairs']['batch']:.0f}, again {f['pairs']['again']:.0f}.",
            f"- **A/A** (the default against the baseline): {aa}.",
            "",
            "How far apart two measurements of the same configuration are (speedup ratio: the median of a / b; "
            "|log ratio|: median and 90th percentile; overlap: share whose 95% CIs overlap):",
            "",
            "| a vs b | configurations | ratio | median abs log | p90 abs log | CIs overlap |",
            "|---|---|---|---|---|---|",
            cmp("batch_vs_single", "batch vs single"),
            cmp("batch_vs_again", "batch vs again"),
            cmp("again_vs_single", "again vs single (control)"),
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
    ap.add_argument("--resume", action="store_true", help="keep the kernels the CSV already has")
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args(argv)
    command = "python -m experiments.batch_agreement " + shlex.join(argv if argv is not None else sys.argv[1:])
    if a.from_csv is not None:
        df = pd.read_csv(a.from_csv)
    else:
        from autotune.trials.collect import set_tasks

        work = set_tasks([a.set], None, [a.size])
        random.Random(a.seed).shuffle(work)
        orders = list(itertools.permutations(WAYS))
        csv = a.out.with_suffix(".csv")
        a.out.parent.mkdir(parents=True, exist_ok=True)
        df = pd.read_csv(csv) if a.resume and csv.is_file() else pd.DataFrame()
        done = set(df["kernel"]) if len(df) else set()
        measured = len(done)
        for w in work:  # until --kernels of them could be measured; written after each, so a stop loses one
            if measured >= a.kernels:
                break
            if w.kernel in done:
                continue
            print(f"{w.study} ({measured + 1}/{a.kernels})", flush=True)
            try:
                rows = measure_kernel(w, a.configs, a.seed, orders[measured % len(orders)], max_pairs=a.max_pairs)
            except UserError as exc:  # its baseline fails (the libomp dispatch assertion some kernels hit)
                print(f"  skipped: {exc}", flush=True)
                continue
            df = pd.concat([df, pd.DataFrame(rows)], ignore_index=True)
            df.to_csv(csv, index=False)
            measured += 1
    a.out.with_suffix(".md").write_text(report(df, command))
    print(a.out.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
