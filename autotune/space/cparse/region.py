"""The timed region: which loops run between the timer's start and stop markers.

Markers: our header's `AUTOTUNE_REGION_BEGIN`/`_END` and PolyBench/C's
`polybench_start_instruments`/`polybench_stop_instruments`.
"""

from __future__ import annotations

from tree_sitter import Node

from autotune.space.cparse.program import Loop
from autotune.space.cparse.tree import function_name, node_text

_REGION_BEGIN = ("AUTOTUNE_REGION_BEGIN", "polybench_start_instruments")
_REGION_END = ("AUTOTUNE_REGION_END", "polybench_stop_instruments")


def _marker(stmt: Node) -> str | None:
    """The region-marker name a statement starts with, if any."""
    if stmt.type != "expression_statement" or not stmt.named_children:
        return None
    e = stmt.named_children[0]
    if e.type == "call_expression":
        e = e.child_by_field_name("function")
    name = node_text(e) if e is not None and e.type == "identifier" else ""
    return name if name in _REGION_BEGIN + _REGION_END else None


def mark_region(root: Node, loops: list[Loop], node_index: dict[int, int]) -> bool:
    """Mark the loops the timed region executes: lexically inside it, or in functions it calls.

    Why: a knob on a loop outside the timed region cannot change the measured
    time, so it only makes the space larger. Without markers every loop counts
    (the whole process is timed).
    """
    functions: dict[str, Node] = {}
    region_stmts: list[Node] = []
    stack = [root]
    while stack:
        n = stack.pop()
        if n.type == "function_definition":
            functions[function_name(n)] = n
        if n.type == "compound_statement":
            inside = False
            for c in n.named_children:
                m = _marker(c)
                if m in _REGION_BEGIN:
                    inside = True
                elif m in _REGION_END:
                    inside = False
                elif inside:
                    region_stmts.append(c)
        stack.extend(n.children)
    if not region_stmts:
        return False
    reached: set[int] = set()
    seen_funcs: set[str] = set()
    work = list(region_stmts)
    while work:
        n = work.pop()
        if n.type == "for_statement" and n.id in node_index:
            reached.add(node_index[n.id])
        if n.type == "call_expression":
            f = n.child_by_field_name("function")
            name = node_text(f) if f is not None else ""
            if name in functions and name not in seen_funcs:
                seen_funcs.add(name)
                work.append(functions[name])
        work.extend(n.children)
    # loops adopted across a pragma are siblings in the tree: follow parents too
    for lp in loops:
        p = lp.parent
        while p is not None and lp.index not in reached:
            if p in reached:
                reached.add(lp.index)
            p = loops[p].parent
    for lp in loops:
        lp.in_region = lp.index in reached
    return True
