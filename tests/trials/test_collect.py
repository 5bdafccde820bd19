"""`autotune collect`: valid draws, records on disk and in the journal, resume without repeats."""

from __future__ import annotations

import json
import random

import optuna
import pytest

from autotune.errors import UserError
from autotune.kernel import Kernel
from autotune.space.discover import build_space
from autotune.trials import collect as col
from autotune.trials.recorder import read_rows
from tests.conftest import KERNELS, ROOT, needs_clang


@needs_clang
def test_draws_are_valid_and_sparse_draws_change_few_knobs():
    space = build_space(Kernel.load(KERNELS / "gemm.c"))
    rng = random.Random(0)
    for sparse in (False, True):
        for _ in range(50):
            c = col.draw(space, rng, sparse)
            assert space.is_valid(c)
            if sparse:
                assert 1 <= len(space.changed(c)) <= 3


def test_unknown_kernel_or_size_is_one_clear_error():
    with pytest.raises(UserError, match="nosuch"):
        col.suite_tasks(["nosuch"], ["MINI"])
    with pytest.raises(UserError, match="HUGE"):
        col.suite_tasks(None, ["HUGE"])
    assert col.suite_tasks(["gemm"], ["MINI"]) == [col.Workload("gemm", "MINI")]


def _journal_trials(out) -> int:
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(out.with_suffix(".journal")))
    )
    return sum(
        len(optuna.load_study(study_name=s.study_name, storage=storage).trials)
        for s in optuna.get_all_study_summaries(storage)
    )


@needs_clang
def test_collect_appends_records_and_resumes_without_repeats(tmp_path, monkeypatch, quick):
    monkeypatch.setenv("AUTOTUNE_CACHE", str(tmp_path / "cache"))
    workloads = col.suite_tasks(["jacobi-1d", "trisolv"], ["MINI"])
    out = tmp_path / "db" / "m.csv"
    assert col.collect(workloads, col.Database(out), seed=3, max_records=3, options=quick) == 3
    with out.open("ab") as f:  # a kill while the fourth row was being written
        f.write(b'jacobi-1d,MINI,2,"{""L')
    # a second run (as after a kill) cuts the half row off and goes on at the next indices
    assert col.collect(workloads, col.Database(out), seed=3, max_records=3, options=quick) == 3
    rows = read_rows(out)
    assert len(rows) == 6
    for w in workloads:
        mine = [r for r in rows if r["kernel"] == w.kernel]
        assert sorted(int(r["index"]) for r in mine) == list(range(len(mine)))
        assert len({r["config_key"] for r in mine}) == len(mine)
    for r in rows:
        assert r["status"] in ("ok", "compile_error", "runtime_error", "timeout", "wrong_output")
        assert json.loads(r["config"]) and len(r["build_key"]) == 24
        if r["status"] == "ok":
            assert float(r["speedup"]) > 0 and float(r["ci_low"]) <= float(r["speedup"]) <= float(r["ci_high"])
            assert len(r["ir_hash"]) == 16
    assert _journal_trials(out) == 6


@needs_clang
def test_a_batch_of_draws_shares_the_baselines_runs_and_records_each_draw(tmp_path, monkeypatch, quick):
    monkeypatch.setenv("AUTOTUNE_CACHE", str(tmp_path / "cache"))
    quick.load_check = "off"  # about what a batch records; the load check has its own tests
    out = tmp_path / "m.csv"
    workloads = col.suite_tasks(["jacobi-1d"], ["MINI"])
    assert col.collect(workloads, col.Database(out), seed=5, max_records=3, options=quick, batch=3) == 3
    rows = read_rows(out)
    assert [int(r["index"]) for r in rows] == [0, 1, 2] and len({r["config_key"] for r in rows}) == 3
    ok = [r for r in rows if r["status"] == "ok"]
    assert ok and all(r["message"].endswith("; batch of 3") for r in ok)
    assert len({r["baseline_s"] for r in ok}) == 1  # six pairs each, against the same six baseline runs
    one = col.collect(workloads, col.Database(out), seed=5, max_records=1, options=quick, batch=1)
    assert one == 1 and "batch" not in read_rows(out)[-1]["message"] and read_rows(out)[-1]["index"] == "3"


@needs_clang
def test_a_draw_another_machine_holds_does_not_push_the_free_ones_out_of_the_plan(tmp_path, monkeypatch, quick):
    """`--max-records 1` while a twin measures draw 0: this machine takes draw 1, the next one of the
    plan, not the first draw of the next block (draws 1-3 would then be measured by no one)."""
    from autotune.trials.db.claims import Claims
    from autotune.trials.db.store import Appender, Store

    monkeypatch.setenv("AUTOTUNE_CACHE", str(tmp_path / "cache"))
    quick.load_check = "off"
    store = Store.open(f"sqlite:///{tmp_path / 'm.db'}")
    twin = Claims(store, seed=0)  # this process: alive, so its claim holds
    plan_made = Claims.done

    def twin_claims_draw_0_just_after(self):  # the race: the plan was made before the twin's claim
        out = plan_made(self)
        if self is not twin:
            assert twin.claim("jacobi-1d", "MINI", 0)
        return out

    monkeypatch.setattr(Claims, "done", twin_claims_draw_0_just_after)
    db = col.Database(tmp_path / "m.csv", store=Appender(store))
    workloads = col.suite_tasks(["jacobi-1d"], ["MINI"])
    assert col.collect(workloads, db, seed=0, max_records=1, options=quick, batch=4) == 1
    assert [r["index"] for r in read_rows(tmp_path / "m.csv")] == ["1"]
    assert twin.done() == {("jacobi-1d", "MINI"): {0, 1}}  # draw 1 recorded, its claim released, 0 still held
    store.close()


@needs_clang
def test_kill_stops_cleanly_and_the_rerun_goes_on(tmp_path):
    """`nohup autotune collect &` (SIGINT ignored) stopped with SIGTERM: exit 130, CSV and journal agree."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "m.csv"
    cmd = [sys.executable, "-m", "autotune", "collect", "--kernels", "jacobi-1d", "--sizes", "MINI", "--out", str(out)]
    cmd += ["--load-check", "off"]  # about stopping and resuming: other work on the machine must not stall it
    env = {**os.environ, "AUTOTUNE_CACHE": str(tmp_path / "cache")}
    p = subprocess.Popen(
        [*cmd, "--max-pairs", "5"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    deadline = time.time() + 120
    while len(read_rows(out)) < 2 and time.time() < deadline and p.poll() is None:
        time.sleep(0.2)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    rows = read_rows(out)
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(out.with_suffix(".journal")))
    )
    study = optuna.load_study(study_name="jacobi-1d@MINI", storage=storage)
    assert len(study.trials) == len(rows) >= 2
    again = subprocess.run([*cmd, "--max-records", "1", "--max-pairs", "5"], env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert [int(r["index"]) for r in read_rows(out)] == list(range(len(rows) + 1))


def test_kernel_sets_name_their_folders():
    gen = col.set_tasks(["generated"], None, ["SMALL"])
    assert len(gen) >= 200 and {w.folder for w in gen} == {"kernels/generated"}
    both = col.set_tasks(["suite", "generated"], ["gemm", "map-000"], ["MINI"])
    assert both == [col.Workload("gemm", "MINI"), col.Workload("map-000", "MINI", "kernels/generated")]
    assert both[1].load().path.parent.name == "generated"
    assert col.Workload.named("map-000", "SMALL").folder == "kernels/generated"
    assert col.Workload.named("gemm", "SMALL").folder == "kernels"
    with pytest.raises(UserError, match="--set: unknown kernel set"):
        col.set_tasks(["nosuch"], None, ["MINI"])
    with pytest.raises(UserError, match="in none of the sets"):
        col.set_tasks(["generated"], ["gemm"], ["MINI"])


@needs_clang
def test_a_baseline_that_fails_mid_collection_skips_its_workload_not_the_collection(
    tmp_path, monkeypatch, quick, capsys
):
    """Found collecting: one generated kernel's baseline hit a libomp assertion after 2 good records,
    and the UserError ended a run of 240 kernels. Now only that workload is left out."""
    import shutil

    monkeypatch.setenv("AUTOTUNE_CACHE", str(tmp_path / "cache"))
    src = tmp_path / "kernels"
    src.mkdir()
    shutil.copy(ROOT / "kernels" / "jacobi-1d.c", src / "jacobi-1d.c")
    # run_counter.c prints another result on its 3rd run: after prepare's two, the first batch's first
    # baseline run (a later run could be one of the batch's candidates, whose drift is its wrong_output)
    text = (ROOT / "tests" / "data" / "run_counter.c").read_text()
    (src / "drifty.c").write_text("#define DRIFT_AT 3\n" + text)
    workloads = [col.Workload("drifty", "MINI"), col.Workload("jacobi-1d", "MINI")]
    out = tmp_path / "db" / "m.csv"
    added = col.collect(workloads, col.Database(out), seed=0, max_records=4, options=quick, kernel_dir=src)
    assert "skipping drifty@MINI for the rest of this run" in capsys.readouterr().out
    rows = read_rows(out)
    assert added == 4 == len(rows)  # the other workload filled the budget
    assert sum(r["kernel"] == "drifty" for r in rows) <= 1  # what drifty measured before its baseline drifted


@needs_clang
@pytest.mark.slow
def test_machines_collecting_one_seed_into_a_server_share_its_plan(tmp_path, postgres):
    """Two `autotune collect --seed 0 --db URL` at once (as on two identical machines): every draw
    is measured once, by one of them, and the database holds both machines' records."""
    import os
    import subprocess
    import sys

    from autotune.trials.db.store import Store

    url = postgres.new_database()
    env = {**os.environ, "AUTOTUNE_CACHE": str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "autotune", "collect", "--kernels", "jacobi-1d", "--sizes", "MINI"]
    cmd += ["--max-records", "3", "--max-pairs", "6", "--seed", "0", "--db", url]
    cmd += ["--load-check", "off"]  # the two time each other: this is about who measures what
    procs = [
        subprocess.Popen(
            [*cmd, "--out", str(tmp_path / f"m{i}.csv")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in (1, 2)
    ]
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        assert "s3cret" not in out + err
    rows = Store.open(url).rows()
    assert len(rows) == 6 and {r["seed"] for r in rows} == {0} and {r["source"] for r in rows} == {"collect"}
    assert sorted(r["draw_index"] for r in rows) == list(range(6))  # one plan: no draw twice, none left out
    assert len({r["config_key"] for r in rows}) == 6
    local = [read_rows(tmp_path / f"m{i}.csv") for i in (1, 2)]
    assert [len(x) for x in local] == [3, 3]  # each machine's own CSV holds what it measured
    assert all(r["machine"]["cpu_model"] and len(r["machine_id"]) == 16 for r in rows)
    with Store.open(url).engine.connect() as c:
        from autotune.trials.db.schema import claims

        assert c.execute(claims.select()).first() is None  # every claim released
