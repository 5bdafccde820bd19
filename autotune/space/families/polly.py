"""Polly, LLVM's polyhedral optimiser (clang only): on/off, tiling, tile size, vectorizer, parallelizer.

`polly_parallel` (`-polly-parallel`: Polly runs the loops it proves parallel
with OpenMP) is offered only to programs without OpenMP of their own; it is
one of the ways such a program can run in parallel, so the threads knob
listens to it.
"""

from __future__ import annotations

from collections.abc import Iterator

from autotune.space.families.base import KnobFamily, SpaceDraft, VariantDraft, when
from autotune.space.knobs import Knob, Value

POLLY_TILE: tuple[Value, ...] = ("auto", 16, 32, 64, 128)


class Polly(KnobFamily):
    name = "polly"

    def program_knobs(self, space: SpaceDraft) -> Iterator[Knob]:
        if not space.clang:
            return
        clang = when("compiler", "clang")
        yield Knob("polly", "flag", ("off", "on"), "off", "Polly polyhedral optimiser", (clang,))
        on = when("polly", "on")
        yield Knob("polly_tiling", "flag", ("on", "off"), "on", "-polly-tiling", (clang, on))
        yield Knob(
            "polly_tile_size",
            "flag",
            POLLY_TILE,
            "auto",
            "-polly-default-tile-size",
            (clang, on, when("polly_tiling", "on")),
        )
        yield Knob("polly_vectorizer", "flag", ("none", "stripmine"), "none", "-polly-vectorizer", (clang, on))
        if space.sequential:
            yield Knob(
                "polly_parallel",
                "flag",
                ("off", "on"),
                "off",
                "-polly-parallel: Polly runs the loops it proves parallel with OpenMP",
                (when("compiler", "clang"), when("polly", "on")),
            )
            space.parallel_on.append(when("polly_parallel", "on"))

    def apply(self, variant: VariantDraft) -> None:
        config = variant.config
        if variant.compiler != "clang" or config.get("polly") != "on":
            return
        flags = ["-mllvm", "-polly"]
        if config.get("polly_tiling") == "off":
            flags += ["-mllvm", "-polly-tiling=false"]
        elif config.get("polly_tile_size", "auto") != "auto":
            flags += ["-mllvm", f"-polly-default-tile-size={config['polly_tile_size']}"]
        if config.get("polly_vectorizer") == "stripmine":
            flags += ["-mllvm", "-polly-vectorizer=stripmine"]
        if config.get("polly_parallel") == "on":
            flags += ["-mllvm", "-polly-parallel"]
        variant.flags += flags
