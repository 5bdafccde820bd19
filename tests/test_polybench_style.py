"""Unmodified PolyBench/C-style programs work with command-line flags only.

tests/data/polybench_style is our own program in PolyBench/C 4.2.1's layout and
interface (own polybench.h/.c, own timer, dump through -DPOLYBENCH_DUMP_ARRAYS).
"""

from __future__ import annotations

import pytest

from autotune.build import Builder
from autotune.kernel import Kernel
from autotune.measure import Bench, Options
from autotune.space.discover import build_space
from tests.conftest import DATA, needs_clang

PB = DATA / "polybench_style"
MAIN = PB / "linear-algebra" / "kernels" / "matscale" / "matscale.c"

pytestmark = needs_clang


def kernel(**kw) -> Kernel:
    return Kernel.load(
        MAIN,
        include_dirs=[PB / "utilities"],
        sources=[PB / "utilities" / "polybench.c"],
        defines=["SMALL_DATASET"],
        **kw,
    )


def test_discovery_uses_polybench_timer_and_scop_region():
    k = kernel()
    assert k.timing == "polybench"
    assert k.base_defines() == ["SMALL_DATASET", "POLYBENCH_TIME", "POLYBENCH_DUMP_ARRAYS"]
    sp = build_space(k)
    # only the kernel nest between polybench_start/stop_instruments is tuned
    assert {n.split(".")[0] for n in (kn.name for kn in sp) if n.startswith("L")} == {"L8", "L9"}
    assert "L8.tile2" in sp and "L8.schedule" in sp


@pytest.mark.slow
def test_measure_verifies_through_the_array_dump(tmp_path):
    b = Bench(
        kernel(params={"DATA_TYPE_IS_INT": ("0", "1")}),
        options=Options(min_pairs=3, max_pairs=5),
        builder=Builder(tmp_path),
    )
    assert "==BEGIN DUMP_ARRAYS==" in b.reference_output
    ok = b.measure(b.space.parse_assignments(["L8.tile1=8", "L8.tile2=16", "L8.schedule=dynamic"]))
    assert ok.status == "ok" and ok.verified and ok.timing == "polybench"
    # an int build prints different numbers into the dump: caught
    wrong = b.measure(b.space.parse_assignments(["DATA_TYPE_IS_INT=1"]))
    assert wrong.status == "wrong_output"
