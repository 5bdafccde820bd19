"""Shared by the GPU tests: the OpenCL host program, built once, or a skip when no OpenCL device is usable."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="session")
def clhost(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """clhost built once per session; skips the module when it cannot be built or no OpenCL device is usable."""
    exe = tmp_path_factory.mktemp("clhost") / "clhost"
    source = ROOT / "autotune" / "gpu" / "clhost.c"
    cmd = ["clang-22", "-O2", "-std=c11", "-Wall", "-Wextra", str(source), "-o", str(exe), "-lOpenCL"]
    built = subprocess.run(cmd, capture_output=True, text=True)
    if built.returncode != 0:
        pytest.skip(f"cannot build clhost (OpenCL headers or loader missing?): {built.stderr.strip()[:300]}")
    assert "warning" not in built.stderr, built.stderr
    query = subprocess.run([str(exe), "--query"], capture_output=True, text=True, timeout=60)
    if query.returncode != 0:
        pytest.skip(f"no usable OpenCL device: {query.stderr.strip()}")
    return exe
