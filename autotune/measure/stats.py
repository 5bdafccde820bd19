"""Speedup estimate and its confidence interval from interleaved pairs.

Why paired ratios: absolute times here drift 30-60% between batches, but a
baseline run and the candidate run next to it see the same machine state. The
speedup is the median of per-pair ratios baseline/candidate, and its 95% CI is
a percentile bootstrap of that median (resamples of pairs, fixed seed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

N_BOOTSTRAP = 2000


@dataclass(frozen=True)
class Estimate:
    speedup: float
    lo: float
    hi: float

    @property
    def rel_halfwidth(self) -> float:
        return (self.hi - self.lo) / 2 / self.speedup if self.speedup > 0 else float("inf")


def paired_speedup(baseline: Sequence[float], candidate: Sequence[float], seed: int = 0) -> Estimate:
    b = np.asarray(baseline, dtype=float)
    c = np.asarray(candidate, dtype=float)
    if len(b) != len(c) or len(b) == 0:
        raise ValueError("need equally many baseline and candidate times, at least one")
    ratios = b / np.maximum(c, 1e-12)
    med = float(np.median(ratios))
    if len(ratios) < 2:
        return Estimate(med, med, med)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(ratios), size=(N_BOOTSTRAP, len(ratios)))
    meds = np.median(ratios[idx], axis=1)
    lo, hi = np.percentile(meds, [2.5, 97.5])
    return Estimate(med, float(lo), float(hi))
