"""The speedup estimate and its CI: the CI must cover what it claims, checked on recorded ratios."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autotune.measure import stats
from autotune.measure.stats import MIN_CI_PAIRS, coverage, median_ci, paired_speedup
from experiments import ci_coverage

COVERAGE_NS = (MIN_CI_PAIRS, 8, 10, 15, 20, 30, 60)
DRAWS = 2000  # binomial SE of a 95% coverage: 0.5%


def test_paired_ratios_cancel_drift():
    # the machine slows down 50% half-way; every pair still shows a 2x speedup
    base = [1.0, 1.0, 1.0, 1.5, 1.5, 1.5]
    cand = [0.5, 0.5, 0.5, 0.75, 0.75, 0.75]
    est = paired_speedup(base, cand)
    assert est.speedup == pytest.approx(2.0)
    assert est.lo == pytest.approx(2.0) and est.hi == pytest.approx(2.0)


def test_ci_contains_median_and_is_reproducible():
    base = [1.00, 1.02, 0.98, 1.01, 0.99, 1.03, 0.97, 1.00]
    cand = [0.50, 0.49, 0.52, 0.50, 0.51, 0.48, 0.50, 0.53]
    a, b = paired_speedup(base, cand), paired_speedup(base, cand)
    assert a == b and a.has_ci and a.pairs == 8
    assert a.lo <= a.speedup <= a.hi and a.hi - a.lo > 0
    assert a.rel_halfwidth < 0.06  # 8 ratios in 1.89-2.08: the 95% CI spans nearly x(2)..x(7)


def test_rejects_unpaired():
    with pytest.raises(ValueError):
        paired_speedup([1.0], [1.0, 2.0])


def test_min_ci_pairs_is_where_the_widest_interval_reaches_95_percent():
    # [x(1), x(n)] misses the median only when all n ratios fall on one side: 2 / 2**n
    assert MIN_CI_PAIRS == 6
    assert 1 - 2 / 2**6 >= 0.95 > 1 - 2 / 2**5
    assert stats.interval_weights(MIN_CI_PAIRS - 1) is None and stats.interval_weights(MIN_CI_PAIRS) is not None


@pytest.mark.parametrize("n", [1, 2, 3, MIN_CI_PAIRS - 1])
def test_too_few_pairs_claim_no_ci(n):
    """1 to 5 pairs: no interval can be 95% sure, so none is claimed and no CI target is ever met."""
    est = paired_speedup([1.0 + 0.01 * i for i in range(n)], [1.0] * n)
    assert est.lo is None and est.hi is None and not est.has_ci
    assert est.rel_halfwidth == math.inf
    assert est.speedup == pytest.approx(float(np.median([1.0 + 0.01 * i for i in range(n)])))
    assert median_ci([1.0] * n) is None


def test_interval_is_interpolated_between_order_statistics():
    """n=6: k=1 (gamma 96.9%), k=2 gives 78.1%; I = 0.1, lambda = 5*0.1 / (1 + 4*0.1) = 5/14."""
    x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    lam = 5 / 14
    lo, hi = median_ci(x[::-1])  # order does not matter
    assert lo == pytest.approx((1 - lam) * 1.0 + lam * 2.0)
    assert hi == pytest.approx((1 - lam) * 6.0 + lam * 5.0)
    k, lam60 = stats.interval_weights(60)
    assert k == 22 and 0 <= lam60 <= 1  # binomial: [x(22), x(39)] covers 95.0-96.%


KERNELS = ("lu", "conv2d", "gemm")


@pytest.fixture(scope="module")
def pools() -> dict[str, np.ndarray]:
    """Real per-pair ratio samples (experiments/ci_coverage.py builds them from the recordings)."""
    p = ci_coverage.pools(KERNELS)
    for name in KERNELS:
        assert f"{name}, one 60-pair measurement" in p  # each recording holds a full 60-pair measurement
    return p


def test_ci_covers_95_percent_on_recorded_ratio_distributions(pools):
    """Draws of n ratios from each recorded distribution: the 95% CI covers its true median 93-97% of the time."""
    table = {name: {n: coverage(pool, n, draws=DRAWS, seed=n) for n in COVERAGE_NS} for name, pool in pools.items()}
    bad = {(name, n): c for name, row in table.items() for n, c in row.items() if not 0.93 <= c <= 0.97}
    assert not bad, f"coverage outside 93-97%: {bad}\n{table}"


def test_the_coverage_check_rejects_the_old_bootstrap(pools):
    """The same check on the percentile bootstrap of the median: 3 pairs cover ~75%, 8 pairs ~91%."""
    pool = pools[next(k for k in pools if k.startswith("gemm, all configurations"))]
    assert coverage(pool, 3, draws=500, seed=3, method=ci_coverage.bootstrap) < 0.85
    assert coverage(pool, 8, draws=DRAWS, seed=8, method=lambda s: ci_coverage.bootstrap(s, 500)) < 0.93
    assert math.isnan(coverage(pool, 3, draws=10))  # our method claims nothing at 3 pairs


def test_coverage_without_smoothing_uses_the_pool_itself():
    pool = np.exp(np.random.default_rng(5).standard_normal(5001))
    assert 0.93 <= coverage(pool, 10, draws=DRAWS, seed=1, smooth=False) <= 0.97
    logs, h, truth = stats.smoothed([1.0, 2.0, 4.0])
    assert h > 0 and truth == pytest.approx(2.0, rel=1e-6)  # symmetric on the log scale
