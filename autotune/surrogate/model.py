"""The surrogate: an ensemble of small MLPs for the prior, a GP on its residuals for the target.

Why this pair: the ensemble is trained once on the measurement database, many
kernels, so it transfers (it predicts a kernel it never saw from the IR
embedding and the knobs); its spread across members is the epistemic part of
the uncertainty. A tuning run then sees the target kernel's own measurements
one by one; a Gaussian process on the ensemble's residuals over those points
corrects the prior where the target disagrees, and leaves it alone far from
them. Both predict log speedup, so errors are ratios.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Matrices this small run fastest on one thread; more only spin against the measurements."""
    was = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(was)


def _mlp(d_in: int, hidden: int) -> nn.Module:
    return nn.Sequential(
        nn.Linear(d_in, hidden), nn.GELU(), nn.Dropout(0.1), nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, 1)
    )


@dataclass
class Ensemble:
    """Bootstrap ensemble of MLPs on standardised features; predicts mean and spread."""

    d_in: int
    members: int = 5
    hidden: int = 128
    seed: int = 0

    def __post_init__(self) -> None:
        torch.manual_seed(self.seed)
        self.nets = [_mlp(self.d_in, self.hidden) for _ in range(self.members)]
        self.mu = np.zeros(self.d_in, np.float32)
        self.sd = np.ones(self.d_in, np.float32)

    def _x(self, X: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(((X - self.mu) / self.sd).astype(np.float32))

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        epochs: int = 200,
        lr: float = 2e-3,
        wd: float = 1e-3,
        groups: np.ndarray | None = None,
        w: np.ndarray | None = None,
        rank: float = 1.0,
    ) -> Ensemble:
        """Fit every member on a bootstrap of the groups (of the rows, without `groups`).

        `groups`: one id per row, the workload it measures (kernel and size). With groups the
        loss adds `rank` times a pairwise ranking loss over rows of the same group (RankNet:
        the logistic loss of the predicted difference, for pairs whose measured log speedups
        differ by more than `RANK_GAP`), because what a search needs is the order of one
        kernel's configurations, not the level of speedups across kernels; and each member
        resamples whole groups, so its spread says how much the prediction depends on which
        kernels it saw. `w`: a weight per row (records whose CI missed its target may weigh less).
        """
        with one_thread():
            return self._fit(X, y, epochs, lr, wd, groups, w, rank)

    def _fit(self, X, y, epochs, lr, wd, groups, w, rank) -> Ensemble:
        self.mu = X.mean(0).astype(np.float32)
        self.sd = (X.std(0) + 1e-3).astype(np.float32)
        xt, yt = self._x(X), torch.from_numpy(y.astype(np.float32))
        wt = torch.ones(len(X)) if w is None else torch.from_numpy(np.asarray(w, np.float32))
        gid = np.arange(len(X)) if groups is None else np.unique(np.asarray(groups), return_inverse=True)[1]
        members_of = [np.flatnonzero(gid == g) for g in range(gid.max() + 1)] if len(X) else []
        rng = np.random.default_rng(self.seed)
        per_batch = max(1, round(64 * len(members_of) / max(1, len(X))))  # about 64 rows a batch
        for net in self.nets:
            picks = rng.integers(0, len(members_of), len(members_of))  # bootstrap sample of groups
            opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=wd)
            net.train()
            for _ in range(epochs):
                order = rng.permutation(picks)
                for k in range(0, len(order), per_batch):
                    parts = [members_of[g] for g in order[k : k + per_batch]]
                    b = torch.from_numpy(np.concatenate(parts))
                    pred = net(xt[b]).squeeze(-1)
                    point = nn.functional.huber_loss(pred, yt[b], delta=0.5, reduction="none")
                    loss = (point * wt[b]).sum() / wt[b].sum().clamp_min(1e-6)
                    if groups is not None and rank > 0:
                        loss = loss + rank * _pair_loss(pred, yt[b], wt[b], torch.from_numpy(gid[b.numpy()]))
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
            net.eval()
        return self

    @torch.inference_mode()
    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xt = self._x(X)
        with one_thread():
            preds = np.stack([net(xt).squeeze(-1).numpy() for net in self.nets])
        return preds.mean(0), preds.std(0)

    def state(self) -> dict:
        return {
            "d_in": self.d_in,
            "members": self.members,
            "hidden": self.hidden,
            "seed": self.seed,
            "mu": self.mu,
            "sd": self.sd,
            "nets": [n.state_dict() for n in self.nets],
        }

    @classmethod
    def from_state(cls, st: dict) -> Ensemble:
        e = cls(st["d_in"], st["members"], st["hidden"], st["seed"])
        e.mu, e.sd = st["mu"], st["sd"]
        for net, sd in zip(e.nets, st["nets"], strict=True):
            net.load_state_dict(sd)
            net.eval()
        return e


RANK_GAP = 0.02  # log speedups closer than this (2%, the CI target) are not ordered by the ranking loss


def _pair_loss(pred: torch.Tensor, y: torch.Tensor, w: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """RankNet loss over the pairs of a batch in one group whose measured order is clear."""
    ordered = (g[:, None] == g[None, :]) & (y[:, None] - y[None, :] > RANK_GAP)  # i measured faster than j
    if not bool(ordered.any()):
        return pred.sum() * 0.0
    margin = pred[:, None] - pred[None, :]
    pw = (w[:, None] * w[None, :])[ordered]
    return (nn.functional.softplus(-margin[ordered]) * pw).sum() / pw.sum().clamp_min(1e-6)


def gp_residual(Xtr: np.ndarray, r: np.ndarray, Xte: np.ndarray, noise: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """GP posterior (mean, variance) of residuals `r` at `Xte`; RBF kernel, median-distance length.

    Inputs should be standardised. With no training points the residual is 0
    with the prior variance 0: the ensemble stands alone.
    """
    if len(Xtr) == 0:
        return np.zeros(len(Xte)), np.zeros(len(Xte))
    signal = max(float(np.var(r)), 1e-3) if len(r) > 1 else max(float(r[0] ** 2), 1e-3)

    def d2(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.maximum((a**2).sum(1)[:, None] + (b**2).sum(1)[None] - 2 * a @ b.T, 0.0)

    dtr = d2(Xtr, Xtr)
    ell2 = float(np.median(dtr[dtr > 0])) if (dtr > 0).any() else float(Xtr.shape[1])
    K = signal * np.exp(-dtr / ell2) + (noise * signal + 1e-6) * np.eye(len(Xtr))
    Ks = signal * np.exp(-d2(Xte, Xtr) / ell2)
    L = np.linalg.cholesky(K)
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, r))
    v = np.linalg.solve(L, Ks.T)
    mean = Ks @ alpha
    var = np.maximum(signal - (v**2).sum(0), 0.0)
    return mean, var


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation (average ranks for ties); nan where either side is constant."""
    ra, rb = pd.Series(a).rank().to_numpy(), pd.Series(b).rank().to_numpy()
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: float) -> np.ndarray:
    """EI of maximising, in the units of mean (log speedup); deterministic where std is 0."""
    std = np.maximum(std, 1e-9)
    z = (mean - best) / std
    cdf = 0.5 * (1 + np.vectorize(math.erf)(z / math.sqrt(2)))
    pdf = np.exp(-0.5 * z**2) / math.sqrt(2 * math.pi)
    return (mean - best) * cdf + std * pdf
