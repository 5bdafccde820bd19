"""Normalized IR -> what the model reads: token ids, a graph with tokenised node labels, batches.

Why a module of its own: embedding (`encoder.embedding`) and pre-training (`encoder.training`)
must read a module the same way, or the held-out checks would measure something other than what
`embed` returns. Both import it from here; inference never imports the training package.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data

from encoder import tokenizer as tk
from encoder.graph import build_graph, to_pyg

#: Tokens kept of each graph node's label (`"<kind> <text>"`); the shipped weights were trained with 8.
MAX_NODE_TOKENS = 8


def text_ids(ir: str, tok: tk.Tokenizer, head: int | None = None) -> list[int]:
    """Token ids of the module body, [CLS] first; with `head`, only the first `head` of them."""
    if head is not None:
        return tk.encode_head(tok, ir, head)
    return tok.encode(tk.module_body(ir)).ids


def graph_of(ir: str, tok: tk.Tokenizer) -> Data:
    """The module's program graph with node labels tokenised by `tok`."""
    return to_pyg(build_graph(ir), lambda s: tk.encode_units(tok, s), max_tokens=MAX_NODE_TOKENS)


def encode_module(ir: str, tok: tk.Tokenizer) -> tuple[Tensor, Data]:
    """Token ids of the whole module body (int32) and its graph: what pre-training stores per module."""
    return torch.tensor(text_ids(ir, tok), dtype=torch.int32), graph_of(ir, tok)


# --- batches -------------------------------------------------------------------------------------
def crop_graph(g: Data, max_nodes: int, rng: random.Random, at: float | None = None) -> Data:
    """An induced subgraph on a contiguous node range (nodes are in program order).

    `at` (0..1) places the range at that relative position, so that a text window
    and a graph crop of the same module can cover the same code; None: random.
    """
    n = g.num_nodes
    if n <= max_nodes:
        return g
    start = rng.randrange(0, n - max_nodes + 1) if at is None else round(at * (n - max_nodes))
    keep = (g.edge_index[0] >= start) & (g.edge_index[0] < start + max_nodes)
    keep &= (g.edge_index[1] >= start) & (g.edge_index[1] < start + max_nodes)
    return Data(
        x=g.x[start : start + max_nodes],
        node_kind=g.node_kind[start : start + max_nodes],
        edge_index=g.edge_index[:, keep] - start,
        edge_type=g.edge_type[keep],
        edge_pos=g.edge_pos[keep],
        num_nodes=max_nodes,
    )


def pad(seqs: Sequence[Tensor]) -> Tensor:
    """Token sequences as one [n, longest] long tensor, padded with [PAD]."""
    out = torch.full((len(seqs), max(len(s) for s in seqs)), tk.PAD, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = s
    return out


def graph_batch(graphs: Sequence[Data]) -> Batch:
    """Graphs as one disconnected batch graph for the GNN."""
    return Batch.from_data_list(list(graphs))
