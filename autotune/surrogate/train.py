"""Train the shipped surrogate on the measurement database.

    python -m autotune.surrogate.train [--db autotune/data/measurements.csv] [--out autotune/data/surrogate.pt]

Only records measured on this CPU model are used (speedups do not transfer
between machines), and only verified `ok` ones (failures carry no speedup).
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
from autotune.surrogate.data import Featurizer, load_records
from autotune.surrogate.features import NAMES
from autotune.surrogate.scorer import MODALITY, WEIGHTS, Surrogate
from autotune.trials.collect import DEFAULT_CSV


def training_set(db: Path, cpu_model: str | None = None):
    """The database rows a surrogate for this machine may learn from."""
    if not db.exists():
        raise UserError(f"{db}: no measurement database; collect one with `autotune collect`")
    df = load_records(db)
    keep = (df["status"] == "ok") & (df["verified"] == 1)
    if cpu_model is not None:
        keep &= df["cpu_model"] == cpu_model
    return df[keep].reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    from encoder.embedding import WEIGHTS as ENCODER_WEIGHTS
    from encoder.embedding import Embedder

    ap = argparse.ArgumentParser(prog="python -m autotune.surrogate.train", description=__doc__.split("\n")[0])
    ap.add_argument("--db", default=str(DEFAULT_CSV))
    ap.add_argument("--out", default=str(WEIGHTS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--modality", default=MODALITY, choices=("fused", "text", "graph"), help="encoder embedding used")
    a = ap.parse_args(argv)
    try:
        df = training_set(Path(a.db), machine.current().cpu_model)
        if len(df) < 20:
            raise UserError(f"{a.db}: {len(df)} usable records on this machine; collect more (`autotune collect`)")
        fz = Featurizer(Embedder(cache_dir=Path(".encoder-cache"), modality=a.modality))
        df = df[fz.current(df)].reset_index(drop=True)
        X = fz.database(df)
        y = df["log_speedup"].to_numpy()
        sur = Surrogate.train(X, X[:, -len(NAMES) :], y, seed=a.seed, epochs=a.epochs)
        sur.meta.update(
            {
                "records": int(len(df)),
                "kernels": sorted(df["kernel"].unique().tolist()),
                "db_sha256": hashlib.sha256(Path(a.db).read_bytes()).hexdigest()[:16],
                "encoder_sha256": hashlib.sha256(ENCODER_WEIGHTS.read_bytes()).hexdigest()[:16],
                "cpu_model": machine.current().cpu_model,
                "trained_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
                "seed": a.seed,
                "modality": a.modality,
                "epochs": a.epochs,
                "log_speedup_mean": float(np.mean(y)),
            }
        )
        sur.save(Path(a.out))
        print(f"{a.out}: surrogate trained on {len(df)} records of {df['kernel'].nunique()} kernels")
        return 0
    except UserError as exc:
        print(f"autotune: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
