"""Train the shipped surrogate on the measurement database.

    python -m autotune.surrogate.train [--db autotune/data/measurements.csv] [--out autotune/data/surrogate.pt]

Only records measured on this CPU model are used (speedups do not transfer
between machines), and only verified `ok` ones (failures carry no speedup).

`--db` is a collect CSV (the default: the committed training file) or a SQLAlchemy URL of the
measurement database (`autotune.trials.db`, e.g. sqlite:///.autotune/measurements.db); from the
database only suite kernels at a size preset are used (the featurizer rebuilds their IR).
Records whose CI missed its target are kept (`--ci-missed keep`, what the shipped surrogate was
trained with), given less weight (`downweight`) or left out (`drop`).
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
from autotune.surrogate.data import CI_MISSED, Featurizer, is_database, load_records, weights
from autotune.surrogate.features import NAMES
from autotune.surrogate.scorer import MODALITY, WEIGHTS, Surrogate
from autotune.trials.collect import DEFAULT_CSV


def suite_kernels() -> set[str]:
    """The kernels of the suite's manifest: the programs the featurizer can rebuild from a name and a size."""
    from autotune.trials.workloads import KERNEL_SETS, ROOT, manifest_of

    return set(manifest_of(ROOT / KERNEL_SETS["suite"])[0])


def training_set(db: Path | str, cpu_model: str | None = None, ci_missed: str = "keep"):
    """The rows a surrogate for this machine may learn from (`ci_missed="drop"`: only CIs that met the target)."""
    if not is_database(db) and not Path(db).exists():
        raise UserError(f"{db}: no measurement database; collect one with `autotune collect`")
    df = load_records(db)
    keep = (df["status"] == "ok") & (df["verified"] == 1)
    if cpu_model is not None:
        keep &= df["cpu_model"] == cpu_model
    if is_database(db):  # records of `run` and `measure` may be of any program
        keep &= df["kernel"].isin(suite_kernels()) & df["size"].notna()
    if ci_missed == "drop":
        keep &= df["ci_met"].eq(True).fillna(False)
    return df[keep].reset_index(drop=True)


def by_weight(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows repeated in proportion to their weight (1, or 1/k), rows of weight 0 left out.

    Why repetition: the ensemble fits each member on a uniform bootstrap of the rows, so a row
    present k times is drawn k times as often, which is what a weight means there. All weights
    1 return X and y as they are.
    """
    part = w[(w > 0) & (w < 1)]
    if not len(part):
        keep = w > 0
        return (X, y) if keep.all() else (X[keep], y[keep])
    reps = np.rint(w * max(1, round(1 / part.min()))).astype(int)
    return np.repeat(X, reps, 0), np.repeat(y, reps)


def db_digest(db: Path | str) -> str:
    """What the surrogate records of its data: the CSV's bytes, or the database read as that CSV."""
    if not is_database(db):
        return hashlib.sha256(Path(db).read_bytes()).hexdigest()[:16]
    from autotune.trials.db.csvio import collect_csv_text
    from autotune.trials.db.store import Store

    return hashlib.sha256(collect_csv_text(Store.open(str(db), existing=True).rows()).encode()).hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    from encoder.embedding import WEIGHTS as ENCODER_WEIGHTS
    from encoder.embedding import Embedder

    ap = argparse.ArgumentParser(prog="python -m autotune.surrogate.train", description=__doc__.split("\n")[0])
    ap.add_argument("--db", default=str(DEFAULT_CSV), help="a collect CSV (default) or a measurement database URL")
    ap.add_argument("--out", default=str(WEIGHTS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--modality", default=MODALITY, choices=("fused", "text", "graph"), help="encoder embedding used")
    ap.add_argument(
        "--ci-missed", default="keep", choices=CI_MISSED, help="records whose CI missed its target (default keep)"
    )
    ap.add_argument("--ci-missed-weight", type=float, default=0.5, help="their weight with downweight (default 0.5)")
    a = ap.parse_args(argv)
    try:
        if not 0 < a.ci_missed_weight <= 1:
            raise UserError(f"--ci-missed-weight {a.ci_missed_weight:g}: give a weight above 0 and at most 1")
        db = a.db if is_database(a.db) else Path(a.db)
        df = training_set(db, machine.current().cpu_model, a.ci_missed)
        if len(df) < 20:
            raise UserError(f"{a.db}: {len(df)} usable records on this machine; collect more (`autotune collect`)")
        fz = Featurizer(Embedder(cache_dir=Path(".encoder-cache"), modality=a.modality))
        df = df[fz.current(df)].reset_index(drop=True)
        X, y = by_weight(fz.database(df), df["log_speedup"].to_numpy(), weights(df, a.ci_missed, a.ci_missed_weight))
        sur = Surrogate.train(X, X[:, -len(NAMES) :], y, seed=a.seed, epochs=a.epochs)
        sur.meta.update(
            {
                "records": int(len(df)),
                "kernels": sorted(df["kernel"].unique().tolist()),
                "db_sha256": db_digest(db),
                "encoder_sha256": hashlib.sha256(ENCODER_WEIGHTS.read_bytes()).hexdigest()[:16],
                "cpu_model": machine.current().cpu_model,
                "trained_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
                "seed": a.seed,
                "modality": a.modality,
                "epochs": a.epochs,
                "log_speedup_mean": float(np.mean(y)),
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
