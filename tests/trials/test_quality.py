"""autotune/trials/quality.py: which records count as measured on a slowed machine, and which one of a
configuration measured twice is learned from."""

from __future__ import annotations

import pandas as pd

from autotune.trials.quality import SLOWED, latest_clean, slowed


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


def test_a_remeasured_configuration_is_learned_once_from_its_best_record():
    def rec(cpu, cfg, when, slow):
        return dict(cpu_model=cpu, kernel="k", size="SMALL", config_key=cfg, time_utc=when, slowed=slow)

    rows = [
        rec("A", "c1", "2026-11-26T12:00:00Z", True),  # slowed, then measured again on a quiet machine
        rec("A", "c2", "2026-11-26T12:01:00Z", False),
        rec("A", "c1", "2026-12-02T14:00:00Z", False),
        rec("A", "c2", "2026-12-02T14:01:00Z", True),  # the later one was slowed: the earlier stays
        rec("A", "c3", "2026-11-26T12:02:00Z", False),
        rec("A", "c3", "2026-12-02T14:02:00Z", False),  # both clean: the latest
        rec("B", "c1", "2026-12-02T14:03:00Z", True),  # another CPU's: its own record
    ]
    kept = latest_clean(pd.DataFrame(rows))
    assert kept[["cpu_model", "config_key", "time_utc"]].values.tolist() == [
        ["A", "c2", "2026-11-26T12:01:00Z"],
        ["A", "c1", "2026-12-02T14:00:00Z"],
        ["A", "c3", "2026-12-02T14:02:00Z"],
        ["B", "c1", "2026-12-02T14:03:00Z"],
    ]
