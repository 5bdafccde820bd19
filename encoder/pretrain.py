"""Self-supervised pre-training: masked tokens, edge reconstruction, IR-graph matching.

Why these three (DESIGN.md section 4, after MIREncoder): MLM teaches the text
encoder IR syntax and idiom; graph auto-encoding teaches the GNN which values
flow where; matching ties the two modalities into one space, with hard
negatives from variants of the same program so that the embedding must notice
what a pragma or a flag changed.

Runs for hours on two cores, so it is built to be stopped: a checkpoint (model,
optimiser, step, random states) is written atomically every few minutes and a
re-run resumes from it; losses go to a JSON-lines log per step.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch_geometric.utils import negative_sampling

from encoder import dataset as ds
from encoder.model import EncoderConfig, MIREncoder, count_parameters


@dataclass
class TrainConfig:
    steps: int = 4000
    batch: int = 16
    lr: float = 5e-4
    warmup: int = 200
    weight_decay: float = 0.01
    edge_hide: float = 0.15  # fraction of edges hidden from message passing and reconstructed
    checkpoint_every_s: float = 300.0
    eval_every: int = 250
    eval_batches: int = 8
    seed: int = 0
    max_hours: float | None = None
    init_from: Path | None = None  # warm start from exported weights (a fresh run only)
    model: EncoderConfig = field(default_factory=EncoderConfig)


def _lr(step: int, cfg: TrainConfig, hours: float = 0.0) -> float:
    """Linear warm-up, then cosine decay over the steps or the time budget, whichever ends first.

    Why time-aware: on a shared two-core machine the step rate is not known in
    advance; a run stopped by its time budget should still end at a low rate.
    """
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    p = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    if cfg.max_hours:
        p = max(p, hours / cfg.max_hours)
    return cfg.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, p)))


def step_losses(
    model: MIREncoder,
    modules: list[ds.Module],
    idx: list[int],
    siblings: list[int],
    cfg: TrainConfig,
    rng: random.Random,
    gen: torch.Generator,
) -> dict[str, torch.Tensor]:
    """The three losses (and accuracies) on one batch."""
    mc = model.cfg
    n = len(idx)
    # --- text: one random window per module, MLM-masked ------------------------------------
    picked = [ds.random_window(modules[i].ids, mc.max_len, rng) for i in idx]
    ids = ds.pad([w for w, _ in picked])
    masked, labels = ds.mask_tokens(ids, mc.vocab_size, gen)
    text_emb, hidden = model.text_embedding(masked, torch.arange(n), n)
    sel = labels != -100
    logits = model.mlm_logits(hidden[sel])
    mlm = F.cross_entropy(logits, labels[sel]) if sel.any() else hidden.sum() * 0
    mlm_acc = (logits.argmax(-1) == labels[sel]).float().mean() if sel.any() else torch.tensor(0.0)

    # --- graph: hide edges, reconstruct them against negatives ----------------------------------
    # the graph crop sits where the text window sits: both views show the same code
    graphs = [ds.crop_graph(modules[i].graph, ds.MAX_NODES, rng, at) for i, (_, at) in zip(idx, picked, strict=True)]
    batch = ds.graph_batch(graphs)
    E = batch.edge_index.shape[1]
    hide = torch.rand(E, generator=gen) < cfg.edge_hide
    visible = batch.clone()
    visible.edge_index, visible.edge_type, visible.edge_pos = (
        batch.edge_index[:, ~hide],
        batch.edge_type[~hide],
        batch.edge_pos[~hide],
    )
    graph_emb, z = model.graph_embedding(visible)
    pos_ei, pos_t = batch.edge_index[:, hide], batch.edge_type[hide]
    neg_ei = negative_sampling(batch.edge_index, num_nodes=batch.num_nodes, num_neg_samples=max(1, pos_ei.shape[1]))
    neg_t = (
        pos_t[torch.randint(0, max(1, len(pos_t)), (neg_ei.shape[1],), generator=gen)]
        if len(pos_t)
        else (torch.zeros(neg_ei.shape[1], dtype=torch.long))
    )
    s_pos, s_neg = model.edge_scores(z, pos_ei, pos_t), model.edge_scores(z, neg_ei, neg_t)
    scores = torch.cat([s_pos, s_neg])
    target = torch.cat([torch.ones_like(s_pos), torch.zeros_like(s_neg)])
    gae = F.binary_cross_entropy_with_logits(scores, target)
    gae_acc = ((scores > 0).float() == target).float().mean()

    # --- matching: own graph vs a random other program vs a sibling variant --------------------
    perm = [(i + 1 + rng.randrange(n - 1)) % n for i in range(n)]
    rand_neg = [p if modules[idx[p]].group != modules[idx[i]].group else -1 for i, p in enumerate(perm)]
    pairs_t, pairs_g, y = list(range(n)), list(range(n)), [1.0] * n
    for i in range(n):
        for j in (rand_neg[i], siblings[i]):
            if j >= 0:
                pairs_t.append(i)
                pairs_g.append(j)
                y.append(0.0)
    yt = torch.tensor(y)
    ml = model.match_logits(text_emb[pairs_t], graph_emb[pairs_g])
    w = torch.where(yt > 0, (len(y) - n) / n, 1.0)  # balance positives against negatives
    match = F.binary_cross_entropy_with_logits(ml, yt, weight=w)
    match_acc = ((ml > 0).float() == yt).float().mean()
    return {"mlm": mlm, "gae": gae, "match": match, "mlm_acc": mlm_acc, "gae_acc": gae_acc, "match_acc": match_acc}


@torch.no_grad()
def evaluate(model: MIREncoder, modules: list[ds.Module], cfg: TrainConfig, batches: int) -> dict[str, float]:
    """Held-out losses and accuracies on fixed validation batches (seeded, so comparable over time)."""
    model.eval()
    b = ds.Batcher(modules, seed=12345)
    rng, gen = random.Random(12345), torch.Generator().manual_seed(12345)
    acc: dict[str, list[float]] = {}
    for _ in range(batches):
        idx = b.draw(min(cfg.batch, len(modules)))
        out = step_losses(model, modules, idx, b.sibling(idx), cfg, rng, gen)
        for k, v in out.items():
            acc.setdefault(k, []).append(float(v))
    model.train()
    return {k: float(np.mean(v)) for k, v in acc.items()}


def _save(path: Path, state: dict) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _state(model, opt, step, t_start, rng, batcher, gen, cfg: TrainConfig) -> dict:
    return {
        "model": model.state_dict(),
        "optim": opt.state_dict(),
        "step": step,
        "elapsed": time.time() - t_start,
        "rng": rng.getstate(),
        "batcher_rng": batcher.rng.getstate(),
        "gen": gen.get_state(),
        "torch_rng": torch.get_rng_state(),
        "config": cfg.model.to_dict(),
    }


def train(modules: list[ds.Module], out_dir: Path, cfg: TrainConfig, log=print) -> tuple[MIREncoder, dict[str, float]]:
    """Train (or resume) and return the model and the last held-out metrics."""
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    train_m = [m for m in modules if m.split == "train"]
    val_m = [m for m in modules if m.split != "train"] or train_m[: max(2, len(train_m) // 20)]
    model = MIREncoder(cfg.model)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    ckpt = out_dir / "checkpoint.pt"
    step, elapsed = 0, 0.0
    rng, gen = random.Random(cfg.seed), torch.Generator().manual_seed(cfg.seed)
    batcher = ds.Batcher(train_m, cfg.seed)
    if ckpt.exists():
        st = torch.load(ckpt, weights_only=False)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["optim"])
        step, elapsed = st["step"], st["elapsed"]
        rng.setstate(st["rng"])
        batcher.rng.setstate(st["batcher_rng"])
        gen.set_state(st["gen"])
        torch.set_rng_state(st["torch_rng"])
        log(f"resumed at step {step} ({elapsed / 3600:.2f} h trained)")
    elif cfg.init_from is not None:
        from encoder.embedding import load_model

        init = load_model(cfg.init_from)
        if init.cfg != cfg.model:
            raise ValueError(f"{cfg.init_from}: model shape {init.cfg} differs from this run's {cfg.model}")
        model.load_state_dict(init.state_dict())
        log(f"warm start from {cfg.init_from}")
    log(f"{count_parameters(model):,} parameters; {len(train_m)} train / {len(val_m)} validation modules")
    metrics: dict[str, float] = {}
    t_last_ckpt = time.time()
    t_start = time.time() - elapsed
    with open(out_dir / "log.jsonl", "a") as logf:
        while step < cfg.steps:
            if cfg.max_hours is not None and (time.time() - t_start) / 3600 >= cfg.max_hours:
                log(f"time budget of {cfg.max_hours} h reached at step {step}")
                _save(ckpt, _state(model, opt, step, t_start, rng, batcher, gen, cfg))
                break
            lr = _lr(step, cfg, (time.time() - t_start) / 3600)
            for g in opt.param_groups:
                g["lr"] = lr
            idx = batcher.draw(min(cfg.batch, len(train_m)))
            out = step_losses(model, train_m, idx, batcher.sibling(idx), cfg, rng, gen)
            loss = out["mlm"] + out["gae"] + out["match"]
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            rec = {"step": step, "time_s": round(time.time() - t_start, 1), "lr": lr}
            rec.update({k: round(float(v.detach()), 4) for k, v in out.items()})
            if step % cfg.eval_every == 0 or step == cfg.steps:
                metrics = evaluate(model, val_m, cfg, cfg.eval_batches)
                rec.update({f"val_{k}": round(v, 4) for k, v in metrics.items()})
                log(json.dumps(rec))
            logf.write(json.dumps(rec) + "\n")
            logf.flush()
            if time.time() - t_last_ckpt >= cfg.checkpoint_every_s or step == cfg.steps:
                _save(ckpt, _state(model, opt, step, t_start, rng, batcher, gen, cfg))
                t_last_ckpt = time.time()
    if not metrics:
        metrics = evaluate(model, val_m, cfg, cfg.eval_batches)
    return model, metrics


# --- the whole job: tokenizer, tensors, training, export -----------------------------------------
def train_tokenizer(corpus: Path, out: Path, vocab: int, seed: int, sample: int = 6000) -> Path:
    """Train the WordPiece vocabulary on (a sample of) the training split; kept if present."""
    from encoder import tokenizer as tk

    path = out / "tokenizer.json"
    if path.exists():
        return path
    rows = [r for r in ds.read_index(corpus) if r["split"] == "train"]
    random.Random(seed).shuffle(rows)
    texts = ((corpus / "modules" / f"{r['hash']}.ll").read_text() for r in rows[:sample])
    tk.save(tk.train(texts, vocab_size=vocab), path)
    return path


def run(
    corpus: Path,
    out: Path,
    cfg: TrainConfig,
    vocab: int,
    jobs: int = 2,
    export: bool = True,
    command: str = "",
    log=print,
) -> dict:
    """Everything `encoder pretrain` does; each stage resumes where a killed run stopped."""
    import shutil

    from encoder import card, evaluate
    from encoder import tokenizer as tk
    from encoder.embedding import TOKENIZER, WEIGHTS, save_weights

    if not (corpus / "index.csv").exists():
        raise FileNotFoundError(f"{corpus}/index.csv: no corpus here; build one with `encoder corpus --out {corpus}`")
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    if cfg.init_from is not None and not (out / "tokenizer.json").exists():
        # warm-started weights only mean something with the tokenizer they were trained with
        shutil.copyfile(cfg.init_from.parent / "tokenizer.json", out / "tokenizer.json")
    tok_path = train_tokenizer(corpus, out, vocab, cfg.seed)
    cfg.model.vocab_size = tk.load(tok_path).get_vocab_size()
    log(f"tokenizer: {cfg.model.vocab_size} pieces ({time.time() - t0:.0f} s)")
    kept, failed = ds.preprocess(corpus, tok_path, out / "tensors", jobs)
    modules = ds.load_modules(out / "tensors")
    log(f"tensors: {len(modules)} modules ({failed} unreadable this pass)")
    model, metrics = train(modules, out, cfg, log)
    state = torch.load(out / "checkpoint.pt", weights_only=False)
    result = {
        "steps": state["step"],
        "train_hours": round(state["elapsed"] / 3600, 3),
        "final_val": metrics,
        "modules": len(modules),
        "command": command,
    }
    budget_spent = cfg.max_hours is not None and state["elapsed"] / 3600 >= cfg.max_hours
    if export and (state["step"] >= cfg.steps or budget_spent):
        val = [m for m in modules if m.split != "train"]
        result.update(evaluate.retrieval_check(model, val, cfg.seed))
        save_weights(model, WEIGHTS, extra=result)
        shutil.copyfile(tok_path, TOKENIZER)
        card.write(corpus, out, result, cfg)
        log(f"exported {WEIGHTS} ({WEIGHTS.stat().st_size / 2**20:.1f} MiB) and {TOKENIZER}")
    (out / "result.json").write_text(json.dumps(result, indent=1))
    return result
