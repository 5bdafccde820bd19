"""Self-supervised pre-training: masked tokens, edge reconstruction, IR-graph matching.

Why these tasks (DESIGN.md section 4, after MIREncoder): MLM teaches the text
encoder IR syntax and idiom; graph auto-encoding teaches the GNN which values
flow where; matching ties the two modalities into one space, with hard
negatives from variants of the same program so that the embedding must notice
what a pragma or a flag changed. Matching is trained twice over: the paper's
binary head (is this text this graph's?) and an in-batch contrastive loss
(which of the batch's graphs is this text's?), which gives every module the
whole batch as negatives instead of two. A fifth loss trains the fused
embedding to place variants of one program (the corpus's natural
augmentations: pragmas, flags, sizes) nearest to each other.

Runs for hours on two cores, so it is built to be stopped: a checkpoint (model,
optimiser, step, random states) is written atomically every few minutes and a
re-run resumes from it; losses go to a JSON-lines log per step.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from encoder import dataset as ds
from encoder.atomic import atomic_write
from encoder.model import EncoderConfig, MIREncoder, count_parameters


@dataclass
class TrainConfig:
    steps: int = 4000
    batch: int = 16
    lr: float = 5e-4
    warmup: int = 200
    weight_decay: float = 0.01
    edge_hide: float = 0.15  # fraction of edges hidden from message passing and reconstructed
    temperature: float = 0.07  # of the in-batch text-graph contrastive loss
    checkpoint_every_s: float = 300.0
    eval_every: int = 250
    eval_batches: int = 8
    seed: int = 0
    max_hours: float | None = None
    init_from: Path | None = None  # warm start from exported weights (a fresh run only)
    device: str = "cpu"
    workers: int = 0  # batch-preparing processes (a GPU run needs them; two cores do not)
    model: EncoderConfig = field(default_factory=EncoderConfig)


TASKS = ("mlm", "gae", "match", "align", "program")


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


def step_random(seed: int, step: int) -> tuple[random.Random, torch.Generator]:
    """The random streams of one step, derived from (seed, step) alone.

    Why per step: batches can then be prepared by any worker process in any
    order, and a resumed run draws exactly the batches the killed one would have.
    """
    s = (seed * 1_000_003 + step) % (2**63)
    return random.Random(s), torch.Generator().manual_seed(s)


def prepare(
    modules: list[ds.Module],
    idx: list[int],
    siblings: list[int],
    cfg: TrainConfig,
    max_len: int,
    vocab: int,
    rng: random.Random,
    gen: torch.Generator,
) -> dict:
    """Every random choice of one batch, as CPU tensors: windows, masks, hidden edges, negatives, pairs."""
    n = len(idx)
    # text: one random window per module, MLM-masked
    picked = [ds.random_window(modules[i].ids, max_len, rng) for i in idx]
    masked, labels = ds.mask_tokens(ds.pad([w for w, _ in picked]), vocab, gen)
    # graph: the crop sits where the text window sits, so both views show the same code
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
    pos_ei, pos_t = batch.edge_index[:, hide], batch.edge_type[hide]
    # negatives: each hidden edge with its target replaced by a random node of the same graph
    # (a cross-graph pair would be trivially negative)
    g_of = batch.batch[pos_ei[0]]
    lo, size = batch.ptr[g_of], batch.ptr[g_of + 1] - batch.ptr[g_of]
    neg_dst = lo + (torch.rand(len(g_of), generator=gen) * size).long()
    neg_ei = torch.stack([pos_ei[0], neg_dst])
    # matching pairs: own graph (1) vs a random other program (0) vs a sibling variant (0)
    perm = [(i + 1 + rng.randrange(n - 1)) % n for i in range(n)] if n > 1 else [0]
    rand_neg = [p if modules[idx[p]].group != modules[idx[i]].group else -1 for i, p in enumerate(perm)]
    pairs_t, pairs_g, y = list(range(n)), list(range(n)), [1.0] * n
    for i in range(n):
        for j in (rand_neg[i], siblings[i]):
            if j >= 0:
                pairs_t.append(i)
                pairs_g.append(j)
                y.append(0.0)
    return {
        "masked": masked,
        "labels": labels,
        "visible": visible,
        "pos_ei": pos_ei,
        "pos_t": pos_t,
        "neg_ei": neg_ei,
        "pairs_t": torch.tensor(pairs_t),
        "pairs_g": torch.tensor(pairs_g),
        "y": torch.tensor(y),
        "siblings": torch.tensor(siblings, dtype=torch.long),
    }


def batch_losses(model: MIREncoder, b: dict, cfg: TrainConfig) -> dict[str, torch.Tensor]:
    """The four losses (and accuracies) of a prepared batch, on the model's device."""
    dev = next(model.parameters()).device
    b = {k: v.to(dev, non_blocking=True) for k, v in b.items()}
    masked, labels = b["masked"], b["labels"]
    n = masked.shape[0]
    text_emb, hidden = model.text_embedding(masked, torch.arange(n, device=dev), n)
    sel = labels != -100
    logits = model.mlm_logits(hidden[sel])
    zero = hidden.sum() * 0
    mlm = F.cross_entropy(logits, labels[sel]) if sel.any() else zero
    mlm_acc = (logits.argmax(-1) == labels[sel]).float().mean() if sel.any() else zero.detach()

    graph_emb, z = model.graph_embedding(b["visible"])
    pos_t = b["pos_t"]
    s_pos, s_neg = model.edge_scores(z, b["pos_ei"], pos_t), model.edge_scores(z, b["neg_ei"], pos_t)
    scores = torch.cat([s_pos, s_neg])
    target = torch.cat([torch.ones_like(s_pos), torch.zeros_like(s_neg)])
    gae = F.binary_cross_entropy_with_logits(scores, target) if len(scores) else zero
    gae_acc = ((scores > 0).float() == target).float().mean() if len(scores) else zero.detach()

    yt = b["y"]
    ml = model.match_logits(text_emb[b["pairs_t"]], graph_emb[b["pairs_g"]])
    w = torch.where(yt > 0, (len(yt) - n) / n, 1.0)  # balance positives against negatives
    match = F.binary_cross_entropy_with_logits(ml, yt, weight=w)
    match_acc = ((ml > 0).float() == yt).float().mean()

    # in-batch contrastive alignment (InfoNCE, both directions): every other module in the
    # batch is a negative, siblings of the same program the hardest ones
    t, g = F.normalize(text_emb, dim=-1), F.normalize(graph_emb, dim=-1)
    sim = t @ g.T / cfg.temperature
    target_i = torch.arange(n, device=dev)
    align = (F.cross_entropy(sim, target_i) + F.cross_entropy(sim.T, target_i)) / 2
    align_acc = (sim.argmax(1) == target_i).float().mean()
    # program identity on the fused embedding: a module's nearest batch-mate should be a variant
    # of the same program (another pragma, flag or size; the other view of a random window and
    # crop). The only loss that trains the fusion layer, and what makes the space cluster by
    # program while the matching heads still tell the variants apart.
    sib = b["siblings"]
    anchors = (sib >= 0).nonzero().squeeze(-1)
    if len(anchors):
        f = F.normalize(model.fused(text_emb, graph_emb), dim=-1)
        fs = f[anchors] @ f.T / cfg.temperature
        fs[torch.arange(len(anchors), device=dev), anchors] = float("-inf")
        program = F.cross_entropy(fs, sib[anchors])
        program_acc = (fs.argmax(1) == sib[anchors]).float().mean()
    else:
        program, program_acc = zero, zero.detach()
    return {
        "mlm": mlm,
        "gae": gae,
        "match": match,
        "align": align,
        "program": program,
        "program_acc": program_acc,
        "mlm_acc": mlm_acc,
        "gae_acc": gae_acc,
        "match_acc": match_acc,
        "align_acc": align_acc,
    }


def step_losses(
    model: MIREncoder,
    modules: list[ds.Module],
    idx: list[int],
    siblings: list[int],
    cfg: TrainConfig,
    rng: random.Random,
    gen: torch.Generator,
) -> dict[str, torch.Tensor]:
    """The losses on one batch of the given modules (prepare + batch_losses)."""
    b = prepare(modules, idx, siblings, cfg, model.cfg.max_len, model.cfg.vocab_size, rng, gen)
    return batch_losses(model, b, cfg)


class Batches(torch.utils.data.IterableDataset):
    """Prepared training batches for steps [start, stop), each worker taking every k-th step.

    The order of steps is kept by the DataLoader (it round-robins its workers),
    and each batch depends only on (seed, step), so any number of workers gives
    the same run.
    """

    def __init__(self, modules: list[ds.Module], cfg: TrainConfig, start: int, stop: int) -> None:
        self.modules, self.cfg, self.start, self.stop = modules, cfg, start, stop

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        k, nw = (info.id, info.num_workers) if info else (0, 1)
        batcher = ds.Batcher(self.modules, self.cfg.seed)
        mc = self.cfg.model
        for step in range(self.start + k, self.stop, nw):
            rng, gen = step_random(self.cfg.seed, step)
            idx = batcher.draw(min(self.cfg.batch, len(self.modules)), rng)
            yield prepare(self.modules, idx, batcher.sibling(idx), self.cfg, mc.max_len, mc.vocab_size, rng, gen)


@torch.no_grad()
def evaluate(model: MIREncoder, modules: list[ds.Module], cfg: TrainConfig, batches: int) -> dict[str, float]:
    """Held-out losses and accuracies on fixed validation batches (seeded, so comparable over time)."""
    model.eval()
    b = ds.Batcher(modules, seed=12345)
    rng, gen = random.Random(12345), torch.Generator().manual_seed(12345)
    acc: dict[str, list[float]] = {}
    for _ in range(batches):
        idx = b.draw(min(cfg.batch, len(modules)), rng)
        out = step_losses(model, modules, idx, b.sibling(idx), cfg, rng, gen)
        for k, v in out.items():
            acc.setdefault(k, []).append(float(v))
    model.train()
    return {k: float(np.mean(v)) for k, v in acc.items()}


def _save(path: Path, state: dict) -> None:
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def _state(model, opt, step, t_start, cfg: TrainConfig) -> dict:
    return {
        "model": {k: v.cpu() for k, v in model.state_dict().items()},
        "optim": opt.state_dict(),
        "step": step,
        "elapsed": time.time() - t_start,
        "config": cfg.model.to_dict(),
        "device": _device_name(cfg.device),
    }


def _device_name(device: str) -> str:
    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.device(device))
    return "cpu"


def train(
    modules: list[ds.Module], out_dir: Path, cfg: TrainConfig, log=print, on_checkpoint=None
) -> tuple[MIREncoder, dict[str, float]]:
    """Train (or resume) and return the model (on the CPU) and the last held-out metrics.

    `on_checkpoint(model, step)` runs after each checkpoint (a GPU run exports
    its weights there, so a lease that ends early still leaves them).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    train_m = [m for m in modules if m.split == "train"]
    val_m = [m for m in modules if m.split != "train"] or train_m[: max(2, len(train_m) // 20)]
    model = MIREncoder(cfg.model)
    ckpt = out_dir / "checkpoint.pt"
    step, elapsed = 0, 0.0
    st = torch.load(ckpt, weights_only=False, map_location="cpu") if ckpt.exists() else None
    if st is not None:
        model.load_state_dict(st["model"])
        step, elapsed = st["step"], st["elapsed"]
        log(f"resumed at step {step} ({elapsed / 3600:.2f} h trained)")
    elif cfg.init_from is not None:
        from encoder.embedding import load_model

        init = load_model(cfg.init_from)
        if init.cfg != cfg.model:
            raise ValueError(f"{cfg.init_from}: model shape {init.cfg} differs from this run's {cfg.model}")
        model.load_state_dict(init.state_dict())
        log(f"warm start from {cfg.init_from}")
    model.to(cfg.device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    if st is not None and "optim" in st:
        opt.load_state_dict(st["optim"])
    log(
        f"{count_parameters(model):,} parameters; {len(train_m)} train / {len(val_m)} validation modules; "
        f"device {_device_name(cfg.device)}"
    )
    metrics: dict[str, float] = {}
    t_last_ckpt = time.time()
    t_start = time.time() - elapsed
    loader = torch.utils.data.DataLoader(
        Batches(train_m, cfg, step, cfg.steps),
        batch_size=None,
        num_workers=cfg.workers,
        pin_memory=cfg.device.startswith("cuda"),
        prefetch_factor=4 if cfg.workers else None,
        persistent_workers=False,
    )

    def checkpoint() -> None:
        _save(ckpt, _state(model, opt, step, t_start, cfg))
        if on_checkpoint is not None:
            on_checkpoint(model, step)

    with open(out_dir / "log.jsonl", "a") as logf:
        for b in loader:
            if step >= cfg.steps:
                break
            if cfg.max_hours is not None and (time.time() - t_start) / 3600 >= cfg.max_hours:
                log(f"time budget of {cfg.max_hours} h reached at step {step}")
                break
            lr = _lr(step, cfg, (time.time() - t_start) / 3600)
            for g in opt.param_groups:
                g["lr"] = lr
            out = batch_losses(model, b, cfg)
            loss = sum(out[t] for t in TASKS)
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
            if time.time() - t_last_ckpt >= cfg.checkpoint_every_s:
                checkpoint()
                t_last_ckpt = time.time()
        if not metrics or step % cfg.eval_every:
            metrics = evaluate(model, val_m, cfg, cfg.eval_batches)
        checkpoint()
    return model.cpu(), metrics


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


def _train_record(cfg: TrainConfig, state: dict, metrics: dict, n_modules: int, command: str) -> dict:
    """What the model card reports about a run, stored beside the exported weights."""
    return {
        "steps": state["step"],
        "train_hours": round(state["elapsed"] / 3600, 3),
        "final_val": metrics,
        "modules": n_modules,
        "command": command,
        "batch": cfg.batch,
        "lr": cfg.lr,
        "seed": cfg.seed,
        "device": state.get("device", "cpu"),
    }


def export(model: MIREncoder, record: dict, modules: list[ds.Module], corpus: Path, run_dir: Path, log=print) -> dict:
    """Held-out retrieval and intact-module matching checks, then install weights, tokenizer and model card."""
    import shutil

    from encoder import card, evaluate
    from encoder.embedding import TOKENIZER, WEIGHTS, save_weights

    val = [m for m in modules if m.split != "train"]
    seed = record.get("seed", 0)
    result = {**record, **evaluate.retrieval_check(model, val, seed), **evaluate.matching_check(model, val, seed)}
    save_weights(model, WEIGHTS, extra=result)
    if (run_dir / "tokenizer.json").exists() and (run_dir / "tokenizer.json").resolve() != TOKENIZER.resolve():
        shutil.copyfile(run_dir / "tokenizer.json", TOKENIZER)
    card.write(corpus, run_dir, result, model.cfg)
    log(f"exported {WEIGHTS} ({WEIGHTS.stat().st_size / 2**20:.1f} MiB), {TOKENIZER} and the model card")
    (run_dir / "result.json").write_text(json.dumps(result, indent=1))
    return result


def run_pack(pack_file: Path, out: Path, cfg: TrainConfig, command: str = "", log=print) -> dict:
    """Train from a tensor pack (`encoder pack`), on any device; writes `out/weights.pt`.

    For a machine that has no corpus (a GPU lent for minutes): the weights are
    re-exported at every checkpoint, so whatever the lease allows is kept. The
    retrieval check and the model card are left to `encoder export`, which
    needs the corpus.
    """
    from encoder.embedding import save_weights
    from encoder.pack import unpack

    t0 = time.time()
    modules, meta = unpack(pack_file)
    cfg.model.vocab_size = int(meta["vocab_size"])
    log(f"{len(modules)} modules from {pack_file} ({time.time() - t0:.0f} s)")

    def snapshot(model: MIREncoder, step: int) -> None:
        state = torch.load(out / "checkpoint.pt", weights_only=False, map_location="cpu")
        save_weights(model, out / "weights.pt", extra=_train_record(cfg, state, {}, len(modules), command))

    model, metrics = train(modules, out, cfg, log, on_checkpoint=snapshot)
    state = torch.load(out / "checkpoint.pt", weights_only=False, map_location="cpu")
    record = _train_record(cfg, state, metrics, len(modules), command)
    save_weights(model, out / "weights.pt", extra=record)
    (out / "result.json").write_text(json.dumps(record, indent=1))
    return record


def run(
    corpus: Path,
    out: Path,
    cfg: TrainConfig,
    vocab: int,
    jobs: int = 2,
    export_weights: bool = True,
    command: str = "",
    log=print,
) -> dict:
    """Everything `encoder pretrain` does; each stage resumes where a killed run stopped."""
    import shutil

    from encoder import tokenizer as tk

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
    record = _train_record(cfg, state, metrics, len(modules), command)
    budget_spent = cfg.max_hours is not None and state["elapsed"] / 3600 >= cfg.max_hours
    if export_weights and (state["step"] >= cfg.steps or budget_spent):
        return export(model, record, modules, corpus, out, log)
    (out / "result.json").write_text(json.dumps(record, indent=1))
    return record
