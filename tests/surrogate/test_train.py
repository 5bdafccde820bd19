"""autotune/surrogate/train.py: which records count as measured on a slowed machine."""

from __future__ import annotations

import pandas as pd

from autotune.surrogate.train import SLOWED, slowed


def test_a_record_whose_baseline_ran_slow_is_marked_per_workload_and_cpu():
    usual = [0.100, 0.101, 0.099, 0.100, 0.102]
    rows = [dict(kernel="k", size="SMALL", cpu_model="A", baseline_s=b) for b in usual]
    rows.append(dict(kernel="k", size="SMALL", cpu_model="A", baseline_s=0.100 * SLOWED * 1.05))  # slowed
    rows.append(dict(kernel="k", size="SMALL", cpu_model="A", baseline_s=0.100 * SLOWED * 0.95))  # drift, kept
    rows.append(dict(kernel="k", size="MEDIUM", cpu_model="A", baseline_s=1.0))  # its own workload: alone
    rows.append(dict(kernel="k", size="SMALL", cpu_model="B", baseline_s=0.5))  # another CPU's usual time
    rows.append(dict(kernel="k", size="SMALL", cpu_model="A", baseline_s=None))  # no time: nothing to say
    flags = slowed(pd.DataFrame(rows))
    assert flags.tolist() == [False] * 5 + [True, False, False, False, False] and flags.dtype == bool
