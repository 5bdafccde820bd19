"""Every template, in the order generation walks them (the order is part of what makes output reproducible).

Adding a template: a class with `name`, `family`, `summary`, `draw` and `build` (the protocol in
`autotune.kernelgen.base`) in the module of its family under `templates/`, and one entry here.
"""

from __future__ import annotations

from autotune.errors import UserError
from autotune.kernelgen.base import Template
from autotune.kernelgen.templates.dense import Dense
from autotune.kernelgen.templates.elementwise import Map
from autotune.kernelgen.templates.imbalanced import Triangular, VarWork
from autotune.kernelgen.templates.irregular import Csr, Gather
from autotune.kernelgen.templates.layout import Permute
from autotune.kernelgen.templates.reduction import Reduce
from autotune.kernelgen.templates.solver import Sweep
from autotune.kernelgen.templates.stencil import Stencil

TEMPLATES: tuple[Template, ...] = (
    Map(),
    Reduce(),
    Dense(),
    Permute(),
    Stencil(1),
    Stencil(2),
    Stencil(3),
    Gather(),
    Csr(),
    Triangular(),
    VarWork(),
    Sweep(),
)


def get(name: str) -> Template:
    for t in TEMPLATES:
        if t.name == name:
            return t
    raise UserError(f"unknown template {name!r}; choose from: {', '.join(t.name for t in TEMPLATES)}")


def select(names: str | None) -> tuple[Template, ...]:
    """Templates named in a comma-separated list (all when None or empty), in registry order."""
    if not names:
        return TEMPLATES
    wanted = {get(n.strip()).name for n in names.split(",") if n.strip()}
    return tuple(t for t in TEMPLATES if t.name in wanted)
