"""CUDA programs under the engine: declared parameters as knobs, nvcc builds, and one line where no GPU is."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from autotune import cli, programs
from autotune.build import Builder
from autotune.errors import UserError
from autotune.gpu.cukernel import CudaKernel
from autotune.machine import compiler_version
from autotune.space.discover import build_space
from autotune.variant import make_variant
from tests.conftest import ROOT

CUDA = ROOT / "kernels" / "cuda"
pytestmark = pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc (the CUDA toolkit) is not installed")


def has_gpu() -> bool:
    smi = shutil.which("nvidia-smi")
    return smi is not None and subprocess.run([smi, "-L"], capture_output=True).returncode == 0


def test_declared_parameters_become_knobs_and_a_variant_defines_them():
    k = programs.load(CUDA / "matmul.cu", defines=["SMALL_DATASET"])
    assert isinstance(k, CudaKernel) and k.timing == "region"
    space = build_space(k)
    names = [kn.name for kn in space.knobs]
    assert names[0] == "fast_math" and {"CF", "UNROLL"} <= set(names)
    cfg = {**space.default(), "CF": 4, "fast_math": "on"}
    v = make_variant(k, space, cfg)
    assert v.compiler == "nvcc" and "-DCF=4" in v.flags and "--use_fast_math" in v.flags
    assert "-DSMALL_DATASET" in v.flags and any(f.startswith("-arch=sm_") for f in v.flags)
    assert v.device is not None and v.device.language == "cuda" and "-DCF=4" in v.device.options
    base = make_variant(k, space, space.default())
    assert base.build_key(k) != v.build_key(k)
    assert "release" in compiler_version(shutil.which("nvcc"))  # the build key names nvcc's version


def test_a_variant_builds_without_a_gpu_and_measuring_without_one_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AUTOTUNE_CACHE", str(tmp_path / "cache"))
    k = programs.load(CUDA / "histogram.cu", defines=["SMALL_DATASET"])
    space = build_space(k)
    b = Builder().build(k, make_variant(k, space, {**space.default(), "CF": 2}))
    assert b.ok, b.log
    if has_gpu():
        pytest.skip("a GPU is here: the no-device message cannot be shown")
    code = cli.main(["measure", str(CUDA / "histogram.cu"), "-D", "SMALL_DATASET", "--load-check", "off"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_BAD_INPUT and "no device to run it on" in err and len(err.strip().splitlines()) == 1


def test_a_cuda_file_that_is_not_a_program_is_refused(tmp_path):
    lone = tmp_path / "lone.cu"
    lone.write_text("__global__ void k(float *a) { a[threadIdx.x] = 1.0f; }\n")
    with pytest.raises(UserError, match="no main\\(\\); a CUDA kernel is tuned as a whole program"):
        programs.load(lone)
