"""How high could any surrogate rank configurations, given how noisy the measurements are? (the noise ceiling)

Why a module of its own: `experiments.transfer` and `experiments.surrogate_quality` both report it
under their tables, and a Spearman below the target is worth reading only beside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.report import spearman


def noise_ceiling(df: pd.DataFrame, min_rows: int = 3, draws: int = 50, seed: int = 0) -> pd.DataFrame:
    """Per workload: the Spearman a model that knew every true speedup would reach against these measurements.

    Why: a low Spearman is the model's fault only if the measurements could show a high one. Each
    record's log speedup carries noise of sd (log CI high - log CI low) / 3.92; the true spread
    within the workload is what is left of the measured variance after the noise's. Truth is
    taken as the measurements shrunk to that spread, and the ceiling is the mean Spearman of truth
    with truth plus fresh noise of each record's own sd (the default, the anchor, has none).
    """
    rng = np.random.default_rng(seed)
    measured = ~df["anchor"].to_numpy()
    sd = np.zeros(len(df))
    lo, hi = df.loc[measured, "ci_low"].astype(float), df.loc[measured, "ci_high"].astype(float)
    sd[measured] = (np.log(hi) - np.log(lo)).to_numpy() / (2 * 1.96)
    rows = []
    for (kernel, size), idx in df.groupby(["kernel", "size"], sort=True).groups.items():
        if len(idx) < min_rows:
            continue
        pos = df.index.get_indexer(idx)
        y, e = df["log_speedup"].to_numpy(float)[pos], sd[pos]
        var = y.var(ddof=1)
        shrink = np.sqrt(max(0.0, 1 - float(np.mean(e**2)) / var)) if var > 0 else 0.0
        truth = y.mean() + (y - y.mean()) * shrink
        sims = [spearman(truth, truth + rng.normal(0, e)) for _ in range(draws)] if shrink > 0 else []
        sims = [x for x in sims if np.isfinite(x)]
        rows.append({"kernel": kernel, "size": size, "ceiling": float(np.mean(sims)) if sims else 0.0})
    return pd.DataFrame(rows)


def ceiling_line(df: pd.DataFrame, res: pd.DataFrame, min_rows: int = 3) -> str:
    """The noise ceiling over the workloads each evaluation holds out (means, as the table's)."""
    ceil = noise_ceiling(df, min_rows).set_index(["kernel", "size"])["ceiling"]
    parts = []
    for ev in ("template", "kernel"):
        held = res.loc[res["evaluation"] == ev, ["kernel", "size"]].drop_duplicates()
        keys = [k for k in map(tuple, held.to_numpy()) if k in ceil.index]
        if keys:
            parts.append(f"{ev} {ceil.loc[keys].mean():.3f}")
    return (
        "Noise ceiling (the mean Spearman a model knowing every true speedup would reach against these "
        f"measurements, given each record's CI; `noise_ceiling`): {', '.join(parts)}. The gap between it and the "
        "table is the model's, not the measurements'."
    )
