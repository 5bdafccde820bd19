"""encoder.ir: compiling C/OpenCL/CUDA to IR, normalising, parsing old IR, hashing."""

from __future__ import annotations

import re
import tarfile
from pathlib import Path

import pytest

from encoder import clang, ir
from tests.conftest import needs_clang

SHARED_DATA = Path("/work/shared/data")
DEVMAP_IR = SHARED_DATA / "devmap" / "ir2vec" / "kernels_ir.tar.gz"
COARSENING_IR = SHARED_DATA / "thread_coarsening" / "kernels_ir"
TYPED_POINTER = re.compile(r"(?:[\w>\]]|\)) ?\*[ ,)]")  # `float* %x`, `<4 x float>*`, `i8 addrspace(1)*`

UNROLL_C = """
void axpy(float *restrict y, const float *restrict x, int n) {
  #pragma clang loop unroll_count(4)
  for (int i = 0; i < n; i++) y[i] += 2.0f * x[i];
}
"""

OPENCL = """
__kernel void scale(__global float *a, const float s) {
  int i = get_global_id(0);
  a[i] = a[i] * s;
}
"""

# The same function twice, with different local names and block labels.
NAMED_A = """
define i32 @f(i32 %n) {
entry:
  %c = icmp sgt i32 %n, 0
  br i1 %c, label %pos, label %done
pos:
  %d = mul i32 %n, 2
  br label %done
done:
  %r = phi i32 [ %d, %pos ], [ 0, %entry ]
  ret i32 %r
}
"""
NAMED_B = """
define i32 @f(i32 %count) {
start:
  %is.pos = icmp sgt i32 %count, 0
  br i1 %is.pos, label %then, label %bb0
then:
  %twice = mul i32 %count, 2
  br label %bb0
bb0:
  %result = phi i32 [ %twice, %then ], [ 0, %start ]
  ret i32 %result
}
"""


@needs_clang
def test_c_to_ir_with_openmp(tmp_path: Path) -> None:
    src = tmp_path / "par.c"
    src.write_text("void s(double *a, int n) {\n#pragma omp parallel for\n for (int i = 0; i < n; i++) a[i] *= 2;\n}\n")
    text = ir.compile_to_ir(src)
    assert "define" in text and "@__kmpc_fork_call" in text
    ir.parse(text)


@needs_clang
def test_defines_reach_the_compiler(tmp_path: Path) -> None:
    src = tmp_path / "d.c"
    src.write_text("int f(void) { return N * 3; }\n")
    assert "ret i32 21" in ir.compile_to_ir(src, defines=["N=7"])


@needs_clang
def test_opencl_to_ir(tmp_path: Path) -> None:
    src = tmp_path / "k.cl"
    src.write_text(OPENCL)
    text = ir.compile_to_ir(src)
    assert "spir_kernel void @scale" in text
    assert "__clang_ocl_kern_imp_" not in text  # the unused kernel stub copy is dropped
    assert "spir_kernel void @scale" in ir.compile_source(OPENCL, "opencl")


@needs_clang
def test_opencl_repair_stubs_missing_helpers() -> None:
    # Like the DeepTune kernels: a helper was cut away, and `rx` lost the dot of `r.x`.
    src = "__kernel void A(__global float4 *a) {\n float4 r = a[0];\n a[1] = (float4)(rx, 0, 0, B(r.y));\n}\n"
    with pytest.raises(ir.IRError):
        ir.compile_source(src, "opencl")
    text = ir.compile_source(src, "opencl", repair=True)
    assert "@B(" in text
    ir.parse(text)


def test_ll_passthrough(tmp_path: Path) -> None:
    p = tmp_path / "m.ll"
    p.write_text(NAMED_A)
    assert ir.compile_to_ir(p) == NAMED_A
    assert ir.compile_source(NAMED_A, "llvm") == NAMED_A


@needs_clang
def test_bad_source_raises_irerror(tmp_path: Path) -> None:
    """Other languages and IR; bad C: test_compile_errors_name_the_file_and_the_fix."""
    with pytest.raises(ir.IRError):
        ir.compile_source("__kernel void k() { undefined_thing = 1; }", "opencl")
    with pytest.raises(ir.IRError):
        ir.parse("define i32 @f() { ret i64 0 }")
    with pytest.raises(ir.IRError):
        ir.compile_to_ir(tmp_path / "x.f90")


@needs_clang
def test_normalize_strips_debug_and_target_keeps_loop_hints() -> None:
    raw = ir.compile_source(UNROLL_C, "c", opt="O0", flags=["-g"])
    assert "!dbg" in raw and "target-cpu" in raw and "llvm.loop.unroll.count" in raw
    norm = ir.normalize(raw)
    for gone in (
        "!dbg",
        "DILocation",
        "DICompileUnit",
        "llvm.dbg",
        "target-cpu",
        "target-features",
        "tune-cpu",
        "source_filename",
        "target datalayout",
        "target triple",
        "llvm.ident",
        "llvm.module.flags",
        "!tbaa",
    ):
        assert gone not in norm, gone
    assert "!llvm.loop !" in norm
    assert '!{!"llvm.loop.unroll.count", i32 4}' in norm
    assert "bb0:" in norm
    assert ir.normalize(norm) == norm
    ir.parse(norm)
    # Debug info does not change the canonical text.
    assert ir.normalize(ir.compile_source(UNROLL_C, "c", opt="O0")) == norm


def test_canonical_names() -> None:
    a, b = ir.normalize(NAMED_A), ir.normalize(NAMED_B)
    assert a == b
    assert ir.ir_hash(a) == ir.ir_hash(b)
    assert len(ir.ir_hash(a)) == 16
    assert "%count" not in b and "%then" not in b and "bb2:" in b
    assert ir.ir_hash(a) != ir.ir_hash(ir.normalize(NAMED_A.replace("mul i32 %n, 2", "mul i32 %n, 3")))


def _devmap_sample(n: int = 40) -> list[str]:
    with tarfile.open(DEVMAP_IR) as tf:
        members = [m for m in tf.getmembers() if m.name.endswith(".ll")]
        pick = members[:: max(1, len(members) // n)]
        # The one file with old type-less `byval` syntax.
        pick += [m for m in members if "lavaMD" in m.name]
        return [tf.extractfile(m).read().decode() for m in pick]  # type: ignore[union-attr]


@pytest.mark.skipif(not DEVMAP_IR.is_file() or not COARSENING_IR.is_dir(), reason="shared data sets missing")
def test_old_typed_pointer_ir_loads() -> None:
    texts = _devmap_sample() + [p.read_text() for p in sorted(COARSENING_IR.glob("*.ll"))]
    assert any("byval" in t and "byval(" not in t for t in texts)
    for text in texts:
        assert TYPED_POINTER.search(text)  # really old IR
        mod = ir.parse(text)
        assert any(not f.is_declaration for f in mod.functions)
        norm = ir.normalize(text)
        assert not TYPED_POINTER.search(norm)  # upgraded to opaque pointers
        assert ir.normalize(norm) == norm


def test_fix_legacy_syntax() -> None:
    old = "define void @k(%struct.par* byval nocapture align 4, float addrspace(1)* sret) {"
    assert ir.fix_legacy_syntax(old) == (
        "define void @k(%struct.par* byval(%struct.par) nocapture align 4, float addrspace(1)* sret(float)) {"
    )


# --- bad input: one line naming the file and what to do, never a traceback -------------------


def _flat_array_c(doublings: int) -> str:
    """A few hundred bytes of C whose IR holds 2**doublings array elements (macro doubling)."""
    lines = ["#define A0 1,"] + [f"#define A{i} A{i - 1} A{i - 1}" for i in range(1, doublings + 1)]
    return "\n".join([*lines, f"int a[] = {{ A{doublings} }};", "int f(int i) { return a[i]; }"]) + "\n"


def test_unreadable_files_are_one_line_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "dir.c").mkdir()
    (tmp_path / "bin.ll").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4)
    (tmp_path / "bitcode.ll").write_bytes(b"BC\xc0\xde\x35\x14\x00\x00\x05\x00\x00\x00")
    (tmp_path / "latin1.ll").write_bytes(b"; caf\xe9\ndefine i32 @f() {\n  ret i32 0\n}\n")
    cases = {
        "missing.c": "no such file",
        "dir.c": "is a directory",
        "bin.ll": "a binary file",
        "bitcode.ll": "LLVM bitcode",
        "latin1.ll": "not UTF-8 text (byte 0xe9 at offset 5)",
        "notes.txt": "unsupported suffix",
    }
    for name, what in cases.items():
        with pytest.raises(ir.IRError) as e:
            ir.compile_to_ir(tmp_path / name)
        msg = str(e.value)
        assert msg.startswith(f"{tmp_path / name}: {what}") and "; " in msg and "\n" not in msg, msg


def test_files_over_the_size_limit_are_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.ll"
    big.write_text("define i32 @f() {\n  ret i32 0\n}\n" + "; padding\n" * 2000)
    with pytest.raises(ir.IRError, match=r"big\.ll: 20 KiB, over the encoder's 8 KiB limit; embed the kernel"):
        ir.compile_to_ir(big, max_ir_bytes=8 * 2**10)
    assert "define i32 @f()" in ir.compile_to_ir(big)  # no limit asked for: read as before


@needs_clang
def test_compile_errors_name_the_file_and_the_fix(tmp_path: Path) -> None:
    src = tmp_path / "bad.c"
    src.write_text("int f( { return 1 }\n")
    with pytest.raises(ir.IRError) as e:
        ir.compile_to_ir(src)
    assert str(e.value).startswith(f"{src}:1:") and "error:" in str(e.value) and "; " in str(e.value)
    hdr = tmp_path / "hdr.c"
    hdr.write_text('#include "nowhere.h"\nint f(void) { return 0; }\n')
    with pytest.raises(ir.IRError, match=r"nowhere\.h.*include path \(-I DIR\)"):
        ir.compile_to_ir(hdr)


@needs_clang
def test_clang_output_over_the_ir_limit_is_stopped(tmp_path: Path) -> None:
    """~300 bytes of C whose IR is ~15 MB: clang is stopped (RLIMIT_FSIZE), nothing is read."""
    src = tmp_path / "flat.c"
    src.write_text(_flat_array_c(21))
    with pytest.raises(ir.IRError) as e:
        ir.compile_to_ir(src, max_ir_bytes=8 * 2**20)
    assert str(e.value) == (
        f"{src}: its IR is over the 8.0 MiB limit; embed the kernel's own file rather than a whole generated program"
    )


@needs_clang
def test_clang_runs_under_an_address_space_cap(tmp_path: Path, monkeypatch) -> None:
    """The same program needs ~370 MB of clang: under a 320 MiB cap it fails cleanly, small C still compiles."""
    monkeypatch.setattr(clang, "CLANG_MEMORY_BYTES", 320 * 2**20)
    src = tmp_path / "flat.c"
    src.write_text(_flat_array_c(21))
    with pytest.raises(ir.IRError, match=r"flat\.c: clang ran out of memory \(capped at 320\.0 MiB\); embed the"):
        ir.compile_to_ir(src)
    assert "define" in ir.compile_source(UNROLL_C, "c")
