"""The IR-aware tokenizer: units, round trip, windows."""

from __future__ import annotations

from encoder import ir as irmod
from encoder import tokenizer as tk
from tests.conftest import KERNELS, ROOT, needs_clang

IR = """; ModuleID = 'x'
source_filename = "x.c"
@.str = private constant [6 x i8] c"hello\\00"
define i32 @add(i32 %0, ptr %1) {
bb0:
  %2 = load i32, ptr %1, align 4
  %3 = add nsw i32 %0, %2
  br label %bb1, !llvm.loop !7
bb1:
  ret i32 %3
}
attributes #0 = { "target-cpu"="x86-64" }
!7 = distinct !{!7, !8}
"""


def test_module_body_keeps_code_drops_tables():
    body = tk.module_body(IR)
    assert "define i32 @add" in body and "attributes #0" not in body and "!7 = distinct" not in body
    assert 'c"..."' in body and "hello" not in body


def test_train_round_trip_and_units():
    tok = tk.train([IR] * 50, vocab_size=200, min_frequency=1)
    body = tk.module_body(IR)
    enc = tok.encode(body)
    assert enc.ids[0] == tk.CLS
    assert tk.UNK not in enc.ids
    # decoding gives back the units: every opcode, type and name survives
    text = tok.decode(enc.ids)
    for unit in ("load", "i32", "ptr", "%3", "@add", "nsw", "!llvm.loop"):
        assert unit.replace(" ", "") in text.replace(" ", ""), unit
    assert tok.get_vocab()["[MASK]"] == tk.MASK and tok.get_vocab()["[PAD]"] == tk.PAD


def test_windows_cover_long_sequences():
    ids = [tk.CLS, *range(10, 1010)]
    ws = list(tk.windows(ids, 100, 4))
    assert len(ws) == 4 and all(w[0] == tk.CLS and len(w) <= 100 for w in ws)
    assert ws[0][1] == 10 and ws[-1][-1] == 1009  # first and last tokens both covered
    assert [w[1] for w in tk.windows(ids, 100, 1)] == [10]
    short = list(tk.windows([tk.CLS, 5, 6], 100, 4))
    assert short == [[tk.CLS, 5, 6]]


@needs_clang
def test_encode_head_is_the_head_of_the_whole_encoding():
    """The embedder tokenises only a module's head; it must be exactly what the whole gives."""
    tok = tk.load()
    for k in ("gemm", "lu"):
        ir = irmod.compile_to_ir(KERNELS / f"{k}.c", opt="O1", include_dirs=[ROOT / "autotune" / "include"])
        text = irmod.normalize(ir)
        whole = tok.encode(tk.module_body(text)).ids
        assert len(whole) > 600  # long enough that the head is a real prefix
        for n in (8, 64, 256, len(whole) + 10):
            assert tk.encode_head(tok, text, n) == whole[:n]
