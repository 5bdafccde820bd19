"""Batches of configurations sharing the baseline's runs: same statuses, same statistics, fewer runs."""

from __future__ import annotations

import random

import pytest

from autotune.build import Builder
from autotune.kernel import Kernel
from autotune.measure import MIN_CI_PAIRS, Bench, Options
from autotune.measure.batch import measure_many, next_order
from tests.conftest import DATA, needs_clang


def test_two_rounds_put_every_candidate_once_before_and_once_after_the_baseline():
    rng = random.Random(0)
    for n in range(1, 6):
        cands = [f"c{i}" for i in range(n)]
        first = next_order(0, [], cands, rng)
        second = next_order(1, first, cands, rng)
        assert sorted(first, key=str) == sorted(second, key=str) == sorted([None, *cands], key=str)
        for c in cands:
            before = [o.index(c) < o.index(None) for o in (first, second)]
            assert sorted(before) == [False, True], (first, second)
    left = next_order(1, ["c0", None, "c1", "c2"], ["c0", "c2"], rng)
    assert left == ["c2", None, "c0"]  # a candidate that left is not run again


@needs_clang
@pytest.mark.slow
def test_a_batch_gives_each_candidate_its_own_status_and_statistics(cache_dir):
    opts = Options(min_pairs=MIN_CI_PAIRS, max_pairs=MIN_CI_PAIRS, load_check="off", timeout_factor=2.0)
    b = Bench(Kernel.load(DATA / "params.c"), options=opts, builder=Builder(cache_dir))
    settings = ["BLOCK=8", "MODE=1", "MODE=2", "MODE=4", "BLOCK=32", "MODE=3"]
    ms = measure_many(b, [b.space.parse_assignments([s]) for s in settings], seed=1)
    assert [m.changed for m in ms] == [b.space.changed(b.space.parse_assignments([s])) for s in settings]
    statuses = [m.status for m in ms]
    assert statuses == ["ok", "wrong_output", "runtime_error", "compile_error", "ok", "timeout"], [
        m.message for m in ms
    ]
    for m in (ms[0], ms[4]):
        # at the cap either way: the CI met its target with the last pair (a quiet machine) or not
        assert m.verified and m.repetitions == MIN_CI_PAIRS and m.stop_reason in ("pair cap", "ci target")
        assert len(m.baseline_times) == len(m.candidate_times) == MIN_CI_PAIRS
        assert m.ci is not None and m.ci[0] <= m.speedup <= m.ci[1]
        assert m.runs == 2 * (1 + MIN_CI_PAIRS)  # its own runs and the baseline's of its rounds
        assert m.message.startswith("verified") and m.message.endswith("; batch of 5")
    # the two ok candidates share every baseline run of the pairs
    assert ms[0].baseline_times == ms[4].baseline_times
    for m in ms[1:4] + ms[5:]:
        assert not m.verified and m.message and m.repetitions == 0
    b.options.ci_target = 10.0  # any CI meets it: each stops at the fewest pairs that give one
    again = measure_many(b, [b.space.parse_assignments(["BLOCK=8"]), {}], seed=1)
    assert [m.stop_reason for m in again] == ["ci target", "ci target"]
    assert again[1].changed == {} and 0.5 < again[1].speedup < 2.0  # the baseline against itself
