"""Zero-touch discovery: which knobs a program gets, and which it must not."""

from __future__ import annotations

import pytest

from autotune.discover import build_space, thread_choices
from autotune.errors import UserError
from autotune.kernel import Kernel
from tests.conftest import DATA


@pytest.fixture
def tricky():
    return build_space(Kernel.load(DATA / "tricky.c"), cores=4)


def test_threads_and_flags(tricky):
    assert tricky["threads"].choices == (1, 2, 3, 4) and tricky["threads"].default == 4
    assert tricky["opt"].default == "O3"
    assert thread_choices(64) == (1, 2, 4, 8, 16, 32, 64)


def test_schedule_knobs_only_on_worksharing_loops(tricky):
    names = {k.name for k in tricky}
    assert {"L4.schedule", "L7.schedule", "L10.schedule"} <= names
    assert not any(n.startswith(("L0.s", "L6.s", "L9.s")) for n in names)
    assert tricky["L7.schedule"].default == "dynamic" and tricky["L7.chunk"].default == 4
    assert tricky["L10.schedule"].default == "guided"
    chunk = tricky["L4.chunk"]
    assert chunk.kind == "env" and chunk.conditions[0].knob == "L4.schedule"
    assert "auto" not in chunk.conditions[0].values


def test_tiles_only_on_perfect_rectangular_nests(tricky):
    names = {k.name for k in tricky}
    assert {"L12.tile1", "L12.tile2", "L4.tile3"} <= names
    assert "L12.tile3" not in names and "L13.tile1" not in names  # inner level of L12's nest
    assert "L7.tile1" not in names  # triangular inner bound j <= i
    assert "L9.tile1" not in names  # has a break
    assert "L10.tile1" not in names  # the inner loop carries its own pragma


def test_loops_outside_the_timed_region_get_no_knobs(tricky):
    assert not any(k.name.startswith(("L0.", "L1.", "L2.", "L3.", "L15.", "L16.")) for k in tricky)
    assert any("6 loop(s) outside the timed region" in n for n in tricky.notes)


def test_loop_hints_only_on_unclaimed_innermost_loops(tricky):
    names = {k.name for k in tricky}
    assert {"L6.unroll", "L6.vectorize", "L6.interleave"} <= names
    assert "L4.unroll" not in names  # not innermost
    assert "L11.unroll" not in names  # the user's own `#pragma clang loop`
    assert "L9.unroll" in names and "L9.vectorize" not in names  # early exit: no vectorizing
    # vectorize needs clang; unroll also works with gcc (#pragma GCC unroll)
    assert [c.knob for c in tricky["L6.vectorize"].conditions] == ["compiler"]
    assert tricky["L6.unroll"].conditions == ()


def test_no_loops_still_tunes_flags():
    sp = build_space(Kernel.load(DATA / "noloops.c"))
    assert {k.kind for k in sp} == {"flag", "env"}
    assert any("no tunable loops" in n for n in sp.notes)


def test_declared_and_command_line_parameters():
    sp = build_space(Kernel.load(DATA / "params.c", params={"EXTRA": ("1", "2")}))
    assert sp["BLOCK"].choices == (8, 16, 32) and sp["BLOCK"].default == 16
    assert sp["MODE"].default == 0
    assert sp["EXTRA"].choices == (1, 2) and sp["EXTRA"].kind == "flag"


def test_unguarded_parameter_is_refused(tmp_path):
    src = tmp_path / "p.c"
    src.write_text("// @autotune param N 10 20\n#define N 10\nint main(void){return N;}\n")
    with pytest.raises(UserError, match=r"p.c:2: parameter N is #defined unconditionally.*#ifndef N"):
        build_space(Kernel.load(src))


def test_no_loop_hints_inside_a_collapsed_nest():
    """gemm's `parallel for collapse(2)` nest: its inner loop takes no hint (gcc rejects one there)."""
    from autotune.discover import build_space
    from autotune.kernel import Kernel
    from tests.conftest import KERNELS

    space = build_space(Kernel.load(KERNELS / "gemm.c"))
    names = {k.name for k in space.knobs}
    assert not any(n.startswith("L7.") for n in names)  # j loop of the collapse(2) nest (line 72)
    assert {"L10.unroll", "L10.vectorize", "L10.interleave"} <= names  # innermost j of i-k-j: still tunable


def test_gcc_takes_no_unroll_hint_on_a_worksharing_loop():
    """`#pragma omp for` then `#pragma GCC unroll` is rejected by gcc: that unroll knob needs clang."""
    from autotune.discover import build_space
    from autotune.kernel import Kernel
    from tests.conftest import KERNELS

    space = build_space(Kernel.load(KERNELS / "jacobi-1d.c"))
    ws_unroll = [k for k in space.knobs if k.name.endswith(".unroll") and f"{k.name[:-7]}.schedule" in space]
    assert ws_unroll, "jacobi-1d has innermost work-sharing loops"
    for k in ws_unroll:
        assert [c.describe() for c in k.conditions] == ["compiler=clang"]
