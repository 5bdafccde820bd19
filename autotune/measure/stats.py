"""Speedup estimate and its confidence interval from interleaved pairs.

Why paired ratios: absolute times here drift 30-60% between batches, but a
baseline run and the candidate run next to it see the same machine state. The
speedup is the median of the per-pair ratios baseline/candidate.

Why this CI: a percentile bootstrap of the median of a handful of pairs is
close to the range of the data and covers far less than it claims (the
min-max of 3 ratios covers the median 75% of the time, not 95%). The
order-statistic interval for a median needs nothing but independent pairs
from a continuous distribution: the number of ratios below the true median is
Binomial(n, 1/2), so [x(k), x(n-k+1)] covers it with probability
P(k <= B <= n-k), exactly. Hettmansperger and Sheather (1986) interpolate
between the two neighbouring intervals so the coverage is close to 95% instead
of jumping between the discrete levels. Below `MIN_CI_PAIRS` pairs not even
[min, max] reaches 95% (1 - 2 / 2**n), so no CI is claimed there at all.
`coverage` checks the claim by simulation on recorded ratio distributions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

CONFIDENCE = 0.95


def _binom_half_cdf(k: int, n: int) -> float:
    """P(B <= k) for B ~ Binomial(n, 1/2)."""
    if k < 0:
        return 0.0
    return sum(math.comb(n, i) for i in range(min(k, n) + 1)) / 2.0**n


def _gamma(k: int, n: int) -> float:
    """Coverage of [x(k), x(n-k+1)] (1-based order statistics) for the median: P(k <= B <= n-k)."""
    return 1.0 - 2.0 * _binom_half_cdf(k - 1, n)


def min_pairs(confidence: float = CONFIDENCE) -> int:
    """Smallest n whose widest order-statistic interval [x(1), x(n)] covers the median with `confidence`."""
    n = 1
    while _gamma(1, n) < confidence:
        n += 1
    return n


MIN_CI_PAIRS = min_pairs(CONFIDENCE)  # 6: [x(1), x(6)] covers 96.9%; [x(1), x(5)] only 93.75%


@lru_cache(maxsize=256)
def interval_weights(n: int, confidence: float = CONFIDENCE) -> tuple[int, float] | None:
    """(k, lambda) of the Hettmansperger-Sheather interval for n ratios, None below the floor.

    k is the largest index with gamma_k >= confidence; the interval is
    lo = (1 - lambda) x(k) + lambda x(k+1), hi = (1 - lambda) x(n-k+1) + lambda x(n-k),
    with I = (gamma_k - confidence) / (gamma_k - gamma_{k+1}) and
    lambda = (n - k) I / (k + (n - 2k) I).
    """
    if n < 1 or _gamma(1, n) < confidence:
        return None
    k = 1
    while k + 1 <= n // 2 and _gamma(k + 1, n) >= confidence:
        k += 1
    gk, gk1 = _gamma(k, n), _gamma(k + 1, n)
    i = (gk - confidence) / (gk - gk1)
    lam = (n - k) * i / (k + (n - 2 * k) * i)
    return k, lam


def median_ci(values: Sequence[float] | np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """Distribution-free CI of the median of `values`; None when too few values to claim `confidence`."""
    x = np.sort(np.asarray(values, dtype=float))
    lo, hi = _ci_sorted(x[None, :], confidence)
    if lo is None or hi is None:
        return None
    return float(lo[0]), float(hi[0])


def _ci_sorted(x: np.ndarray, confidence: float) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The interval for each row of `x` (rows sorted ascending); (None, None) below the floor."""
    n = x.shape[1]
    w = interval_weights(n, confidence)
    if w is None:
        return None, None
    k, lam = w
    lo = (1 - lam) * x[:, k - 1] + lam * x[:, min(k, n - 1)]
    hi = (1 - lam) * x[:, n - k] + lam * x[:, max(n - k - 1, 0)]
    return lo, hi


@dataclass(frozen=True)
class Estimate:
    """Median speedup of the pairs and its 95% CI (`lo`/`hi` None when too few pairs to claim one)."""

    speedup: float
    lo: float | None
    hi: float | None
    pairs: int = 0

    @property
    def has_ci(self) -> bool:
        return self.lo is not None and self.hi is not None

    @property
    def rel_halfwidth(self) -> float:
        """CI half-width relative to the speedup; inf without a CI (never meets a stop target)."""
        if self.lo is None or self.hi is None or self.speedup <= 0:
            return float("inf")
        return (self.hi - self.lo) / 2 / self.speedup


def paired_speedup(baseline: Sequence[float], candidate: Sequence[float]) -> Estimate:
    """Speedup = median of the per-pair ratios baseline/candidate, with the order-statistic 95% CI."""
    b = np.asarray(baseline, dtype=float)
    c = np.asarray(candidate, dtype=float)
    if len(b) != len(c) or len(b) == 0:
        raise ValueError("need equally many baseline and candidate times, at least one")
    ratios = b / np.maximum(c, 1e-12)
    med = float(np.median(ratios))
    ci = median_ci(ratios)
    if ci is None:
        return Estimate(med, None, None, len(ratios))
    return Estimate(med, ci[0], ci[1], len(ratios))


# --- checking the claim ------------------------------------------------------------------------------


def _norm_cdf(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.vectorize(math.erf)(z / math.sqrt(2.0)))


def smoothed(ratios_pool: Sequence[float] | np.ndarray) -> tuple[np.ndarray, float, float]:
    """(log ratios, bandwidth, true median) of a Gaussian-kernel smoothing of the pool on the log scale.

    Why smooth: recorded times are quantised, so drawing the raw pool with
    replacement makes ties, and the order-statistic interval is only exact for
    continuous data. The smoothed distribution keeps the pool's shape (skew,
    outliers); its median is found by bisection on the mixture's CDF.
    """
    logs = np.log(np.asarray(ratios_pool, dtype=float))
    if len(logs) < 2:
        raise ValueError("need at least two ratios in the pool")
    sd = float(np.std(logs, ddof=1))
    q75, q25 = np.percentile(logs, [75, 25])
    spread = min(sd, float(q75 - q25) / 1.34) or sd or 1e-6
    h = 0.9 * spread * len(logs) ** -0.2  # Silverman's rule
    lo, hi = float(logs.min()) - 10 * h, float(logs.max()) + 10 * h
    for _ in range(80):
        mid = (lo + hi) / 2
        if float(np.mean(_norm_cdf((mid - logs) / h))) < 0.5:
            lo = mid
        else:
            hi = mid
    return logs, h, math.exp((lo + hi) / 2)


def coverage(
    ratios_pool: Sequence[float] | np.ndarray,
    n: int,
    draws: int = 2000,
    seed: int = 0,
    smooth: bool = True,
    method: Callable[[np.ndarray], tuple[float, float] | None] | None = None,
    confidence: float = CONFIDENCE,
) -> float:
    """Fraction of `draws` samples of n ratios whose CI covers the pool's true median.

    The pool stands for the true distribution of one measurement's ratios
    (e.g. a recorded 60-pair measurement): with `smooth`, samples come from its
    log-scale kernel smoothing and the truth is that distribution's median;
    without, from the pool itself (ties included) and the truth is the pool's
    median. `method` replaces this module's CI (one sample in, (lo, hi) or
    None out) to compare another method on the same draws. NaN when the
    method claims no CI for n.
    """
    rng = np.random.default_rng(seed)
    pool = np.asarray(ratios_pool, dtype=float)
    idx = rng.integers(0, len(pool), size=(draws, n))
    if smooth:
        logs, h, truth = smoothed(pool)
        samples = np.exp(logs[idx] + h * rng.standard_normal((draws, n)))
    else:
        samples, truth = pool[idx], float(np.median(pool))
    if method is None:
        lo, hi = _ci_sorted(np.sort(samples, axis=1), confidence)
        if lo is None or hi is None:
            return float("nan")
        return float(np.mean((lo <= truth) & (truth <= hi)))
    hits = 0
    for s in samples:
        ci = method(s)
        if ci is None:
            return float("nan")
        hits += ci[0] <= truth <= ci[1]
    return hits / draws
