"""LLVM IR parsing, normalisation and hashing for the encoder (compiling to IR: `encoder.clang`).

Everything the encoder learns from goes through here, so two rules drive the design:

* **One compiler.** IR comes from clang-22 (`encoder.clang`, re-exported here: `compile_to_ir`,
  `compile_source`, `clang_path`), whose LLVM is the one llvmlite embeds.
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
import re

import llvmlite.binding as llvm

from encoder import _llraw as raw
from encoder.clang import LANGUAGES, clang_path, compile_source, compile_to_ir
from encoder.errors import IRError

__all__ = [
    "IRError",
    "LANGUAGES",
    "clang_path",
    "compile_to_ir",
    "compile_source",
    "normalize",
    "parse",
    "ir_hash",
    "fix_legacy_syntax",
]


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
