"""Preprocessor facts of a C file: its `#define`s (and whether `-D` can override them), `#include`s,
and the parameters declared in `@autotune param NAME v1 v2 ...` comments.
"""

from __future__ import annotations

import re

from tree_sitter import Node

from autotune.space.cparse.program import Define, ParamDecl
from autotune.space.cparse.tree import node_text

_PARAM_RE = re.compile(r"@autotune\s+param\s+([A-Za-z_]\w*)\s*(?:=|:)?\s*(.+)")


def scan_preprocessor(root: Node, source: bytes) -> tuple[dict[str, Define], list[ParamDecl], list[str]]:
    """(defines by name, declared parameters in line order, include paths)."""
    defines: dict[str, Define] = {}
    params: list[ParamDecl] = []
    includes: list[str] = []
    stack: list[tuple[Node, frozenset[str]]] = [(root, frozenset())]
    while stack:
        n, guards = stack.pop()
        if n.type == "preproc_def":
            name = node_text(n.child_by_field_name("name"))
            val = n.child_by_field_name("value")
            if name not in defines:
                defines[name] = Define(
                    name, node_text(val).strip() if val is not None else "", n.start_point[0] + 1, name in guards
                )
        elif n.type == "preproc_include":
            path = n.child_by_field_name("path")
            if path is not None:
                includes.append(node_text(path).strip('<>"'))
        elif n.type == "comment":
            for i, line in enumerate(node_text(n).splitlines()):
                m = _PARAM_RE.search(line)
                if m:
                    raw = m.group(1), m.group(2).strip().rstrip("*/").strip()
                    values = tuple(v for v in re.split(r"[\s,]+", raw[1]) if v)
                    params.append(ParamDecl(raw[0], values, n.start_point[0] + 1 + i))
        inner = guards
        if n.type == "preproc_ifdef" and node_text(n.children[0]).replace(" ", "") == "#ifndef":
            nm = n.child_by_field_name("name")
            if nm is not None:
                inner = guards | {node_text(nm)}
        for c in reversed(n.children):
            stack.append((c, inner))
    params.sort(key=lambda p: p.line)
    return defines, params, includes
