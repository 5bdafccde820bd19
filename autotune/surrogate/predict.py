"""`autotune predict`: a zero-shot ranking of configurations, no timing of candidates.

Why it exists: before spending a budget the surrogate's prior says where the
speed is likely to be; the search-efficiency experiment also reports how good
its top pick is at zero evaluations.

Why it is careful: a surrogate trained on other kernels is least reliable far from
what it was trained on, and a confident 1.5x that measures 0.6x costs a user more
than no advice. So it ranks only configurations near the default (at most
`MAX_CHANGED` knobs changed, as the sparse half of its training data), orders them by
a lower confidence bound (mean minus one ensemble spread) rather than the mean, and
says for each row whether even that bound beats the untransformed program
(`confident`). The baseline's time, which the surrogate reads, comes from one run of
the untransformed program.
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

MAX_CHANGED = 3  # knobs a proposal may change from the default: no extrapolation to 15-knob combinations
KAPPA = 1.0  # spreads subtracted from the mean for the ranking (a lower confidence bound)


def candidate_pool(space: Space, size: int, seed: int) -> list[Config]:
    """Distinct valid configurations one to `MAX_CHANGED` knobs away from the default."""
    rng = random.Random(seed)
    seen: set[str] = {config_key(space.default())}
    out: list[Config] = []
    for _ in range(size * 4):
        c = draw(space, rng, sparse=True)
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
    """The `top` configurations of a pool near the default, by the full prior's lower confidence bound.

    Columns: `predicted_speedup` (the mean), `low`/`high` (one spread either side), `spread`
    (the ensemble's standard deviation of log speedup), `confident` (`low` above 1: faster than
    the untransformed program even at one spread down), `changed`, `config`, `embedded` (False
    for a variant whose IR could not be built: the full prior has no embedding to read for it,
    so its prediction comes from the knob-only prior). `attrs["trained_on"]`: the CPU whose records
    the surrogate learned from.
    """
    from autotune.surrogate.scorer import EMBED_TOP
    from autotune.variant import make_variant

    sc = scorer or make_scorer(kernel, space)
    cands = candidate_pool(space, pool, seed)
    Xk = np.stack([sc.knob_vector(c) for c in cands])
    mk, sk = sc.sur.knobs.predict(Xk)
    keys = [make_variant(kernel, space, c).build_key(kernel) for c in cands]
    chosen_keys: list[str] = []
    for i in np.argsort(-(mk - KAPPA * sk)):
        if keys[i] not in chosen_keys:
            chosen_keys.append(keys[i])
        if len(chosen_keys) >= max(top, EMBED_TOP) * 3:
            break
    chosen = [i for i, k in enumerate(keys) if k in chosen_keys]
    X = sc.fz.features(kernel, space, [cands[i] for i in chosen], sc.cores, sc.baseline())
    m, s = sc.sur.full.predict(X)
    # a variant without IR has zeros for an embedding: its prediction is the knob-only prior's, and says so
    no_emb = sc.fz.no_embedding.copy()
    if no_emb.any():
        m[no_emb], s[no_emb] = (v[no_emb] for v in sc.sur.knobs.predict(Xk[chosen]))
    order = np.argsort(-(m - KAPPA * s))[:top]
    rows = []
    for j in order:
        c = cands[chosen[j]]
        rows.append(
            {
                "predicted_speedup": float(np.exp(m[j])),
                "low": float(np.exp(m[j] - s[j])),
                "high": float(np.exp(m[j] + s[j])),
                "spread": float(s[j]),
                "confident": bool(m[j] - s[j] > 0),
                "changed": space.changed(c),
                "config": c,
                "embedded": not no_emb[j],  # False: no IR for this variant, knob-only prediction
            }
        )
    out = pd.DataFrame(rows)
    out.attrs["trained_on"] = sc.sur.meta.get("cpu_model")  # whose records the surrogate learned from
    return out
