"""Shared by the device-mapping and thread-coarsening experiments: data files, IR, embeddings, folds.

Why one module: both tasks read OpenCL kernels from ../shared/data, turn them into normalized
IR with the encoder's own corpus readers (old typed-pointer IR first, the `src` column
recompiled when that IR does not load), embed them with the pre-trained encoder and with
randomly initialised encoders of the same shape, and cache the vectors under build/ so a
re-run costs seconds. Every embedding pass computes all three modalities at once
(`embed_encoded(..., modality="all")`), so the text/graph ablations cost nothing extra.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from encoder.atomic import atomic_write  # noqa: E402
from encoder.corpus import Variant, _module_text, _read_csv, _tar_texts, default_data_dir  # noqa: E402

CACHE_DIR = ROOT / "build" / "experiments-embeddings"
MODALITY_INDEX = {"fused": 0, "text": 1, "graph": 2}
SRC_OPT = "O2"  # the data sets' IR is optimized (tail calls, nocapture): compile the sources alike
TORCH_THREADS = int(os.environ.get("EXPERIMENT_TORCH_THREADS", "1"))  # 2 threads thrash when the 2 cores are shared


def data_dir() -> Path:
    return default_data_dir()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sha256_many(paths: Sequence[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()


def read_csv(path: Path) -> list[dict[str, str]]:
    return _read_csv(path)


def tar_texts(path: Path, suffix: str) -> dict[str, str]:
    return _tar_texts(path, suffix)


# --------------------------------------------------------------------------------------------
# IR


def ir_of(ll_text: str | None, src: str | None) -> tuple[str, str]:
    """Normalized IR of a kernel and where it came from ("ir" or "src").

    The data sets' IR (LLVM 5-6) is tried first; when LLVM 22 cannot load it, or there is none,
    the OpenCL source is compiled with clang-22 (repairing helpers cut from the data set).
    """
    if ll_text:
        try:
            return _module_text(Variant("data-set IR", "ir", ll_text)), "ir"
        except Exception:
            if not src:
                raise
    return compile_src(src or ""), "src"


def compile_src(src: str) -> str:
    return _module_text(Variant("src column", "source", src, "opencl", SRC_OPT, repair=True))


# --------------------------------------------------------------------------------------------
# Embeddings


def weights_digest() -> str:
    from encoder.embedding import WEIGHTS, _digest

    return _digest(WEIGHTS)


def encoder_specs(random_seeds: Sequence[int]) -> list[tuple[str, int | None]]:
    """(encoder name, seed): the shipped pre-trained encoder, then one random init per seed."""
    return [("pretrained", None)] + [("random-init", s) for s in random_seeds]


def _model(name: str, seed: int | None):
    from encoder.embedding import load_model
    from encoder.model import MIREncoder

    if name == "pretrained":
        return load_model()
    torch.manual_seed(int(seed or 0))
    return MIREncoder(load_model().cfg).eval()


def _encode(irs: Sequence[str]):
    from encoder import tokenizer as tk
    from encoder.dataset import MAX_NODE_TOKENS
    from encoder.embedding import TOKENIZER
    from encoder.graph import build_graph, to_pyg

    tok = tk.load(TOKENIZER)
    out = []
    for text in irs:
        ids = tok.encode(tk.module_body(text)).ids
        g = to_pyg(build_graph(text), lambda s: tk.encode_units(tok, s), max_tokens=MAX_NODE_TOKENS)
        out.append((ids, g))
    return out


def embed_all(irs: dict[str, str], name: str, seed: int | None, batch: int = 16) -> dict[str, np.ndarray]:
    """IR hash -> [3, 256] (fused, text, graph) for one encoder, cached in build/.

    The cache file is keyed by the weights digest and, for random inits, the seed, so a new
    model never serves old vectors.
    """
    from encoder.embedding import MAX_WINDOWS, embed_encoded

    torch.set_num_threads(TORCH_THREADS)
    tag = f"{name}-{weights_digest()}" + ("" if seed is None else f"-seed{seed}")
    path = CACHE_DIR / f"{tag}.npz"
    cached: dict[str, np.ndarray] = {}
    if path.exists():
        with np.load(path) as z:
            cached = {k: z[k] for k in z.files}
    todo = [h for h in irs if h not in cached]
    if todo:
        model = _model(name, seed)
        for k in range(0, len(todo), batch):
            chunk = todo[k : k + batch]
            vecs = embed_encoded(model, _encode([irs[h] for h in chunk]), MAX_WINDOWS, "all")
            cached.update(zip(chunk, vecs, strict=True))
        atomic_write(path, lambda tmp: np.savez(tmp, **cached))
    return {h: cached[h] for h in irs}


# --------------------------------------------------------------------------------------------
# Folds and models


def stratified_kfold(y: np.ndarray, k: int = 10, seed: int = 204) -> np.ndarray:
    """Test-fold index of each sample, identical to scikit-learn >= 0.22's
    `StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)`.

    The DeepTune, Grewe and static-mapping predictions shipped with the data follow exactly
    these folds with seed 204 (their row order is fold 0's test rows, then fold 1's, ...; checked
    against the 680-row table), so our models are scored on the same splits.
    """
    rng = np.random.RandomState(seed)
    _, y_idx, y_inv = np.unique(y, return_index=True, return_inverse=True)
    _, class_perm = np.unique(y_idx, return_inverse=True)
    ye = class_perm[y_inv]
    n_classes = len(y_idx)
    order = np.sort(ye)
    alloc = np.asarray([np.bincount(order[i::k], minlength=n_classes) for i in range(k)])
    test = np.empty(len(y), dtype=int)
    for c in range(n_classes):
        folds = np.arange(k).repeat(alloc[:, c])
        rng.shuffle(folds)
        test[ye == c] = folds
    return test


def stratified_kfold_legacy(y: np.ndarray, k: int = 10, seed: int = 204) -> np.ndarray:
    """The same for scikit-learn < 0.22 (per-class shuffled KFold), which the shipped
    NCC/inst2vec predictions follow (their row order matches these folds exactly)."""
    rng = np.random.RandomState(seed)
    uy, inv = np.unique(y, return_inverse=True)
    test = np.zeros(len(y), dtype=int)
    for c in range(len(uy)):
        idx = np.where(inv == c)[0]
        n = max(len(idx), k)
        perm = np.arange(n)
        rng.shuffle(perm)
        sizes = np.full(k, n // k)
        sizes[: n % k] += 1
        start = 0
        for f, s in enumerate(sizes):
            part = perm[start : start + s]
            start += s
            test[idx[part[part < len(idx)]]] = f
    return test


def fold_order(test_fold: np.ndarray) -> np.ndarray:
    """Row order of predictions written fold by fold (how the baselines' files are ordered)."""
    return np.concatenate([np.where(test_fold == f)[0] for f in range(int(test_fold.max()) + 1)])


class Standardizer:
    def fit(self, X: np.ndarray) -> Standardizer:
        self.mu = X.mean(0)
        self.sd = X.std(0) + 1e-6
        return self

    def __call__(self, X: np.ndarray) -> torch.Tensor:
        return torch.as_tensor((X - self.mu) / self.sd, dtype=torch.float32)


def mlp(d_in: int, d_out: int, hidden: int, dropout: float) -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Linear(d_in, hidden),
        torch.nn.ReLU(),
        torch.nn.Dropout(dropout),
        torch.nn.Linear(hidden, hidden),
        torch.nn.ReLU(),
        torch.nn.Dropout(dropout),
        torch.nn.Linear(hidden, d_out),
    )


def train_stats(X: np.ndarray, train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-model mean and sd of X over each model's training rows (`train` [model, n] bool): [model, d] each."""
    mu = np.stack([X[t].mean(0) for t in train])
    sd = np.stack([X[t].std(0) + 1e-6 for t in train])
    return mu, sd


def batched_mlp(
    X: torch.Tensor, T: torch.Tensor, mask: torch.Tensor, hidden: int, dropout: float, epochs: int, g: torch.Generator
) -> np.ndarray:
    """Independent 2-hidden-layer MLPs, one per leading index (a fold, a held-out kernel),
    trained together as one batch: X [model, n, d], targets T [model, n, out], mask (broadcast
    to T) picks each model's training cells; returns predictions [model, n, out].

    Weights are [model, in, out] and each model's squared error is averaged over its own cells:
    the same optimisation as one model at a time (AdamW is element-wise and the losses do not
    mix), without the per-model Python overhead that dominates nets this small. Initialised as
    torch.nn.Linear; dropout after each hidden layer.
    """
    models, _, d = X.shape
    params = []
    for fan_in, fan_out in [(d, hidden), (hidden, hidden), (hidden, T.shape[-1])]:
        bound = 1 / np.sqrt(fan_in)
        params.append((torch.rand(models, fan_in, fan_out, generator=g) * 2 - 1).mul_(bound).requires_grad_())
        params.append((torch.rand(models, 1, fan_out, generator=g) * 2 - 1).mul_(bound).requires_grad_())

    def forward(x: torch.Tensor, train_mode: bool) -> torch.Tensor:
        for j in range(0, len(params), 2):
            x = torch.baddbmm(params[j + 1], x, params[j])
            if j + 2 < len(params):
                x = torch.relu(x)
                if train_mode:
                    keep = (torch.rand(x.shape, generator=g) >= dropout).float()
                    x = x * keep / (1 - dropout)
        return x

    opt = torch.optim.AdamW(params, lr=3e-3, weight_decay=1e-2)
    per_model = mask.expand_as(T).sum((1, 2))
    for _ in range(epochs):
        opt.zero_grad()
        loss = (((forward(X, True) - T) ** 2 * mask).sum((1, 2)) / per_model).sum()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return forward(X, False).numpy()


# --------------------------------------------------------------------------------------------
# Report header


def machine_line() -> str:
    try:
        from autotune import machine

        m = machine.current()
        base = f"{m.cpu_model}, {machine.usable_cores()} usable cores"
    except Exception:
        base = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    # the run time depends on what else shares the machine: say how loaded it was
    return base + f" (1-min load average at the end: {os.getloadavg()[0]:.1f})"


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except Exception:
        return "unknown"


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def clang_version() -> str:
    try:
        from encoder.ir import _clang

        out = subprocess.run([_clang(), "--version"], capture_output=True, text=True).stdout
        return out.splitlines()[0] if out else "clang"
    except Exception:
        return "clang (unknown version)"
