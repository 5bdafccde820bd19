"""The questions discovery asks of one program: may this loop run in parallel, may this nest be interchanged.

The sufficient conditions each answer checks are in the package docstring
(`autotune.space.deps`); `analysis(prog)` builds the facts once per program.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import permutations

from tree_sitter import Node

from autotune.space.cparse import Loop, Program, node_text, parser, pragma_of
from autotune.space.deps.accesses import (
    PURE_FUNCTIONS,
    PURE_MACROS,
    AccessWalker,
    Ref,
    Unsure,
    idents,
    written_names,
)
from autotune.space.deps.privatise import declared_only_inside, privatisable


@dataclass(frozen=True)
class Verdict:
    """Proven safe (`ok`), or not and why; `private`: outer-declared scalars the transformed loop must privatise."""

    ok: bool
    why: str = ""
    private: tuple[str, ...] = ()


@dataclass(frozen=True)
class Nest:
    """A perfect nest that may be interchanged.

    `orders`: the permutations offered, each a tuple of positions (0-based, of
    the original order) outermost first; `safe`: the nest variables whose loop
    could be the parallel one (every written array has it as a subscript).
    """

    loops: tuple[int, ...]
    vars: tuple[str, ...]
    safe: frozenset[str]
    private: tuple[str, ...]

    @property
    def orders(self) -> list[tuple[int, ...]]:
        return [p for p in permutations(range(len(self.vars))) if p != tuple(range(len(self.vars)))]


class Analysis:
    """Dependence facts of one parsed program (cached per Program by `analysis()`)."""

    def __init__(self, prog: Program) -> None:
        self.prog = prog
        self.tree = parser().parse(prog.source)
        by_start = {lp.start: lp.index for lp in prog.loops}
        self.node: dict[int, Node] = {}
        self.func_of: dict[int, Node] = {}
        macros: set[str] = set()
        stack = [(self.tree.root_node, None)]
        while stack:
            n, func = stack.pop()
            if n.type == "function_definition":
                func = n
            if n.type == "for_statement" and n.start_byte in by_start:
                self.node[by_start[n.start_byte]] = n
                if func is not None:
                    self.func_of[by_start[n.start_byte]] = func
            if n.type == "preproc_function_def" and self._pure_macro(n):
                macros.add(node_text(n.child_by_field_name("name")))
            stack.extend((c, func) for c in n.children)
        self.pure = PURE_FUNCTIONS | PURE_MACROS | frozenset(macros)
        self._parallel: dict[int, Verdict] = {}

    @staticmethod
    def _pure_macro(n: Node) -> bool:
        """A function-like macro whose body assigns nothing and calls only pure functions."""
        body = n.child_by_field_name("value")
        text = node_text(body) if body is not None else ""
        if re.search(r"(?<![=!<>])=(?!=)|\+\+|--|\+=|-=", text):
            return False
        return all(m in PURE_FUNCTIONS for m in re.findall(r"([A-Za-z_]\w*)\s*\(", text))

    # --- helpers -----------------------------------------------------------------------
    def _shape(self, loop: Loop) -> Node:
        """The loop's node, after the checks every transformation needs; raises Unsure."""
        node = self.node.get(loop.index)
        if node is None or loop.index not in self.func_of:
            raise Unsure("not found in a function")
        if not loop.canonical or loop.var is None:
            raise Unsure("not a canonical loop")
        if loop.has_break:
            raise Unsure("has a break, return or goto")
        if any(p.text.startswith("omp") or p.is_loop_hint for p in loop.pragmas):
            raise Unsure("already has a loop pragma")
        stack = [node]
        while stack:
            n = stack.pop()
            if n.type == "for_statement":
                b = n.child_by_field_name("body")
                if b is None or (b.type == "expression_statement" and b.end_byte == b.start_byte):
                    raise Unsure("a pragma stands between nested loops")
            stack.extend(n.children)
        return node

    def _body_refs(self, node: Node) -> AccessWalker:
        w = AccessWalker(self.pure)
        w.walk(node.child_by_field_name("body"))
        return w

    def _header_idents(self, node: Node) -> set[str]:
        out: set[str] = set()
        for f in ("initializer", "condition", "update"):
            c = node.child_by_field_name(f)
            if c is not None:
                out |= idents(c)
        return out

    def privatisable(self, loop: Loop, name: str) -> bool:
        """`name` may be made private to `loop` (see `deps.privatise`)."""
        return privatisable(self.node[loop.index], self.func_of[loop.index], name)

    # --- the questions ------------------------------------------------------------------
    def parallel(self, loop: Loop) -> Verdict:
        """May the iterations of `loop` run in any order, in parallel? (see the package docstring)"""
        if loop.index not in self._parallel:
            try:
                self._parallel[loop.index] = self._check_parallel(loop)
            except Unsure as exc:
                self._parallel[loop.index] = Verdict(False, str(exc))
        return self._parallel[loop.index]

    def _check_parallel(self, loop: Loop) -> Verdict:
        node = self._shape(loop)
        w = self._body_refs(node)
        var = loop.var or ""
        written = written_names(w.refs)
        if var in written:
            raise Unsure(f"the loop variable {var} is written in the body")
        func = self.func_of[loop.index]
        private: list[str] = []
        for name in written:
            refs = [r for r in w.refs if r.name == name]
            if name in w.declared:
                if not declared_only_inside(func, name, node):
                    raise Unsure(f"{name} is declared both inside and outside the loop")
                continue
            if all(r.subs is None for r in refs):
                if not self.privatisable(loop, name):
                    raise Unsure(f"scalar {name} is written and cannot be made private")
                private.append(name)
            elif all(r.subs is not None for r in refs):
                if _fixed_position(refs, var) is None:
                    raise Unsure(f"{name} is written but not only at [{var}] in one fixed position")
            else:
                raise Unsure(f"{name} is used both as an array and as a scalar")
        if self._header_idents(node) & set(written):
            raise Unsure("the loop bounds read something the body writes")
        if not loop.declares_var:
            if not self.privatisable(loop, var):
                raise Unsure(f"the value of {var} after the loop is used")
            private.insert(0, var)
        return Verdict(True, "", tuple(private))

    def nest(self, loop: Loop, max_depth: int = 3) -> Nest | None:
        """The deepest (2..max_depth) perfect nest at `loop` that may be interchanged, or None."""
        try:
            self._shape(loop)
        except Unsure:
            return None
        chain = [loop]
        while len(chain) < max_depth and chain[-1].body_loop is not None:
            inner = self.prog.loops[chain[-1].body_loop]
            if inner.pragmas:
                break
            chain.append(inner)
        for depth in range(len(chain), 1, -1):
            try:
                return self._check_nest(chain[:depth])
            except Unsure:
                continue
        return None

    def _check_nest(self, chain: list[Loop]) -> Nest:
        vars_: list[str] = []
        for lp in chain:
            if not lp.canonical or lp.var is None or lp.has_break:
                raise Unsure("not canonical")
            if any(re.search(rf"\b{re.escape(v)}\b", lp.bounds_text) for v in vars_):
                raise Unsure("not rectangular")
            if lp.var in vars_:
                raise Unsure("a loop variable repeats")
            vars_.append(lp.var)
        inner = self.node[chain[-1].index]
        body = self._body_refs(inner)
        written = written_names(body.refs)
        if set(vars_) & set(written):
            raise Unsure("a loop variable is written in the body")
        func = self.func_of[chain[0].index]
        headers: set[str] = set()
        for lp in chain:
            headers |= self._header_idents(self.node[lp.index]) - {lp.var}
        if headers & set(written):
            raise Unsure("bounds read something the body writes")
        safe = set(vars_)
        private: list[str] = [lp.var for lp in chain if not lp.declares_var]  # type: ignore[misc]
        for name in written:
            refs = [r for r in body.refs if r.name == name]
            if name in body.declared:
                if not declared_only_inside(func, name, inner):
                    raise Unsure(f"{name} is declared both inside and outside the nest")
                continue
            if all(r.subs is None for r in refs):
                if not self.privatisable(chain[0], name):
                    raise Unsure(f"scalar {name} is written")
                private.append(name)
                continue
            if not all(r.subs is not None for r in refs):
                raise Unsure(f"{name} is used both as an array and as a scalar")
            tuples = {r.subs for r in refs}
            if len(tuples) != 1:
                raise Unsure(f"{name} is accessed with different subscripts")
            (subs,) = tuples
            covered = set()
            for s in subs:  # type: ignore[union-attr]
                if s in vars_:
                    covered.add(s)
                elif set(re.findall(r"[A-Za-z_]\w*", s)) & set(vars_):
                    raise Unsure(f"{name}[{s}]: a subscript mixes nest variables")
            if len(set(vars_) - covered) > 1:
                raise Unsure(f"{name} is written by more than one loop of freedom")
            safe &= covered
        for v in private:
            if not self.privatisable(chain[0], v):
                raise Unsure(f"the value of {v} after the nest is used")
        return Nest(tuple(lp.index for lp in chain), tuple(vars_), frozenset(safe), tuple(dict.fromkeys(private)))

    def _refs(self, loop: Loop) -> list[Ref] | None:
        node = self.node.get(loop.index)
        if node is None:
            return None
        w = AccessWalker(self.pure)
        try:
            w.walk(node)
        except Unsure:
            return None
        return w.refs

    def body_refs(self, loop: Loop) -> list[Ref]:
        """The accesses of the loop's body (empty if not analysable)."""
        node = self.node.get(loop.index)
        if node is None:
            return []
        try:
            return self._body_refs(node).refs
        except Unsure:
            return []

    def arrays(self, loop: Loop) -> set[str]:
        """Names accessed with subscripts in the loop (header and body); empty if not analysable."""
        return {r.name for r in self._refs(loop) or [] if r.subs is not None}

    def written_arrays(self, loop: Loop) -> set[str]:
        """Names written with subscripts in the loop; empty if not analysable."""
        return {r.name for r in self._refs(loop) or [] if r.subs is not None and r.write}

    def previous_loop(self, loop: Loop) -> Loop | None:
        """The loop statement right before `loop` in the same block (comments and pragmas skipped)."""
        node = self.node.get(loop.index)
        prev = node.prev_named_sibling if node is not None else None
        while prev is not None and (prev.type == "comment" or pragma_of(prev) is not None):
            prev = prev.prev_named_sibling
        if prev is None or prev.type != "for_statement":
            return None
        for idx, n in self.node.items():
            if n.id == prev.id:
                return self.prog.loops[idx]
        return None


def _fixed_position(refs: list[Ref], var: str) -> int | None:
    """The subscript position at which every access has exactly `var`, if there is one."""
    ranks = {len(r.subs or ()) for r in refs}
    if len(ranks) != 1:
        return None
    (rank,) = ranks
    for d in range(rank):
        if all(r.subs is not None and r.subs[d] == var for r in refs):
            return d
    return None


def analysis(prog: Program) -> Analysis:
    """The program's Analysis, built once (kept in `prog.cache`)."""
    a = prog.cache.get("deps")
    if a is None:
        a = prog.cache["deps"] = Analysis(prog)
    return a
