"""Conservative dependence analysis on the tree-sitter AST: which loops may run in parallel or be reordered.

Why our own, and why so simple: a knob on a loop whose transformation breaks
a dependence costs a build and a run to be rejected as `wrong_output`, and a
search of 30 evaluations cannot afford many. So this module answers "proven
safe" only from *sufficient* conditions that can be checked on the syntax
tree, and "unsure" (no knob) for everything else. Output verification against
the untransformed program still checks every variant; this module only keeps
hopeless knobs out of the space.

What it assumes, stated once:
* Distinct array names do not alias (two parameters `A` and `B` never point
  into the same memory). Polly makes the same assumption and checks it at run
  time; here a violation would print a wrong result, which verification
  rejects.
* Distinct rows of one array do not overlap (`double **a` with `a[0] == a[1]`
  would break the disjoint-slice argument below).
* A variable declared outside the loop is one variable per function: a
  function that declares its name twice (shadowing) is not analysed for it.
  Names declared only inside the loop are private copies whatever they are.

The sufficient conditions:
* **Parallel / reversible** loop `L` with variable `i` (no iteration of `L`
  touches what another one writes):
  - `L` is canonical, its body has no break/return/goto leaving it, no
    pragma between nested loops, no OpenMP directive, no preprocessor
    conditional, and no call except pure math functions (`sqrt`, `exp`,
    `pow`, `fabs`, PolyBench's `SQRT_FUN`/`EXP_FUN`/`POW_FUN`/`SCALAR_VAL`,
    and function-like macros of the file whose bodies contain no assignment
    and no call);
  - no pointer dereference or field access at all (`*p`, `p->x`, `s.x`), no
    `&x`: every access is to a named scalar or a subscripted array name;
  - every array written in the body is accessed (read and write) only with
    the same number of subscripts, one of which, at one fixed position, is
    exactly `i`: iterations touch disjoint slices;
  - every scalar written in the body is declared inside it, or is
    *privatisable*: function-local, and every use of it in the function lies
    in a `for` loop that assigns it before any use (as its loop variable,
    or by a first statement `s = expr;` not reading `s`), that loop being
    `L`, inside `L`, or not enclosing `L`. Then no iteration reads another
    one's value and nothing after `L` reads its final value, so it may be
    made `private`; `L`'s own variable passes the same test;
  - nothing `L`'s bounds read is written in the body.
  Reversal needs no more than this: a loop that carries no dependence runs
  the same backwards.
* **Interchange** of a perfect, rectangular, canonical nest of depth 2 or 3
  (dependences along at most one of its loops):
  every written array is accessed with one identical subscript tuple in
  the whole nest; each subscript is either exactly a nest variable or
  mentions none; at most one nest variable is missing from the tuple. Two
  iterations touching one element then agree on all nest variables but at
  most one, so every dependence distance vector has at most one non-zero
  entry and stays lexicographically positive under every permutation.
  Written scalars must be privatisable in the sense above.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import permutations

from tree_sitter import Node

from autotune._cparse import Loop, Program, _parser, _pragma_of, _text

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


def _idents(node: Node) -> set[str]:
    out = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "identifier":
            out.add(_text(n))
        stack.extend(n.children)
    return out


def _declared_names(decl: Node) -> list[tuple[str, Node]]:
    """(name, identifier node) of every declarator of a declaration or parameter declaration."""
    out = []
    for c in decl.children:
        d = c.child_by_field_name("declarator") if c.type == "init_declarator" else c
        while d is not None and d.type in ("array_declarator", "parenthesized_declarator", "attributed_declarator"):
            d = d.child_by_field_name("declarator") or (d.named_children[0] if d.named_children else None)
        if d is not None and d.type == "identifier":
            out.append((_text(d), d))
    return out


class _Walker:
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
            self.refs.append(Ref(_text(n), None, False))
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
            compound = _text(n.child_by_field_name("operator")) != "="
            self.walk(n.child_by_field_name("right"))
            self._target(n.child_by_field_name("left"), read=compound)
        elif t == "update_expression":
            self._target(n.child_by_field_name("argument"), read=True)
        elif t == "call_expression":
            fn = n.child_by_field_name("function")
            name = _text(fn) if fn is not None and fn.type == "identifier" else ""
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
            self.declared.update(name for name, _ in _declared_names(n))
        elif t == "preproc_call":
            p = _pragma_of(n)
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
        texts = tuple(_norm(_text(s)) for s in reversed(subs))
        if read:
            self.refs.append(Ref(_text(base), texts, False))
        if write:
            self.refs.append(Ref(_text(base), texts, True))

    def _target(self, n: Node | None, read: bool) -> None:
        while n is not None and n.type == "parenthesized_expression" and len(n.named_children) == 1:
            n = n.named_children[0]
        if n is None:
            raise Unsure("assignment not understood")
        if n.type == "identifier":
            if read:
                self.refs.append(Ref(_text(n), None, False))
            self.refs.append(Ref(_text(n), None, True))
        elif n.type == "subscript_expression":
            self._element(n, write=True, read=read)
        else:
            raise Unsure("write through a pointer or field")


class Analysis:
    """Dependence facts of one parsed program (cached per Program by `analysis()`)."""

    def __init__(self, prog: Program) -> None:
        self.prog = prog
        self.tree = _parser().parse(prog.source)
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
                macros.add(_text(n.child_by_field_name("name")))
            stack.extend((c, func) for c in n.children)
        self.pure = PURE_FUNCTIONS | PURE_MACROS | frozenset(macros)
        self._parallel: dict[int, Verdict] = {}

    @staticmethod
    def _pure_macro(n: Node) -> bool:
        """A function-like macro whose body assigns nothing and calls only pure functions."""
        body = n.child_by_field_name("value")
        text = _text(body) if body is not None else ""
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

    def _body_refs(self, node: Node) -> _Walker:
        w = _Walker(self.pure)
        w.walk(node.child_by_field_name("body"))
        return w

    def _header_idents(self, node: Node) -> set[str]:
        out: set[str] = set()
        for f in ("initializer", "condition", "update"):
            c = node.child_by_field_name(f)
            if c is not None:
                out |= _idents(c)
        return out

    def _declarations(self, func: Node, name: str) -> list[Node]:
        """Identifier nodes declaring `name` in the function (parameters and locals)."""
        out = []
        stack = [func]
        while stack:
            n = stack.pop()
            if n.type in ("declaration", "parameter_declaration"):
                out.extend(d for nm, d in _declared_names(n) if nm == name)
            stack.extend(n.children)
        return out

    def _only_inside(self, func: Node, name: str, node: Node) -> bool:
        """Every declaration of `name` in the function lies inside `node`: each use in it is a private copy."""
        return all(node.start_byte <= d.start_byte < node.end_byte for d in self._declarations(func, name))

    def _static(self, decl_ident: Node) -> bool:
        n = decl_ident
        while n is not None and n.type not in ("declaration", "parameter_declaration"):
            n = n.parent
        return n is not None and any(c.type == "storage_class_specifier" for c in n.children)

    def privatisable(self, loop: Loop, name: str) -> bool:
        """`name` may be private to `loop`: function-local, and every use is covered by a loop that sets it first.

        See the module docstring; the loop that covers a use must be `loop`,
        inside it, or not enclose it (a loop enclosing `loop` that sets the
        variable before `loop` does not stop a later read of `loop`'s value).
        """
        node, func = self.node[loop.index], self.func_of[loop.index]
        decls = self._declarations(func, name)
        if len(decls) != 1 or self._static(decls[0]):
            return False  # a global, a static, or shadowed: not ours to privatise
        if any(n.type in ("goto_statement", "labeled_statement") for n in _all(func)):
            return False
        ancestors = set()
        up = node.parent
        while up is not None:
            ancestors.add(up.id)
            up = up.parent
        for ident in _all(func):
            if ident.type != "identifier" or _text(ident) != name or ident.id == decls[0].id:
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

    # --- the questions ------------------------------------------------------------------
    def parallel(self, loop: Loop) -> Verdict:
        """May the iterations of `loop` run in any order, in parallel? (see the module docstring)"""
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
        written = _written(w.refs)
        if var in written:
            raise Unsure(f"the loop variable {var} is written in the body")
        func = self.func_of[loop.index]
        private: list[str] = []
        for name in written:
            refs = [r for r in w.refs if r.name == name]
            if name in w.declared:
                if not self._only_inside(func, name, node):
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
        written = _written(body.refs)
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
                if not self._only_inside(func, name, inner):
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
        w = _Walker(self.pure)
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
        while prev is not None and (prev.type == "comment" or _pragma_of(prev) is not None):
            prev = prev.prev_named_sibling
        if prev is None or prev.type != "for_statement":
            return None
        for idx, n in self.node.items():
            if n.id == prev.id:
                return self.prog.loops[idx]
        return None


def _all(node: Node):
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(n.children)


def _written(refs: list[Ref]) -> list[str]:
    return list(dict.fromkeys(r.name for r in refs if r.write))


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


def _sets_first(loop: Node, name: str) -> bool:
    """The loop assigns `name` before any use in every iteration: its loop variable, or a first `name = e;`."""
    init = loop.child_by_field_name("initializer")
    if init is not None and init.type == "assignment_expression":
        left, op = init.child_by_field_name("left"), init.child_by_field_name("operator")
        right = init.child_by_field_name("right")
        if _text(left) == name and _text(op) == "=" and name not in _idents(right):
            return True
    for f in ("initializer", "condition", "update"):
        c = loop.child_by_field_name(f)
        if c is not None and name in _idents(c):
            return False
    body = loop.child_by_field_name("body")
    if body is None or body.type != "compound_statement":
        return False
    for stmt in body.named_children:
        if stmt.type == "comment" or name not in _idents(stmt):
            continue
        if stmt.type != "expression_statement" or not stmt.named_children:
            return False
        e = stmt.named_children[0]
        return (
            e.type == "assignment_expression"
            and _text(e.child_by_field_name("left")) == name
            and _text(e.child_by_field_name("operator")) == "="
            and name not in _idents(e.child_by_field_name("right"))
        )
    return False


def analysis(prog: Program) -> Analysis:
    """The program's Analysis, built once (kept in `prog.cache`)."""
    a = prog.cache.get("deps")
    if a is None:
        a = prog.cache["deps"] = Analysis(prog)
    return a
