"""The search space: knobs, their choices and the constraints between them, and how they are found.

Modules, one job each: `knobs` (Space, Knob, Condition, AnyOf: what a space is), `cparse` (the C
reader: loops, OpenMP directives, declared parameters, timing markers), `deps` (may a sequential
loop run in parallel, be interchanged or reversed), `loopplan` (which loops get those knobs),
`families` (one module per kind of knob: what it discovers and how a chosen value is applied, and
the registry that orders them), `discover` (a kernel's space, asked of the families in order).

Why `discover` and `families` are not imported here: they read kernels, and `autotune.kernel` reads
C through `cparse`; importing them with the package would make every `from autotune.space import
Space` load the whole discovery chain. `from autotune import build_space` is the public way.
"""

from autotune.space.knobs import AnyOf, Condition, Config, InvalidConfig, Knob, KnobKind, Requirement, Space, Value

__all__ = ["AnyOf", "Condition", "Config", "InvalidConfig", "Knob", "KnobKind", "Requirement", "Space", "Value"]
