"""OpenCL text fixes: repair public sources whose helpers were cut away, drop clang's kernel stubs.

Why a module of its own: these are text transforms of one language, kept apart from running
clang (`encoder.clang`). The public data sets' OpenCL was passed through DeepTune's normaliser,
which cut helper functions and dropped some dots; `repair_source` makes such a text compile
again (opt-in: `compile_source(..., repair=True)`), without guessing what the helpers computed.
"""

from __future__ import annotations

import re

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


def repair_source(text: str, missing: set[str]) -> str:
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


def undeclared(log: str) -> set[str]:
    """The names a clang log calls undeclared (an identifier or an implicitly declared function)."""
    return set(_UNDECLARED.findall(log))


_OCL_STUB_DEF = re.compile(r"^define [^\n]*@(__clang_ocl_kern_imp_[\w.$]+)\(.*?^\}\n\n?", re.M | re.S)


def drop_kernel_stubs(ir: str) -> str:
    """Remove clang >= 20's unused `__clang_ocl_kern_imp_<kernel>` copies of each kernel.

    clang now emits every kernel twice (the kernel and a callable "stub" with the same body) so
    that kernels may call kernels. When nothing calls the stub it is dead weight that would
    double every OpenCL graph and token sequence, and old IR (the data sets) has no such copy.
    """

    def drop(m: re.Match[str]) -> str:
        return "" if ir.count("@" + m.group(1)) == 1 else m.group(0)

    return _OCL_STUB_DEF.sub(drop, ir)
