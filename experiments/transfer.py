"""Does the surrogate transfer to kernels it never saw? (issue 13, part 4)

    python -m experiments.transfer [--seeds 2] [--epochs 60] [--members 5]

Data: the committed collect CSVs (`autotune/data/generated.csv`: the generator's kernels;
`autotune/data/measurements.csv`: the suite), verified `ok` records of every CPU (`--cpu-model`: one CPU's), each
workload (kernel and size) with its default configuration added at speedup 1 (the anchor every
speedup is measured against; `autotune.surrogate.data.with_anchors`).

Two evaluations, both through `autotune.surrogate.groups.folds`, which never lets a held-out
kernel's program (source hash) or, by template, any of its template siblings into training:
* leave-template-out: each generator template held out whole (12 folds), trained on the
  other templates and the whole suite;
* leave-kernel-out: the suite kernels in `--suite-folds` folds, trained on the other suite
  kernels and every generated kernel.

Scored are the records not measured on a slowed machine (`autotune.surrogate.train.slowed`: a
baseline that ran 30% over its usual time says other work took a core, which makes a second thread
look worse than it is); those records stay in training, as in the shipped surrogate's.
Per held-out workload: the Spearman correlation of predicted and measured log speedups (the
default included: "is this better than doing nothing" is part of the order), and `pick`, the
measured speedup of the record the model ranks first divided by the best measured one. Per
held-out template also the pooled Spearman over all its records. `cover1`/`cover2`: the share
of held-out records whose measured log speedup lies within one / two ensemble spreads of the
prediction (calibration: a Gaussian would give 0.68 / 0.95).

Variants, same folds and seeds: the surrogate as shipped (a bootstrap ensemble of boosted trees on
the pre-trained encoder's embedding of the tuned region, reduced to principal components, the
region's IR opcode counts, the knob and context features), and ablations: a random-init encoder,
IR counts without the embedding, the embedding without IR counts, no OpenMP profile of the
baseline (`autotune.measure.profile`), the whole module embedded, knob and context features only,
knob features without the workload context, and the shipped recipe trained only on the held-out
kernels' own set (does the generator's data help the suite, and back?). Then the MLP ensemble the
trees replaced (autotune.surrogate.model): with its ranking loss, without, random-init, knobs only.

Writes results/transfer.md and results/transfer.csv (one row per variant, seed and workload).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from autotune.surrogate.data import Featurizer, with_anchors
from autotune.surrogate.features import CONTEXT, COUNT_NAMES, NAMES, PROFILE
from autotune.surrogate.groups import folds, leaks, with_groups
from autotune.surrogate.scorer import MODALITY, fit_prior
from autotune.surrogate.train import DEFAULT_TRAINING, db_digest, machine_records
from experiments import transfer_report
from experiments.ceiling import ceiling_line
from experiments.cpu_split import cpu_rows, on_cpu
from experiments.provenance import ROOT, git_commit, machine_line, now, weights_digest
from experiments.report import markdown_table, spearman
from experiments.transfer_report import database_lines

MIN_ROWS = 3  # a workload needs this many rows (the anchor included) for a rank correlation


@dataclass(frozen=True)
class Variant:
    name: str
    features: str  # key of the feature matrices
    model: str = "boosted"  # the prior's family (autotune.surrogate.scorer.MODELS)
    rank: float = 1.0  # weight of the MLP's ranking loss (0: pointwise only)
    columns: str = "all"  # all | no-counts | no-profile | counts | knobs | knobs-no-context
    own_set: bool = False  # train only on the held-out kernels' own kernel set (suite or generated)
    objective: str = "huber"  # the trees' loss: huber (pointwise) or a ranking within each workload
    cpus: str = "all"  # with a target CPU (`run(target=)`): all | target | other | equal (all, cut to target's count)


VARIANTS = [
    Variant("shipped: boosted trees, pre-trained, region, IR counts", "pretrained-region"),
    Variant("trees, random-init encoder", "random-region"),
    Variant("trees, IR counts + knobs, no embedding", "pretrained-region", columns="counts"),
    Variant("trees, pre-trained, no IR counts", "pretrained-region", columns="no-counts"),
    Variant("trees, whole module", "pretrained-module"),
    Variant("trees, no OpenMP profile", "pretrained-region", columns="no-profile"),
    Variant("trees, knobs + context only", "pretrained-region", columns="knobs"),
    Variant("trees, knobs only, no context", "pretrained-region", columns="knobs-no-context"),
    Variant("trees, own kernel set only", "pretrained-region", own_set=True),
    Variant("trees, ranking loss (lambdarank within a workload)", "pretrained-region", objective="lambdarank"),
    Variant("trees, ranking loss (rank_xendcg within a workload)", "pretrained-region", objective="rank_xendcg"),
    Variant("MLP: pre-trained, region, IR counts, ranking", "pretrained-region", "mlp"),
    Variant("MLP, no ranking loss", "pretrained-region", "mlp", rank=0.0),
    Variant("MLP, random-init encoder", "random-region", "mlp"),
    Variant("MLP, knobs + context only", "pretrained-region", "mlp", columns="knobs"),
]


ALL_CPUS = "all"  # `load(cpu_model=)`: every CPU's records (experiments.pooled_cpu)


def load(db: str, kernels: set[str] | None = None, cpu_model: str | None = None) -> pd.DataFrame:
    """Training rows (`train.machine_records`: every CPU's, as ALL_CPUS, or `cpu_model`'s alone) whose space
    still expresses them, with anchors and groups; `attrs["cpu_model"]` names the CPUs."""
    df = machine_records(db, None if cpu_model == ALL_CPUS else cpu_model)
    cpu = df.attrs["cpu_model"]
    if kernels is not None:
        df = df[df["kernel"].isin(kernels)].reset_index(drop=True)
    fz = Featurizer(None)  # its spaces serve both the filter and the anchors
    df = df[fz.current(df)].reset_index(drop=True)
    out = with_groups(with_anchors(df, fz))
    out.attrs["cpu_model"] = cpu
    return out


def feature_key(init: str = "pretrained", scope: str = "region", modality: str = MODALITY) -> str:
    """The name of one feature matrix: the encoder's weights, the IR it embeds, the modality it reads.

    The shipped modality is left out of the name ("pretrained-region"), others are in it
    ("pretrained-graph-region"), so `matrices` computes each combination once.
    """
    return f"{init}-{scope}" if modality == MODALITY else f"{init}-{modality}-{scope}"


def parse_key(key: str) -> tuple[str, str, str]:
    """(init, scope, modality) of a `feature_key`."""
    parts = key.split("-")
    return parts[0], parts[-1], parts[1] if len(parts) == 3 else MODALITY


def matrices(df: pd.DataFrame, needed: set[str]) -> dict[str, np.ndarray]:
    """The feature matrices the variants need, computed once each (clang IR cached, embeddings cached)."""
    from encoder.embedding import Embedder, load_model
    from encoder.model import MIREncoder

    cache = ROOT / ".encoder-cache"
    out = {}
    for key in sorted(needed):
        init, scope, modality = parse_key(key)
        if init == "random":
            torch.manual_seed(0)
            emb = Embedder(model=MIREncoder(load_model().cfg).eval(), cache_dir=cache, modality=modality)
        else:
            emb = Embedder(cache_dir=cache, modality=modality)
        fz = Featurizer(emb, region=scope == "region")
        print(f"features {key} ...", flush=True)
        out[key] = fz.database(df)
    return out


def columns(X: np.ndarray, which: str) -> tuple[np.ndarray, int]:
    """The variant's columns of X ([embedding 2e, IR counts 2c, knobs K]) and how many trailing ones
    are not embedding (the trees keep those and reduce the embedding to principal components)."""
    K, C = len(NAMES), 2 * len(COUNT_NAMES)
    knobs = X[:, -K:]
    if which == "all":
        return X, C + K
    if which == "no-counts":
        return np.concatenate([X[:, : -(C + K)], knobs], 1), K
    if which == "counts":
        return X[:, -(C + K) :], C + K
    if which == "knobs":
        return knobs, K
    if which == "no-profile":  # the run of the baseline under the OMPT tool left out
        drop = [X.shape[1] - K + i for i, n in enumerate(NAMES) if n in PROFILE]
        return np.delete(X, drop, 1), C + K - len(drop)
    keep = [i for i, n in enumerate(NAMES) if n not in CONTEXT]
    return knobs[:, keep], len(keep)


def score_workloads(test: pd.DataFrame, mean: np.ndarray, std: np.ndarray) -> list[dict]:
    """Per held-out workload: rank correlation, the pick's share of the best, calibration counts."""
    rows = []
    t = test.assign(pred=mean, std=std)
    for (kernel, size), g in t.groupby(["kernel", "size"], sort=True):
        y = g["log_speedup"].to_numpy(float)
        z = np.abs(g["pred"].to_numpy() - y) / np.maximum(g["std"].to_numpy(), 1e-9)
        best = float(np.exp(y.max()))
        pick = float(np.exp(y[int(np.argmax(g["pred"].to_numpy()))]))
        rows.append(
            {
                "kernel": kernel,
                "size": size,
                "template": g["template"].iloc[0],
                "kernel_set": g["kernel_set"].iloc[0],
                "rows": len(g),
                "spearman": spearman(g["pred"].to_numpy(), y) if len(g) >= MIN_ROWS else float("nan"),
                "pick": pick / best if len(g) >= 2 else float("nan"),
                "cover1": float((z <= 1).mean()),
                "cover2": float((z <= 2).mean()),
            }
        )
    return rows


def run(
    df: pd.DataFrame,
    X: dict[str, np.ndarray],
    seeds: int,
    epochs: int,
    members: int,
    suite_folds: int,
    jobs: int = 1,
    variants: list[Variant] | None = None,
    target: str | None = None,
):
    """Every variant and seed on every fold: per-workload rows and per-template pooled correlations.

    `target`: score only this CPU's records (and the anchors), and let each variant's `cpus` choose
    which CPUs' records it trains on (experiments.pooled_cpu); None scores every record.

    `jobs` > 1 fits folds in that many processes (forked: they share `df` and `X`); each model
    fits on one torch thread either way, so the numbers do not depend on `jobs`.
    """
    generated = sorted(df.loc[df["kernel_set"] == "generated", "template"].unique())
    suite = sorted(df.loc[df["kernel_set"] == "suite", "kernel"].unique())
    plan = [("template", f) for f in folds(df, "template", only=generated)]
    plan += [("kernel", f) for f in folds(df, "kernel", only=suite, k=suite_folds)]
    for by, fold in plan:
        leak = leaks(df, fold, by)
        if leak:  # the split itself is wrong: stop rather than report memory as transfer
            raise SystemExit(f"fold {fold.name}: held-out rows leak into training ({'; '.join(leak)})")
    _SHARED.update(
        df=df, X=X, seeds=seeds, epochs=epochs, members=members, variants=variants or VARIANTS, target=target
    )
    rows, pooled = [], []
    if jobs > 1:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(jobs, mp_context=mp.get_context("fork")) as ex:
            results = list(ex.map(_fold, plan))
    else:
        results = [_fold(p) for p in plan]
    for r, p in results:
        rows += r
        pooled += p
    return pd.DataFrame(rows), pd.DataFrame(pooled)


_SHARED: dict = {}  # what the forked fold workers read (set by `run` before they start)


def _fold(item) -> tuple[list[dict], list[dict]]:
    """Every variant and seed on one fold."""
    by, fold = item
    df, X = _SHARED["df"], _SHARED["X"]
    seeds, epochs, members = _SHARED["seeds"], _SHARED["epochs"], _SHARED["members"]
    torch.set_num_threads(1)
    y = df["log_speedup"].to_numpy(float)
    groups = (df["kernel"] + "@" + df["size"]).to_numpy()
    on_target = on_cpu(df, _SHARED["target"])
    scored = fold.test[~df["slowed"].to_numpy()[fold.test] & on_target[fold.test]]  # slowed: trained on, not scored
    test = df.iloc[scored]
    rows, pooled = [], []
    for v in _SHARED["variants"]:
        Xv, tail = columns(X[v.features], v.columns)
        train = fold.train
        if v.own_set:  # does the other kernel set help? (the generator's kernels the suite's, and back)
            train = train[df["kernel_set"].to_numpy()[train] == test["kernel_set"].iloc[0]]
        for seed in range(seeds):
            rows_cpu = cpu_rows(df, train, on_target, v.cpus, seed)
            prior = fit_prior(
                Xv[rows_cpu],
                y[rows_cpu],
                v.model,
                tail,
                seed,
                members,
                groups[rows_cpu],
                epochs=epochs,
                rank=v.rank,
                objective=v.objective,
            )
            mean, std = prior.predict(Xv[scored])
            for r in score_workloads(test, mean, std):
                rows.append({"evaluation": by, "fold": fold.name, "variant": v.name, "seed": seed, **r})
            if by == "template":
                pooled.append(
                    {
                        "variant": v.name,
                        "seed": seed,
                        "template": fold.name,
                        "pooled_spearman": spearman(mean, y[scored]),
                    }
                )
    print(f"{by} fold {fold.name}: done", flush=True)
    return rows, pooled


def summary(res: pd.DataFrame, pooled: pd.DataFrame, variants: list[Variant] | None = None) -> pd.DataFrame:
    """`transfer_report.summary` of these variants (default VARIANTS)."""
    return transfer_report.summary(res, pooled, variants or VARIANTS)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default=DEFAULT_TRAINING, help="collect CSVs, comma-separated")
    ap.add_argument("--cpu-model", default=None, help="one CPU's records (default: every CPU's)")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--members", type=int, default=5)
    ap.add_argument("--suite-folds", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=1, help="folds fitted at once (processes; the numbers do not change)")
    ap.add_argument("--out", default=str(ROOT / "results"))
    ap.add_argument(
        "--models", default="boosted,mlp", help="the prior families whose variants run (default both: boosted,mlp)"
    )
    a = ap.parse_args()
    models = [m.strip() for m in a.models.split(",") if m.strip()]
    variants = [v for v in VARIANTS if v.model in models]
    if not variants or variants[0] is not VARIANTS[0]:
        raise SystemExit(f"--models {a.models}: give boosted (the shipped family) and optionally mlp")
    torch.set_num_threads(1)
    digest = db_digest(a.db)  # hashed as read: a collection may be appending while this runs
    df = load(a.db, cpu_model=a.cpu_model)
    X = matrices(df, {v.features for v in variants})
    res, pooled = run(df, X, a.seeds, a.epochs, a.members, a.suite_folds, a.jobs, variants)
    out = Path(a.out)
    res.to_csv(out / "transfer.csv", index=False)
    table = summary(res, pooled, variants)
    shipped = VARIANTS[0].name
    per_template = (
        res[(res["variant"] == shipped) & (res["evaluation"] == "template")]
        .groupby("template")[["spearman", "pick"]]
        .mean()
        .join(pooled[pooled["variant"] == shipped].groupby("template")["pooled_spearman"].mean())
        .round(3)
        .reset_index()
    )
    per_kernel = (
        res[(res["variant"] == shipped) & (res["evaluation"] == "kernel")]
        .groupby(["kernel", "size"])[["rows", "spearman", "pick"]]
        .mean()
        .round(3)
        .reset_index()
    )
    cmd = f"python -m experiments.transfer --seeds {a.seeds} --epochs {a.epochs} --members {a.members}"
    cmd += f" --jobs {a.jobs}" if a.jobs > 1 else ""  # the same numbers either way (tests/test_transfer_experiment.py)
    cmd += f" --models {','.join(models)}" if set(models) != {"boosted", "mlp"} else ""
    cmd += f" --cpu-model '{a.cpu_model}'" if a.cpu_model else ""
    lines = [
        "# Transfer: does the surrogate rank configurations of kernels it never saw?",
        "",
        f"Command: `{cmd}`  ",
        f"Date: {now()}; commit {git_commit()}; machine: {machine_line()}; encoder weights {weights_digest()[:16]} "
        f"({MODALITY} modality); data sha256 {digest} (`{a.db.replace(str(ROOT) + '/', '')}`, the records of "
        f"{df.attrs['cpu_model']}); "
        f"ensemble seeds 0-{a.seeds - 1}, {a.members} members, {a.epochs} epochs.",
        "",
        *database_lines(df, a.db),
        "",
        "Columns: `template …`: each generator template held out whole (mean over its workloads; `pooled`: one "
        "rank correlation over all the template's records); `kernel …`: suite kernels held out "
        f"({a.suite_folds} folds); `spearman`: predicted vs measured log speedup within a held-out workload, the "
        "default included (workloads with at least 3 rows; `kernel spearman SMALL`: the SMALL workloads alone); "
        "`pick`: measured speedup of the model's first choice "
        "among the measured rows / the best measured; `cover1`/`cover2`: share of held-out rows within one/two "
        "ensemble spreads (0.68/0.95 would be calibrated). Means over workloads, then over seeds; `sd`: the "
        "standard deviation of the seeds' means (a difference between rows smaller than it is noise).",
        "",
        markdown_table(table),
        "",
        ceiling_line(df[~df["slowed"]], res, MIN_ROWS),
        "",
        f"Per held-out template ({shipped}):",
        "",
        markdown_table(per_template),
        "",
        f"Per held-out suite workload ({shipped}):",
        "",
        markdown_table(per_kernel),
    ]
    (out / "transfer.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:14]))


if __name__ == "__main__":
    main()
