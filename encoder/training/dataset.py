"""Turn corpus modules into tensors once, and batch them for pre-training.

Why a preprocessing step: tokenising a module and building its graph with
llvmlite costs tens of milliseconds, more than a training step spends on it.
Doing it once per module, in shards written atomically, keeps pre-training
CPU-bound on the model and lets a killed preprocessing run resume.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor
from torch_geometric.data import Data

from encoder import tokenizer as tk
from encoder.atomic import atomic_write
from encoder.encode import encode_module

SHARD_SIZE = 500
MAX_NODES = 768  # graph crop in pre-training batches


@dataclass
class Module:
    hash: str
    group: str
    split: str
    source: str
    ids: Tensor  # int32 token ids of the whole module body, [CLS] first
    graph: Data


def read_index(corpus: Path) -> list[dict[str, str]]:
    with open(corpus / "index.csv", newline="") as f:
        return list(csv.DictReader(f))


def _shard_job(args: tuple[Path, list[dict[str, str]], str, Path]) -> tuple[int, int]:
    corpus, rows, tok_path, out = args
    tok = tk.load(Path(tok_path))
    items, failed = [], 0
    for row in rows:
        try:
            ir = (corpus / "modules" / f"{row['hash']}.ll").read_text()
            ids, graph = encode_module(ir, tok)
        except Exception:  # a module the graph builder cannot read is skipped, and counted
            failed += 1
            continue
        keep = ("hash", "group", "split", "source")
        items.append({**{k: row[k] for k in keep}, "ids": ids, "graph": graph})
    atomic_write(out, lambda tmp: torch.save(items, tmp))
    return len(items), failed


def preprocess(corpus: Path, tok_path: Path, out_dir: Path, jobs: int = 2) -> tuple[int, int]:
    """Write `out_dir/shard_*.pt` (tensors depend on the tokenizer, so they live with the run).

    Shards already written are kept, so a killed run resumes.
    """
    from concurrent.futures import ProcessPoolExecutor

    rows = read_index(corpus)
    out_dir.mkdir(parents=True, exist_ok=True)
    todo = []
    for k in range(0, len(rows), SHARD_SIZE):
        out = out_dir / f"shard_{k // SHARD_SIZE:05d}.pt"
        if not out.exists():
            todo.append((corpus, rows[k : k + SHARD_SIZE], str(tok_path), out))
    kept = failed = 0
    if jobs <= 1:
        results = map(_shard_job, todo)
    else:
        # forkserver, not fork: a process forked after torch or the tokenizers' thread pools ran
        # can inherit a held lock and hang
        import multiprocessing

        ex = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("forkserver"))
        results = ex.map(_shard_job, todo)
    for n_ok, n_bad in results:
        kept, failed = kept + n_ok, failed + n_bad
    if jobs > 1:
        ex.shutdown()
    return kept, failed


def load_modules(tensor_dir: Path) -> list[Module]:
    out: list[Module] = []
    for shard in sorted(tensor_dir.glob("shard_*.pt")):
        for it in torch.load(shard, weights_only=False):
            out.append(Module(it["hash"], it["group"], it["split"], it["source"], it["ids"], it["graph"]))
    return out


# --- batches -------------------------------------------------------------------------------------
def random_window(ids: Tensor, length: int, rng: random.Random) -> tuple[Tensor, float]:
    """A random window of a module's tokens, [CLS] first, and its relative position (0..1)."""
    body = ids[1:]
    span = len(body) - (length - 1)
    s = rng.randrange(0, span + 1) if span > 0 else 0
    w = body[s : s + length - 1]
    return torch.cat([torch.tensor([tk.CLS], dtype=torch.int32), w]).long(), (s / span if span > 0 else 0.0)


def mask_tokens(ids: Tensor, vocab: int, rng: torch.Generator, rate: float = 0.15) -> tuple[Tensor, Tensor]:
    """BERT masking: of the chosen 15%, 80% [MASK], 10% random, 10% unchanged. Labels -100 elsewhere."""
    special = ids < len(tk.SPECIALS)
    chosen = (torch.rand(ids.shape, generator=rng) < rate) & ~special
    labels = torch.where(chosen, ids, torch.full_like(ids, -100))
    r = torch.rand(ids.shape, generator=rng)
    out = ids.clone()
    out[chosen & (r < 0.8)] = tk.MASK
    rand = chosen & (r >= 0.8) & (r < 0.9)
    out[rand] = torch.randint(len(tk.SPECIALS), vocab, (int(rand.sum()),), generator=rng)
    return out, labels


class Batcher:
    """Batches of modules drawn so that hard negatives exist and no source dominates.

    Half of each batch comes in pairs of variants of the same program (so the
    matching task must tell apart e.g. the same loop with two pragmas), the rest
    are single modules. Sources are drawn with probability proportional to the
    square root of their size: the corpus is mostly NeuroVectorizer loops from
    20 templates, and uniform sampling would spend most steps on them.
    """

    def __init__(self, modules: list[Module], seed: int) -> None:
        self.modules = modules
        self.rng = random.Random(seed)
        by_source: dict[str, list[int]] = defaultdict(list)
        groups: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i, m in enumerate(modules):
            by_source[m.source].append(i)
            groups[(m.source, m.group)].append(i)
        self.sources = sorted(by_source)
        self.by_source = by_source
        self.weights = [len(by_source[s]) ** 0.5 for s in self.sources]
        self.multi: dict[str, list[list[int]]] = defaultdict(list)
        for (src, _), members in sorted(groups.items()):
            if len(members) >= 2:
                self.multi[src].append(members)
        self.multi_sources = [s for s in self.sources if self.multi[s]]
        self.multi_weights = [len(self.by_source[s]) ** 0.5 for s in self.multi_sources]
        self.group_of = {i: m.group for i, m in enumerate(modules)}

    def draw(self, size: int, rng: random.Random | None = None) -> list[int]:
        """Module indices of one batch; `rng` (default: the batcher's own) makes all the choices."""
        r = rng or self.rng
        chosen: list[int] = []
        seen: set[int] = set()
        for _ in range(size // 4 if self.multi_sources else 0):
            src = r.choices(self.multi_sources, self.multi_weights)[0]
            pair = r.sample(r.choice(self.multi[src]), 2)
            if not seen.intersection(pair):
                chosen.extend(pair)
                seen.update(pair)
        tries = 0
        while len(chosen) < size and tries < 100 * size:
            tries += 1
            src = r.choices(self.sources, self.weights)[0]
            i = r.choice(self.by_source[src])
            if i not in seen:
                chosen.append(i)
                seen.add(i)
        return chosen

    def sibling(self, batch: list[int]) -> list[int]:
        """For each position, another position in the batch with the same program, or -1."""
        out = []
        for a, i in enumerate(batch):
            sib = [b for b, j in enumerate(batch) if b != a and self.group_of[j] == self.group_of[i]]
            out.append(sib[0] if sib else -1)
        return out
