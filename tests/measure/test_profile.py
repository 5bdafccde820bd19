"""The baseline's OpenMP profile, counted by the OMPT tool during one real run."""

from __future__ import annotations

import hashlib
import math

import pytest

from autotune import machine
from autotune.kernel import Kernel
from autotune.measure import profile as prof
from autotune.space.discover import build_space
from autotune.surrogate.features import NAMES, PROFILE, knob_features
from tests.conftest import needs_clang

# a parallel loop entered once per outer step (as a sweep is): STEPS forks of a loop of N iterations
FORKS = r"""
#include <stdio.h>
#include "autotune.h"
#define STEPS 37
#define N 1000
static double a[N];
int main(void) {
  AUTOTUNE_REGION_BEGIN(kernel);
  for (int t = 0; t < STEPS; t++) {
#pragma omp parallel for schedule(static)
    for (int i = 0; i < N; i++) a[i] += i * 0.5 + t;
  }
  AUTOTUNE_REGION_END(kernel);
  double s = 0;
  for (int i = 0; i < N; i++) s += a[i];
  printf("%.6e\n", s);
  return 0;
}
"""


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOTUNE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _kernel(tmp_path, text: str) -> Kernel:
    (tmp_path / "k.c").write_text(text)
    return Kernel.load(tmp_path / "k.c")


@needs_clang
def test_a_run_counts_the_forks_loops_and_iterations_of_the_program(tmp_path, cache, monkeypatch):
    k = _kernel(tmp_path, FORKS)
    space = build_space(k)
    p = prof.profile(k, space)
    assert p is not None and p.threads >= 1
    assert p.parallel == 37 and p.loop_instances == 37
    assert p.iterations_per_loop == 1000
    assert p.barriers >= 37 and p.parallel_s > 0 and 0 <= p.wait_fraction <= 1
    row = dict(zip(NAMES, knob_features(space, space.default(), 2, 0.01, p), strict=True))
    assert row["omp_profiled"] == 1 and row["forks_log10"] > 0
    # the region's time per fork: 0.01 s over 37 forks, on the feature's scale (1 us -> 0, 1 s -> 1)
    assert row["s_per_fork_log10"] == pytest.approx((math.log10(0.01 / 37) + 6) / 6, rel=1e-5)
    if p.busy <= 0.25:  # kept for the next call (a profile taken beside other work is measured again)
        assert list((cache / "profiles").glob("*.json")) and prof.profile(k, space) == p
        tag = {cpu: hashlib.sha256(cpu.encode()).hexdigest()[:8] for cpu in (machine.current().cpu_model, "Other")}
        before = {f.name for f in (cache / "profiles").glob("*.json")}
        assert all(tag[machine.current().cpu_model] in n for n in before)
        other = machine.Machine(**{**machine.current().to_dict(), "cpu_model": "Other"})
        monkeypatch.setattr(machine, "current", lambda: other)  # a cache carried to another CPU is not read
        again = prof.profile(k, space)
        new = {f.name for f in (cache / "profiles").glob("*.json")} - before
        assert again is not None and all(tag["Other"] in n for n in new)
        assert new or again.busy > 0.25  # measured again there, and kept unless the machine was busy


@needs_clang
def test_a_program_without_openmp_has_no_profile_and_zero_columns(tmp_path, cache):
    k = _kernel(tmp_path, FORKS.replace("#pragma omp parallel for schedule(static)\n", ""))
    space = build_space(k)
    assert prof.profile(k, space) is None
    row = dict(zip(NAMES, knob_features(space, space.default(), 2, 0.01, None), strict=True))
    assert all(row[n] == 0 for n in PROFILE)


def test_the_tools_line_is_parsed_and_anything_else_is_not_a_profile():
    p = prof.parse("parallel 3 loops 12 iterations 4800 barriers 15 parallel_s 0.5 wait_s 0.25\n", threads=4)
    assert p == prof.OmpProfile(4, 3, 12, 4800, 15, 0.5, 0.25)
    assert p.loop_instances == 3 and p.iterations_per_loop == 400 and p.wait_fraction == 0.125
    assert prof.parse("", 2) is None and prof.parse("parallel x", 2) is None


@needs_clang
def test_a_broken_tool_source_is_one_clear_error(tmp_path, cache, monkeypatch):
    bad = tmp_path / "tool.c"
    bad.write_text("this is not C\n")
    monkeypatch.setattr(prof, "SOURCE", bad)
    with pytest.raises(prof.ProfileError, match="could not build the OMPT tool"):
        prof.tool()


@needs_clang
def test_the_region_is_timed_at_one_thread_and_at_the_default(tmp_path, cache):
    k = _kernel(tmp_path, FORKS)
    space = build_space(k)
    if space.default().get("threads", 1) < 2:
        pytest.skip("one usable core: the default is one thread, nothing to compare")
    p = prof.profile(k, space)
    assert p is not None and p.threads == space.default()["threads"]
    assert p.region_s > 0 and p.region1_s > 0 and p.scaling_log2 == math.log2(p.region1_s / p.region_s)
    one = dict(zip(NAMES, knob_features(space, {**space.default(), "threads": 1}, 2, 0.01, p), strict=True))
    assert one["threads_gain"] == pytest.approx(-p.scaling_log2 / 2, rel=1e-5)
    default = dict(zip(NAMES, knob_features(space, space.default(), 2, 0.01, p), strict=True))
    assert default["threads_gain"] == 0


def test_threads_gain_interpolates_between_the_two_thread_counts_it_was_run_at():
    from autotune.surrogate.features import threads_gain

    twice_as_fast_alone = prof.OmpProfile(4, 3, 12, 4800, 15, 0.5, 0.25, region_s=1.0, region1_s=0.5)
    assert twice_as_fast_alone.scaling_log2 == -1
    assert threads_gain(twice_as_fast_alone, 1) == 0.5  # log2(1.0 / 0.5), halved
    assert threads_gain(twice_as_fast_alone, 2) == pytest.approx(0.25)  # half way in log threads
    assert threads_gain(twice_as_fast_alone, 4) == 0 and threads_gain(twice_as_fast_alone, 8) == 0
    not_measured = prof.OmpProfile(4, 3, 12, 4800, 15, 0.5, 0.25)
    assert not_measured.scaling_log2 is None and threads_gain(not_measured, 1) == 0
