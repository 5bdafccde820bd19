"""What a study already knows: the tuning history read back from Optuna storage.

Why a separate reader: the storage is the single source of truth (DESIGN.md
section 1), and three parties must agree on what it says: the session (what
has been measured, what to retry, when the budget is spent), the samplers
(which configurations are taken) and the outputs (the trials table, the best).
Every rule about trial states lives here, once.

Trial records, as trial user attributes:

* a measurement: state COMPLETE, `measured=True`, `key`, and every Measurement
  field (`status`, `speedup`, `ci_lo`, `ci_hi`, `verified`, times, `build_key`,
  `message`, `machine`, `config`, ...). Its objective value is the speedup, or
  0.0 when the variant failed (status other than `ok`): samplers learn to stay
  away from failing regions, and the status says why.
* a duplicate proposal answered from storage: COMPLETE, `duplicate_of=<trial>`,
  the stored value, never measured again and not counted as a measurement.
* an attempt that did not finish (Ctrl-C, a crash, `kill -9`): FAIL with
  `interrupted` or `stale`, or with no label at all where Optuna's heartbeat check
  failed it (a worker elsewhere went silent); its configuration is retried once,
  then left alone.
* a trial given up before measuring (its configuration taken, invalid, or the budget's
  last slot already in another worker's hands): FAIL with `skipped`; nothing to retry.
* an attempt stopped because the baseline itself cannot serve (its output
  changes from run to run): FAIL with `baseline_failed`, never retried; the
  study carries the same attribute and later runs stop at once with it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import optuna
import pandas as pd
from optuna.trial import FrozenTrial, TrialState

from autotune.search.params import config_from_params
from autotune.space import Space
from autotune.trials.records import FIELDS, LIST_FIELDS, config_key, flat_row

KEY = "key"
MEASURED = "measured"
DUPLICATE_OF = "duplicate_of"
STALE = "stale"
INTERRUPTED = "interrupted"
WORKER = "worker"
BASELINE_FAILED = "baseline_failed"  # on a trial and on the study: the untransformed program cannot serve
SKIPPED = "skipped"  # a trial given up before measuring; says why
MAX_ATTEMPTS = 2  # unfinished attempts of one configuration: the first and one retry


@dataclass
class History:
    """The study's trials, classified. Build one with `History.read(study, space)`."""

    space: Space
    measurements: list[FrozenTrial] = field(default_factory=list)  # in trial order
    by_key: dict[str, FrozenTrial] = field(default_factory=dict)
    running: set[str] = field(default_factory=set)
    queued: set[str] = field(default_factory=set)
    unfinished: Counter = field(default_factory=Counter)  # key -> attempts that did not finish

    @classmethod
    def read(cls, study: optuna.Study, space: Space, exclude: int | None = None) -> History:
        return cls.of(study.get_trials(deepcopy=False), space, exclude)

    @classmethod
    def of(cls, trials: Iterable[FrozenTrial], space: Space, exclude: int | None = None) -> History:
        h = cls(space)
        for t in sorted(trials, key=lambda t: t.number):
            if t.number == exclude:
                continue
            key = t.user_attrs.get(KEY)
            if t.state == TrialState.COMPLETE and t.user_attrs.get(MEASURED):
                h.measurements.append(t)
                h.by_key.setdefault(key, t)
            elif t.state == TrialState.RUNNING and key:
                h.running.add(key)
            elif t.state == TrialState.WAITING:
                fixed = t.system_attrs.get("fixed_params")
                if fixed is not None:
                    h.queued.add(config_key(config_from_params(space, fixed)))
            elif unfinished(t):
                h.unfinished[key] += 1
        return h

    # --- what is taken ----------------------------------------------------------------
    @property
    def gave_up(self) -> set[str]:
        return {k for k, n in self.unfinished.items() if n >= MAX_ATTEMPTS}

    @property
    def taken(self) -> set[str]:
        """Keys a sampler must not propose: measured, in progress, queued, or given up on."""
        return set(self.by_key) | self.running | self.queued | self.gave_up

    @property
    def settled(self) -> set[str]:
        """Keys no one will measure again: measured, given up on, or being measured by another worker.

        The queue is not settled: a queued configuration is still to be measured.
        """
        return set(self.by_key) | self.running | self.gave_up

    @property
    def n_measured(self) -> int:
        return len(self.measurements)

    # --- the incumbent -----------------------------------------------------------------
    def best(self) -> FrozenTrial | None:
        """The fastest verified measurement (the baseline counts, so it is never worse than doing nothing)."""
        ok = [t for t in self.measurements if is_ok(t)]
        return max(ok, key=lambda t: (t.user_attrs["speedup"], -t.number)) if ok else None

    def best_so_far(self) -> list[float | None]:
        """Best verified speedup after each measurement (None until one is ok)."""
        out: list[float | None] = []
        best: float | None = None
        for t in self.measurements:
            if is_ok(t) and (best is None or t.user_attrs["speedup"] > best):
                best = t.user_attrs["speedup"]
            out.append(best)
        return out

    def since_improvement(self) -> int:
        """Measurements after the one that set the current best (for early stopping)."""
        seq = self.best_so_far()
        n = 0
        for v in reversed(seq):
            if v != seq[-1]:
                break
            n += 1
        return max(n - 1, 0)

    def failures(self) -> Counter:
        return Counter(t.user_attrs.get("status", "?") for t in self.measurements if not is_ok(t))

    # --- the table ---------------------------------------------------------------------
    def frame(self) -> pd.DataFrame:
        """One row per measurement: `trial`, the knob columns (canonical config), the
        measurement fields (records.FIELDS), `baseline_times`/`candidate_times` (JSON),
        `cpu_model`, `strategy`, `proposal`, `key`. Failed variants have status != "ok"."""
        rows = []
        for t in self.measurements:
            attrs: dict[str, Any] = dict(t.user_attrs)
            attrs.setdefault("config", config_from_params(self.space, t.params))
            row = {"trial": t.number, **flat_row(attrs, self.space)}
            row["strategy"] = attrs.get("strategy", "")
            row["proposal"] = attrs.get("proposal", "")
            row["key"] = attrs.get(KEY, "")
            rows.append(row)
        knobs = [k.name for k in self.space]
        cols = ["trial", *knobs, *FIELDS, *LIST_FIELDS, "cpu_model", "strategy", "proposal", "key"]
        return pd.DataFrame(rows, columns=cols)


def unfinished(t: FrozenTrial) -> bool:
    """An attempt to measure the trial's configuration that did not finish (see the module's list).

    Every FAIL that autotune tells carries a label; one without `skipped` or `baseline_failed`
    is an attempt cut short: interrupted, marked stale, or failed by Optuna's heartbeat check
    (which can label nothing: the trial is finished when its callback runs).
    """
    a = t.user_attrs
    return (
        t.state == TrialState.FAIL
        and bool(a.get(KEY))
        and not a.get(MEASURED)
        and SKIPPED not in a
        and BASELINE_FAILED not in a
    )


def is_ok(t: FrozenTrial) -> bool:
    """A verified measurement with a speedup (the others failed and count as 0)."""
    return t.user_attrs.get("status") == "ok" and t.user_attrs.get("speedup") is not None
