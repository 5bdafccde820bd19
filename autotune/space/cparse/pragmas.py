"""One `#pragma` line and its OpenMP clauses.

Why clauses are split by hand: parentheses nest (`reduction(+:s[0:f(n)])`),
and the schedule, private and collapse clauses are what discovery reads and
the variant rewrites.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node

from autotune.space.cparse.tree import node_text

_WS_RE = re.compile(r"^omp\s+(?:target\s+teams\s+distribute\s+)?(?:parallel\s+)?for\b")
_OMP_LOOP_RE = re.compile(r"^omp\s+(?:.*\s)?(?:for|simd|loop|taskloop|distribute|tile|unroll)\b")
SCHEDULE_KINDS = ("static", "dynamic", "guided", "auto")


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


def schedule_of(pragma: Pragma) -> tuple[str | None, str | None]:
    """(kind, chunk text) of a work-sharing directive's schedule clause."""
    for name, arg in split_clauses(pragma.text):
        if name == "schedule":
            parts = [p.strip() for p in arg.split(",", 1)]
            kind = parts[0].split(":")[-1].strip()  # drop modifiers like `monotonic:`
            return kind, (parts[1] if len(parts) > 1 else None)
    return None, None


def pragma_of(node: Node) -> Pragma | None:
    if node.type != "preproc_call":
        return None
    directive = node.child_by_field_name("directive")
    if directive is None or node_text(directive).replace(" ", "") != "#pragma":
        return None
    arg = node.child_by_field_name("argument")
    if arg is None:
        return None
    text = re.sub(r"\\\r?\n", " ", node_text(arg))
    text = re.sub(r"\s+", " ", text).strip()
    return Pragma(node.start_byte, node.end_byte, arg.start_byte, arg.end_byte, text)
