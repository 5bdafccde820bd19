"""The device-mapping data set (DeepTune/CGO'17): its tables, their IR, and the shipped baseline predictions.

Why a module of its own: experiments/devmap.py is the experiment (model, run, report); this is
what it reads. Two versions of the table (669 rows with the data set's IR, 680 rows with IR
compiled from `src`), and the per-sample predictions of Static, Grewe et al., DeepTune and
NCC/inst2vec joined to the 680-row table by the seeded folds their rows follow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from experiments import embeddings as embcache
from experiments import heads

PLATFORMS = {"amd": "AMD Tahiti 7970", "nvidia": "NVIDIA GTX 970"}
STATIC = {"amd": "CPU", "nvidia": "GPU"}  # the static mapping of the DeepTune paper
TABLES = ("669", "680")
FOLD_SEED = 204
N_FOLDS = 10
BASELINES = {  # file stem -> (row name, fold assignment its row order follows)
    "static": ("Static mapping", "new"),
    "grewe": ("Grewe et al.", "new"),
    "deeptune": ("DeepTune", "new"),
    "ncc_inst2vec": ("NCC/inst2vec", "legacy"),
}
# Published aggregates of the shipped predictions (../shared/data/README.md, section 1c):
# accuracy %, mean speedup over static, per platform.
PUBLISHED = {
    "Static mapping": {"amd": (58.8, 1.00), "nvidia": (56.9, 1.00)},
    "Grewe et al.": {"amd": (70.3, 2.64), "nvidia": (74.6, 1.28)},
    "DeepTune": {"amd": (83.2, 3.40), "nvidia": (80.9, 1.42)},
    "NCC/inst2vec": {"amd": (82.4, 3.42), "nvidia": (82.6, 1.41)},
}
SMOKE_STRIDE = 8


def table_files(version: str) -> dict[str, Path]:
    d = embcache.data_dir() / "devmap"
    sub = "ir2vec" if version == "669" else "deeptune_original"
    files = {p: d / sub / f"cgo17-{p}.csv" for p in PLATFORMS}
    if version == "669":
        files["ir"] = d / "ir2vec" / "kernels_ir.tar.gz"
    return files


def read_table(version: str, platform: str) -> pd.DataFrame:
    """One platform's table as read from the CSV, runtimes as floats, `y` = 1 where the GPU wins."""
    df = pd.DataFrame(embcache.read_csv(table_files(version)[platform])).drop(columns=["", "seq"], errors="ignore")
    for c in ("transfer", "wgsize", "runtime_cpu", "runtime_gpu"):
        df[c] = df[c].astype(float)
    df["y"] = (df["oracle"] == "GPU").astype(int)
    return df


def load_table(version: str, smoke: bool = False) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Platform -> table (with `ir_hash`, `ir_from`), and IR hash -> normalized IR."""
    from encoder.ir import ir_hash

    lls = embcache.tar_texts(table_files("669")["ir"], ".ll")
    irs: dict[str, str] = {}
    by_src: dict[str, tuple[str, str]] = {}
    out = {}
    for p in PLATFORMS:
        df = read_table(version, p)
        if smoke:  # every SMOKE_STRIDE-th row: a small slice that still has both labels
            df = df.iloc[::SMOKE_STRIDE].reset_index(drop=True)
        hashes, froms = [], []
        for r in df.itertuples():
            if version == "669":
                fname = r.benchmark + ("" if r.dataset == "default" else "_" + r.dataset) + ".ll"
                key = "ll:" + fname
                if key not in by_src:
                    text, how = embcache.ir_of(lls.get(fname), r.src)
                    by_src[key] = (text, how)
            else:
                key = "src:" + r.src + "\0" + r.benchmark
                if key not in by_src:
                    by_src[key] = _from_src(r.src, r.benchmark, r.dataset, lls)
            text, how = by_src[key]
            h = ir_hash(text)
            irs[h] = text
            hashes.append(h)
            froms.append(how)
        df["ir_hash"] = hashes
        df["ir_from"] = froms
        out[p] = df
    return out, irs


def _from_src(src: str, benchmark: str, dataset: str, lls: dict[str, str]) -> tuple[str, str]:
    """680-row table: compile `src`; where clang-22 rejects it (DeepTune's normalized sources
    sometimes use a macro they no longer define), take the data set's IR by ProGraML's join rule."""
    try:
        return embcache.compile_src(src), "src"
    except Exception:
        for name in (f"{benchmark}-{dataset}.ll", f"{benchmark}.ll", f"{benchmark}_{dataset}.ll"):
            if name in lls:
                return embcache.ir_of(lls[name], None)[0], "ir (src failed)"
        raise


def speedups(df: pd.DataFrame, platform: str, pred_gpu: np.ndarray) -> np.ndarray:
    """Runtime of the static mapping over the runtime of the predicted device, per sample."""
    rt_static = df["runtime_cpu"] if STATIC[platform] == "CPU" else df["runtime_gpu"]
    rt_pred = np.where(pred_gpu == 1, df["runtime_gpu"], df["runtime_cpu"])
    return rt_static.to_numpy() / rt_pred


def baseline_predictions(df680: pd.DataFrame, platform: str) -> dict[str, np.ndarray]:
    """Row name -> predicted device (1 = GPU) per row of the 680-row table, joined by fold order.

    The shipped files cannot be joined by name (their `Benchmark` is coarse), but their rows
    come fold by fold in the order of a seeded stratified 10-fold split; reproducing that split
    gives each shipped row its table row. The join is checked on the oracle labels and speedups.
    """
    base = embcache.data_dir() / "devmap" / "baselines"
    y = df680["y"].to_numpy()
    out = {}
    for stem, (name, kind) in BASELINES.items():
        b = pd.read_csv(base / f"{stem}_devmap_predictions.csv")
        b = b[b["Platform"] == PLATFORMS[platform]]
        folds = (heads.stratified_kfold if kind == "new" else heads.stratified_kfold_legacy)(y, N_FOLDS, FOLD_SEED)
        order = heads.fold_order(folds)
        if len(b) != len(order) or not np.array_equal(b["Oracle Mapping"].to_numpy(), y[order]):
            raise ValueError(f"{stem}: shipped predictions do not follow the seed-{FOLD_SEED} folds")
        pred = np.empty(len(y), dtype=int)
        pred[order] = b["Predicted Mapping"].to_numpy()
        sp = speedups(df680, platform, pred)
        if not np.allclose(sp[order], b["Speedup"].to_numpy(), rtol=1e-9):
            raise ValueError(f"{stem}: speedups do not match the join")
        out[name] = pred
    return out
