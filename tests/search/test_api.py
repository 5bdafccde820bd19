"""The README's Python example runs as written (a real, tiny search: budget 3 at MINI size)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import KERNELS, ROOT, needs_clang


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    tuning = text.split("## Tuning", 1)[1]
    return re.search(r"```python\n(.*?)```", tuning, re.S).group(1)


@needs_clang
@pytest.mark.slow
def test_readme_example_runs(tmp_path):
    (tmp_path / "kernels").mkdir()
    shutil.copy(KERNELS / "jacobi-1d.c", tmp_path / "kernels")
    env = {**os.environ, "AUTOTUNE_CACHE": str(tmp_path / ".autotune"), "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-c", readme_example()], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "verified: True" in r.stdout and "bytes of C in results/jacobi-1d/best_variant.c" in r.stdout
    assert (tmp_path / "results" / "jacobi-1d" / "trials.csv").exists()


def test_tune_and_result_are_exported():
    import autotune

    assert "tune" in autotune.__all__ and "Result" in autotune.__all__
    assert autotune.tune.__module__ == "autotune.search.api" and autotune.Result.__name__ == "Result"
