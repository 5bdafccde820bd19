"""May a scalar written in a loop be made private to it? (the "privatisable" condition of `deps`)

A written scalar declared outside the loop is safe to privatise when it is
function-local and every use of it in the function lies in a `for` loop that
assigns it before any use, that loop being the one transformed, inside it, or
not enclosing it: then no iteration reads another one's value and nothing
after the loop reads its final value.
"""

from __future__ import annotations

from tree_sitter import Node

from autotune.space.cparse import node_text
from autotune.space.deps.accesses import all_nodes, declared_names, idents


def declarations(func: Node, name: str) -> list[Node]:
    """Identifier nodes declaring `name` in the function (parameters and locals)."""
    out = []
    stack = [func]
    while stack:
        n = stack.pop()
        if n.type in ("declaration", "parameter_declaration"):
            out.extend(d for nm, d in declared_names(n) if nm == name)
        stack.extend(n.children)
    return out


def declared_only_inside(func: Node, name: str, node: Node) -> bool:
    """Every declaration of `name` in the function lies inside `node`: each use in it is a private copy."""
    return all(node.start_byte <= d.start_byte < node.end_byte for d in declarations(func, name))


def _static(decl_ident: Node) -> bool:
    n = decl_ident
    while n is not None and n.type not in ("declaration", "parameter_declaration"):
        n = n.parent
    return n is not None and any(c.type == "storage_class_specifier" for c in n.children)


def privatisable(node: Node, func: Node, name: str) -> bool:
    """`name` may be private to the loop `node` of `func`: function-local, each use covered by a loop setting it first.

    The loop that covers a use must be `node`, inside it, or not enclose it (a
    loop enclosing `node` that sets the variable before `node` does not stop a
    later read of `node`'s value).
    """
    decls = declarations(func, name)
    if len(decls) != 1 or _static(decls[0]):
        return False  # a global, a static, or shadowed: not ours to privatise
    if any(n.type in ("goto_statement", "labeled_statement") for n in all_nodes(func)):
        return False
    ancestors = set()
    up = node.parent
    while up is not None:
        ancestors.add(up.id)
        up = up.parent
    for ident in all_nodes(func):
        if ident.type != "identifier" or node_text(ident) != name or ident.id == decls[0].id:
            continue
        up = ident.parent
        covered = False
        while up is not None and up.id != func.id:
            if up.type == "for_statement":
                if up.id in ancestors:
                    break
                if _sets_first(up, name):
                    covered = True
                    break
            up = up.parent
        if not covered:
            return False
    return True


def _sets_first(loop: Node, name: str) -> bool:
    """The loop assigns `name` before any use in every iteration: its loop variable, or a first `name = e;`."""
    init = loop.child_by_field_name("initializer")
    if init is not None and init.type == "assignment_expression":
        left, op = init.child_by_field_name("left"), init.child_by_field_name("operator")
        right = init.child_by_field_name("right")
        if node_text(left) == name and node_text(op) == "=" and name not in idents(right):
            return True
    for f in ("initializer", "condition", "update"):
        c = loop.child_by_field_name(f)
        if c is not None and name in idents(c):
            return False
    body = loop.child_by_field_name("body")
    if body is None or body.type != "compound_statement":
        return False
    for stmt in body.named_children:
        if stmt.type == "comment" or name not in idents(stmt):
            continue
        if stmt.type != "expression_statement" or not stmt.named_children:
            return False
        e = stmt.named_children[0]
        return (
            e.type == "assignment_expression"
            and node_text(e.child_by_field_name("left")) == name
            and node_text(e.child_by_field_name("operator")) == "="
            and name not in idents(e.child_by_field_name("right"))
        )
    return False
