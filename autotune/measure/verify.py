"""Compare a candidate's output with the untransformed program's.

Why tolerant numbers but exact text: a legal transformation may reorder a
floating-point reduction (vectorisation, another thread count) and change the
last digits, but it must never change what is printed around the numbers.
Every number is compared with |a - b| <= rtol * max(|a|, |b|) + atol.

Why one unit in the last printed digit is forgiven, in a few numbers: a program
that prints with few decimals (PolyBench dumps arrays with `%0.2lf`) turns a
reordering that moves a value by 1e-15 across a rounding boundary into a
difference of 0.01, far beyond any relative tolerance. Such rounding flips are
rare and isolated: a value must sit within a hair of the boundary. So a
decimal (not an integer: a printed integer is exact) may differ by exactly one
unit of its last printed digit in at most `MAX_FLIPS_SHARE` of the numbers; a
systematic error moves many numbers and is still caught, and an output of
fewer than 100 numbers (a checksum or two) gets no such leniency: one flip
there is as likely a real error (pass a larger `rtol` when it is not).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

MAX_FLIPS_SHARE = 0.01  # of the numbers printed, that may differ by a rounding flip
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


def last_digit_unit(number: str) -> float | None:
    """The value of one unit in the last printed digit of a decimal ("12.34" -> 0.01), None for an integer."""
    mantissa, _, exponent = number.lower().partition("e")
    if "." not in mantissa and not exponent:
        return None
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (int(exponent or 0) - decimals)


def _rounding_flip(sa: str, sb: str, diff: float) -> bool:
    """Do two printed decimals differ by exactly one unit of their last printed digit?"""
    units = [u for u in (last_digit_unit(sa), last_digit_unit(sb)) if u is not None]
    return len(units) == 2 and units[0] == units[1] and abs(diff - units[0]) <= 1e-9 * max(units[0], diff)


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
    flips: list[int] = []
    allowed = int(MAX_FLIPS_SHARE * len(ref_nums))
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
            if _rounding_flip(sa, sb, diff) and len(flips) < allowed:
                flips.append(i)
                continue
            rel = diff / max(abs(a), abs(b), 1e-300)
            more = f"; {len(flips)} rounding flips already, at most {allowed} forgiven" if flips else ""
            return Verdict(
                False, f"number {i}: expected {sa}, got {sb} (relative difference {rel:.2g} > {rtol:g}){more}"
            )
        worst = max(worst, diff / max(abs(a), abs(b), 1e-300))
    said = f"max relative difference {worst:.2g}" if worst else "identical"
    if flips:
        said += f"; {len(flips)} of {len(ref_nums)} numbers differ by one unit in their last printed digit (rounding)"
    return Verdict(True, said)
