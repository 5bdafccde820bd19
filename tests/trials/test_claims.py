"""A collection plan shared through the measurement database: each draw measured once, by one machine."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest
from sqlalchemy import insert, update

from autotune.trials.db.claims import Claims
from autotune.trials.db.schema import claims, entry, now_utc
from autotune.trials.db.store import Store
from tests.trials.test_db import PROGRAM, measurement


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    url = (
        f"sqlite:///{tmp_path / 'm.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres").new_database()
    )
    s = Store.open(url)
    yield s
    s.close()


def test_a_draw_is_held_by_one_claimant_until_it_is_released(store):
    a, b = Claims(store, seed=0, machine_id="m" * 16), Claims(store, seed=0, machine_id="m" * 16)
    assert a.claim("gemm", "MINI", 3)
    assert not b.claim("gemm", "MINI", 3)  # this process is alive: its claim holds
    assert b.claim("gemm", "MINI", 4) and b.claim("gemm", None, 3)
    assert a.done() == {("gemm", "MINI"): {3, 4}, ("gemm", ""): {3}}
    a.release("gemm", "MINI", 3)
    assert b.claim("gemm", "MINI", 3)
    # another seed, another machine: other plans
    assert Claims(store, seed=1, machine_id="m" * 16).claim("gemm", "MINI", 3)
    assert Claims(store, seed=0, machine_id="o" * 16).claim("gemm", "MINI", 3)


def test_a_recorded_draw_is_done_for_every_identical_machine(store):
    m = measurement()
    mid = entry(m, PROGRAM, source="collect", ci_target=0.02)["machine_id"]
    store.add(entry(m, PROGRAM, source="collect", ci_target=0.02, seed=5, draw_index=7))
    twin = Claims(store, seed=5, machine_id=mid)
    assert twin.done() == {(PROGRAM.kernel, PROGRAM.size or ""): {7}}
    assert not twin.claim(PROGRAM.kernel, PROGRAM.size, 7)
    assert twin.configs(PROGRAM.kernel, PROGRAM.size) == {
        entry(m, PROGRAM, source="collect", ci_target=None)["config_key"]
    }
    assert Claims(store, seed=5, machine_id="o" * 16).claim(PROGRAM.kernel, PROGRAM.size, 7)


def test_a_dead_workers_claim_is_taken_over_at_once_and_a_silent_hosts_after_its_ttl(store):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    c = Claims(store, seed=0, machine_id="m" * 16, ttl_s=3600)
    with store.engine.begin() as conn:
        conn.execute(
            insert(claims),
            [
                {
                    "kernel": "k",
                    "size": "S",
                    "seed": 0,
                    "draw_index": 0,
                    "machine_id": "m" * 16,
                    "worker": {**c.me, "pid": dead.pid},
                    "claimed": now_utc(),
                },
                {
                    "kernel": "k",
                    "size": "S",
                    "seed": 0,
                    "draw_index": 1,
                    "machine_id": "m" * 16,
                    "worker": {"host": "elsewhere", "pid": 1, "started": 0.0},
                    "claimed": now_utc(),
                },
            ],
        )
    assert c.done() == {("k", "S"): {1}}  # the dead process's claim is no claim
    assert c.claim("k", "S", 0)
    assert not c.claim("k", "S", 1)  # another host, recently: it may still be measuring
    with store.engine.begin() as conn:
        conn.execute(update(claims).where(claims.c.draw_index == 1).values(claimed=now_utc() - dt.timedelta(hours=2)))
    assert c.claim("k", "S", 1)


def test_claims_through_a_broken_database_warn_once_and_let_the_work_go_on(tmp_path):
    warnings: list[str] = []
    s = Store.open(f"sqlite:///{tmp_path / 'm.db'}")
    c = Claims(s, seed=0, machine_id="m" * 16, warn=warnings.append)
    (tmp_path / "m.db").unlink()
    s.engine.dispose()
    (tmp_path / "m.db").mkdir()  # now not a database
    assert c.claim("k", "S", 0) and c.claim("k", "S", 1)
    assert c.done() == {}
    assert len(warnings) == 1 and "collecting on without claims" in warnings[0]
