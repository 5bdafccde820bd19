"""The shipped weights: load them, embed a suite kernel, get a finite vector of the documented size."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from encoder.embedding import TOKENIZER, WEIGHTS, Embedder
from tests.conftest import KERNELS, ROOT

INCLUDE = ROOT / "autotune" / "include"  # the suite's region-timer header (data, not an import)

pytestmark = [
    pytest.mark.skipif(shutil.which("clang-22") is None, reason="clang-22 not installed"),
    pytest.mark.skipif(not WEIGHTS.exists(), reason="no shipped weights in encoder/assets"),
]


def test_shipped_weights_embed_a_suite_kernel(tmp_path):
    assert WEIGHTS.stat().st_size <= 40 * 2**20 and TOKENIZER.exists()
    emb = Embedder(cache_dir=tmp_path, include_dirs=[INCLUDE])
    v = emb.embed([KERNELS / "gemm.c", KERNELS / "atax.c"])
    assert v.shape == (2, 256) and v.dtype == np.float32 and np.isfinite(v).all()
    assert not np.allclose(v[0], v[1])
    # the cache answers the second time, with the same vector
    again = emb.embed([KERNELS / "gemm.c"])
    assert np.array_equal(again[0], v[0]) and any(tmp_path.rglob("*.npy"))


def test_embed_cli_json_and_bad_input(tmp_path):
    run = [sys.executable, "-m", "encoder.cli", "embed", "--cache", ""]
    ok = subprocess.run(
        [*run, "-I", str(INCLUDE), str(KERNELS / "trisolv.c"), "--json"], capture_output=True, text=True, timeout=300
    )
    assert ok.returncode == 0, ok.stderr
    assert '"dim": 256' in ok.stdout
    bad = subprocess.run([*run, str(tmp_path / "missing.c")], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().splitlines() == [
        f"encoder: error: {tmp_path / 'missing.c'}: no such file; check the path"
    ]


def test_in_memory_models_are_cached_by_their_weights_not_their_address():
    """Two random-init controls must never share cached vectors; the same weights may."""
    import torch

    from encoder.embedding import Embedder, load_model
    from encoder.model import MIREncoder

    cfg = load_model().cfg
    keys = []
    for seed in (0, 1, 0):
        torch.manual_seed(seed)
        keys.append(Embedder(model=MIREncoder(cfg)).key)
    assert keys[0] != keys[1] and keys[0] == keys[2]


# --- bad input: the CLI prints one line naming the file and the fix; the API raises IRError with it ---

GARBAGE_IR = "this is not\nLLVM IR at all\n"


def _bad_inputs(d: Path) -> dict[str, str]:
    """File name -> what its one-line error must say, each written into `d`."""
    (d / "folder.c").mkdir()
    (d / "random.ll").write_bytes(bytes(range(256)) * 8)
    (d / "latin1.ll").write_bytes(b"; caf\xe9\ndefine i32 @f() {\n  ret i32 0\n}\n")
    (d / "broken.c").write_text("int f( { return 1 }\n")
    (d / "empty.c").write_text("")
    (d / "global.c").write_text("int x;\n")
    (d / "global.ll").write_text("@g = global i32 0\n")
    (d / "garbage.ll").write_text(GARBAGE_IR)
    # 3 MiB of C: refused before clang or llvmlite sees it
    (d / "huge.c").write_text("int f(void) { return 0; }\n" + "/* generated padding */\n" * 128_000)
    return {
        "missing.c": "no such file",
        "folder.c": "is a directory",
        "random.ll": "a binary file",
        "latin1.ll": "not UTF-8 text",
        "broken.c": ":1:",  # clang's own position, then its error
        "empty.c": "defines no function",
        "global.c": "defines no function",
        "global.ll": "defines no function",
        "garbage.ll": ":1:1: error:",  # the parser's position in that file, not `<string>`
        "huge.c": "2.9 MiB, over the encoder's 2.0 MiB limit",
    }


@pytest.fixture(scope="module")
def embedder(tmp_path_factory) -> Embedder:
    return Embedder(cache_dir=tmp_path_factory.mktemp("emb"), include_dirs=[INCLUDE])


def test_bad_input_is_one_line_naming_the_file_from_the_cli_and_the_api(tmp_path, capsys, embedder):
    from encoder.cli import main
    from encoder.ir import IRError

    for name, what in _bad_inputs(tmp_path).items():
        path = tmp_path / name
        assert main(["embed", "--cache", "", str(path)]) == 2, name
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"encoder: error: {path}"), (name, lines)
        line = lines[0].removeprefix("encoder: error: ")
        assert what in line and "; " in line, (name, line)  # what is wrong; then what to do
        with pytest.raises(IRError) as e:
            embedder.embed([KERNELS / "gemm.c", path])
        assert str(e.value) == line, name


def test_bad_ir_text_is_named_by_its_position_in_the_call(embedder):
    from encoder.ir import IRError

    good = (KERNELS / "atax.c").read_text()  # C text is not IR: only .ll text may be passed inline
    with pytest.raises(IRError, match=r"^IR text #2:1:1: error: .*; pass IR written by clang-22"):
        embedder.embed([KERNELS / "gemm.c", GARBAGE_IR])
    with pytest.raises(IRError, match=r"^IR text #1:"):
        embedder.embed([good])
    with pytest.raises(IRError, match=r"^IR text #1: defines no function"):
        embedder.embed_normalized(["@g = global i32 0\n"])


def test_huge_generated_input_fails_cleanly_and_small(tmp_path):
    """~300 bytes of C whose IR is ~15 MB: clang is stopped at the IR limit (2 MiB), the CLI stays small.

    Without the limit the whole module is parsed and tokenised: gigabytes, mostly for its one long line.
    """
    src = tmp_path / "flat.c"
    lines = ["#define A0 1,"] + [f"#define A{i} A{i - 1} A{i - 1}" for i in range(1, 22)]
    src.write_text("\n".join([*lines, "int a[] = { A21 };", "int f(int i) { return a[i]; }"]) + "\n")
    # wait4 gives this child's own peak (it and the clang it waited for), whatever ran before
    p = subprocess.Popen(
        [sys.executable, "-m", "encoder.cli", "embed", "--cache", "", str(src)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    err = p.stderr.read()
    p.stderr.close()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    assert p.returncode == 2 and "Traceback" not in err
    assert err.strip().splitlines() == [
        f"encoder: error: {src}: its IR is over the 2.0 MiB limit; "
        "embed the kernel's own file rather than a whole generated program"
    ]
    assert usage.ru_maxrss < 1.5 * 2**20  # KiB: the CLI and its clang each stayed under 1.5 GiB
