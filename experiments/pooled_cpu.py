"""Should a surrogate for one CPU learn from the other CPUs' records too? (issue 13: the database
grows on whichever machine a session is given)

    python -m experiments.pooled_cpu [--target CPU] [--seeds 2] [--members 3] [--jobs 2]

The shipped recipe (boosted trees on the pre-trained region embedding, IR counts, knobs and
context; `experiments.transfer`'s first variant) on `experiments.transfer`'s folds (generator
templates held out whole, suite kernels in 5 folds, no held-out program or template sibling in
training), scored only on the target CPU's records (default: this machine's) of the held-out
workloads, each with its default at 1.0x. Trained on the other kernels' records of
* `target`: the target CPU alone (what `autotune train` learns from when this CPU has the most);
* `other`: the other CPUs alone (a surrogate carried to a new machine);
* `pooled`: every CPU;
* `pooled, cut`: every CPU, cut at random to as many records as `target` has, so a gain of
  pooling is told apart from a gain of more records.

Records measured on a slowed machine are trained on and not scored, as in `experiments.transfer`.
Writes results/pooled_cpu.md and results/pooled_cpu.csv (one row per variant, seed and workload).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import torch

from autotune import machine
from autotune.errors import UserError
from autotune.surrogate.train import DEFAULT_TRAINING, MIN_RECORDS, db_digest
from experiments.provenance import ROOT, git_commit, machine_line, now, weights_digest
from experiments.report import markdown_table
from experiments.transfer import ALL_CPUS, Variant, load, matrices, run, summary

VARIANTS = [
    Variant("target: the target CPU's records", "pretrained-region", cpus="target"),
    Variant("other: the other CPUs' records", "pretrained-region", cpus="other"),
    Variant("pooled: every CPU's records", "pretrained-region", cpus="all"),
    Variant("pooled, cut to the target's count", "pretrained-region", cpus="equal"),
]


def counts(df: pd.DataFrame) -> pd.DataFrame:
    """Usable records (not anchors) and workloads per CPU and kernel set: what each variant can draw on."""
    measured = df[~df["anchor"]]
    out = measured.groupby(["cpu_model", "kernel_set"]).agg(
        records=("kernel", "size"),
        kernels=("kernel", "nunique"),
        slowed=("slowed", "sum"),
    )
    return out.reset_index()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default=DEFAULT_TRAINING, help="collect CSVs, comma-separated")
    ap.add_argument("--target", default=None, help="the CPU whose records are scored (default: this machine's)")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--members", type=int, default=3)
    ap.add_argument("--suite-folds", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=1, help="folds fitted at once (processes; the numbers do not change)")
    ap.add_argument("--out", default=str(ROOT / "results" / "pooled_cpu"), help="writes OUT.md and OUT.csv")
    a = ap.parse_args()
    torch.set_num_threads(1)
    target = a.target or machine.current().cpu_model
    digest = db_digest(a.db)
    df = load(a.db, cpu_model=ALL_CPUS)
    held = counts(df)
    mine = int(held.loc[held["cpu_model"] == target, "records"].sum())
    if mine < MIN_RECORDS or held["cpu_model"].nunique() < 2:
        raise UserError(
            f"{a.db}: {mine} usable records of {target} among {held['cpu_model'].nunique()} CPUs; "
            "this compares a CPU's records with others': name one with --target"
        )
    X = matrices(df, {"pretrained-region"})
    res, pooled = run(df, X, a.seeds, 60, a.members, a.suite_folds, a.jobs, VARIANTS, target=target)
    out = Path(a.out)
    res.to_csv(out.with_suffix(".csv"), index=False)
    workloads = res.groupby("evaluation")[["kernel", "size"]].apply(lambda g: len(g.drop_duplicates()))
    cmd = f"python -m experiments.pooled_cpu --seeds {a.seeds} --members {a.members}"
    cmd += f" --jobs {a.jobs}" if a.jobs > 1 else ""
    cmd += f" --target '{a.target}'" if a.target else ""
    lines = [
        "# Pooled CPUs: should a surrogate learn from other CPUs' records too?",
        "",
        f"Command: `{cmd}`  ",
        f"Date: {now()}; commit {git_commit()}; machine: {machine_line()}; encoder weights "
        f"{weights_digest()[:16]}; data sha256 {digest} (`{a.db.replace(str(ROOT) + '/', '')}`); "
        f"ensemble seeds 0-{a.seeds - 1}, {a.members} members.  ",
        f"Target CPU (scored): {target}.",
        "",
        "Usable records (latest clean one per configuration and CPU; `slowed`: measured on a slowed machine, "
        "trained on, not scored):",
        "",
        markdown_table(held),
        "",
        f"Scored: the target CPU's records of {workloads.get('template', 0)} held-out generated workloads "
        f"(templates held out whole) and {workloads.get('kernel', 0)} held-out suite workloads "
        f"({a.suite_folds} folds of kernels), each with its default at 1.0x. Columns as in "
        "results/transfer.md: Spearman of predicted and measured log speedup within a workload, `pick` the "
        "measured speedup of the first choice over the best measured, `sd` over seeds.",
        "",
        markdown_table(summary(res, pooled, VARIANTS)),
    ]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    try:
        main()
    except UserError as e:
        raise SystemExit(str(e)) from None
