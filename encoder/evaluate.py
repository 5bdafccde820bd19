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

from encoder import dataset as ds
from encoder.embedding import embed_encoded
from encoder.model import MIREncoder


def embed_modules(model: MIREncoder, modules: list[ds.Module], batch: int = 16) -> np.ndarray:
    out = [
        embed_encoded(model, [(m.ids.tolist(), m.graph) for m in modules[k : k + batch]])
        for k in range(0, len(modules), batch)
    ]
    return np.concatenate(out) if out else np.zeros((0, model.cfg.embed_dim), dtype=np.float32)


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
