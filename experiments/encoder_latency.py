"""Latency and throughput of `encoder.embed` on this machine (the encoder issue's targets).

For every suite kernel, IR is produced once with clang-22 (not timed: the
target excludes clang), then on ONE core (torch threads = 1):
* single: normalize + tokenize + graph + forward of one kernel, cache off;
* batched: the same for all kernels in batches of 16, kernels per second.
Each is repeated; the table reports medians and spreads.

Usage: python experiments/encoder_latency.py [--repeats 5]
Writes results/encoder_latency.md and results/encoder_latency.csv.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

import pandas as pd
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from encoder import ir as irmod  # noqa: E402
from encoder.embedding import WEIGHTS, Embedder  # noqa: E402
from experiments._report import markdown_table  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", default=str(ROOT / "results"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    kernels = sorted((ROOT / "kernels").glob("*.c"))
    raw = {k.stem: irmod.compile_to_ir(k, opt="O1", include_dirs=[ROOT / "autotune" / "include"]) for k in kernels}
    emb = Embedder(cache_dir=None)
    rows = []
    for name, text in raw.items():
        times = []
        for _ in range(args.repeats):
            emb._memo.clear()
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
    single = pd.DataFrame(rows)
    rates = []
    for _ in range(args.repeats):
        emb._memo.clear()
        t0 = time.perf_counter()
        emb.embed_normalized([irmod.normalize(t) for t in raw.values()], batch_size=16)
        rates.append(len(raw) / (time.perf_counter() - t0))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    single.to_csv(out / "encoder_latency.csv", index=False)
    med = single.ms_median.median()
    lines = [
        "# Encoder latency (one core, clang excluded)",
        "",
        f"Command: `python experiments/encoder_latency.py --repeats {args.repeats}`  ",
        f"Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}; weights `{WEIGHTS.name}`; "
        "torch threads 1; IR from clang-22 -O1.",
        "",
        f"* Single kernel (normalize, tokenize, graph, forward; cache off): median over kernels {med:.1f} ms "
        f"(per-kernel medians {single.ms_median.min():.1f}-{single.ms_median.max():.1f} ms); target under 50 ms.",
        f"* Batched (16 per batch, {len(raw)} kernels): {statistics.median(rates):.1f} kernels/s "
        f"(runs {min(rates):.1f}-{max(rates):.1f}); target at least 20.",
        "",
        markdown_table(single.round(2)),
    ]
    (out / "encoder_latency.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:8]))


if __name__ == "__main__":
    main()
