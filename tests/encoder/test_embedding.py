"""The shipped weights: load them, embed a suite kernel, get a finite vector of the documented size."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest

from encoder.embedding import TOKENIZER, WEIGHTS, Embedder
from tests.conftest import KERNELS, ROOT

INCLUDE = ROOT / "autotune" / "include"  # the suite's region-timer header (data, not an import)

pytestmark = [
    pytest.mark.skipif(shutil.which("clang-22") is None, reason="clang-22 not installed"),
    pytest.mark.skipif(not WEIGHTS.exists(), reason="no shipped weights in encoder/assets"),
]


def test_shipped_weights_embed_a_suite_kernel(tmp_path):
    assert WEIGHTS.stat().st_size <= 40 * 2**20 and TOKENIZER.exists()
    emb = Embedder(cache_dir=tmp_path, include_dirs=[INCLUDE])
    v = emb.embed([KERNELS / "gemm.c", KERNELS / "atax.c"])
    assert v.shape == (2, 256) and v.dtype == np.float32 and np.isfinite(v).all()
    assert not np.allclose(v[0], v[1])
    # the cache answers the second time, with the same vector
    again = emb.embed([KERNELS / "gemm.c"])
    assert np.array_equal(again[0], v[0]) and any(tmp_path.rglob("*.npy"))


def test_embed_cli_json_and_bad_input(tmp_path):
    run = [sys.executable, "-m", "encoder.cli", "embed", "--cache", ""]
    ok = subprocess.run(
        [*run, "-I", str(INCLUDE), str(KERNELS / "trisolv.c"), "--json"], capture_output=True, text=True, timeout=300
    )
    assert ok.returncode == 0, ok.stderr
    assert '"dim": 256' in ok.stdout
    bad = subprocess.run([*run, str(tmp_path / "missing.c")], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().splitlines() == [f"encoder: error: no such file: {tmp_path / 'missing.c'}"]


def test_in_memory_models_are_cached_by_their_weights_not_their_address():
    """Two random-init controls must never share cached vectors; the same weights may."""
    import torch

    from encoder.embedding import Embedder, load_model
    from encoder.model import MIREncoder

    cfg = load_model().cfg
    keys = []
    for seed in (0, 1, 0):
        torch.manual_seed(seed)
        keys.append(Embedder(model=MIREncoder(cfg)).key)
    assert keys[0] != keys[1] and keys[0] == keys[2]
