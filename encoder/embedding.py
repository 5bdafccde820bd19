"""Use the encoder: source files or IR in, fixed-size vectors out.

Why a cache keyed by the normalized-IR hash: a tuner embeds many variants, and
variants that differ only in the environment, or in knobs the compiler ignored,
have identical IR. The cache key is the normalized text's hash plus the digest
of the weights, so a new model never serves an old vector.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from encoder import tokenizer as tk
from encoder.atomic import atomic_write
from encoder.errors import IRError
from encoder.model import EncoderConfig, MIREncoder

if TYPE_CHECKING:
    from torch_geometric.data import Data

ASSETS = Path(__file__).parent / "assets"
WEIGHTS = ASSETS / "mirencoder.pt"
TOKENIZER = ASSETS / "tokenizer.json"
WEIGHT_DTYPE = torch.float16  # of the shipped weights' floating-point tensors (the model card says so)
# One text window by default: the latency target (under 50 ms a kernel on one core) allows one,
# and the held-out retrieval check scores 1, 2 and 4 windows alike (0.365, 0.348, 0.366).
MAX_WINDOWS = 1
MAX_EMBED_NODES = 8192
GNN_CHUNK_NODES = 2048
MODALITIES = ("fused", "text", "graph", "all")
# The largest IR (and input file) the embedder reads. Parsing, normalising, the graph builder and
# above all the tokenizer (a few hundred bytes per character of a long line, such as a big array
# initializer) take memory in proportion to the whole module, although only its head and a crop of
# its graph reach the model. 2 MiB keeps one embedding near 1 GB in all, and is over 50 times the IR
# of the largest suite kernel.
MAX_IR_BYTES = 2 * 2**20
_DEFINE = re.compile(r"^define\b", re.M)


def save_weights(model: MIREncoder, path: Path = WEIGHTS, extra: dict | None = None) -> None:
    """Half-precision weights (`WEIGHT_DTYPE`) plus the config, the shipped artefact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # the token table is shared by the text and graph encoders: store it once, name its aliases
    state, aliases, first = {}, {}, {}
    for k, v in model.state_dict().items():
        ptr = v.data_ptr()
        if ptr in first:
            aliases[k] = first[ptr]
            continue
        first[ptr] = k
        state[k] = v.detach().cpu().to(WEIGHT_DTYPE) if v.is_floating_point() else v.detach().cpu()
    blob = {"config": model.cfg.to_dict(), "state": state, "aliases": aliases, "extra": extra or {}}
    atomic_write(path, lambda tmp: torch.save(blob, tmp))


def load_model(path: Path = WEIGHTS) -> MIREncoder:
    if not path.exists():
        raise FileNotFoundError(f"{path}: no encoder weights; run `encoder pretrain` or reinstall the package")
    blob = torch.load(path, weights_only=False)
    model = MIREncoder(EncoderConfig(**blob["config"]))
    state = {k: v.float() if v.is_floating_point() else v for k, v in blob["state"].items()}
    state.update({k: state[src] for k, src in blob.get("aliases", {}).items()})
    model.load_state_dict(state)
    model.eval()
    return model


@torch.inference_mode()
def embed_encoded(
    model: MIREncoder,
    encoded: Sequence[tuple[Sequence[int], Data]],
    windows: int = MAX_WINDOWS,
    modality: str = "fused",
) -> np.ndarray:
    """Fused embeddings of already tokenised modules: (token ids, graph) each -> [n, e] float32.

    The one place that decides how a module is read at inference: up to
    `windows` text windows averaged (evenly spread over the module), the graph cropped to MAX_EMBED_NODES.
    Evaluation uses it too, so held-out checks measure what `embed` returns.
    `modality` "text" or "graph" returns that modality's own embedding instead
    of the fused one (for ablations); "all" returns [n, 3, e]: fused, text, graph.
    """
    if modality not in MODALITIES:
        raise ValueError(f"modality {modality!r}: choose one of {', '.join(MODALITIES)}")
    from encoder.encode import crop_graph, graph_batch, pad

    model.eval()
    texts, owner = [], []
    for i, (ids, _) in enumerate(encoded):
        for w in tk.windows(list(ids), model.cfg.max_len, windows):
            texts.append(torch.tensor(w))
            owner.append(i)
    graphs = [crop_graph(g, MAX_EMBED_NODES, random.Random(0)) for _, g in encoded]
    # windows go through the transformer a few at a time, for the same reason as the graphs below
    cls = torch.cat([model.text_proj(model.text(pad(texts[k : k + 4]))[:, 0]) for k in range(0, len(texts), 4)])
    own = torch.tensor(owner)
    text_emb = torch.zeros(len(encoded), cls.shape[1]).index_add_(0, own, cls)
    text_emb /= torch.zeros(len(encoded)).index_add_(0, own, torch.ones(len(own))).clamp(min=1.0)[:, None]
    # graphs go through the GNN in chunks of a few thousand nodes: the per-edge messages of a
    # larger batch outgrow the CPU caches and cost three times more per graph
    parts, chunk, nodes = [], [], 0
    for g in graphs:
        if chunk and nodes + g.num_nodes > GNN_CHUNK_NODES:
            parts.append(model.graph_embedding(graph_batch(chunk))[0])
            chunk, nodes = [], 0
        chunk.append(g)
        nodes += g.num_nodes
    parts.append(model.graph_embedding(graph_batch(chunk))[0])
    graph_emb = torch.cat(parts)
    fused = model.fused(text_emb, graph_emb)
    out = {"fused": fused, "text": text_emb, "graph": graph_emb}
    if modality == "all":
        return torch.stack([fused, text_emb, graph_emb], 1).numpy().astype(np.float32)
    return out[modality].numpy().astype(np.float32)


def _check_size(text: str, label: str) -> None:
    if len(text) > MAX_IR_BYTES:
        raise IRError(
            f"{label}: {len(text) / 2**20:.1f} MiB of IR, over the encoder's {MAX_IR_BYTES / 2**20:.0f} MiB limit; "
            "embed the kernel's own file rather than a whole generated program"
        )


def check_embeddable(text: str, label: str) -> None:
    """Refuse IR the encoder cannot or should not read: too big, or no function to embed.

    Raises `IRError` with one line naming `label` (a file, or "IR text #k") and what to do.
    """
    _check_size(text, label)
    if not _DEFINE.search(text):
        raise IRError(
            f"{label}: defines no function, so there is nothing to embed; pass the file that defines the kernel"
        )


def _named(message: str, label: str) -> str:
    """An llvmlite parser line (`<string>:3:7: error: ...`) about `label` instead of `<string>`."""
    if message.startswith("<string>:"):
        return label + message[len("<string>") :]
    return f"{label}: {message}"


def _model_digest(model: MIREncoder) -> str:
    """Digest of an in-memory model's weights: two random-init controls never share cached vectors."""
    h = hashlib.sha256()
    for k, v in model.state_dict().items():
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return "mem" + h.hexdigest()[:16]


def file_digest(path: Path) -> str:
    """A 16-hex-digit sha256 prefix of a file (the shipped weights): part of every cache key."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


class Embedder:
    """Batched, cached embedding of IR modules with a (shipped) model."""

    def __init__(
        self,
        weights: Path = WEIGHTS,
        tokenizer: Path = TOKENIZER,
        cache_dir: Path | None = None,
        model: MIREncoder | None = None,
        include_dirs: Sequence[str | Path] = (),
        windows: int = MAX_WINDOWS,
        modality: str = "fused",
    ) -> None:
        if modality not in MODALITIES[:3]:
            raise ValueError(f"modality {modality!r}: choose one of fused, text, graph")
        self.include_dirs = list(include_dirs)
        self.windows = windows
        self.modality = modality
        self.model = model if model is not None else load_model(weights)
        self.tok = tk.load(tokenizer)
        self.key = (
            (file_digest(weights) if model is None else _model_digest(model))
            + f"-w{windows}"
            + ("" if modality == "fused" else f"-{modality}")
        )
        self.cache_dir = cache_dir
        self._memo: dict[str, np.ndarray] = {}

    @property
    def dim(self) -> int:
        return self.model.cfg.embed_dim

    def forget(self) -> None:
        """Drop the in-memory vectors (the disk cache is untouched): the next call embeds afresh.

        Why public: a latency measurement (experiments/encoder_latency.py) must time cold calls.
        """
        self._memo.clear()

    # --- inputs ----------------------------------------------------------------------------
    def to_ir(self, item: str | Path, label: str = "IR text") -> str:
        """A path (.c .cl .cu .ll) or IR text -> normalized IR.

        Every bad input raises `IRError` with one line naming the file (or `label` for IR text)
        and what to do: a missing file, a folder, a binary or non-UTF-8 file, C that does not
        compile, IR that does not parse, no function, too big (`MAX_IR_BYTES`).
        """
        from encoder import ir as irmod

        if isinstance(item, Path) or "\n" not in item:  # one line: a path, not a module
            label = str(item)
            text = irmod.compile_to_ir(Path(item), include_dirs=self.include_dirs, max_ir_bytes=MAX_IR_BYTES)
        else:
            text = str(item)
        _check_size(text, label)  # before llvmlite sees it
        try:
            norm = irmod.normalize(text)
        except irmod.IRError as e:
            raise irmod.IRError(
                f"{_named(e.message, label)}; pass IR written by clang-22 or older (`clang -S -emit-llvm`)", log=e.log
            ) from None
        check_embeddable(norm, label)
        return norm

    # --- cache ---------------------------------------------------------------------------------
    def _cache_path(self, h: str) -> Path | None:
        return self.cache_dir / self.key / f"{h}.npy" if self.cache_dir else None

    def _lookup(self, h: str) -> np.ndarray | None:
        if h in self._memo:
            return self._memo[h]
        p = self._cache_path(h)
        if p is not None and p.exists():
            v = np.load(p)
            self._memo[h] = v
            return v
        return None

    def _store(self, h: str, v: np.ndarray) -> None:
        self._memo[h] = v
        p = self._cache_path(h)
        if p is not None:
            atomic_write(p, lambda tmp: np.save(tmp, v))

    # --- the work -------------------------------------------------------------------------------
    def _embed_batch(self, irs: Sequence[str]) -> np.ndarray:
        from encoder.encode import graph_of, text_ids

        head = self.model.cfg.max_len if self.windows == 1 else None  # one window reads the module's head only
        encoded = [(text_ids(text, self.tok, head), graph_of(text, self.tok)) for text in irs]
        return embed_encoded(self.model, encoded, self.windows, self.modality)

    def embed_normalized(self, irs: Sequence[str], batch_size: int = 16) -> np.ndarray:
        from encoder.ir import ir_hash

        for i, t in enumerate(irs):
            check_embeddable(t, f"IR text #{i + 1}")
        hashes = [ir_hash(t) for t in irs]
        out = np.zeros((len(irs), self.dim), dtype=np.float32)
        todo: dict[str, int] = {}
        for i, h in enumerate(hashes):
            v = self._lookup(h)
            if v is not None:
                out[i] = v
            elif h not in todo:
                todo[h] = i
        items = list(todo.items())
        for k in range(0, len(items), batch_size):
            chunk = items[k : k + batch_size]
            vecs = self._embed_batch([irs[i] for _, i in chunk])
            for (h, _), v in zip(chunk, vecs, strict=True):
                self._store(h, v)
        for i, h in enumerate(hashes):
            if h in todo:
                out[i] = self._memo[h]
        return out

    def embed(self, items: Iterable[str | Path], batch_size: int = 16) -> np.ndarray:
        """[n, dim] vectors of paths or IR texts; bad input raises `IRError` (one line, see `to_ir`)."""
        irs = [self.to_ir(it, f"IR text #{i + 1}") for i, it in enumerate(items)]
        return self.embed_normalized(irs, batch_size)


_default: Embedder | None = None


def embed(items: str | Path | Iterable[str | Path], batch_size: int = 16) -> np.ndarray:
    """Embed source files or IR texts with the shipped encoder: [n, 256] float32.

    Accepts one item or many; each is a path to .c/.cl/.cu/.ll or IR text. Bad input raises
    `encoder.ir.IRError`, whose message is one line naming the input and what to do.
    """
    global _default
    if isinstance(items, str | Path):
        items = [items]
    if _default is None:
        _default = Embedder(cache_dir=Path(os.environ.get("ENCODER_CACHE", ".encoder-cache")))
    return _default.embed(list(items), batch_size)


def card_metrics(path: Path = WEIGHTS) -> dict:
    """The metrics stored beside the weights at export (for the model card)."""
    blob = torch.load(path, weights_only=False)
    return json.loads(json.dumps(blob.get("extra", {})))
