"""A PROGRAML-like program graph of an LLVM IR module, built with llvmlite.

The graph modality of the encoder: the transformer sees IR as a token sequence, where
control flow, def-use chains and calls are long-range and implicit; the GNN sees them as edges.
Following PROGRAML (Cummins et al., ICML'21):

* nodes: one `instruction` node per instruction (text: its opcode; calls add the callee's
  name when it is external, since `call get_global_id` and `call printf` mean very different
  things), one `variable` node per SSA value (instruction result, function argument, global;
  text: its type), one `constant` node per distinct constant operand of a function (text: its
  type and a coarse value class). Each external declaration gets a single `instruction` node
  (`declare <name>`): calls into it have somewhere to go and come back from.
* edges, typed `control` (0), `data` (1) or `call` (2), with an integer position:
  - control: instruction -> next instruction of its block (position 0); terminator -> first
    instruction of each successor (position = successor index; for a conditional `br`
    position 0 is the *true* branch, although LLVM stores operands as [cond, false, true]);
  - data: value -> instruction using it (position = operand index), instruction -> the
    variable it defines (position 0);
  - call: call -> callee's entry instruction and each callee `ret` -> call (position 0); a
    call to an OpenMP runtime launcher (`__kmpc_fork_call`, `__kmpc_fork_teams`, task
    allocation, ...) gets the same pair of edges to the outlined function passed as an argument
    (position 1), so that the parallel region's body is reachable from its call site.

Operands that are not values in this sense carry no data edge: basic blocks (control edges
say it already), metadata, inline asm (the call is labelled `call asm`), and a direct call's
callee (the call edge says it). Phi incoming blocks are not edges either: the predecessor's
terminator already has a control edge into the phi's block.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import llvmlite.binding as llvm
from llvmlite.binding import ValueKind

from encoder import _llraw as raw
from encoder.ir import parse

if TYPE_CHECKING:
    from torch_geometric.data import Data

__all__ = ["EDGE_TYPES", "NODE_KINDS", "ProgramGraph", "build_graph", "to_pyg"]

EDGE_TYPES: tuple[str, str, str] = ("control", "data", "call")
NODE_KINDS: tuple[str, str, str] = ("instruction", "variable", "constant")
CONTROL, DATA, CALL = 0, 1, 2
INSTRUCTION, VARIABLE, CONSTANT = NODE_KINDS

#: Call-edge positions: the callee of the call itself, or a function launched by a runtime call.
CALL_DIRECT, CALL_LAUNCHED = 0, 1


@dataclass
class ProgramGraph:
    """Nodes (parallel lists of kind and text) and typed, positioned edges.

    `edges` holds (source, target, edge type index into EDGE_TYPES, position).
    """

    node_kinds: list[str] = field(default_factory=list)
    node_texts: list[str] = field(default_factory=list)
    edges: list[tuple[int, int, int, int]] = field(default_factory=list)

    @property
    def num_nodes(self) -> int:
        return len(self.node_kinds)

    @property
    def num_edges(self) -> int:
        return len(self.edges)

    def node_kind_counts(self) -> dict[str, int]:
        """Nodes per kind, every kind present (0 if absent), for checks and summaries."""
        c = Counter(self.node_kinds)
        return {k: c.get(k, 0) for k in NODE_KINDS}

    def edge_type_counts(self) -> dict[str, int]:
        """Edges per type name, every type present (0 if absent)."""
        c = Counter(e[2] for e in self.edges)
        return {name: c.get(i, 0) for i, name in enumerate(EDGE_TYPES)}

    def add_node(self, kind: str, text: str) -> int:
        self.node_kinds.append(kind)
        self.node_texts.append(text)
        return len(self.node_kinds) - 1


# ----------------------------------------------------------------------------------------------
# Node texts
# ----------------------------------------------------------------------------------------------

_TYPE_SUFFIX = re.compile(r"^(?:p\d+|i\d+|f\d+|bf16|v\d+\w+|nxv\d+\w+|a\d+\w+)$")
_ITANIUM_SIMPLE = re.compile(r"^_Z(?:L)?(\d+)")


def callee_label(name: str) -> str:
    """A short, stable name for an external callee.

    Intrinsics lose their type suffixes (`llvm.fmuladd.v4f32` -> `llvm.fmuladd`), simple
    Itanium-mangled names (OpenCL builtins) lose their mangling (`_Z13get_global_idj` ->
    `get_global_id`); other names stay as they are.
    """
    if name.startswith("llvm."):
        parts = name.split(".")
        while len(parts) > 2 and _TYPE_SUFFIX.match(parts[-1]):
            parts.pop()
        return ".".join(parts)
    m = _ITANIUM_SIMPLE.match(name)
    if m:
        n = int(m.group(1))
        base = name[m.end() : m.end() + n]
        if len(base) == n:
            return base
    return name


def _constant_text(v: llvm.ValueRef, kind: ValueKind, ty: str) -> str:
    """`<type> <class>`: 0, 1 and -1 (and true/false) are kept as values, the rest coarsened."""
    if kind == ValueKind.constant_int:
        if ty == "i1":
            return "i1 true" if v.get_constant_value() else "i1 false"
        val = v.get_constant_value(signed_int=True)
        return f"{ty} {val}" if val in (0, 1, -1) else f"{ty} const"
    if kind == ValueKind.constant_fp:
        try:
            val = v.get_constant_value(round_fp=True)
        except ValueError:
            return f"{ty} const"
        return f"{ty} {int(val)}" if val in (0.0, 1.0, -1.0) else f"{ty} const"
    return f"{ty} {_CONSTANT_CLASS.get(kind, 'const')}"


_CONSTANT_CLASS = {
    ValueKind.constant_pointer_null: "null",
    ValueKind.undef_value: "undef",
    ValueKind.poison_value: "poison",
    ValueKind.constant_aggregate_zero: "zeroinitializer",
    ValueKind.constant_data_vector: "vector",
    ValueKind.constant_vector: "vector",
    ValueKind.constant_data_array: "array",
    ValueKind.constant_array: "array",
    ValueKind.constant_struct: "struct",
    ValueKind.constant_expr: "expr",
    ValueKind.block_address: "blockaddress",
    ValueKind.constant_token_none: "none",
}
# value kinds as the ints `_llraw.value_kind` returns
_GLOBAL_KINDS = {
    int(k) for k in (ValueKind.global_variable, ValueKind.function, ValueKind.global_alias, ValueKind.global_ifunc)
}
_NO_EDGE_KINDS = {int(k) for k in (ValueKind.basic_block, ValueKind.metadata_as_value, ValueKind.inline_asm)}
_FUNCTION, _INLINE_ASM, _BASIC_BLOCK = int(ValueKind.function), int(ValueKind.inline_asm), int(ValueKind.basic_block)
_INSTRUCTION, _ARGUMENT = int(ValueKind.instruction), int(ValueKind.argument)
_CALL_OPCODES = {"call", "invoke", "callbr"}


class _TypeNames(dict[int, str]):
    """Printed types by llvm::Type* (types are uniqued per context): print each one once."""

    def of(self, v: int) -> str:
        t = raw.type_of(v)
        s = self.get(t)
        if s is None:
            s = self[t] = raw.type_text(t)
        return s


# ----------------------------------------------------------------------------------------------
# Building
# ----------------------------------------------------------------------------------------------


@dataclass
class _Function:
    """Per defined function: where calls enter and where they return from."""

    entry: int
    returns: list[int]


def build_graph(ir: str | llvm.ModuleRef) -> ProgramGraph:
    """Build the program graph of a module (IR text is parsed with `encoder.ir.parse`).

    Node numbering is deterministic: functions in module order; for a declaration one node;
    for a definition its arguments, then per instruction the instruction node followed by the
    variable it defines; after all functions, globals and constants in order of first use.
    The walk goes through `encoder._llraw` (values are llvm::Value* ints): the object API
    cost a wrapper and a lock per query, about 5,000 per suite kernel.
    """
    mod = parse(ir) if isinstance(ir, str) else ir  # keeps every pointer below alive
    g = ProgramGraph()
    types = _TypeNames()
    values: dict[int, int] = {}  # llvm::Value* of an argument / instruction result / global -> variable node
    functions: dict[int, _Function] = {}  # llvm::Function* -> entry/returns of a definition
    declarations: dict[int, int] = {}  # llvm::Function* -> its single node
    names: dict[int, str] = {}  # llvm::Function* -> name
    bodies: list[list[list[tuple[int, int, str]]]] = []  # per definition, per block: (node, inst, opcode)
    first: dict[int, int] = {}  # llvm::BasicBlock* -> its first instruction node

    # Pass 1: nodes for every function, so that edges may point forward (calls, phis).
    for fn in raw.functions(raw.module_pointer(mod)):
        fname = names[fn] = raw.name(fn)
        if raw.is_declaration(fn):
            if fname.startswith("llvm.dbg."):
                continue
            declarations[fn] = g.add_node(INSTRUCTION, f"declare {callee_label(fname)}")
            continue
        for arg in raw.arguments(fn):
            values[arg] = g.add_node(VARIABLE, types.of(arg))
        blocks: list[list[tuple[int, int, str]]] = []
        returns: list[int] = []
        for block in raw.blocks(fn):
            insts: list[tuple[int, int, str]] = []
            for inst in raw.instructions(block):
                op = raw.opcode(inst)
                node = g.add_node(INSTRUCTION, op)
                insts.append((node, inst, op))
                if op == "ret":
                    returns.append(node)
                ty = types.of(inst)
                if ty != "void":
                    var = g.add_node(VARIABLE, ty)
                    values[inst] = var
                    g.edges.append((node, var, DATA, 0))
            first[block] = insts[0][0]
            blocks.append(insts)
        functions[fn] = _Function(entry=blocks[0][0][0], returns=returns)
        bodies.append(blocks)

    # Pass 2: edges.
    def link_call(call: int, callee: int, position: int) -> None:
        fn = functions.get(callee)
        if fn is not None:
            g.edges.append((call, fn.entry, CALL, position))
            g.edges.extend((r, call, CALL, position) for r in fn.returns)
        elif callee in declarations:
            decl = declarations[callee]
            g.edges.append((call, decl, CALL, position))
            g.edges.append((decl, call, CALL, position))

    for blocks in bodies:
        constants: dict[int, int] = {}
        for insts in blocks:
            for (node, _, _), (nxt, _, _) in zip(insts, insts[1:], strict=False):
                g.edges.append((node, nxt, CONTROL, 0))
            for node, inst, op in insts:
                operands = raw.operands(inst)
                kinds = [raw.value_kind(o) for o in operands]
                is_call = op in _CALL_OPCODES
                callee_key = None
                if is_call and operands:
                    callee, ckind = operands[-1], kinds[-1]
                    if ckind == _FUNCTION:
                        callee_key = callee
                        if callee_key not in functions:  # external: its name says what it does
                            g.node_texts[node] = f"{op} {callee_label(raw.name(callee))}"
                        link_call(node, callee_key, CALL_DIRECT)
                    elif ckind == _INLINE_ASM:
                        g.node_texts[node] = f"{op} asm"
                    else:
                        g.node_texts[node] = f"{op} indirect"
                launcher = callee_key is not None and names.get(callee_key, "").startswith("__kmpc_")
                successors: list[int] = []
                for pos, (o, kind) in enumerate(zip(operands, kinds, strict=True)):
                    if kind == _BASIC_BLOCK:
                        successors.append(first[o])
                        continue
                    if kind in _NO_EDGE_KINDS:
                        continue
                    if is_call and pos == len(operands) - 1 and callee_key is not None:
                        continue  # the direct callee: a call edge, not data
                    if kind == _INSTRUCTION or kind == _ARGUMENT:
                        src = values[o]
                    elif kind in _GLOBAL_KINDS:
                        src = values.get(o)
                        if src is None:
                            src = values[o] = g.add_node(VARIABLE, types.of(o))
                        if launcher and kind == _FUNCTION and o in functions:
                            link_call(node, o, CALL_LAUNCHED)
                    else:
                        src = constants.get(o)
                        if src is None:
                            text = _constant_text(raw.value_ref(o), ValueKind(kind), types.of(o))
                            src = constants[o] = g.add_node(CONSTANT, text)
                    g.edges.append((src, node, DATA, pos))
                if op == "br" and len(successors) == 2:
                    successors.reverse()  # operands are [cond, false, true]: make 0 the true branch
                g.edges.extend((node, s, CONTROL, i) for i, s in enumerate(successors))
    return g


# ----------------------------------------------------------------------------------------------
# torch-geometric
# ----------------------------------------------------------------------------------------------


def to_pyg(
    graph: ProgramGraph,
    encode: Callable[[str], list[int]],
    max_tokens: int = 8,
    max_position: int = 7,
) -> Data:
    """The graph as a `torch_geometric.data.Data` for the relational GNN.

    `x` (long [N, max_tokens]): token ids of `"<kind> <text>"` (e.g. `"instruction load"`),
    truncated and padded with 0; `node_kind` (long [N]): index into NODE_KINDS; `edge_index`
    (long [2, E]); `edge_type` (long [E]): index into EDGE_TYPES; `edge_pos` (long [E]):
    positions clipped to 0..max_position (operand indices beyond that are rare and alike).
    `encode` is called once per distinct node string.
    """
    import torch
    from torch_geometric.data import Data

    n = graph.num_nodes
    # one padded row per distinct label, then one gather: a tensor per node costs more than the GNN
    rows: dict[str, int] = {}
    table: list[list[int]] = []
    index = []
    for kind, text in zip(graph.node_kinds, graph.node_texts, strict=True):
        s = f"{kind} {text}"
        r = rows.get(s)
        if r is None:
            ids = list(encode(s))[:max_tokens]
            r = rows[s] = len(table)
            table.append(ids + [0] * (max_tokens - len(ids)))
        index.append(r)
    x = (
        torch.tensor(table, dtype=torch.long)[torch.tensor(index, dtype=torch.long)]
        if n
        else torch.zeros((0, max_tokens), dtype=torch.long)
    )
    kind_index = {k: i for i, k in enumerate(NODE_KINDS)}
    node_kind = torch.tensor([kind_index[k] for k in graph.node_kinds], dtype=torch.long)
    if graph.edges:
        e = torch.tensor(graph.edges, dtype=torch.long)
        edge_index = e[:, :2].t().contiguous()
        edge_type = e[:, 2].contiguous()
        edge_pos = e[:, 3].clamp(0, max_position).contiguous()
    else:
        edge_index = torch.zeros((2, 0), dtype=torch.long)
        edge_type = torch.zeros(0, dtype=torch.long)
        edge_pos = torch.zeros(0, dtype=torch.long)
    return Data(x=x, node_kind=node_kind, edge_index=edge_index, edge_type=edge_type, edge_pos=edge_pos, num_nodes=n)
