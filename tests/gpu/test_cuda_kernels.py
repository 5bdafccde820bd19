"""kernels/cuda/*.cu: the CUDA kernel programs and their shared harness autotune/include/autotune_cuda.cuh.

Each program is built twice at SMALL (12 nvcc runs in all, once per module): at its defaults and with the last
declared value of every `@autotune param`, and both builds must compile cleanly. Without a GPU (`nvidia-smi -L`
fails) a program must say so in one line and exit 5; with one, it must run, report its kernel time, print its
outputs, and the two builds must agree (histogram exactly, the float kernels within 1e-4 relative)."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

NVCC = shutil.which("nvcc")
pytestmark = pytest.mark.skipif(NVCC is None, reason="nvcc not installed")

CUDA_DIR = ROOT / "kernels" / "cuda"
INCLUDE = ROOT / "autotune" / "include"
KERNELS = ["matmul", "stencil2d", "reduce", "spmv_csr", "transpose", "histogram"]
PARAM = re.compile(r"^\s*//\s*@autotune\s+param\s+([A-Za-z_]\w*)\s+(.+?)\s*$", re.MULTILINE)
REGION = re.compile(r"^@autotune region kernel (\S+)$")
OUT = re.compile(r"^out (\d+) (\w+) (\d+) sum=(\S+) abs=(\S+)$")


def declared(source: str) -> dict[str, list[str]]:
    """The `// @autotune param NAME v1 v2 ...` lines: values by name, in declaration order."""
    return {m.group(1): m.group(2).split() for m in PARAM.finditer(source)}


def default(source: str, name: str) -> str:
    m = re.search(rf"^#ifndef {name}\n#define {name} (\S+)$", source, re.MULTILINE)
    assert m, f"{name} is not defined under `#ifndef {name}`"
    return m.group(1)


def nondefault_defines(source: str) -> dict[str, str]:
    """The last declared value of every param (each differs from the default: checked in the tests)."""
    return {name: values[-1] for name, values in declared(source).items()}


@dataclass
class Build:
    exe: Path
    returncode: int
    stderr: str


def nvcc(source: Path, exe: Path, defines: dict[str, str]) -> Build:
    cmd = [NVCC, "-O3", "-std=c++17", "-arch=sm_90", "-I", str(INCLUDE), "-DSMALL_DATASET"]
    cmd += [f"-D{name}={value}" for name, value in defines.items()]
    cmd += [str(source), "-o", str(exe)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    return Build(exe, done.returncode, done.stderr)


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Build]:
    """Every kernel built once at its defaults and once with the last declared values (12 nvcc runs)."""
    out = tmp_path_factory.mktemp("cuda")
    result = {}
    for name in KERNELS:
        source = CUDA_DIR / f"{name}.cu"
        result[name, "default"] = nvcc(source, out / f"{name}_default", {})
        result[name, "last"] = nvcc(source, out / f"{name}_last", nondefault_defines(source.read_text()))
    return result


def gpu_present() -> bool:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return False
    try:
        done = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and "GPU" in done.stdout


def parse_outputs(stdout: str) -> list[tuple[tuple[str, str, int], float, float, list[str]]]:
    """(index, type, count), sum, abs and the sample elements of every `out` line with the line after it."""
    lines = stdout.splitlines()
    outputs = []
    for i, line in enumerate(lines):
        m = OUT.match(line)
        if m:
            assert i + 1 < len(lines), stdout
            key = (m.group(1), m.group(2), int(m.group(3)))
            outputs.append((key, float(m.group(4)), float(m.group(5)), lines[i + 1].split()))
    return outputs


@pytest.mark.parametrize("name", KERNELS)
def test_params_declared_and_guarded(name: str) -> None:
    source = (CUDA_DIR / f"{name}.cu").read_text()
    params = declared(source)
    assert "BLOCK" in params or {"BX", "BY"} <= params.keys(), params
    assert params["CF"] == ["1", "2", "4", "8"]
    assert params["UNROLL"] == ["1", "2", "4", "8"]
    for param, values in params.items():
        assert values, param
        assert default(source, param) in values, param
        assert values[-1] != default(source, param), f"{param}: the last value is the default"
    if "BLOCK" in params:
        assert all(int(v) <= 1024 for v in params["BLOCK"])
    if "BX" in params:
        assert max(int(x) for x in params["BX"]) * max(int(y) for y in params["BY"]) <= 1024
    assert '#include "autotune_cuda.cuh"' in source
    assert "AT_UNROLL(UNROLL)" in source
    assert source.index("at_require_device();") < source.index("cudaMalloc")
    for preset in ("SMALL_DATASET", "LARGE_DATASET"):
        assert f"defined({preset})" in source


@pytest.mark.parametrize("variant", ["default", "last"])
@pytest.mark.parametrize("name", KERNELS)
def test_compiles(builds: dict[tuple[str, str], Build], name: str, variant: str) -> None:
    build = builds[name, variant]
    assert build.returncode == 0, build.stderr
    assert "warning" not in build.stderr.lower(), build.stderr
    assert build.exe.is_file()


def run(exe: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(exe)], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("name", KERNELS)
def test_runs(builds: dict[tuple[str, str], Build], name: str) -> None:
    for variant in ("default", "last"):
        if builds[name, variant].returncode != 0:
            pytest.fail(f"{name} ({variant}) did not compile: {builds[name, variant].stderr[:500]}")
    if not gpu_present():
        for variant in ("default", "last"):
            done = run(builds[name, variant].exe)
            assert done.returncode == 5, (done.returncode, done.stderr)
            lines = done.stderr.splitlines()
            assert len(lines) == 1 and lines[0].startswith("@autotune error no-device"), done.stderr
            assert done.stdout == ""
        return

    results = {}
    for variant in ("default", "last"):
        done = run(builds[name, variant].exe)
        assert done.returncode == 0, (variant, done.returncode, done.stderr)
        regions = [REGION.match(line) for line in done.stderr.splitlines()]
        regions = [m for m in regions if m]
        assert len(regions) == 1, done.stderr
        seconds = float(regions[0].group(1))
        assert math.isfinite(seconds) and seconds > 0, done.stderr
        assert "@autotune error" not in done.stderr, done.stderr
        assert any(line.startswith("out ") for line in done.stdout.splitlines()), done.stdout
        results[variant] = done.stdout

    if name == "histogram":
        assert results["default"] == results["last"]
        (key, total, _, _), *_ = parse_outputs(results["default"])
        assert key == ("0", "int", 256) and total == 10000019  # SMALL: every element counted once
        return
    default_out, last_out = parse_outputs(results["default"]), parse_outputs(results["last"])
    assert default_out and len(default_out) == len(last_out)
    for (key, s0, a0, elems0), (key1, s1, a1, elems1) in zip(default_out, last_out, strict=True):
        assert key == key1 and key[1] == "float"
        assert s1 == pytest.approx(s0, rel=1e-4) and a1 == pytest.approx(a0, rel=1e-4)
        assert len(elems0) == len(elems1) == min(key[2], 32)
        for e0, e1 in zip(elems0, elems1, strict=True):
            assert float(e1) == pytest.approx(float(e0), rel=1e-4, abs=1e-6)
