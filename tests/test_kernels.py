"""The kernel suite keeps its contract: builds, deterministic, thread-count independent, tunable."""

from __future__ import annotations

import json

import pytest

from autotune.build import Builder
from autotune.kernel import Kernel
from autotune.measure import runner, timing
from autotune.space.discover import build_space
from autotune.variant import make_variant
from tests.conftest import KERNELS, needs_clang

MANIFEST = json.loads((KERNELS / "manifest.json").read_text())
NAMES = [k["name"] for k in MANIFEST["kernels"]]
CATEGORIES = {"linear-algebra", "solver", "stencil", "datamining", "irregular"}


def test_manifest_lists_every_kernel_file_once():
    files = sorted(p.name for p in KERNELS.glob("*.c"))
    assert sorted(k["file"] for k in MANIFEST["kernels"]) == files
    assert len(NAMES) >= 24 and len(set(NAMES)) == len(NAMES)
    assert {k["category"] for k in MANIFEST["kernels"]} == CATEGORIES
    for k in MANIFEST["kernels"]:
        assert set(k["sizes"]) == {"MINI", "SMALL", "MEDIUM", "LARGE"}, k["name"]
        assert k["description"]


@needs_clang
@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_kernel_is_deterministic_across_thread_counts(name, tmp_path):
    kernel = Kernel.load(KERNELS / f"{name}.c", defines=["MINI_DATASET"])
    space = build_space(kernel, cores=2)
    assert kernel.timing == "region"
    assert any(k.name.startswith("L") for k in space), "no tunable loop found"
    build = Builder(tmp_path).build(kernel, make_variant(kernel, space, space.default()))
    assert build.ok, build.log
    outputs = []
    for threads in ("1", "2"):
        r = runner.run(build.exe, [], runner.clean_env({"OMP_NUM_THREADS": threads}), timeout=60)
        assert r.ok, r.describe_failure()
        t = timing.extract(r, "region")
        assert t.source == "region" and t.seconds > 0
        assert t.output.strip()
        outputs.append(t.output)
    assert outputs[0] == outputs[1]
