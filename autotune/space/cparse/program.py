"""What the reader reports about one C file: its loops, defines, declared parameters, functions."""

from __future__ import annotations

from dataclasses import dataclass, field

from autotune.space.cparse.pragmas import Pragma


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
    cache: dict = field(default_factory=dict, repr=False, compare=False)  # derived analyses (deps), per program

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
