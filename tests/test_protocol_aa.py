"""experiments/protocol_aa.py: the report's figures are computed from its CSV, never typed."""

from __future__ import annotations

import argparse

import pandas as pd
import pytest

from experiments import protocol_aa as aa
from tests.conftest import ROOT

CSV = ROOT / "results" / "protocol_aa.csv"


def _rows() -> pd.DataFrame:
    """Six A/A measurements of two kernels: one ran to the cap, two CIs miss 1.0."""
    base = {"baseline_ms": 100.0, "runs": 0, "harness_overhead_ms": 1.0, "outside_region_ms": 5.0, "timer": "region"}
    rows = [
        ("a", 0, 1.000, 0.990, 1.010, 1.0, True, 9),
        ("a", 1, 1.030, 1.010, 1.040, 1.5, False, 25),
        ("a", 2, 0.995, 0.975, 1.015, 2.0, True, 33),
        ("b", 0, 0.960, 0.940, 0.990, 1.9, False, 12),
        ("b", 1, 1.002, 0.970, 1.040, 3.5, True, 60),
        ("b", 2, 1.001, 0.985, 1.017, 1.6, True, 41),
    ]
    cols = ["kernel", "seed", "speedup", "ci_lo", "ci_hi", "ci_halfwidth_pct", "contains_1", "pairs"]
    return pd.DataFrame([{**dict(zip(cols, r, strict=True)), **base} for r in rows])


def _section(report: str) -> str:
    return report.split("## Where it falls short, and why", 1)[1].split("Per-measurement rows", 1)[0]


def test_shortfalls_state_what_the_rows_say():
    text = "\n".join(aa.shortfalls(_rows(), max_pairs=60, ci_target_pct=2.0))
    assert "median 29 (quartiles 15 to 39, range 9 to 60)" in text
    assert "2/6 stopped under 20 pairs; 4/6 stopped under 40 pairs; 1/6 ran to the 60-pair cap (b seed 1)" in text
    assert "ended with CI half-widths of 3.50% to 3.50%" in text
    assert "the CI excludes 1.0 in 2/6 measurements (33.3%; 0.3 expected" in text
    assert "Those 2 (a seed 1, b seed 0) have speedups 0.9600 to 1.0300, their CIs missing 1.0 by at most 1.00%" in text
    assert "within 4.00% of 1.0" in text
    # the single-pair spread is implied from each CI and its pairs when the CSV holds no measured one
    assert "implied by each measurement's CI half-width and pair count" in text
    measured = _rows().assign(pair_ratio_sd_pct=[3.0, 4.0, 5.0, 6.0, 20.0, 7.0])
    text = "\n".join(aa.shortfalls(measured, max_pairs=60, ci_target_pct=2.0))
    assert "measured (sd of the per-pair ratios" in text and "median 5.5%, range 3.0% to 20.0%" in text
    assert "widest by kernel: b 7.0%, a 4.0%" in text


@pytest.mark.skipif(not CSV.exists(), reason="no A/A results")
def test_rebuilt_report_measures_nothing_and_types_no_figure(tmp_path, monkeypatch):
    def no_timing(*_a, **_k):
        raise AssertionError("a --from-csv rebuild must not time anything")

    monkeypatch.setattr(aa, "spawn_cost_ms", no_timing)
    df = pd.read_csv(CSV)
    args = argparse.Namespace(from_csv=str(CSV), repeats=3, size="MEDIUM")
    aa.write(df, args, tmp_path)
    section = _section((tmp_path / "protocol_aa.md").read_text())
    for typed in ("40-60", "5-10%", "about 2.5%", "OMP_PROC_BIND"):
        assert typed not in section
    n = len(df)
    assert f"{int((df.pairs < 40).sum())}/{n} stopped under 40 pairs" in section
    assert f"the CI excludes 1.0 in {int((~df.contains_1).sum())}/{n} measurements" in section
    dev = (df.speedup - 1).abs().max() * 100
    assert f"within {dev:.2f}% of 1.0" in section
