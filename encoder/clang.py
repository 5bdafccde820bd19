"""Source to LLVM IR with clang-22: C (OpenMP), OpenCL and CUDA device code.

**One compiler.** IR is produced by clang-22, whose LLVM (22) is the one embedded in llvmlite
0.50; the text it writes is exactly what `encoder.ir.parse` reads, with no version skew. Every
clang child runs under an address-space cap and a cap on the size of what it writes, so one
oversized input fails with a one-line `IRError` instead of taking the machine's memory.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from encoder.atomic import atomic_write_text
from encoder.errors import IRError
from encoder.opencl_repair import drop_kernel_stubs, repair_source, undeclared

__all__ = ["CLANG_MEMORY_BYTES", "LANGUAGES", "clang_path", "compile_source", "compile_to_ir"]

#: File suffix -> language name accepted by `compile_source`.
LANGUAGES: dict[str, str] = {".c": "c", ".cl": "opencl", ".cu": "cuda", ".ll": "llvm"}
_ALIASES = {"c": "c", "opencl": "opencl", "cl": "opencl", "cuda": "cuda", "cu": "cuda", "llvm": "llvm", "ll": "llvm"}
_OPT_LEVELS = {"O0", "O1", "O2", "O3", "Os", "Oz"}
_COMPILE_TIMEOUT_S = 120
_REPAIR_ROUNDS = 8  # of OpenCL repair: each round stubs the names clang reported undeclared
#: Address-space cap of every clang child. A suite kernel needs a few hundred MB (most of it the
#: mapped LLVM library); a generated program of tens of MB would take clang to several GB.
CLANG_MEMORY_BYTES = 2 * 2**30
_PRLIMIT = shutil.which("prlimit")
_BITCODE_MAGIC = (b"BC\xc0\xde", b"\xde\xc0\x17\x0b")  # raw bitcode, bitcode wrapper


def clang_path() -> str:
    """The clang binary: $ENCODER_CLANG, else clang-22 on PATH, else Debian's fixed path.

    Pinned to version 22 because llvmlite 0.50 embeds LLVM 22; a newer clang could write IR
    that this llvmlite cannot read.
    """
    env = os.environ.get("ENCODER_CLANG")
    if env:
        return env
    return shutil.which("clang-22") or "/usr/bin/clang-22"


def _cuda_path() -> Path | None:
    """The CUDA toolkit whose headers clang should use, or None when there is none."""
    for cand in (os.environ.get("CUDA_PATH"), os.environ.get("CUDA_HOME"), "/usr/local/cuda"):
        if cand and (Path(cand) / "include" / "cuda_runtime.h").is_file():
            return Path(cand)
    return None


def _cuda_stub_dir() -> Path:
    """A folder with an empty `curand_mtgp32_kernel.h`.

    clang's CUDA wrapper header force-includes that cuRAND header, but the CUDA 13 toolkit here
    ships without cuRAND. Device code that does not use cuRAND never needs its contents, so an
    empty stand-in (searched after the toolkit's own include folder) is enough.
    """
    d = Path(tempfile.gettempdir()) / f"encoder-cuda-stub-{os.getuid()}"
    h = d / "curand_mtgp32_kernel.h"
    if not h.is_file():
        atomic_write_text(h, "/* empty stand-in: see encoder/clang.py */\n")
    return d


def _language_flags(language: str) -> list[str]:
    """clang flags selecting `language` and the target it is lowered for."""
    if language == "c":
        # -fopenmp: OpenMP pragmas lower to __kmpc_fork_call + outlined functions, the structure
        # that the graph builder follows.
        return ["-x", "c", "-fopenmp"]
    if language == "opencl":
        # spir64: a portable, host-independent target (the data sets' IR used spir_kernel too).
        return ["-x", "cl", "-cl-std=CL1.2", "-Xclang", "-finclude-default-header", "--target=spir64"]
    if language == "cuda":
        base = ["-x", "cuda", "--cuda-device-only", "--cuda-gpu-arch=sm_80", "-nocudalib"]
        cuda = _cuda_path()
        if cuda is not None:
            flags = base + [f"--cuda-path={cuda}", "-Wno-unknown-cuda-version"]
            if not (cuda / "include" / "curand_mtgp32_kernel.h").is_file():
                flags += ["-idirafter", str(_cuda_stub_dir())]
            return flags
        # No toolkit: clang's own builtin variables and the attribute macros only. Enough for
        # plain kernels (threadIdx, __syncthreads, __shared__), not for warp intrinsics or atomics.
        return base + [
            "-nocudainc",
            "-include",
            "__clang_cuda_builtin_vars.h",
            "-D__global__=__attribute__((global))",
            "-D__device__=__attribute__((device))",
            "-D__host__=__attribute__((host))",
            "-D__shared__=__attribute__((shared))",
            "-D__constant__=__attribute__((constant))",
            "-D__forceinline__=__inline__ __attribute__((always_inline))",
        ]
    raise ValueError(f"unknown language {language!r}")


def _first_error(log: str) -> str:
    """The first `error:` line of a clang log (else its last non-empty line)."""
    lines = [ln.strip() for ln in log.splitlines() if ln.strip()]
    for ln in lines:
        if "error:" in ln:
            return ln
    return lines[-1] if lines else "clang failed without a message"


def _limited(
    cmd: list[str], memory_bytes: int | None, file_bytes: int | None
) -> tuple[list[str], Callable[[], None] | None]:
    """argv and child set-up that cap clang's address space and the size of what it writes.

    Through util-linux `prlimit` when present (as `autotune.measure.runner` does: Python keeps
    using vfork), else with `setrlimit` between fork and exec. No core dumps either way.
    """
    if _PRLIMIT:
        caps = [f"--as={memory_bytes}"] if memory_bytes else []
        caps += [f"--fsize={file_bytes}"] if file_bytes else []
        return [_PRLIMIT, *caps, "--core=0", "--", *cmd], None

    def limit() -> None:  # pragma: no cover - only without util-linux
        if memory_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        if file_bytes:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return cmd, limit


def _size(n: float) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 2**10:.0f} KiB"


def _compile_failure(what: str, log: str) -> str:
    """One line: clang's first error, the input it is about, and what to do."""
    line = _first_error(log)
    if what not in line and not line.startswith("<stdin>"):
        line = f"{what}: {line}"
    if "file not found" in line:
        return f"{line}; add the header's folder to the include path (-I DIR)"
    return f"{line}; the encoder needs a file that clang-22 compiles"


def _run_clang(
    language: str,
    src: Path | None,
    text: str | None,
    opt: str,
    flags: Sequence[str],
    defines: Sequence[str],
    include_dirs: Sequence[str | Path],
    max_ir_bytes: int | None = None,
) -> str:
    """Run clang once; return the IR text or raise IRError with the first error line.

    clang runs under an address-space cap (`CLANG_MEMORY_BYTES`) and writes its IR to a file,
    so that `max_ir_bytes` can stop it (RLIMIT_FSIZE) before an oversized module is ever read.
    """
    opt = opt.lstrip("-")
    if opt not in _OPT_LEVELS:
        raise ValueError(f"opt must be one of {sorted(_OPT_LEVELS)}, got {opt!r}")
    what = str(src) if src is not None else "source text"
    with tempfile.TemporaryDirectory(prefix="encoder-ir-") as tmp:
        out = Path(tmp) / "out.ll"
        cmd = [clang_path(), "-S", "-emit-llvm", "-fno-crash-diagnostics", "-o", str(out), f"-{opt}"]
        cmd += _language_flags(language)
        cmd += [f"-I{d}" for d in include_dirs]
        cmd += [d if d.startswith("-D") else f"-D{d}" for d in defines]
        cmd += list(flags)
        cmd.append(str(src) if src is not None else "-")
        argv, setup = _limited(cmd, CLANG_MEMORY_BYTES, max_ir_bytes + 1 if max_ir_bytes else None)
        try:
            proc = subprocess.run(
                argv,
                input=text,
                capture_output=True,
                encoding="utf-8",
                errors="replace",  # clang echoes source lines, which need not be UTF-8
                timeout=_COMPILE_TIMEOUT_S,
                check=False,
                preexec_fn=setup,  # None with prlimit: Python keeps using vfork
            )
        except FileNotFoundError as e:
            raise IRError(f"clang not found: {cmd[0]}; install clang-22 or set ENCODER_CLANG", command=cmd) from e
        except subprocess.TimeoutExpired as e:
            raise IRError(
                f"{what}: clang took over {_COMPILE_TIMEOUT_S} s; embed the kernel's own file, not a whole program",
                command=cmd,
            ) from e
        size = out.stat().st_size if out.exists() else 0
        if max_ir_bytes and (
            size > max_ir_bytes or proc.returncode == -signal.SIGXFSZ or "File size limit" in proc.stderr
        ):
            raise IRError(
                f"{what}: its IR is over the {_size(max_ir_bytes)} limit; "
                "embed the kernel's own file rather than a whole generated program",
                log=proc.stderr,
                command=cmd,
            )
        if proc.returncode != 0 and ("out of memory" in proc.stderr or "bad_alloc" in proc.stderr):
            raise IRError(
                f"{what}: clang ran out of memory (capped at {_size(CLANG_MEMORY_BYTES)}); "
                "embed the kernel's own file rather than a whole generated program",
                log=proc.stderr,
                command=cmd,
            )
        ir = out.read_text(encoding="utf-8", errors="replace") if proc.returncode == 0 and size else ""
    if not ir.strip():
        raise IRError(_compile_failure(what, proc.stderr), log=proc.stderr, command=cmd)
    if language == "opencl":
        ir = drop_kernel_stubs(ir)
    return ir


def _compile(
    language: str,
    src: Path | None,
    text: str | None,
    opt: str,
    flags: Sequence[str],
    defines: Sequence[str],
    include_dirs: Sequence[str | Path],
    repair: bool,
    max_ir_bytes: int | None = None,
) -> str:
    """Compile, with rounds of OpenCL repair when `repair` is set.

    clang reports only the first undeclared name of an expression, so repairs go in rounds until
    a round finds no new name (at most `_REPAIR_ROUNDS`).
    """
    try:
        return _run_clang(language, src, text, opt, flags, defines, include_dirs, max_ir_bytes)
    except IRError as first:
        if not (repair and language == "opencl"):
            raise
        error = first
    if src is not None:
        # The repaired text goes through stdin: keep the file's folder for its `#include "..."`.
        original = src.read_text(errors="replace")
        include_dirs = [*include_dirs, src.parent]
    else:
        original = text or ""
    missing: set[str] = set()
    for _ in range(_REPAIR_ROUNDS):
        missing |= undeclared(error.log)
        repaired = repair_source(original, missing)
        try:
            return _run_clang(language, None, repaired, opt, flags, defines, include_dirs, max_ir_bytes)
        except IRError as e:
            if undeclared(e.log) <= missing:
                raise IRError(e.message, log=e.log, command=e.command) from None
            error = e
    raise error


def _check_file(p: Path, language: str, max_ir_bytes: int | None) -> bytes:
    """Refuse what no compiler or parser should be handed; return the head (or all, for IR) of the file.

    Every refusal is one line that names the file and says what to pass instead.
    """
    if p.is_dir():
        raise IRError(f"{p}: is a directory; pass the kernel's source file (.c, .cl, .cu) or an .ll file")
    if not p.exists():
        raise IRError(f"{p}: no such file; check the path")
    if not p.is_file():
        raise IRError(f"{p}: not a regular file; pass the kernel's source file (.c, .cl, .cu) or an .ll file")
    size = p.stat().st_size
    if max_ir_bytes and size > max_ir_bytes:
        raise IRError(
            f"{p}: {_size(size)}, over the encoder's {_size(max_ir_bytes)} limit; "
            "embed the kernel's own file rather than a whole generated program"
        )
    with open(p, "rb") as f:
        data = f.read() if language == "llvm" else f.read(1 << 16)
    if data.startswith(_BITCODE_MAGIC):
        raise IRError(f"{p}: LLVM bitcode, not textual IR; convert it with `llvm-dis-22 {p}` and pass the .ll")
    if b"\0" in data[: 1 << 16]:
        kind = "textual LLVM IR" if language == "llvm" else f"{language} source"
        raise IRError(f"{p}: a binary file, not {kind}; pass the kernel's source or the IR of `clang -S -emit-llvm`")
    return data


def compile_to_ir(
    path: str | Path,
    opt: str = "O1",
    flags: Sequence[str] = (),
    defines: Sequence[str] = (),
    include_dirs: Sequence[str | Path] = (),
    *,
    repair: bool = False,
    max_ir_bytes: int | None = None,
) -> str:
    """Compile a source file to LLVM IR text with clang-22; the language comes from the suffix.

    `.c` (C with -fopenmp), `.cl` (OpenCL C 1.2 for spir64), `.cu` (CUDA device code for sm_80)
    or `.ll` (returned as is). `defines` are `NAME` or `NAME=VALUE`; `flags` are passed last so
    they can override ours. `repair=True` (OpenCL only) retries sources from the public data sets
    that call helpers which were cut away, see `encoder.opencl_repair.repair_source`.
    `max_ir_bytes` refuses a file, or IR from clang, larger than that (a source is smaller than
    its IR, so a larger source is refused before clang runs). Raises IRError, naming the file, on
    any failure: a missing file, a folder, a binary or non-UTF-8 `.ll`, a compile error.
    """
    p = Path(path)
    if p.is_dir():
        _check_file(p, "", None)
    language = LANGUAGES.get(p.suffix.lower())
    if language is None:
        raise IRError(f"{p}: unsupported suffix {p.suffix!r}; pass a {', '.join(sorted(LANGUAGES))} file")
    data = _check_file(p, language, max_ir_bytes)
    if language == "llvm":
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise IRError(
                f"{p}: not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start}); "
                "pass textual IR as `clang -S -emit-llvm` writes it"
            ) from None
    return _compile(language, p, None, opt, flags, defines, include_dirs, repair, max_ir_bytes)


def compile_source(
    text: str,
    language: str,
    opt: str = "O1",
    flags: Sequence[str] = (),
    defines: Sequence[str] = (),
    include_dirs: Sequence[str | Path] = (),
    *,
    repair: bool = False,
    max_ir_bytes: int | None = None,
) -> str:
    """Like `compile_to_ir` for source text (e.g. a CSV `src` column), fed to clang on stdin.

    `language` is `c`, `opencl`/`cl`, `cuda`/`cu` or `llvm`/`ll`. Relative `#include`s resolve
    against the current directory and `include_dirs`, since the text has no folder of its own.
    `max_ir_bytes` stops clang once its IR grows past that (IRError).
    """
    lang = _ALIASES.get(language.lower().lstrip("."))
    if lang is None:
        raise ValueError(f"unknown language {language!r}; known: {sorted(_ALIASES)}")
    if lang == "llvm":
        return text
    return _compile(lang, None, text, opt, flags, defines, include_dirs, repair, max_ir_bytes)
