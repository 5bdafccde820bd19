"""Compare a candidate's output with the untransformed program's.

Why tolerant numbers but exact text: a legal transformation may reorder a
floating-point reduction (vectorisation, another thread count) and change the
last digits, but it must never change what is printed around the numbers.
Every number is compared with |a - b| <= rtol * max(|a|, |b|) + atol.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_NUM = re.compile(r"[-+]?(?:(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|nan|inf(?:inity)?)", re.I)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str = ""


def _pieces(text: str) -> tuple[list[str], list[str]]:
    """(text between numbers, numbers), whitespace runs collapsed."""
    norm = " ".join(text.split())
    nums = _NUM.findall(norm)
    words = _NUM.split(norm)
    return words, nums


def compare(reference: str, output: str, rtol: float = 1e-6, atol: float = 0.0) -> Verdict:
    ref_words, ref_nums = _pieces(reference)
    out_words, out_nums = _pieces(output)
    if not output.strip() and reference.strip():
        return Verdict(False, "printed nothing")
    if len(ref_nums) != len(out_nums) or ref_words != out_words:
        for i, (a, b) in enumerate(zip(ref_words, out_words, strict=False)):
            if a != b:
                return Verdict(
                    False, f"text differs near number {i}: expected {a.strip()[:40]!r}, got {b.strip()[:40]!r}"
                )
        return Verdict(False, f"output has {len(out_nums)} numbers, expected {len(ref_nums)}")
    worst = 0.0
    for i, (sa, sb) in enumerate(zip(ref_nums, out_nums, strict=True)):
        if sa == sb:
            continue
        a, b = float(sa), float(sb)
        if math.isnan(a) and math.isnan(b):
            continue
        if math.isnan(a) or math.isnan(b) or math.isinf(a) or math.isinf(b):
            if a != b:
                return Verdict(False, f"number {i}: expected {sa}, got {sb}")
            continue
        diff = abs(a - b)
        if diff > rtol * max(abs(a), abs(b)) + atol:
            rel = diff / max(abs(a), abs(b), 1e-300)
            return Verdict(False, f"number {i}: expected {sa}, got {sb} (relative difference {rel:.2g} > {rtol:g})")
        worst = max(worst, diff / max(abs(a), abs(b), 1e-300))
    return Verdict(True, f"max relative difference {worst:.2g}" if worst else "identical")
