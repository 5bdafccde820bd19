"""User parameters: `@autotune param NAME v1 v2 ...` in the source, or `--param NAME=v1,v2` on the command line.

Each becomes a `-DNAME=value` define; the program's own `#define` (which must
sit inside `#ifndef NAME`, or -D could not change it) is the default. They
come last in the space, so a name that clashes with a built-in knob is caught.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from autotune.errors import UserError
from autotune.space.families.base import KnobFamily, SpaceDraft, VariantDraft
from autotune.space.knobs import Knob, Value

if TYPE_CHECKING:
    from autotune.kernel import Kernel


def as_value(text: str) -> Value:
    """A parameter value as a knob choice: an int where the text is one."""
    t = text.strip()
    return int(t) if re.fullmatch(r"-?\d+", t) else t


def declared_knobs(kernel: Kernel, taken: set[str]) -> Iterator[Knob]:
    """The program's parameters (declared in its source or given with --param) as `-D` knobs.

    `taken`: the names of the knobs before them, which a parameter must not reuse. Shared by C
    programs (the `Params` family) and CUDA programs (`autotune.gpu.cukernel`), which declare
    their block sizes and coarsening factors the same way.
    """
    prog = kernel.program
    declared = {p.name: (p.values, p.line) for p in prog.params}
    for name, values in kernel.params.items():
        declared[name] = (values, 0)
    for name, (values, line) in declared.items():
        where = f"{kernel.path}:{line}" if line else f"--param {name}"
        if not values:
            raise UserError(f"{where}: parameter {name} has no values; write e.g. `@autotune param {name} 16 32 64`")
        if name in taken:
            raise UserError(f"{where}: parameter {name} clashes with a built-in knob; rename it")
        d = prog.defines.get(name)
        if d is not None and not d.guarded:
            raise UserError(
                f"{kernel.path}:{d.line}: parameter {name} is #defined unconditionally, so -D{name} cannot change "
                f"it; wrap it in #ifndef {name} ... #endif"
            )
        vals = tuple(as_value(v) for v in values)
        default = as_value(d.value) if d is not None else vals[0]
        if default not in vals:
            vals = (default, *vals)
        yield Knob(name, "flag", vals, default, f"-D{name}=<value>", site=where, define=name)


class Params(KnobFamily):
    name = "params"

    def closing_knobs(self, space: SpaceDraft) -> Iterator[Knob]:
        yield from declared_knobs(space.kernel, {k.name for k in space.knobs})

    def apply(self, variant: VariantDraft) -> None:
        for k in variant.space.knobs:
            if k.define and variant.config[k.name] != k.default:
                variant.defines.append(f"{k.define}={variant.config[k.name]}")
