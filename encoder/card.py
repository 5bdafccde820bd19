"""Write encoder/MODEL_CARD.md from a pre-training run: nothing in it is typed by hand."""

from __future__ import annotations

import json
import platform
from pathlib import Path

from encoder.model import MIREncoder, count_parameters

CARD = Path(__file__).parent / "MODEL_CARD.md"
TASKS = ("mlm", "gae", "match")


def _machine() -> str:
    import os

    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {len(os.sched_getaffinity(0))} cores, {platform.system()} {platform.release()}"


def _log_summary(out: Path) -> list[str]:
    recs = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines() if x.strip()]
    if not recs:
        return []
    first, last = recs[:50], recs[-50:]
    rows = ["| task | training loss, first 50 steps | training loss, last 50 steps |", "|---|---|---|"]
    for t in TASKS:
        a = sum(r[t] for r in first) / len(first)
        b = sum(r[t] for r in last) / len(last)
        rows.append(f"| {t} | {a:.3f} | {b:.3f} |")
    return rows


def write(corpus: Path, out: Path, result: dict, cfg) -> None:
    stats = json.loads((corpus / "stats.json").read_text()) if (corpus / "stats.json").exists() else {}
    v = result.get("final_val", {})
    params = count_parameters(MIREncoder(cfg.model))
    lines = [
        "# MIREncoder (autotune re-implementation): model card",
        "",
        "Multi-modal pre-trained embeddings of LLVM IR after Dutta & Jannesari (PACT 2024): a transformer over",
        f"IR tokens and a relational GNN over a PROGRAML-like IR graph, fused into one {cfg.model.embed_dim}-d vector.",
        "",
        "## Reproduce",
        "",
        "    encoder corpus --out build/corpus",
        f"    {result.get('command') or 'encoder pretrain'}",
        "",
        "## Model",
        "",
        f"* Parameters: {params:,} (text transformer {cfg.model.text_layers} layers x {cfg.model.d_model}, "
        f"{cfg.model.heads} heads, windows of {cfg.model.max_len} tokens; RGCN {cfg.model.gnn_layers} layers, "
        f"{cfg.model.num_relations} relations, {cfg.model.num_bases} bases; shared token table of "
        f"{cfg.model.vocab_size} WordPiece pieces).",
        "* Weights: `encoder/assets/mirencoder.pt` (float16), tokenizer `encoder/assets/tokenizer.json`.",
        f"* Training: {result.get('steps')} steps of batch {cfg.batch}, AdamW lr {cfg.lr}, seed {cfg.seed}; "
        f"{result.get('train_hours')} h on {_machine()}.",
        "",
        "## Corpus",
        "",
        "```",
        json.dumps(stats, indent=1)[:4000],
        "```",
        "",
        "## Pre-training losses",
        "",
        *_log_summary(out),
        "",
        "## Held-out metrics (validation programs never seen in training)",
        "",
        "| metric | value |",
        "|---|---|",
        f"| masked-token accuracy | {v.get('mlm_acc', float('nan')):.3f} |",
        f"| edge reconstruction accuracy (hidden edges vs sampled non-edges) | {v.get('gae_acc', float('nan')):.3f} |",
        f"| IR-graph matching accuracy (own graph vs other program vs sibling variant) | "
        f"{v.get('match_acc', float('nan')):.3f} |",
        f"| retrieval: nearest neighbour is a variant of the same program (trained) | "
        f"{result.get('retrieval_trained', float('nan')):.3f} |",
        f"| same check, randomly initialised encoder of the same shape | "
        f"{result.get('retrieval_random_init', float('nan')):.3f} |",
        f"| same check, chance | {result.get('retrieval_chance', float('nan')):.3f} |",
        "",
        f"Retrieval set: {result.get('retrieval_modules')} held-out modules of {result.get('retrieval_groups')} "
        "programs.",
    ]
    CARD.write_text("\n".join(lines) + "\n")
