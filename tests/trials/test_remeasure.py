"""`autotune collect --remeasure`: recorded configurations measured again on this machine, appended, resumable."""

from __future__ import annotations

import csv

from autotune import machine
from autotune.trials import collect as col
from autotune.trials.recorder import read_rows
from autotune.trials.remeasure import remeasure, targets
from tests.conftest import needs_clang
from tests.trials.test_collect import _journal_trials


def _write(path, rows):
    """A collect CSV holding exactly `rows` (what a test makes the database say)."""
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, col.FIELDS)
        w.writeheader()
        w.writerows(rows)


@needs_clang
def test_slowed_and_other_cpu_records_are_measured_again_once(tmp_path, monkeypatch, quick):
    monkeypatch.setenv("AUTOTUNE_CACHE", str(tmp_path / "cache"))
    quick.load_check = "off"  # about which records are measured again; the load check has its own tests
    work = col.suite_tasks(["jacobi-1d"], ["MINI"])
    first = tmp_path / "first.csv"
    assert col.collect(work, col.Database(first), seed=2, max_records=6, options=quick, batch=3) == 6
    rows = read_rows(first)
    assert all(r["status"] == "ok" for r in rows)  # jacobi-1d's knobs always build and verify
    rows[4]["cpu_model"] = "Another CPU"  # recorded elsewhere
    rows[5]["cpu_model"] = "Another CPU"  # ... and failed here: not tried again
    failed_here = {**rows[5], "cpu_model": machine.current().cpu_model, "status": "runtime_error", "speedup": ""}
    rows[1]["baseline_s"] = f"{float(rows[1]['baseline_s']) * 10:.6g}"  # its baseline ran 10x slow here
    out = tmp_path / "m.csv"
    _write(out, [*rows, failed_here])

    todo = targets(col.Database(out), work, machine.current().cpu_model)[work[0]]
    # the draw whose only record is slowed first, then the one only another CPU has
    assert [(s, i, k) for s, i, k, _ in todo] == [(2, 1, rows[1]["config_key"]), (2, 4, rows[4]["config_key"])]

    seen = []
    assert remeasure(work, col.Database(out), options=quick, on_record=seen.append) == 2
    again = read_rows(out)[7:]
    assert [(r["index"], r["config_key"], r["seed"]) for r in again] == [
        (rows[i]["index"], rows[i]["config_key"], "2") for i in (1, 4)
    ]
    assert all(r["cpu_model"] == machine.current().cpu_model and r["status"] == "ok" for r in again)
    assert [r["config_key"] for r in seen] == [r["config_key"] for r in again]
    assert _journal_trials(out) == 2  # the journal holds what this file's runs appended
    assert read_rows(out)[:7] == [*rows, failed_here]  # nothing rewritten
    # whether a new record counts as slowed depends on how busy the machine was while this test ran
    # (a suite beside other work slowed them): give them the first run's baseline, so the rerun's
    # answer is about what was measured, not about the load
    _write(out, [*rows, failed_here, *({**r, "baseline_s": rows[0]["baseline_s"]} for r in again)])
    assert remeasure(work, col.Database(out), options=quick) == 0  # a rerun has nothing left to do
