"""Pre-processed pre-training tensors in one compressed file, to train on another machine.

Why: the tensor shards (token ids and graphs of every corpus module) are a few
GB as pickled torch objects, but most of it is redundancy: graph node labels
come from a few hundred distinct token rows, ids fit 16 bits, edges are local.
Stored as flat numpy arrays (node labels as indices into a table of distinct
rows, edges delta-coded) and xz-compressed, the same data is about 2% of the
size, small enough to carry to a GPU machine that has neither the corpus, nor
clang, nor the tokenizer training data.
"""

from __future__ import annotations

import io
import json
import lzma
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Data

from encoder.atomic import atomic_write_bytes
from encoder.encode import MAX_NODE_TOKENS
from encoder.training import dataset as ds

FORMAT = 1


def pack(modules: list[ds.Module], path: Path, meta: dict) -> int:
    """Write `modules` to `path`; returns its size in bytes. `meta` (e.g. vocab size) is kept."""
    ids = [m.ids.numpy().astype(np.int16) for m in modules]
    xs = [m.graph.x.numpy().astype(np.int16) for m in modules]
    x_all = np.concatenate(xs) if xs else np.zeros((0, MAX_NODE_TOKENS), np.int16)
    table, x_idx = np.unique(x_all, axis=0, return_inverse=True)
    src, dst = [], []
    for m in modules:
        ei = m.graph.edge_index.numpy().astype(np.int64)
        src.append(np.diff(ei[0], prepend=0))
        dst.append(ei[1] - ei[0])
    arrays = {
        "ids": np.concatenate(ids),
        "ids_len": np.array([len(a) for a in ids], np.int32),
        "x_table": table,
        "x_idx": x_idx.reshape(-1).astype(np.int32),
        "node_kind": np.concatenate([m.graph.node_kind.numpy().astype(np.int8) for m in modules]),
        "n_nodes": np.array([m.graph.num_nodes for m in modules], np.int32),
        "edge_src": np.concatenate(src).astype(np.int32),
        "edge_dst": np.concatenate(dst).astype(np.int32),
        "edge_type": np.concatenate([m.graph.edge_type.numpy().astype(np.int8) for m in modules]),
        "edge_pos": np.concatenate([m.graph.edge_pos.numpy().astype(np.int16) for m in modules]),
        "n_edges": np.array([m.graph.edge_index.shape[1] for m in modules], np.int32),
    }
    header = {
        "format": FORMAT,
        "meta": meta,
        "modules": [[m.hash, m.group, m.split, m.source] for m in modules],
    }
    buf = io.BytesIO()
    np.savez(buf, header=np.frombuffer(json.dumps(header).encode(), np.uint8), **arrays)
    atomic_write_bytes(path, lzma.compress(buf.getvalue(), preset=6))
    return path.stat().st_size


def unpack(path: Path) -> tuple[list[ds.Module], dict]:
    """The modules and the meta dict written by `pack`."""
    z = np.load(io.BytesIO(lzma.decompress(path.read_bytes())))
    header = json.loads(z["header"].tobytes())
    if header.get("format") != FORMAT:
        raise ValueError(
            f"{path}: pack format {header.get('format')}, this encoder reads {FORMAT}; re-run `encoder pack`"
        )
    ids = torch.from_numpy(z["ids"].astype(np.int32))
    x = torch.from_numpy(z["x_table"].astype(np.int64))[torch.from_numpy(z["x_idx"].astype(np.int64))]
    kind = torch.from_numpy(z["node_kind"].astype(np.int64))
    src = z["edge_src"].astype(np.int64)
    dst = z["edge_dst"].astype(np.int64)
    etype = torch.from_numpy(z["edge_type"].astype(np.int64))
    epos = torch.from_numpy(z["edge_pos"].astype(np.int64))
    out: list[ds.Module] = []
    i0 = n0 = e0 = 0
    for (h, group, split, source), li, ni, ei in zip(
        header["modules"], z["ids_len"].tolist(), z["n_nodes"].tolist(), z["n_edges"].tolist(), strict=True
    ):
        s = np.cumsum(src[e0 : e0 + ei])
        edge_index = torch.from_numpy(np.stack([s, s + dst[e0 : e0 + ei]]))
        g = Data(
            x=x[n0 : n0 + ni],
            node_kind=kind[n0 : n0 + ni],
            edge_index=edge_index,
            edge_type=etype[e0 : e0 + ei],
            edge_pos=epos[e0 : e0 + ei],
            num_nodes=ni,
        )
        out.append(ds.Module(h, group, split, source, ids[i0 : i0 + li], g))
        i0, n0, e0 = i0 + li, n0 + ni, e0 + ei
    return out, header["meta"]
