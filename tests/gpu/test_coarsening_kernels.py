"""The thread-coarsening data set's 17 kernels (kernels/opencl/coarsening/): each loads with its description and
has a search space on the device; the ones without work-group operations offer thread coarsening, the others are
refused with the reason. Spaces only, no measurements: fast."""

from __future__ import annotations

from pathlib import Path

import pytest

from autotune import programs
from autotune.space.discover import build_space
from tests.conftest import ROOT, needs_clang

KERNELS = ROOT / "kernels" / "opencl" / "coarsening"

COARSENABLE = {
    "binarySearch",
    "blackscholes",
    "convolution",
    "fastWalsh",
    "floydWarshall",
    "mvUncoal",
    "nbody",
    "sgemm",
    "sobel",
    "spmv",
    "stencil",
}
LOCAL_MEMORY = "it takes __local memory"
REFUSED = {  # kernel: what the space's note must say
    "dwtHaar1D": LOCAL_MEMORY,
    "mriQ": "it calls get_group_id, get_local_id",
    "mt": LOCAL_MEMORY,
    "mtLocal": LOCAL_MEMORY,
    "mvCoal": LOCAL_MEMORY,
    "reduce": LOCAL_MEMORY,
}
FIXED_GROUP = {"dwtHaar1D", "mriQ", "mt", "mtLocal", "reduce"}  # their outputs depend on the work-group size


@pytest.fixture(scope="module")
def device_cache(clhost: Path, tmp_path_factory: pytest.TempPathFactory):
    """A private build cache for the module: the device query's clhost is built there once."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUTOTUNE_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


def test_the_list_names_every_kernel_of_the_folder_once():
    found = {p.stem for p in KERNELS.glob("*.cl")}
    assert not COARSENABLE & set(REFUSED)
    assert found == COARSENABLE | set(REFUSED)
    assert len(found) == 17
    assert all(p.with_suffix(".toml").exists() for p in KERNELS.glob("*.cl"))


@needs_clang
@pytest.mark.parametrize("name", sorted(COARSENABLE | set(REFUSED)))
def test_each_kernel_loads_and_its_space_coarsens_or_says_why_not(device_cache, name):
    k = programs.load(KERNELS / f"{name}.cl")
    space = build_space(k)
    assert "cl_math" in space
    fn = k.description.kernel
    if name in COARSENABLE:
        assert "cf" in space and len(space["cf"].choices) > 1 and space["cf"].default == 1
        assert "cf_mode" in space
        assert not any("no thread coarsening" in n for n in space.notes)
    else:
        assert "cf" not in space and ("wg" in space) == (name not in FIXED_GROUP)
        assert any("tune_local = false" in n for n in space.notes) == (name in FIXED_GROUP)
        assert any(n.startswith(f"no thread coarsening for {fn}: {REFUSED[name]}") for n in space.notes), space.notes
