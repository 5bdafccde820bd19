"""The manifest agrees with the files on disk, and the committed set meets issue 13's target."""

from __future__ import annotations

import hashlib
import json

import pytest

from autotune.kernelgen import TEMPLATES, generate_set, normalize
from autotune.kernelgen.registry import select
from autotune.kernelgen.writer import manifest, quotas, write
from tests.conftest import KERNELS

GENERATED = KERNELS / "generated"


def _agrees(folder) -> dict:
    man = json.loads((folder / "manifest.json").read_text())
    files = sorted(p.name for p in folder.glob("*.c"))
    assert sorted(k["file"] for k in man["kernels"]) == files
    for k in man["kernels"]:
        text = (folder / k["file"]).read_text()
        assert hashlib.sha256(text.encode()).hexdigest() == k["sha256"], k["file"]
        assert hashlib.sha256(normalize(text).encode()).hexdigest() == k["normalized_sha256"], k["file"]
        assert f"template: {k['template']}   family: {k['family']}" in text
        assert set(k["sizes"]) == set(man["sizes"])
        assert man["templates"][k["template"]]["family"] == k["family"]
    assert len({k["normalized_sha256"] for k in man["kernels"]}) == len(man["kernels"])
    return man


def test_written_manifest_agrees_with_the_files_and_stale_files_go(tmp_path):
    templates = select("map,stencil2d,csr")
    out = generate_set(0, 6, templates)
    write(tmp_path, out, manifest(out, 0, 6, templates, None, "test"))
    man = _agrees(tmp_path)
    assert len(man["kernels"]) == 6 and man["verification"] is None
    assert not any(k["verified"] for k in man["kernels"])
    (tmp_path / "notes.c").write_text("/* not ours */\n")  # never listed by a manifest: left alone
    smaller = generate_set(0, 3, templates)
    write(tmp_path, smaller, manifest(smaller, 0, 3, templates, None, "test"))
    assert sorted(p.name for p in tmp_path.glob("*.c")) == sorted(["notes.c", *(g.file for g, _ in smaller.kernels)])


def test_quotas_share_the_count_evenly():
    assert quotas(240, TEMPLATES) == [20] * 12
    assert quotas(14, TEMPLATES[:4]) == [4, 4, 3, 3]


@pytest.mark.skipif(not (GENERATED / "manifest.json").exists(), reason="no committed generated kernels")
def test_committed_set_meets_the_target():
    man = _agrees(GENERATED)
    kernels = man["kernels"]
    assert len(kernels) >= 200
    assert len({k["template"] for k in kernels}) >= 8
    assert all(k["verified"] for k in kernels)
    assert man["verification"]["sizes"] == ["MINI", "SMALL"]
