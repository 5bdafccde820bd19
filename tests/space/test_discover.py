"""Zero-touch discovery: which knobs a program gets, and which it must not."""

from __future__ import annotations

import pytest

from autotune.errors import UserError
from autotune.kernel import Kernel
from autotune.space import InvalidConfig
from autotune.space.discover import build_space
from autotune.space.families.threads import thread_choices
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
    from autotune.kernel import Kernel
    from autotune.space.discover import build_space
    from tests.conftest import KERNELS

    space = build_space(Kernel.load(KERNELS / "gemm.c"))
    names = {k.name for k in space.knobs}
    assert not any(n.startswith("L7.") for n in names)  # j loop of the collapse(2) nest (line 72)
    assert {"L10.unroll", "L10.vectorize", "L10.interleave"} <= names  # innermost j of i-k-j: still tunable


def test_gcc_takes_no_unroll_hint_on_a_worksharing_loop():
    """`#pragma omp for` then `#pragma GCC unroll` is rejected by gcc: that unroll knob needs clang."""
    from autotune.kernel import Kernel
    from autotune.space.discover import build_space
    from tests.conftest import KERNELS

    space = build_space(Kernel.load(KERNELS / "jacobi-1d.c"))
    ws_unroll = [k for k in space.knobs if k.name.endswith(".unroll") and f"{k.name[:-7]}.schedule" in space]
    assert ws_unroll, "jacobi-1d has innermost work-sharing loops"
    for k in ws_unroll:
        assert [c.describe() for c in k.conditions] == ["compiler=clang"]


# --- programs without OpenMP: threads only with a parallelization knob ----------------------
PB_UTIL = DATA / "polybench_style" / "utilities"


def seq_2mm(**kw) -> Kernel:
    return Kernel.load(DATA / "seq_2mm.c", include_dirs=[PB_UTIL], sources=[PB_UTIL / "polybench.c"], **kw)


def test_sequential_program_gets_parallel_knobs_and_no_plain_threads():
    sp = build_space(seq_2mm(), cores=2)
    threads = sp["threads"]
    assert not threads.active(sp.default())  # the baseline is serial: its thread count changes nothing
    (any_on,) = threads.conditions
    assert set(any_on.knobs) == {"polly_parallel", "L13.parallel", "L16.parallel", "L19.parallel"}
    assert threads.active(sp.parse_assignments(["L16.parallel=on"]))
    assert threads.active(sp.parse_assignments(["polly=on", "polly_parallel=on"]))
    assert [c.describe() for c in sp["polly_parallel"].conditions] == ["compiler=clang", "polly=on"]
    # one parallel knob per outermost safe loop, none on the loops nested in them
    assert sorted(k.name for k in sp if k.name.endswith(".parallel")) == [
        "L13.parallel",
        "L16.parallel",
        "L19.parallel",
    ]
    # x[i] += A[j][i] * y[j]: the j-i order makes the inner loop unit-stride; its outer loop j is not parallel
    assert sp["L19.interchange"].choices == ("i-j", "j-i")
    assert [c.describe() for c in sp["L19.parallel"].conditions] == ["L19.interchange=i-j"]
    assert "L19.interchange=i-j" in [c.describe() for c in sp["L19.tile1"].conditions]  # clang cannot tile it then
    # the second product reads tmp right after the first wrote it: reversing it may reuse the cache
    assert [k.name for k in sp if k.name.endswith(".reverse")] == ["L16.reverse"]
    assert "L16.parallel=off" in [c.describe() for c in sp["L16.reverse"].conditions]
    assert "L13.interchange" not in sp  # i-j-k is already the best order


def test_openmp_program_keeps_its_threads_knob_and_gets_no_parallel_knobs(tricky):
    assert tricky["threads"].conditions == ()
    assert not any(k.name.endswith(".parallel") or k.name == "polly_parallel" for k in tricky)


def test_openmp_in_an_extra_source_counts_but_polybench_instruments_do_not(tmp_path):
    from autotune.space.discover import uses_openmp

    extra = tmp_path / "work.c"
    extra.write_text(
        "void work(double *x, int n) {\n#pragma omp parallel for\n for (int i = 0; i < n; i++) x[i] = i;\n}\n"
    )
    polybench = tmp_path / "polybench.c"
    polybench.write_text(
        "void polybench_flush_cache(void) {\n#pragma omp parallel for\n for (int i = 0; i < 9; i++);\n}\n"
    )
    assert not uses_openmp(seq_2mm())
    assert not uses_openmp(Kernel.load(DATA / "seq_2mm.c", include_dirs=[PB_UTIL], sources=[polybench]))
    assert uses_openmp(Kernel.load(DATA / "seq_2mm.c", include_dirs=[PB_UTIL], sources=[extra]))


def _program(tmp_path, body: str) -> Kernel:
    src = tmp_path / "seq.c"
    src.write_text(
        "#include <stdio.h>\ndouble A[64][64], x[64], y[64];\n"
        f'int main(void) {{\n int i, j, n = 64;\n{body}\n printf("%f %f\\n", A[3][4], x[5]);\n return 0;\n}}\n'
    )
    return Kernel.load(src)


def test_inner_parallel_loop_in_a_tiled_nest_excludes_the_tile(tmp_path):
    """i carries a dependence (row i reads row i-1), j does not: a parallel pragma on j breaks the i-j tile."""
    sp = build_space(
        _program(tmp_path, "for (i = 1; i < n; i++)\n  for (j = 0; j < n; j++)\n   A[i][j] = A[i - 1][j] + 1;")
    )
    assert "L0.parallel" not in sp and "L1.parallel" in sp
    assert "L1.parallel=off" in [c.describe() for c in sp["L0.tile1"].conditions]
    with pytest.raises(InvalidConfig, match="no effect unless"):
        sp.parse_assignments(["L1.parallel=on", "L0.tile1=8"])


def test_gcc_cannot_unroll_a_loop_it_runs_in_parallel(tmp_path):
    """gcc rejects `#pragma GCC unroll` next to `#pragma omp parallel for`: unroll needs clang or parallel off."""
    sp = build_space(_program(tmp_path, "for (i = 0; i < n; i++)\n  x[i] = y[i] * 2;"))
    if "gcc" not in sp["compiler"].choices or "clang" not in sp["compiler"].choices:
        pytest.skip("needs both compilers")
    assert [c.describe() for c in sp["L0.unroll"].conditions] == ["compiler=clang or L0.parallel=off"]
    sp.parse_assignments(["compiler=gcc", "L0.parallel=on"])
    sp.parse_assignments(["compiler=gcc", "L0.unroll=4"])
    with pytest.raises(InvalidConfig):
        sp.parse_assignments(["compiler=gcc", "L0.parallel=on", "L0.unroll=4"])


def test_space_size_is_exact_with_the_new_knobs():
    from autotune.trials.records import restrict

    sp = build_space(seq_2mm(), cores=2)
    names = ["compiler", "polly", "polly_parallel", "L19.interchange", "L13.parallel", "L16.parallel", "L19.parallel"]
    names += ["threads", "L13.tile1", "L16.reverse", "L16.tile1", "L19.tile1", "L20.unroll"]
    sub = restrict(sp, {n: (sp[n].choices[:2] if n.endswith((".tile1", ".unroll")) else ()) for n in names})
    configs = list(sub.enumerate())
    assert sub.size() == len(configs) == len({tuple(sorted(c.items())) for c in configs})
    assert all(sub.is_valid(c) for c in configs)
