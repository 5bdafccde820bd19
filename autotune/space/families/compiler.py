"""The compiler, the optimisation level and `-march=native`.

The compiler knob comes first in every space: clang-only knobs of the other
families (Polly, loop hints, tiles, loop order) are conditioned on it.
"""

from __future__ import annotations

from collections.abc import Iterator

from autotune.space.families.base import KnobFamily, SpaceDraft, VariantDraft
from autotune.space.knobs import Knob, Value

OPT_LEVELS: tuple[Value, ...] = ("O1", "O2", "O3", "Ofast")
BASELINE_OPT = "O3"


class CompilerFlags(KnobFamily):
    name = "compiler"

    def program_knobs(self, space: SpaceDraft) -> Iterator[Knob]:
        names = tuple(space.compilers) or ("clang",)
        yield Knob("compiler", "flag", names, names[0], "C compiler (clang-22 with libomp, or gcc with libgomp)")
        yield Knob("opt", "flag", OPT_LEVELS, BASELINE_OPT, "optimisation level; Ofast relaxes IEEE semantics")
        yield Knob("march_native", "flag", ("off", "on"), "off", "-march=native")

    def apply(self, variant: VariantDraft) -> None:
        config = variant.config
        variant.flags += [f"-{config.get('opt', BASELINE_OPT)}", "-fopenmp"]
        if config.get("march_native") == "on":
            variant.flags.append("-march=native")
