import pytest

from autotune.measure.stats import paired_speedup


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
    a, b = paired_speedup(base, cand, seed=3), paired_speedup(base, cand, seed=3)
    assert a == b
    assert a.lo <= a.speedup <= a.hi and a.hi - a.lo > 0
    assert a.rel_halfwidth < 0.05


def test_rejects_unpaired():
    with pytest.raises(ValueError):
        paired_speedup([1.0], [1.0, 2.0])
