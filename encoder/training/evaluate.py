"""Held-out checks of what the embedding space means.

Retrieval: for variants of held-out programs (same kernel, other pragmas,
flags or sizes), how often is a module's nearest neighbour another variant of
the same program? The same check on a randomly initialised encoder of the same
shape is the control: structure that survives without training comes from the
input features alone, not from pre-training.
"""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import torch

from encoder.embedding import embed_encoded
from encoder.model import MIREncoder
from encoder.training import dataset as ds


def embed_modules(model: MIREncoder, modules: list[ds.Module], batch: int = 16, modality: str = "fused") -> np.ndarray:
    """Embeddings of pre-processed modules, read the way `embed` reads them ([n, e]; "all": [n, 3, e])."""
    out = [
        embed_encoded(model, [(m.ids.tolist(), m.graph) for m in modules[k : k + batch]], modality=modality)
        for k in range(0, len(modules), batch)
    ]
    shape = (0, 3, model.cfg.embed_dim) if modality == "all" else (0, model.cfg.embed_dim)
    return np.concatenate(out) if out else np.zeros(shape, dtype=np.float32)


def retrieval_accuracy(vectors: np.ndarray, groups: list[str]) -> float:
    """Fraction of modules whose cosine nearest neighbour (not itself) is of the same group."""
    v = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    sim = v @ v.T
    np.fill_diagonal(sim, -np.inf)
    nn = sim.argmax(1)
    return float(np.mean([groups[i] == groups[j] for i, j in enumerate(nn)]))


def retrieval_set(modules: list[ds.Module], max_modules: int = 600, seed: int = 0) -> list[ds.Module]:
    """Held-out modules whose program has at least two variants, capped for time."""
    counts = Counter(m.group for m in modules)
    pool = [m for m in modules if counts[m.group] >= 2]
    rng = random.Random(seed)
    groups = sorted({m.group for m in pool})
    rng.shuffle(groups)
    chosen, n = [], 0
    for g in groups:
        members = [m for m in pool if m.group == g]
        if n + len(members) > max_modules and chosen:
            break
        chosen.extend(members)
        n += len(members)
    return chosen


def retrieval_check(model: MIREncoder, modules: list[ds.Module], seed: int = 0) -> dict[str, float]:
    held = retrieval_set(modules, seed=seed)
    groups = [m.group for m in held]
    trained = retrieval_accuracy(embed_modules(model, held), groups)
    torch.manual_seed(seed)
    rand = MIREncoder(model.cfg)
    control = retrieval_accuracy(embed_modules(rand, held), groups)
    chance = float(np.mean([(Counter(groups)[g] - 1) / max(1, len(groups) - 1) for g in groups]))
    return {
        "retrieval_modules": len(held),
        "retrieval_groups": len(set(groups)),
        "retrieval_trained": trained,
        "retrieval_random_init": control,
        "retrieval_chance": chance,
    }


def modality_embeddings(
    model: MIREncoder, modules: list[ds.Module], batch: int = 16
) -> tuple[torch.Tensor, torch.Tensor]:
    """(text [n, e], graph [n, e]) embeddings of whole modules, read the way `embed` reads them."""
    emb = torch.from_numpy(embed_modules(model, modules, batch, modality="all"))
    return emb[:, 1], emb[:, 2]


MATCH_KINDS = ("own", "other_program", "sibling")


def matching_pairs(modules: list[ds.Module], rng: random.Random) -> dict[str, list[tuple[int, int]]]:
    """(text of i, graph of j) pairs: own graph, a random other program's, another variant's.

    Every module gets one of each kind; a module with no sibling variant gets no sibling pair.
    """
    by_group: dict[str, list[int]] = {}
    for i, m in enumerate(modules):
        by_group.setdefault(m.group, []).append(i)
    if len(by_group) < 2:
        raise ValueError("matching pairs need modules of at least two programs")
    pairs: dict[str, list[tuple[int, int]]] = {k: [] for k in MATCH_KINDS}
    for i, m in enumerate(modules):
        pairs["own"].append((i, i))
        while modules[j := rng.randrange(len(modules))].group == m.group:
            pass
        pairs["other_program"].append((i, j))
        sibs = [k for k in by_group[m.group] if k != i]
        if sibs:
            pairs["sibling"].append((i, rng.choice(sibs)))
    return pairs


def matching_accuracy(model: MIREncoder, text: torch.Tensor, graph: torch.Tensor, pairs: dict) -> dict[str, float]:
    """Accuracy of the matching head's yes/no per pair kind and over all pairs."""
    out: dict[str, float] = {}
    correct = total = 0
    with torch.no_grad():
        for kind, ps in pairs.items():
            if not ps:
                continue
            t, g = (list(x) for x in zip(*ps, strict=True))
            said_yes = model.match_logits(text[t], graph[g]) > 0
            right = said_yes if kind == "own" else ~said_yes
            out[f"intact_match_{kind}"] = float(right.float().mean())
            correct, total = correct + int(right.sum()), total + len(ps)
    out["intact_match_acc"] = correct / max(1, total)
    return out


def matching_check(model: MIREncoder, modules: list[ds.Module], seed: int = 0, draws: int = 5) -> dict[str, float]:
    """IR-graph matching on intact held-out modules, read the way `embed` reads them.

    The pre-training accuracy is measured on training-style batches: text with 15% of its
    tokens masked for MLM, graph and text cropped to one random window. This check asks the
    task's own question of whole modules: is this text the text of this graph? For every
    module of the retrieval set (held-out programs with at least two variants), three pairs:
    its own graph (yes), the graph of a random other program (no), and the graph of another
    variant of the same program (no; the hard case). Accuracy over all pairs and per kind,
    averaged over `draws` draws of the negatives (the spread of the overall figure is kept:
    with about 1,800 pairs a draw, one standard error is about half a point).
    """
    held = retrieval_set(modules, seed=seed)
    if len({m.group for m in held}) < 2:
        return {}
    text, graph = modality_embeddings(model, held)
    runs = [matching_accuracy(model, text, graph, matching_pairs(held, random.Random(seed + d))) for d in range(draws)]
    out = {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}
    overall = [r["intact_match_acc"] for r in runs]
    out["intact_match_acc_min"], out["intact_match_acc_max"] = min(overall), max(overall)
    out["intact_match_draws"] = draws
    out["intact_match_modules"] = len(held)
    return out
