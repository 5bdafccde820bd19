"""End-to-end measurements of real programs: every status is a value."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from autotune.build import Builder
from autotune.errors import UserError
from autotune.kernel import Kernel
from autotune.machine import usable_cores
from autotune.measure import MIN_CI_PAIRS, Bench, Options
from tests.conftest import DATA, KERNELS, needs_clang

pytestmark = [needs_clang, pytest.mark.slow]


@pytest.fixture(autouse=True)
def no_load_check(quick: Options) -> None:
    """Load awareness has its own tests (test_load.py); another job on a shared machine must not slow these."""
    quick.load_check = "off"


def opts(**kw) -> Options:
    return Options(load_check="off", **kw)


def bench(path, cache_dir, opts, **kw) -> Bench:
    return Bench(Kernel.load(path, **kw), options=opts, builder=Builder(cache_dir))


def test_statuses_are_values(cache_dir, quick):
    b = bench(DATA / "params.c", cache_dir, quick)
    quick.timeout_factor = 2.0
    ok = b.measure(b.space.parse_assignments(["BLOCK=8"]))
    assert ok.status == "ok" and ok.verified and ok.timing == "region"
    assert ok.repetitions >= 3 and len(ok.baseline_times) == len(ok.candidate_times) == ok.repetitions
    assert ok.ci[0] <= ok.speedup <= ok.ci[1]
    assert ok.machine["cpu_model"] and "clang" in ok.machine["compilers"]
    cases = {"MODE=1": "wrong_output", "MODE=2": "runtime_error", "MODE=3": "timeout", "MODE=4": "compile_error"}
    for setting, status in cases.items():
        m = b.measure(b.space.parse_assignments([setting]))
        assert m.status == status, (setting, m.message)
        assert m.message
        assert not m.verified
    b.options.memory_bytes = 1 << 30
    capped = b.measure(b.space.parse_assignments(["MODE=5"]))
    assert capped.status == "runtime_error" and "out of memory" in capped.message
    wrong = b.measure(b.space.parse_assignments(["MODE=1"]))
    assert "relative difference" in wrong.message


def test_aa_measurement_of_two_suite_kernels(cache_dir, quick):
    for name in ("gemm", "jacobi-2d"):
        b = bench(KERNELS / f"{name}.c", cache_dir, quick, defines=["MINI_DATASET"])
        m = b.measure()
        assert m.status == "ok", m.message
        assert m.changed == {} and m.timing == "region"
        assert 0.5 < m.speedup < 2.0  # same binary both sides; loose because MINI runs are tiny
        m2 = b.measure(b.space.parse_assignments(["threads=1"]))
        assert m2.status == "ok" and m2.verified


def test_baseline_problems_raise_user_errors(cache_dir, quick):
    quick.baseline_timeout = 1.0
    for name, pattern in {
        "broken.c": r"broken.c: the program does not compile as given: .*undeclared_variable",
        "fails.c": r"fails.c: the program fails as given \(exit code 3: input file missing\)",
        "silent.c": r"silent.c: the program prints nothing",
        "forever.c": r"forever.c: the program did not finish within 1 s",
    }.items():
        with pytest.raises(UserError, match=pattern):
            bench(DATA / name, cache_dir, quick).measure()


def test_wall_timer_for_programs_without_a_region(cache_dir):
    b = bench(DATA / "noloops.c", cache_dir, opts(min_pairs=2, max_pairs=2))
    m = b.measure(b.space.parse_assignments(["opt=O1"]))
    assert m.status == "ok" and m.timing == "wall"
    assert m.runs == 2 * 2 + 2  # pairs plus one warm-up of each


def test_defaults():
    o = Options()
    assert o.min_pairs == MIN_CI_PAIRS and o.baseline_timeout == 120.0
    assert (o.load_check, o.load_max_busy, o.load_wait_s) == ("wait", 0.25, 120.0)


def test_the_stop_rule_one_measurement_and_a_batch_share():
    from autotune.measure.protocol import stop_rule
    from autotune.measure.stats import Estimate

    opts = Options(ci_target=0.02)
    tight, wide = Estimate(1.0, 0.99, 1.01, 10), Estimate(1.0, 0.9, 1.1, 10)
    assert stop_rule(opts, None, 1e9, 1.0) is None  # before the minimum pairs, nothing stops it
    assert stop_rule(opts, tight, 0.0, None) == "ci target"
    assert stop_rule(opts, tight, 5.0, 1.0) == "ci target"  # met the target: that is the reason said
    assert stop_rule(opts, wide, 5.0, None) is None
    assert stop_rule(opts, wide, 0.5, 1.0) is None
    assert stop_rule(opts, wide, 1.5, 1.0) == "time cap"
    assert stop_rule(opts, Estimate(1.0, None, None, 3), 0.0, None) is None  # no CI never meets a target


def test_stop_reasons_are_said_exactly(cache_dir):
    b = bench(DATA / "noloops.c", cache_dir, opts(min_pairs=6, max_pairs=8, ci_target=0.0))
    m = b.measure()
    assert m.status == "ok" and m.stop_reason == "pair cap" and m.repetitions == 8
    assert "above the 0% target at the pair cap (8 pairs)" in m.message
    b.options.ci_target = 10.0  # any CI meets it
    m = b.measure()
    assert m.stop_reason == "ci target" and m.repetitions == MIN_CI_PAIRS and m.message == "verified"
    b.options.ci_target, b.options.max_seconds = 0.0, 0.0
    m = b.measure()
    assert m.stop_reason == "time cap" and m.repetitions == MIN_CI_PAIRS and m.ci is not None
    assert "when the time cap (0 s) stopped it after 6 pairs" in m.message and "pair cap" not in m.message
    assert m.to_dict()["stop_reason"] == "time cap"


def test_fewer_pairs_than_a_ci_needs_are_measured_but_claim_no_ci(cache_dir):
    b = bench(DATA / "noloops.c", cache_dir, opts(min_pairs=1, max_pairs=3))
    m = b.measure()
    assert m.status == "ok" and m.repetitions == 3 and m.speedup is not None and m.ci is None
    assert m.stop_reason == "pair cap" and f"too few pairs for a 95% CI (3 < {MIN_CI_PAIRS})" in m.message
    assert m.to_dict()["ci"] is None
    b.options.max_pairs, b.options.max_seconds = 60, 0.0  # --min-reps 1 with a time cap stops after one pair
    m = b.measure()
    assert m.repetitions == 1 and m.ci is None and m.stop_reason == "time cap"
    assert f"too few pairs for a 95% CI (1 < {MIN_CI_PAIRS})" in m.message
    b.options.max_seconds = None  # min 1, no time cap: no CI target can be met below the floor
    b.options.ci_target = 10.0
    assert b.measure().repetitions == MIN_CI_PAIRS


def counter_kernel(tmp_path: Path, defines: list[str] | None = None) -> Kernel:
    """run_counter.c in a folder of its own: it counts its runs in files next to itself."""
    src = tmp_path / "run_counter.c"
    shutil.copy(DATA / "run_counter.c", src)
    return Kernel.load(src, defines=defines or [])


def test_a_run_that_fails_after_the_warm_up_is_not_verified(tmp_path, cache_dir, quick):
    """HOW=1..3 pass the warm-up and go wrong in the first pair: none of them may keep verified=True."""
    b = Bench(counter_kernel(tmp_path), options=quick, builder=Builder(cache_dir))
    for how, status in {2: "runtime_error", 3: "timeout", 1: "wrong_output"}.items():
        m = b.measure(b.space.parse_assignments([f"HOW={how}"]))
        assert m.status == status, (how, m.message)
        assert m.runs == 4 and not m.verified and m.stop_reason == ""  # warm-up pair, then base + failing candidate


def test_a_baseline_that_changes_its_output_in_its_own_aa_trial_is_a_user_error(tmp_path, cache_dir, quick):
    """DRIFT_AT=6: runs 1-2 are prepare's, 3-4 the warm-up pair, 5 the first pair's baseline, 6 its A/A candidate."""
    k = counter_kernel(tmp_path, ["DRIFT_AT=6"])
    b = Bench(k, options=quick, builder=Builder(cache_dir))
    with pytest.raises(UserError, match=r"run_counter.c: the program prints different output from run to run"):
        b.measure()
    assert (tmp_path / "runs_0.txt").read_text().strip() == "6"  # raised at the candidate's run, not later
    (tmp_path / "runs_0.txt").unlink()
    b = Bench(k, options=quick, builder=Builder(cache_dir))
    m = b.measure(b.space.parse_assignments(["opt=O2"]))  # another binary printing something else: its fault
    assert m.status == "wrong_output" and not m.verified


@pytest.mark.skipif(usable_cores() < 2, reason="a data race needs two threads on two cores")
def test_racy_baseline_is_refused_up_front(cache_dir, quick):
    """A shared `sum +=` in a parallel loop without `reduction`.

    Measured here: 40 of 40 runs printed different sums with 2 threads on 2
    cores, and 37 of 40 still differed with both threads squeezed onto one core
    (`taskset -c 0`). prepare() compares two runs; three fresh tries make a
    false pass about 1e-7 even on a fully loaded machine.
    """
    for _ in range(3):
        try:
            bench(DATA / "racy.c", cache_dir, quick).prepare()
        except UserError as exc:
            message = str(exc)
            break
    else:
        pytest.fail("racy.c printed the same sum in three pairs of runs")
    assert "racy.c: the program prints different output from run to run" in message
    assert "data race" in message and "reduction" in message and "rtol/atol" in message


def test_candidate_without_the_baseline_timer_is_not_compared(cache_dir, quick):
    b = bench(DATA / "timer_param.c", cache_dir, quick)
    m = b.measure(b.space.parse_assignments(["TIMED=0"]))
    assert m.status == "runtime_error" and not m.verified
    assert "region timer" in m.message and "missing from this variant's output" in m.message
    ok = b.measure(b.space.parse_assignments(["TIMED=2"]))
    assert ok.status == "ok" and ok.timing == "region" and not ok.timer_fallback


def test_baseline_without_its_timer_is_timed_by_wall_and_says_so(cache_dir, quick):
    b = bench(DATA / "timer_param.c", cache_dir, quick, defines=["NO_TIMER"])
    m = b.measure()
    assert m.status == "ok" and m.timing == "wall" and m.timer_fallback
    assert "timed by whole-process wall time: the baseline never prints its region timer" in m.message
    assert m.to_dict()["timer_fallback"] is True
    other = b.measure(b.space.parse_assignments(["TIMED=2"]))
    assert other.status == "runtime_error" and "prints the region timer" in other.message
    assert "but the baseline does not; the two times are not comparable" in other.message
