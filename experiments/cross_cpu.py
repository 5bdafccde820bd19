"""Do speedups measured on one CPU hold on another? The configurations recorded on both, compared.

    python -m experiments.cross_cpu [--db autotune/data/generated.csv,autotune/data/measurements.csv]

Why: two machines sold under the one model name "AMD EPYC" (family 25 or 26 unrecorded before
2026-12-02) ran the same programs' baselines a third apart, and the database mixed their records
under that name. Whether a surrogate trained on one CPU's records may guide a search on another
depends on whether the two rank a workload's configurations alike. `autotune collect --remeasure`
measures recorded configurations again on the machine it runs on; this compares the two records.

Per workload with at least MIN_SHARED configurations measured on both CPUs (the record each trainer
learns from, `autotune.trials.quality.latest_clean`, and neither slowed): the Spearman of the log
speedups, the median absolute difference of the speedups, how often the two put a configuration
on the same side of 1 where both CIs exclude 1, and the ratio of the baseline times. Beside each
Spearman: the one two measurements on one CPU would reach given these records' CIs (`expected`: a
simulation as `experiments.ceiling.noise_ceiling`'s, with the noise of both records), so a gap
below it is the CPUs' difference, not the noise's. It measures nothing: it reads the files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from autotune.surrogate.train import DEFAULT_TRAINING, db_digest, training_set
from experiments.provenance import ROOT, git_commit, now
from experiments.report import markdown_table, spearman

MIN_SHARED = 5  # configurations of a workload on both CPUs before its Spearman is reported
OUT = ROOT / "results" / "cross_cpu"


def pairs(df: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """One row per configuration measured cleanly on both CPU `a` and CPU `b`: both records' numbers."""
    keys = ["kernel", "size", "config_key"]
    cols = [*keys, "speedup", "ci_low", "ci_high", "baseline_s"]
    clean = df[~df["slowed"]]
    left = clean[clean["cpu_model"] == a][cols]
    right = clean[clean["cpu_model"] == b][cols]
    return left.merge(right, on=keys, suffixes=("_a", "_b"))


def _sd(lo: pd.Series, hi: pd.Series) -> np.ndarray:
    return (np.log(hi.astype(float)) - np.log(lo.astype(float))).to_numpy() / (2 * 1.96)


def compare(p: pd.DataFrame, draws: int = 50, seed: int = 0) -> pd.DataFrame:
    """Per workload of `pairs`: n, Spearman, what two measurements on one CPU would reach, and the rest."""
    rng = np.random.default_rng(seed)
    rows = []
    for (kernel, size), g in p.groupby(["kernel", "size"], sort=True):
        if len(g) < MIN_SHARED:
            continue
        ya, yb = np.log(g["speedup_a"].astype(float)).to_numpy(), np.log(g["speedup_b"].astype(float)).to_numpy()
        ea, eb = _sd(g["ci_low_a"], g["ci_high_a"]), _sd(g["ci_low_b"], g["ci_high_b"])
        var = ya.var(ddof=1)
        shrink = np.sqrt(max(0.0, 1 - float(np.mean(ea**2)) / var)) if var > 0 else 0.0
        truth = ya.mean() + (ya - ya.mean()) * shrink
        sims = [spearman(truth + rng.normal(0, ea), truth + rng.normal(0, eb)) for _ in range(draws)]
        sims = [x for x in sims if np.isfinite(x)]
        decided = ((g["ci_low_a"] > 1) | (g["ci_high_a"] < 1)) & ((g["ci_low_b"] > 1) | (g["ci_high_b"] < 1))
        same_side = (np.sign(ya) == np.sign(yb))[decided.to_numpy()]
        rows.append(
            {
                "kernel": kernel,
                "size": size,
                "configs": len(g),
                "spearman": spearman(ya, yb),
                "expected": float(np.mean(sims)) if sims else np.nan,
                "median |Δ speedup|": float(np.median(np.abs(np.exp(ya) - np.exp(yb)))),
                "same side of 1": float(same_side.mean()) if len(same_side) else np.nan,
                "decided": int(decided.sum()),
                "baseline b/a": float(np.median(g["baseline_s_b"].astype(float) / g["baseline_s_a"].astype(float))),
            }
        )
    cols = ["kernel", "size", "configs", "spearman", "expected", "median |Δ speedup|", "same side of 1", "decided"]
    return pd.DataFrame(rows, columns=[*cols, "baseline b/a"])


def report(res: pd.DataFrame, p: pd.DataFrame, a: str, b: str, db: str, cmd: str) -> str:
    ok = res.dropna(subset=["spearman"])
    same = (ok["same side of 1"] * ok["decided"]).sum() / max(1, ok["decided"].sum())
    overall = (
        f"Over {len(ok)} workloads ({int(ok['configs'].sum())} configurations on both): mean Spearman "
        f"{ok['spearman'].mean():.3f} against {ok['expected'].mean():.3f} expected of two measurements on one CPU; "
        f"median |Δ speedup| {np.median(np.abs(p['speedup_a'].astype(float) - p['speedup_b'].astype(float))):.3f}; "
        f"same side of 1 where both CIs decide: {same:.3f} "
        f"of {int(ok['decided'].sum())}; baseline time b/a (median over workloads) {ok['baseline b/a'].median():.3f}."
        if len(ok)
        else f"No workload has {MIN_SHARED} configurations measured cleanly on both CPUs yet."
    )
    return "\n".join(
        [
            "# Cross-CPU: do speedups measured on one CPU hold on another?",
            "",
            f"Command: `{cmd}`  ",
            f"Date: {now()}; commit {git_commit()}; data sha256 {db_digest(db)} (`{db}`); nothing timed here.  ",
            f"CPU a: {a}; CPU b: {b}.",
            "",
            overall,
            "",
            "`expected`: the Spearman two measurements of these configurations on one CPU would reach, given "
            "both records' CIs (simulated as `experiments.ceiling.noise_ceiling`). Below it, the CPUs disagree "
            "by more than the measurements' noise.",
            "",
            markdown_table(res.round(3)) if len(res) else "",
            "",
        ]
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", default=DEFAULT_TRAINING, help="collect CSVs, comma-separated")
    ap.add_argument("--out", default=str(OUT), help="writes OUT.md and OUT.csv")
    a = ap.parse_args()
    df = training_set(a.db)
    cpus = df["cpu_model"].value_counts()
    if len(cpus) < 2:
        raise SystemExit(f"{a.db}: records of {len(cpus)} CPU; measure some again on another (collect --remeasure)")
    first, second = str(cpus.index[0]), str(cpus.index[1])
    p = pairs(df, first, second)
    res = compare(p)
    db = a.db.replace(str(ROOT) + "/", "")
    cmd = "python -m experiments.cross_cpu" + ("" if a.db == DEFAULT_TRAINING else f" --db {db}")
    out = Path(a.out)
    res.to_csv(out.with_suffix(".csv"), index=False)
    out.with_suffix(".md").write_text(report(res, p, first, second, db, cmd))
    print(out.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
