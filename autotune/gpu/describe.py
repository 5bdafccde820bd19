"""How to run an OpenCL kernel: the description beside it (`kernel.toml` next to `kernel.cl`).

Why a description and not a host program: an OpenCL kernel alone cannot run; it needs buffers,
sizes and a launch. Most kernels need only what a few lines say, and a host program of the
user's own would hide the launch (global size, work-group size) that the tuner must own. So the
user writes what the launch needs, and autotune's host program (`clhost.c`) does the rest, the
same for every kernel: deterministic inputs, timing from OpenCL profiling events, checksums of
the outputs for verification.

    # saxpy.toml                         (beside saxpy.cl)
    kernel = "saxpy"                     # optional when the file has one kernel
    global = ["N"]                       # 1-3 sizes: integers, size names or arithmetic of them
    sizes = { N = 1048576 }              # also passed to the kernel as -DN=1048576
    options = "-cl-std=CL1.2"            # build options of the kernel as given (optional)
    repeat = 3                           # launches timed per run (optional, default 1)
    rtol = 1e-5                          # output tolerance (optional, default 1e-6)
    local = [64]                         # the work-group size as given (optional; default: the runtime's)
    coarsen_dim = 0                      # the dimension thread coarsening shrinks (optional, default 0)
    tune_local = false                   # the kernel depends on its work-group size (writes one result per
                                         # group, hard-codes it): keep `local`, offer no other (default true)
    tune = { VW = [1, 2, 4, 8] }         # sizes to tune (a vector width, a tile): each its own knob, its
                                         # value in `sizes` the default; sizes expressions may use them

    [args.x]                             # one table per kernel parameter, by its name
    buffer = "N"                         # elements (of the parameter's type, vectors count as one)
    init = "random"                      # zeros | value | index | arange | random
    range = [0, 1]                       # random: [low, high); seed = 1 by default
    [args.y]
    buffer = "N"
    init = "arange"                      # start = 0, step = 1 by default
    output = true                        # checksummed and verified
    [args.a]
    value = 2.5                          # a by-value argument
    [args.scratch]
    local = "4 * wg"                     # a __local buffer: bytes, may use wg (work-group size), wg0..wg2

Parameter types come from the kernel's own signature, so the description never repeats them.
"""

from __future__ import annotations

import ast
import itertools
import math
import operator
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from autotune.errors import UserError
from autotune.gpu.clsource import Function, Param, kernels

SCALAR_TYPES = {
    "char": 1,
    "uchar": 1,
    "short": 2,
    "ushort": 2,
    "int": 4,
    "uint": 4,
    "long": 8,
    "ulong": 8,
    "float": 4,
    "double": 8,
}
C_NAMES = {"unsigned char": "uchar", "unsigned short": "ushort", "unsigned int": "uint", "unsigned long": "ulong"}
INITS = ("zeros", "value", "index", "arange", "random")
TOP_KEYS = {
    "kernel", "global", "local", "tune_local", "sizes", "options", "repeat", "rtol", "atol", "coarsen_dim", "args",
    "tune",
}  # fmt: skip
ARG_KEYS = {"buffer", "init", "value", "start", "step", "range", "seed", "output", "local"}
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv}


@dataclass(frozen=True)
class Arg:
    """One kernel argument as the host program sets it."""

    name: str
    kind: str  # buffer | scalar | local
    ctype: str  # the scalar element type (a float4 buffer is a float buffer of 4x the elements)
    width: int  # vector width of the parameter's type (1 for scalars; 3-vectors occupy 4)
    amount: str | int | float  # buffer: elements (expression); local: bytes (expression); scalar: the value
    init: str = "zeros"
    init_args: tuple[float, ...] = ()
    output: bool = False


@dataclass(frozen=True)
class Description:
    """What `clhost` needs to run one kernel of an OpenCL source, sizes still symbolic."""

    path: Path  # the description file
    kernel: str
    global_size: tuple[str | int, ...]
    sizes: dict[str, int]
    args: tuple[Arg, ...]
    local_size: tuple[str | int, ...] | None = None  # the work-group size as given; None: the runtime's choice
    coarsen_dim: int = 0  # the dimension coarsening shrinks
    tune_local: bool = True  # False: the work-group size is part of the kernel's contract (one result per group...)
    options: str = ""
    repeat: int = 1
    rtol: float = 1e-6
    atol: float = 0.0
    tune: dict[str, tuple[int, ...]] = field(default_factory=dict)  # size name -> its choices (`tune = {...}`)

    def size(self, expr: str | int, **names: int) -> int:
        """An integer size expression evaluated over the sizes (and `names`, e.g. the work-group size)."""
        return evaluate(expr, {**self.sizes, **names}, self.path)

    def global_dims(self) -> tuple[int, ...]:
        return tuple(self.size(g) for g in self.global_size)

    def local_dims(self) -> tuple[int, ...] | None:
        return tuple(self.size(n) for n in self.local_size) if self.local_size else None

    def defines(self) -> list[str]:
        """The sizes as the kernel sees them: -DNAME=VALUE."""
        return [f"-D{k}={v}" for k, v in self.sizes.items()]

    def with_sizes(self, values: dict[str, int]) -> Description:
        """The same launch with some sizes set (a configuration's tuned sizes)."""
        return replace(self, sizes={**self.sizes, **values})

    def tunings(self) -> list[Description]:
        """The launch at every combination of the tuned sizes (just itself when nothing is tuned): a
        coarsening factor or work-group size is offered only where it is legal for every one of them."""
        names = list(self.tune)
        return [self.with_sizes(dict(zip(names, vals, strict=True))) for vals in itertools.product(*self.tune.values())]


def group_names(shape: tuple[int, ...]) -> dict[str, int]:
    """The names a `local = "..."` expression may use for a work-group shape: wg (its size), wg0..wg2."""
    return {"wg": math.prod(shape), **{f"wg{d}": n for d, n in enumerate(shape)}}


def description_path(cl_path: Path) -> Path:
    """Where a kernel's description is: beside it, same name, `.toml`."""
    return cl_path.with_suffix(".toml")


def load(cl_path: Path, source: bytes, overrides: dict[str, int] | None = None) -> Description:
    """Read and check the description of `cl_path`; UserError (one line, the file, the fix) otherwise."""
    path = description_path(cl_path)
    if not path.exists():
        raise UserError(
            f"{cl_path}: an OpenCL kernel needs a description of its launch beside it ({path.name}: global size, "
            "arguments, outputs); see the README section on GPU kernels"
        )
    try:
        raw = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not valid TOML ({exc})") from None
    stray = sorted(set(raw) - TOP_KEYS)
    if stray:
        raise UserError(f"{path}: unknown key {stray[0]!r}; a description takes {', '.join(sorted(TOP_KEYS))}")
    found = kernels(source)
    if not found:
        raise UserError(f"{cl_path}: no __kernel function found")
    name = raw.get("kernel") or (found[0].name if len(found) == 1 else None)
    if name is None:
        raise UserError(f'{path}: {cl_path.name} has {len(found)} kernels; say which with kernel = "..."')
    kernel = next((k for k in found if k.name == name), None)
    if kernel is None:
        raise UserError(f"{path}: kernel = {name!r}: {cl_path.name} has {', '.join(k.name for k in found)}")
    sizes = {str(k): _int(v, f"sizes.{k}", path) for k, v in (raw.get("sizes") or {}).items()}
    sizes.update(overrides or {})
    tune = _tune(raw.get("tune"), sizes, set(overrides or {}), path)
    glob = raw.get("global")
    if not isinstance(glob, list) or not 1 <= len(glob) <= 3:
        raise UserError(f"{path}: global = [...] must list 1 to 3 sizes (integers or size names)")
    desc = Description(
        path=path,
        kernel=name,
        global_size=tuple(glob),
        sizes=sizes,
        args=tuple(_arg(p, (raw.get("args") or {}).get(p.name), path) for p in kernel.params),
        local_size=tuple(raw["local"]) if raw.get("local") else None,
        coarsen_dim=int(raw.get("coarsen_dim", 0)),
        tune_local=bool(raw.get("tune_local", True)),
        options=str(raw.get("options", "")),
        repeat=_int(raw.get("repeat", 1), "repeat", path),
        rtol=float(raw.get("rtol", 1e-6)),
        atol=float(raw.get("atol", 0.0)),
        tune=tune,
    )
    unknown = sorted(set(raw.get("args") or {}) - {p.name for p in kernel.params})
    if unknown:
        raise UserError(f"{path}: [args.{unknown[0]}]: {name} has no parameter of that name")
    for each in desc.tunings():  # every tuned value must give a launch as legal as the default's
        at = "".join(f" at {k} = {each.sizes[k]}" for k in tune)
        dims = each.global_dims()
        if any(d <= 0 for d in dims):
            raise UserError(f"{path}: global = {glob} gives {dims}{at}; every size must be positive")
        local = each.local_dims()  # the given group launches every tuned value's baseline-shaped variant
        if local is not None and (len(local) != len(dims) or any(g % n for g, n in zip(dims, local, strict=False))):
            given = list(desc.local_size or ())
            raise UserError(f"{path}: local = {given} must have one size per global dimension, each dividing it{at}")
        for a in desc.args:
            if a.kind == "buffer":
                each.size(a.amount)  # every size expression must evaluate now, not in the middle of a study
    local = desc.local_dims()
    dims = desc.global_dims()
    if not desc.tune_local and local is None:
        raise UserError(f"{path}: tune_local = false keeps the work-group size given by local = [...]; give it")
    if not 0 <= desc.coarsen_dim < len(dims):
        raise UserError(f"{path}: coarsen_dim = {desc.coarsen_dim}; the kernel has {len(dims)} dimension(s)")
    if not any(a.output for a in desc.args):
        raise UserError(f"{path}: no argument has output = true; mark the buffer(s) whose contents to verify")
    return desc


def _tune(raw, sizes: dict[str, int], overridden: set[str], path: Path) -> dict[str, tuple[int, ...]]:
    """`tune = { NAME = [choices] }`: sizes offered as knobs; one set by -D on the command line is fixed."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise UserError(f"{path}: tune = {{ NAME = [values] }} names sizes to tune, each with its choices")
    out = {}
    for name, choices in raw.items():
        if name not in sizes:
            raise UserError(f"{path}: tune.{name}: not a size; give its default in sizes = {{ {name} = ... }}")
        if not isinstance(choices, list) or not choices:
            raise UserError(f"{path}: tune.{name} = {choices!r}; a list of positive integers")
        vals = tuple(_int(v, f"tune.{name}", path) for v in choices)
        if sizes[name] not in vals and name not in overridden:
            raise UserError(f"{path}: sizes.{name} = {sizes[name]} (the kernel as given) must be one of tune.{name}")
        if name not in overridden:  # -D NAME=V on the command line fixes it
            out[str(name)] = tuple(dict.fromkeys(vals))
    return out


def param_type(p: Param) -> tuple[str, int]:
    """(scalar type, vector width) of a parameter's declared type; width 4 for 3-vectors (their storage)."""
    words = [w for w in re.findall(r"[A-Za-z_]\w*", p.text) if w not in _QUALIFIERS and w != p.name]
    text = " ".join(words)
    for long_name, short in C_NAMES.items():
        text = text.replace(long_name, short)
    for w in text.split():
        m = re.fullmatch(r"(char|uchar|short|ushort|int|uint|long|ulong|float|double)(2|3|4|8|16)?", w)
        if m:
            width = int(m.group(2) or 1)
            return m.group(1), 4 if width == 3 else width
    return "", 0


_QUALIFIERS = {
    "__global", "global", "__local", "local", "__constant", "constant", "__private", "private", "const",
    "restrict", "volatile", "__read_only", "read_only", "__write_only", "write_only",
}  # fmt: skip


def _arg(p: Param, raw: dict | None, path: Path) -> Arg:
    where = f"{path}: [args.{p.name}]"
    ctype, width = param_type(p)
    stray = sorted(set(raw or {}) - ARG_KEYS)
    if stray:
        raise UserError(f"{where}: unknown key {stray[0]!r}; an argument takes {', '.join(sorted(ARG_KEYS))}")
    if not ctype:
        raise UserError(f"{where}: the parameter's type ({p.text}) is not one autotune can allocate")
    if raw is None:
        raise UserError(f"{where} is missing: every kernel parameter needs buffer = ..., value = ... or local = ...")
    if p.space == "local":
        if "local" not in raw:
            raise UserError(f"{where}: a __local parameter takes local = <bytes> (may use wg, wg0, wg1, wg2)")
        return Arg(p.name, "local", ctype, width, raw["local"])
    if p.pointer:
        if "buffer" not in raw:
            raise UserError(f"{where}: a pointer parameter takes buffer = <elements>")
        init = raw.get("init", "zeros")
        if init not in INITS:
            raise UserError(f"{where}: init = {init!r}; one of {', '.join(INITS)}")
        args: tuple[float, ...] = ()
        if init == "value":
            args = (float(raw.get("value", 0)),)
        elif init == "arange":
            args = (float(raw.get("start", 0)), float(raw.get("step", 1)))
        elif init == "random":
            lo, hi = raw.get("range", [0, 1])
            args = (float(raw.get("seed", 1)), float(lo), float(hi))
        return Arg(p.name, "buffer", ctype, width, raw["buffer"], init, args, bool(raw.get("output", False)))
    if "value" not in raw:
        raise UserError(f"{where}: a by-value parameter takes value = <number or size name>")
    if width != 1:
        raise UserError(f"{where}: vector-typed by-value parameters are not supported; pass a buffer")
    return Arg(p.name, "scalar", ctype, 1, raw["value"])


def evaluate(expr: str | int | float, names: dict[str, int], path: Path) -> int:
    """An integer from a number, a name, or + - * / // of them (nothing else is evaluated; / must divide)."""
    if isinstance(expr, bool):
        raise UserError(f"{path}: {expr!r} is not a size")
    if isinstance(expr, int):
        return expr
    if isinstance(expr, float) and expr.is_integer():
        return int(expr)

    def ev(node: ast.AST) -> int:
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in names:
                raise UserError(f"{path}: {expr!r}: unknown size {node.id!r}; known: {', '.join(sorted(names))}")
            return names[node.id]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):  # sizes divide exactly, or say so
            num, den = ev(node.left), ev(node.right)
            if den == 0 or num % den:
                raise UserError(f"{path}: {expr!r}: {num} / {den} is not a whole number")
            return num // den
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        raise UserError(f"{path}: {expr!r}: sizes are integers, size names, + - * / and //")

    try:
        tree = ast.parse(str(expr), mode="eval")
    except SyntaxError:
        raise UserError(f"{path}: {expr!r} is not a size expression") from None
    return ev(tree.body)


def _int(v, what: str, path: Path) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise UserError(f"{path}: {what} = {v!r}; a positive integer")
    return v


def kernel_of(desc: Description, source: bytes) -> Function:
    """The described kernel's parse (its parameters, body, calls)."""
    return next(k for k in kernels(source) if k.name == desc.kernel)
