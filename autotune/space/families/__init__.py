"""Knob families: one module per kind of knob, holding what it finds in a program and how a chosen value is applied.

To add a kind of knob, write one module here with a `KnobFamily` subclass
(`base.py` says what each hook does: `program_knobs`, `loop_knobs`,
`closing_knobs`, `apply`) and list an instance of it in `FAMILIES`. A new pragma
that must stand in a fixed order among ours gets a rank in `base.py`.

Why this order: it is the order of the knobs in every space, and a knob's
conditions may only name knobs listed before it. The compiler comes first
(clang-only knobs depend on it); Polly and the loop-order knobs before the
thread count (which listens to their parallelization switches); within one
loop, the schedule, then the loop's own order (`reorder`), then tile and
hints (which are conditioned on it); user parameters last. Changing the order
changes every space and every stored trial's knob order: do not.
"""

from autotune.space.families.base import KnobFamily, LoopEdit, SpaceDraft, VariantDraft
from autotune.space.families.compiler import CompilerFlags
from autotune.space.families.hints import LoopHints
from autotune.space.families.params import Params
from autotune.space.families.polly import Polly
from autotune.space.families.reorder import Reorder
from autotune.space.families.schedule import Schedule
from autotune.space.families.threads import Threads
from autotune.space.families.tile import Tile

FAMILIES: tuple[KnobFamily, ...] = (
    CompilerFlags(),
    Polly(),
    Schedule(),
    Reorder(),
    Threads(),
    Tile(),
    LoopHints(),
    Params(),
)

__all__ = ["FAMILIES", "KnobFamily", "LoopEdit", "SpaceDraft", "VariantDraft"]
