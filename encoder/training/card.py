"""Write encoder/MODEL_CARD.md from a pre-training run: nothing in it is typed by hand.

Every figure in the card comes from the data it describes: the run's `log.jsonl`, the corpus's
`stats.json`, the model's config and the training and evaluation record stored with the weights.
The only numbers written here are the constants below, and the card calls them what they are:
how many log steps are averaged, the target that the matching accuracy is held to, and where the
corpus statistics are cut.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path

from encoder.model import MIREncoder, count_parameters
from encoder.training.objectives import TASKS

CARD = Path(__file__).resolve().parent.parent / "MODEL_CARD.md"
LOSS_STEPS = 50  # log records (one per step) averaged at each end of training for the loss table
MATCH_TARGET = 0.95  # the encoder's target for IR-graph matching accuracy: a goal, not a measurement
STATS_CHARS = 4000  # of the corpus statistics shown (the JSON is cut there)


def _machine(device: str = "cpu") -> str:
    """This machine's CPU, or the accelerator a run trained on (a GPU run is exported elsewhere)."""
    import os

    if device != "cpu":
        return f"one {device} GPU (`encoder pretrain --pack ... --device cuda`)"

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
    """First and last `LOSS_STEPS` records of the run's log, averaged per task; named by their steps."""
    recs = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines() if x.strip()]
    if not recs:
        return []
    first, last = recs[:LOSS_STEPS], recs[-LOSS_STEPS:]

    def steps(rs: list[dict]) -> str:
        return f"steps {rs[0].get('step', '?')}-{rs[-1].get('step', '?')}"

    rows = [f"| task | training loss, {steps(first)} | training loss, {steps(last)} |", "|---|---|---|"]
    for t in TASKS:
        if t not in recs[-1]:
            continue
        a = sum(r[t] for r in first) / len(first)
        b = sum(r[t] for r in last) / len(last)
        rows.append(f"| {t} | {a:.3f} | {b:.3f} |")
    return rows


def _pace(out: Path, result: dict) -> list[str]:
    """What the run cost, from its log: seconds a step on its device, module samples seen."""
    log = out / "log.jsonl"
    recs = [json.loads(x) for x in log.read_text().splitlines() if x.strip()] if log.exists() else []
    steps, batch = result.get("steps"), result.get("batch")
    if not (isinstance(steps, int) and isinstance(batch, int)):
        return []
    line = f"This run saw {steps * batch:,} module samples ({steps} steps of batch {batch})"
    timed = [r for r in recs if "time_s" in r and "step" in r]
    if len(timed) >= 2 and timed[-1]["step"] > timed[0]["step"]:
        per = (timed[-1]["time_s"] - timed[0]["time_s"]) / (timed[-1]["step"] - timed[0]["step"])
        line += f", {per:.3f} s a step on {_machine(result.get('device', 'cpu'))}"
    return [line + "; a run started from other weights (`--init-from`) adds to what those saw."]


def _targets(v: dict, result: dict) -> list[str]:
    """Met or missed, and by how much: computed, so the card cannot flatter the weights."""
    match = v.get("match_acc", float("nan"))
    intact = result.get("intact_match_acc", float("nan"))
    trained, control = result.get("retrieval_trained", float("nan")), result.get("retrieval_random_init", float("nan"))
    return [
        f"* IR-graph matching accuracy at least {MATCH_TARGET:g}, on intact held-out modules: {intact:.3f} "
        f"(draws {result.get('intact_match_acc_min', float('nan')):.3f}-"
        f"{result.get('intact_match_acc_max', float('nan')):.3f}), "
        + ("met" if intact >= MATCH_TARGET else f"missed by {MATCH_TARGET - intact:.3f}")
        + f"; on training-style batches (masked text, one window, cropped graph): {match:.3f}, "
        + ("met." if match >= MATCH_TARGET else f"missed by {MATCH_TARGET - match:.3f}."),
        f"* Retrieval above the randomly initialised control: {trained:.3f} vs {control:.3f}, "
        + (f"above by {trained - control:.3f}." if trained > control else f"BELOW by {control - trained:.3f}."),
    ]


def _match_head(result: dict) -> list[str]:
    """The second stage (`encoder match-head`), when the weights went through it."""
    h = result.get("match_head")
    if not h:
        return []
    return [
        "",
        f"Matching head, second stage (`encoder match-head`): the encoder frozen, the head refit on whole "
        f"modules of {h['modules']} train-split modules of {h['programs']} programs for {h['epochs']} epochs "
        f"(kept: epoch {h['best_epoch']}, chosen on {h['dev_programs']} train programs held aside: "
        f"{h['dev_acc_before']:.3f} before, {h['dev_acc_after']:.3f} after; {h['seconds']:.0f} s on this CPU). "
        "Embeddings are unchanged by it; the training-style matching figure above predates it.",
    ]


def _commands(result: dict) -> list[str]:
    c = result.get("command") or "encoder pretrain"
    return [c] if isinstance(c, str) else list(c)


def render(corpus: Path, out: Path, result: dict, model_cfg) -> str:
    """The card's text. `result`: the training record and held-out metrics stored with the weights;
    `out`: the run's folder (its `log.jsonl`); `corpus`: the corpus folder (its `stats.json`)."""
    from encoder.embedding import WEIGHT_DTYPE

    stats = json.loads((corpus / "stats.json").read_text()) if (corpus / "stats.json").exists() else {}
    v = result.get("final_val", {})
    params = count_parameters(MIREncoder(model_cfg))
    lines = [
        "# MIREncoder (autotune re-implementation): model card",
        "",
        "Multi-modal pre-trained embeddings of LLVM IR after Dutta & Jannesari (PACT 2024): a transformer over",
        f"IR tokens and a relational GNN over a PROGRAML-like IR graph, fused into one {model_cfg.embed_dim}-d vector.",
        "",
        "## Reproduce",
        "",
        "    encoder corpus --out build/corpus",
        *(f"    {c}" for c in _commands(result)),
        "",
        "## Model",
        "",
        f"* Parameters: {params:,} (text transformer {model_cfg.text_layers} layers x {model_cfg.d_model}, "
        f"{model_cfg.heads} heads, windows of {model_cfg.max_len} tokens; RGCN {model_cfg.gnn_layers} layers, "
        f"{model_cfg.num_relations} relations, {model_cfg.num_bases} bases; shared token table of "
        f"{model_cfg.vocab_size} WordPiece pieces).",
        f"* Weights: `encoder/assets/mirencoder.pt` ({str(WEIGHT_DTYPE).removeprefix('torch.')}), "
        "tokenizer `encoder/assets/tokenizer.json`.",
        f"* Training: {result.get('steps')} steps of batch {result.get('batch')}, AdamW lr {result.get('lr')}, "
        f"seed {result.get('seed')}; {result.get('train_hours')} h on {_machine(result.get('device', 'cpu'))}.",
        "",
        "## Corpus",
        "",
        "```",
        json.dumps(stats, indent=1)[:STATS_CHARS],
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
        f"| IR-graph matching on intact modules, as `embed` reads them (all pairs; mean of "
        f"{result.get('intact_match_draws')} draws of the negatives, range) | "
        f"{result.get('intact_match_acc', float('nan')):.3f} ({result.get('intact_match_acc_min', float('nan')):.3f}"
        f"-{result.get('intact_match_acc_max', float('nan')):.3f}) |",
        f"| same, own graph / another program's graph / a sibling variant's graph | "
        f"{result.get('intact_match_own', float('nan')):.3f} / "
        f"{result.get('intact_match_other_program', float('nan')):.3f} / "
        f"{result.get('intact_match_sibling', float('nan')):.3f} |",
        f"| in-batch matching: own graph ranks first among the batch's {result.get('batch')} | "
        f"{v.get('align_acc', float('nan')):.3f} |",
        f"| in-batch program identity: a variant's nearest batch-mate is its sibling (training loss) | "
        f"{v.get('program_acc', float('nan')):.3f} |",
        f"| retrieval: nearest neighbour is a variant of the same program (trained) | "
        f"{result.get('retrieval_trained', float('nan')):.3f} |",
        f"| same check, randomly initialised encoder of the same shape | "
        f"{result.get('retrieval_random_init', float('nan')):.3f} |",
        f"| same check, chance | {result.get('retrieval_chance', float('nan')):.3f} |",
        "",
        f"Retrieval set: {result.get('retrieval_modules')} held-out modules of {result.get('retrieval_groups')} "
        "programs; the intact matching check pairs each of them with its own graph, a random other program's "
        "and a sibling variant's. The training-style figures come from the last evaluation during pre-training.",
        *_match_head(result),
        "",
        "## Against the targets",
        "",
        *_targets(v, result),
        "",
        "Without a GPU the same training runs on the CPU from the corpus (`encoder pretrain --corpus build/corpus "
        "--out build/pretrain --hours H`, resumable).",
        *_pace(out, result),
    ]
    return "\n".join(lines) + "\n"


def write(corpus: Path, out: Path, result: dict, model_cfg, path: Path = CARD) -> None:
    """Write the card (see `render`) to `path`, by default encoder/MODEL_CARD.md."""
    path.write_text(render(corpus, out, result, model_cfg))
