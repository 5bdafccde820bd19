"""guided: a pool of never-measured candidates, scored by the surrogate; the best-scored is measured.

Why a pool: the surrogate (autotune.surrogate) predicts a configuration's
speedup from its IR embedding and knobs, but cannot search the space itself.
The pool mixes one-knob neighbours of the incumbent (exploitation), TPE
proposals (what the history suggests) and random draws (exploration); the
scorer, the surrogate's acquisition, decides among them. Any `Scorer` can
stand in for the surrogate (`scorer_factory`), as the tests and the
experiments' ablations do.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import optuna

from autotune.errors import UserError, option
from autotune.kernel import Kernel
from autotune.search.history import History
from autotune.search.params import config_from_params
from autotune.search.strategies.base import ConfigSampler, Scorer, ScorerFactory, need, neighbours, unmeasured
from autotune.search.strategies.tpe import tpe_proposals
from autotune.space import Config, Space
from autotune.trials.records import config_key


class PoolSampler(ConfigSampler):
    """The guided strategy: draw a pool of never-measured candidates, measure the best-scored.

    The pool mixes one-knob neighbours of the incumbent (exploitation), TPE
    proposals (what the history suggests) and random draws (exploration); the
    scorer (a surrogate's acquisition) decides among them.
    """

    def __init__(
        self,
        space: Space,
        scorer: Scorer,
        seed: int = 0,
        n_random: int = 16,
        n_tpe: int = 8,
        n_neighbours: int = 16,
    ) -> None:
        super().__init__(space, seed)
        self.scorer = scorer
        self.n_random, self.n_tpe, self.n_neighbours = n_random, n_tpe, n_neighbours

    def pool(self, study: optuna.Study, number: int, history: History) -> list[tuple[Config, str]]:
        rng = self.rng(number)
        taken = history.taken
        pool: dict[str, tuple[Config, str]] = {}

        def add(cfg: Config, source: str) -> None:
            key = config_key(cfg)
            if key not in taken and key not in pool:
                pool[key] = (cfg, source)

        best = history.best()
        if best is not None and self.n_neighbours:
            near = list(neighbours(self.space, config_from_params(self.space, best.params)))
            rng.shuffle(near)
            for cfg in near[: self.n_neighbours]:
                add(cfg, "neighbour")
        if self.n_tpe:
            for cfg in tpe_proposals(study, self.space, self.n_tpe, seed=rng.randrange(2**31)):
                add(cfg, "tpe")
        for _ in range(self.n_random * 4):
            if sum(1 for _, s in pool.values() if s == "random") >= self.n_random:
                break
            add(self.space.sample(rng), "random")
        if not pool:
            add(need(unmeasured(self.space, taken, rng)), "random")
        return list(pool.values())

    def propose(self, study: optuna.Study, number: int, history: History) -> tuple[Config, dict[str, Any]]:
        pool = self.pool(study, number, history)
        cands = [c for c, _ in pool]
        t0 = time.perf_counter()
        scores = np.asarray(self.scorer.score(cands, history.frame()), dtype=float).reshape(-1)
        score_s = time.perf_counter() - t0
        if scores.shape != (len(cands),):
            raise ValueError(f"scorer returned {scores.shape[0]} scores for {len(cands)} candidates")
        scores = np.where(np.isfinite(scores), scores, -np.inf)
        i = int(np.argmax(scores))
        info = {
            "proposal": pool[i][1],
            "score": float(scores[i]) if np.isfinite(scores[i]) else None,
            "pool": len(cands),
            "score_seconds": round(score_s, 6),
        }
        return cands[i], info


def surrogate_scorer_factory() -> ScorerFactory:
    """`autotune.surrogate.make_scorer`, imported only when guided is asked for.

    The surrogate ships with autotune, but it needs torch and the encoder: where
    those (or the surrogate itself) cannot be imported, guided cannot run, and
    the user is told why and what runs without it.
    """
    try:
        from autotune.surrogate import make_scorer
    except ImportError as exc:
        raise UserError(
            f"guided needs the surrogate, and autotune.surrogate cannot be imported here ({exc}); "
            f"the other strategies do not need it: try {option('strategy', 'tpe')}"
        ) from None
    return make_scorer


def make(
    space: Space, seed: int = 0, kernel: Kernel | None = None, scorer_factory: ScorerFactory | None = None
) -> PoolSampler:
    """A PoolSampler whose scorer `scorer_factory` (the surrogate's by default) builds for this kernel."""
    factory = scorer_factory or surrogate_scorer_factory()
    if kernel is None:
        raise ValueError("the guided strategy needs the kernel for its scorer")
    return PoolSampler(space, factory(kernel, space), seed)
