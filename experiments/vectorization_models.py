"""The predictors and metrics of the loop-vectorization experiment: folds, MLP and k-NN heads, baselines.

Why a module of its own: these are the pure functions of the predict stage, from embeddings and a
value grid to picks and scores; they time nothing and read no files, so tests check each on small
arrays.
"""

from __future__ import annotations

import numpy as np

from experiments import heads

FOLD_SEED = 0
N_FOLDS = 10
KNN_K = 5
MLP_HIDDEN = 64
MLP_DROPOUT = 0.1
EPOCHS = 300
NEAR = 0.95  # "within 5% of the oracle"


def grouped_folds(groups: list[str], strata: list[str], k: int, seed: int) -> np.ndarray:
    """Test fold of each sample: every group in one fold; groups dealt round-robin in the order
    (stratum, seeded shuffle), so each stratum spreads over the folds."""
    rng = np.random.RandomState(seed)
    first: dict[str, str] = {}
    for g, s in zip(groups, strata, strict=True):
        first.setdefault(g, s)
    uniq = sorted(first)
    key = dict(zip(uniq, rng.permutation(len(uniq)), strict=True))
    order = sorted(uniq, key=lambda g: (first[g], key[g]))
    fold_of = {g: j % k for j, g in enumerate(order)}
    return np.array([fold_of[g] for g in groups])


def mlp_scores(X: np.ndarray, T: np.ndarray, test_fold: np.ndarray, seed: int, epochs: int) -> np.ndarray:
    """Predicted log-speedup of every pair [n, 35], each sample by the model of its own test fold.

    The fold models are trained together as one batch (`heads.batched_mlp`), each fold's loss over
    its own training loops.
    """
    import torch

    g = torch.Generator().manual_seed(seed)
    n_folds = int(test_fold.max()) + 1
    train = test_fold[None, :] != np.arange(n_folds)[:, None]  # [fold, loop]
    mu, sd = heads.train_stats(X, train)
    Xm = torch.as_tensor((X[None] - mu[:, None]) / sd[:, None], dtype=torch.float32)
    Tt = torch.as_tensor(T, dtype=torch.float32)[None].expand(n_folds, -1, -1)
    mask = torch.as_tensor(train[:, :, None], dtype=torch.float32)
    out = heads.batched_mlp(Xm, Tt, mask, MLP_HIDDEN, MLP_DROPOUT, epochs, g)
    return out[test_fold, np.arange(len(X))]


def knn_scores(X: np.ndarray, T: np.ndarray, test_fold: np.ndarray, k: int = KNN_K) -> np.ndarray:
    """Similarity-weighted mean of the k most similar training loops' log-speedups (cosine of the
    embeddings standardized on the training folds)."""
    n_folds = int(test_fold.max()) + 1
    train = test_fold[None, :] != np.arange(n_folds)[:, None]
    mu, sd = heads.train_stats(X, train)
    out = np.zeros_like(T)
    for i in range(len(X)):
        f = test_fold[i]
        Z = (X - mu[f]) / sd[f]
        Z /= np.linalg.norm(Z, axis=1, keepdims=True) + 1e-9
        idx = np.where(train[f])[0]
        sim = Z[idx] @ Z[i]
        near = idx[np.argsort(-sim, kind="stable")[:k]]
        w = np.clip(Z[near] @ Z[i], 1e-3, None)[:, None]
        out[i] = (w * T[near]).sum(0) / w.sum()
    return out


def baseline_picks(T: np.ndarray, test_fold: np.ndarray) -> dict[str, np.ndarray]:
    """No embedding: the pair that is most often best on the training folds, and the pair with the
    best mean log-speedup there."""
    common, mean = np.zeros(len(T), int), np.zeros(len(T), int)
    for f in range(int(test_fold.max()) + 1):
        tr, te = test_fold != f, test_fold == f
        best = np.bincount(T[tr].argmax(1), minlength=T.shape[1])
        common[te] = int(best.argmax())
        mean[te] = int(T[tr].mean(0).argmax())
    return {"most-common-best": common, "best-mean": mean}


METRICS = ("gm", "frac", "gain", "exact", "near", "tie")


def evaluate(
    V: np.ndarray, picks: np.ndarray, lo: np.ndarray | None = None, hi: np.ndarray | None = None
) -> dict[str, float]:
    """Metrics of one column of picks (pair index, -1 = plain -O3) against the value grid V.

    `tie` (given the cells' CI bounds lo/hi) is the share of loops whose pick cannot be told apart
    from the oracle's pair by the recording: the pick's CI reaches the oracle cell's CI (plain -O3
    is exactly 1.0). The point-estimate metrics judge a pick against the best of 35 noisy
    estimates; this one says how many misses are within the noise.
    """
    rows = np.arange(len(V))
    at = np.maximum(picks, 0)
    val = np.where(picks < 0, 1.0, V[rows, at])
    best = V.argmax(1)
    oracle = V[rows, best]
    gm, gm_o = float(np.exp(np.log(val).mean())), float(np.exp(np.log(oracle).mean()))
    out = {
        "gm": gm,
        "frac": gm / gm_o,
        "gain": (gm - 1) / (gm_o - 1) if gm_o != 1 else float("nan"),
        "exact": float((picks == best).mean()),
        "near": float((val >= NEAR * oracle).mean()),
    }
    if lo is not None and hi is not None:
        top = np.where(picks < 0, 1.0, hi[rows, at])
        out["tie"] = float((top >= lo[rows, best]).mean())
    return out
