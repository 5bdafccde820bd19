"""`autotune collect`: valid draws, records on disk and in the journal, resume without repeats."""

from __future__ import annotations

import json
import random

import optuna
import pytest

from autotune import collect as col
from autotune.discover import build_space
from autotune.kernel import Kernel
from tests.conftest import KERNELS, needs_clang


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
    with pytest.raises(col.UserError, match="nosuch"):
        col.suite_tasks(["nosuch"], ["MINI"])
    with pytest.raises(col.UserError, match="HUGE"):
        col.suite_tasks(None, ["HUGE"])


@needs_clang
def test_collect_appends_records_and_resumes_without_repeats(tmp_path, monkeypatch, quick):
    monkeypatch.setenv("AUTOTUNE_CACHE", str(tmp_path / "cache"))
    tasks = col.suite_tasks(["jacobi-1d", "trisolv"], ["MINI"])
    out = tmp_path / "db" / "m.csv"
    assert col.collect(tasks, col.Database(out), seed=3, max_records=3, options=quick) == 3
    # a second run (as after a kill) goes on at the next indices
    assert col.collect(tasks, col.Database(out), seed=3, max_records=3, options=quick) == 3
    rows = col.read_records(out)
    assert len(rows) == 6
    for t in tasks:
        mine = [r for r in rows if r["kernel"] == t.kernel]
        assert sorted(int(r["index"]) for r in mine) == list(range(len(mine)))
        assert len({r["config_key"] for r in mine}) == len(mine)
    for r in rows:
        assert r["status"] in ("ok", "compile_error", "runtime_error", "timeout", "wrong_output")
        assert json.loads(r["config"]) and len(r["build_key"]) == 24
        if r["status"] == "ok":
            assert float(r["speedup"]) > 0 and float(r["ci_low"]) <= float(r["speedup"]) <= float(r["ci_high"])
            assert len(r["ir_hash"]) == 16
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(out.with_suffix(".journal")))
    )
    trials = sum(
        len(s.trials)
        for s in optuna.get_all_study_summaries(storage)
        for s in [optuna.load_study(study_name=s.study_name, storage=storage)]
    )
    assert trials == 6
