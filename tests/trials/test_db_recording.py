"""What lands in the measurement database: each finished measurement of a run once, and collect's records.

The runs here are served by the replay (tests/data/replay), so the search logic is real and
nothing is timed; the collection test times MINI kernels for real.
"""

from __future__ import annotations

import optuna
import pytest

from autotune.search import ReplayMeasurer, tune
from autotune.trials import collect as col
from autotune.trials.db import csvio
from autotune.trials.db.store import Appender, Store
from tests.conftest import needs_clang
from tests.search.conftest import JACOBI, REPLAY


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOTUNE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("AUTOTUNE_DB", raising=False)


def _tune(tmp_path, **kw):
    m = ReplayMeasurer(REPLAY)
    journal = str(tmp_path / "j.log")
    tune(JACOBI, defines=["SMALL_DATASET"], storage=journal, space=m.space, measurer=m, out=tmp_path / "o", **kw)
    st = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(journal))
    return m, optuna.load_study(study_name="s", storage=st)


def test_every_measurement_is_recorded_once_and_answers_from_storage_are_not(tmp_path):
    db = f"sqlite:///{tmp_path / 'm.db'}"
    m, study = _tune(tmp_path, budget=35, strategy="tpe", study="s", record=True, db=db)
    dupes = [t for t in study.trials if "duplicate_of" in t.user_attrs]
    assert dupes, "TPE re-proposes on a 60-point space"
    rows = Store.open(db).rows()
    assert len(rows) == len(m.calls) == 35 < len(study.trials)
    measured = {t.number for t in study.trials if "status" in t.user_attrs}
    assert sorted(r["trial"] for r in rows) == sorted(measured)
    assert {r["source"] for r in rows} == {"run"} and {r["study"] for r in rows} == {"s"}
    assert {r["kernel"] for r in rows} == {"jacobi-1d"} and {r["size"] for r in rows} == {"SMALL"}
    assert len({r["source_hash"] for r in rows}) == 1 and rows[0]["ci_target"] == 0.02


def test_a_replayed_run_records_nothing_unless_asked(tmp_path):
    _tune(tmp_path, budget=3, strategy="random", study="s")  # a measurer of the caller's: not a real timing
    assert not (tmp_path / "cache" / "measurements.db").exists()
    _tune(tmp_path, budget=4, strategy="random", study="s", record=True)  # the default database, one new trial
    assert Store.open(str(tmp_path / "cache" / "measurements.db")).count() == 1


@needs_clang
@pytest.mark.slow
def test_collect_writes_each_record_to_the_database_as_well_and_the_csv_is_unchanged(tmp_path, quick):
    workloads = col.suite_tasks(["jacobi-1d"], ["MINI"])
    db, out = f"sqlite:///{tmp_path / 'm.db'}", tmp_path / "m.csv"
    store = Store.open(db)
    assert col.collect(workloads, col.Database(out, store=Appender(store, source="collect")), max_records=2) == 2
    csvio.export_csv(store, tmp_path / "back.csv")
    assert (tmp_path / "back.csv").read_bytes() == out.read_bytes()  # the CSV is what it always was
    rows = store.rows()
    assert [r["source"] for r in rows] == ["collect"] * 2 and all(len(r["source_hash"]) == 64 for r in rows)
    assert all(r["stop_reason"] and r["machine"]["cpu_model"] for r in rows if r["status"] == "ok")
    assert csvio.import_csv(store, out) == (2, 0)  # the same records: importing the CSV adds nothing
