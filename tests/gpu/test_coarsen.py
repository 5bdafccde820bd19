"""Reading OpenCL C (kernels, parameters, calls) and coarsening it on the source; what is refused and why."""

from __future__ import annotations

import pytest

from autotune.gpu import clsource
from autotune.gpu.coarsen import coarsen, launch_global, refusal

SRC = b"""
#define SCALE 2.0f
float sq(float v) { return v * v; }   /* a helper that reads no work-item id */
int gid_helper(void) { return get_global_id(0); }

__kernel void saxpy(__global const float* restrict x, __global float *y, const float a, const int n) {
  int i = get_global_id(0);
  if (i >= n) return;
  y[i] = a * sq(x[i]) + y[i] * SCALE;
}

kernel __attribute__((reqd_work_group_size(64, 1, 1)))
void reduce(global const float *in, local float *scratch, global float *out) {
  scratch[get_local_id(0)] = in[get_global_id(0)];
  barrier(CLK_LOCAL_MEM_FENCE);
  if (get_local_id(0) == 0) out[get_group_id(0)] = scratch[0];
}

__kernel
void tile(__global float *a) { __local float t[4]; t[0] = 1.0f; a[get_global_id(0)] = t[0]; }

__kernel void uses_helper(__global int *a) { a[get_global_id(0)] = gid_helper(); }
"""


def by_name(name: str) -> clsource.Function:
    return next(f for f in clsource.functions(SRC) if f.name == name)


def test_kernels_their_parameters_and_calls_are_read_with_the_qualifiers_kept():
    assert [k.name for k in clsource.kernels(SRC)] == ["saxpy", "reduce", "tile", "uses_helper"]
    saxpy = by_name("saxpy")
    assert [(p.name, p.space, p.pointer) for p in saxpy.params] == [
        ("x", "global", True),
        ("y", "global", True),
        ("a", "private", False),
        ("n", "private", False),
    ]
    assert saxpy.params[0].text == "__global const float* restrict x"
    assert saxpy.calls == {"get_global_id", "sq"} and not saxpy.local_decls
    assert SRC[saxpy.start :].startswith(b"__kernel void saxpy")  # the definition starts at its qualifier
    assert saxpy.line == SRC[: saxpy.start].count(b"\n") + 1
    reduce = by_name("reduce")
    assert SRC[reduce.start :].startswith(b"kernel __attribute__")
    assert [p.space for p in reduce.params] == ["global", "local", "global"]
    assert by_name("tile").local_decls and SRC[by_name("tile").start :].startswith(b"__kernel\nvoid tile")
    assert not by_name("sq").kernel


@pytest.mark.parametrize(
    ("kernel", "why"),
    [
        ("saxpy", None),
        ("reduce", "it takes __local memory"),
        ("tile", "it declares __local memory"),
        ("uses_helper", "its helper gid_helper reads work-item ids"),
    ],
)
def test_what_cannot_be_coarsened_is_refused_with_the_reason(kernel, why):
    got = refusal(SRC, by_name(kernel))
    assert got == why if why is None else got.startswith(why)


def test_group_functions_are_refused_even_without_local_memory():
    src = b"__kernel void k(__global int *a) { a[get_global_id(0)] = get_group_id(0) + work_group_reduce_add(1); }"
    (k,) = clsource.kernels(src)
    assert (
        refusal(src, k)
        == "it calls get_group_id, work_group_reduce_add: coarsening changes which work items share a work-group"
    )
    with pytest.raises(ValueError, match="cannot be coarsened"):
        coarsen(src, k, 2)


@pytest.mark.parametrize("mode", ["block", "stride"])
def test_the_coarsened_source_keeps_the_kernel_and_moves_its_body_unchanged(mode):
    k = by_name("saxpy")
    out = coarsen(SRC, k, 4, 0, mode).decode()
    body = k.body(SRC)
    assert body in out and out.count("__kernel void saxpy(") == 1  # name, qualifiers and parameters as given
    assert "void saxpy__at_body(__global const float* restrict x, __global float *y, const float a, const int n," in out
    assert "saxpy__at_body(x, y, a, n, __at_g, __at_n);" in out
    assert (
        out.index('#pragma push_macro("get_global_id")')
        < out.index(body)
        < out.index('#pragma pop_macro("get_global_id")')
    )
    g = "get_global_id(0) * 4 + __at_c" if mode == "block" else "get_global_id(0) + __at_c * get_global_size(0)"
    assert g in out
    untouched = SRC[k.end :].decode()
    assert out.endswith(untouched) and out.startswith(SRC[: k.start].decode())
    assert coarsen(SRC, k, 1) == SRC  # factor 1 is the kernel as given


def test_the_launch_shrinks_one_dimension_by_a_factor_that_divides_it():
    assert launch_global((1024, 8), 4) == (256, 8)
    assert launch_global((1024, 8), 2, dim=1) == (1024, 4)
    with pytest.raises(ValueError, match="does not divide"):
        launch_global((1000,), 16)
    with pytest.raises(ValueError, match="out of range"):
        coarsen(SRC, by_name("saxpy"), 4, dim=3)


def test_the_gnu_spelling_of_const_is_read_as_const():
    src = b"__kernel void fwt(__global float *a, __const int b) { a[get_global_id(0)] += b; }"
    (k,) = clsource.kernels(src)
    assert [(p.name, p.space, p.pointer) for p in k.params] == [("a", "global", True), ("b", "private", False)]
