"""The transfer experiment's report: what data stands behind the table, and the table itself.

Shared by `experiments.transfer` and `experiments.surrogate_quality` (the same folds and summary).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from autotune.trials.quality import SLOWED


def database_lines(df: pd.DataFrame, db: str) -> list[str]:
    """What the measurements behind the table are: records, kernels, templates, CI spread, hours."""
    measured = df[~df["anchor"]]
    half = (measured["ci_high"].astype(float) - measured["ci_low"].astype(float)) / 2 / measured["speedup"]
    t = pd.to_datetime(pd.concat([pd.read_csv(p, usecols=["time_utc"]) for p in db.split(",")])["time_utc"])
    gaps = t.sort_values().diff().dt.total_seconds()
    hours = float(gaps[gaps < 600].sum()) / 3600  # gaps over 10 minutes: the collection was stopped
    slow = int(measured["slowed"].sum()) if "slowed" in measured else 0
    by_set = measured.groupby("kernel_set").agg(records=("kernel", "size"), kernels=("kernel", "nunique"))
    return [
        f"Training data: {len(measured)} verified records of {measured['kernel'].nunique()} kernels "
        f"({', '.join(f'{s}: {r.records} records of {r.kernels} kernels' for s, r in by_set.iterrows())}), "
        f"{measured.loc[measured['kernel_set'] == 'generated', 'template'].nunique()} generator templates; "
        f"median CI half-width {100 * half.median():.2f}%, {100 * (half <= 0.02).mean():.0f}% within ±2%; "
        f"about {hours:.1f} h of collection. Plus one anchor per workload (the default at 1.0x). "
        f"{slow} of the records were measured on a slowed machine (their baseline ran over "
        f"{SLOWED:g}x its workload's usual time, `autotune.surrogate.train.slowed`): trained on, not scored.",
    ]


def summary(res: pd.DataFrame, pooled: pd.DataFrame, variants: list[Any]) -> pd.DataFrame:
    """One row per variant (in the order of `variants`, each with a `name`): means over workloads, then seeds.

    Beside the overall suite-kernel columns, the same split by problem size: a SMALL region runs
    for milliseconds, where a thread's start-up decides, a MEDIUM one for a tenth of a second.
    """
    order = [v.name for v in variants if v.name in set(res["variant"])]
    per_seed = res.groupby(["variant", "evaluation", "seed"]).agg(
        spearman=("spearman", "mean"), pick=("pick", "mean"), cover1=("cover1", "mean"), cover2=("cover2", "mean")
    )
    wide = per_seed.groupby(["variant", "evaluation"]).mean().unstack("evaluation")
    wide.columns = [f"{ev} {m}" for m, ev in wide.columns]
    # the spread over seeds, so a difference between two rows can be read against it
    spread = per_seed["spearman"].groupby(["variant", "evaluation"]).std(ddof=1).unstack("evaluation")
    for ev in ("template", "kernel"):
        wide[f"{ev} spearman sd"] = spread[ev] if ev in spread else float("nan")
    pool = pooled.groupby(["variant", "seed"])["pooled_spearman"].mean().groupby("variant").mean()
    wide["template pooled spearman"] = pool
    kern = res[res["evaluation"] == "kernel"]
    by_size = kern.groupby(["variant", "size", "seed"])["spearman"].mean().groupby(["variant", "size"]).mean()
    sizes = sorted(set(kern["size"]), key=("MINI", "SMALL", "MEDIUM", "LARGE").index)
    for size in sizes:
        wide[f"kernel spearman {size}"] = by_size.xs(size, level="size")
    cols = [
        "template spearman",
        "template spearman sd",
        "template pooled spearman",
        "template pick",
        "kernel spearman",
        "kernel spearman sd",
        *[f"kernel spearman {size}" for size in sizes],
        "kernel pick",
        "template cover1",
        "template cover2",
    ]
    return wide.loc[order, cols].round(3).reset_index()
