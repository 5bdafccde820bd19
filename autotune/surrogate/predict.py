"""`autotune predict`: a zero-shot ranking of configurations, no timing.

Why it exists: before spending a budget the surrogate's prior says where the
speed is likely to be; the search-efficiency experiment also reports how good
its top pick is at zero evaluations.
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd

from autotune.kernel import Kernel
from autotune.space import Config, Space
from autotune.surrogate.scorer import SurrogateScorer, make_scorer
from autotune.trials.collect import draw
from autotune.trials.records import config_key


def candidate_pool(space: Space, size: int, seed: int) -> list[Config]:
    """Distinct valid configurations: half all-knobs-random, half one-to-three knobs changed."""
    rng = random.Random(seed)
    seen: set[str] = {config_key(space.default())}
    out: list[Config] = []
    for i in range(size * 4):
        c = draw(space, rng, sparse=i % 2 == 1)
        k = config_key(c)
        if k not in seen:
            seen.add(k)
            out.append(c)
        if len(out) >= size:
            break
    return out


def rank(
    kernel: Kernel, space: Space, top: int = 10, pool: int = 200, seed: int = 0, scorer: SurrogateScorer | None = None
) -> pd.DataFrame:
    """The `top` configurations of a random pool by predicted speedup (mean of the full prior).

    Column `embedded` is False for a variant whose IR could not be built: the full prior has no
    embedding to read for it, so its prediction comes from the knob-only prior.
    """
    from autotune.surrogate.scorer import EMBED_TOP
    from autotune.variant import make_variant

    sc = scorer or make_scorer(kernel, space)
    cands = candidate_pool(space, pool, seed)
    Xk = np.stack([sc.knob_vector(c) for c in cands])
    mk, _ = sc.sur.knobs.predict(Xk)
    keys = [make_variant(kernel, space, c).build_key(kernel) for c in cands]
    chosen_keys: list[str] = []
    for i in np.argsort(-mk):
        if keys[i] not in chosen_keys:
            chosen_keys.append(keys[i])
        if len(chosen_keys) >= max(top, EMBED_TOP) * 3:
            break
    chosen = [i for i, k in enumerate(keys) if k in chosen_keys]
    X = sc.fz.features(kernel, space, [cands[i] for i in chosen], sc.cores)
    m, s = sc.sur.full.predict(X)
    # a variant without IR has zeros for an embedding: its prediction is the knob-only prior's, and says so
    no_emb = sc.fz.no_embedding.copy()
    if no_emb.any():
        m[no_emb], s[no_emb] = (v[no_emb] for v in sc.sur.knobs.predict(Xk[chosen]))
    order = np.argsort(-m)[:top]
    rows = []
    for j in order:
        c = cands[chosen[j]]
        rows.append(
            {
                "predicted_speedup": float(np.exp(m[j])),
                "low": float(np.exp(m[j] - s[j])),
                "high": float(np.exp(m[j] + s[j])),
                "changed": space.changed(c),
                "config": c,
                "embedded": not no_emb[j],  # False: no IR for this variant, knob-only prediction
            }
        )
    return pd.DataFrame(rows)
