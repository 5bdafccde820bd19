"""Which embedding should the surrogate read? Its modalities side by side on kernels it never saw.

    python -m experiments.surrogate_quality [--seeds 2] [--members 5] [--jobs 2]

The encoder gives three embeddings of an IR: the text transformer's, the graph network's, and
their fusion (trained only by the program-identity loss). The surrogate reads one of them
(`autotune.surrogate.scorer.MODALITY`). This puts each beside the others, with the shipped
recipe otherwise unchanged (boosted trees on the embedding of the tuned region reduced to
principal components, the region's IR opcode counts, knob and context features): the
pre-trained text, graph and fused embeddings, a randomly initialised encoder's embedding of each,
IR counts without any embedding, and knob and context features only.

The evaluation is `experiments.transfer`'s, on the same data, folds and seeds (one home for
leave-out evaluation): each generator template held out whole, and the suite kernels held out
in folds, never letting a held-out program or its template siblings into training.

Writes results/surrogate_quality.md and results/surrogate_quality.csv (one row per variant,
seed and held-out workload).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from autotune.surrogate.scorer import MODALITY
from autotune.surrogate.train import DEFAULT_TRAINING, db_digest
from experiments import transfer
from experiments.ceiling import ceiling_line
from experiments.provenance import ROOT, git_commit, machine_line, now, weights_digest
from experiments.report import markdown_table
from experiments.transfer import Variant, feature_key

OTHERS = [m for m in ("text", "graph", "fused") if m != MODALITY]
VARIANTS = [
    Variant(f"pre-trained {MODALITY} (shipped)", feature_key()),
    *[Variant(f"pre-trained {m}", feature_key(modality=m)) for m in OTHERS],
    Variant(f"random-init {MODALITY}", feature_key("random")),
    *[Variant(f"random-init {m}", feature_key("random", modality=m)) for m in OTHERS],  # each modality's control
    Variant("IR counts + knobs, no embedding", feature_key(), columns="counts"),
    Variant("knobs + context only", feature_key(), columns="knobs"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default=DEFAULT_TRAINING, help="collect CSVs, comma-separated")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--members", type=int, default=5)
    ap.add_argument("--suite-folds", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=1, help="folds fitted at once (processes; the numbers do not change)")
    ap.add_argument("--out", default=str(ROOT / "results"))
    a = ap.parse_args()
    torch.set_num_threads(1)
    digest = db_digest(a.db)  # hashed as read: a collection may be appending while this runs
    df = transfer.load(a.db)
    X = transfer.matrices(df, {v.features for v in VARIANTS})
    res, pooled = transfer.run(df, X, a.seeds, 0, a.members, a.suite_folds, a.jobs, VARIANTS)
    out = Path(a.out)
    res.to_csv(out / "surrogate_quality.csv", index=False)
    table = transfer.summary(res, pooled, VARIANTS)
    cmd = f"python -m experiments.surrogate_quality --seeds {a.seeds} --members {a.members}"
    cmd += f" --jobs {a.jobs}" if a.jobs > 1 else ""
    lines = [
        "# Surrogate quality: which of the encoder's embeddings ranks configurations of unseen kernels",
        "",
        f"Command: `{cmd}`  ",
        f"Date: {now()}; commit {git_commit()}; machine: {machine_line()}; encoder weights {weights_digest()[:16]}; "
        f"data sha256 {digest} (`{a.db.replace(str(ROOT) + '/', '')}`); seeds 0-{a.seeds - 1}, "
        f"{a.members} members.",
        "",
        *transfer.database_lines(df, a.db),
        "",
        "Every row is the shipped recipe (boosted trees; the embedding of the tuned region reduced to principal "
        "components, the region's IR opcode counts, knob and context features) with one thing changed. Folds and "
        "columns are those of `results/transfer.md`: `template …` holds each generator template out whole, "
        f"`kernel …` the suite kernels ({a.suite_folds} folds); `spearman` is the rank correlation of predicted and "
        "measured log speedup within a held-out workload, the default included; `pick` the measured speedup of the "
        "model's first choice over the best measured; `sd`: the standard deviation of the seeds' mean Spearman.",
        "",
        markdown_table(table),
        "",
        ceiling_line(df, res, transfer.MIN_ROWS),
    ]
    (out / "surrogate_quality.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
