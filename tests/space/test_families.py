"""The knob-family protocol: a family listed in the registry gets its knobs into the space and its edits into
the variant, with nothing else to touch."""

from __future__ import annotations

from autotune.kernel import Kernel
from autotune.space import Knob, families
from autotune.space.discover import build_space
from autotune.space.families import FAMILIES, KnobFamily
from autotune.space.families.base import HINT, site_of
from autotune.space.families.hints import hint_site
from autotune.variant import make_variant
from tests.conftest import DATA


class Simd(KnobFamily):
    """What a newcomer writes: `#pragma omp simd` on the loops that take hints."""

    name = "simd"

    def loop_knobs(self, space, loop):
        if hint_site(space.prog, loop):
            yield Knob(f"{loop.name}.simd", "source", ("off", "on"), "off", "#pragma omp simd", site=site_of(loop))

    def apply(self, variant):
        for loop in variant.prog.loops:
            if variant.config.get(f"{loop.name}.simd") == "on":
                variant.at(loop).pragma(HINT, "omp simd")


def test_a_new_family_is_one_registry_entry(monkeypatch):
    k = Kernel.load(DATA / "tricky.c")
    before = build_space(k, cores=2)
    monkeypatch.setattr(families, "FAMILIES", (*FAMILIES, Simd()))
    sp = build_space(k, cores=2)
    names = [kn.name for kn in sp]
    # its knobs close each loop's section; every other knob stays where it was
    assert [n for n in names if not n.endswith(".simd")] == [kn.name for kn in before]
    assert names[names.index("L6.interleave") + 1] == "L6.simd"
    assert names.index("L6.simd") < names.index("L7.schedule")
    assert make_variant(k, sp, sp.default()).source is None
    text = make_variant(k, sp, sp.parse_assignments(["L6.simd=on", "L6.unroll=4"])).source.decode()
    # one rank with the loop hint: after it, in registry order
    assert "#pragma clang loop unroll_count(4)\n            #pragma omp simd\n            for" in text


def test_registry_lists_each_family_once_in_a_fixed_order():
    assert [f.name for f in FAMILIES] == [
        "compiler",
        "polly",
        "schedule",
        "reorder",
        "threads",
        "tile",
        "hints",
        "params",
    ]
