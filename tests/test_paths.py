"""One root for every cache: $AUTOTUNE_CACHE moves the builds, the IR and the studies together."""

from __future__ import annotations

from autotune.build import Builder
from autotune.build.ir import variant_ir
from autotune.kernel import Kernel
from autotune.paths import cache_dir
from autotune.search.storage import default_location, open_storage
from autotune.space.discover import build_space
from autotune.variant import make_variant
from tests.conftest import KERNELS, needs_clang


def test_every_cache_follows_the_variable_read_when_used(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOTUNE_CACHE", str(tmp_path / "first"))
    assert [cache_dir(k) for k in ("builds", "ir", "studies")] == [
        tmp_path / "first" / k for k in ("builds", "ir", "studies")
    ]
    monkeypatch.setenv("AUTOTUNE_CACHE", str(tmp_path / "second"))  # read on every call, not once at import
    assert Builder().cache_dir == (tmp_path / "second" / "builds").resolve()
    assert default_location() == tmp_path / "second" / "studies" / "journal.log"
    assert open_storage(None)[1] == str(tmp_path / "second" / "studies" / "journal.log")


def test_without_the_variable_caches_are_in_dot_autotune(monkeypatch):
    monkeypatch.delenv("AUTOTUNE_CACHE", raising=False)
    assert cache_dir("builds").as_posix() == ".autotune/builds"


@needs_clang
def test_ir_lands_in_the_same_root(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOTUNE_CACHE", str(tmp_path))
    k = Kernel.load(KERNELS / "jacobi-1d.c", defines=["MINI_DATASET"])
    space = build_space(k)
    variant_ir(k, make_variant(k, space, space.default()))
    assert len(list((tmp_path / "ir").glob("*.ll"))) == 1
