"""Model shapes and size."""

from __future__ import annotations

import torch
from torch_geometric.data import Batch, Data

from encoder.model import EncoderConfig, MIREncoder, count_parameters, relation_ids


def graph(n: int, e: int, seed: int) -> Data:
    g = torch.Generator().manual_seed(seed)
    return Data(
        x=torch.randint(5, 500, (n, 8), generator=g),
        node_kind=torch.randint(0, 3, (n,), generator=g),
        edge_index=torch.randint(0, n, (2, e), generator=g),
        edge_type=torch.randint(0, 3, (e,), generator=g),
        edge_pos=torch.randint(0, 5, (e,), generator=g),
    )


def test_default_model_is_under_ten_million_parameters():
    n = count_parameters(MIREncoder(EncoderConfig()))
    assert 3_000_000 < n < 10_000_000


def test_forward_shapes():
    cfg = EncoderConfig(
        vocab_size=500, d_model=32, embed_dim=48, text_layers=1, gnn_layers=2, heads=2, ff=64, graph_dim=24
    )
    m = MIREncoder(cfg)
    ids = torch.randint(5, 500, (5, 20))
    owner = torch.tensor([0, 0, 1, 2, 2])  # three modules, two of them in two windows
    t, h = m.text_embedding(ids, owner, 3)
    assert t.shape == (3, 48) and h.shape == (5, 20, 32)
    b = Batch.from_data_list([graph(10, 20, 0), graph(7, 9, 1), graph(12, 30, 2)])
    ge, z = m.graph_embedding(b)
    assert ge.shape == (3, 48) and z.shape == (29, 24)
    assert m.fused(t, ge).shape == (3, 48)
    assert m.mlm_logits(h[:, :3]).shape == (5, 3, 500)
    assert m.edge_scores(z, b.edge_index, b.edge_type).shape == (b.edge_index.shape[1],)
    assert m.match_logits(t, ge).shape == (3,)
    assert torch.isfinite(m.fused(t, ge)).all()


def test_relations_split_data_edges_by_operand_position():
    rel = relation_ids(torch.tensor([0, 1, 1, 1, 2]), torch.tensor([3, 0, 1, 5, 0]))
    assert rel.tolist() == [0, 1, 2, 2, 3]
