"""Folds and small MLP heads trained on frozen embeddings: the downstream models of the experiments.

Why shared: device mapping, thread coarsening and vectorization all train a small classifier or
regressor on frozen embeddings inside cross-validation folds; one implementation keeps the
folds, the standardization (fitted on training rows only) and the training loop identical.
"""

from __future__ import annotations

import numpy as np
import torch


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
