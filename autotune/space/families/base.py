"""What a knob family is: how it finds its knobs in a program, and how it applies the values a config chose.

Why one small protocol: a kind of knob (OpenMP schedules, loop hints, tiles,
Polly...) is one decision with two halves that must agree, the knobs offered
and the edit each value makes. Keeping both halves in one module means a new
kind of knob is one new module here plus one line in the registry
(`autotune.space.families.FAMILIES`).

Order, the one thing families share. A space lists every family's
whole-program knobs (families in registry order), then, for each loop of the
timed region in source order, every family's knobs of that loop, then the
closing knobs (user parameters). A knob's conditions may only name knobs
listed before it (`Space` checks this), which is what fixes the registry
order. Applying a config, each family writes into a `VariantDraft`; the
order in which the edits of several families at one loop are written out is
fixed here, by rank (`PARALLEL`...`HINT`, `PRIVATISE`, `RUNTIME_SCHEDULE`),
and rendered by `autotune.variant.make_variant`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from autotune.space.knobs import Condition, Config, Knob, Space, Value

if TYPE_CHECKING:
    from autotune.kernel import Kernel
    from autotune.space.cparse import Loop, Program
    from autotune.space.loopplan import LoopPlan

# Pragmas we insert before one `for`, in the one order clang accepts when several apply (each
# applies to the loop that results from the ones after it): `omp parallel for`, then the loop
# order (`omp interchange` / `omp reverse`), then `omp tile`, then the `clang loop` / `GCC unroll` hint.
PARALLEL, ORDER, TILE, HINT = range(4)
# Rewrites of a loop's work-sharing directive, in order: add private variables, then re-spell it with
# `schedule(monotonic: runtime)` (which re-spells every clause, the added private one included).
PRIVATISE, RUNTIME_SCHEDULE = range(2)


def when(knob: str, *values: Value) -> Condition:
    """The condition "`knob` takes one of `values`"."""
    return Condition(knob, frozenset(values))


def site_of(loop: Loop) -> str:
    """Where a loop knob sits, as `autotune space` prints it: function:line."""
    return f"{loop.function}:{loop.line}"


@dataclass
class SpaceDraft:
    """A space being built: what every family reads, and the knobs and notes so far."""

    kernel: Kernel
    cores: int
    compilers: dict[str, str]  # name -> path of each usable compiler
    sequential: bool  # the program has no OpenMP of its own
    plan: LoopPlan  # the loops that get parallel / interchange / reverse knobs
    knobs: list[Knob] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # every way the program can run in parallel (a sequential program's thread count matters when one holds)
    parallel_on: list[Condition] = field(default_factory=list)

    @property
    def prog(self) -> Program:
        return self.kernel.program

    @property
    def clang(self) -> bool:
        return "clang" in self.compilers

    @property
    def clang_only(self) -> tuple[Condition, ...]:
        """The condition for a clang-only knob (none when clang is the only compiler there could be)."""
        return (when("compiler", "clang"),) if self.clang else ()


@dataclass
class LoopEdit:
    """What the families ask for at one loop; `make_variant` writes it out in rank order."""

    pragmas: list[tuple[int, str]] = field(default_factory=list)  # (rank, text after `#pragma`)
    directive: list[tuple[int, Callable[[str], str]]] = field(default_factory=list)  # (rank, rewrite)
    edits: list[tuple[int, int, str]] = field(default_factory=list)  # other edits: (start, end, replacement)
    env: dict[str, str] = field(default_factory=dict)

    def pragma(self, rank: int, text: str) -> None:
        """Insert `#pragma text` right before the loop's `for`, after any pragma already there."""
        self.pragmas.append((rank, text))

    def rewrite_directive(self, rank: int, rewrite: Callable[[str], str]) -> None:
        """Rewrite the text of the loop's work-sharing directive (ignored if it has none)."""
        self.directive.append((rank, rewrite))


@dataclass
class VariantDraft:
    """A configuration being applied: each family adds its flags, defines, environment and source edits."""

    kernel: Kernel
    space: Space
    config: Config  # canonical
    flags: list[str] = field(default_factory=list)  # before the kernel's own flags, in registry order
    defines: list[str] = field(default_factory=list)  # NAME=VALUE, after the kernel's own
    env: dict[str, str] = field(default_factory=dict)  # program-wide; each loop's env follows, in source order
    prelude: list[str] = field(default_factory=list)  # C text put before the program when its source is edited
    loops: dict[int, LoopEdit] = field(default_factory=dict)

    @property
    def prog(self) -> Program:
        return self.kernel.program

    @property
    def compiler(self) -> str:
        return str(self.config.get("compiler", "clang"))

    def at(self, loop: Loop) -> LoopEdit:
        """The edit of one loop (created on first use)."""
        return self.loops.setdefault(loop.index, LoopEdit())


class KnobFamily:
    """One kind of knob. Override what the family needs; every hook does nothing by default.

    The `*_knobs` hooks yield knobs in the order the space lists them; they may
    also add notes (`space.notes`) or a parallelization switch
    (`space.parallel_on`). `apply` reads `variant.config` and writes the
    family's part of the variant.
    """

    name: ClassVar[str] = ""

    def program_knobs(self, space: SpaceDraft) -> Iterable[Knob]:
        """Whole-program knobs, listed before every loop's."""
        return ()

    def loop_knobs(self, space: SpaceDraft, loop: Loop) -> Iterable[Knob]:
        """The knobs of one loop of the timed region."""
        return ()

    def closing_knobs(self, space: SpaceDraft) -> Iterable[Knob]:
        """Knobs listed after every loop's (user parameters, whose names must not clash with any built-in knob)."""
        return ()

    def apply(self, variant: VariantDraft) -> None:
        """Write this family's part of `variant.config` into the variant."""
