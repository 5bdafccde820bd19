"""experiments/cross_cpu.py: configurations recorded on two CPUs, paired and compared per workload."""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.cross_cpu import MIN_SHARED, compare, pairs


def _records(cpu: str, speedups, base: float, kernel: str = "k", slowed=None) -> list[dict]:
    return [
        dict(
            kernel=kernel,
            size="SMALL",
            config_key=f"c{i}",
            cpu_model=cpu,
            speedup=s,
            ci_low=s * 0.99,
            ci_high=s * 1.01,
            baseline_s=base,
            slowed=bool(slowed and i in slowed),
        )
        for i, s in enumerate(speedups)
    ]


def test_two_cpus_that_rank_alike_agree_and_one_that_reverses_does_not():
    sp = np.linspace(0.5, 2.0, 8)
    rows = _records("A", sp, 0.3) + _records("B", sp * 1.02, 0.2)
    rows += _records("A", sp, 0.3, "rev") + _records("B", sp[::-1], 0.2, "rev")
    rows += _records("A", sp[: MIN_SHARED - 1], 0.3, "few") + _records("B", sp[: MIN_SHARED - 1], 0.2, "few")
    rows += _records("A", sp, 0.3, "slow", slowed={0, 1, 2, 3}) + _records("B", sp, 0.2, "slow")
    p = pairs(pd.DataFrame(rows), "A", "B")
    assert len(p[p["kernel"] == "slow"]) == 4  # a slowed record pairs with nothing
    res = compare(p).set_index("kernel")
    assert set(res.index) == {"k", "rev"}  # "few" and "slow" have too few configurations on both
    assert res.loc["k", "spearman"] == 1.0 and res.loc["rev", "spearman"] == -1.0
    assert res.loc["k", "expected"] > 0.95  # CIs of 2%: two measurements on one CPU would agree
    assert res.loc["k", "baseline b/a"] == 0.2 / 0.3
    assert res.loc["rev", "same side of 1"] < res.loc["k", "same side of 1"] == 1.0
