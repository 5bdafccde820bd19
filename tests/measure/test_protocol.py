"""End-to-end measurements of real programs: every status is a value."""

from __future__ import annotations

import pytest

from autotune.build import Builder
from autotune.errors import UserError
from autotune.kernel import Kernel
from autotune.measure import Bench, Options
from tests.conftest import DATA, KERNELS, needs_clang

pytestmark = [needs_clang, pytest.mark.slow]


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
    b = bench(DATA / "noloops.c", cache_dir, Options(min_pairs=2, max_pairs=2))
    m = b.measure(b.space.parse_assignments(["opt=O1"]))
    assert m.status == "ok" and m.timing == "wall"
    assert m.runs == 2 * 2 + 2  # pairs plus one warm-up of each
