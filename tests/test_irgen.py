"""A variant's IR: the knob shows in it; environment-only knobs share it."""

from __future__ import annotations

from autotune.build.ir import variant_ir
from autotune.kernel import Kernel
from autotune.space.discover import build_space
from autotune.variant import make_variant
from encoder import ir as irmod
from tests.conftest import KERNELS, needs_clang


@needs_clang
def test_unroll_changes_the_ir_threads_do_not(tmp_path):
    k = Kernel.load(KERNELS / "jacobi-1d.c", defines=["MINI_DATASET"])
    space = build_space(k)

    def h(settings):
        cfg = space.parse_assignments(settings)
        return irmod.ir_hash(irmod.normalize(variant_ir(k, make_variant(k, space, cfg), tmp_path)))

    base = h([])
    loop = next(n.name.split(".")[0] for n in space.knobs if n.name.endswith(".unroll"))
    assert h([f"{loop}.unroll=8"]) != base
    assert h(["threads=1"]) == base
    assert h(["opt=O1"]) != base
    # cached by build key: a second call reads the file
    assert len(list(tmp_path.glob("*.ll"))) == 3


@needs_clang
def test_threads_writing_one_cache_entry_do_not_collide(tmp_path, monkeypatch):
    """The featurizer asks for the same build from several threads (the CI failure of stop 7).

    A slow rename forces the interleaving that failed there: every thread has written its
    temporary file before the first one renames it.
    """
    import os
    import time
    from concurrent.futures import ThreadPoolExecutor

    real_replace = os.replace

    def slow_replace(a, b):
        time.sleep(0.2)
        real_replace(a, b)

    monkeypatch.setattr(os, "replace", slow_replace)
    k = Kernel.load(KERNELS / "jacobi-1d.c", defines=["MINI_DATASET"])
    space = build_space(k)
    v = make_variant(k, space, space.parse_assignments([]))
    with ThreadPoolExecutor(6) as ex:
        irs = list(ex.map(lambda _: variant_ir(k, v, tmp_path), range(6)))
    assert len(set(irs)) == 1 and irs[0].startswith("; ModuleID")
    assert [p.name for p in tmp_path.iterdir()] == [f"{v.build_key(k)}.ll"]  # no temporary left


@needs_clang
def test_a_variant_clang_cannot_emit_is_not_compiled_again(tmp_path, monkeypatch):
    """A timeout (or an error) is kept beside the IR cache: the next featurization does not pay it again."""
    import pytest

    from autotune.build import ir

    k = Kernel.load(KERNELS / "jacobi-1d.c", defines=["MINI_DATASET"])
    space = build_space(k)
    v = make_variant(k, space, space.parse_assignments([]))
    monkeypatch.setattr(ir, "IR_TIMEOUT_S", 0.001)
    with pytest.raises(ir.IRGenError, match="took over 0.001 s"):
        variant_ir(k, v, tmp_path)
    monkeypatch.setattr(ir, "IR_TIMEOUT_S", 300)
    calls = []
    monkeypatch.setattr(ir, "compile_once", lambda *a: calls.append(a))
    with pytest.raises(ir.IRGenError, match="took over 0.001 s"):
        variant_ir(k, v, tmp_path)
    assert not calls  # the kept failure answered
    (tmp_path / f"{v.build_key(k)}.fail").unlink()  # what a user does to try again
    monkeypatch.undo()
    assert variant_ir(k, v, tmp_path).startswith("; ModuleID")
