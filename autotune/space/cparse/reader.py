"""`parse`: walk a C file's syntax tree and collect its loops, their pragmas and nesting, and its OpenMP uses.

Loops are numbered in source order; `L<n>` knob names come from that number,
so the walk order is part of every knob name and must not change.
"""

from __future__ import annotations

import re

from tree_sitter import Node

from autotune.space.cparse.pragmas import Pragma, pragma_of
from autotune.space.cparse.preprocessor import scan_preprocessor
from autotune.space.cparse.program import Loop, Program
from autotune.space.cparse.region import mark_region
from autotune.space.cparse.tree import function_name, node_text, parser


def parse(source: bytes) -> Program:
    """Parse a C source file and collect its tunable sites."""
    tree = parser().parse(source)
    root = tree.root_node
    loops: list[Loop] = []
    node_index: dict[int, int] = {}
    functions: list[str] = []
    error_lines: list[int] = []
    openmp: list[tuple[str, int]] = []

    def visit(node: Node, func: str, parent_loop: int | None, in_error: bool) -> None:
        if node.type == "ERROR" or node.is_missing and node.type != ";":
            error_lines.append(node.start_point[0] + 1)
            in_error = True
        if node.type == "function_definition":
            func = function_name(node)
            functions.append(func)
        if _is_openmp(node):
            openmp.append((func, node.start_point[0] + 1))
        this = parent_loop
        if node.type == "for_statement" and func and not in_error:
            line_start = source.rfind(b"\n", 0, node.start_byte) + 1
            before = source[line_start : node.start_byte]
            var, canonical = _canonical(node)
            body = node.child_by_field_name("body")
            hdr = [node.child_by_field_name(f) for f in ("initializer", "condition", "update")]
            loop = Loop(
                index=len(loops),
                function=func,
                line=node.start_point[0] + 1,
                start=node.start_byte,
                end=node.end_byte,
                line_start=line_start,
                inline=bool(before.strip()),
                indent=re.match(rb"[ \t]*", before).group(0).decode(),  # type: ignore[union-attr]
                pragmas=_preceding_pragmas(node),
                var=var,
                bounds_text=" ".join(node_text(h) for h in hdr if h is not None),
                canonical=canonical,
                declares_var=(init := node.child_by_field_name("initializer")) is not None
                and init.type == "declaration",
                has_break=body is not None and _leaves_loop(body),
                parent=parent_loop,
            )
            loops.append(loop)
            node_index[node.id] = loop.index
            if parent_loop is not None:
                loops[parent_loop].children.append(loop.index)
            this = loop.index
            if _is_empty_body(body):
                # `for (...)\n #pragma ...\n for (...)`: the real body is the
                # statement after the pragmas, which tree-sitter made a sibling.
                anchor = node
                while (
                    anchor.next_sibling is None and anchor.parent is not None and anchor.parent.type == "for_statement"
                ):
                    anchor = anchor.parent
                sib = anchor.next_sibling
                while sib is not None and (sib.type == "comment" or pragma_of(sib) is not None):
                    sib = sib.next_sibling
                if sib is not None and sib.type == "for_statement":
                    up: Node | None = node
                    while up is not None and up.id in node_index:
                        loops[node_index[up.id]].end = sib.end_byte
                        up = None if up == anchor else up.parent
                    _adopted[sib.id] = loop.index
        for child in node.children:
            visit(child, func, _adopted.get(child.id, this), in_error)

    _adopted: dict[int, int] = {}
    visit(root, "", None, False)

    _link_bodies(root, loops, node_index)

    defines, params, includes = scan_preprocessor(root, source)
    timed = mark_region(root, loops, node_index)
    return Program(
        timed_region=timed,
        openmp=openmp,
        source=source,
        loops=loops,
        defines=defines,
        params=params,
        functions=functions,
        has_main="main" in functions,
        includes=includes,
        error_lines=sorted(set(error_lines)),
    )


def _is_empty_body(node: Node | None) -> bool:
    """tree-sitter gives a for loop whose body is `#pragma ...\\n for ...` an empty body."""
    return node is not None and node.type == "expression_statement" and node.end_byte == node.start_byte


def _preceding_pragmas(node: Node) -> list[Pragma]:
    out: list[Pragma] = []
    prev = node.prev_sibling
    while prev is not None:
        if prev.type == "comment":
            prev = prev.prev_sibling
            continue
        p = pragma_of(prev)
        if p is None:
            break
        out.append(p)
        prev = prev.prev_sibling
    out.reverse()
    return out


def _leaves_loop(body: Node) -> bool:
    """True if a break, return or goto in `body` leaves the enclosing loop."""
    stack = [body]
    while stack:
        n = stack.pop()
        if n.type in ("return_statement", "goto_statement"):
            return True
        if n.type == "break_statement":
            return True
        if n.type in ("for_statement", "while_statement", "do_statement", "switch_statement"):
            # a break in here belongs to the inner construct; return/goto still leave
            stack.extend(c for c in _descendants(n) if c.type in ("return_statement", "goto_statement"))
            continue
        stack.extend(n.children)
    return False


def _descendants(n: Node):
    stack = list(n.children)
    while stack:
        c = stack.pop()
        yield c
        stack.extend(c.children)


def _canonical(node: Node) -> tuple[str | None, bool]:
    """Loop variable and whether the loop is in OpenMP canonical form."""
    init = node.child_by_field_name("initializer")
    cond = node.child_by_field_name("condition")
    upd = node.child_by_field_name("update")
    if init is None or cond is None or upd is None:
        return None, False
    var = None
    if init.type == "declaration":
        decls = [c for c in init.children if c.type == "init_declarator"]
        if len(decls) == 1:
            d = decls[0].child_by_field_name("declarator")
            var = node_text(d) if d is not None and d.type == "identifier" else None
    elif init.type == "assignment_expression":
        left = init.child_by_field_name("left")
        op = init.child_by_field_name("operator")
        if left is not None and left.type == "identifier" and op is not None and node_text(op) == "=":
            var = node_text(left)
    if var is None:
        return None, False
    ok_cond = (
        cond.type == "binary_expression"
        and node_text(cond.child_by_field_name("operator")) in ("<", "<=", ">", ">=", "!=")
        and var in (node_text(cond.child_by_field_name("left")), node_text(cond.child_by_field_name("right")))
    )
    ok_upd = False
    if upd.type == "update_expression":
        ok_upd = node_text(upd.child_by_field_name("argument")) == var
    elif upd.type == "assignment_expression":
        ok_upd = node_text(upd.child_by_field_name("left")) == var and node_text(
            upd.child_by_field_name("operator")
        ) in (
            "+=",
            "-=",
            "=",
        )
    return var, ok_cond and ok_upd


def _is_openmp(node: Node) -> bool:
    """An OpenMP directive or a call into the OpenMP runtime (`omp_get_wtime()`, `omp_set_num_threads(n)`)."""
    if node.type == "preproc_call":
        p = pragma_of(node)
        return p is not None and (p.text == "omp" or p.text.startswith("omp "))
    if node.type == "call_expression":
        f = node.child_by_field_name("function")
        return f is not None and f.type == "identifier" and node_text(f).startswith("omp_")
    return False


def _link_bodies(root: Node, loops: list[Loop], node_index: dict[int, int]) -> None:
    """Set `body_loop` where a loop's body is exactly one loop (a perfect nest step)."""
    stack = [root]
    while stack:
        n = stack.pop()
        stack.extend(n.children)
        if n.type != "for_statement" or n.id not in node_index:
            continue
        outer = loops[node_index[n.id]]
        body = n.child_by_field_name("body")
        inner_node = None
        if body is not None and body.type == "compound_statement":
            stmts = [c for c in body.named_children if c.type != "comment"]
            if len(stmts) == 1 and stmts[0].type == "for_statement":
                inner_node = stmts[0]
        elif body is not None and body.type == "for_statement":
            inner_node = body
        # an empty body means pragmas stand between the loops: not a perfect step
        if inner_node is not None and inner_node.id in node_index:
            outer.body_loop = node_index[inner_node.id]
