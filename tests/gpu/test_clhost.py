"""autotune/gpu/clhost.c: the OpenCL host program that runs one kernel from a spec file.

The expected outputs are computed here from the spec alone (splitmix64 is reimplemented), so the tests also check
that clhost's inputs are what the spec format promises, on every machine."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import needs_clang

pytestmark = needs_clang

REGION = re.compile(r"^@autotune region kernel (\S+)$", re.MULTILINE)

SAXPY = """
__kernel void saxpy(__global const float *x, __global float *y, float a) {
    size_t i = get_global_id(0);
    y[i] = a * x[i] + y[i];
}
"""

GROUP_SUM = """
__kernel void group_sum(__global const int *in, __global int *out, __local int *scratch) {
    size_t l = get_local_id(0);
    scratch[l] = in[get_global_id(0)];
    barrier(CLK_LOCAL_MEM_FENCE);
    for (size_t s = get_local_size(0) / 2; s > 0; s >>= 1) {
        if (l < s) scratch[l] += scratch[l + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (l == 0) out[get_group_id(0)] = scratch[0];
}
"""


def run(exe: Path, spec: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(exe), str(spec)], capture_output=True, text=True, timeout=60)


def write_spec(directory: Path, kernel_source: str, lines: list[str], name: str = "k") -> Path:
    (directory / f"{name}.cl").write_text(kernel_source)
    spec = directory / f"{name}.spec"
    spec.write_text(f"# test spec\nsource {directory / name}.cl\n" + "\n".join(lines) + "\n")
    return spec


def splitmix64(seed: int, n: int) -> list[int]:
    mask = (1 << 64) - 1
    state, out = seed & mask, []
    for _ in range(n):
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        out.append(z ^ (z >> 31))
    return out


def random_reals(seed: int, n: int, lo: float, hi: float) -> np.ndarray:
    return np.array([lo + (hi - lo) * ((r >> 11) * 2.0**-53) for r in splitmix64(seed, n)])


def random_ints(seed: int, n: int, lo: int, hi: int) -> np.ndarray:
    return np.array([lo + r % (hi - lo) for r in splitmix64(seed, n)], dtype=np.int64)


def parse_outputs(stdout: str) -> dict[int, tuple[str, int, str, str, list[str]]]:
    """{arg index: (type, count, sum, abs, sample)} from clhost's stdout."""
    lines, outputs = stdout.splitlines(), {}
    assert len(lines) % 2 == 0, stdout
    for head, sample in zip(lines[::2], lines[1::2], strict=True):
        m = re.fullmatch(r"out (\d+) (\w+) (\d+) sum=(\S+) abs=(\S+)", head)
        assert m, head
        outputs[int(m[1])] = (m[2], int(m[3]), m[4], m[5], sample.split())
    return outputs


def region_seconds(stderr: str) -> float:
    found = REGION.findall(stderr)
    assert len(found) == 1, stderr
    return float(found[0])


def test_query_reports_the_device(clhost: Path):
    out = subprocess.run([str(clhost), "--query"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    facts = dict(line.split(" ", 1) for line in out.stdout.splitlines())
    for key in ("platform", "device", "vendor", "version", "driver"):
        assert facts[key].strip(), key
    assert facts["type"] in {"cpu", "gpu", "accelerator", "other"}
    ints = ("max_work_group_size", "max_work_item_dimensions", "local_mem_size", "global_mem_size", "compute_units")
    for key in ints:
        assert int(facts[key]) > 0, key
    sizes = [int(v) for v in facts["max_work_item_sizes"].split()]
    assert len(sizes) == int(facts["max_work_item_dimensions"]) and min(sizes) > 0


def saxpy_spec(directory: Path, repeat: int) -> Path:
    return write_spec(
        directory,
        SAXPY,
        [
            "kernel saxpy",
            "options -cl-std=CL1.2   # a trailing comment",
            "global 4096",
            "local 64",
            f"repeat {repeat}",
            "arg buffer float 4096 random 42 -1 1",
            "arg buffer float 4096 arange 3 0.5 out",
            "arg scalar float 2.5",
        ],
        name=f"saxpy{repeat}",
    )


def test_saxpy_matches_numpy_and_is_deterministic(clhost: Path, tmp_path: Path):
    spec = saxpy_spec(tmp_path, repeat=1)
    first, second = run(clhost, spec), run(clhost, spec)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert region_seconds(first.stderr) > 0

    x = random_reals(42, 4096, -1.0, 1.0).astype(np.float32)
    y = (3 + 0.5 * np.arange(4096)).astype(np.float32)
    expected = (np.float32(2.5) * x + y).astype(np.float64)
    outputs = parse_outputs(first.stdout)
    assert list(outputs) == [1]
    dtype, count, total, absolute, sample = outputs[1]
    assert (dtype, count) == ("float", 4096)
    assert float(total) == pytest.approx(expected.sum(), rel=1e-6)
    assert float(absolute) == pytest.approx(np.abs(expected).sum(), rel=1e-6)
    assert np.allclose([float(v) for v in sample], expected[[k * 4096 // 32 for k in range(32)]], rtol=1e-6)

    repeated = run(clhost, saxpy_spec(tmp_path, repeat=3))
    assert repeated.returncode == 0, repeated.stderr
    assert repeated.stdout == first.stdout  # every launch starts from the spec's inputs
    assert region_seconds(repeated.stderr) > 0


def test_local_memory_reduction(clhost: Path, tmp_path: Path):
    spec = write_spec(
        tmp_path,
        GROUP_SUM,
        [
            "kernel group_sum",
            "global 1024",
            "local 64",
            "arg buffer int 1024 random 7 -100 100",
            "arg buffer int 16 value -1 out",
            "arg local 256",
        ],
    )
    result = run(clhost, spec)
    assert result.returncode == 0, result.stderr
    sums = random_ints(7, 1024, -100, 100).reshape(16, 64).sum(axis=1)
    assert parse_outputs(result.stdout) == {
        1: ("int", 16, str(sums.sum()), str(np.abs(sums).sum()), [str(v) for v in sums]),
    }


def test_syntax_error_is_a_compile_error(clhost: Path, tmp_path: Path):
    broken = "__kernel void broken(__global int *a) { a[0] = 1 +; }\n"
    spec = write_spec(tmp_path, broken, ["kernel broken", "global 1"])
    result = run(clhost, spec)
    assert result.returncode == 3, result.stderr
    assert re.search(r"^@autotune error compile \S", result.stderr, re.MULTILINE), result.stderr
    assert result.stdout == ""


def test_bad_local_size_is_a_launch_error(clhost: Path, tmp_path: Path):
    spec = write_spec(
        tmp_path,
        SAXPY,
        ["kernel saxpy", "global 1024", "local 1000", "arg buffer float 1024 index"]
        + ["arg buffer float 1024 zeros", "arg scalar float 1"],
    )
    result = run(clhost, spec)
    assert result.returncode == 4, result.stderr
    assert re.search(r"^@autotune error launch CL_INVALID_\w+ \(clEnqueueNDRangeKernel\)$", result.stderr, re.M)
    assert not REGION.search(result.stderr)


def test_unknown_directive_is_a_spec_error(clhost: Path, tmp_path: Path):
    spec = write_spec(tmp_path, SAXPY, ["kernel saxpy", "global 4", "frobnicate 3"])
    result = run(clhost, spec)
    assert result.returncode == 2
    # line 1 is the comment, 2 the source, 3 the kernel, 4 the global, 5 the bad one
    assert result.stderr.strip() == "@autotune error spec 5: unknown directive 'frobnicate'"
