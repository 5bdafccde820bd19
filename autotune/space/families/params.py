"""User parameters: `@autotune param NAME v1 v2 ...` in the source, or `--param NAME=v1,v2` on the command line.

Each becomes a `-DNAME=value` define; the program's own `#define` (which must
sit inside `#ifndef NAME`, or -D could not change it) is the default. They
come last in the space, so a name that clashes with a built-in knob is caught.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from autotune.errors import UserError
from autotune.space.families.base import KnobFamily, SpaceDraft, VariantDraft
from autotune.space.knobs import Knob, Value


def as_value(text: str) -> Value:
    """A parameter value as a knob choice: an int where the text is one."""
    t = text.strip()
    return int(t) if re.fullmatch(r"-?\d+", t) else t


class Params(KnobFamily):
    name = "params"

    def closing_knobs(self, space: SpaceDraft) -> Iterator[Knob]:
        kernel, prog = space.kernel, space.prog
        declared = {p.name: (p.values, p.line) for p in prog.params}
        for name, values in kernel.params.items():
            declared[name] = (values, 0)
        for name, (values, line) in declared.items():
            where = f"{kernel.path}:{line}" if line else f"--param {name}"
            if not values:
                raise UserError(
                    f"{where}: parameter {name} has no values; write e.g. `@autotune param {name} 16 32 64`"
                )
            if name in {k.name for k in space.knobs}:
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

    def apply(self, variant: VariantDraft) -> None:
        for k in variant.space.knobs:
            if k.define and variant.config[k.name] != k.default:
                variant.defines.append(f"{k.define}={variant.config[k.name]}")
