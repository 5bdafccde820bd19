"""An OpenCL kernel's launch as a C program: the host program (`clhost.c`) with one spec built in.

Why a C program per variant: the engine already builds, caches, runs, times and verifies C
programs, with every guard (timeouts, memory caps, process groups, load checks) in place. A
variant of an OpenCL kernel (its source coarsened or unrolled, its build options, its global and
work-group sizes) becomes exactly that: a small C file holding the spec and the kernel source,
compiled with `clhost.c`. It prints the outputs' checksums to stdout and the kernel time from
OpenCL profiling events as a region-timer line, so nothing downstream needs to know it is OpenCL.
"""

from __future__ import annotations

from pathlib import Path

from autotune.gpu.describe import Description, group_names

HOST = Path(__file__).resolve().parent / "clhost.c"


def spec_text(desc: Description, global_size: tuple[int, ...], local_size: tuple[int, ...] | None, options: str) -> str:
    """The spec `clhost` reads: the kernel, its launch, its arguments (sizes evaluated, `wg` from the local size)."""
    names = group_names(local_size) if local_size else {}
    lines = [
        f"kernel {desc.kernel}",
        f"options {options}".rstrip(),
        "global " + " ".join(map(str, global_size)),
        "local " + (" ".join(map(str, local_size)) if local_size else "auto"),
        f"repeat {desc.repeat}",
    ]
    for a in desc.args:
        if a.kind == "scalar":
            value = desc.size(a.amount) if isinstance(a.amount, str) else a.amount
            lines.append(f"arg scalar {a.ctype} {value!r}")  # an int's repr is its digits, a float's round-trips
        elif a.kind == "local":
            if not local_size:
                raise ValueError(f"{desc.path}: [args.{a.name}]: __local memory needs a work-group size, not auto")
            lines.append(f"arg local {desc.size(a.amount, **names)}")
        else:
            init = " ".join([a.init, *(_num(v) for v in a.init_args)])
            count = desc.size(a.amount) * a.width
            lines.append(f"arg buffer {a.ctype} {count} {init}{' out' if a.output else ''}")
    return "\n".join(lines) + "\n"


def host_source(spec: str, cl_source: bytes) -> bytes:
    """The C main file of one variant: spec and kernel source as data, then `clhost.c` (include it with -I)."""
    return (
        "/* autotune: one OpenCL variant; built from clhost.c with its spec and kernel source inside */\n"
        f"static const char at_spec_text[] = {_c_string(spec.encode())};\n"
        f"static const char at_cl_text[] = {_c_string(cl_source)};\n"
        "#define AT_EMBEDDED 1\n"
        f'#include "{HOST.name}"\n'
    ).encode()


def compile_flags() -> list[str]:
    """How the variant's C file is compiled: `clhost.c` found beside this module, OpenCL linked."""
    return ["-O2", "-std=c11", f"-I{HOST.parent}"]


LINK_FLAGS = ["-lOpenCL"]


def _c_string(data: bytes) -> str:
    """A C string literal of `data`, line by line (octal escapes for anything but printable ASCII)."""
    parts = []
    for line in data.splitlines(keepends=True) or [b""]:
        esc = "".join(
            chr(b) if 32 <= b < 127 and b not in (ord('"'), ord("\\"), ord("?")) else f"\\{b:03o}" for b in line
        )
        parts.append(f'"{esc}"')
    return "\n    ".join(parts)


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))
