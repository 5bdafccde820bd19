"""Train the shipped surrogate on the measurement database.

    python -m autotune.surrogate.train [--db autotune/data/generated.csv,autotune/data/measurements.csv]

Records of every CPU are used by default (`--cpu-model` keeps one CPU's; results/pooled_cpu.md
measures why), their CPUs kept in the surrogate's meta; only verified `ok` ones (failures carry no speedup), and only
of kernels the featurizer can rebuild from a name (the suite's and the generator's,
`Workload.named`): a record of a user's own program from `autotune run` names a file
that may be gone. Every workload also gets its default configuration as an anchor at
speedup 1 (`data.with_anchors`). The prior is a bootstrap ensemble over workloads, of boosted
trees (`--model boosted`, the default: they rank held-out kernels better, results/transfer.md)
or of MLPs (`--model mlp`, which also learn each workload's order through a ranking loss).

`--db` is one or more collect CSVs (comma-separated) or a SQLAlchemy URL of the measurement
database (`autotune.trials.db`, e.g. sqlite:///.autotune/measurements.db).
Records whose CI missed its target are kept (`--ci-missed keep`), given less weight
(`downweight`) or left out (`drop`). Records measured on a slowed machine (`slowed`) are marked,
kept for training, and not scored by the transfer experiment.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import sys
from pathlib import Path

import numpy as np

from autotune import machine
from autotune.errors import UserError
from autotune.surrogate.data import CI_MISSED, Featurizer, is_database, load_records, weights, with_anchors
from autotune.surrogate.features import NAMES
from autotune.surrogate.scorer import DEFAULT_MODEL, MODALITY, MODELS, WEIGHTS, Surrogate
from autotune.trials.collect import DATA_DIR, DEFAULT_CSV
from autotune.trials.quality import latest_clean, slowed

# the committed training files: the generator's kernels, then the suite's
DEFAULT_TRAINING = f"{DATA_DIR / 'generated.csv'},{DEFAULT_CSV}"


def known_kernels() -> set[str]:
    """The kernels of the suite's and the generator's manifests: those the featurizer can rebuild by name."""
    from autotune.trials.workloads import KERNEL_SETS, ROOT, manifest_of

    out: set[str] = set()
    for folder in KERNEL_SETS.values():
        if (ROOT / folder / "manifest.json").is_file():
            out |= set(manifest_of(ROOT / folder)[0])
    return out


def training_set(db: Path | str, cpu_model: str | None = None, ci_missed: str = "keep"):
    """The rows a surrogate for this machine may learn from (`ci_missed="drop"`: only CIs that met the target).

    `db`: a collect CSV, several comma-separated, or a measurement database URL.
    """
    import pandas as pd

    sources = [db] if is_database(db) else [Path(p) for p in str(db).split(",") if p.strip()]
    for src in sources:
        if not is_database(src) and not Path(src).exists():
            raise UserError(f"{src}: no measurement database; collect one with `autotune collect`")
    df = pd.concat([load_records(src) for src in sources], ignore_index=True)
    keep = (df["status"] == "ok") & (df["verified"] == 1)
    if cpu_model is not None:
        keep &= df["cpu_model"] == cpu_model
    keep &= df["kernel"].isin(known_kernels()) & df["size"].notna()  # `run` and `measure` record any program
    if ci_missed == "drop":
        keep &= df["ci_met"].eq(True).fillna(False)
    df = df[keep].reset_index(drop=True)
    df["slowed"] = slowed(df)
    return latest_clean(df)


MIN_RECORDS = 20  # fewer usable records of the CPU learned from than this: refused


CPU_SEPARATOR = "; "  # between the CPU names of a surrogate trained on several (meta "cpu_model")


def machine_records(db: Path | str, cpu_model: str | None = None, ci_missed: str = "keep", say=print):
    """`training_set` of every CPU (default) or of `cpu_model` alone. `attrs["cpu_model"]` names the CPUs
    learned from, most records first, joined by CPU_SEPARATOR; `say` is told when this machine is not
    among them.

    Why every CPU by default: speedups of one configuration on two CPUs agree closely, not exactly
    (results/cross_cpu.md: Spearman 0.85 against 0.92 for two measurements on one), and scored on one
    CPU's records of held-out kernels, trees trained on every CPU's records rank as well as on that CPU's
    alone for the suite and better for held-out generator templates; the other CPU's alone rank worse
    (results/pooled_cpu.md). A configuration measured on both is learned from twice, once per CPU.
    `--cpu-model` keeps one CPU's records; which CPUs it learned from is in the surrogate's meta, and
    `autotune predict` says when this machine is not among them.
    """
    df = training_set(db, None, ci_missed)
    counts = df["cpu_model"].value_counts()
    held = ", ".join(f"{n} of {c!r}" for c, n in counts.items()) or "none"
    if cpu_model is not None:
        if counts.get(cpu_model, 0) < MIN_RECORDS:
            raise UserError(
                f"{db}: {counts.get(cpu_model, 0)} usable records of {cpu_model} (it holds {held}); "
                "collect more with `autotune collect` or name another CPU with --cpu-model"
            )
        df = df[df["cpu_model"] == cpu_model].reset_index(drop=True)
        counts = counts[[cpu_model]]
    elif len(df) < MIN_RECORDS:
        raise UserError(f"{db}: {len(df)} usable records (at least {MIN_RECORDS}); run `autotune collect`")
    here = machine.current().cpu_model
    if here not in counts:
        say(f"{db}: learning from records of {held if cpu_model is None else cpu_model}, none of this machine ({here})")
    df.attrs["cpu_model"] = CPU_SEPARATOR.join(map(str, counts.index))
    return df


def fit_surrogate(
    df,
    featurizer: Featurizer,
    seed: int = 0,
    epochs: int = 200,
    ci_missed: str = "keep",
    ci_missed_weight: float = 0.5,
    rank: float = 1.0,
    model: str = DEFAULT_MODEL,
) -> Surrogate:
    """The surrogate of a training set (`training_set` rows whose space still expresses them).

    The one recipe the trainer and the experiments share: every workload's default as an anchor,
    weights for records whose CI missed, groups by workload for the ranking loss and the bootstrap.
    """
    df = with_anchors(df, featurizer)
    X = featurizer.database(df)
    y = df["log_speedup"].to_numpy(float)
    w = weights(df, ci_missed, ci_missed_weight)
    groups = (df["kernel"] + "@" + df["size"]).to_numpy()
    sur = Surrogate.train(X, X[:, -len(NAMES) :], y, seed, model, groups, w, epochs, rank, tail=featurizer.tail)
    sur.meta.update(
        {
            "records": int((~df["anchor"]).sum()),
            "kernels": sorted(df["kernel"].unique().tolist()),
            **({"rank": rank, "epochs": epochs} if model == "mlp" else {}),
            "region": featurizer.region,
            "log_speedup_mean": float(np.mean(y)),
            "features": list(NAMES),  # what its knob columns mean (Surrogate.for_features checks them)
        }
    )
    return sur


def db_digest(db: Path | str) -> str:
    """What the surrogate records of its data: the CSVs' bytes, or the database read as that CSV."""
    h = hashlib.sha256()
    if is_database(db):
        from autotune.trials.db.csvio import collect_csv_text
        from autotune.trials.db.store import Store

        h.update(collect_csv_text(Store.open(str(db), existing=True).rows()).encode())
    else:
        for p in str(db).split(","):
            h.update(Path(p.strip()).read_bytes())
    return h.hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    from encoder.embedding import WEIGHTS as ENCODER_WEIGHTS
    from encoder.embedding import Embedder

    ap = argparse.ArgumentParser(prog="python -m autotune.surrogate.train", description=__doc__.split("\n")[0])
    ap.add_argument("--db", default=DEFAULT_TRAINING, help="collect CSVs, comma-separated, or a database URL")
    ap.add_argument("--out", default=str(WEIGHTS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--cpu-model",
        default=None,
        help="learn from the records of this CPU alone (default: every CPU's, results/pooled_cpu.md)",
    )
    ap.add_argument("--model", default=DEFAULT_MODEL, choices=MODELS, help="the prior's family (default boosted trees)")
    ap.add_argument("--epochs", type=int, default=200, help="the MLP's training epochs (--model mlp)")
    ap.add_argument("--modality", default=MODALITY, choices=("fused", "text", "graph"), help="encoder embedding used")
    ap.add_argument(
        "--ci-missed", default="keep", choices=CI_MISSED, help="records whose CI missed its target (default keep)"
    )
    ap.add_argument("--ci-missed-weight", type=float, default=0.5, help="their weight with downweight (default 0.5)")
    a = ap.parse_args(argv)
    try:
        if not 0 < a.ci_missed_weight <= 1:
            raise UserError(f"--ci-missed-weight {a.ci_missed_weight:g}: give a weight above 0 and at most 1")
        df = machine_records(a.db, a.cpu_model, a.ci_missed)
        cpu = df.attrs["cpu_model"]
        fz = Featurizer(Embedder(cache_dir=Path(".encoder-cache"), modality=a.modality))
        df = df[fz.current(df)].reset_index(drop=True)
        sur = fit_surrogate(df, fz, a.seed, a.epochs, a.ci_missed, a.ci_missed_weight, model=a.model)
        sur.meta.update(
            {
                "db_sha256": db_digest(a.db),
                "encoder_sha256": hashlib.sha256(ENCODER_WEIGHTS.read_bytes()).hexdigest()[:16],
                "cpu_model": cpu,  # the records' CPUs, most records first, joined by CPU_SEPARATOR
                "trained_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
                "seed": a.seed,
                "modality": a.modality,
            }
        )
        if a.ci_missed != "keep":  # the default leaves the record as it always was
            sur.meta.update({"ci_missed": a.ci_missed, "ci_missed_weight": a.ci_missed_weight})
        sur.save(Path(a.out))
        print(f"{a.out}: surrogate trained on {len(df)} records of {df['kernel'].nunique()} kernels")
        return 0
    except UserError as exc:
        print(f"autotune: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
