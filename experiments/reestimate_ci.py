"""Re-derive the CI of every recorded measurement with the protocol's current method.

Why: the recordings were made when the CI was a percentile bootstrap of the
median, which claims 95% from as few as 3 pairs while covering about 75%.
The per-pair times are recorded, so each CI can be recomputed from them with
`autotune.measure.stats.paired_speedup` (the order-statistic interval, no CI
below `MIN_CI_PAIRS` pairs). Where only the pair count is recorded
(autotune/data/measurements.csv), a CI from fewer pairs than the floor is
withdrawn and no other is claimed. Records whose status is not `ok` are set to
`verified=False` (a timeout or a crash verifies nothing; older code marked them
verified). Speedups are not touched: they are the medians the recorder
computed from unrounded times.

The rewrite is idempotent (a second run changes nothing, and its summary then counts zeros: the
committed summary is the one of the run that migrated the files); the summary (results/ci_reestimate.md) says per file
how many records lost their CI, how many CIs changed and how the median
half-width moved.

Usage: python -m experiments.reestimate_ci [--check]   (--check: report only, write nothing)
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys

import numpy as np
import pandas as pd

from autotune.measure.stats import MIN_CI_PAIRS, paired_speedup
from experiments.provenance import ROOT
from experiments.report import markdown_table


def _times(text: object) -> list[float]:
    return [float(x) for x in json.loads(text)] if isinstance(text, str) and text.strip() else []


def reestimate(rows: list[dict[str, str]], lo: str, hi: str, base: str | None, cand: str | None, pairs: str) -> dict:
    """Recompute each row's lo/hi in place (text, as the CSV holds it); return the counts for the summary."""
    ok = [r for r in rows if r["status"] == "ok"]
    before_hw = _halfwidths(ok, lo, hi)
    withdrawn = recomputed = verified_fixed = 0
    for r in rows:
        if r["status"] != "ok":
            if "verified" in r and r["verified"].strip().lower() in ("true", "1"):
                r["verified"] = {"1": "0", "true": "false"}.get(r["verified"].strip(), "False")  # the file's spelling
                verified_fixed += 1
            continue
        old = (r[lo], r[hi])
        b, c = (_times(r[base]), _times(r[cand])) if base and cand else ([], [])
        if b and len(b) == len(c):
            est = paired_speedup(b, c)
            r[lo], r[hi] = _fmt(est.lo), _fmt(est.hi)
        elif int(float(r[pairs] or 0)) < MIN_CI_PAIRS:
            r[lo], r[hi] = "", ""
        # else: no times recorded and enough pairs: the old CI stands (it cannot be recomputed)
        if old[0] and not r[lo]:
            withdrawn += 1
        elif (
            r[lo]
            and (r[lo], r[hi]) != old
            and (float(r[lo]), float(r[hi])) != (float(old[0] or "nan"), float(old[1] or "nan"))
        ):
            recomputed += 1
    return {
        "records": len(rows),
        "ok": len(ok),
        "ci_withdrawn": withdrawn,
        "ci_recomputed": recomputed,
        "median_halfwidth_before": before_hw,
        "median_halfwidth_after": _halfwidths(ok, lo, hi),
        "failed_marked_verified": verified_fixed,
    }


def _fmt(v: float | None) -> str:
    return "" if v is None else f"{v:.5f}"


def _halfwidths(rows: list[dict[str, str]], lo: str, hi: str) -> float:
    hw = [(float(r[hi]) - float(r[lo])) / 2 / float(r["speedup"]) for r in rows if r[lo] and r[hi] and r["speedup"]]
    return round(float(np.median(hw)), 4) if hw else float("nan")


# (file, lo, hi, baseline times, candidate times, pairs)
RECORDINGS = [
    ("results/vectorization_grid.csv", "ci_lo", "ci_hi", "baseline_times_ms", "candidate_times_ms", "pairs"),
    ("autotune/data/measurements.csv", "ci_low", "ci_high", None, None, "pairs"),
    ("tests/data/replay/jacobi1d_small.csv", "ci_lo", "ci_hi", "baseline_times", "candidate_times", "repetitions"),
]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="report only; write nothing")
    a = p.parse_args(argv)
    files = list(RECORDINGS)
    for rec in sorted((ROOT / "results" / "search_efficiency_recordings").glob("*.csv")):
        files.append((str(rec.relative_to(ROOT)), "ci_lo", "ci_hi", "baseline_times", "candidate_times", "repetitions"))
    rows = []
    for rel, lo, hi, base, cand, pairs in files:
        path = ROOT / rel
        with path.open(newline="") as f:
            reader = csv.DictReader(f)
            fields, records = list(reader.fieldnames or []), list(reader)
        ending = "\r\n" if path.read_bytes().split(b"\n", 1)[0].endswith(b"\r") else "\n"  # keep the writer's
        counts = reestimate(records, lo, hi, base, cand, pairs)
        rows.append({"file": rel, **counts})
        if not a.check:
            tmp = path.with_suffix(".csv.tmp")
            with tmp.open("w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=fields, lineterminator=ending)
                w.writeheader()
                w.writerows(records)
            tmp.replace(path)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    if a.check:
        return 0
    text = [
        "# Recorded measurements under the current CI method",
        "",
        "Every recorded measurement's 95% CI re-derived from its recorded per-pair times with the protocol's "
        f"order-statistic interval (no CI below {MIN_CI_PAIRS} pairs); records with no recorded times lose a "
        "CI claimed from fewer pairs than that; failed records are no longer marked verified. Speedups are "
        "unchanged. Half-widths are relative to the speedup, medians over the `ok` records.",
        "",
        "Command: `python -m experiments.reestimate_ci`  ",
        f"Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "",
        markdown_table(table),
        "",
    ]
    (ROOT / "results" / "ci_reestimate.md").write_text("\n".join(text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
