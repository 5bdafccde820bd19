"""What a loop body reads and writes: the access walker, and the calls it accepts as pure.

Why a walker that raises: every syntax it does not model (pointers, fields,
calls, preprocessor conditionals) makes the loop "unsure", so the analysis
never reasons about accesses it did not see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node

from autotune.space.cparse import node_text, pragma_of

# Pure functions of libm (no side effects, result depends only on the arguments).
PURE_FUNCTIONS = frozenset(
    f + suffix
    for f in (
        "sqrt",
        "cbrt",
        "exp",
        "exp2",
        "expm1",
        "log",
        "log2",
        "log10",
        "log1p",
        "pow",
        "fabs",
        "fmax",
        "fmin",
        "fmod",
        "floor",
        "ceil",
        "round",
        "trunc",
        "sin",
        "cos",
        "tan",
        "asin",
        "acos",
        "atan",
        "atan2",
        "sinh",
        "cosh",
        "tanh",
        "hypot",
        "erf",
        "copysign",
        "fma",
    )
    for suffix in ("", "f", "l")
) | frozenset({"abs", "labs", "llabs"})
# PolyBench/C 4.2.1's data-type macros (defined in each kernel's header as x, sqrt(x), expf(x), ...)
PURE_MACROS = frozenset({"SCALAR_VAL", "SQRT_FUN", "EXP_FUN", "POW_FUN"})

# Node types whose named children are walked as they are.
_WALK = frozenset(
    {
        "compound_statement",
        "expression_statement",
        "if_statement",
        "else_clause",
        "while_statement",
        "do_statement",
        "switch_statement",
        "case_statement",
        "parenthesized_expression",
        "binary_expression",
        "unary_expression",
        "conditional_expression",
        "comma_expression",
        "argument_list",
        "initializer_list",
        "condition_clause",
    }
)
# Leaves (and type syntax) that read no variable.
_QUIET = frozenset(
    {
        "number_literal",
        "char_literal",
        "string_literal",
        "concatenated_string",
        "true",
        "false",
        "null",
        "comment",
        "continue_statement",
        "break_statement",  # only inner constructs' breaks get here: Loop.has_break covers L's own
        "primitive_type",
        "type_identifier",
        "sized_type_specifier",
        "type_qualifier",
        "storage_class_specifier",
        "type_descriptor",
        "sizeof_expression",
        "empty_statement",
    }
)
_LEAVES = frozenset({"return_statement", "goto_statement", "labeled_statement"})


class Unsure(Exception):
    """The analysis cannot prove what it was asked; the message says why (for notes and tests)."""


@dataclass(frozen=True)
class Ref:
    """One access: a scalar (`subs` is None) or an array element (`subs`: normalised subscript texts)."""

    name: str
    subs: tuple[str, ...] | None
    write: bool


def _norm(text: str) -> str:
    t = re.sub(r"\s+", "", text)
    while t.startswith("(") and t.endswith(")") and _balanced(t[1:-1]):
        t = t[1:-1]
    return t


def _balanced(t: str) -> bool:
    depth = 0
    for ch in t:
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            return False
    return depth == 0


def idents(node: Node) -> set[str]:
    out = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "identifier":
            out.add(node_text(n))
        stack.extend(n.children)
    return out


def declared_names(decl: Node) -> list[tuple[str, Node]]:
    """(name, identifier node) of every declarator of a declaration or parameter declaration."""
    out = []
    for c in decl.children:
        d = c.child_by_field_name("declarator") if c.type == "init_declarator" else c
        while d is not None and d.type in ("array_declarator", "parenthesized_declarator", "attributed_declarator"):
            d = d.child_by_field_name("declarator") or (d.named_children[0] if d.named_children else None)
        if d is not None and d.type == "identifier":
            out.append((node_text(d), d))
    return out


class AccessWalker:
    """Collect the accesses of a statement or expression; raise Unsure on anything not modelled."""

    def __init__(self, pure: frozenset[str]) -> None:
        self.pure = pure
        self.refs: list[Ref] = []
        self.declared: set[str] = set()

    def walk(self, n: Node) -> None:
        if not n.is_named:
            return
        t = n.type
        if t == "identifier":
            self.refs.append(Ref(node_text(n), None, False))
        elif t in _QUIET:
            if t == "sizeof_expression":
                return
        elif t in _WALK:
            for c in n.named_children:
                self.walk(c)
        elif t == "for_statement":
            for f in ("initializer", "condition", "update", "body"):
                c = n.child_by_field_name(f)
                if c is not None:
                    self.walk(c)
        elif t == "subscript_expression":
            self._element(n, write=False, read=True)
        elif t == "assignment_expression":
            compound = node_text(n.child_by_field_name("operator")) != "="
            self.walk(n.child_by_field_name("right"))
            self._target(n.child_by_field_name("left"), read=compound)
        elif t == "update_expression":
            self._target(n.child_by_field_name("argument"), read=True)
        elif t == "call_expression":
            fn = n.child_by_field_name("function")
            name = node_text(fn) if fn is not None and fn.type == "identifier" else ""
            if name not in self.pure:
                raise Unsure(f"calls {name or 'through an expression'}()")
            self.walk(n.child_by_field_name("arguments"))
        elif t == "cast_expression":
            self.walk(n.child_by_field_name("value"))
        elif t == "declaration":
            if any(c.type == "storage_class_specifier" for c in n.children):
                raise Unsure("static or extern declaration in the loop")
            for c in n.named_children:
                if c.type == "init_declarator":
                    v = c.child_by_field_name("value")
                    if v is not None:
                        self.walk(v)
                elif c.type not in ("identifier", "array_declarator") and c.type not in _QUIET:
                    raise Unsure(f"declaration of a {c.type}")
            self.declared.update(name for name, _ in declared_names(n))
        elif t == "preproc_call":
            p = pragma_of(n)
            if p is not None and p.text.startswith("omp"):
                raise Unsure("an OpenMP directive inside")
        elif t in _LEAVES:
            raise Unsure(f"{t.replace('_', ' ')} inside")
        elif t.startswith("preproc"):
            raise Unsure("preprocessor conditional inside")
        elif t in ("pointer_expression", "field_expression"):
            raise Unsure("pointer or field access")
        else:
            raise Unsure(f"{t} not analysed")

    def _element(self, n: Node, write: bool, read: bool) -> None:
        subs: list[Node] = []
        base = n
        while base.type == "subscript_expression":
            idx = base.child_by_field_name("index") or next(
                (c for c in base.named_children if c.type == "subscript_argument_list"), None
            )
            if idx is None:
                raise Unsure("subscript not understood")
            subs.append(idx)
            base = base.child_by_field_name("argument")
        if base.type == "parenthesized_expression" and len(base.named_children) == 1:
            base = base.named_children[0]
        if base.type != "identifier":
            raise Unsure("array access through an expression")
        for s in subs:
            self.walk(s)
        texts = tuple(_norm(node_text(s)) for s in reversed(subs))
        if read:
            self.refs.append(Ref(node_text(base), texts, False))
        if write:
            self.refs.append(Ref(node_text(base), texts, True))

    def _target(self, n: Node | None, read: bool) -> None:
        while n is not None and n.type == "parenthesized_expression" and len(n.named_children) == 1:
            n = n.named_children[0]
        if n is None:
            raise Unsure("assignment not understood")
        if n.type == "identifier":
            if read:
                self.refs.append(Ref(node_text(n), None, False))
            self.refs.append(Ref(node_text(n), None, True))
        elif n.type == "subscript_expression":
            self._element(n, write=True, read=read)
        else:
            raise Unsure("write through a pointer or field")


def all_nodes(node: Node):
    """The node and all its descendants."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(n.children)


def written_names(refs: list[Ref]) -> list[str]:
    """Names written, in first-write order."""
    return list(dict.fromkeys(r.name for r in refs if r.write))
