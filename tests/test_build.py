"""The content-hash build cache."""

from __future__ import annotations

import shutil

from autotune.build import Builder
from autotune.kernel import Kernel
from autotune.space.discover import build_space
from autotune.variant import make_variant
from tests.conftest import DATA, needs_clang


@needs_clang
def test_cache_hits_misses_and_failures(tmp_path):
    prog = tmp_path / "prog"
    shutil.copytree(DATA, prog)
    k = Kernel.load(prog / "params.c")
    sp = build_space(k)
    b = Builder(tmp_path / "cache")
    base = make_variant(k, sp, sp.default())
    first = b.build(k, base)
    assert first.ok and not first.cached
    again = b.build(k, base)
    assert again.cached and again.exe == first.exe and again.key == first.key
    # an environment-only change shares the binary
    assert b.build(k, make_variant(k, sp, sp.parse_assignments(["threads=1"]))).cached
    # a flag change does not
    assert not b.build(k, make_variant(k, sp, sp.parse_assignments(["BLOCK=8"]))).cached
    # a header beside the program is part of the key
    (prog / "extra.h").write_text("#define X 1\n")
    assert not b.build(k, base).cached
    # a failure is a value, kept with its diagnostics, and cached
    bad = make_variant(k, sp, sp.parse_assignments(["MODE=4"]))
    r1 = b.build(k, bad)
    assert not r1.ok and "error:" in r1.diagnostics()
    r2 = b.build(k, bad)
    assert r2.cached and not r2.ok and r2.log == r1.log
