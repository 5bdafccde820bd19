"""Loop pragmas put into C text: a small lexer that finds innermost `for` loops.

Why a text transform and not a compiler pass: the corpus needs the IR clang writes for a source
that carries the pragma, as a user's kernel would. The lexer knows comments, string and character
literals and bracket nesting, nothing more; a recipe whose pragma'd text does not compile is just
dropped from the corpus.
"""

from __future__ import annotations

import re

_FOR_LINE = re.compile(r"^([ \t]*)for\s*\(", re.M)
_FOR_ANY = re.compile(r"\bfor\s*\(")


def _comment_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in re.finditer(r"/\*.*?\*/|//[^\n]*", text, re.S):
        spans.append((m.start(), m.end()))
    return spans


def _skip_literal(text: str, i: int) -> int:
    quote = text[i]
    j = i + 1
    while j < len(text) and text[j] != quote:
        j += 2 if text[j] == "\\" else 1
    return j + 1


def _match_close(text: str, i: int) -> int:
    """Index just past the bracket that closes the one at `i`, or -1."""
    depth = 0
    j = i
    n = len(text)
    while j < n:
        c = text[j]
        if c in "\"'":
            j = _skip_literal(text, j)
            continue
        if text.startswith("/*", j):
            k = text.find("*/", j + 2)
            j = n if k < 0 else k + 2
            continue
        if text.startswith("//", j):
            k = text.find("\n", j)
            j = n if k < 0 else k
            continue
        if c in "({[":
            depth += 1
        elif c in ")}]":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return -1


def _statement_end(text: str, i: int) -> int:
    """End of the statement starting at `i`: a `{...}` block, or up to `;` outside brackets.

    For an unbraced `if` with a braced branch this may run into the next
    statement; that only makes a loop look non-innermost, which is the safe side.
    """
    n = len(text)
    while i < n and text[i].isspace():
        i += 1
    if i < n and text[i] == "{":
        return _match_close(text, i)
    depth = 0
    j = i
    while j < n:
        c = text[j]
        if c in "\"'":
            j = _skip_literal(text, j)
            continue
        if c in "({[":
            depth += 1
        elif c in ")}]":
            depth -= 1
            if depth < 0:
                return j
        elif c == ";" and depth == 0:
            return j + 1
        j += 1
    return -1


def insert_loop_pragmas(text: str, pragma: str) -> tuple[str, int]:
    """Put `#pragma <pragma>` on its own line before every innermost `for` loop.

    Innermost: a line that starts with `for (` and whose body holds no other
    `for`. Lines in comments or macro continuations are left alone. Returns the
    new text and the number of pragmas inserted (0: nothing to vary).
    """
    comments = _comment_spans(text)

    def in_comment(pos: int) -> bool:
        return any(a <= pos < b for a, b in comments)

    inserts: list[tuple[int, str]] = []
    for m in _FOR_LINE.finditer(text):
        start = m.start()
        if in_comment(m.start(0) + len(m.group(1))):
            continue
        prev = text[:start].rstrip("\n").rsplit("\n", 1)[-1]
        if prev.rstrip().endswith("\\"):
            continue
        head_end = _match_close(text, m.end() - 1)
        if head_end < 0:
            continue
        body_end = _statement_end(text, head_end)
        if body_end < 0:
            continue
        body = text[head_end:body_end]
        if _FOR_ANY.search(body):
            continue
        inserts.append((start, f"{m.group(1)}#pragma {pragma}\n"))
    for pos, line in reversed(inserts):
        text = text[:pos] + line + text[pos:]
    return text, len(inserts)
