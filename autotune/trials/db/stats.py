"""What the measurement database holds: `autotune db stats`.

Why these numbers: they say whether the surrogate can learn from it (how many verified records,
of how many distinct programs, from how many machines) and how much to trust them (how wide
the CIs are, how many met the protocol's target, when they were taken, by what).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from autotune.trials.db.store import Store

COLUMNS = (
    "source",
    "status",
    "verified",
    "kernel",
    "source_hash",
    "machine_id",
    "speedup",
    "ci_lo",
    "ci_hi",
    "ci_met",
    "created",
)


@dataclass
class Stats:
    database: str  # the URL, masked
    records: int = 0
    verified: int = 0
    ok: int = 0  # status ok (a speedup was measured)
    kernels: int = 0  # distinct source hashes
    kernel_names: int = 0
    without_source_hash: int = 0  # records whose program version is not known (imported CSV rows)
    machines: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    with_ci: int = 0  # ok records with a CI
    ci_halfwidth: dict[str, float] | None = None  # relative half-width: q25, median, q75
    ci_met: int = 0  # ok records whose CI met its target
    first: str | None = None  # UTC, ISO
    last: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        """The report for people, one fact a line."""
        share = f" ({self.ci_met / self.ok:.0%})" if self.ok else ""
        hw = self.ci_halfwidth
        spread = (
            f"median {hw['median']:.1%}, quartiles {hw['q25']:.1%} to {hw['q75']:.1%} ({self.with_ci} ok with a CI)"
            if hw
            else "none (no ok record has a CI)"
        )
        unknown = f" ({self.without_source_hash} records without one: imported)" if self.without_source_hash else ""
        return [
            f"database       {self.database}",
            f"records        {self.records} ({self.verified} verified, {self.ok} ok)",
            f"kernels        {self.kernel_names} names, {self.kernels} distinct source hashes{unknown}",
            f"machines       {self.machines}",
            "by source      " + (", ".join(f"{k} {n}" for k, n in sorted(self.by_source.items())) or "none"),
            f"CI half-width  {spread}",
            f"met CI target  {self.ci_met} of {self.ok} ok records{share}",
            f"dates          {self.first} to {self.last}" if self.first else "dates          none",
        ]


def _iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%SZ")


def stats(store: Store) -> Stats:
    rows = store.rows(columns=COLUMNS)
    s = Stats(store.shown, records=len(rows))
    if not rows:
        return s
    s.verified = sum(bool(r["verified"]) for r in rows)
    ok = [r for r in rows if r["status"] == "ok" and r["speedup"] is not None]
    s.ok = len(ok)
    s.kernels = len({r["source_hash"] for r in rows if r["source_hash"]})
    s.without_source_hash = sum(not r["source_hash"] for r in rows)
    s.kernel_names = len({r["kernel"] for r in rows})
    s.machines = len({r["machine_id"] for r in rows if r["machine_id"]})
    s.by_source = dict(Counter(r["source"] for r in rows))
    hw = [
        (r["ci_hi"] - r["ci_lo"]) / 2 / r["speedup"]
        for r in ok
        if r["ci_lo"] is not None and r["ci_hi"] is not None and r["speedup"] > 0
    ]
    s.with_ci = len(hw)
    if hw:
        q25, med, q75 = (float(v) for v in np.percentile(hw, [25, 50, 75]))
        s.ci_halfwidth = {"q25": q25, "median": med, "q75": q75}
    s.ci_met = sum(bool(r["ci_met"]) for r in ok)
    times = [r["created"] for r in rows]
    s.first, s.last = _iso(min(times)), _iso(max(times))
    return s
