"""The measurement database (autotune.trials.db): schema, concurrent appends, CSV in and out, stats, bad URLs.

Every test uses a real SQLite file in tmp_path, and those marked so a real PostgreSQL server too
(tests/postgres.py): the database several machines share; nothing of the database is mocked.
"""

from __future__ import annotations

import csv
import datetime as dt
import multiprocessing

import pytest
from sqlalchemy import text

from autotune.errors import UserError
from autotune.measure import Measurement
from autotune.trials.collect import DEFAULT_CSV, FIELDS
from autotune.trials.db import csvio
from autotune.trials.db.schema import COLUMNS, Program, entry
from autotune.trials.db.stats import stats
from autotune.trials.db.store import Appender, Store, mask, resolve

MACHINE = {"cpu_model": "Test CPU", "usable_cores": 2, "logical_cores": 2, "compilers": {"clang": "clang 22"}}
PROGRAM = Program("gemm", "ab" * 32, "MINI", ["MINI_DATASET"], {"defines": ["MINI_DATASET"], "cflags": []})


def measurement(speedup: float | None = 1.25, ci=(1.24, 1.26), status: str = "ok", **kw) -> Measurement:
    m = Measurement(
        status=status,  # type: ignore[arg-type]
        message="verified",
        config={"threads": 2, "opt": "O3"},
        changed={"threads": 2},
        speedup=speedup,
        ci=ci,
        baseline_seconds=0.02 if speedup else None,
        candidate_seconds=0.016 if speedup else None,
        repetitions=12,
        verified=status == "ok",
        stop_reason="ci target" if status == "ok" else "",
        build_key="k" * 24,
        load_before=0.01,
        load_during=0.02,
        machine=dict(MACHINE),
    )
    for k, v in kw.items():
        setattr(m, k, v)
    return m


def committed_rows() -> list[dict[str, str]]:
    from autotune.trials.recorder import read_rows

    return read_rows(DEFAULT_CSV)


def committed() -> tuple[int, int, int]:
    """The committed suite CSV's rows, ok rows and ok rows whose CI met the ±2% target (it grows)."""
    from autotune.trials.db.schema import DEFAULT_CI_TARGET, ci_met
    from autotune.trials.recorder import read_rows

    rows = read_rows(DEFAULT_CSV)
    ok = [r for r in rows if r["status"] == "ok"]
    met = sum(
        bool(ci_met(float(r["speedup"]), float(r["ci_low"]), float(r["ci_high"]), DEFAULT_CI_TARGET))
        for r in ok
        if r["ci_low"] and r["ci_high"]
    )
    return len(rows), len(ok), met


def url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'm.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path) -> str:
    """A fresh database of each kind: a SQLite file, a database on the throwaway PostgreSQL server."""
    return url(tmp_path) if request.param == "sqlite" else request.getfixturevalue("postgres").new_database()


def test_a_measurement_comes_back_with_every_field(db):
    store = Store.open(db)
    made = entry(measurement(), PROGRAM, source="run", ci_target=0.02, seed=3, study="s", trial=4, ir_hash="ff" * 8)
    store.add(made)
    store.close()
    (back,) = Store.open(db).rows()  # a new connection: what is on disk
    assert set(back) == {"id", *COLUMNS}
    for k in COLUMNS:
        assert back[k] == made[k], k
    assert back["ci_met"] is True and back["verified"] is True and back["source"] == "run"
    assert back["config_key"] == '{"opt":"O3","threads":2}' and back["defines"] == ["MINI_DATASET"]
    assert (
        back["machine"]["compilers"] == {"clang": "clang 22"} and back["cores"] == 2 and len(back["machine_id"]) == 16
    )


def test_a_ci_that_missed_its_target_is_kept_and_flagged(tmp_path):
    store = Store.open(url(tmp_path))
    store.add(entry(measurement(ci=(1.0, 1.5)), PROGRAM, source="measure", ci_target=0.02))  # +-20%
    store.add(entry(measurement(ci=None), PROGRAM, source="measure", ci_target=0.02))  # too few pairs for a CI
    store.add(entry(measurement(None, None, "compile_error"), PROGRAM, source="measure", ci_target=0.02))
    assert [r["ci_met"] for r in store.rows()] == [False, False, None]


def _append(db: str, worker: int, n: int, start) -> None:
    start.wait()  # both processes create the table and write at the same moment
    store = Store.open(db)
    for i in range(n):
        store.add(entry(measurement(), PROGRAM, source="collect", ci_target=0.02, seed=worker, draw_index=i))


def test_two_processes_appending_at_once_lose_nothing(db):
    ctx = multiprocessing.get_context("fork")
    start = ctx.Barrier(2)
    procs = [ctx.Process(target=_append, args=(db, w, 50, start)) for w in (0, 1)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    rows = Store.open(db).rows(columns=["seed", "draw_index"])
    assert sorted((r["seed"], r["draw_index"]) for r in rows) == [(w, i) for w in (0, 1) for i in range(50)]


def test_records_of_several_machines_keep_their_fingerprints(db):
    """One database grown by identical machines and one that is not: every record says which it was."""
    store = Store.open(db)
    other = {**MACHINE, "cpu_model": "Other CPU"}
    for m in (MACHINE, MACHINE, other):
        store.add(entry(measurement(machine=dict(m)), PROGRAM, source="collect", ci_target=0.02))
    rows = Store.open(db).rows()
    assert [r["cpu_model"] for r in rows] == ["Test CPU", "Test CPU", "Other CPU"]
    assert rows[0]["machine_id"] == rows[1]["machine_id"] != rows[2]["machine_id"]


def test_the_committed_csv_goes_in_and_comes_back_byte_for_byte(tmp_path):
    store = Store.open(url(tmp_path))
    n = committed()[0]
    assert csvio.import_csv(store, DEFAULT_CSV) == (n, n)
    assert csvio.import_csv(store, DEFAULT_CSV) == (n, 0)  # a second import adds nothing
    assert store.count() == n
    out = tmp_path / "out.csv"
    assert csvio.export_csv(store, out) == n
    assert out.read_bytes() == DEFAULT_CSV.read_bytes()
    rows = store.rows()
    assert {r["source"] for r in rows} == {"import"} and all(r["source_hash"] is None for r in rows)
    assert sum(r["ci_met"] is False for r in rows) > sum(r["ci_met"] is True for r in rows)  # kept, flagged


def test_a_row_that_would_not_come_back_as_written_is_refused_and_nothing_imported(tmp_path):
    with DEFAULT_CSV.open(newline="") as f:
        rows = list(csv.DictReader(f))
    i = next(i for i, r in enumerate(rows) if r["status"] == "ok")
    rows[i]["speedup"] += "0"  # six decimals: collect writes five, so an export would differ
    bad = tmp_path / "bad.csv"
    with bad.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(rows)
    store = Store.open(url(tmp_path))
    with pytest.raises(UserError, match=rf"bad.csv:{i + 2}: column speedup .* would not come back as written"):
        csvio.import_csv(store, bad)
    assert store.count() == 0


def test_stats_count_what_the_database_holds(tmp_path):
    store = Store.open(url(tmp_path))
    other = Program("jacobi-1d", "cd" * 32, "MINI", ["MINI_DATASET"], None)
    when = dt.datetime(2026, 1, 2, 3, 4, 5)
    store.add(entry(measurement(ci=(1.24, 1.26)), PROGRAM, source="run", ci_target=0.02, created=when))
    store.add(entry(measurement(ci=(1.0, 1.5)), PROGRAM, source="measure", ci_target=0.02))
    store.add(entry(measurement(None, None, "timeout"), other, source="run", ci_target=0.02))
    csvio.import_csv(store, DEFAULT_CSV)
    s = stats(store)
    n, ok, met = committed()
    machines = {(r["cpu_model"], r["cores"], r["compiler"]) for r in committed_rows()}  # the CSV's CPUs
    assert (s.records, s.kernels, s.without_source_hash, s.machines) == (n + 3, 2, n, 1 + len(machines))
    assert s.by_source == {"run": 2, "measure": 1, "import": n}
    assert s.ok == ok + 2 and s.verified == ok + 2 and s.ci_met == met + 1
    assert s.first == "2026-01-02 03:04:05Z" and s.ci_halfwidth is not None
    assert 0 < s.ci_halfwidth["q25"] <= s.ci_halfwidth["median"] <= s.ci_halfwidth["q75"]
    assert f"met CI target  {met + 1} of {ok + 2} ok records ({(met + 1) / (ok + 2):.0%})" in s.lines()


@pytest.mark.parametrize(
    "bad, says",
    [
        ("postgresql://alice:s3cret@127.0.0.1:9/tune", "postgresql://alice:***@127.0.0.1:9/tune"),
        ("nosuchkind://alice:s3cret@host/db", "unknown database kind 'nosuchkind'"),
        ("sqlite:////proc/no/such/dir/m.db", "sqlite:////proc/no/such/dir/m.db"),
        ("sqlite://alice:s3cret@/x?mode=bogus", "***"),
    ],
)
def test_a_database_that_cannot_be_opened_is_one_line_without_the_password(bad, says):
    with pytest.raises(UserError) as exc:
        Store.open(bad)
    msg = str(exc.value)
    assert "s3cret" not in msg and says in msg and "\n" not in msg
    assert "cannot open it" in msg


def test_a_url_is_shown_masked():
    assert mask("postgresql://u:pw@h:5432/d") == "postgresql://u:***@h:5432/d"
    assert mask("post gres://u:pw@h/d") == "post gres://u:***@h/d"  # not parseable: masked all the same


def test_location_follows_the_flag_then_the_variable_then_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOTUNE_CACHE", str(tmp_path / "c"))
    monkeypatch.delenv("AUTOTUNE_DB", raising=False)
    assert resolve(None) == (f"sqlite:///{tmp_path / 'c' / 'measurements.db'}", False)
    monkeypatch.setenv("AUTOTUNE_DB", "postgresql://h/d")
    assert resolve(None) == ("postgresql://h/d", True)
    assert resolve(str(tmp_path / "x.db")) == (f"sqlite:///{tmp_path / 'x.db'}", True)  # a path is a SQLite file


def test_a_failed_write_warns_once_and_the_work_goes_on(tmp_path):
    said: list[str] = []
    log = Appender.open(url(tmp_path), program=PROGRAM, source="run", ci_target=0.02, warn=said.append)
    assert log.record(measurement())
    with Store.open(url(tmp_path)).engine.begin() as c:  # the database goes away under the run
        c.execute(text("DROP TABLE measurements"))
    assert not log.record(measurement()) and not log.record(measurement())
    assert (log.written, log.failed, len(said)) == (1, 2, 1)
    assert "could not record a measurement" in said[0] and "no such table" in said[0]


def test_no_record_opens_nothing_and_a_broken_default_only_warns(tmp_path, monkeypatch):
    assert Appender.open("nosuchkind://x", record=False).store is None  # not even looked at
    blocked = tmp_path / "file"
    blocked.write_text("")
    monkeypatch.setenv("AUTOTUNE_CACHE", str(blocked / "under-a-file"))  # the default cannot be created
    monkeypatch.delenv("AUTOTUNE_DB", raising=False)
    said: list[str] = []
    log = Appender.open(None, warn=said.append, program=PROGRAM)
    assert log.store is None and not log.record(measurement()) and len(said) == 1
    with pytest.raises(UserError):  # one the user named is refused
        Appender.open(str(blocked / "under-a-file" / "m.db"), warn=said.append)
