"""Leave-kernel-out quality of the surrogate (the guided-tuner issue's evidence).

For every suite kernel in the measurement database, train the surrogate's
prior on the OTHER kernels' records and predict this kernel's measured
speedups; report the Spearman rank correlation between predicted and measured
speedups per kernel. Three feature sets, same model and seeds:
* `pretrained`: shipped encoder embedding of the variant IR (+ its change from the baseline) + knob features;
* `random-init`: the same with a randomly initialised encoder of the same shape;
* `knobs-only`: knob features alone, no embedding.
* with `--modalities`, also `pretrained-text` and `pretrained-graph`: one modality's own embedding
  instead of the fused one (the fusion layer is trained only by the program-identity loss).
Several ensemble seeds; the table gives the mean over seeds and the spread.

Usage: python -m experiments.surrogate_quality [--seeds 3] [--epochs 100]
Writes results/surrogate_quality.md and results/surrogate_quality.csv (per kernel, feature set and seed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from autotune import machine
from autotune.surrogate.data import Featurizer
from autotune.surrogate.features import NAMES
from autotune.surrogate.model import Ensemble
from autotune.surrogate.train import training_set
from autotune.trials.collect import DEFAULT_CSV
from experiments.provenance import ROOT
from experiments.report import markdown_table, spearman


def main() -> None:
    from encoder.embedding import Embedder, load_model
    from encoder.model import MIREncoder

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default=str(DEFAULT_CSV))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument(
        "--modalities", action="store_true", help="also the pre-trained encoder's text-only and graph-only embeddings"
    )
    ap.add_argument("--min-records", type=int, default=5, help="kernels with fewer held-out records are skipped")
    ap.add_argument("--out", default=str(ROOT / "results"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    # hash the database as it is read: a collection may be appending to it while this runs
    db_hash = hashlib.sha256(Path(args.db).read_bytes()).hexdigest()[:16]
    df = training_set(Path(args.db), machine.current().cpu_model)
    trained = Embedder(cache_dir=ROOT / ".encoder-cache")
    df = df[Featurizer(None).current(df)].reset_index(drop=True)
    torch.manual_seed(0)
    rand = Embedder(model=MIREncoder(load_model().cfg).eval())
    X_pre = Featurizer(trained).database(df)
    X_rand = Featurizer(rand).database(df)
    sets = {"pretrained": X_pre, "random-init": X_rand, "knobs-only": X_pre[:, -len(NAMES) :]}
    if args.modalities:
        for modality in ("text", "graph"):
            emb = Embedder(cache_dir=ROOT / ".encoder-cache", modality=modality)
            sets[f"pretrained-{modality}"] = Featurizer(emb).database(df)
    y = df["log_speedup"].to_numpy()
    rows = []
    for kernel in sorted(df["kernel"].unique()):
        test = (df["kernel"] == kernel).to_numpy()
        if test.sum() < args.min_records:
            continue
        for name, X in sets.items():
            for seed in range(args.seeds):
                ens = Ensemble(X.shape[1], seed=seed).fit(X[~test], y[~test], epochs=args.epochs)
                pred, _ = ens.predict(X[test])
                rows.append(
                    {
                        "kernel": kernel,
                        "features": name,
                        "seed": seed,
                        "records": int(test.sum()),
                        "spearman": spearman(pred, y[test]),
                        "mae_log": float(np.mean(np.abs(pred - y[test]))),
                    }
                )
        print(kernel, {r["features"]: round(r["spearman"], 3) for r in rows[-len(sets) * args.seeds :]}, flush=True)
    res = pd.DataFrame(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    res.to_csv(out / "surrogate_quality.csv", index=False)
    per_seed = res.groupby(["features", "seed"]).agg(spearman=("spearman", "mean"), mae_log=("mae_log", "mean"))
    summary = per_seed.groupby("features").agg(
        spearman_mean=("spearman", "mean"),
        spearman_min=("spearman", "min"),
        spearman_max=("spearman", "max"),
        mae_log_mean=("mae_log", "mean"),
    )
    per_kernel = res.groupby(["kernel", "features"])["spearman"].mean().unstack("features")
    wins = int((per_kernel["pretrained"] > per_kernel["knobs-only"]).sum())
    lines = [
        "# Surrogate quality: leave-kernel-out rank correlation",
        "",
        f"Command: `python -m experiments.surrogate_quality --seeds {args.seeds} --epochs {args.epochs}"
        f"{' --modalities' if args.modalities else ''}`  ",
        f"Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}; machine: {machine.current().cpu_model}, "
        f"{machine.usable_cores()} cores; database `{Path(args.db).name}` (sha256 {db_hash}), "
        f"{len(df)} verified records of {df['kernel'].nunique()} kernels; ensemble seeds 0-{args.seeds - 1}.",
        "",
        "Spearman correlation between predicted and measured speedup on the held-out kernel's records, averaged "
        "over kernels (columns: mean over seeds, and the lowest and highest seed).",
        "",
        markdown_table(summary.round(3).reset_index()),
        "",
        f"Kernels where the pre-trained embedding beats knob features alone: {wins} of {len(per_kernel)}.",
        "",
        "Per kernel (mean over seeds):",
        "",
        markdown_table(per_kernel.round(3).reset_index()),
    ]
    (out / "surrogate_quality.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:12]))


if __name__ == "__main__":
    main()
