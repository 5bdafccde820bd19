"""OpenCL C sources: their kernels, each kernel's parameters and body, and what the body calls.

Why the C parser: OpenCL C is C99 plus address-space, access and kernel qualifiers. tree-sitter-c
reads it once those keywords are blanked out, each by as many spaces as it has letters, so every
byte offset of the parse is an offset of the original text and edits can be made on the original.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node

from autotune.space.cparse.tree import function_name, node_text, parser

ADDRESS_SPACES = {
    "__global": "global",
    "global": "global",
    "__local": "local",
    "local": "local",
    "__constant": "constant",
    "constant": "constant",
    "__private": "private",
    "private": "private",
}
KERNEL_WORDS = ("__kernel", "kernel")
ACCESS_WORDS = ("__read_only", "read_only", "__write_only", "write_only", "__read_write", "read_write")
GNU_WORDS = ("__const",)  # clang's spelling of const, which tree-sitter-c does not know (AMD SDK sources use it)
_WORDS = (*ADDRESS_SPACES, *KERNEL_WORDS, *ACCESS_WORDS, *GNU_WORDS)
_BLANK = re.compile(rb"\b(" + b"|".join(w.encode() for w in _WORDS) + rb")\b")


@dataclass(frozen=True)
class Param:
    """One kernel parameter as written: its name, address space, whether it is a pointer, its text."""

    name: str
    space: str  # global | local | constant | private (a by-value argument)
    pointer: bool
    text: str  # the declaration as in the source, qualifiers included


@dataclass(frozen=True)
class Function:
    """A function definition of the source: where it is, its body, the functions its body calls."""

    name: str
    kernel: bool
    line: int
    start: int  # byte offsets into the source: the definition
    end: int
    body_start: int  # the body's braces included
    body_end: int
    params: tuple[Param, ...]
    calls: frozenset[str]  # names of the functions (builtins included) the body calls
    local_decls: bool  # the body declares __local variables

    def header(self, source: bytes) -> str:
        """The definition up to its body: qualifiers, attributes, name and parameters."""
        return source[self.start : self.body_start].decode()

    def body(self, source: bytes) -> str:
        return source[self.body_start : self.body_end].decode()


def blank_qualifiers(source: bytes) -> bytes:
    """The source with OpenCL's qualifier keywords replaced by spaces of the same length."""
    return _BLANK.sub(lambda m: b" " * len(m.group(0)), source)


def functions(source: bytes) -> list[Function]:
    """Every function defined in an OpenCL C source, in source order."""
    masked = blank_qualifiers(source)
    root = parser().parse(masked).root_node
    out = []
    for node in _definitions(root):
        body = node.child_by_field_name("body")
        if body is None:
            continue
        start = _qualified_start(node, source)
        head = source[start : body.start_byte]
        out.append(
            Function(
                name=function_name(node),
                kernel=bool(re.search(rb"\b(__kernel|kernel)\b", head)),
                line=source.count(b"\n", 0, start) + 1,
                start=start,
                end=node.end_byte,
                body_start=body.start_byte,
                body_end=body.end_byte,
                params=tuple(_params(node, source)),
                calls=frozenset(_calls(body)),
                local_decls=any(
                    re.search(rb"\b(__local|local)\b", source[_qualified_start(d, source) : d.end_byte])
                    for d in _declarations(body)
                ),
            )
        )
    return out


def kernels(source: bytes) -> list[Function]:
    """The `__kernel` functions of an OpenCL C source, in source order."""
    return [f for f in functions(source) if f.kernel]


def _definitions(node: Node):
    for child in node.children:
        if child.type == "function_definition":
            yield child
        elif child.type in ("preproc_ifdef", "preproc_if", "preproc_else", "preproc_elif", "ERROR"):
            yield from _definitions(child)


def _qualified_start(node: Node, source: bytes) -> int:
    """Where a definition, parameter or declaration starts in the original text: at the first blanked
    qualifier (`__kernel`, `__global`, `__local`...) before where the parse of the masked text starts."""
    prev = node.prev_sibling
    lo = prev.end_byte if prev is not None else 0
    gap = source[lo : node.start_byte]
    stripped = gap.lstrip()
    return lo + len(gap) - len(stripped) if stripped else node.start_byte


def _params(node: Node, source: bytes) -> list[Param]:
    decl = node.child_by_field_name("declarator")
    while decl is not None and decl.type != "function_declarator":
        decl = decl.child_by_field_name("declarator")
    plist = decl.child_by_field_name("parameters") if decl is not None else None
    out = []
    for p in plist.named_children if plist is not None else []:
        if p.type != "parameter_declaration":
            continue
        text = source[_qualified_start(p, source) : p.end_byte].decode()
        words = re.findall(r"\b\w+\b", text)
        space = next((ADDRESS_SPACES[w] for w in words if w in ADDRESS_SPACES), "private")
        d = p.child_by_field_name("declarator")
        pointer = d is not None and d.type in ("pointer_declarator", "array_declarator")
        while d is not None and d.type != "identifier":
            d = d.child_by_field_name("declarator")
        out.append(Param(node_text(d) if d is not None else "", space, pointer, text))
    return out


def _calls(node: Node):
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "call_expression":
            f = n.child_by_field_name("function")
            if f is not None and f.type == "identifier":
                yield node_text(f)
        stack.extend(n.children)


def _declarations(node: Node):
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "declaration":
            yield n
        stack.extend(n.children)


@dataclass(frozen=True)
class ForLoop:
    """A `for` loop of a kernel: where it starts (the place for a pragma) and its line."""

    start: int  # byte offset of `for`
    line: int
    indent: str


def innermost_loops(source: bytes, fn: Function) -> list[ForLoop]:
    """The `for` loops of `fn`'s body with no `for` inside them, in source order."""
    root = parser().parse(blank_qualifiers(source)).root_node
    out = []
    stack = [root]
    while stack:
        n = stack.pop()
        if n.end_byte <= fn.body_start or n.start_byte >= fn.body_end:
            continue
        if n.type == "for_statement" and n.start_byte >= fn.body_start and not _has_for(n):
            line_start = source.rfind(b"\n", 0, n.start_byte) + 1
            indent = re.match(rb"[ \t]*", source[line_start : n.start_byte]).group(0).decode()  # type: ignore[union-attr]
            out.append(ForLoop(n.start_byte, n.start_point[0] + 1, indent))
        stack.extend(n.children)
    return sorted(out, key=lambda lp: lp.start)


def _has_for(node: Node) -> bool:
    return any(c.type == "for_statement" or _has_for(c) for c in node.children)
