"""A variant's LLVM IR, as the compiler optimises it with the variant's own flags.

Why the variant's flags and not a fixed -O1: what the surrogate must see is
what a knob did to the code (an unroll pragma, -march=native widening the
vectors, Polly tiling), and that only shows in IR produced by the same
pipeline that builds the binary. Knobs that only change the environment
(threads, schedules) give the same IR, so IR is cached by the variant's build
key and computed once per build.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from autotune.build import compilers
from autotune.build.cache import compile_once
from autotune.kernel import Kernel
from autotune.paths import cache_dir as default_dir
from autotune.variant import Variant
from encoder.atomic import atomic_write_text

IR_TIMEOUT_S = 300


class IRGenError(RuntimeError):
    """clang could not produce IR for a variant (its build usually fails the same way)."""


def ir_flags(variant: Variant) -> list[str]:
    """The variant's compile flags for IR output: the same optimisation, no linking."""
    return [*variant.flags, "-S", "-emit-llvm", "-g0"]


def variant_ir(kernel: Kernel, variant: Variant, cache_dir: Path | None = None) -> str:
    """Optimised IR of the variant's main file (raw clang output; normalise before hashing).

    IR always comes from clang, also for a variant built with gcc: the flags the
    two share mean the same, and the encoder reads LLVM IR only. cache_dir: default
    $AUTOTUNE_CACHE/ir (see autotune.paths).
    """
    cache = Path(cache_dir) if cache_dir else default_dir("ir")
    key = variant.build_key(kernel)
    path = cache / f"{key}.ll"
    failed = cache / f"{key}.fail"
    if path.exists():
        return path.read_text()
    if failed.exists():  # clang failed on it before (see below); delete the file to try again
        raise IRGenError(failed.read_text())
    if variant.device is not None:  # the kernel the knobs changed, not the host program that launches it
        from encoder.clang import compile_source
        from encoder.ir import IRError

        dev = variant.device
        try:
            text = compile_source(dev.source.decode(), dev.language, flags=list(dev.options))
        except IRError as exc:
            raise IRGenError(f"{kernel.path}: clang could not emit IR of the device code: {exc}") from None
        atomic_write_text(path, text)
        return text
    cc = compilers.available().get("clang") or compilers.require_clang()
    with tempfile.TemporaryDirectory(prefix="autotune-ir-") as tmp:
        if variant.source is not None:
            # beside nothing: includes resolve through the kernel's include flags (its folder too)
            main = Path(tmp) / kernel.main_name
            main.write_bytes(variant.source)
        else:
            main = kernel.path.resolve()
        out = Path(tmp) / "variant.ll"
        cmd = [cc, *ir_flags(variant), f"-I{kernel.path.resolve().parent}", str(main), "-o", str(out)]
        try:  # compile_once: a timeout or an interruption kills the whole compile, as a build's does
            rc, log = compile_once(cmd, Path(tmp), IR_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            rc, log = None, ""
        if rc != 0:
            # Why a failure is kept: a Polly build that runs into the timeout does so every time,
            # and every featurization of the database paid those five minutes again, for nothing
            first = next((ln for ln in log.splitlines() if "error" in ln), log.strip()[:200])
            why = f"took over {IR_TIMEOUT_S} s to emit IR" if rc is None else f"could not emit IR: {first}"
            atomic_write_text(failed, f"{kernel.path}: clang {why}")
            raise IRGenError(f"{kernel.path}: clang {why}")
        text = out.read_text()
    atomic_write_text(path, text)
    return text
