"""Which number is the time of a run, and which text is its output.

DESIGN.md section 2: our region timer if the program prints its lines, else
PolyBench's own timer (built with -DPOLYBENCH_TIME), else the whole-process
wall time. The timer's lines are removed from the output that verification
sees, so timing never makes two correct runs differ.

Why `fallback` is said out loud: a program that includes the region header
(or PolyBench's) promises a timer; when a run does not print it, its wall time
includes start-up and output and is not the same quantity. The protocol must
know, to flag it (baseline) or refuse to compare (one side only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from autotune.measure.runner import RunResult

_REGION_RE = re.compile(rb"^@autotune region (\S+) ([0-9.eE+-]+)\s*$", re.M)
_FLOAT_LINE_RE = re.compile(rb"^\s*([0-9]+\.[0-9]+)\s*$")

TIMER_NAMES = {"region": "region timer (@autotune region lines)", "polybench": "PolyBench timer line"}


def timer_name(mode: str) -> str:
    """The timer a timing mode promises, for messages."""
    return TIMER_NAMES.get(mode, f"{mode} timer")


@dataclass(frozen=True)
class Timed:
    seconds: float
    source: str  # region | polybench | wall
    output: str  # what verification compares
    fallback: bool = False  # the expected timer (region or polybench) was missing: wall time stands in

    def missing_timer(self, mode: str) -> str:
        """What was missing, for messages: '' unless this is a fallback."""
        return timer_name(mode) if self.fallback else ""


def extract(result: RunResult, mode: str) -> Timed:
    """Split a finished run into its time and its verifiable output.

    `mode` is the kernel's timing source; for "region" and "polybench" a run
    without that timer falls back to wall time with `fallback=True`.
    """
    stdout, stderr = result.stdout, result.stderr
    if mode == "polybench":
        lines = stdout.rstrip(b"\n").split(b"\n") if stdout.strip() else []
        if lines and _FLOAT_LINE_RE.match(lines[-1]):
            seconds = float(lines[-1])
            rest = b"\n".join(lines[:-1])
            return Timed(seconds, "polybench", _text(rest) + "\n" + _text(stderr))
        return Timed(result.wall, "wall", _text(stdout) + "\n" + _text(stderr), fallback=True)
    regions = _REGION_RE.findall(stderr)
    if regions:
        return Timed(sum(float(s) for _, s in regions), "region", _text(stdout))
    return Timed(result.wall, "wall", _text(stdout), fallback=mode == "region")


def _text(b: bytes) -> str:
    return b.decode("utf-8", "replace")
