"""Variants: the transformed source compiles and computes the same thing."""

from __future__ import annotations

import os
import subprocess

from autotune.build import Builder
from autotune.discover import build_space
from autotune.kernel import Kernel
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
    assert text.count("schedule(runtime)") == 3 and "schedule(dynamic, 4)" not in text


def test_tile_privatises_outer_declared_loop_variables():
    k = Kernel.load(DATA / "tricky.c")
    sp = build_space(k)
    v = make_variant(k, sp, sp.parse_assignments(["L4.tile1=8", "L4.tile2=4"]))
    text = v.source.decode()
    assert "#pragma omp parallel for collapse(2) private(k) private(i, j)" in text
    assert "#pragma omp tile sizes(8, 4, 1)" in text


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
