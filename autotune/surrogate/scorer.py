"""The surrogate as shipped, and the guided strategy's scorer built on it.

Scoring a pool costs clang (one IR per distinct build) and the encoder, so the
scorer first ranks the whole pool with the knob-only prior (cheap) and embeds
only the best few distinct builds; the others score below them. This keeps the
guided strategy's overhead per trial near a second on two cores.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from autotune.errors import UserError
from autotune.kernel import Kernel
from autotune.space import Config, Space
from autotune.surrogate.boosted import Boosted
from autotune.surrogate.data import Featurizer
from autotune.surrogate.features import NAMES, knob_features
from autotune.surrogate.model import Ensemble, expected_improvement, gp_residual, one_thread, spearman
from encoder.atomic import atomic_write

WEIGHTS = Path(__file__).resolve().parent.parent / "data" / "surrogate.pt"
# Which of the encoder's embeddings the surrogate reads: the graph network's. On the leave-out
# folds (results/surrogate_quality.md, 3 seeds) it ranks held-out kernels' configurations best
# (0.386 templates / 0.347 suite kernels held out, text 0.357 / 0.303) and is the one modality whose
# pre-trained weights beat their random-init twin beyond the spread over seeds (0.335 / 0.315).
# Not the fused one: its only training signal, the program-identity loss, pulls variants of one
# program together, and it ranks below both.
MODALITY = "graph"
EMBED_TOP = 3  # distinct builds embedded per scoring call (each costs a clang run and the encoder)
MODELS = ("boosted", "mlp")  # the prior's family: boosted trees (`boosted.Boosted`), or the MLP `model.Ensemble`
DEFAULT_MODEL = "boosted"  # ranks held-out kernels better than the MLP (results/transfer.md)
Prior = Ensemble | Boosted
JUDGE = 3  # the target's measurements before the prior's weight is judged by them (`prior_weight`)


def prior_from_state(st: dict) -> Prior:
    """A saved prior of either family (weights saved before the trees have no `kind`: the MLP's)."""
    return Boosted.from_state(st) if st.get("kind") == "boosted" else Ensemble.from_state(st)


def fit_prior(
    X: np.ndarray,
    y: np.ndarray,
    model: str = DEFAULT_MODEL,
    tail: int | None = None,
    seed: int = 0,
    members: int = 5,
    groups: np.ndarray | None = None,
    w: np.ndarray | None = None,
    epochs: int = 200,
    rank: float = 1.0,
    objective: str = "huber",
) -> Prior:
    """One prior of log speedup of the family `model`, fitted: the one recipe the trainer and the experiments share.

    `tail`: the trailing columns that are knob features (the trees keep them and reduce the
    embedding before them to principal components); `epochs` and `rank` (the ranking loss)
    are the MLP's alone, `objective` the trees' (`boosted.OBJECTIVES`: huber, or a ranking within each group).
    """
    if model == "boosted":
        b = Boosted(X.shape[1], members=members, seed=seed, tail=tail, objective=objective)
        return b.fit(X, y, groups=groups, w=w)
    if model == "mlp":
        return Ensemble(X.shape[1], members=members, seed=seed).fit(X, y, epochs=epochs, groups=groups, w=w, rank=rank)
    raise ValueError(f"model={model!r}: one of {', '.join(MODELS)}")


@dataclass
class Surrogate:
    """Two priors over log speedup: `full` (embedding + knobs) and `knobs` (knob features only)."""

    full: Prior
    knobs: Prior
    meta: dict = field(default_factory=dict)

    @classmethod
    def train(
        cls,
        X_full: np.ndarray,
        X_knobs: np.ndarray,
        y: np.ndarray,
        seed: int = 0,
        model: str = DEFAULT_MODEL,
        groups: np.ndarray | None = None,
        w: np.ndarray | None = None,
        epochs: int = 200,
        rank: float = 1.0,
        tail: int | None = None,
    ) -> Surrogate:
        """Both priors on the same rows. `epochs` and `rank` (the ranking loss) are the MLP's alone.

        `tail`: the full prior's trailing columns that are not the embedding (`Featurizer.tail`;
        default the knob features' width): the trees keep them and reduce the embedding before
        them to principal components.
        """
        kw = dict(model=model, seed=seed, groups=groups, w=w, epochs=epochs, rank=rank)
        full = fit_prior(X_full, y, tail=tail or X_knobs.shape[1], **kw)
        knobs = fit_prior(X_knobs, y, tail=X_knobs.shape[1], **kw)
        return cls(full, knobs, {"records": int(len(y)), "model": model})

    def save(self, path: Path = WEIGHTS) -> None:
        blob = {"full": self.full.state(), "knobs": self.knobs.state(), "meta": self.meta}
        atomic_write(path, lambda tmp: torch.save(blob, tmp))

    @classmethod
    def load(cls, path: Path = WEIGHTS) -> Surrogate:
        if not path.exists():
            raise UserError(
                f"{path}: no surrogate weights; train them with `python -m autotune.surrogate.train` "
                "(needs the measurement database from `autotune collect`)"
            )
        st = torch.load(path, weights_only=False)
        return cls(prior_from_state(st["full"]), prior_from_state(st["knobs"]), st.get("meta", {}))

    @classmethod
    def for_features(cls, path: Path = WEIGHTS) -> Surrogate:
        """`load`, for scoring with this version's features: weights of an older version read other
        knob columns, and that is one clear line here, not a shape error in the middle of a search."""
        sur = cls.load(path)
        if sur.meta.get("features", NAMES) != NAMES or sur.knobs.mu.shape[-1] != len(NAMES):
            raise UserError(
                f"{path}: trained on other knob features than this version of autotune computes; "
                "retrain it with `python -m autotune.surrogate.train`"
            )
        return sur


def standardised(prior: Prior, X: np.ndarray) -> np.ndarray:
    """`X` standardised as the prior's inputs: what the residual GP measures closeness on."""
    return (X - prior.mu) / prior.sd


def prior_weight(prior_at_hist: np.ndarray, y_hist: np.ndarray) -> float:
    """How far guided trusts the transferred prior on this kernel: its rank correlation with what the
    kernel measured, clipped to [0, 1]; the whole prior below `JUDGE` measurements (nothing to judge it by),
    none where either side is constant.

    Why: on kernels it never saw the prior is often wrong, and a prior trusted whole pulls the search
    towards its mistakes even after the measurements contradict it. On the whole-space searches'
    measurements (results/search_full.md, few-shot table, 2 CPUs, k = 5 and 10 measured): weighted, the
    full prior's next pick reached 0.73-0.77 of the best known instead of 0.59-0.67 (the knob prior's
    0.74-0.78 instead of 0.69-0.73), and the Spearman of its ranking of the rest rose from 0.39-0.46 to
    0.43-0.59, above the GP alone (0.35-0.52). The GP alone still picks as well or slightly better (0.74-0.78).
    """
    if len(y_hist) < JUDGE:
        return 1.0
    s = spearman(prior_at_hist, y_hist)
    return float(np.clip(s, 0.0, 1.0)) if np.isfinite(s) else 0.0


def refined(
    prior: Prior,
    X_hist: np.ndarray,
    y_hist: np.ndarray,
    X: np.ndarray,
    near: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Prior mean/std at X, weighted by how well the prior ranks the target's own points (`prior_weight`),
    corrected by a GP on the weighted prior's residuals there.

    `near`: the standardised inputs (history, X) the GP measures closeness on; default the prior's own.
    The scorer gives both priors the knob features': on the few-shot table's draws, the full prior's GP
    on its own inputs (embedding and knobs) picked and ranked worse on both CPUs.
    """
    m, s = prior.predict(X)
    if len(y_hist) == 0:
        return m, s
    mh, _ = prior.predict(X_hist)
    w = prior_weight(mh, y_hist)
    zh, z = near if near is not None else (standardised(prior, X_hist), standardised(prior, X))
    rm, rv = gp_residual(zh, y_hist - w * mh, z)
    return w * m + rm, np.sqrt((w * s) ** 2 + rv)


class SurrogateScorer:
    """Expected improvement of log speedup over the study's best, from the refined surrogate."""

    def __init__(
        self,
        kernel: Kernel,
        space: Space,
        surrogate: Surrogate,
        featurizer: Featurizer,
        cores: int,
        baseline_s: float | None = None,
    ) -> None:
        self.kernel, self.space, self.sur, self.fz, self.cores = kernel, space, surrogate, featurizer, cores
        self.baseline_s = baseline_s  # the untransformed program's time: the study's, else one run of it
        self.last_seconds = 0.0
        self.last_no_embedding = 0  # candidates of the last `score` chosen for the full model but without IR

    def _history(self, history: pd.DataFrame) -> tuple[list[Config], np.ndarray]:
        if history is None or len(history) == 0:
            return [], np.zeros(0)
        ok = history[(history["status"] == "ok") & history["speedup"].notna()]
        names = [k.name for k in self.space.knobs]
        configs = [self.space.canonical({n: row[n] for n in names if n in row}) for _, row in ok.iterrows()]
        return configs, np.log(ok["speedup"].astype(float).to_numpy())

    def baseline(self, history: pd.DataFrame | None = None) -> float:
        """The baseline time the surrogate reads: the study's measurements', else given, else one run.

        Why measured: the knobs that pay off depend on how long the region runs (a second thread
        costs its start-up), and a run of the untransformed program is the only honest way to know.
        """
        if history is not None and len(history) and "baseline_seconds" in history:  # History.frame()'s column
            seen = pd.to_numeric(history["baseline_seconds"], errors="coerce").dropna()
            if len(seen):
                self.baseline_s = float(seen.median())
        if self.baseline_s is None:
            from autotune.measure.protocol import Bench

            self.baseline_s = Bench(self.kernel, self.space).baseline_seconds
        return self.baseline_s

    def score(self, candidates: list[Config], history: pd.DataFrame) -> np.ndarray:
        from autotune.variant import make_variant

        t0 = time.perf_counter()
        base_s = self.baseline(history)
        hist_cfg, y = self._history(history)
        best = float(y.max()) if len(y) else 0.0  # the baseline is speedup 1
        kf = self.fz.features
        Xk = np.stack([self.knob_vector(c) for c in candidates])
        Xk_h = np.stack([self.knob_vector(c) for c in hist_cfg]) if hist_cfg else np.zeros((0, Xk.shape[1]))
        zk, zk_h = standardised(self.sur.knobs, Xk), standardised(self.sur.knobs, Xk_h)
        mk, sk = refined(self.sur.knobs, Xk_h, y, Xk, near=(zk_h, zk))
        ei_k = expected_improvement(mk, sk, best)
        # the most promising distinct builds by the cheap prior get the full model
        keys = [make_variant(self.kernel, self.space, c).build_key(self.kernel) for c in candidates]
        top: list[str] = []
        for i in np.argsort(-ei_k):
            if keys[i] not in top:
                top.append(keys[i])
            if len(top) == EMBED_TOP:
                break
        chosen = [i for i, k in enumerate(keys) if k in top]
        scores = np.full(len(candidates), -np.inf)
        if self.fz.embedder is not None and chosen:
            with one_thread():  # the encoder's small matrices: one thread, no spinning against the other core
                Xf = kf(self.kernel, self.space, [candidates[i] for i in chosen], self.cores, base_s)
                no_emb = self.fz.no_embedding.copy()
                Xf_h = (
                    kf(self.kernel, self.space, hist_cfg, self.cores, base_s)
                    if hist_cfg
                    else np.zeros((0, Xf.shape[1]))
                )
                h_emb = ~self.fz.no_embedding if hist_cfg else np.ones(0, bool)
            mf, sf = refined(self.sur.full, Xf_h[h_emb], y[h_emb], Xf, near=(zk_h[h_emb], zk[chosen]))
            scores[chosen] = expected_improvement(mf, sf, best)
            # no IR, no embedding: the full model cannot judge such a candidate (its embedding columns
            # are zeros), so it keeps its cheap order below the embedded ones, like the unembedded rest
            scores[np.asarray(chosen)[no_emb]] = -np.inf
            self.last_no_embedding = int(no_emb.sum())
        else:
            scores[chosen] = ei_k[chosen]
        # the rest keep their cheap order, below every embedded candidate
        rest = np.isinf(scores)
        if rest.any():
            floor = scores[~rest].min() if (~rest).any() else 0.0
            scores[rest] = floor - 1.0 - (ei_k[rest].max() - ei_k[rest])
        self.last_seconds = time.perf_counter() - t0
        return scores

    def knob_vector(self, config: Config) -> np.ndarray:
        """The knob-only prior's input for `config` on this machine's cores (`features.knob_features`)."""
        return knob_features(self.space, config, self.cores, self.baseline(), self.fz.profile(self.kernel, self.space))


def make_scorer(kernel: Kernel, space: Space) -> SurrogateScorer:
    """The guided strategy's scorer: shipped surrogate, shipped encoder (ScorerFactory)."""
    from autotune import machine
    from encoder.embedding import Embedder

    sur = Surrogate.for_features()
    emb = Embedder(cache_dir=Path(".encoder-cache"), modality=sur.meta.get("modality", "fused"))
    return SurrogateScorer(kernel, space, sur, Featurizer(emb), machine.usable_cores())
