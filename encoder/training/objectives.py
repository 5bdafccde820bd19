"""The pre-training tasks: the random batch of a step and the five losses computed on it.

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

Every random choice of a step comes from (seed, step) alone (`step_random`), so
batches can be prepared by any worker in any order and a resumed run draws the
batches the killed one would have. The training loop is in `pretrain`.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from encoder.encode import crop_graph, graph_batch, pad
from encoder.model import MIREncoder
from encoder.training import dataset as ds

if TYPE_CHECKING:
    from encoder.training.config import TrainConfig

TASKS = ("mlm", "gae", "match", "align", "program")


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
    masked, labels = ds.mask_tokens(pad([w for w, _ in picked]), vocab, gen)
    # graph: the crop sits where the text window sits, so both views show the same code
    graphs = [crop_graph(modules[i].graph, ds.MAX_NODES, rng, at) for i, (_, at) in zip(idx, picked, strict=True)]
    batch = graph_batch(graphs)
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
