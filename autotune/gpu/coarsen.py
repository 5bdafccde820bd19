"""Thread coarsening of an OpenCL kernel, on its source: each work item does the work of `factor`.

What the transformation is (Magni, Dubach and O'Boyle's coarsening, as the thread-coarsening
data set measured it): the kernel runs on a global size `factor` times smaller in one dimension,
and each work item runs the original body `factor` times, once for each of the original work
items it stands for. Which ones: `block` gives it `factor` consecutive ids (g*factor + c), `stride`
ids a whole (new) global size apart (g + c*size), so neighbouring work items still touch
neighbouring memory in each round.

How, on the source: the original body moves, unchanged, into a plain function that takes the
original id and global size of the coarsened dimension as two extra parameters; inside it,
`get_global_id` and `get_global_size` are macros that answer those for that dimension (and ask
the builtin for the others). The kernel keeps its name, qualifiers and parameters, and calls the
body in a loop. A `return` in the body ends that one original work item, as before.

What it refuses, and why (`refusal`): a body that synchronises or reads anything of its
work-group (barriers, fences, local ids, group ids, sizes, sub-groups, work-group functions,
`__local` memory): coarsening changes which work items share a group, so those would change
meaning; helpers of the source that read work-item ids themselves (the macros reach only the
kernel's own body, not the helpers it calls); and `get_global_offset`, whose meaning the smaller launch would change.
"""

from __future__ import annotations

from autotune.gpu.clsource import Function, functions

MODES = ("block", "stride")
WORK_ITEM = ("get_global_id", "get_global_size", "get_global_linear_id", "get_global_offset")
GROUP_CALLS = (
    "barrier",
    "work_group_barrier",
    "mem_fence",
    "read_mem_fence",
    "write_mem_fence",
    "get_local_id",
    "get_local_size",
    "get_enqueued_local_size",
    "get_local_linear_id",
    "get_group_id",
    "get_num_groups",
    "async_work_group_copy",
    "async_work_group_strided_copy",
    "wait_group_events",
)
GROUP_PREFIXES = ("work_group_", "sub_group_", "get_sub_group", "get_max_sub_group", "get_num_sub_groups")


def refusal(source: bytes, kernel: Function) -> str | None:
    """Why `kernel` cannot be coarsened, in a phrase; None when it can."""
    if any(p.space == "local" for p in kernel.params):
        return "it takes __local memory, which belongs to a work-group and coarsening regroups work items"
    if kernel.local_decls:
        return "it declares __local memory, which belongs to a work-group and coarsening regroups work items"
    group = sorted(c for c in kernel.calls if c in GROUP_CALLS or c.startswith(GROUP_PREFIXES))
    if group:
        return f"it calls {', '.join(group)}: coarsening changes which work items share a work-group"
    if "get_global_offset" in kernel.calls or "get_global_linear_id" in kernel.calls:
        return "it reads the global offset or linear id, which the smaller launch would change"
    defined = {f.name: f for f in functions(source) if not f.kernel}
    reached, todo = set(), [c for c in kernel.calls if c in defined]
    while todo:  # the helpers the kernel calls, and theirs
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo += [c for c in defined[name].calls if c in defined]
    readers = sorted(n for n in reached if defined[n].calls & {*WORK_ITEM, *GROUP_CALLS})
    if readers:
        return f"its helper {readers[0]} reads work-item ids itself, where the coarsened ids cannot reach"
    return None


def coarsen(source: bytes, kernel: Function, factor: int, dim: int = 0, mode: str = "block") -> bytes:
    """The source with `kernel` coarsened by `factor` in dimension `dim`; launch it on global[dim] / factor.

    Raises ValueError when it cannot be (`refusal` says why) or the arguments are out of range.
    Factor 1 returns the source unchanged: the untransformed kernel is the baseline.
    """
    if factor < 1 or dim not in (0, 1, 2) or mode not in MODES:
        raise ValueError(f"coarsening factor {factor}, dimension {dim}, mode {mode!r}: out of range")
    if factor == 1:
        return source
    why = refusal(source, kernel)
    if why:
        raise ValueError(f"kernel {kernel.name} cannot be coarsened: {why}")
    if any(not p.name for p in kernel.params):
        raise ValueError(f"kernel {kernel.name}: a parameter without a name cannot be passed on")
    body_fn = f"{kernel.name}__at_body"
    params = ", ".join(p.text for p in kernel.params)
    extra = "const size_t __at_g, const size_t __at_n"
    signature = f"void {body_fn}({params}, {extra})" if params else f"void {body_fn}({extra})"
    header = kernel.header(source)
    g = (
        f"get_global_id({dim}) * {factor} + __at_c"
        if mode == "block"
        else f"get_global_id({dim}) + __at_c * get_global_size({dim})"
    )
    args = ", ".join([*(p.name for p in kernel.params), "__at_g", "__at_n"])
    text = "\n".join(
        [
            f"/* autotune: {kernel.name} coarsened by {factor} in dimension {dim} ({mode}) */",
            '#pragma push_macro("get_global_id")',
            '#pragma push_macro("get_global_size")',
            "#undef get_global_id",
            "#undef get_global_size",
            f"#define get_global_id(d) ((d) == {dim} ? __at_g : get_global_id(d))",
            f"#define get_global_size(d) ((d) == {dim} ? __at_n : get_global_size(d))",
            signature,  # the kernel's qualifiers and attributes stay on the kernel
            kernel.body(source),
            '#pragma pop_macro("get_global_id")',
            '#pragma pop_macro("get_global_size")',
            f"{header.rstrip()}",
            "{",
            f"    const size_t __at_n = get_global_size({dim}) * {factor};",
            f"    for (uint __at_c = 0; __at_c < {factor}; ++__at_c) {{",
            f"        const size_t __at_g = {g};",
            f"        {body_fn}({args});",
            "    }",
            "}",
        ]
    )
    return source[: kernel.start] + text.encode() + source[kernel.end :]


def launch_global(global_size: tuple[int, ...], factor: int, dim: int = 0) -> tuple[int, ...]:
    """The global size to launch the coarsened kernel on; ValueError where `factor` does not divide it."""
    if dim >= len(global_size) or global_size[dim] % factor:
        raise ValueError(f"coarsening factor {factor} does not divide global size {global_size} in dimension {dim}")
    return tuple(n // factor if d == dim else n for d, n in enumerate(global_size))
