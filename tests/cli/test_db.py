"""`autotune db` and the recording flags of `measure` and `run`, as a user runs them."""

from __future__ import annotations

import pytest

from autotune.trials.collect import DEFAULT_CSV
from autotune.trials.db.store import Store
from tests.cli.conftest import autotune, one_line_error
from tests.conftest import DATA, needs_clang
from tests.trials.test_db import committed, committed_rows

QUICK = ["--max-reps", "3", "--min-reps", "2", "--load-check", "off"]


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """The default database (and builds, studies) of each test in its own folder."""
    monkeypatch.setenv("AUTOTUNE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("AUTOTUNE_DB", raising=False)


@needs_clang
def test_measure_records_one_row_by_default_and_none_with_no_record(tmp_path):
    r = autotune("measure", str(DATA / "noloops.c"), "--set", "opt=O2", *QUICK)
    assert r.returncode == 0, r.stderr
    default = tmp_path / "cache" / "measurements.db"
    (row,) = Store.open(str(default)).rows()
    assert (row["source"], row["kernel"], row["status"]) == ("measure", "noloops", "ok")
    assert row["changed"] == '{"opt": "O2"}' and row["pairs"] == 3 and len(row["source_hash"]) == 64
    r = autotune("measure", str(DATA / "noloops.c"), "--set", "opt=O2", "--no-record", *QUICK)
    assert r.returncode == 0, r.stderr
    assert Store.open(str(default)).count() == 1
    other = tmp_path / "other.db"
    r = autotune("measure", str(DATA / "noloops.c"), "--set", "opt=O1", "--db", f"sqlite:///{other}", *QUICK)
    assert r.returncode == 0, r.stderr
    assert Store.open(str(other)).count() == 1 and Store.open(str(default)).count() == 1


@needs_clang
@pytest.mark.slow
def test_run_records_each_measurement_once_and_a_rerun_records_nothing(tmp_path):
    db = f"sqlite:///{tmp_path / 'm.db'}"
    run = ["run", str(DATA / "noloops.c"), "--budget", "2", "--strategy", "random", "--db", db, *QUICK]
    run += ["--storage", str(tmp_path / "j.log"), "--out", str(tmp_path / "out")]
    r = autotune(*run)
    assert r.returncode == 0, r.stderr
    rows = Store.open(db).rows()
    assert [(x["source"], x["trial"]) for x in rows] == [("run", 0), ("run", 1)] and rows[0]["study"]
    assert autotune(*run).returncode == 0  # the study holds its budget: nothing measured, nothing recorded
    assert Store.open(db).count() == 2


def test_import_stats_and_export_of_the_committed_csv(tmp_path):
    db = f"sqlite:///{tmp_path / 'm.db'}"
    r = autotune("db", "import", str(DEFAULT_CSV), "--db", db)
    assert r.returncode == 0, r.stderr
    n, ok, met = committed()
    assert r.stdout.startswith(f"{n} of {n} rows")
    r = autotune("db", "stats", "--db", db)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert f"records        {n} ({ok} verified, {ok} ok)" in lines
    machines = len({(r["cpu_model"], r["cores"], r["compiler"]) for r in committed_rows()})  # the CSV's CPUs
    assert f"by source      import {n}" in lines and f"machines       {machines}" in lines
    assert any(line.startswith("CI half-width  median ") for line in lines)
    assert any(line.startswith(f"met CI target  {met} of {ok}") for line in lines)
    out = tmp_path / "back.csv"
    r = autotune("db", "export", "--csv", str(out), "--db", db)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == DEFAULT_CSV.read_bytes()
    r = autotune("db", "export", "--csv", str(out), "--db", db, "--source", "run")
    assert r.returncode == 0 and out.read_bytes().count(b"\r\n") == 1  # the header alone


@pytest.mark.parametrize(
    "args",
    [
        ["db", "stats", "--db", "postgresql://alice:s3cret@127.0.0.1:9/tune"],
        ["db", "import", str(DEFAULT_CSV), "--db", "nosuchkind://alice:s3cret@host/db"],
        ["measure", str(DATA / "noloops.c"), "--db", "postgresql://alice:s3cret@127.0.0.1:9/tune"],
    ],
)
def test_a_bad_database_url_is_one_line_without_the_password(args):
    r = autotune(*args)
    one_line_error(r, "alice:***@")
    assert "s3cret" not in r.stdout + r.stderr


def test_stats_of_no_database_says_how_to_make_one(tmp_path):
    r = autotune("db", "stats")
    one_line_error(r, "no measurement database at sqlite:///")
    assert not (tmp_path / "cache" / "measurements.db").exists()  # looking did not create one
