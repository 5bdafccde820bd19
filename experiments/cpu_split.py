"""Which CPU's records a fold trains on and scores (experiments.pooled_cpu through experiments.transfer.run).

Why: sessions run on whichever VM they get, so the database holds records of several CPUs
(results/cross_cpu.md: the same configurations rank alike on two of them, Spearman 0.85, but not
identically). Whether a surrogate for one CPU should learn from the others' records too is measured
by holding out kernels as `experiments.transfer` does and scoring only the target CPU's records.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def on_cpu(df: pd.DataFrame, target: str | None) -> np.ndarray:
    """Rows of CPU `target` and the anchors (every CPU's default is 1.0x), of workloads that have a
    measured record of that CPU; every row where `target` is None."""
    if target is None:
        return np.ones(len(df), bool)
    mine = df["cpu_model"].eq(target) & ~df["anchor"]
    workload = df["kernel"] + "@" + df["size"].astype(str)
    has = workload.isin(set(workload[mine])).to_numpy()
    return has & (mine.to_numpy() | df["anchor"].to_numpy())


def cpu_rows(df: pd.DataFrame, train: np.ndarray, on_target: np.ndarray, cpus: str, seed: int) -> np.ndarray:
    """The training rows of `train` a variant learns from: all of them, the target CPU's, the other
    CPUs' (anchors in each), or `equal`: all CPUs' cut at random to as many records as the target's
    (more records, or other records, is what a gain of pooling is then told apart by)."""
    anchor = df["anchor"].to_numpy()[train]
    mine = on_target[train] & ~anchor
    if cpus == "all":
        return train
    if cpus == "target":
        return train[on_target[train]]
    if cpus == "other":
        return train[~mine]
    if cpus == "equal":
        records = np.flatnonzero(~anchor)
        keep = np.random.default_rng(seed).choice(records, size=int(mine.sum()), replace=False)
        return np.sort(np.concatenate([train[anchor], train[keep]]))
    raise ValueError(f"cpus={cpus!r}: all, target, other or equal")
