"""The C reader: find the tunable sites of a C program with a real parser (tree-sitter-c).

Why a parser and not regexes: loops nest, pragmas come in chains, bodies may
or may not have braces, and comments or strings can contain anything that
looks like code. tree-sitter keeps pragmas as `preproc_call` nodes next to the
statements they precede, which is exactly what we need to rewrite them.

This package only reads: it reports loops, OpenMP work-sharing directives,
perfect nests, declared parameters and timing hints. The knob families
(`autotune.space.families`) decide what to tune and `autotune.variant` writes.

Modules: `tree` (the tree-sitter parser and node helpers), `pragmas` (one
`#pragma` and its OpenMP clauses), `program` (what the reader reports: Program,
Loop, Define, ParamDecl), `reader` (`parse`: the walk that finds loops and
OpenMP uses), `preprocessor` (defines, includes, `@autotune param`), `region`
(which loops the timed region runs).
"""

from autotune.space.cparse.pragmas import SCHEDULE_KINDS, Pragma, pragma_of, schedule_of, split_clauses
from autotune.space.cparse.program import Define, Loop, ParamDecl, Program
from autotune.space.cparse.reader import parse
from autotune.space.cparse.tree import node_text, parser

__all__ = [
    "SCHEDULE_KINDS",
    "Define",
    "Loop",
    "ParamDecl",
    "Pragma",
    "Program",
    "node_text",
    "parse",
    "parser",
    "pragma_of",
    "schedule_of",
    "split_clauses",
]
