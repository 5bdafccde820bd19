"""Which records to trust: those measured on a slowed machine are marked, and of a configuration measured
more than once the best record is the one learned from.

Why here, in the trials stage: `autotune collect --remeasure` (autotune.trials.remeasure) and the
surrogate's trainer (autotune.surrogate.train) must agree on both, and the trials stage imports
nothing above it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["SLOWED", "USUAL", "latest_clean", "slowed"]


SLOWED = 1.3  # a record's baseline this much slower than its workload's usual one: the machine was slowed
USUAL = 0.2  # the quantile of a workload's baseline times taken as its usual one


def slowed(df: pd.DataFrame) -> np.ndarray:
    """True for records whose baseline (the untransformed program, timed in the same interleaved run)
    took more than SLOWED times its workload's usual time (the USUAL quantile over the workload's records
    of the same CPU model).

    Why: a paired ratio cancels drift that slows both programs alike, but not work that takes one of the
    two cores: a two-thread variant then loses to one thread for a reason that is not the program's. The
    suite's first collection (2026-11-26, beside other work) has 60% of its records so marked, against
    3% of the quiet collection after it; the thread count's effect in them disagrees with the same
    programs' one-thread runs. The baseline's own time is the witness the record carries: it is the
    same binary every time, so a record where it ran slow was measured on a slowed machine.
    """
    b = pd.to_numeric(df["baseline_s"], errors="coerce")
    usual = b.groupby([df["kernel"], df["size"], df["cpu_model"]]).transform(lambda x: x.quantile(USUAL))
    return (b > SLOWED * usual).fillna(False).to_numpy(bool)


def latest_clean(df: pd.DataFrame) -> pd.DataFrame:
    """One record per configuration of a workload on one CPU: the latest not measured on a slowed machine,
    else the latest.

    Why: `autotune collect --remeasure` measures a recorded configuration again (its first record was
    taken on a slowed machine, or on another CPU); both records stay in the files, nothing is lost, and
    the trainer learns from the better one instead of counting the configuration twice.
    """
    if df.empty:
        return df
    order = df.assign(_at=df["time_utc"].astype(str)).sort_values(["slowed", "_at"], ascending=[True, False])
    first = ~order.duplicated(["cpu_model", "kernel", "size", "config_key"])
    return df.loc[sorted(order.index[first.to_numpy()])].reset_index(drop=True)
