"""The IR of the tuned region: what the knobs act on, cut out of the whole module.

Why not the whole module: a program's module is mostly set-up, initialisation, checksums and
printing, identical across its variants and different across programs for reasons that have
nothing to do with speed. The knobs act on the parallel region (OpenMP outlines it into
`*.omp_outlined*` functions) and the loops in it, so that is what the surrogate embeds. A
program with no outlined region (a sequential kernel, or a build without OpenMP) keeps every
function it defines except autotune's own schedule helper.

The cut keeps the region's functions as definitions and every global, function declaration and
metadata node they reach (transitively); every other function becomes a declaration if a kept
one calls it, else goes. The result is normalised again (`encoder.ir.normalize`), so it parses
and hashes like any module.
"""

from __future__ import annotations

import re

from encoder import ir as irmod

__all__ = ["region_ir", "region_functions"]

_DEFINE = re.compile(r"^define\b[^@]*@(\"[^\"]+\"|[\w.$-]+)\(", re.M)
_GLOBAL = re.compile(r"^@(\"[^\"]+\"|[\w.$-]+)\s*=", re.M)
_DECLARE = re.compile(r"^declare\b[^@]*@(\"[^\"]+\"|[\w.$-]+)\(", re.M)
_TYPES = re.compile(r"^%[^\s=]+ = type .*$", re.M)
_REF = re.compile(r"@(\"[^\"]+\"|[\w.$-]+)")
_HELPERS = ("autotune_",)  # functions autotune adds to every program (the runtime-schedule reader)
# linkage and visibility words a declaration may not carry
_DEF_ONLY = re.compile(r"\b(internal|private|linkonce_odr|linkonce|weak_odr|weak|available_externally|hidden)\s+")


def _functions(text: str) -> dict[str, tuple[int, int]]:
    """Each defined function's (start, end) character span, `define` line to closing brace line."""
    spans = {}
    for m in _DEFINE.finditer(text):
        end = text.find("\n}\n", m.start())
        spans[m.group(1)] = (m.start(), len(text) if end < 0 else end + 3)
    return spans


def region_functions(normalized: str) -> list[str]:
    """The names of the functions that make up the tuned region of a normalised module."""
    names = list(_functions(normalized))
    outlined = [n for n in names if "omp_outlined" in n]
    return outlined or [n for n in names if not n.startswith(_HELPERS)]


def region_ir(normalized: str) -> str:
    """The normalised IR of the region of a normalised module (the whole module if the cut fails)."""
    spans = _functions(normalized)
    keep = region_functions(normalized)
    if not keep or len(keep) == len(spans):
        return normalized
    bodies = {n: normalized[a:b] for n, (a, b) in spans.items()}
    globals_ = {m.group(1): m for m in _GLOBAL.finditer(normalized)}
    declares = {m.group(1): m for m in _DECLARE.finditer(normalized)}

    def line_at(m: re.Match[str]) -> str:
        end = normalized.find("\n", m.start())
        return normalized[m.start() : len(normalized) if end < 0 else end]

    kept_text = "\n".join(bodies[n] for n in keep)
    reached: set[str] = set()
    frontier = set(_REF.findall(kept_text))
    while frontier:  # globals refer to globals (an ident struct to its string): follow them
        name = frontier.pop()
        if name in reached:
            continue
        reached.add(name)
        if name in globals_:
            frontier |= set(_REF.findall(line_at(globals_[name])))
    parts = _TYPES.findall(normalized)  # named struct types: cheap to keep, and initialisers need them
    parts += [line_at(globals_[n]) for n in globals_ if n in reached]
    parts += [line_at(declares[n]) for n in declares if n in reached]
    for n, body in bodies.items():
        if n in keep:
            parts.append(body)
        elif n in reached:  # called from the region: only its signature
            head = body[: body.index("{")].rstrip()
            parts.append(_DEF_ONLY.sub("", "declare" + head[len("define") :]))
    tail = normalized.find("\nattributes #")
    if tail < 0:
        tail = normalized.find("\n!")
    meta = normalized[tail:] if tail >= 0 else ""
    try:
        return irmod.normalize("\n\n".join(parts) + "\n" + meta)
    except irmod.IRError:
        return normalized
