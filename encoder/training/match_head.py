"""Second pre-training stage: the IR-graph matching head on whole modules, encoder frozen.

Why a stage of its own: in pre-training the head sees training-style views (one random
window of MLM-masked text, a graph crop around it), but a user's question, "is this text
the text of this graph?", comes with whole modules read the way `embed` reads them. Those
embeddings differ from the training views, and the head tuned to one misjudges the other
(held-out sibling variants were told apart in 75% of cases). Only the head (two linear
layers, 263k parameters) is trained here, on embeddings computed once, so embeddings,
caches and every downstream result stay exactly as they were, and the stage runs on the
CPU in minutes. Still self-supervised: the labels come from which text and graph belong
together. Train programs only; held-out programs are never seen.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from encoder.model import MIREncoder
from encoder.training import dataset as ds
from encoder.training.evaluate import MATCH_KINDS, matching_accuracy, matching_pairs, modality_embeddings


def training_modules(modules: list[ds.Module], max_modules: int, seed: int) -> list[ds.Module]:
    """Train-split modules (at most `max_modules`; 0: all), programs with sibling variants first.

    Programs with siblings come first because they carry the hard pairs.
    """
    train = [m for m in modules if m.split == "train"]
    max_modules = max_modules if max_modules > 0 else len(train)
    groups: dict[str, list[ds.Module]] = {}
    for m in train:
        groups.setdefault(m.group, []).append(m)
    order = sorted(groups)
    random.Random(seed).shuffle(order)
    order.sort(key=lambda g: len(groups[g]) < 2)  # stable: multi-variant programs first, shuffled
    out: list[ds.Module] = []
    for g in order:
        if len(out) >= max_modules:
            break
        out.extend(groups[g][: max(2, max_modules - len(out))])
    return out


def train_match_head(
    model: MIREncoder,
    modules: list[ds.Module],
    seed: int = 0,
    epochs: int = 40,
    max_modules: int = 0,
    lr: float = 1e-3,
    log: Callable[[str], None] = print,
) -> dict:
    """Fit `model.match` on intact train modules in place; returns a record for the card."""
    t0 = time.time()
    torch.manual_seed(seed)
    mods = training_modules(modules, max_modules, seed)
    if len({m.group for m in mods}) < 4:
        raise ValueError("the match head needs train modules of at least four programs (two to fit, two to choose)")
    # hold out a tenth of the train programs to pick the epoch: the validation programs stay unseen
    groups = sorted({m.group for m in mods})
    random.Random(seed + 1).shuffle(groups)
    dev_groups = set(groups[: max(2, len(groups) // 10)])
    text, graph = modality_embeddings(model, mods)
    log(f"match head: embedded {len(mods)} train modules of {len(groups)} programs in {time.time() - t0:.0f} s")
    fit = [i for i, m in enumerate(mods) if m.group not in dev_groups]
    dev = [i for i, m in enumerate(mods) if m.group in dev_groups]

    def sub(idx: list[int]) -> tuple[list[ds.Module], torch.Tensor, torch.Tensor]:
        return [mods[i] for i in idx], text[idx], graph[idx]

    fit_m, fit_t, fit_g = sub(fit)
    dev_m, dev_t, dev_g = sub(dev)
    dev_pairs = matching_pairs(dev_m, random.Random(seed + 2))
    head = model.match
    before = matching_accuracy(model, dev_t, dev_g, dev_pairs)["intact_match_acc"]
    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=1e-4)
    best = (before, -1, {k: v.clone() for k, v in head.state_dict().items()})
    rng = random.Random(seed + 3)
    for epoch in range(epochs):
        pairs = matching_pairs(fit_m, rng)  # fresh negatives every epoch
        ti = torch.tensor([i for k in MATCH_KINDS for i, _ in pairs[k]])
        gi = torch.tensor([j for k in MATCH_KINDS for _, j in pairs[k]])
        y = torch.tensor([1.0 if k == "own" else 0.0 for k in MATCH_KINDS for _ in pairs[k]])
        n_pos = float(y.sum())
        w = torch.where(y > 0, (len(y) - n_pos) / n_pos, 1.0)  # positives weigh as much as negatives
        head.train()
        for b in torch.randperm(len(y)).split(256):
            logits = model.match_logits(fit_t[ti[b]], fit_g[gi[b]])
            loss = F.binary_cross_entropy_with_logits(logits, y[b], weight=w[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
        head.eval()
        acc = matching_accuracy(model, dev_t, dev_g, dev_pairs)["intact_match_acc"]
        if acc > best[0]:
            best = (acc, epoch, {k: v.clone() for k, v in head.state_dict().items()})
        if epoch % 10 == 9 or epoch == epochs - 1:
            log(f"match head: epoch {epoch + 1}/{epochs}, loss {loss.item():.3f}, dev programs {acc:.3f}")
    head.load_state_dict(best[2])
    model.eval()
    return {
        "modules": len(mods),
        "programs": len(groups),
        "dev_programs": len(dev_groups),
        "epochs": epochs,
        "best_epoch": best[1] + 1,
        "dev_acc_before": before,
        "dev_acc_after": best[0],
        "seed": seed,
        "lr": lr,
        "seconds": round(time.time() - t0, 1),
    }
