"""`autotune collect` and `autotune predict` from the command line: bad input, and a zero-shot ranking."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import autotune, one_line_error
from tests.conftest import KERNELS, needs_clang

pytestmark = needs_clang


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["collect", "--kernels", "nosuch", "--max-records", "1"], "nosuch"),
        (["collect", "--sizes", "HUGE", "--max-records", "1"], "HUGE"),
        (["collect", "--hours", "0"], "--hours"),
        (["collect", "--max-records", "0"], "--max-records"),
        (["predict", str(KERNELS / "gemm.c"), "--top", "0"], "--top"),
        (["predict", str(KERNELS / "gemm.c"), "--top", "5", "--pool", "2"], "--pool"),
    ],
)
def test_collect_and_predict_bad_input_gives_one_line(args, message, tmp_path):
    one_line_error(
        autotune(*args, "--out", str(tmp_path / "db.csv")) if args[0] == "collect" else autotune(*args), message
    )


def test_predict_ranks_with_the_shipped_surrogate():
    from autotune.surrogate.scorer import WEIGHTS

    if not WEIGHTS.exists():
        pytest.skip("no shipped surrogate")
    r = autotune("predict", str(KERNELS / "jacobi-1d.c"), "-D", "MINI_DATASET", "--top", "3", "--pool", "20", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert len(rows) == 3
    assert [x["low"] for x in rows] == sorted((x["low"] for x in rows), reverse=True)  # by the lower bound
    assert all(x["low"] <= x["predicted_speedup"] <= x["high"] for x in rows)
    assert all(x["confident"] == (x["low"] > 1) for x in rows)
    assert all(1 <= len(x["config"]) and x["spread"] >= 0 for x in rows)


def test_predict_proposes_only_configurations_near_the_default():
    from autotune.kernel import Kernel
    from autotune.space.discover import build_space
    from autotune.surrogate.predict import MAX_CHANGED, candidate_pool

    space = build_space(Kernel.load(KERNELS / "heat-3d.c"))
    pool = candidate_pool(space, 60, seed=1)
    assert len(pool) == 60
    assert all(1 <= len(space.changed(c)) <= MAX_CHANGED for c in pool)


def test_predict_says_when_the_surrogate_learned_from_another_cpu():
    from autotune import machine
    from autotune.surrogate.scorer import WEIGHTS, Surrogate

    if not WEIGHTS.exists():
        pytest.skip("no shipped surrogate")
    learned = Surrogate.load(WEIGHTS).meta.get("cpu_model")
    r = autotune("predict", str(KERNELS / "jacobi-1d.c"), "-D", "MINI_DATASET", "--top", "2", "--pool", "10")
    assert r.returncode == 0, r.stderr
    said = "The surrogate learned from records of" in " ".join(r.stdout.split())
    assert said == (machine.current().cpu_model not in learned.split("; "))
