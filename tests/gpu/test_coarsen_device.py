"""Coarsened kernels compute what the kernel as given computes: every factor, both modes, on the OpenCL device.

Each variant runs as the engine will run it: a C program built from clhost.c with its spec and
kernel source inside (autotune.gpu.program), whose stdout (the outputs' sums and samples) must
equal the untransformed kernel's byte for byte (coarsening moves work between work items; it
does not reorder any one work item's arithmetic).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from autotune.gpu import coarsen, describe, program
from autotune.gpu.clsource import kernels
from tests.conftest import needs_clang

pytestmark = needs_clang

ROW_SUM = b"""
float twice(float v) { return 2.0f * v; }
__kernel void row_sum(__global const float *m, __global float *out, const int n, const int cols) {
  int r = get_global_id(0);
  if (r >= n) return;                      /* the last rows' guard: a return ends one original work item */
  float s = 0.0f;
  for (int c = 0; c < cols; ++c) s += twice(m[r * cols + c]);
  out[r] = s + (float)get_global_size(0);  /* reads the original global size */
}
"""
ROW_SUM_TOML = """
global = ["N"]
sizes = { N = 1024, C = 16 }
[args.m]
buffer = "N * C"
init = "random"
range = [-1, 1]
[args.out]
buffer = "N"
output = true
[args.n]
value = "N - 3"
[args.cols]
value = "C"
"""
GRID = b"""
__kernel void grid(__global const int *a, __global int *b) {
  size_t x = get_global_id(0), y = get_global_id(1), w = get_global_size(0), h = get_global_size(1);
  b[y * w + x] = a[y * w + x] * 3 + (int)(x * 7 + y * 13) + (int)(w + h);
}
"""
GRID_TOML = """
global = [64, 32]
[args.a]
buffer = 2048
init = "random"
range = [0, 1000]
[args.b]
buffer = 2048
output = true
"""


def build_and_run(tmp: Path, desc, source: bytes, global_size, local, tag: str) -> str:
    spec = program.spec_text(desc, global_size, local, " ".join(desc.defines()))
    main = tmp / f"{tag}.c"
    main.write_bytes(program.host_source(spec, source))
    exe = tmp / tag
    cmd = ["clang-22", *program.compile_flags(), str(main), "-o", str(exe), *program.LINK_FLAGS]
    subprocess.run(cmd, check=True, capture_output=True)
    r = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "@autotune region kernel" in r.stderr
    return r.stdout


def case(tmp_path: Path, cl: bytes, toml: str):
    path = tmp_path / "k.cl"
    path.write_bytes(cl)
    (tmp_path / "k.toml").write_text(toml)
    desc = describe.load(path, cl)
    return desc, kernels(cl)[-1]


@pytest.mark.parametrize("mode", coarsen.MODES)
def test_every_coarsening_factor_computes_what_the_kernel_as_given_does(clhost, tmp_path, mode):
    desc, k = case(tmp_path, ROW_SUM, ROW_SUM_TOML)
    glob = desc.global_dims()
    want = build_and_run(tmp_path, desc, ROW_SUM, glob, (16,), "base")
    assert want.startswith("out 1 float 1024 ")
    for cf in (2, 4, 8, 16, 32):
        src = coarsen.coarsen(ROW_SUM, k, cf, 0, mode)
        launch = coarsen.launch_global(glob, cf)
        got = build_and_run(tmp_path, desc, src, launch, (min(16, launch[0]),), f"cf{cf}")
        assert got == want, f"factor {cf} ({mode}) changed the output"


@pytest.mark.parametrize(("dim", "mode"), [(0, "block"), (1, "stride")])
def test_coarsening_either_dimension_of_a_2d_kernel_keeps_its_output(clhost, tmp_path, dim, mode):
    desc, k = case(tmp_path, GRID, GRID_TOML)
    want = build_and_run(tmp_path, desc, GRID, (64, 32), (8, 4), "base")
    src = coarsen.coarsen(GRID, k, 4, dim, mode)
    got = build_and_run(tmp_path, desc, src, coarsen.launch_global((64, 32), 4, dim), (8, 4), "cf4")
    assert got == want


def test_a_wrong_coarsening_is_caught_by_the_output(clhost, tmp_path):
    """The check above can fail: a coarsened kernel launched shrunk in the wrong dimension misses half the output.

    (Launched on the full global size it would write past its buffers instead: on a CPU device, a crash.)
    """
    desc, k = case(tmp_path, GRID, GRID_TOML)
    want = build_and_run(tmp_path, desc, GRID, (64, 32), (8, 4), "base")
    wrong = build_and_run(tmp_path, desc, coarsen.coarsen(GRID, k, 2, 0), (32, 16), (8, 4), "wrong")
    assert wrong != want
