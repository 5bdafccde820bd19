"""Variants: the transformed source compiles and computes the same thing."""

from __future__ import annotations

import os
import subprocess

from autotune.build import Builder
from autotune.kernel import Kernel
from autotune.space.discover import build_space
from autotune.variant import make_variant
from tests.conftest import DATA, needs_clang


def _run(build, env):
    out = subprocess.run([build.exe], env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_default_config_is_the_original_program():
    k = Kernel.load(DATA / "tricky.c")
    sp = build_space(k)
    v = make_variant(k, sp, sp.default())
    assert v.source is None
    assert v.flags[:2] == ["-O3", "-fopenmp"]


def test_schedule_goes_through_the_environment():
    k = Kernel.load(DATA / "tricky.c")
    sp = build_space(k)
    a = make_variant(k, sp, sp.parse_assignments(["L7.schedule=guided", "L7.chunk=16"]))
    b = make_variant(k, sp, sp.parse_assignments(["L4.schedule=dynamic", "L7.schedule=auto"]))
    assert a.source == b.source  # schedule variants share one build
    assert a.env["AUTOTUNE_SCHEDULE_1"] == "guided,16" and a.env["AUTOTUNE_SCHEDULE_0"] == "static"
    assert b.env["AUTOTUNE_SCHEDULE_0"] == "dynamic" and b.env["AUTOTUNE_SCHEDULE_1"] == "auto"
    text = a.source.decode()
    assert text.count("schedule(monotonic: runtime)") == 3 and "schedule(dynamic, 4)" not in text


def test_tile_privatises_outer_declared_loop_variables():
    k = Kernel.load(DATA / "tricky.c")
    sp = build_space(k)
    v = make_variant(k, sp, sp.parse_assignments(["L4.tile1=8", "L4.tile2=4"]))
    text = v.source.decode()
    assert "#pragma omp parallel for collapse(2) private(k) private(i, j)" in text
    assert "#pragma omp tile sizes(8, 4, 1)" in text


def test_tile_and_schedule_rewrite_one_directive_once():
    """Both rewrite L4's `omp parallel for`: privatised first, then re-spelt with schedule(runtime)."""
    k = Kernel.load(DATA / "tricky.c")
    sp = build_space(k, cores=2)
    v = make_variant(k, sp, sp.parse_assignments(["L4.tile1=8", "L4.tile2=4", "L4.schedule=dynamic"]))
    text = v.source.decode()
    assert (
        "{ autotune_set_schedule_(0);\n    #pragma omp parallel for collapse(2) private(k) private(i, j) "
        "schedule(monotonic: runtime)\n    #pragma omp tile sizes(8, 4, 1)\n    for (i = 0;" in text
    )
    # the program-wide environment first, then each loop's in source order
    assert list(v.env) == ["OMP_NUM_THREADS", "AUTOTUNE_SCHEDULE_0", "AUTOTUNE_SCHEDULE_1", "AUTOTUNE_SCHEDULE_2"]


@needs_clang
def test_many_knobs_compile_and_verify(tmp_path):
    k = Kernel.load(DATA / "tricky.c")
    sp = build_space(k)
    builder = Builder(tmp_path)
    ref = _run(builder.build(k, make_variant(k, sp, sp.default())), {})
    cfg = sp.parse_assignments(
        [
            "L12.tile1=8",
            "L12.tile2=16",
            "L4.tile1=4",
            "L4.tile2=8",
            "L4.tile3=16",
            "L6.vectorize=4",
            "L6.interleave=2",
            "L6.unroll=1",
            "L7.schedule=dynamic",
            "L7.chunk=1",
            "L9.unroll=4",
            "L13.vectorize=1",
            "polly=on",
            "polly_tile_size=32",
            "threads=1",
        ]
    )
    v = make_variant(k, sp, cfg)
    b = builder.build(k, v)
    assert b.ok, b.log
    assert _run(b, v.env) == ref  # same printed checksum


@needs_clang
def test_gcc_variant_uses_gcc_unroll(tmp_path):
    k = Kernel.load(DATA / "tricky.c")
    sp = build_space(k)
    if "gcc" not in sp["compiler"].choices:
        return
    v = make_variant(k, sp, sp.parse_assignments(["compiler=gcc", "L6.unroll=4", "opt=O2"]))
    assert "#pragma GCC unroll 4" in v.source.decode() and "clang loop vectorize" not in v.source.decode()
    assert Builder(tmp_path).build(k, v).ok


# --- parallel, interchange, reverse: real builds of a sequential PolyBench-style program -------
PB_UTIL = DATA / "polybench_style" / "utilities"


def _seq():
    k = Kernel.load(DATA / "seq_2mm.c", include_dirs=[PB_UTIL], sources=[PB_UTIL / "polybench.c"])
    return k, build_space(k, cores=2)


def _dump(build, env):
    out = subprocess.run([build.exe], env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "==BEGIN DUMP_ARRAYS==" in out.stderr
    return out.stderr


def test_new_pragmas_are_inserted_in_the_order_clang_accepts():
    k, sp = _seq()
    text = make_variant(k, sp, sp.parse_assignments(["L13.parallel=on", "L13.tile1=8", "L13.tile2=4"])).source.decode()
    # every loop variable the nest writes is private: under tile the original loops are not the associated ones
    assert "#pragma omp parallel for private(i, j, k)\n  #pragma omp tile sizes(8, 4)\n  for (i = 0;" in text
    text = make_variant(k, sp, sp.parse_assignments(["L19.interchange=j-i", "L20.vectorize=4"])).source.decode()
    assert "#pragma omp interchange permutation(2, 1)\n  for (i = 0; i < _PB_NK;" in text
    assert "#pragma clang loop vectorize_width(4)\n    for (j = 0;" in text
    text = make_variant(k, sp, sp.parse_assignments(["L16.reverse=on"])).source.decode()
    assert text.count("#pragma omp reverse\n") == 1 and "#pragma omp parallel" not in text
    v = make_variant(k, sp, sp.parse_assignments(["polly=on", "polly_parallel=on"]))
    assert v.source is None and v.flags[v.flags.index("-polly-parallel") - 1] == "-mllvm"


@needs_clang
def test_each_new_knob_builds_and_prints_what_the_original_prints(tmp_path):
    from autotune.measure.verify import compare

    k, sp = _seq()
    builder = Builder(tmp_path)
    ref = _dump(builder.build(k, make_variant(k, sp, sp.default())), {"OMP_NUM_THREADS": "1"})
    cases = [
        ["L13.parallel=on", "L16.parallel=on", "L19.parallel=on", "threads=2"],
        ["L13.parallel=on", "L13.tile1=8", "L13.tile2=4", "L15.vectorize=4", "threads=2"],
        ["L19.interchange=j-i", "L20.unroll=2"],
        ["L16.reverse=on", "L16.tile1=1", "L18.unroll=4"],
        ["polly=on", "polly_parallel=on", "threads=2"],
    ]
    for assignments in cases:
        v = make_variant(k, sp, sp.parse_assignments(assignments))
        b = builder.build(k, v)
        assert b.ok, (assignments, b.log)
        verdict = compare(ref, _dump(b, v.env))
        assert verdict.ok, (assignments, verdict.message)
        if "threads=2" in assignments:
            assert v.env["OMP_NUM_THREADS"] == "2"


@needs_clang
def test_polly_parallel_makes_parallel_code(tmp_path):
    """-polly-parallel really outlines parallel loops (Polly's GNU OpenMP calls, served by libomp)."""
    k, sp = _seq()
    builder = Builder(tmp_path)
    serial = builder.build(k, make_variant(k, sp, sp.parse_assignments(["polly=on"])))
    par = builder.build(k, make_variant(k, sp, sp.parse_assignments(["polly=on", "polly_parallel=on"])))
    assert serial.ok and par.ok
    assert b"GOMP_parallel_loop_runtime_start" in par.exe.read_bytes()
    assert b"GOMP_parallel_loop_runtime_start" not in serial.exe.read_bytes()


@needs_clang
def test_gcc_runs_the_parallel_loop_too(tmp_path):
    k, sp = _seq()
    if "gcc" not in sp["compiler"].choices:
        return
    builder = Builder(tmp_path)
    ref = _dump(builder.build(k, make_variant(k, sp, sp.default())), {})
    v = make_variant(k, sp, sp.parse_assignments(["compiler=gcc", "L13.parallel=on", "L15.unroll=4", "threads=2"]))
    b = builder.build(k, v)
    assert b.ok, b.log
    assert _dump(b, v.env) == ref


@needs_clang
def test_interchange_inside_an_existing_parallel_loop(tmp_path):
    """An OpenMP program's sequential inner nest (syr2k's k-j under `parallel for private(j, k)`) may be reordered."""
    from tests.conftest import KERNELS

    k = Kernel.load(KERNELS / "syr2k.c", defines=["MINI_DATASET"])
    sp = build_space(k, cores=2)
    (name,) = [kn.name for kn in sp if kn.name.endswith(".interchange")]
    builder = Builder(tmp_path)
    ref = _run(builder.build(k, make_variant(k, sp, sp.default())), {})
    v = make_variant(k, sp, sp.parse_assignments([f"{name}={sp[name].choices[1]}", "threads=2"]))
    b = builder.build(k, v)
    assert b.ok, b.log
    assert _run(b, v.env) == ref


@needs_clang
def test_a_forced_vectorize_hint_under_a_dynamic_schedule_keeps_a_histogram_right(tmp_path):
    """schedule(runtime) let clang treat the loop as parallel (nonmonotonic) and a forced
    vectorize_width then miscounted `hist[bin]++`; schedule(monotonic: runtime) keeps it right."""
    from tests.conftest import KERNELS

    k = Kernel.load(KERNELS / "generated" / "reduce-004.c", defines=["SMALL_DATASET"])
    sp = build_space(k)
    builder = Builder(tmp_path)
    base = _run(builder.build(k, make_variant(k, sp, sp.default())), {"OMP_NUM_THREADS": "1"})
    cfg = sp.parse_assignments(["threads=1", "L2.schedule=dynamic", "L2.vectorize=4"])
    v = make_variant(k, sp, cfg)
    out = _run(builder.build(k, v), v.env)
    assert out.splitlines()[0] == base.splitlines()[0]  # the histogram's counts line


@needs_clang
def test_a_forced_vectorize_hint_alone_on_a_nonmonotonic_loop_keeps_a_histogram_right(tmp_path):
    """reduce-006's loop is `schedule(guided)` as written (nonmonotonic): with the schedule knobs at
    their defaults the source schedule stayed, and `L2.vectorize=2` alone miscounted the histogram
    (7,884,691 of 8,000,000, found collecting); the schedule is now taken over as written, monotonic."""
    from tests.conftest import KERNELS

    k = Kernel.load(KERNELS / "generated" / "reduce-006.c", defines=["SMALL_DATASET"])
    sp = build_space(k)
    builder = Builder(tmp_path)
    base = _run(builder.build(k, make_variant(k, sp, sp.default())), {"OMP_NUM_THREADS": "1"})
    v = make_variant(k, sp, sp.parse_assignments(["threads=1", "L2.vectorize=2"]))
    assert v.env.get("AUTOTUNE_SCHEDULE_0") == "guided"  # the schedule as written, now through the environment
    out = _run(builder.build(k, v), v.env)
    assert out.splitlines()[0] == base.splitlines()[0]  # the histogram's counts line
