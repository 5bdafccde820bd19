"""The MIREncoder model: a text transformer and a relational GNN, fused.

Why this shape (DESIGN.md section 4): the IR text carries opcode sequences and
types in order; the graph carries what the text hides, which value flows into
which instruction and where control goes. Each modality gets its own small
encoder and one fused embedding serves every downstream task. Both share the
token embedding table: a graph node's label (`instruction load`) is made of the
same tokens the text uses, so what one modality learns about `load` the other
can use.

Sizes are small on purpose (default about 4M parameters): it must pre-train on
two CPU cores, and embed a kernel in tens of milliseconds on one (two text
layers, not four, for that reason: the text transformer dominates inference).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn
from torch_geometric.nn import global_max_pool, global_mean_pool
from torch_geometric.utils import scatter

from encoder.tokenizer import PAD

EDGE_TYPES = 3  # control, data, call (as in encoder.graph)
DATA = 1
# Relations: control, data from operand 0, data from operands 1+, call. Operand
# order matters (a - b, store value vs address) but more position buckets cost
# RGCN time linearly in the relation count, which dominates on two cores.
FORWARD_RELATIONS = 4


@dataclass
class EncoderConfig:
    vocab_size: int = 8000
    d_model: int = 256
    text_layers: int = 2
    heads: int = 4
    ff: int = 768
    max_len: int = 256
    gnn_layers: int = 3
    graph_dim: int = 128
    num_bases: int = 4
    node_kinds: int = 3
    embed_dim: int = 256
    dropout: float = 0.1

    @property
    def num_relations(self) -> int:
        return FORWARD_RELATIONS * 2  # each in both directions: messages flow both ways

    def to_dict(self) -> dict:
        return asdict(self)


def relation_ids(edge_type: Tensor, edge_pos: Tensor) -> Tensor:
    """control 0, data operand 0 -> 1, data operand 1+ -> 2, call 3."""
    rel = torch.where(edge_type == DATA, 1 + (edge_pos > 0).long(), edge_type)
    return torch.where(edge_type > DATA, edge_type + 1, rel)


def with_reverse(edge_index: Tensor, rel: Tensor, num_forward: int) -> tuple[Tensor, Tensor]:
    """Add each edge reversed with its own relation id."""
    rev = edge_index.flip(0)
    return torch.cat([edge_index, rev], 1), torch.cat([rel, rel + num_forward])


class TextEncoder(nn.Module):
    def __init__(self, cfg: EncoderConfig, tokens: nn.Embedding) -> None:
        super().__init__()
        self.tokens = tokens
        self.positions = nn.Embedding(cfg.max_len, cfg.d_model)
        layer = nn.TransformerEncoderLayer(
            cfg.d_model, cfg.heads, cfg.ff, cfg.dropout, activation="gelu", batch_first=True, norm_first=True
        )
        self.layers = nn.TransformerEncoder(layer, cfg.text_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(cfg.d_model)

    def forward(self, ids: Tensor) -> Tensor:
        """[B, L] token ids -> [B, L, d] hidden states ([CLS] first)."""
        pos = torch.arange(ids.shape[1], device=ids.device)
        h = self.tokens(ids) + self.positions(pos)[None]
        h = self.layers(h, src_key_padding_mask=ids == PAD)
        return self.norm(h)


class RelConv(nn.Module):
    """Relational graph convolution (Schlichtkrull et al.) with basis decomposition, mean aggregation.

    Why not torch_geometric's RGCNConv: without the optional compiled extensions
    it runs one propagate per relation, several times slower on two cores than
    one gather over basis-projected features, which is all this layer does:
    h_i' = W_0 h_i + mean_{(j, r) -> i} sum_b a_rb V_b h_j.
    """

    def __init__(self, dim: int, num_relations: int, num_bases: int) -> None:
        super().__init__()
        self.dim, self.num_bases = dim, num_bases
        self.bases = nn.Linear(dim, num_bases * dim, bias=False)
        self.coef = nn.Parameter(torch.randn(num_relations, num_bases) / num_bases**0.5)
        self.root = nn.Linear(dim, dim)

    def forward(self, h: Tensor, edge_index: Tensor, rel: Tensor) -> Tensor:
        n = h.shape[0]
        hb = self.bases(h).view(n, self.num_bases, self.dim)
        # a broadcast multiply-sum, not einsum: einsum lowers to a batched matmul of E tiny
        # matrices, three times slower on a CPU
        msg = (hb[edge_index[0]] * self.coef[rel].unsqueeze(-1)).sum(1)
        return self.root(h) + scatter(msg, edge_index[1], 0, dim_size=n, reduce="mean")


class GraphEncoder(nn.Module):
    def __init__(self, cfg: EncoderConfig, tokens: nn.Embedding) -> None:
        super().__init__()
        self.cfg = cfg
        self.tokens = tokens
        g = cfg.graph_dim
        self.kinds = nn.Embedding(cfg.node_kinds, g)
        self.inp = nn.Linear(cfg.d_model, g)
        self.convs = nn.ModuleList(RelConv(g, cfg.num_relations, cfg.num_bases) for _ in range(cfg.gnn_layers))
        self.norms = nn.ModuleList(nn.LayerNorm(g) for _ in range(cfg.gnn_layers))
        self.drop = nn.Dropout(cfg.dropout)
        self.act = nn.GELU()

    def node_features(self, x: Tensor, node_kind: Tensor) -> Tensor:
        """Mean of a node's label tokens, plus its kind."""
        mask = (x != PAD).unsqueeze(-1).float()
        emb = (self.tokens(x) * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.inp(emb) + self.kinds(node_kind)

    def forward(self, x: Tensor, node_kind: Tensor, edge_index: Tensor, edge_type: Tensor, edge_pos: Tensor) -> Tensor:
        """Node embeddings [N, d]."""
        rel = relation_ids(edge_type, edge_pos)
        ei, rel = with_reverse(edge_index, rel, FORWARD_RELATIONS)
        h = self.node_features(x, node_kind)
        for conv, norm in zip(self.convs, self.norms, strict=True):
            h = norm(h + self.drop(self.act(conv(h, ei, rel))))
        return h


class MIREncoder(nn.Module):
    """Text + graph encoders, the fused embedding, and the three pre-training heads."""

    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.tokens = nn.Embedding(cfg.vocab_size, d, padding_idx=PAD)
        self.text = TextEncoder(cfg, self.tokens)
        self.graph = GraphEncoder(cfg, self.tokens)
        self.text_proj = nn.Linear(d, cfg.embed_dim)
        self.graph_proj = nn.Linear(2 * cfg.graph_dim, cfg.embed_dim)
        self.fuse = nn.Sequential(nn.Linear(2 * cfg.embed_dim, cfg.embed_dim), nn.GELU(), nn.LayerNorm(cfg.embed_dim))
        # heads used only in pre-training
        self.mlm = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.LayerNorm(d))
        self.mlm_bias = nn.Parameter(torch.zeros(cfg.vocab_size))
        self.relations = nn.Parameter(torch.ones(EDGE_TYPES, cfg.graph_dim))  # DistMult edge decoder
        self.match = nn.Sequential(nn.Linear(4 * cfg.embed_dim, d), nn.GELU(), nn.Linear(d, 1))
        # BERT-style small embeddings: the MLM decoder is tied to this table, and unit-variance
        # rows would start it with logits of size sqrt(d)
        nn.init.normal_(self.tokens.weight, std=0.02)
        nn.init.normal_(self.text.positions.weight, std=0.02)
        with torch.no_grad():
            self.tokens.weight[PAD].zero_()

    # --- modality embeddings ---------------------------------------------------------------
    def text_embedding(self, ids: Tensor, owner: Tensor, n: int) -> tuple[Tensor, Tensor]:
        """Windows [W, L] owned by modules `owner` [W] -> (module embeddings [n, e], hidden [W, L, d])."""
        h = self.text(ids)
        cls = self.text_proj(h[:, 0])
        out = torch.zeros(n, cls.shape[1], device=cls.device).index_add_(0, owner, cls)
        count = torch.zeros(n, device=cls.device).index_add_(0, owner, torch.ones_like(owner, dtype=cls.dtype))
        return out / count.clamp(min=1.0)[:, None], h

    def graph_embedding(self, g) -> tuple[Tensor, Tensor]:
        """A torch-geometric batch -> (graph embeddings [B, e], node embeddings [N, d])."""
        z = self.graph(g.x, g.node_kind, g.edge_index, g.edge_type, g.edge_pos)
        batch = g.batch if getattr(g, "batch", None) is not None else torch.zeros(z.shape[0], dtype=torch.long)
        pooled = torch.cat([global_mean_pool(z, batch), global_max_pool(z, batch)], 1)
        return self.graph_proj(pooled), z

    def fused(self, text_emb: Tensor, graph_emb: Tensor) -> Tensor:
        return self.fuse(torch.cat([text_emb, graph_emb], 1))

    # --- heads -------------------------------------------------------------------------------
    def mlm_logits(self, hidden: Tensor) -> Tensor:
        return self.mlm(hidden) @ self.tokens.weight.T + self.mlm_bias

    def edge_scores(self, z: Tensor, edge_index: Tensor, edge_type: Tensor) -> Tensor:
        """DistMult score per edge, scaled by 1/sqrt(d) (node embeddings are layer-normed)."""
        s = (z[edge_index[0]] * self.relations[edge_type] * z[edge_index[1]]).sum(-1)
        return s / z.shape[-1] ** 0.5

    def match_logits(self, text_emb: Tensor, graph_emb: Tensor) -> Tensor:
        t, g = text_emb, graph_emb
        return self.match(torch.cat([t, g, t * g, (t - g).abs()], 1)).squeeze(-1)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
