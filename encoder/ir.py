"""Source to LLVM IR, IR normalisation, parsing and hashing for the encoder.

Everything the encoder learns from goes through here, so two rules drive the design:

* **One compiler.** IR is produced by clang-22, whose LLVM (22) is the one embedded in
  llvmlite 0.50; the text it writes is exactly what `parse` reads, with no version skew.
* **One canonical text.** `normalize` removes everything that describes the build rather than
  the program (debug info, target triple and CPU features, value names, most metadata), so that
  the tokenizer sees program structure and `ir_hash` identifies a program, not a build. Loop hint
  metadata (`!llvm.loop`) is kept because the autotuner's variants differ precisely there.

Normalisation is done by llvmlite (parse, clear local names, name blocks, re-print: the LLVM
printer then numbers values, attribute groups and metadata canonically) plus line-level text
rewriting of the printed form, which is regular enough to edit safely. Parsing uses a fresh
LLVM context each time: named struct types live in the context, and re-using one would rename
`%struct.x` to `%struct.x.0` on the second module that defines it, breaking idempotence.

Old typed-pointer IR (the LLVM 5-6 era files of the public data sets) is upgraded by LLVM's
parser itself; the only syntax it no longer accepts is a type-less `byval`/`sret`/`inalloca`
parameter attribute, which `parse` rewrites to the explicit form (`T* byval(T)`), which is what
old parsers inferred. Anything else that does not parse raises `IRError`, so callers can
recompile from source instead.
"""

from __future__ import annotations

import hashlib
import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import llvmlite.binding as llvm

from encoder import _llraw as raw
from encoder.atomic import atomic_write_text

__all__ = [
    "IRError",
    "LANGUAGES",
    "compile_to_ir",
    "compile_source",
    "normalize",
    "parse",
    "ir_hash",
    "fix_legacy_syntax",
]


class IRError(Exception):
    """A source did not compile, an IR text did not parse or verify, or an input cannot be read.

    `str(err)` is one line (enough for a log line, a table cell or the command line's error):
    for a file it names the file, and for bad input it says what to do instead. `log` keeps the
    full diagnostic output for debugging and `command` the clang command line, if any. It is the
    one exception type that `encoder.embed` raises for bad input.
    """

    def __init__(self, message: str, log: str = "", command: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.log = log or message
        self.command = list(command)


#: File suffix -> language name accepted by `compile_source`.
LANGUAGES: dict[str, str] = {".c": "c", ".cl": "opencl", ".cu": "cuda", ".ll": "llvm"}
_ALIASES = {"c": "c", "opencl": "opencl", "cl": "opencl", "cuda": "cuda", "cu": "cuda", "llvm": "llvm", "ll": "llvm"}
_OPT_LEVELS = {"O0", "O1", "O2", "O3", "Os", "Oz"}
_COMPILE_TIMEOUT_S = 120
#: Address-space cap of every clang child. A suite kernel needs a few hundred MB (most of it the
#: mapped LLVM library); a generated program of tens of MB would take clang to several GB.
CLANG_MEMORY_BYTES = 2 * 2**30
_PRLIMIT = shutil.which("prlimit")
_BITCODE_MAGIC = (b"BC\xc0\xde", b"\xde\xc0\x17\x0b")  # raw bitcode, bitcode wrapper

# ----------------------------------------------------------------------------------------------
# Compilation
# ----------------------------------------------------------------------------------------------


def _clang() -> str:
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
        atomic_write_text(h, "/* empty stand-in: see encoder/ir.py */\n")
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
        cmd = [_clang(), "-S", "-emit-llvm", "-fno-crash-diagnostics", "-o", str(out), f"-{opt}"]
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
        ir = _drop_ocl_kernel_stubs(ir)
    return ir


_OCL_STUB_DEF = re.compile(r"^define [^\n]*@(__clang_ocl_kern_imp_[\w.$]+)\(.*?^\}\n\n?", re.M | re.S)


def _drop_ocl_kernel_stubs(ir: str) -> str:
    """Remove clang >= 20's unused `__clang_ocl_kern_imp_<kernel>` copies of each kernel.

    clang now emits every kernel twice (the kernel and a callable "stub" with the same body) so
    that kernels may call kernels. When nothing calls the stub it is dead weight that would
    double every OpenCL graph and token sequence, and old IR (the data sets) has no such copy.
    """

    def drop(m: re.Match[str]) -> str:
        return "" if ir.count("@" + m.group(1)) == 1 else m.group(0)

    return _OCL_STUB_DEF.sub(drop, ir)


# --- OpenCL repair (opt-in): sources whose helpers were cut away by DeepTune's normaliser ------

_REPAIR_ROUNDS = 8
_OCL_PRELUDE = "#pragma OPENCL EXTENSION __cl_clang_variadic_functions : enable\n"
_UNDECLARED = re.compile(r"(?:use of undeclared identifier|implicit declaration of function) '(\w+)'")
_KERNEL_DEF = re.compile(r"\b(?:__kernel|kernel)\s+(?:__attribute__\s*\(\(.*?\)\)\s*)?void\s+(\w+)\s*\(")


def _stub(name: str) -> str:
    """Declare a missing helper as an external variadic function, so its calls stay calls.

    `int f(int, ...)` accepts any arguments (default promotions); the macro adds the leading
    named argument that C requires, so that zero-argument calls work too. The macro does not
    re-expand inside its own body, so the call goes to the declared function `f`.
    """
    return f"int {name}(int, ...);\n#define {name}(...) {name}(0, ##__VA_ARGS__)\n"


def _repair_opencl(text: str, missing: set[str]) -> str:
    """Source text with stubs for `missing` helpers, libclc names mapped, kernel clashes renamed.

    * `__clc_pow` etc. are libclc's internal names of standard builtins: map to `pow`.
    * `rx` where `r` is a variable and `rx` is undeclared: a component access `r.x` whose dot
      the normaliser dropped.
    * A kernel `A` that calls `A(...)` was a helper renamed to the kernel's name by the
      normaliser (kernels cannot recurse): rename the kernel to `A_kernel`, stub `A`.
    * Helpers that are called but not defined become external declarations (see `_stub`).
    A `#line 1` directive keeps compiler line numbers pointing into the original text.
    """
    body = re.sub(r"\b__clc_(\w+)", r"\1", text)
    # `rx` for `r.x`: the normaliser dropped the dot of a vector component access.
    for name in sorted(missing):
        m = re.fullmatch(r"([A-Za-z_]\w*?)([xyzw])", name)
        if m and re.search(rf"\b{m.group(1)}\b", body):
            body = re.sub(rf"\b{name}\b", f"{m.group(1)}.{m.group(2)}", body)
            missing = missing - {name}
    for name in _KERNEL_DEF.findall(body):
        if len(re.findall(rf"\b{re.escape(name)}\s*\(", body)) > 1:
            body = re.sub(
                rf"(\b(?:__kernel|kernel)\s+(?:__attribute__\s*\(\(.*?\)\)\s*)?void\s+){name}(\s*\()",
                rf"\g<1>{name}_kernel\g<2>",
                body,
                count=1,
            )
            missing = missing | {name}
    called = {m for m in missing if re.search(rf"\b{re.escape(m)}\s*\(", body)}
    if not called:
        return body
    return _OCL_PRELUDE + "".join(_stub(n) for n in sorted(called)) + "#line 1\n" + body


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
        missing |= set(_UNDECLARED.findall(error.log))
        repaired = _repair_opencl(original, missing)
        try:
            return _run_clang(language, None, repaired, opt, flags, defines, include_dirs, max_ir_bytes)
        except IRError as e:
            if set(_UNDECLARED.findall(e.log)) <= missing:
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
    that call helpers which were cut away, see `_repair_opencl`. `max_ir_bytes` refuses a file,
    or IR from clang, larger than that (a source is smaller than its IR, so a larger source is
    refused before clang runs). Raises IRError, naming the file, on any failure: a missing file,
    a folder, a binary or non-UTF-8 `.ll`, a compile error.
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


# ----------------------------------------------------------------------------------------------
# Parsing
# ----------------------------------------------------------------------------------------------

# `T* byval` (typed pointers, LLVM < 12 syntax) -> `T* byval(T)`. T is a named type, a primitive,
# or a vector/array; nested literal structs do not occur as byval types in the data sets.
_TYPELESS_PTR_ATTR = re.compile(
    r"((?:%[-\w.$\"]+|i\d+|half|bfloat|float|double|x86_fp80|fp128|<\d+ x [^<>]+>|\[\d+ x [^\[\]]+\]))"
    r"((?: addrspace\(\d+\))?\*) (byval|sret|inalloca|preallocated)(?!\()"
)


def fix_legacy_syntax(ir: str) -> str:
    """Rewrite old IR syntax that LLVM 22's parser rejects but whose meaning is unambiguous.

    Only the type-less pointer parameter attributes (`T* byval` -> `T* byval(T)`): LLVM 12-14
    made the pointee type explicit, and older parsers took it from the typed pointer, so the
    rewrite states exactly what the old compiler meant.
    """
    return _TYPELESS_PTR_ATTR.sub(lambda m: f"{m.group(1)}{m.group(2)} {m.group(3)}({m.group(1)})", ir)


def _parse_error(err: Exception) -> str:
    """The `<string>:L:C: error: ...` line of an llvmlite parse error."""
    lines = [ln for ln in str(err).splitlines() if ln.strip()]
    for ln in lines:
        if "error:" in ln:
            return ln.strip()
    return lines[-1].strip() if lines else "LLVM IR parsing error"


def parse(ir: str) -> llvm.ModuleRef:
    """Parse and verify IR text (any LLVM >= 5 textual IR) into a module of its own context.

    Typed-pointer IR is upgraded to opaque pointers by the parser; old type-less `byval` syntax
    is fixed first (see `fix_legacy_syntax`). Raises IRError with the first parser or verifier
    message otherwise.
    """
    try:
        mod = llvm.parse_assembly(ir, llvm.create_context())
    except RuntimeError as e:
        fixed = fix_legacy_syntax(ir)
        if fixed == ir:
            raise IRError(_parse_error(e), log=str(e)) from None
        try:
            mod = llvm.parse_assembly(fixed, llvm.create_context())
        except RuntimeError as e2:
            raise IRError(_parse_error(e2), log=str(e2)) from None
    try:
        mod.verify()
    except RuntimeError as e:
        raise IRError(f"IR verification failed: {_parse_error(e)}", log=str(e)) from None
    return mod


# ----------------------------------------------------------------------------------------------
# Normalisation
# ----------------------------------------------------------------------------------------------

_HEADER = re.compile(r"^(?:; ModuleID = .*|source_filename = .*|target datalayout = .*|target triple = .*)$")
_NAMED_MD = re.compile(r"^![-A-Za-z_.$][-\w.$\\]* = !\{.*\}$")
_MD_DEF = re.compile(r"^!(\d+) = (.*)$")
_ATTACH_TAIL = re.compile(r"((?:, ![-\w.$]+ !\d+)+)$")
_ATTACH_ONE = re.compile(r", (![-\w.$]+) (!\d+)")
_DEFINE_ATTACH = re.compile(r"((?: ![-\w.$]+ !\d+)+) \{$")
_DECLARE_ATTACH = re.compile(r"^declare((?: ![-\w.$]+ !\d+)+) ")
_DBG_LINE = re.compile(
    r"^\s*(?:#dbg_\w+\(|(?:tail |notail |musttail )?call void @llvm\.dbg\.|declare [^@]*@llvm\.dbg\.)"
)
_PREDS_COMMENT = re.compile(r"^([-\w.$\"]+:)\s+;.*$")
_ATTR_GROUP = re.compile(r"^attributes #(\d+) = \{ (.*) \}$")
# One attribute inside a group: a quoted string attribute with or without value, or a bare/parenthesised one.
_ATTR_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"(?:="(?:[^"\\]|\\.)*")?|[^\s"(]+(?:\([^)]*\))?')


def _clear_local_names(mod: llvm.ModuleRef) -> None:
    """Drop argument/instruction names and name blocks bb0, bb1, ... per function.

    With no names the LLVM printer numbers arguments and values %0, %1, ... in order of
    definition, which is canonical; blocks get readable, order-based labels.
    """
    for fn in raw.functions(raw.module_pointer(mod)):
        if raw.is_declaration(fn):
            continue
        for arg in raw.arguments(fn):
            raw.set_name(arg, "")
        blocks = list(raw.blocks(fn))
        # Clear everything first: naming block 0 "bb1" while a later value still holds that name
        # would make LLVM pick a suffixed name instead.
        for block in blocks:
            raw.set_name(block, "")
            for inst in raw.instructions(block):
                if raw.name(inst):
                    raw.set_name(inst, "")
        for i, block in enumerate(blocks):
            raw.set_name(block, f"bb{i}")


def _strip_text(ir: str) -> str:
    """Line-level clean-up of printed IR: see `normalize` for what goes and what stays."""
    out: list[str] = []
    md_defs: dict[str, str] = {}
    groups: dict[str, str] = {}
    for line in ir.splitlines():
        if not line or line.startswith(";") or _HEADER.match(line) or _NAMED_MD.match(line):
            continue
        if _DBG_LINE.match(line):
            continue
        m = _PREDS_COMMENT.match(line)
        if m:
            line = m.group(1)
        m = _MD_DEF.match(line)
        if m:
            md_defs[m.group(1)] = m.group(2)
            out.append(line)
            continue
        m = _ATTR_GROUP.match(line)
        if m:
            kept = [t for t in _ATTR_TOKEN.findall(m.group(2)) if not t.startswith('"')]
            groups[m.group(1)] = " ".join(kept)
            out.append(line)
            continue
        m = _ATTACH_TAIL.search(line)
        if m:
            keep = "".join(f", {k} {v}" for k, v in _ATTACH_ONE.findall(m.group(1)) if k == "!llvm.loop")
            line = line[: m.start()] + keep
        if line.startswith("define "):
            line = _DEFINE_ATTACH.sub(" {", line)
        elif line.startswith("declare "):
            line = _DECLARE_ATTACH.sub("declare ", line)
        out.append(line)
    text = "\n".join(out)
    # Attribute groups: keep enum attributes only; drop groups left empty and their uses.
    empty = {g for g, body in groups.items() if not body}
    if groups:
        text = re.sub(
            r"^attributes #(\d+) = \{ .* \}$",
            lambda m: "" if m.group(1) in empty else f"attributes #{m.group(1)} = {{ {groups[m.group(1)]} }}",
            text,
            flags=re.M,
        )
    if empty:
        text = re.sub(
            r"^(?![!;]).* #\d+\b.*$",
            lambda line: re.sub(r" #(\d+)\b", lambda m: "" if m.group(1) in empty else m.group(0), line.group(0)),
            text,
            flags=re.M,
        )
    # Loop metadata: drop DILocation operands (start/end source locations) of `!N = distinct !{!N, ...}`.
    dilocs = {n for n, body in md_defs.items() if body.startswith("!DILocation(")}
    if dilocs:

        def drop_locs(m: re.Match[str]) -> str:
            ops = [o for o in m.group(3).split(", ") if not (o.startswith("!") and o[1:] in dilocs)]
            return f"!{m.group(1)} = distinct !{{!{m.group(2)}{''.join(', ' + o for o in ops)}}}"

        text = re.sub(r"^!(\d+) = distinct !\{!(\1), (.*)\}$", drop_locs, text, flags=re.M)
    return text + "\n"


def _print(mod: llvm.ModuleRef) -> str:
    return str(mod)


def normalize(ir: str) -> str:
    """The canonical text of an IR module: for tokenising and for `ir_hash`.

    Removed: the module header (ModuleID, source_filename, target datalayout/triple), comments,
    debug info (`!dbg` attachments, debug records and `llvm.dbg.*` calls/declarations, DI nodes),
    all named metadata (`!llvm.ident`, `!llvm.module.flags`, OpenCL version, ...), all metadata
    attachments except `!llvm.loop`, and string attributes (`"target-cpu"`, `"target-features"`,
    `"tune-cpu"`, ...) of attribute groups. Canonical: argument and instruction names
    (`%0, %1, ...` in order of definition), block labels (`bb0, bb1, ...`), attribute-group and
    metadata numbering (the printer's, after a re-parse drops what is no longer referenced).
    Kept: global names, `!llvm.loop` and the loop-hint nodes it references. Old typed-pointer IR
    comes out in opaque-pointer form. Idempotent; the result parses with `parse`.
    Raises IRError if `ir` does not parse.
    """
    mod = parse(ir)
    _clear_local_names(mod)
    text = _strip_text(_print(mod))
    try:
        mod2 = parse(text)
    except IRError as e:  # a bug in the text rewriting, not in the input: say so
        raise IRError(f"normalised IR does not parse (encoder bug): {e.message}", log=e.log) from None
    return _strip_text(_print(mod2))


def ir_hash(normalized: str) -> str:
    """A 16-hex-digit sha256 prefix of normalised IR: the identity of a program for caches."""
    return hashlib.sha256(normalized.encode()).hexdigest()[:16]
