"""encoder.graph: node and edge counts checked by hand, branch positions, OpenMP call edges, PyG."""

from __future__ import annotations

import torch

from encoder import ir
from encoder.graph import EDGE_TYPES, NODE_KINDS, ProgramGraph, build_graph, callee_label, to_pyg
from tests.conftest import needs_clang

# A loop summing an array, a caller, and an external declaration.
LOOP = """
define i32 @sum(ptr %a, i32 %n) {
entry:
  br label %loop
loop:
  %i = phi i32 [ 0, %entry ], [ %i.next, %loop ]
  %s = phi i32 [ 0, %entry ], [ %s.next, %loop ]
  %p = getelementptr i32, ptr %a, i32 %i
  %v = load i32, ptr %p
  %s.next = add i32 %s, %v
  %i.next = add i32 %i, 1
  %c = icmp slt i32 %i.next, %n
  br i1 %c, label %loop, label %exit
exit:
  ret i32 %s.next
}

declare void @use(i32)

define void @main2(ptr %a) {
entry:
  %r = call i32 @sum(ptr %a, i32 10)
  call void @use(i32 %r)
  ret void
}
"""

OPENMP_C = """
void scale(double *a, int n, double s) {
  #pragma omp parallel for
  for (int i = 0; i < n; i++) a[i] *= s;
}
"""


def _node(g: ProgramGraph, text: str, nth: int = 0) -> int:
    return [i for i, t in enumerate(g.node_texts) if t == text][nth]


def test_counts_by_hand() -> None:
    g = build_graph(LOOP)
    # instructions: sum 1 + 8 + 1, main2 3, one declaration node (@use)
    # variables: 2 + 1 arguments, 7 + 1 instruction results
    # constants: i32 0 (shared by both phis), i32 1 in @sum; i32 10 in @main2
    assert g.node_kind_counts() == {"instruction": 14, "variable": 11, "constant": 3}
    # control: 7 + 2 inside blocks; entry br -> loop; loop br -> loop, exit
    # data: 8 definitions; uses 2+2+2+1+2+2+2+1 (br cond) +1 (ret) in @sum, 2 + 1 in @main2
    # call: call sum -> sum entry, ret -> call; call use <-> declaration
    assert g.edge_type_counts() == {"control": 12, "data": 26, "call": 4}
    assert g.num_nodes == 28 and g.num_edges == 42
    assert sorted(set(g.node_texts)) == sorted(
        {
            "ptr",
            "i32",
            "i1",
            "br",
            "phi",
            "getelementptr",
            "load",
            "add",
            "icmp",
            "ret",
            "call",
            "call use",
            "declare use",
            "i32 0",
            "i32 1",
            "i32 const",
        }
    )


def test_conditional_branch_positions() -> None:
    g = build_graph(LOOP)
    cond_br = _node(g, "br", 1)
    loop_head = _node(g, "phi", 0)  # first instruction of %loop (the true successor)
    exit_ret = _node(g, "ret", 0)  # first instruction of %exit (the false successor)
    out = sorted((dst, pos) for src, dst, typ, pos in g.edges if src == cond_br and typ == 0)
    assert out == sorted([(loop_head, 0), (exit_ret, 1)])
    # The branch condition is operand 0 of the br.
    icmp_var = _node(g, "i1")
    assert (icmp_var, cond_br, 1, 0) in g.edges


def test_data_and_call_edges() -> None:
    g = build_graph(LOOP)
    store_like = _node(g, "getelementptr")
    a_arg = 0  # first argument of @sum is node 0
    assert (a_arg, store_like, 1, 0) in g.edges  # %a is operand 0 of the gep
    call = _node(g, "call")
    sum_entry = _node(g, "br", 0)
    sum_ret = _node(g, "ret", 0)
    assert (call, sum_entry, 2, 0) in g.edges and (sum_ret, call, 2, 0) in g.edges
    decl, call_use = _node(g, "declare use"), _node(g, "call use")
    assert (call_use, decl, 2, 0) in g.edges and (decl, call_use, 2, 0) in g.edges


@needs_clang
def test_openmp_fork_call_reaches_outlined_function() -> None:
    text = ir.compile_source(OPENMP_C, "c")
    mod = ir.parse(text)
    outlined = [f for f in mod.functions if not f.is_declaration and "omp_outlined" in f.name]
    assert outlined
    first_opcode = next(next(outlined[0].blocks).instructions).opcode
    g = build_graph(mod)
    fork = _node(g, "call __kmpc_fork_call")
    launched = [(dst, pos) for src, dst, typ, pos in g.edges if src == fork and typ == 2]
    assert any(pos == 1 and g.node_texts[dst] == first_opcode for dst, pos in launched)
    returns = [src for src, dst, typ, pos in g.edges if dst == fork and typ == 2 and pos == 1]
    assert returns and all(g.node_texts[r] == "ret" for r in returns)


def test_callee_labels() -> None:
    assert callee_label("llvm.fmuladd.v4f32") == "llvm.fmuladd"
    assert callee_label("llvm.memcpy.p0.p0.i64") == "llvm.memcpy"
    assert callee_label("llvm.nvvm.read.ptx.sreg.tid.x") == "llvm.nvvm.read.ptx.sreg.tid.x"
    assert callee_label("_Z13get_global_idj") == "get_global_id"
    assert callee_label("printf") == "printf"


def test_to_pyg_shapes_and_dtypes() -> None:
    g = build_graph(LOOP)
    vocab: dict[str, int] = {}

    def encode(s: str) -> list[int]:
        return [vocab.setdefault(w, len(vocab) + 1) for w in s.split()]

    data = to_pyg(g, encode, max_tokens=3)
    n, e = g.num_nodes, g.num_edges
    assert data.num_nodes == n
    assert data.x.shape == (n, 3) and data.x.dtype == torch.long
    assert data.node_kind.shape == (n,) and data.node_kind.dtype == torch.long
    assert data.edge_index.shape == (2, e) and data.edge_index.dtype == torch.long
    assert data.edge_type.shape == (e,) and data.edge_pos.shape == (e,)
    assert data.edge_type.dtype == torch.long and data.edge_pos.dtype == torch.long
    assert int(data.edge_index.max()) < n
    assert set(data.edge_type.tolist()) == {0, 1, 2} and len(EDGE_TYPES) == 3
    assert int(data.edge_pos.max()) <= 7
    # "instruction call use" is 3 tokens; "variable ptr" is 2 and padded with 0.
    row = data.x[_node(g, "call use")].tolist()
    assert 0 not in row
    assert data.x[0].tolist()[2] == 0
    assert data.node_kind.tolist()[0] == NODE_KINDS.index("variable")
