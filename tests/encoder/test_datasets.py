"""The public data-set readers (`encoder.datasets`): tables, archives, and one entry as normalized IR."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from encoder import ir
from encoder.datasets import ModuleRecipe, default_data_dir, module_text, read_csv, tar_texts
from tests.conftest import needs_clang


def _tar(path: Path, mode: str, members: dict[str, str]) -> Path:
    with tarfile.open(path, mode) as tf:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize(("name", "mode"), [("k.tar.gz", "w:gz"), ("k.tar.bz2", "w:bz2")])
def test_tar_texts_keys_members_by_basename_and_filters_by_suffix(tmp_path, name, mode):
    archive = _tar(tmp_path / name, mode, {"a/b/x.ll": "define", "a/y.cl": "kernel", "a/b/z.ll": "\xe9"})
    assert tar_texts(archive, ".ll") == {"x.ll": "define", "z.ll": "\xe9"}


def test_read_csv_reads_cells_larger_than_the_default_field_limit(tmp_path):
    big = "x" * 200_000  # a whole kernel source in one cell; the csv module's default limit is 131072
    (tmp_path / "t.csv").write_text(f'kernel,src\nk,"{big}"\n')
    assert read_csv(tmp_path / "t.csv") == [{"kernel": "k", "src": big}]


def test_default_data_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ENCODER_DATA_DIR", str(tmp_path))
    assert default_data_dir() == tmp_path


IR_TEXT = "define i32 @f(i32 %x) {\nentry:\n  %y = add i32 %x, 1\n  ret i32 %y\n}\n"


def test_an_ir_recipe_is_the_normalized_text():
    assert module_text(ModuleRecipe("ir", "ir", IR_TEXT)) == ir.normalize(IR_TEXT)


@needs_clang
def test_a_source_recipe_is_compiled_and_normalized():
    src = "int f(int x) { return x + 1; }\n"
    got = module_text(ModuleRecipe("c", "source", src, "c", "O1"))
    assert got == ir.normalize(ir.compile_source(src, "c", opt="O1")) and "define" in got
