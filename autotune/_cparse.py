"""Find the tunable sites of a C program with a real parser (tree-sitter-c).

Why a parser and not regexes: loops nest, pragmas come in chains, bodies may
or may not have braces, and comments or strings can contain anything that
looks like code. tree-sitter keeps pragmas as `preproc_call` nodes next to the
statements they precede, which is exactly what we need to rewrite them.

This module only reads: it reports loops, OpenMP work-sharing directives,
perfect nests, declared parameters and timing hints. `variant.py` writes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import tree_sitter_c
from tree_sitter import Language, Node, Parser

_PRAGMA_RE = re.compile(rb"^\s*#\s*pragma\s+(.*)$", re.S)
_WS_RE = re.compile(r"^omp\s+(?:target\s+teams\s+distribute\s+)?(?:parallel\s+)?for\b")
_OMP_LOOP_RE = re.compile(r"^omp\s+(?:.*\s)?(?:for|simd|loop|taskloop|distribute|tile|unroll)\b")
_PARAM_RE = re.compile(r"@autotune\s+param\s+([A-Za-z_]\w*)\s*(?:=|:)?\s*(.+)")
SCHEDULE_KINDS = ("static", "dynamic", "guided", "auto")


@lru_cache(maxsize=1)
def _parser() -> Parser:
    return Parser(Language(tree_sitter_c.language()))


@dataclass(frozen=True)
class Pragma:
    """One `#pragma` line (continuations included) directly before a loop."""

    start: int  # byte offsets of the whole directive in the source
    end: int
    arg_start: int  # byte offsets of the text after `#pragma`
    arg_end: int
    text: str  # the text after `#pragma`, continuations joined

    @property
    def is_omp_worksharing(self) -> bool:
        return bool(_WS_RE.match(self.text))

    @property
    def is_omp_loop(self) -> bool:
        return bool(_OMP_LOOP_RE.match(self.text))

    @property
    def is_loop_hint(self) -> bool:
        t = self.text
        return t.startswith(("clang loop", "GCC unroll", "GCC ivdep", "unroll", "nounroll", "ivdep", "omp simd"))

    def clauses(self) -> dict[str, str]:
        """The clauses of an OpenMP directive, name -> argument text ('' if none)."""
        return dict(split_clauses(self.text))


def split_clauses(text: str) -> list[tuple[str, str]]:
    """Split `omp parallel for private(a) schedule(dynamic, N/4)` into clauses.

    Parentheses nest (`reduction(+:s[0:f(n)])`), so this walks characters
    instead of matching a regular expression.
    """
    out: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] in " \t\n\\,":
            i += 1
            continue
        j = i
        while j < n and (text[j].isalnum() or text[j] in "_"):
            j += 1
        name = text[i:j]
        if not name:  # stray character: skip it
            i += 1
            continue
        k = j
        while k < n and text[k] in " \t":
            k += 1
        arg = ""
        if k < n and text[k] == "(":
            depth, m = 0, k
            while m < n:
                if text[m] == "(":
                    depth += 1
                elif text[m] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                m += 1
            arg = text[k + 1 : m]
            j = m + 1
        out.append((name, arg))
        i = j
    return out


@dataclass
class Loop:
    """One `for` statement and what we know about it."""

    index: int  # source order within the file, 0-based
    function: str
    line: int  # 1-based line of the `for` keyword
    start: int  # byte offsets of the for statement
    end: int
    line_start: int  # byte offset of the start of the `for` line
    inline: bool  # something other than whitespace precedes `for` on its line
    indent: str
    pragmas: list[Pragma]
    var: str | None  # loop variable if the loop is in canonical form
    bounds_text: str  # text of init, condition and update, for rectangularity checks
    canonical: bool
    declares_var: bool  # `for (int i = ...)`: the variable is private to the loop
    has_break: bool  # a break/return/goto that leaves this loop
    parent: int | None = None
    in_region: bool = True  # inside the timed region, or called from it
    children: list[int] = field(default_factory=list)
    body_loop: int | None = None  # the only statement of the body, if it is a loop

    @property
    def name(self) -> str:
        return f"L{self.index}"

    @property
    def innermost(self) -> bool:
        return not self.children

    @property
    def worksharing(self) -> Pragma | None:
        for p in self.pragmas:
            if p.is_omp_worksharing:
                return p
        return None

    @property
    def has_loop_hint(self) -> bool:
        return any(p.is_loop_hint for p in self.pragmas)

    @property
    def has_omp_loop_transform(self) -> bool:
        """Another OpenMP loop directive (simd, tile, taskloop...) already owns it."""
        return any(p.is_omp_loop and not p.is_omp_worksharing for p in self.pragmas)


@dataclass(frozen=True)
class Define:
    name: str
    value: str
    line: int
    guarded: bool  # inside `#ifndef NAME`, so -DNAME overrides it


@dataclass(frozen=True)
class ParamDecl:
    name: str
    values: tuple[str, ...]
    line: int


@dataclass
class Program:
    """What the parser found in one C source file."""

    source: bytes
    loops: list[Loop]
    defines: dict[str, Define]
    params: list[ParamDecl]
    functions: list[str]
    has_main: bool
    includes: list[str]
    error_lines: list[int]
    timed_region: bool = False  # region markers found: loops outside it are not tuned
    openmp: list[tuple[str, int]] = field(default_factory=list)  # (function, line) of each omp pragma / omp_* call
    cache: dict = field(default_factory=dict, repr=False, compare=False)  # derived analyses (deps.py), per program

    @property
    def uses_openmp(self) -> bool:
        """An `omp` pragma or an `omp_*` call anywhere in the file (even under `#ifdef _OPENMP`)."""
        return bool(self.openmp)

    def nest_depth(self, loop: Loop) -> int:
        """Depth of the perfect nest rooted at `loop` (1 if not a nest)."""
        depth = 1
        cur = loop
        while cur.body_loop is not None:
            inner = self.loops[cur.body_loop]
            if inner.pragmas:
                break
            depth += 1
            cur = inner
        return depth

    def nest(self, loop: Loop, depth: int) -> list[Loop]:
        out = [loop]
        while len(out) < depth:
            out.append(self.loops[out[-1].body_loop])  # type: ignore[index]
        return out


def _text(node: Node) -> str:
    return node.text.decode("utf-8", "replace") if node.text is not None else ""


def _pragma_of(node: Node) -> Pragma | None:
    if node.type != "preproc_call":
        return None
    directive = node.child_by_field_name("directive")
    if directive is None or _text(directive).replace(" ", "") != "#pragma":
        return None
    arg = node.child_by_field_name("argument")
    if arg is None:
        return None
    text = re.sub(r"\\\r?\n", " ", _text(arg))
    text = re.sub(r"\s+", " ", text).strip()
    return Pragma(node.start_byte, node.end_byte, arg.start_byte, arg.end_byte, text)


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
        p = _pragma_of(prev)
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
            var = _text(d) if d is not None and d.type == "identifier" else None
    elif init.type == "assignment_expression":
        left = init.child_by_field_name("left")
        op = init.child_by_field_name("operator")
        if left is not None and left.type == "identifier" and op is not None and _text(op) == "=":
            var = _text(left)
    if var is None:
        return None, False
    ok_cond = (
        cond.type == "binary_expression"
        and _text(cond.child_by_field_name("operator")) in ("<", "<=", ">", ">=", "!=")
        and var in (_text(cond.child_by_field_name("left")), _text(cond.child_by_field_name("right")))
    )
    ok_upd = False
    if upd.type == "update_expression":
        ok_upd = _text(upd.child_by_field_name("argument")) == var
    elif upd.type == "assignment_expression":
        ok_upd = _text(upd.child_by_field_name("left")) == var and _text(upd.child_by_field_name("operator")) in (
            "+=",
            "-=",
            "=",
        )
    return var, ok_cond and ok_upd


def _function_name(node: Node) -> str:
    decl = node.child_by_field_name("declarator")
    while decl is not None and decl.type != "function_declarator":
        decl = decl.child_by_field_name("declarator")
    if decl is None:
        return "?"
    name = decl.child_by_field_name("declarator")
    return _text(name) if name is not None else "?"


def parse(source: bytes) -> Program:
    """Parse a C source file and collect its tunable sites."""
    tree = _parser().parse(source)
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
            func = _function_name(node)
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
                bounds_text=" ".join(_text(h) for h in hdr if h is not None),
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
                while sib is not None and (sib.type == "comment" or _pragma_of(sib) is not None):
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

    defines, params, includes = _scan_preprocessor(root, source)
    timed = _mark_region(root, loops, node_index)
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


def _is_openmp(node: Node) -> bool:
    """An OpenMP directive or a call into the OpenMP runtime (`omp_get_wtime()`, `omp_set_num_threads(n)`)."""
    if node.type == "preproc_call":
        p = _pragma_of(node)
        return p is not None and (p.text == "omp" or p.text.startswith("omp "))
    if node.type == "call_expression":
        f = node.child_by_field_name("function")
        return f is not None and f.type == "identifier" and _text(f).startswith("omp_")
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


def _scan_preprocessor(root: Node, source: bytes) -> tuple[dict[str, Define], list[ParamDecl], list[str]]:
    defines: dict[str, Define] = {}
    params: list[ParamDecl] = []
    includes: list[str] = []
    stack: list[tuple[Node, frozenset[str]]] = [(root, frozenset())]
    while stack:
        n, guards = stack.pop()
        if n.type == "preproc_def":
            name = _text(n.child_by_field_name("name"))
            val = n.child_by_field_name("value")
            if name not in defines:
                defines[name] = Define(
                    name, _text(val).strip() if val is not None else "", n.start_point[0] + 1, name in guards
                )
        elif n.type == "preproc_include":
            path = n.child_by_field_name("path")
            if path is not None:
                includes.append(_text(path).strip('<>"'))
        elif n.type == "comment":
            for i, line in enumerate(_text(n).splitlines()):
                m = _PARAM_RE.search(line)
                if m:
                    raw = m.group(1), m.group(2).strip().rstrip("*/").strip()
                    values = tuple(v for v in re.split(r"[\s,]+", raw[1]) if v)
                    params.append(ParamDecl(raw[0], values, n.start_point[0] + 1 + i))
        inner = guards
        if n.type == "preproc_ifdef" and _text(n.children[0]).replace(" ", "") == "#ifndef":
            nm = n.child_by_field_name("name")
            if nm is not None:
                inner = guards | {_text(nm)}
        for c in reversed(n.children):
            stack.append((c, inner))
    params.sort(key=lambda p: p.line)
    return defines, params, includes


def schedule_of(pragma: Pragma) -> tuple[str | None, str | None]:
    """(kind, chunk text) of a work-sharing directive's schedule clause."""
    for name, arg in split_clauses(pragma.text):
        if name == "schedule":
            parts = [p.strip() for p in arg.split(",", 1)]
            kind = parts[0].split(":")[-1].strip()  # drop modifiers like `monotonic:`
            return kind, (parts[1] if len(parts) > 1 else None)
    return None, None


_REGION_BEGIN = ("AUTOTUNE_REGION_BEGIN", "polybench_start_instruments")
_REGION_END = ("AUTOTUNE_REGION_END", "polybench_stop_instruments")


def _marker(stmt: Node) -> str | None:
    """The region-marker name a statement starts with, if any."""
    if stmt.type != "expression_statement" or not stmt.named_children:
        return None
    e = stmt.named_children[0]
    if e.type == "call_expression":
        e = e.child_by_field_name("function")
    name = _text(e) if e is not None and e.type == "identifier" else ""
    return name if name in _REGION_BEGIN + _REGION_END else None


def _mark_region(root: Node, loops: list[Loop], node_index: dict[int, int]) -> bool:
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
            functions[_function_name(n)] = n
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
            name = _text(f) if f is not None else ""
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
