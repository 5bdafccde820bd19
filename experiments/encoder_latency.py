"""Latency and throughput of `encoder.embed` on this machine (the encoder issue's targets).

For every suite kernel, IR is produced once with clang-22 (not timed: the
target excludes clang), then on ONE core (torch threads = 1):
* single: normalize + tokenize + graph + forward of one kernel, cache off;
* batched: the same for all kernels in batches of 16, kernels per second.
Each is repeated; the table reports medians and spreads.

The default embedding reads one text window per module; `--windows 1,2` also
times two (more of the module's text, twice the transformer time).

Usage: python -m experiments.encoder_latency [--repeats 5] [--windows 1,2]
Writes results/encoder_latency.md and results/encoder_latency.csv.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from pathlib import Path

import pandas as pd
import torch

from encoder import ir as irmod
from encoder.embedding import WEIGHTS, Embedder
from experiments.provenance import ROOT
from experiments.report import markdown_table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--windows", default="1,2", help="text windows per module to time; the first is tabulated")
    ap.add_argument("--out", default=str(ROOT / "results"))
    ap.add_argument("--note", default="", help="a line on the machine's state, printed under the date")
    args = ap.parse_args()
    torch.set_num_threads(1)
    kernels = sorted((ROOT / "kernels").glob("*.c"))
    raw = {k.stem: irmod.compile_to_ir(k, opt="O1", include_dirs=[ROOT / "autotune" / "include"]) for k in kernels}
    summary = []
    single = None
    for windows in [int(w) for w in args.windows.split(",")]:
        emb = Embedder(cache_dir=None, windows=windows)
        rows = []
        for name, text in raw.items():
            times = []
            for _ in range(args.repeats):
                emb.forget()
                t0 = time.perf_counter()
                emb.embed_normalized([irmod.normalize(text)])
                times.append(time.perf_counter() - t0)
            rows.append(
                {
                    "kernel": name,
                    "ir_lines": text.count("\n"),
                    "ms_median": statistics.median(times) * 1e3,
                    "ms_min": min(times) * 1e3,
                    "ms_max": max(times) * 1e3,
                }
            )
        table = pd.DataFrame(rows)
        rates = []
        for _ in range(args.repeats):
            emb.forget()
            t0 = time.perf_counter()
            emb.embed_normalized([irmod.normalize(t) for t in raw.values()], batch_size=16)
            rates.append(len(raw) / (time.perf_counter() - t0))
        summary.append((windows, table, rates))
        if single is None:
            single = table
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    single.to_csv(out / "encoder_latency.csv", index=False)
    lines = [
        "# Encoder latency (one core, clang excluded)",
        "",
        f"Command: `python -m experiments.encoder_latency --repeats {args.repeats} --windows {args.windows}`  ",
        f"Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}; weights `{WEIGHTS.name}`; "
        "torch threads 1; IR from clang-22 -O1.",
        *([f"Machine state: {args.note}"] if args.note else []),
        "",
    ]
    for windows, table, rates in summary:
        med = table.ms_median.median()
        lines += [
            f"* {windows} text window(s){' (the default)' if windows == 1 else ''}: single kernel (normalize, "
            f"tokenize, graph, forward; cache off) median over kernels {med:.1f} ms (per-kernel medians "
            f"{table.ms_median.min():.1f}-{table.ms_median.max():.1f} ms; median of the per-kernel minima "
            f"{table.ms_min.median():.1f} ms), target under 50 ms; batched "
            f"(16 per batch, {len(raw)} kernels) {statistics.median(rates):.1f} kernels/s "
            f"(runs {min(rates):.1f}-{max(rates):.1f}), target at least 20.",
        ]
    lines += [
        "",
        f"Per kernel, {summary[0][0]} window(s):",
        "",
        markdown_table(single.round(2)),
    ]
    (out / "encoder_latency.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[: 6 + len(summary)]))


if __name__ == "__main__":
    main()
