"""Loop vectorization (VF, IC) from our encoder's embeddings, on a grid measured here (issue 5, part 3).

The public NeuroVectorizer data has the loop programs and their -O3 runtimes, but no runtime of
the 35 pragma settings `#pragma clang loop vectorize_width(VF) interleave_count(IC)`,
VF in {1, 2, 4, 8, 16, 32, 64}, IC in {1, 2, 4, 8, 16}. So we measure that grid ourselves, with
our own measurement engine, and then predict the pair from embeddings.

Stages (`--stage`):
* `record`: a stratified subset of the loops (`--per-template` files of each of the 20
  templates, drawn with `--select-seed`; round-robin over templates, so a partial recording
  is balanced), each measured at all 35 pairs by `autotune.measure.Bench`: interleaved A/B
  against the untransformed `clang-22 -O3` program, output verified against it. The pragma goes
  on the loop NeuroVectorizer tunes, the innermost loop of the benchmarked function. The loop
  programs are used unmodified: our own header.h (experiments/vectorization/) comes first on the
  include path, times the repeated calls with autotune.h's region timer, prints the program's
  digest, and divides the repetition count by `-DNV_ITER_DIV`, calibrated per loop so that one
  -O3 run takes about `--target-ms`. Protocol: 1 warm-up pair, then 3 to 12 interleaved pairs
  until the 95% bootstrap CI of the speedup is within +-3% (at most 15 s of runs per
  measurement); a candidate run may take 5x the baseline + 1 s. Why looser than the tuner's
  default (5-60 pairs, +-2%): 35 x 300 measurements must fit in hours on two cores, and the
  stored CI of every cell shows the noise the table's picks are judged with (its "within 5% of
  the oracle" column tolerates it). One CSV row per (loop, VF, IC), appended and fsync'ed as it
  is measured; a rerun measures only what is missing (kill it any time). A quiet-machine gate
  (`--max-busy`) waits before each measurement while other work keeps the CPUs busy. Real
  timing; the tests record only a 2-loop, 2-pair slice.
* `predict` (default): embed each recorded loop's -O3 IR (the program as published, with the
  data set's own header.h) with the pre-trained encoder and with randomly initialised encoders
  of the same shape (fused, text and graph modalities), then k-fold cross-validation predicting
  each pair's log-speedup from the embedding (a small MLP, and a k-NN average) and taking the
  argmax. Two fold protocols: loops grouped by identical IR and stratified by template (a test
  loop's template is seen in training), and whole templates held out (it is not).
  Runs on however many loops are fully recorded so far.

Usage (from the repository root):
    python -m experiments.vectorization --stage record [--per-template 15] [--max-busy 0.25]
    python -m experiments.vectorization [--seeds 3] [--folds 10]
    python -m experiments.vectorization --smoke          # 1 seed, 3 folds, short training
Writes results/vectorization_grid.csv (+ .json, the recording) and results/vectorization.md /
results/vectorization.csv (the table; one row per fold protocol and loop with each method's pair).

This module is the command line and the predict stage; the rest lives beside it:
`vectorization_data` (the loops as kernels, the grid file), `vectorization_grid` (the record
stage), `vectorization_models` (folds, predictors, metrics), `vectorization_report` (the table).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from experiments import embeddings as embcache
from experiments import vectorization_data as vd
from experiments import vectorization_grid as vg
from experiments.provenance import ROOT
from experiments.vectorization_models import (
    EPOCHS,
    FOLD_SEED,
    KNN_K,
    METRICS,
    N_FOLDS,
    baseline_picks,
    evaluate,
    grouped_folds,
    knn_scores,
    mlp_scores,
)
from experiments.vectorization_report import write_report


def log(s: str) -> None:
    print(s, flush=True)


def embeddings(loops: vd.Loops, names: list[str], seeds: list[int], work: Path) -> tuple[dict, list[str]]:
    """(encoder, seed) -> [n, 3, 256] (fused, text, graph) per loop, and each loop's IR hash."""
    from encoder.ir import ir_hash

    t0 = time.time()
    irs, hashes = {}, []
    for j, name in enumerate(names):
        text = vd.o3_ir(loops, name, work / "ir")
        h = ir_hash(text)
        irs[h] = text
        hashes.append(h)
        if j % 50 == 49:
            log(f"[vectorization] -O3 IR of {j + 1}/{len(names)} loops ({time.time() - t0:.0f} s)")
    out = {}
    for enc, seed in embcache.encoder_specs(seeds):
        e = embcache.embed_all(irs, enc, seed)
        out[(enc, seed)] = np.stack([e[h] for h in hashes])
        log(f"[vectorization] embedded with {enc}{'' if seed is None else f' seed {seed}'} ({time.time() - t0:.0f} s)")
    return out, hashes


def predict(a: argparse.Namespace, argv: list[str]) -> int:
    """The predict stage: embed the complete loops, cross-validate every method, write the table and CSV."""
    import torch

    t_start = time.time()
    torch.set_num_threads(embcache.TORCH_THREADS)
    grid = Path(a.grid)
    if not grid.exists():
        raise vd.DataMissing(
            f"{grid}: no recorded grid; run `python -m experiments.vectorization --stage record` first"
        )
    loops = vd.extract(Path(a.work))
    df = vd.read_grid(grid)
    mat = vd.grid_matrix(df)
    names, V, OK, counts = mat.names, mat.value, mat.ok, mat.counts
    missing = [n for n in names if n not in set(loops.files)]
    if missing:
        raise vd.DataMissing(f"{grid}: loop {missing[0]} is not in the archive's training_data/")
    if len(names) < 2:
        raise SystemExit(f"{grid}: {len(names)} loops have all 35 pairs recorded; at least 2 are needed to predict")
    seeds = list(range(a.seeds))
    templates = [vd.template_of(n) for n in names]
    log(f"[vectorization] {len(names)} complete loops of {len(set(templates))} templates ({counts})")
    emb, hashes = embeddings(loops, names, seeds, Path(a.work))
    T = np.log(V)
    folds = {"loops": grouped_folds(hashes, templates, min(a.folds, len(set(hashes))), FOLD_SEED)}
    if len(set(templates)) >= 2:
        folds["templates"] = grouped_folds(
            templates, ["all"] * len(names), min(a.folds, len(set(templates))), FOLD_SEED
        )
    configs = [(e, m) for e in ("pretrained", "random-init") for m in ("fused", "text", "graph")]

    results: dict[str, dict[str, list[tuple[str, np.ndarray]]]] = {}  # protocol -> row -> [(column, picks)]
    for proto, tf in folds.items():
        rows: dict[str, list[tuple[str, np.ndarray]]] = {}
        rows["Oracle (best measured pair per loop)"] = [("oracle", V.argmax(1))]
        rows["always plain -O3 (no pragma)"] = [("O3", np.full(len(names), -1))]
        base = baseline_picks(T, tf)
        rows["most common best pair of the training loops (no embedding)"] = [
            ("most-common-best", base["most-common-best"])
        ]
        rows["best mean pair of the training loops (no embedding)"] = [("best-mean", base["best-mean"])]
        for enc, mod in configs:
            for s in seeds:
                X = emb[(enc, None if enc == "pretrained" else s)][:, embcache.MODALITY_INDEX[mod]]
                rows.setdefault(f"ours: {enc} encoder, {mod}, MLP", []).append(
                    (f"{enc}/{mod}/mlp/seed{s}", mlp_scores(X, T, tf, s, a.epochs).argmax(1))
                )
                if enc == "pretrained" and s > 0:
                    continue  # the k-NN head is deterministic: once for the pre-trained encoder
                rows.setdefault(f"ours: {enc} encoder, {mod}, {KNN_K}-NN", []).append(
                    (
                        f"{enc}/{mod}/knn{KNN_K}" + ("" if enc == "pretrained" else f"/seed{s}"),
                        knn_scores(X, T, tf).argmax(1),
                    )
                )
        results[proto] = rows
        log(f"[vectorization] {proto}: {int(tf.max()) + 1} folds done ({time.time() - t_start:.0f} s)")

    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = "vectorization_smoke" if a.smoke else "vectorization"
    frame = per_sample(names, templates, V, OK, folds, results)
    frame.to_csv(out / f"{stem}.csv", index=False)

    def row_summary(method: str, cols: list[tuple[str, np.ndarray]]) -> dict:
        scores = [evaluate(V, p, mat.lo, mat.hi) for _, p in cols]  # once per column, not per metric
        return {
            "method": method,
            **{k: [m[k] for m in scores] for k in METRICS},
            "failed": [int(np.sum((p >= 0) & ~OK[np.arange(len(p)), np.maximum(p, 0)])) for _, p in cols],
        }

    summary = {proto: [row_summary(r, cols) for r, cols in rows.items()] for proto, rows in results.items()}
    info = {
        "argv": argv,
        "seconds": time.time() - t_start,
        "names": names,
        "templates": templates,
        "counts": counts,
        "folds": {p: int(f.max()) + 1 for p, f in folds.items()},
        "df": df,
        "V": V,
        "OK": OK,
        "grid": grid,
        "csv": f"{stem}.csv",
        "seeds": seeds,
        "epochs": a.epochs,
    }
    write_report(out / f"{stem}.md", summary, info)
    return 0


def _pair(i: int) -> str:
    return "O3" if i < 0 else f"{vd.PAIRS[i][0]},{vd.PAIRS[i][1]}"


def per_sample(names, templates, V, OK, folds, results) -> pd.DataFrame:
    """One row per fold protocol and loop: its fold, the oracle's pair, each method's pick and its speedup."""
    rows = []
    for proto, tf in folds.items():
        for i, n in enumerate(names):
            r = {
                "protocol": proto,
                "file": n,
                "template": templates[i],
                "fold": int(tf[i]),
                "oracle_pair": _pair(int(V[i].argmax())),
                "oracle_speedup": float(V[i].max()),
                "failed_pairs": int((~OK[i]).sum()),
            }
            for cols in results[proto].values():
                for col, picks in cols:
                    if col == "oracle":
                        continue
                    p = int(picks[i])
                    r[f"pair:{col}"] = _pair(p)
                    r[f"speedup:{col}"] = 1.0 if p < 0 else float(V[i, p])
            rows.append(r)
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stage", choices=("record", "predict"), default="predict")
    ap.add_argument("--grid", default=str(vd.GRID), help="the recorded grid CSV (+ .json beside it)")
    ap.add_argument("--work", default=str(vd.WORK), help="extracted archive, IR cache, scratch builds")
    g = ap.add_argument_group("record")
    g.add_argument("--per-template", type=int, default=vg.PER_TEMPLATE, help="loops per template (20 templates)")
    g.add_argument("--select-seed", type=int, default=vg.SELECT_SEED)
    g.add_argument("--files", nargs="+", help="record these loop files instead of the stratified selection")
    g.add_argument("--limit", type=int, default=0, help="record only the first N loops of the selection")
    g.add_argument("--pairs", nargs="+", help="only these VF,IC pairs (default: all 35)")
    g.add_argument("--target-ms", type=float, default=vg.TARGET_MS, help="time of one -O3 run after calibration")
    g.add_argument("--min-pairs", type=int, default=vg.MIN_PAIRS)
    g.add_argument("--max-pairs", type=int, default=vg.MAX_PAIRS)
    g.add_argument("--ci-target", type=float, default=vg.CI_TARGET)
    g.add_argument(
        "--max-busy",
        type=float,
        default=0.25,
        help="wait before each measurement while other work uses more than this share of the CPUs (1: never)",
    )
    g = ap.add_argument_group("predict")
    g.add_argument("--seeds", type=int, default=3, help="MLP seeds; random-init encoders use the same")
    g.add_argument("--folds", type=int, default=N_FOLDS)
    g.add_argument("--epochs", type=int, default=EPOCHS)
    g.add_argument("--smoke", action="store_true", help="1 seed, 3 folds, 100 epochs; writes vectorization_smoke.*")
    g.add_argument("--out", default=str(ROOT / "results"))
    a = ap.parse_args(argv)
    if a.smoke:
        a.seeds, a.folds, a.epochs = 1, 3, min(a.epochs, 100)
    if a.stage == "record":
        return vg.record(a, argv)
    return predict(a, argv)


if __name__ == "__main__":
    raise SystemExit(main())
