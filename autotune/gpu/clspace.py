"""An OpenCL kernel's search space, and its configurations applied (variants).

Knobs, each legal by construction on the device that will run it (`autotune.gpu.device`):
* `cf`: thread coarsening factor (1, 2, 4 ... 32, dividing the global size in the coarsened
  dimension), where the kernel can be coarsened (`coarsen.refusal` says why not, in the notes);
  `cf_mode`: block or stride (which original work items one work item stands for), when cf > 1.
* `wg` (or `wg.cf<c>`, one per factor, active when cf = c; none where the description says
  `tune_local = false`): the work-group size, `auto` (the
  runtime's choice) or a shape of powers of two that divides the launched global size in every
  dimension, within the device's per-dimension limits and its work-group limit, and whose
  `__local` arguments fit its local memory. One knob per factor because the launched size
  depends on the factor: conditions keep every offered shape legal, so none is ever rejected.
* `L<n>.unroll`: `#pragma unroll N` on the kernel's n-th innermost `for` loop (auto: no pragma).
* the sizes the description tunes (`tune = { VW = [1, 2, 4, 8] }`: a vector width, a tile), one
  knob each, passed to the kernel as -D and to the launch's size expressions. A factor or
  work-group shape is offered only where it is legal at every tuned value, so no combination of
  knobs is ever rejected.
* `cl_math`: the build's floating-point options (`-cl-mad-enable`, `-cl-fast-relaxed-math`);
  verification against the untransformed kernel decides whether their results are close enough.

The default configuration is the kernel as described: no coarsening, its own work-group size
(or the runtime's), no pragma, no extra option.
"""

from __future__ import annotations

import itertools

from autotune.gpu import coarsen, program
from autotune.gpu.clsource import Function, innermost_loops, kernels
from autotune.gpu.describe import Description, group_names
from autotune.gpu.device import Device
from autotune.kernel import Kernel
from autotune.space.knobs import Condition, Config, Knob, Space
from autotune.variant import DeviceCode, Variant

FACTORS = (1, 2, 4, 8, 16, 32)
UNROLL = ("auto", 1, 2, 4, 8, 16)
MATH = {"default": "", "mad": "-cl-mad-enable", "fast": "-cl-fast-relaxed-math"}
AUTO = "auto"


def build_space(kernel: Kernel, device: Device) -> Space:
    desc, fn = _described(kernel)
    glob = desc.global_dims()
    dim = desc.coarsen_dim
    knobs: list[Knob] = []
    notes = [f"device: {device.describe()}; work-groups up to {device.max_work_group_size} work items"]
    why = coarsen.refusal(kernel.text, fn)
    if why is None and not desc.tune_local:
        why = "its work-group size is fixed (tune_local = false), and a smaller launch would regroup it"
    tunings = desc.tunings()
    launches = [t.global_dims() for t in tunings]
    factors = [f for f in FACTORS if all(g[dim] % f == 0 for g in launches)] if why is None else [1]
    if why is not None:
        notes.append(f"no thread coarsening for {fn.name}: {why}")
    if not desc.tune_local:
        kept = _shape_name(desc.local_dims() or ())
        notes.append(f"work-group size {kept} kept: the description says tune_local = false")
    site = f"{fn.name}:{fn.line}"
    if len(factors) > 1:
        knobs.append(Knob("cf", "source", tuple(factors), 1, "thread coarsening factor", site=site))
        knobs.append(
            Knob(
                "cf_mode",
                "source",
                coarsen.MODES,
                "block",
                "which work items one coarsened work item does: consecutive (block) or a global size apart (stride)",
                conditions=(Condition("cf", frozenset(factors[1:])),),
                site=site,
            )
        )
    for name, choices in desc.tune.items():
        knobs.append(
            Knob(name, "source", choices, desc.sizes[name], f"a size the description tunes (-D{name})", site=site)
        )
    given = desc.local_dims()
    for f in factors if desc.tune_local else []:
        legal = [set(work_group_shapes(t, device, coarsen.launch_global(t.global_dims(), f, dim))) for t in tunings]
        shapes = [
            s
            for s in work_group_shapes(desc, device, coarsen.launch_global(glob, f, dim))
            if all(s in x for x in legal)
        ]
        default = _shape_name(given) if f == 1 and given is not None else AUTO
        if default not in shapes:
            shapes = [default, *shapes]  # the kernel as given is the baseline, whatever the device prefers
        name = f"wg.cf{f}" if len(factors) > 1 else "wg"
        cond = (Condition("cf", frozenset([f])),) if len(factors) > 1 else ()
        knobs.append(Knob(name, "source", tuple(shapes), default, "work-group size", conditions=cond, site=site))
    for i, loop in enumerate(innermost_loops(kernel.text, fn)):
        knobs.append(Knob(f"L{i}.unroll", "source", UNROLL, "auto", "#pragma unroll", site=f"{fn.name}:{loop.line}"))
    knobs.append(Knob("cl_math", "flag", tuple(MATH), "default", "floating-point build options"))
    return Space(knobs, notes)


def work_group_shapes(desc: Description, device: Device, launched: tuple[int, ...]) -> list[str]:
    """`auto` and every power-of-two shape that divides `launched` and the device accepts."""
    per_dim = []
    for d, n in enumerate(launched):
        limit = min(n, device.max_work_item_sizes[d] if d < len(device.max_work_item_sizes) else 1)
        per_dim.append([p for p in (2**e for e in range(13)) if p <= limit and n % p == 0])
    has_local = any(a.kind == "local" for a in desc.args)
    out = [] if has_local else [AUTO]  # __local arguments are sized by the work-group: it must be known
    for shape in itertools.product(*per_dim):
        names = group_names(shape)
        if names["wg"] > device.max_work_group_size:
            continue
        local_bytes = sum(desc.size(a.amount, **names) for a in desc.args if a.kind == "local")
        if local_bytes > device.local_mem_size > 0:
            continue
        out.append(_shape_name(shape))
    return out


def make_variant(kernel: Kernel, space: Space, config: Config) -> Variant:
    """A configuration applied: the kernel source (unroll pragmas, then coarsening), its launch, its options."""
    desc, _ = _described(kernel)
    cfg = space.canonical(config)
    desc = desc.with_sizes({name: int(cfg[name]) for name in desc.tune if name in cfg})
    src = kernel.text
    loops = innermost_loops(src, _described(kernel)[1])
    for i, loop in reversed(list(enumerate(loops))):
        n = cfg.get(f"L{i}.unroll", "auto")
        if n != "auto":
            src = src[: loop.start] + f"#pragma unroll {n}\n{loop.indent}".encode() + src[loop.start :]
    cf = int(cfg.get("cf", 1))
    glob = desc.global_dims()
    if cf > 1:
        fn = next(k for k in kernels(src) if k.name == desc.kernel)  # re-read: the pragmas moved its body
        src = coarsen.coarsen(src, fn, cf, desc.coarsen_dim, str(cfg["cf_mode"]))
        glob = coarsen.launch_global(glob, cf, desc.coarsen_dim)
    knob = f"wg.cf{cf}" if "cf" in cfg else "wg"
    shape = cfg[knob] if knob in cfg else _shape_name(desc.local_dims() or ())  # tune_local = false: as given
    local = None if shape == AUTO else tuple(int(n) for n in str(shape).split("x"))
    options = [*desc.options.split(), *desc.defines(), *MATH[str(cfg.get("cl_math", "default"))].split()]
    spec = program.spec_text(desc, glob, local, " ".join(options))
    return Variant(
        config=cfg,
        source=program.host_source(spec, src),
        flags=program.compile_flags(),
        ldflags=list(program.LINK_FLAGS),
        env={},
        compiler="clang",
        device=DeviceCode("opencl", src, tuple(options)),
    )


def _described(kernel: Kernel) -> tuple[Description, Function]:
    """The launch description and the kernel's parse of an OpenCL kernel (`autotune.gpu.clkernel.ClKernel`)."""
    desc = getattr(kernel, "description", None)
    if desc is None:
        raise TypeError(f"{kernel.path}: not an OpenCL kernel with a launch description")
    return desc, kernel.function  # type: ignore[attr-defined]


def _shape_name(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))
