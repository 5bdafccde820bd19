"""The tree-sitter C parser and the node helpers every part of the reader (and `deps`) uses."""

from __future__ import annotations

from functools import lru_cache

import tree_sitter_c
from tree_sitter import Language, Node, Parser


@lru_cache(maxsize=1)
def parser() -> Parser:
    return Parser(Language(tree_sitter_c.language()))


def node_text(node: Node) -> str:
    return node.text.decode("utf-8", "replace") if node.text is not None else ""


def function_name(node: Node) -> str:
    """The name a function definition declares ('?' if the declarator is not understood)."""
    decl = node.child_by_field_name("declarator")
    while decl is not None and decl.type != "function_declarator":
        decl = decl.child_by_field_name("declarator")
    if decl is None:
        return "?"
    name = decl.child_by_field_name("declarator")
    return node_text(name) if name is not None else "?"
